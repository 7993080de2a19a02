//! When requests go out. Open-model stages become a [`Pacing`]: a count and the send
//! instant of the i-th request, as an offset from the stage's start. Closed-model stages
//! become a worker count. Pure: no clocks, no I/O.

use std::time::Duration;

use crate::scenario::{Stage, StageKind};

/// What the engine does for one stage.
#[derive(Clone, Debug, PartialEq)]
pub enum StagePlan {
    /// Requests at scheduled instants, whatever the server does.
    Open(Pacing),
    /// `requests` released at one instant on connections opened beforehand.
    Burst { requests: u64 },
    /// `workers` loops, each sending when its last request ended.
    Closed { workers: u64, duration: Duration },
    /// Nothing is sent.
    Pause { duration: Duration },
}

impl StagePlan {
    pub fn for_stage(stage: &Stage) -> StagePlan {
        match stage.kind {
            StageKind::Constant { rate, duration } => {
                StagePlan::Open(Pacing::new(vec![Piece::constant(rate, duration)]))
            }
            StageKind::Ramp { from, to, duration } => {
                StagePlan::Open(Pacing::new(vec![Piece::ramp(from, to, duration)]))
            }
            StageKind::Steps {
                from,
                to,
                step,
                hold,
            } => {
                let levels = crate::scenario::steps_levels(from, to, step);
                let pieces = (0..levels)
                    .map(|k| Piece::constant(from + step * k as f64, hold))
                    .collect();
                StagePlan::Open(Pacing::new(pieces))
            }
            StageKind::Burst { requests } => StagePlan::Burst { requests },
            StageKind::Concurrency { workers, duration } => StagePlan::Closed { workers, duration },
            StageKind::Pause { duration } => StagePlan::Pause { duration },
        }
    }

    /// How long the stage lasts; `None` for a burst, which lasts until its requests end.
    pub fn duration(&self) -> Option<Duration> {
        match self {
            StagePlan::Open(p) => Some(p.duration()),
            StagePlan::Burst { .. } => None,
            StagePlan::Closed { duration, .. } | StagePlan::Pause { duration } => Some(*duration),
        }
    }

    /// Requests the schedule fixes in advance (open and burst stages); `None` for closed ones.
    pub fn planned_requests(&self) -> Option<u64> {
        match self {
            StagePlan::Open(p) => Some(p.count()),
            StagePlan::Burst { requests } => Some(*requests),
            StagePlan::Closed { .. } => None,
            StagePlan::Pause { .. } => Some(0),
        }
    }

    /// The highest instantaneous rate the stage plans (req/s); bursts and closed stages have none.
    pub fn peak_rate(&self) -> Option<f64> {
        match self {
            StagePlan::Open(p) => Some(p.peak_rate()),
            _ => None,
        }
    }
}

/// A rate held or changed linearly over a span of time.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Piece {
    from: f64,
    to: f64,
    seconds: f64,
}

impl Piece {
    fn constant(rate: f64, d: Duration) -> Piece {
        Piece::ramp(rate, rate, d)
    }

    fn ramp(from: f64, to: f64, d: Duration) -> Piece {
        Piece {
            from,
            to,
            seconds: d.as_secs_f64(),
        }
    }

    /// Requests sent in the piece: the integral of the rate, rounded down.
    fn count(&self) -> u64 {
        ((self.from + self.to) / 2.0 * self.seconds + 1e-9).floor() as u64
    }

    /// Seconds from the piece's start to its j-th send: solves from·t + k·t²/2 = j.
    fn offset(&self, j: u64) -> f64 {
        let j = j as f64;
        let k = (self.to - self.from) / self.seconds;
        if k.abs() < 1e-12 {
            return j / self.from;
        }
        if j == 0.0 {
            return 0.0;
        }
        // The stable form of (-from + sqrt(from² + 2kj)) / k.
        2.0 * j / (self.from + (self.from * self.from + 2.0 * k * j).max(0.0).sqrt())
    }
}

/// The open-model schedule of one stage: piecewise-linear rates laid end to end.
#[derive(Clone, Debug, PartialEq)]
pub struct Pacing {
    pieces: Vec<Piece>,
    /// Index of each piece's first request, and the start of each piece in seconds.
    firsts: Vec<u64>,
    starts: Vec<f64>,
    total: u64,
}

impl Pacing {
    fn new(pieces: Vec<Piece>) -> Pacing {
        let (mut firsts, mut starts) = (Vec::new(), Vec::new());
        let (mut total, mut t) = (0, 0.0);
        for p in &pieces {
            firsts.push(total);
            starts.push(t);
            total += p.count();
            t += p.seconds;
        }
        Pacing {
            pieces,
            firsts,
            starts,
            total,
        }
    }

