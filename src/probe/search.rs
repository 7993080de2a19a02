//! The knee search of `stampede probe`, pure: which load to try next, given how each step
//! went against the SLO. Upward geometrically from `from` until a step breaks the SLO or
//! reaches `max`; then bisection between the last good and the first bad step until they
//! are within `precision`. A step too close to call is tried once more; a step that breaks
//! far past the SLO ends the search at once (a target failing hard is not pushed again).

use crate::scenario::{Metric, Threshold};
use crate::verdict::thresholds::Observed;

/// How one step went.
#[derive(Clone, Debug, PartialEq)]
pub enum StepVerdict {
    /// Every SLO bound met with room.
    Good,
    /// Some bound broken: what broke, as "p99 912 ms > 800 ms".
    Bad(Vec<String>),
    /// Within [`NOISE`] of a bound either way, nothing clearly broken: tried once more.
    Noisy(Vec<String>),
    /// Some bound broken [`FAR`] times over: stop pushing.
    Hard(Vec<String>),
}

/// A value within this share of its bound, either side, is too close to call.
pub const NOISE: f64 = 0.10;
/// A latency this many times its bound is far past it.
pub const FAR: f64 = 5.0;
/// Errors other than throttles (5xx, timeouts, connections) in this share of requests:
/// the target is failing hard. Throttles are not: they are a limit doing its job, and in
/// a closed loop a throttled worker asks again at once, so their share runs high as soon
/// as a limit is passed at all.
pub const FAR_ERRORS: f64 = 0.25;

/// Judges one step's observations against the SLO.
pub fn judge(slo: &[Threshold], seen: &Observed) -> StepVerdict {
    let (mut broken, mut close, mut hard) = (Vec::new(), Vec::new(), Vec::new());
    if seen.error_rate >= FAR_ERRORS {
        hard.push(format!(
            "errors other than throttles {:.1}% of requests",
            seen.error_rate * 100.0
        ));
    }
    for t in slo {
        let v = seen.get(t.metric);
        let line = describe(t, v);
        if t.metric.is_floor() {
            // A floor (`min_throughput`): below it is broken; no stream, nothing to judge.
            if v == crate::verdict::thresholds::NOT_JUDGED {
                continue;
            } else if v < t.limit * (1.0 - NOISE) {
                broken.push(line);
            } else if v < t.limit * (1.0 + NOISE) {
                close.push(line);
            }
            continue;
        }
        if !t.metric.is_rate() && v >= t.limit * FAR {
            hard.push(line);
        } else if v > t.limit * (1.0 + NOISE) {
            broken.push(line);
        } else if v > t.limit * (1.0 - NOISE) && t.limit > 0.0 {
            close.push(line);
        } else if v > t.limit {
            // A zero bound has no band: anything over it is over.
            broken.push(line);
        }
    }
    if !hard.is_empty() {
        StepVerdict::Hard(hard)
    } else if !broken.is_empty() {
        StepVerdict::Bad(broken)
    } else if !close.is_empty() {
        StepVerdict::Noisy(close)
    } else {
        StepVerdict::Good
    }
}

/// "p99 912 ms > 800 ms", "throttle_rate 3.1% > 1%".
fn describe(t: &Threshold, v: f64) -> String {
    let cmp = if v > t.limit { ">" } else { "≤" };
    if t.metric.is_floor() {
        let rate = crate::scenario::byte_rate::byte_rate_text;
        let cmp = if v < t.limit { "<" } else { "≥" };
        format!("{} {} {cmp} {}", t.metric.name(), rate(v), rate(t.limit))
    } else if t.metric.is_rate() {
        format!(
            "{} {:.2}% {cmp} {}%",
            t.metric.name(),
            v * 100.0,
            t.limit * 100.0
        )
    } else {
        format!("{} {v:.0} ms {cmp} {:.0} ms", t.metric.name(), t.limit)
    }
}

