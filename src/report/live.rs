//! The live view while the run goes (stderr, only on a terminal): a bar of elapsed against
//! planned time, the stage (i of n), the last complete second's planned rate beside what
//! was sent in it, and the running counts — what k6 and oha users expect to watch.
//!
//! "sent" is known a second late (a second is complete when every lane has reported it),
//! so "planned" is the plan of that same second, not of now: set side by side, the two
//! agree when the schedule is kept, and a pause reads 0/s only once a second of it is in.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::summary::ms;
use crate::engine::Snapshot;
use crate::schedule::StagePlan;

pub struct LiveView {
    bar: ProgressBar,
    stages: Vec<PlannedStage>,
    /// When each stage was first seen running (s from the run's start): after a burst,
    /// which lasts as long as its answers take, the plan's start times are no longer right.
    seen_start_s: Mutex<Vec<Option<f64>>>,
}

/// A stage as the plan has it: its name, when it starts (s from the run's start, bursts
/// taken as instant) and the rate it plans.
struct PlannedStage {
    name: String,
    starts_s: f64,
    plan: StagePlan,
    /// Whether a burst comes before it (its planned start is then a guess).
    after_burst: bool,
}

impl LiveView {
    /// `None` when stderr is not a terminal (CI logs stay clean) or the user asked for quiet.
    pub fn start(names: Vec<String>, plans: &[StagePlan], quiet: bool) -> Option<LiveView> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let view = LiveView::new(names, plans, ProgressBar::new(0));
        view.bar.set_style(
            ProgressStyle::with_template("{bar:24} {msg}")
                .expect("static template is valid")
                .progress_chars("=> "),
        );
        Some(view)
    }

    /// The view on `bar`, its length the planned time.
    fn new(names: Vec<String>, plans: &[StagePlan], bar: ProgressBar) -> LiveView {
        let stages = planned_stages(names, plans);
        let at = stages.last().map_or(0.0, |s| {
            s.starts_s + s.plan.duration().map_or(0.0, |d| d.as_secs_f64())
        });
        bar.set_length((at * 1000.0).max(1.0) as u64);
        let seen_start_s = Mutex::new(vec![None; stages.len()]);
        LiveView {
            bar,
            stages,
            seen_start_s,
        }
    }

    pub fn update(&self, s: &Snapshot) {
        self.bar.set_position(s.elapsed.as_millis() as u64);
        self.bar.set_message(self.line(s));
    }

    /// The line beside the bar.
    fn line(&self, s: &Snapshot) -> String {
        let elapsed = s.elapsed.as_secs_f64();
        let n = self.stages.len();
        let name = self.stages.get(s.stage).map_or("", |st| st.name.as_str());
        let starts = {
            let mut seen = self.seen_start_s.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(first) = seen.get_mut(s.stage) {
                first.get_or_insert(elapsed);
            }
            start_times(&self.stages, &seen)
        };
        let second = match s.last_second {
            Some(p) => format!(
                "{}: planned {}, sent {}/s, p99 {}",
                clock(Duration::from_secs(p.t_s)),
                planned_in(&self.stages, &starts, p.t_s as f64 + 0.5),
                p.sent,
                ms(p.p99_ms)
            ),
            None => "first second under way".into(),
        };
        format!(
            "{}{} / {} · stage {} of {n} `{name}` · {second} · {} in flight · ok {} · throttled {} · errors {}",
            if s.stopping { "stopping: " } else { "" },
            clock(s.elapsed),
            clock(Duration::from_millis(self.bar.length().unwrap_or(0))),
            s.stage + 1,
            s.in_flight,
            s.ok,
            s.throttled,
            s.errors,
        )
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// The stages laid end to end as planned (bursts taken as instant).
fn planned_stages(names: Vec<String>, plans: &[StagePlan]) -> Vec<PlannedStage> {
    let mut at = 0.0;
    let mut after_burst = false;
    names
        .into_iter()
        .zip(plans)
        .map(|(name, plan)| {
            let stage = PlannedStage {
                name,
                starts_s: at,
                plan: plan.clone(),
                after_burst,
            };
            at += plan.duration().map_or(0.0, |d| d.as_secs_f64());
            after_burst |= matches!(plan, StagePlan::Burst { .. });
            stage
        })
        .collect()
}

/// When each stage started: as planned until a burst has come (exact), then as seen
/// (within a refresh of the view); `None` for one not begun.
fn start_times(stages: &[PlannedStage], seen: &[Option<f64>]) -> Vec<Option<f64>> {
    stages
        .iter()
        .zip(seen)
        .map(|(st, seen)| match seen {
            Some(at) if st.after_burst => Some(*at),
            Some(_) => Some(st.starts_s),
            None => None,
        })
        .collect()
}

/// What the plan had at `t_s` (s from the run's start): the rate of an open stage, the
/// workers of a closed one, a burst's size, 0/s in a pause.
fn planned_in(stages: &[PlannedStage], starts: &[Option<f64>], t_s: f64) -> String {
    let Some((st, start)) = stages
        .iter()
        .zip(starts)
        .filter_map(|(st, at)| at.map(|at| (st, at)))
        .rfind(|(_, at)| *at <= t_s)
    else {
        return "-".into();
    };
    match &st.plan {
        StagePlan::Open(p) => format!("{:.0}/s", p.rate_at((t_s - start).max(0.0))),
        StagePlan::Burst { requests } => format!("a burst of {requests}"),
        StagePlan::Closed { workers, .. } => format!("{workers} workers"),
        StagePlan::Pause { .. } => "0/s".into(),
    }
}

/// `m:ss`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::record::TimelinePoint;
    use crate::scenario::{Stage, StageKind};

    fn view(kinds: Vec<StageKind>) -> LiveView {
        let stages: Vec<Stage> = kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Stage {
                name: format!("s{i}"),
                kind,
            })
            .collect();
        let plans: Vec<StagePlan> = stages.iter().map(StagePlan::for_stage).collect();
        let names = stages.into_iter().map(|s| s.name).collect();
        LiveView::new(names, &plans, ProgressBar::hidden())
    }

    fn at(view: &LiveView, elapsed_ms: u64, stage: usize, second: Option<(u64, u64)>) -> String {
        let point = second.map(|(t_s, sent)| TimelinePoint {
            t_s,
            sent,
            ..Default::default()
        });
        view.line(&Snapshot {
            stage,
            elapsed: Duration::from_millis(elapsed_ms),
            in_flight: 0,
            last_second: point.as_ref(),
            ok: 0,
            throttled: 0,
            errors: 0,
            stopping: false,
        })
    }

    /// "sent" is the last complete second's: "planned" is that second's plan, not now's. A
    /// ramp down to 1/s and a pause: 0.3 s into the pause, second 9 (1 sent) is set beside
    /// the ramp's 1/s, not beside the pause; once second 10 is in, both read 0/s.
    #[test]
    fn sent_is_set_beside_the_plan_of_its_own_second() {
        let v = view(vec![
            StageKind::Ramp {
                from: 19.0,
                to: 1.0,
                duration: Duration::from_secs(10),
            },
            StageKind::Pause {
                duration: Duration::from_secs(5),
            },
        ]);
        let line = at(&v, 5_300, 0, Some((4, 10)));
        assert!(line.contains("0:04: planned 11/s, sent 10/s"), "{line}");
        let line = at(&v, 10_300, 1, Some((9, 1)));
        assert!(line.contains("`s1`"), "{line}");
        assert!(line.contains("0:09: planned 2/s, sent 1/s"), "{line}");
        let line = at(&v, 11_300, 1, Some((10, 0)));
        assert!(line.contains("0:10: planned 0/s, sent 0/s"), "{line}");
        let line = at(&v, 300, 0, None);
        assert!(line.contains("first second under way"), "{line}");
    }

    /// After a burst, which lasts as long as its answers take, a stage starts when it is
    /// seen to, not when the plan (a burst taken as instant) would have it.
    #[test]
    fn after_a_burst_a_stage_starts_when_it_is_seen_to() {
        let v = view(vec![
            StageKind::Burst { requests: 50 },
            StageKind::Constant {
                rate: 40.0,
                duration: Duration::from_secs(5),
            },
        ]);
        let line = at(&v, 2_400, 0, Some((1, 0)));
        assert!(line.contains("0:01: planned a burst of 50"), "{line}");
        at(&v, 3_000, 1, Some((2, 0)));
        let line = at(&v, 4_100, 1, Some((3, 40)));
        assert!(line.contains("0:03: planned 40/s, sent 40/s"), "{line}");
        let line = at(&v, 4_100, 1, Some((2, 0)));
        assert!(line.contains("0:02: planned a burst of 50"), "{line}");
    }

    #[test]
    fn clocks_read_as_minutes_and_seconds() {
        assert_eq!(clock(Duration::from_secs(75)), "1:15");
        assert_eq!(clock(Duration::from_millis(900)), "0:00");
    }
}
