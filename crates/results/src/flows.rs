//! `by_flow`: what each `[[flows]]` entry did, in the run and in each stage, keyed by the
//! flow's name; and its end-to-end latency histograms, so that merged runs stay exact.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Percentiles;

/// What one flow did, in a stage or the whole run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FlowResult {
    /// What the schedule planned (open and burst stages: its share of the flows started).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<u64>,
    /// Flows whose first step was sent.
    pub started: u64,
    /// Flows whose every step ended ok (and captured what it captures).
    pub completed: u64,
    /// Flows that ended at a step: not ok after its retries, or a capture found nothing.
    pub failed: u64,
    /// Flows started and never ended: in flight or thinking when the run stopped waiting.
    #[serde(default)]
    pub abandoned: u64,
    /// Failed flows by the step they ended at (its request's name), then by reason: the
    /// step's attempt class (`server_errors`, `throttled`, …) or `capture_missing`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed_by_step: BTreeMap<String, BTreeMap<String, u64>>,
    /// End-to-end latency of the completed flows: scheduled start → last step's answer,
    /// think time included.
    pub latency_ms: Percentiles,
    /// Flows completed or failed per second over the stage's span (the run's, at the run
    /// level).
    pub achieved_fps: f64,
}

/// One flow's latency histograms: over the run, and per stage it ran in.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct FlowHistograms {
    pub latency: String,
    /// Per stage, by stage name.
    #[serde(default)]
    pub stages: Vec<NamedFlowHistogram>,
}

/// A flow's latency histogram in one stage.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct NamedFlowHistogram {
    pub name: String,
    pub latency: String,
}

impl FlowResult {
    /// Flows that ended, completed or failed: the denominator of a rate.
    pub fn ended(&self) -> u64 {
        self.completed + self.failed
    }

    /// Failed / started (abandoned flows count as started, not failed).
    pub fn failure_rate(&self) -> f64 {
        if self.started == 0 {
            0.0
        } else {
            self.failed as f64 / self.started as f64
        }
    }

    /// Adds `from`'s counts (its percentiles and rate are recomputed by the caller).
    pub fn add(&mut self, from: &FlowResult) {
        self.planned = match (self.planned, from.planned) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.started += from.started;
        self.completed += from.completed;
        self.failed += from.failed;
        self.abandoned += from.abandoned;
        for (step, reasons) in &from.failed_by_step {
            let mine = self.failed_by_step.entry(step.clone()).or_default();
            for (reason, n) in reasons {
                *mine.entry(reason.clone()).or_default() += n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_by_step_and_reason() {
        let mut a = FlowResult {
            planned: Some(10),
            started: 10,
            completed: 8,
            failed: 2,
            ..FlowResult::default()
        };
        a.failed_by_step
            .entry("login".into())
            .or_default()
            .insert("server_errors".into(), 2);
        let mut b = a.clone();
        b.planned = None;
        b.failed_by_step
            .entry("get".into())
            .or_default()
            .insert("capture_missing".into(), 1);
        a.add(&b);
        assert_eq!(
            (a.planned, a.started, a.completed, a.failed),
            (Some(10), 20, 16, 4)
        );
        assert_eq!(a.failed_by_step["login"]["server_errors"], 4);
        assert_eq!(a.failed_by_step["get"]["capture_missing"], 1);
        assert_eq!(a.failure_rate(), 0.2);
        assert_eq!(a.ended(), 20);
    }
}
