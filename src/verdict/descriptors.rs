//! Whether the open-files limit can hold the plan: every request in flight holds a
//! connection, and a connection a file descriptor. Past the limit, connects fail with
//! EMFILE, which looks like a server refusing. Pure: fed the plans and the limit.
//!
//! An open stage holds its rate × the latency (Little's law), judged at the expected
//! latency the preflight uses (`--expect-latency`), not the attempt timeout: rate × timeout
//! is what a target that answers nothing would hold, and at the default 29 s it passes any
//! limit from 700 req/s up, on every run. The warning says how a stall could still exhaust
//! the limit and what bounds it (`--max-in-flight`, a shorter timeout, `ulimit -n`).

use std::time::Duration;

use crate::scenario::Stage;
use crate::schedule::StagePlan;

/// Descriptors the process holds besides connections: stdio, runtimes, timers, the log.
pub const SPARE_DESCRIPTORS: u64 = 64;

/// What the plan holds in flight at its busiest: the count, capped by `--max-in-flight`,
/// and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct InFlight {
    pub requests: u64,
    /// "stage `x`: …", for people.
    pub basis: String,
    /// Whether an open stage sets it below `--max-in-flight` (its count grows as answers
    /// slow down).
    pub grows_with_latency: bool,
}

/// The most requests the plan holds in flight at once: a closed stage's workers, a burst's
/// requests, or an open stage's peak rate × `latency` (the expected latency, `why` says
/// where it came from), never more than `max_in_flight`.
pub fn planned_in_flight(
    stages: &[Stage],
    plans: &[StagePlan],
    latency: Duration,
    why: &str,
    max_in_flight: u64,
) -> InFlight {
    let mut worst = InFlight {
        requests: 0,
        basis: String::new(),
        grows_with_latency: false,
    };
    for (stage, plan) in stages.iter().zip(plans) {
        let (n, how, open) = match plan {
            StagePlan::Open(p) => {
                let n = (p.peak_rate() * latency.as_secs_f64()).ceil() as u64;
                let how = format!(
                    "peak rate {:.0}/s × expected latency {} ({why})",
                    p.peak_rate(),
                    humantime::format_duration(latency)
                );
                (n, how, true)
            }
            StagePlan::Burst { requests } => (*requests, "burst".to_string(), false),
            StagePlan::Closed { workers, .. } => (*workers, "workers".to_string(), false),
            StagePlan::Pause { .. } => (0, String::new(), false),
        };
        let capped = n >= max_in_flight;
        let n = n.min(max_in_flight);
        if n > worst.requests {
            worst = InFlight {
                requests: n,
                basis: format!("stage `{}`: {how}", stage.name),
                grows_with_latency: open && !capped,
            };
        }
    }
    worst
}

