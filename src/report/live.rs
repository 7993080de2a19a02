//! The live view while the run goes (stderr, only on a terminal): a bar of elapsed against
//! planned time, the stage (i of n) with its planned rate beside the rate achieved, and the
//! running counts — what k6 and oha users expect to watch.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::summary::ms;
use crate::engine::Snapshot;
use crate::schedule::StagePlan;

pub struct LiveView {
    bar: ProgressBar,
    stages: Vec<PlannedStage>,
}

/// A stage as the plan has it: its name, when it starts (s from the run's start, bursts
/// taken as instant) and the rate it plans.
struct PlannedStage {
    name: String,
    starts_s: f64,
    plan: StagePlan,
}

impl LiveView {
    /// `None` when stderr is not a terminal (CI logs stay clean) or the user asked for quiet.
    pub fn start(names: Vec<String>, plans: &[StagePlan], quiet: bool) -> Option<LiveView> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let mut at = 0.0;
        let stages: Vec<PlannedStage> = names
            .into_iter()
            .zip(plans)
            .map(|(name, plan)| {
                let stage = PlannedStage {
                    name,
                    starts_s: at,
                    plan: plan.clone(),
                };
                at += plan.duration().map_or(0.0, |d| d.as_secs_f64());
                stage
            })
            .collect();
        let planned_ms = (at * 1000.0).max(1.0) as u64;
        let bar = ProgressBar::new(planned_ms);
        bar.set_style(
            ProgressStyle::with_template("{bar:24} {msg}")
                .expect("static template is valid")
                .progress_chars("=> "),
        );
        Some(LiveView { bar, stages })
    }

    pub fn update(&self, s: &Snapshot) {
        let elapsed = s.elapsed.as_secs_f64();
        self.bar.set_position((elapsed * 1000.0) as u64);
        let n = self.stages.len();
        let (name, planned) = match self.stages.get(s.stage) {
            Some(st) => (st.name.as_str(), planned_rate(st, elapsed)),
            None => ("", String::from("-")),
        };
        let (sent, p99) = s
            .last_second
            .map_or((0, String::from("-")), |p| (p.sent, ms(p.p99_ms)));
        self.bar.set_message(format!(
            "{}{} / {} · stage {} of {n} `{name}` · planned {planned} · sent {sent}/s · {} in flight · ok {} · throttled {} · errors {} · p99 {p99}",
            if s.stopping { "stopping: " } else { "" },
            clock(s.elapsed),
            clock(Duration::from_millis(self.bar.length().unwrap_or(0))),
            s.stage + 1,
            s.in_flight,
            s.ok,
            s.throttled,
            s.errors,
        ));
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// What the stage plans now: a rate for open stages, workers or a burst size otherwise.
fn planned_rate(st: &PlannedStage, elapsed_s: f64) -> String {
    match &st.plan {
        StagePlan::Open(p) => format!("{:.0}/s", p.rate_at((elapsed_s - st.starts_s).max(0.0))),
        StagePlan::Burst { requests } => format!("{requests} at once"),
        StagePlan::Closed { workers, .. } => format!("{workers} workers"),
        StagePlan::Pause { .. } => "pause".into(),
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

    #[test]
    fn clocks_read_as_minutes_and_seconds() {
        assert_eq!(clock(Duration::from_secs(75)), "1:15");
        assert_eq!(clock(Duration::from_millis(900)), "0:00");
    }
}
