//! What a test's invocations cost: requests × the request price, plus the billed
//! GB-seconds × the compute price of the function's architecture. The prices are AWS's
//! published on-demand prices for us-east-1 (docs/lambda.md); a scenario may set its own.

pub use stampede_results::cost::{gb_seconds, Architecture, Cost, Prices, ARCHITECTURES};

/// Before traffic: `requests` invocations of `expected_ms` each (billed rounded up to
/// the millisecond) at `memory_mb`.
pub fn estimate_cost(
    requests: u64,
    expected_ms: f64,
    memory_mb: u64,
    architecture: Architecture,
    prices: &Prices,
) -> Cost {
    let billed = crate::invoke::report_line::billed_ms(expected_ms, None) as u128;
    Cost::of(
        requests,
        billed * memory_mb as u128 * requests as u128,
        architecture,
        prices,
    )
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
        let e = estimate_cost(1000, 40.2, 512, Architecture::X86_64, &p);
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