/// The SLO `--slo` defaults to.
pub fn default_slo() -> Vec<Threshold> {
    [
        (Metric::P99, "800ms"),
        (Metric::ThrottleRate, "1%"),
        (Metric::FailureRate, "0.5%"),
    ]
    .into_iter()
    .map(|(m, v)| Threshold::parse(m, v).expect("valid defaults"))
    .collect()
}

/// Why the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The last good and first bad step are within the precision.
    Converged,
    /// `max` met the SLO: the knee is at least there.
    ReachedMax,
    /// Even `from` broke the SLO.
    NotMetAtFrom,
    /// A step broke far past the SLO; the search stopped there.
    StoppedHard,
}

/// What to do next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    Try(u64),
    Done(Ended),
}

/// The search over whole loads (req/s or workers).
#[derive(Clone, Debug)]
pub struct Search {
    from: u64,
    max: u64,
    /// Bisection stops when (bad − good) ≤ good × precision.
    precision: f64,
    /// Up by this factor while good.
    factor: f64,
    pub good: Option<u64>,
    pub bad: Option<u64>,
    /// A load tried once and found too close to call.
    noisy: Option<u64>,
    next: Next,
}

impl Search {
    pub fn new(from: u64, max: u64, precision: f64) -> Search {
        let from = from.max(1).min(max.max(1));
        Search {
            from,
            max: max.max(from),
            precision: precision.max(0.001),
            factor: 2.0,
            good: None,
            bad: None,
            noisy: None,
            next: Next::Try(from),
        }
    }

    pub fn next(&self) -> Next {
        self.next
    }

    /// Records how the step at `load` went and decides the next.
    pub fn record(&mut self, load: u64, verdict: &StepVerdict) {
        let good = match verdict {
            StepVerdict::Good => true,
            StepVerdict::Hard(_) => {
                self.bad = Some(self.bad.map_or(load, |b| b.min(load)));
                self.next = Next::Done(if self.good.is_none() {
                    Ended::NotMetAtFrom
                } else {
                    Ended::StoppedHard
                });
                return;
            }
            StepVerdict::Noisy(_) if self.noisy != Some(load) => {
                self.noisy = Some(load);
                self.next = Next::Try(load);
                return;
            }
            // Twice too close to call: count it as broken (the safe side).
            StepVerdict::Noisy(_) | StepVerdict::Bad(_) => false,
        };
        self.noisy = None;
        if good {
            self.good = Some(self.good.map_or(load, |g| g.max(load)));
        } else {
            self.bad = Some(self.bad.map_or(load, |b| b.min(load)));
        }
        self.next = self.decide();
    }

