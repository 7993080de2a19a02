//! What a Lambda target's invocations cost, as the results hold it: requests × the request
//! price, plus the billed GB-seconds × the compute price of the function's architecture.

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
}

impl Default for Prices {
    /// us-east-1, on demand, the first pricing tier (6 billion GB-seconds a month).
    fn default() -> Self {
        Prices {
            per_million_requests: 0.20,
            per_gb_second_x86_64: 0.000_016_666_7,
            per_gb_second_arm64: 0.000_013_333_4,
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
}

/// The estimate, and what each number rests on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostEstimate {
    pub cost: Cost,
    /// Invocations planned; closed stages count workers × duration ÷ latency.
    pub invocations: u64,
    pub expected_duration_ms: f64,
    pub duration_basis: String,
    pub memory_mb: u64,
    pub memory_basis: String,
    pub architecture_basis: String,
}
