//! `[abort]` rules applied to the timeline as each second becomes final: stop the run
//! early to protect the system under test. Pure.

use crate::record::TimelinePoint;
use crate::scenario::AbortRules;
pub use stampede_results::abort::AbortTrip;

/// Checks the last `window` seconds of `points` (final seconds, oldest first) against `rules`.
pub fn check(rules: &AbortRules, points: &[TimelinePoint]) -> Option<AbortTrip> {
    let last = points.last()?;
    let from = points.len().saturating_sub(rules.window_seconds());
    let window = &points[from..];
    let answered: u64 = window.iter().map(|p| p.ok + p.throttled + p.errors).sum();
    if answered < rules.min_attempts.max(1) {
        return None;
    }
    let throttled: u64 = window.iter().map(|p| p.throttled).sum();
    let requests: u64 = window.iter().map(|p| p.requests).sum();
    let failed: u64 = window.iter().map(|p| p.failed).sum();
    let ended_throttled: u64 = window.iter().map(|p| p.throttled_requests).sum();
    let trip = |rule: &'static str, limit: f64, observed: f64| AbortTrip {
        rule: rule.to_string(),
        limit,
        observed,
        t_s: last.t_s + 1,
        window_s: window.len() as u64,
        attempts: answered,
        by_shard: None,
        request: None,
    };
    if let Some(limit) = rules.throttle_rate {
        let observed = throttled as f64 / answered as f64;
        if observed > limit {
            return Some(trip("throttle_rate", limit, observed));
        }
    }
    if let (Some(limit), true) = (rules.error_rate, requests > 0) {
        let observed = failed as f64 / requests as f64;
        if observed > limit {
            return Some(trip("error_rate", limit, observed));
        }
    }
    if let (Some(limit), true) = (rules.failure_rate, requests > 0) {
        let observed = (failed + ended_throttled) as f64 / requests as f64;
        if observed > limit {
            return Some(trip("failure_rate", limit, observed));
        }
    }
    None
}

/// `rules.requests`, each on its request's final seconds (`by_request`, by entry): the
/// first that trips, naming its request.
pub fn check_requests(
    rules: &AbortRules,
    by_request: &std::collections::BTreeMap<usize, Vec<TimelinePoint>>,
) -> Option<AbortTrip> {
    rules.requests.iter().find_map(|r| {
        let points = by_request.get(&r.entry)?;
        let mut trip = check(&rules.of_request(r), points)?;
        trip.request = Some(r.request.clone());
        Some(trip)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn second(t_s: u64, ok: u64, throttled: u64, failed: u64) -> TimelinePoint {
        TimelinePoint {
            t_s,
            sent: ok + throttled + failed,
            ok,
            throttled,
            errors: failed,
            requests: ok + throttled + failed,
            failed,
            throttled_requests: throttled,
            ..TimelinePoint::default()
        }
    }

    fn rules(throttle: Option<f64>, error: Option<f64>) -> AbortRules {
        AbortRules {
            throttle_rate: throttle,
            error_rate: error,
            failure_rate: None,
            window: Duration::from_secs(3),
            min_attempts: 20,
            requests: Vec::new(),
        }
    }

    #[test]
    fn trips_on_the_window_not_the_whole_run() {
        let r = rules(Some(0.2), None);
        // 10 clean seconds then throttling: the run's rate is low, the window's is not.
        let mut points: Vec<_> = (0..10).map(|t| second(t, 100, 0, 0)).collect();
        points.push(second(10, 50, 50, 0));
        assert_eq!(check(&r, &points), None, "one bad second of three: 50/300");
        points.push(second(11, 50, 50, 0));
        let trip = check(&r, &points).expect("100/300 > 20%");
        assert_eq!(
            (trip.rule.as_str(), trip.t_s, trip.window_s),
            ("throttle_rate", 12, 3)
        );
        assert!((trip.observed - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn too_few_attempts_never_trip_and_bounds_are_upper_bounds() {
        let r = rules(Some(0.2), Some(0.1));
        assert_eq!(check(&r, &[second(0, 0, 5, 0)]), None, "5 attempts < 20");
        assert_eq!(
            check(&r, &[second(0, 80, 20, 0)]),
            None,
            "20% is not past 20%"
        );
        let trip = check(&r, &[second(0, 80, 0, 20)]).expect("20% errors > 10%");
        assert_eq!(trip.rule, "error_rate");
        assert_eq!(check(&r, &[]), None);
    }

    #[test]
    fn failure_rate_counts_requests_that_ended_throttled() {
        let r = AbortRules {
            failure_rate: Some(0.5),
            ..rules(None, Some(0.5))
        };
        // Every request ended throttled: no errors, all failures.
        let trip = check(&r, &[second(0, 0, 40, 0)]).expect("100% > 50%");
        assert_eq!((trip.rule.as_str(), trip.observed), ("failure_rate", 1.0));
        assert_eq!(check(&r, &[second(0, 30, 10, 10)]), None, "20 of 50");
    }

    #[test]
    fn a_request_rule_is_judged_on_its_own_seconds_and_names_it() {
        use crate::scenario::RequestAbort;
        let r = AbortRules {
            requests: vec![RequestAbort {
                request: "buy".into(),
                entry: 1,
                throttle_rate: Some(0.2),
                error_rate: None,
                failure_rate: None,
            }],
            ..rules(None, None)
        };
        // The run's seconds are clean enough; request 1's are not.
        let mut by_request = std::collections::BTreeMap::new();
        by_request.insert(0, vec![second(0, 100, 0, 0)]);
        assert_eq!(
            check_requests(&r, &by_request),
            None,
            "no seconds of entry 1"
        );
        by_request.insert(1, vec![second(0, 10, 20, 0)]);
        let trip = check_requests(&r, &by_request).expect("20/30 > 20%");
        assert_eq!(
            (trip.request.as_deref(), trip.rule.as_str(), trip.attempts),
            (Some("buy"), "throttle_rate", 30)
        );
        assert!(
            trip.describe().contains("request \"buy\"'s throttle_rate"),
            "{}",
            trip.describe()
        );
    }
}