    fn decide(&self) -> Next {
        match (self.good, self.bad) {
            (None, Some(_)) => Next::Done(Ended::NotMetAtFrom),
            (Some(g), None) if g >= self.max => Next::Done(Ended::ReachedMax),
            (Some(g), None) => {
                let up = ((g as f64 * self.factor).round() as u64).max(g + 1);
                Next::Try(up.min(self.max))
            }
            (Some(g), Some(b)) => {
                let mid = g + (b.saturating_sub(g)) / 2;
                let close = (b.saturating_sub(g)) as f64 <= g as f64 * self.precision;
                if close || mid <= g || mid >= b {
                    Next::Done(Ended::Converged)
                } else {
                    Next::Try(mid)
                }
            }
            (None, None) => Next::Try(self.from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(p99: f64, throttle_rate: f64) -> Observed {
        Observed {
            p99,
            throttle_rate,
            ..Observed::default()
        }
    }

    /// Runs a search against a target whose knee is `knee`: good below, bad above.
    fn against(knee: u64, from: u64, max: u64, precision: f64) -> (Search, Vec<u64>, Ended) {
        let mut s = Search::new(from, max, precision);
        let mut tried = Vec::new();
        loop {
            match s.next() {
                Next::Try(load) => {
                    tried.push(load);
                    assert!(tried.len() < 100, "{tried:?}");
                    let v = if load <= knee {
                        StepVerdict::Good
                    } else {
                        StepVerdict::Bad(vec!["p99".into()])
                    };
                    s.record(load, &v);
                }
                Next::Done(why) => return (s, tried, why),
            }
        }
    }

    #[test]
    fn it_doubles_then_bisects_to_the_precision() {
        let (s, tried, why) = against(380, 10, 100_000, 0.05);
        assert_eq!(why, Ended::Converged);
        assert_eq!(&tried[..7], &[10, 20, 40, 80, 160, 320, 640]);
        let (g, b) = (s.good.unwrap(), s.bad.unwrap());
        assert!(g <= 380 && b > 380, "{g} {b}");
        assert!((b - g) as f64 <= g as f64 * 0.05, "{g} {b}");
        assert!(tried.len() <= 14, "{tried:?}");
    }

    #[test]
    fn max_is_never_passed_and_a_good_max_ends_the_search() {
        let (s, tried, why) = against(10_000, 10, 300, 0.05);
        assert_eq!(why, Ended::ReachedMax);
        assert_eq!(tried, vec![10, 20, 40, 80, 160, 300]);
        assert_eq!(s.good, Some(300));
        let (_, tried, _) = against(250, 10, 300, 0.05);
        assert!(tried.iter().all(|&l| l <= 300), "{tried:?}");
    }

    #[test]
    fn a_bad_first_step_means_the_slo_is_not_met_at_from() {
        let (s, tried, why) = against(5, 10, 1000, 0.05);
        assert_eq!((why, tried), (Ended::NotMetAtFrom, vec![10]));
        assert_eq!(s.good, None);
    }

    #[test]
    fn a_hard_failure_stops_at_once() {
        let mut s = Search::new(10, 1000, 0.05);
        s.record(10, &StepVerdict::Good);
        s.record(20, &StepVerdict::Hard(vec!["failure_rate 80%".into()]));
        assert_eq!(s.next(), Next::Done(Ended::StoppedHard));
        assert_eq!((s.good, s.bad), (Some(10), Some(20)));
    }

    #[test]
    fn a_noisy_step_is_tried_once_more_then_counted_as_broken() {
        let mut s = Search::new(10, 1000, 0.05);
        s.record(10, &StepVerdict::Good);
        assert_eq!(s.next(), Next::Try(20));
        s.record(20, &StepVerdict::Noisy(vec![]));
        assert_eq!(s.next(), Next::Try(20), "repeated");
        s.record(20, &StepVerdict::Good);
        assert_eq!(s.next(), Next::Try(40), "the repeat decides");
        s.record(40, &StepVerdict::Noisy(vec![]));
        s.record(40, &StepVerdict::Noisy(vec![]));
        assert_eq!(s.bad, Some(40), "twice too close: broken");
    }

    #[test]
    fn judging_tells_good_close_broken_and_far_apart() {
        let slo = default_slo();
        assert_eq!(judge(&slo, &observed(400.0, 0.0)), StepVerdict::Good);
        assert!(matches!(
            judge(&slo, &observed(780.0, 0.0)),
            StepVerdict::Noisy(_)
        ));
        match judge(&slo, &observed(1200.0, 0.0)) {
            StepVerdict::Bad(why) => assert_eq!(why, vec!["p99 1200 ms > 800 ms"]),
            other => panic!("{other:?}"),
        }
        match judge(&slo, &observed(100.0, 0.03)) {
            StepVerdict::Bad(why) => assert_eq!(why, vec!["throttle_rate 3.00% > 1%"]),
            other => panic!("{other:?}"),
        }
        // Throttles, however many, are a limit working: broken, never hard.
        assert!(matches!(
            judge(&slo, &observed(100.0, 0.90)),
            StepVerdict::Bad(_)
        ));
        let failing = Observed {
            p99: 100.0,
            error_rate: 0.30,
            failure_rate: 0.30,
            ..Observed::default()
        };
        assert!(matches!(judge(&slo, &failing), StepVerdict::Hard(_)));
        assert!(matches!(
            judge(&slo, &observed(4100.0, 0.0)),
            StepVerdict::Hard(_)
        ));
    }
}
