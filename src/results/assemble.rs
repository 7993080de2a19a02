//! The results of a run, assembled from the engine's record: per stage and overall, with
//! the thresholds checked. (The quota check is added by the caller, which holds the limits.)

use std::time::Duration;

use super::{build, observed, Results, RunInput, StageInput, TargetInfo};
use crate::engine::RunRecord;
use crate::record::StageRecord;
use crate::scenario::Scenario;
use crate::schedule::StagePlan;
use crate::verdict::thresholds;

/// The results of `scenario` run as `plans`, from what the engine recorded.
pub fn assemble(scenario: &Scenario, plans: &[StagePlan], record: RunRecord) -> Results {
    let mut overall = StageRecord::new();
    for s in &record.stages {
        overall.merge(s);
    }
    let mut checked = thresholds::evaluate(&scenario.thresholds.overall, &observed(&overall), None);
    for (name, limits) in &scenario.thresholds.stages {
        if let Some(i) = scenario.stages.iter().position(|s| &s.name == name) {
            let observed = observed(&record.stages[i]);
            checked.extend(thresholds::evaluate(limits, &observed, Some(name)));
        }
    }
    let stages = scenario
        .stages
        .iter()
        .zip(plans)
        .zip(&record.stages)
        .map(|((stage, plan), rec)| StageInput {
            name: &stage.name,
            kind: stage.kind.label(),
            record: rec,
            planned_s: plan.duration().map(|d: Duration| d.as_secs_f64()),
            planned_requests: plan.planned_requests(),
        })
        .collect();
    build(RunInput {
        name: scenario.name.as_deref(),
        target: TargetInfo {
            url: scenario.target.display_url(),
            method: scenario.target.method.to_string(),
        },
        started_at: record.started_at,
        interrupted: record.interrupted,
        stages,
        overall: &overall,
        faults: record.faults,
        open_files_limit: None,
        failures: record.failures,
        timeline: record.timeline,
        thresholds: checked,
    })
}