/// A warning when what is in flight (and the spare descriptors) does not fit the
/// open-files limit `soft` (already raised as far as `hard` allows), with what to do:
/// raise the limit, or cap what is in flight to what it holds, or (when slow answers
/// make it grow) shorten the attempt timeout `timeout`.
pub fn warning(in_flight: &InFlight, soft: u64, hard: u64, timeout: Duration) -> Option<String> {
    let needed = in_flight.requests + SPARE_DESCRIPTORS;
    if needed <= soft {
        return None;
    }
    let suggest = needed.next_multiple_of(1024);
    let raise = if suggest <= hard {
        format!("run `ulimit -n {suggest}` first")
    } else {
        format!(
            "the hard limit is {hard}: raise it (`ulimit -Hn {suggest}` as root, or the nofile limit in /etc/security/limits.conf or the container's settings), then `ulimit -n {suggest}`"
        )
    };
    let fits = soft.saturating_sub(SPARE_DESCRIPTORS).max(1);
    let mut text = format!(
        "up to {} requests may be in flight ({}), each on a connection, but the open-files limit is {soft}: connects past it fail as local errors (out of file descriptors); {raise}, or cap what is in flight with `--max-in-flight {fits}` (requests past it are held back and sent late)",
        in_flight.requests, in_flight.basis
    );
    if in_flight.grows_with_latency {
        text.push_str(&format!(
            "; slower answers hold more, up to the rate × the attempt timeout ({}): a shorter `timeout` (or `--timeout`) bounds that",
            humantime::format_duration(timeout)
        ));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::StageKind;

    fn stage(name: &str, kind: StageKind) -> (Stage, StagePlan) {
        let s = Stage {
            name: name.into(),
            kind,
        };
        let p = StagePlan::for_stage(&s);
        (s, p)
    }

    const TIMEOUT: Duration = Duration::from_secs(29);

    #[test]
    fn the_worst_stage_sets_the_need_at_the_expected_latency() {
        let (a, pa) = stage(
            "soak",
            StageKind::Concurrency {
                workers: 200,
                duration: Duration::from_secs(2),
            },
        );
        let (b, pb) = stage(
            "steady",
            StageKind::Constant {
                rate: 1000.0,
                duration: Duration::from_secs(5),
            },
        );
        let stages = [a, b];
        let plans = [pa, pb];
        let n = planned_in_flight(&stages, &plans, Duration::from_secs(2), "p50", 20_000);
        assert_eq!(n.requests, 2000);
        assert!(
            n.basis.contains("steady") && n.basis.contains("2s"),
            "{n:?}"
        );
        assert!(n.grows_with_latency);
        let n = planned_in_flight(&stages, &plans, Duration::from_millis(100), "p50", 20_000);
        assert_eq!(n.requests, 200, "the workers, when the rate needs fewer");
        assert!(!n.grows_with_latency);
        let n = planned_in_flight(&stages, &plans, Duration::from_secs(60), "p50", 5_000);
        assert_eq!(n.requests, 5_000, "never more than --max-in-flight");
        assert!(
            !n.grows_with_latency,
            "the cap holds it however slow the answers"
        );
    }

    /// The tester's case: 700 req/s with the 29 s timeout against a limit of 20,000 (the
    /// default `--max-in-flight`) warned on every run; at the expected latency it fits.
    #[test]
    fn a_rate_that_fits_at_its_latency_is_not_warned_for_its_timeout() {
        let (s, p) = stage(
            "steady",
            StageKind::Constant {
                rate: 700.0,
                duration: Duration::from_secs(5),
            },
        );
        let n = planned_in_flight(&[s], &[p], Duration::from_millis(100), "default", 20_000);
        assert_eq!(n.requests, 70);
        assert_eq!(warning(&n, 20_000, 20_000, TIMEOUT), None);
    }

    #[test]
    fn warns_with_what_to_run() {
        let of = |requests, basis: &str, grows| InFlight {
            requests,
            basis: basis.into(),
            grows_with_latency: grows,
        };
        assert_eq!(warning(&of(100, "w", false), 4096, 4096, TIMEOUT), None);
        let w = warning(
            &of(200, "stage `soak`: workers", false),
            64,
            1_048_576,
            TIMEOUT,
        )
        .unwrap();
        assert!(w.contains("open-files limit is 64"), "{w}");
        assert!(w.contains("ulimit -n 1024"), "{w}");
        assert!(w.contains("--max-in-flight 1"), "{w}");
        assert!(
            !w.contains("timeout"),
            "workers do not grow with latency: {w}"
        );
        let w = warning(&of(5000, "burst", false), 64, 64, TIMEOUT).unwrap();
        assert!(w.contains("hard limit is 64"), "{w}");
        let w = warning(&of(3000, "stage `s`: peak rate", true), 2048, 2048, TIMEOUT).unwrap();
        assert!(w.contains("--max-in-flight 1984"), "{w}");
        assert!(w.contains("shorter `timeout`") && w.contains("29s"), "{w}");
    }
}
