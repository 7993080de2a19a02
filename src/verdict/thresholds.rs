//! Thresholds checked against what a run measured. Pure.

use crate::scenario::{Metric, Stat, Threshold};
pub use stampede_results::thresholds::ThresholdResult;
use stampede_results::timing::Timing;

/// What a run measured, in the units thresholds use (milliseconds, fractions).
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
    pub throttle_rate: f64,
    pub error_rate: f64,
    pub failure_rate: f64,
    /// The latencies of the requests that ended ok alone; NaN when not known (a merged
    /// file written before they were recorded).
    pub ok_p50: f64,
    pub ok_p90: f64,
    pub ok_p95: f64,
    pub ok_p99: f64,
    pub ok_p999: f64,
    pub ok_max: f64,
    pub ok_mean: f64,
    /// Where the time went, phase by phase; `None` when not known (a merged file written
    /// before phases were recorded): its thresholds are NaN.
    pub timing: Option<Timing>,
}

impl Observed {
    pub fn get(&self, metric: Metric) -> f64 {
        match metric {
            Metric::P50 => self.p50,
            Metric::P90 => self.p90,
            Metric::P95 => self.p95,
            Metric::P99 => self.p99,
            Metric::P999 => self.p999,
            Metric::Max => self.max,
            Metric::Mean => self.mean,
            Metric::ThrottleRate => self.throttle_rate,
            Metric::ErrorRate => self.error_rate,
            Metric::FailureRate => self.failure_rate,
            Metric::OkP50 => self.ok_p50,
            Metric::OkP90 => self.ok_p90,
            Metric::OkP95 => self.ok_p95,
            Metric::OkP99 => self.ok_p99,
            Metric::OkP999 => self.ok_p999,
            Metric::OkMax => self.ok_max,
            Metric::OkMean => self.ok_mean,
            Metric::Phase(phase, stat) => self.timing.as_ref().map_or(f64::NAN, |t| {
                let p = t.get(phase);
                match stat {
                    Stat::P50 => p.p50,
                    Stat::P90 => p.p90,
                    Stat::P95 => p.p95,
                    Stat::P99 => p.p99,
                    Stat::P999 => p.p999,
                    Stat::Max => p.max,
                    Stat::Mean => p.mean,
                }
            }),
            // No streamed answer: nothing to judge ([`NOT_JUDGED`]).
            Metric::MinThroughput => self
                .timing
                .as_ref()
                .map_or(f64::NAN, |t| t.throughput.map_or(NOT_JUDGED, |x| x.p1)),
        }
    }
}

/// What a floor observes when there was nothing to judge (`min_throughput` with no streamed
/// answer): it passes, and the result says it was not judged.
pub const NOT_JUDGED: f64 = f64::INFINITY;

/// Checks each threshold; an observed value equal to the limit passes.
pub fn evaluate(
    thresholds: &[Threshold],
    observed: &Observed,
    stage: Option<&str>,
) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let value = observed.get(t.metric);
            let not_judged = value == NOT_JUDGED;
            ThresholdResult {
                name: t.metric.name().to_string(),
                stage: stage.map(str::to_string),
                request: None,
                flow: None,
                limit: t.text.clone(),
                observed: if not_judged { 0.0 } else { value },
                pass: not_judged
                    || if t.metric.is_floor() {
                        value >= t.limit
                    } else {
                        value <= t.limit
                    },
                not_judged,
            }
        })
        .collect()
}

/// [`evaluate`] for one `[[requests]]` entry's figures: each result names the request.
pub fn evaluate_request(
    thresholds: &[Threshold],
    observed: &Observed,
    stage: Option<&str>,
    request: &str,
) -> Vec<ThresholdResult> {
    let mut out = evaluate(thresholds, observed, stage);
    for t in &mut out {
        t.request = Some(request.to_string());
    }
    out
}

/// [`evaluate`] for one `[[flows]]` entry's figures: each result names the flow.
pub fn evaluate_flow(
    thresholds: &[Threshold],
    observed: &Observed,
    stage: Option<&str>,
    flow: &str,
) -> Vec<ThresholdResult> {
    let mut out = evaluate(thresholds, observed, stage);
    for t in &mut out {
        t.flow = Some(flow.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breach_fails_and_equal_passes() {
        let ts = vec![
            Threshold::parse(Metric::P99, "100ms").unwrap(),
            Threshold::parse(Metric::ThrottleRate, "1%").unwrap(),
        ];
        let observed = Observed {
            p99: 100.0,
            throttle_rate: 0.02,
            ..Observed::default()
        };
        let r = evaluate(&ts, &observed, Some("burst"));
        assert!(r[0].pass);
        assert!(!r[1].pass);
        assert_eq!(r[1].stage.as_deref(), Some("burst"));
    }

    #[test]
    fn a_floor_fails_below_and_is_not_judged_without_streams() {
        use stampede_results::timing::{Throughput, Timing};
        let ts = vec![Threshold::parse(Metric::MinThroughput, "50KB/s").unwrap()];
        let streamed = |p1| Observed {
            timing: Some(Timing {
                throughput: Some(Throughput {
                    count: 10,
                    p1,
                    ..Throughput::default()
                }),
                ..Timing::default()
            }),
            ..Observed::default()
        };
        let r = evaluate(&ts, &streamed(49_000.0), None);
        assert!(!r[0].pass && !r[0].not_judged);
        assert!(evaluate(&ts, &streamed(50_000.0), None)[0].pass);
        let none = Observed {
            timing: Some(Timing::default()),
            ..Observed::default()
        };
        let r = evaluate(&ts, &none, None);
        assert!(r[0].pass && r[0].not_judged && r[0].observed == 0.0);
    }
}
