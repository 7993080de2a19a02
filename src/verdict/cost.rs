//! What a Lambda target's test will cost, before any traffic: the planned invocations ×
//! the request price, plus each one's expected billed time × memory × the compute price.
//! Pure.

use std::time::Duration;

use crate::schedule::StagePlan;
use stampede_lambda::{Architecture, Cost, Prices};
pub use stampede_results::cost::{ColdStartEstimate, CostEstimate};

/// What the estimate is made of, and why each.
pub struct Basis {
    pub expected: (Duration, String),
    pub memory: (u64, String),
    pub architecture: (Architecture, String),
    pub prices: Prices,
    /// The function's provisioned concurrency and where it came from (0: none).
    pub provisioned: (u64, String),
    /// A cold start's init, when known before traffic.
    pub init: Option<Duration>,
}

/// Invocations the plans send: open and burst stages as planned, closed stages as many
/// as their workers finish in their time at `latency` each.
pub fn planned_invocations(plans: &[StagePlan], latency: Duration) -> u64 {
    let l = latency.as_secs_f64().max(1e-6);
    plans
        .iter()
        .map(|p| match p {
            StagePlan::Closed { workers, duration } => {
                (*workers as f64 * duration.as_secs_f64() / l).round() as u64
            }
            other => other.planned_requests().unwrap_or(0),
        })
        .sum()
}

pub fn estimate(plans: &[StagePlan], latency: Duration, basis: Basis) -> CostEstimate {
    let invocations = planned_invocations(plans, latency);
    let expected_ms = basis.expected.0.as_secs_f64() * 1000.0;
    CostEstimate {
        cost: Cost::estimate(
            invocations,
            expected_ms,
            basis.memory.0,
            basis.architecture.0,
            &basis.prices,
        ),
        invocations,
        expected_duration_ms: expected_ms,
        duration_basis: basis.expected.1.clone(),
        memory_mb: basis.memory.0,
        memory_basis: basis.memory.1.clone(),
        architecture_basis: basis.architecture.1.clone(),
        cold_starts: burst_cold_starts(plans, &basis),
    }
}

/// The largest burst's cold starts at most: its requests past the provisioned
/// environments, each with its init billed when the init is known. `None` without a burst.
pub fn burst_cold_starts(plans: &[StagePlan], basis: &Basis) -> Option<ColdStartEstimate> {
    let burst = plans
        .iter()
        .filter_map(|p| match p {
            StagePlan::Burst { requests } => Some(*requests),
            _ => None,
        })
        .max()?;
    let at_most = burst.saturating_sub(basis.provisioned.0);
    let init_ms = basis.init.map(|d| d.as_secs_f64() * 1000.0);
    let gb = basis.memory.0 as f64 / 1024.0;
    Some(ColdStartEstimate {
        burst,
        provisioned: basis.provisioned.0,
        provisioned_basis: basis.provisioned.1.clone(),
        at_most,
        init_ms,
        init_cost_usd: init_ms.map(|ms| {
            at_most as f64 * ms / 1000.0 * gb * basis.prices.per_gb_second(basis.architecture.0)
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Stage, StageKind};

    fn plan(kind: StageKind) -> StagePlan {
        StagePlan::for_stage(&Stage {
            name: "s".into(),
            kind,
        })
    }

    #[test]
    fn a_bursts_cold_starts_are_those_past_the_provisioned_environments() {
        let plans = [
            plan(StageKind::Burst { requests: 200 }),
            plan(StageKind::Burst { requests: 1000 }),
        ];
        let basis = Basis {
            expected: (Duration::from_millis(40), "given".into()),
            memory: (512, "given".into()),
            architecture: (Architecture::X86_64, "given".into()),
            prices: Prices::default(),
            provisioned: (100, "lambda:GetProvisionedConcurrencyConfig".into()),
            init: Some(Duration::from_millis(300)),
        };
        let c = burst_cold_starts(&plans, &basis).unwrap();
        assert_eq!((c.burst, c.at_most), (1000, 900));
        // 900 × 0.3 s × 0.5 GB = 135 GB-s at $0.0000166667.
        let cost = c.init_cost_usd.unwrap();
        assert!((cost - 135.0 * 0.000_016_666_7).abs() < 1e-12, "{cost}");
        let open = [plan(StageKind::Constant {
            rate: 10.0,
            duration: Duration::from_secs(1),
        })];
        assert!(burst_cold_starts(&open, &basis).is_none(), "no burst");
    }

    #[test]
    fn invocations_add_up_over_stage_kinds() {
        let plans = [
            plan(StageKind::Constant {
                rate: 100.0,
                duration: Duration::from_secs(10),
            }),
            plan(StageKind::Burst { requests: 1000 }),
            plan(StageKind::Concurrency {
                workers: 10,
                duration: Duration::from_secs(5),
            }),
            plan(StageKind::Pause {
                duration: Duration::from_secs(3),
            }),
        ];
        // 1000 + 1000 + 10 workers × 5 s ÷ 50 ms = 1000.
        assert_eq!(planned_invocations(&plans, Duration::from_millis(50)), 3000);
    }

    #[test]
    fn the_estimate_bills_the_expected_duration_at_the_memory() {
        let plans = [plan(StageKind::Burst { requests: 1000 })];
        let e = estimate(
            &plans,
            Duration::from_millis(100),
            Basis {
                expected: (Duration::from_micros(40_200), "given".into()),
                memory: (1024, "given".into()),
                architecture: (Architecture::X86_64, "given".into()),
                prices: Prices::default(),
                provisioned: (0, "none set".into()),
                init: None,
            },
        );
        // 1000 × 41 ms billed × 1 GB = 41 GB-s.
        assert!((e.cost.gb_seconds - 41.0).abs() < 1e-9);
        assert!((e.cost.total_usd - (0.0002 + 41.0 * 0.000_016_666_7)).abs() < 1e-12);
    }
}
