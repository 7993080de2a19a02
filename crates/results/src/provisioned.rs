//! The results' `lambda.provisioned_advice`: after a run against a function, the
//! provisioned concurrency that would have kept it warm, what that costs an hour, and what
//! the run's cold starts cost in time and money — the trade in one place. Pure: read from
//! the timeline's seconds (in flight, cold starts) and the REPORT lines' figures.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cost::{Architecture, Prices};
use crate::lambda::LambdaSeen;
use crate::timeline::TimelinePoint;

/// The share of the run's sends the advice keeps warm: the in-flight level 99% of them
/// went out at or under.
pub const COVERED: f64 = 0.99;

/// Provisioned concurrency set against what the run's cold starts cost.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ProvisionedAdvice {
    /// The provisioned concurrency that would have kept 99% of the run's sends warm: the
    /// most in flight in the seconds those sends went out in.
    pub concurrency: u64,
    /// The provisioned concurrency the function had for the run, as read (absent: not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured: Option<u64>,
    /// The run's cold starts (REPORT lines with an init), and those in the seconds the
    /// advice covers: what it would have removed.
    pub cold_starts: u64,
    pub cold_starts_removed: u64,
    /// Init time the cold starts added, ms: in all, and their median.
    pub init_ms_total: f64,
    pub init_ms_p50: f64,
    /// What that init cost at the compute price (Lambda bills the init phase as duration).
    pub init_cost_usd: f64,
    /// The memory priced, MB, and the advised concurrency's standing cost per hour at it.
    pub memory_mb: u64,
    pub per_hour_usd: f64,
    /// The advice in a sentence.
    pub summary: String,
}

/// The advice for a run whose seconds are `timeline` and whose REPORT lines say `seen`,
/// priced for `architecture` at `prices`; `configured`: the function's provisioned
/// concurrency, when read. `None` when nothing ran or the memory is unknown (no REPORT
/// line read).
pub fn advise(
    timeline: &[TimelinePoint],
    seen: &LambdaSeen,
    architecture: Architecture,
    prices: &Prices,
    configured: Option<u64>,
) -> Option<ProvisionedAdvice> {
    if seen.memory_mb == 0 || seen.reports == 0 {
        return None;
    }
    let concurrency = level_covering(timeline, COVERED)?;
    let cold_starts_removed: u64 = timeline
        .iter()
        .filter(|p| p.in_flight_max <= concurrency)
        .map(|p| p.cold_starts)
        .sum();
    let gb = seen.memory_mb as f64 / 1024.0;
    let init_ms_total = seen.init_ms.mean * seen.cold_starts as f64;
    let init_cost_usd = init_ms_total / 1000.0 * gb * prices.per_gb_second(architecture);
    let per_hour_usd =
        concurrency as f64 * gb * 3600.0 * prices.per_gb_second_provisioned(architecture);
    let mut advice = ProvisionedAdvice {
        concurrency,
        configured,
        cold_starts: seen.cold_starts,
        cold_starts_removed: cold_starts_removed.min(seen.cold_starts),
        init_ms_total,
        init_ms_p50: seen.init_ms.p50,
        init_cost_usd,
        memory_mb: seen.memory_mb,
        per_hour_usd,
        summary: String::new(),
    };
    advice.summary = summary(&advice);
    Some(advice)
}

/// The in-flight level `share` of the sends went out at or under: each second's most in
/// flight, weighted by what it sent.
fn level_covering(timeline: &[TimelinePoint], share: f64) -> Option<u64> {
    let mut seconds: Vec<(u64, u64)> = timeline
        .iter()
        .filter(|p| p.sent > 0)
        .map(|p| (p.in_flight_max, p.sent))
        .collect();
    let total: u64 = seconds.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    seconds.sort_unstable();
    let wanted = (share * total as f64).ceil() as u64;
    let mut below = 0;
    for (level, n) in seconds {
        below += n;
        if below >= wanted {
            return Some(level);
        }
    }
    None
}

