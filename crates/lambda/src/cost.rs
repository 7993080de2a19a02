//! What a test's invocations cost: requests × the request price, plus the billed
//! GB-seconds × the compute price of the function's architecture. The prices are AWS's
//! published on-demand prices for us-east-1 (docs/lambda.md); a scenario may set its own.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The instruction set the function runs on; it sets the compute price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Architecture {
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
    Arm64,
}

pub const ARCHITECTURES: [&str; 2] = ["x86_64", "arm64"];

impl Architecture {
    pub fn parse(s: &str) -> Option<Architecture> {
        match s {
            "x86_64" => Some(Architecture::X86_64),
            "arm64" => Some(Architecture::Arm64),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

/// Prices in US dollars.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Prices {
    /// Per million requests.
    pub per_million_requests: f64,
    /// Per GB-second of compute, x86_64.
    pub per_gb_second_x86_64: f64,
    /// Per GB-second of compute, arm64.
    pub per_gb_second_arm64: f64,
    /// Per GB-second of provisioned concurrency kept configured, x86_64 and arm64 (its
    /// standing price, whether invoked or not). Absent in files written before it was
    /// added: the defaults.
    #[serde(default = "default_provisioned_x86_64")]
    pub per_gb_second_provisioned_x86_64: f64,
    #[serde(default = "default_provisioned_arm64")]
    pub per_gb_second_provisioned_arm64: f64,
}

fn default_provisioned_x86_64() -> f64 {
    Prices::default().per_gb_second_provisioned_x86_64
}

fn default_provisioned_arm64() -> f64 {
    Prices::default().per_gb_second_provisioned_arm64
}

impl Default for Prices {
    /// us-east-1, on demand, the first pricing tier (6 billion GB-seconds a month).
    fn default() -> Self {
        Prices {
            per_million_requests: 0.20,
            per_gb_second_x86_64: 0.000_016_666_7,
            per_gb_second_arm64: 0.000_013_333_4,
            per_gb_second_provisioned_x86_64: 0.000_004_166_7,
            per_gb_second_provisioned_arm64: 0.000_003_333_4,
        }
    }
}

impl Prices {
    pub fn per_gb_second(&self, arch: Architecture) -> f64 {
        match arch {
            Architecture::X86_64 => self.per_gb_second_x86_64,
            Architecture::Arm64 => self.per_gb_second_arm64,
        }
    }

    /// Provisioned concurrency's standing price per GB-second.
    pub fn per_gb_second_provisioned(&self, arch: Architecture) -> f64 {
        match arch {
            Architecture::X86_64 => self.per_gb_second_provisioned_x86_64,
            Architecture::Arm64 => self.per_gb_second_provisioned_arm64,
        }
    }
}

/// A test's cost, or an estimate of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cost {
    /// Invocations billed (those that ran: throttled ones are not billed).
    pub requests: u64,
    /// Σ billed duration × memory, in GB-seconds (1 GB = 1024 MB).
    pub gb_seconds: f64,
    pub requests_usd: f64,
    pub compute_usd: f64,
    pub total_usd: f64,
    pub architecture: Architecture,
    pub prices: Prices,
}

/// GB-seconds of `mb_ms` megabyte-milliseconds (Σ billed ms × memory MB).
pub fn gb_seconds(mb_ms: u128) -> f64 {
    mb_ms as f64 / 1024.0 / 1000.0
}

impl Cost {
    /// `requests` billed invocations whose billed time × memory sums to `mb_ms`.
    pub fn of(requests: u64, mb_ms: u128, architecture: Architecture, prices: &Prices) -> Cost {
        let gb_seconds = gb_seconds(mb_ms);
        let requests_usd = requests as f64 * prices.per_million_requests / 1e6;
        let compute_usd = gb_seconds * prices.per_gb_second(architecture);
        Cost {
            requests,
            gb_seconds,
            requests_usd,
            compute_usd,
            total_usd: requests_usd + compute_usd,
            architecture,
            prices: *prices,
        }
    }

    /// Before traffic: `requests` invocations of `expected_ms` each (billed rounded up to
    /// the millisecond) at `memory_mb`.
    pub fn estimate(
        requests: u64,
        expected_ms: f64,
        memory_mb: u64,
        architecture: Architecture,
        prices: &Prices,
    ) -> Cost {
        let billed = super::report_line::billed_ms(expected_ms, None) as u128;
        Cost::of(
            requests,
            billed * memory_mb as u128 * requests as u128,
            architecture,
            prices,
        )
    }
}

/// Dollars for people: cents and below shown to the digit that matters.
pub fn usd(amount: f64) -> String {
    if amount == 0.0 {
        "$0".into()
    } else if amount >= 1.0 {
        format!("${amount:.2}")
    } else if amount >= 0.01 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.6}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 + b.abs() * 1e-9
    }

    #[test]
    fn gb_seconds_by_hand() {
        // 1,000 invocations billed 100 ms at 128 MB: 100 s × 0.125 GB = 12.5 GB-s.
        assert!(close(gb_seconds(1000 * 100 * 128), 12.5));
        // One billed 400 ms at 1769 MB (not a power of two): 0.4 × 1769/1024.
        assert!(close(gb_seconds(400 * 1769), 0.4 * 1769.0 / 1024.0));
        // 10 GB (10240 MB) for 1 ms.
        assert!(close(gb_seconds(10240), 0.01));
    }

    #[test]
    fn cost_is_requests_plus_compute_at_the_architectures_price() {
        let p = Prices::default();
        // 1M requests × 1 s × 1 GB on x86: $0.20 + 1M GB-s × $0.0000166667.
        let c = Cost::of(1_000_000, 1_000_000 * 1000 * 1024, Architecture::X86_64, &p);
        assert!(close(c.requests_usd, 0.20));
        assert!(close(c.gb_seconds, 1_000_000.0));
        assert!(close(c.compute_usd, 16.6667));
        assert!(close(c.total_usd, 16.8667));
        let arm = Cost::of(1_000_000, 1_000_000 * 1000 * 1024, Architecture::Arm64, &p);
        assert!(close(arm.compute_usd, 13.3334));
    }

    #[test]
    fn an_estimate_bills_whole_milliseconds() {
        let p = Prices::default();
        // 1,000 × 40.2 ms → 41 ms billed at 512 MB = 1000 × 0.041 × 0.5 = 20.5 GB-s.
        let e = Cost::estimate(1000, 40.2, 512, Architecture::X86_64, &p);
        assert!(close(e.gb_seconds, 20.5));
        assert!(close(e.requests_usd, 0.0002));
    }

    #[test]
    fn dollars_read_well() {
        assert_eq!(usd(0.0), "$0");
        assert_eq!(usd(16.8667), "$16.87");
        assert_eq!(usd(0.0342), "$0.0342");
        assert_eq!(usd(0.000_204_1), "$0.000204");
    }
}