    /// Requests in the stage.
    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.pieces.iter().map(|p| p.seconds).sum())
    }

    /// The planned rate `t_s` seconds into the stage (0 after its end).
    pub fn rate_at(&self, t_s: f64) -> f64 {
        let i = self.starts.partition_point(|s| *s <= t_s).saturating_sub(1);
        match self.pieces.get(i) {
            Some(p) if t_s < self.starts[i] + p.seconds => {
                p.from + (p.to - p.from) * (t_s - self.starts[i]) / p.seconds
            }
            _ => 0.0,
        }
    }

    pub fn peak_rate(&self) -> f64 {
        self.pieces
            .iter()
            .map(|p| p.from.max(p.to))
            .fold(0.0, f64::max)
    }

    /// How many requests are due before `t_s` seconds into the stage (0 for `t_s` ≤ 0).
    pub fn due_before(&self, t_s: f64) -> u64 {
        // Offsets grow with the index: the first one at or past `t_s`, by bisection.
        let (mut lo, mut hi) = (0, self.total);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.offset(mid).as_secs_f64() < t_s {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// When request `i` (0-based, `i < count()`) is due, from the stage's start.
    pub fn offset(&self, i: u64) -> Duration {
        let k = self.firsts.partition_point(|&f| f <= i) - 1;
        let seconds = self.starts[k] + self.pieces[k].offset(i - self.firsts[k]);
        Duration::from_secs_f64(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(kind: StageKind) -> StagePlan {
        StagePlan::for_stage(&Stage {
            name: "s".into(),
            kind,
        })
    }

    fn open(kind: StageKind) -> Pacing {
        match plan(kind) {
            StagePlan::Open(p) => p,
            other => panic!("not open: {other:?}"),
        }
    }

    fn secs(d: Duration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn due_before_counts_the_sends_planned_before_an_instant() {
        let p = open(StageKind::Constant {
            rate: 10.0,
            duration: Duration::from_secs(2),
        });
        let due: Vec<u64> = [-1.0, 0.0, 0.05, 1.0, 1.5, 2.0, 9.0]
            .iter()
            .map(|t| p.due_before(*t))
            .collect();
        assert_eq!(due, [0, 0, 1, 10, 15, 20, 20]);
        let ramp = open(StageKind::Ramp {
            from: 0.0,
            to: 100.0,
            duration: Duration::from_secs(10),
        });
        // Each second holds what the rate integrates to over it: 5, 15, 25, …
        let per_second: Vec<u64> = (0..10)
            .map(|k| ramp.due_before(k as f64 + 1.0) - ramp.due_before(k as f64))
            .collect();
        assert_eq!(per_second.iter().sum::<u64>(), ramp.count());
        assert!(per_second.windows(2).all(|w| w[0] < w[1]), "{per_second:?}");
    }

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let p = open(StageKind::Constant {
            rate: 50.0,
            duration: Duration::from_secs(30),
        });
        assert_eq!(p.count(), 1500);
        assert_eq!(p.offset(0), Duration::ZERO);
        assert!((secs(p.offset(1)) - 0.02).abs() < 1e-9);
        assert!((secs(p.offset(1499)) - 29.98).abs() < 1e-9);
        assert_eq!(p.duration(), Duration::from_secs(30));
    }

    #[test]
    fn fractional_rates_round_down() {
        let p = open(StageKind::Constant {
            rate: 0.5,
            duration: Duration::from_secs(5),
        });
        assert_eq!(p.count(), 2);
        assert_eq!(secs(p.offset(1)), 2.0);
    }

    #[test]
    fn ramp_counts_the_area_and_accelerates() {
        let p = open(StageKind::Ramp {
            from: 50.0,
            to: 2000.0,
            duration: Duration::from_secs(120),
        });
        // (50 + 2000) / 2 · 120
        assert_eq!(p.count(), 123_000);
        // The instant of request i satisfies 50t + (1950/120)t²/2 = i.
        for i in [1u64, 10, 1000, 60_000, 122_999] {
            let t = secs(p.offset(i));
            let sent_by_t = 50.0 * t + (1950.0 / 120.0) * t * t / 2.0;
            assert!((sent_by_t - i as f64).abs() < 1e-6, "i={i} t={t}");
        }
        let gaps: Vec<f64> = (1..4)
            .map(|i| secs(p.offset(i)) - secs(p.offset(i - 1)))
            .collect();
        assert!(gaps[0] > gaps[1] && gaps[1] > gaps[2], "{gaps:?}");
        assert!(secs(p.offset(122_999)) < 120.0);
    }

    #[test]
    fn ramp_from_zero_and_downward() {
        let up = open(StageKind::Ramp {
            from: 0.0,
            to: 100.0,
            duration: Duration::from_secs(10),
        });
        assert_eq!(up.count(), 500);
        assert_eq!(up.offset(0), Duration::ZERO);
        // 5t² = i → request 125 at t = 5 s.
        assert!((secs(up.offset(125)) - 5.0).abs() < 1e-9);

        let down = open(StageKind::Ramp {
            from: 100.0,
            to: 0.0,
            duration: Duration::from_secs(10),
        });
        assert_eq!(down.count(), 500);
        // 100t - 5t² = 375 → t = 5 s.
        assert!((secs(down.offset(375)) - 5.0).abs() < 1e-9);
        assert!(secs(down.offset(499)) <= 10.0);
    }

    #[test]
    fn steps_hold_each_level() {
        let p = open(StageKind::Steps {
            from: 100.0,
            to: 1000.0,
            step: 100.0,
            hold: Duration::from_secs(20),
        });
        // 20 s each at 100, 200, … 1000.
        assert_eq!(p.count(), 20 * (100 + 1000) * 10 / 2);
        assert_eq!(p.duration(), Duration::from_secs(200));
        assert_eq!(p.peak_rate(), 1000.0);
        // First request of level 2 (200 req/s) at t = 20 s, its second 5 ms later.
        assert!((secs(p.offset(2000)) - 20.0).abs() < 1e-9);
        assert!((secs(p.offset(2001)) - 20.005).abs() < 1e-9);
        // Last request: level 1000 req/s, starting at 180 s.
        assert!((secs(p.offset(p.count() - 1)) - (180.0 + 19_999.0 / 1000.0)).abs() < 1e-9);
    }

    #[test]
    fn steps_stop_at_or_below_to() {
        let p = open(StageKind::Steps {
            from: 10.0,
            to: 25.0,
            step: 10.0,
            hold: Duration::from_secs(1),
        });
        assert_eq!(p.count(), 10 + 20);
        assert_eq!(p.duration(), Duration::from_secs(2));
    }

    #[test]
    fn instants_never_go_backwards() {
        let p = open(StageKind::Steps {
            from: 3.0,
            to: 9.0,
            step: 3.0,
            hold: Duration::from_millis(700),
        });
        let offsets: Vec<Duration> = (0..p.count()).map(|i| p.offset(i)).collect();
        assert!(offsets.windows(2).all(|w| w[0] <= w[1]));
        assert!(offsets.iter().all(|o| *o < p.duration()));
    }

    #[test]
    fn burst_closed_and_pause_plans() {
        assert_eq!(
            plan(StageKind::Burst { requests: 3000 }),
            StagePlan::Burst { requests: 3000 }
        );
        assert_eq!(plan(StageKind::Burst { requests: 3000 }).duration(), None);
        let closed = plan(StageKind::Concurrency {
            workers: 200,
            duration: Duration::from_secs(300),
        });
        assert_eq!(closed.duration(), Some(Duration::from_secs(300)));
        assert_eq!(closed.planned_requests(), None);
        let pause = plan(StageKind::Pause {
            duration: Duration::from_secs(10),
        });
        assert_eq!(pause.planned_requests(), Some(0));
    }

    #[test]
    fn the_rate_at_an_instant_follows_the_pieces() {
        let ramp = Pacing::new(vec![Piece::ramp(100.0, 300.0, Duration::from_secs(10))]);
        assert!((ramp.rate_at(0.0) - 100.0).abs() < 1e-9);
        assert!((ramp.rate_at(5.0) - 200.0).abs() < 1e-9);
        assert_eq!(ramp.rate_at(10.0), 0.0);
        let steps = Pacing::new(vec![
            Piece::constant(10.0, Duration::from_secs(2)),
            Piece::constant(20.0, Duration::from_secs(2)),
        ]);
        assert_eq!((steps.rate_at(1.9), steps.rate_at(2.0)), (10.0, 20.0));
    }

    /// The scenario refuses a stage that plans no request by its own arithmetic: it must
    /// agree with the counts planned here, on either side of one request.
    #[test]
    fn the_scenarios_no_request_check_agrees_with_the_planned_counts() {
        let ms = Duration::from_millis;
        let mut kinds = Vec::new();
        for rate in [0.1, 0.5, 0.999, 1.0, 1.5, 2.0, 3.0, 10.0, 1000.0] {
            for d in [
                ms(1),
                ms(100),
                ms(333),
                ms(500),
                ms(999),
                ms(1000),
                ms(2000),
            ] {
                kinds.push(StageKind::Constant { rate, duration: d });
                kinds.push(StageKind::Ramp {
                    from: 0.0,
                    to: rate,
                    duration: d,
                });
                kinds.push(StageKind::Ramp {
                    from: rate,
                    to: rate / 2.0,
                    duration: d,
                });
                kinds.push(StageKind::Steps {
                    from: rate / 4.0,
                    to: rate,
                    step: rate / 4.0,
                    hold: d,
                });
                kinds.push(StageKind::Steps {
                    from: rate / 3.0,
                    to: rate,
                    step: rate / 2.0,
                    hold: d,
                });
            }
        }
        let mut refused = 0;
        for kind in kinds {
            let planned = plan(kind.clone()).planned_requests();
            assert_eq!(
                kind.plans_no_request(),
                planned == Some(0),
                "{kind:?} plans {planned:?}"
            );
            refused += usize::from(kind.plans_no_request());
        }
        assert!(refused > 10, "both sides are tried");
    }
}