fn summary(a: &ProvisionedAdvice) -> String {
    let cost = format!(
        "{} an hour at {} MB",
        stampede_lambda::cost::usd(a.per_hour_usd),
        a.memory_mb
    );
    let cold = if a.cold_starts == 0 {
        "the run had no cold start".to_string()
    } else {
        format!(
            "it would have removed {} of the run's {} cold starts ({:.1} s of init in all, p50 {:.0} ms, {} billed)",
            a.cold_starts_removed,
            a.cold_starts,
            a.init_ms_total / 1000.0,
            a.init_ms_p50,
            stampede_lambda::cost::usd(a.init_cost_usd)
        )
    };
    let now = match a.configured {
        Some(c) if c >= a.concurrency => {
            format!("; the {c} configured already cover it")
        }
        Some(c) => format!("; {c} configured now"),
        None => String::new(),
    };
    format!(
        "provisioned concurrency: {} would have kept 99% of the sends warm (the most in flight when they went out), for {cost} kept configured; {cold}{now}",
        a.concurrency
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::Percentiles;

    fn second(t_s: u64, sent: u64, in_flight_max: u64, cold_starts: u64) -> TimelinePoint {
        TimelinePoint {
            t_s,
            sent,
            in_flight_max,
            cold_starts,
            ..TimelinePoint::default()
        }
    }

    fn seen(memory_mb: u64, cold_starts: u64, init_mean: f64) -> LambdaSeen {
        LambdaSeen {
            invocations: 1000,
            reports: 1000,
            cold_starts,
            memory_mb,
            init_ms: Percentiles {
                p50: init_mean,
                mean: init_mean,
                ..Percentiles::default()
            },
            ..LambdaSeen::default()
        }
    }

    #[test]
    fn a_burst_is_covered_by_its_peak_and_priced() {
        // A steady 10 in flight, then one second bursting 200 with 150 cold starts.
        let mut timeline: Vec<TimelinePoint> = (0..10).map(|t| second(t, 100, 10, 0)).collect();
        timeline.push(second(10, 200, 200, 150));
        let a = advise(
            &timeline,
            &seen(1024, 150, 250.0),
            Architecture::X86_64,
            &Prices::default(),
            Some(50),
        )
        .unwrap();
        // 99% of 1,200 sends is 1,188: past the steady seconds' 1,000, in the burst's.
        assert_eq!(a.concurrency, 200);
        assert_eq!((a.cold_starts, a.cold_starts_removed), (150, 150));
        // 200 × 1 GB × 3600 s × $0.0000041667.
        assert!((a.per_hour_usd - 200.0 * 3600.0 * 0.000_004_166_7).abs() < 1e-9);
        // 150 × 250 ms = 37.5 GB-s at $0.0000166667.
        assert!((a.init_cost_usd - 37.5 * 0.000_016_666_7).abs() < 1e-12);
        assert!(a.summary.contains("50 configured now"), "{}", a.summary);
    }

    #[test]
    fn a_rare_peak_past_the_99th_percentile_is_not_covered() {
        let mut timeline: Vec<TimelinePoint> = (0..100).map(|t| second(t, 100, 20, 0)).collect();
        timeline.push(second(100, 10, 500, 10));
        let a = advise(
            &timeline,
            &seen(512, 10, 100.0),
            Architecture::Arm64,
            &Prices::default(),
            None,
        )
        .unwrap();
        assert_eq!(a.concurrency, 20);
        assert_eq!(a.cold_starts_removed, 0);
    }

    #[test]
    fn nothing_read_gives_no_advice() {
        let timeline = [second(0, 10, 5, 1)];
        let none = advise(
            &timeline,
            &seen(0, 1, 100.0),
            Architecture::X86_64,
            &Prices::default(),
            None,
        );
        assert!(none.is_none(), "no memory: nothing to price");
        assert!(advise(
            &[],
            &seen(128, 0, 0.0),
            Architecture::X86_64,
            &Prices::default(),
            None
        )
        .is_none());
    }
}
