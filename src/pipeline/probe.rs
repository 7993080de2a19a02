//! The probe's steps as one results file: each engine run assembled alone, on its own
//! clock, then laid on the wall clock where it ran by the merge's alignment
//! (`results::merge::align`, as shards are merged).

use std::time::SystemTime;

use crate::engine::RunRecord;
use crate::error::Result;
use crate::probe::drive::StepRun;
use crate::record::StageRecord;
use crate::results::{self, Results, RunInput, StageInput};
use crate::scenario::{Scenario, Stage};
use crate::schedule::StagePlan;

/// One engine run's stage, as the results need it.
fn input<'a>(stage: &'a Stage, rec: &'a RunRecord) -> StageInput<'a> {
    let plan = StagePlan::for_stage(stage);
    StageInput {
        planned_by_request: None,
        name: &stage.name,
        kind: stage.kind.kind(),
        record: &rec.stages[0],
        planned_s: plan.duration().map(|d| d.as_secs_f64()),
        planned_requests: plan.planned_requests(),
    }
}

/// The steps as one results file: a stage for each settle period and each held step, each
/// engine run laid on the wall clock where it ran (`merge::align`, as shards are merged),
/// so stages start when they began and the run lasts as long as the probe did.
pub fn assemble(scenario: &Scenario, started_at: SystemTime, steps: &[StepRun]) -> Result<Results> {
    let target = || results::target_info(&scenario.target, scenario.target.method.to_string());
    let runs: Vec<(&Stage, &RunRecord)> = steps
        .iter()
        .flat_map(|s| &s.runs)
        .map(|(st, r)| (st, r))
        .collect();
    // Each run alone, on its own clock.
    let alone: Vec<Results> = runs
        .iter()
        .map(|(stage, rec)| {
            results::build(RunInput {
                request_names: Vec::new(),
                name: None,
                target: target(),
                started_at: rec.started_at,
                interrupted: rec.interrupted,
                stages: vec![input(stage, rec)],
                overall: &rec.stages[0],
                faults: Vec::new(),
                open_files_limit: None,
                failures: Vec::new(),
                timeline: rec.timeline.clone(),
                seconds: rec.seconds.clone(),
                thresholds: Vec::new(),
            })
        })
        .collect();
    // No step ran (the budget held none): an empty run from the probe's start.
    let clock = super::one_clock(&alone, started_at, "the probe's steps")?;
    let mut overall = StageRecord::new();
    let (mut failures, mut faults) = (Vec::new(), Vec::new());
    for ((_, rec), offset) in runs.iter().zip(&clock.offsets) {
        overall.merge(&rec.stages[0]);
        failures.extend(rec.failures.iter().cloned().map(|mut f| {
            f.t_s += offset;
            f
        }));
        faults.extend(rec.faults.iter().cloned());
    }
    let mut r = results::build(RunInput {
        request_names: Vec::new(),
        name: scenario.name.as_deref(),
        target: target(),
        started_at: clock.start,
        interrupted: steps.iter().any(StepRun::interrupted),
        stages: runs.iter().map(|(stage, rec)| input(stage, rec)).collect(),
        overall: &overall,
        faults,
        open_files_limit: None,
        failures: crate::record::pick_samples(failures, crate::record::FAILURE_SAMPLES),
        timeline: clock.timeline,
        seconds: clock.seconds,
        thresholds: Vec::new(),
    });
    // Each run's stage from its own start: moved to where that run began.
    for ((stage, alone), offset) in r.stages.iter_mut().zip(&alone).zip(&clock.offsets) {
        stage.started_s = alone.stages[0].started_s.map(|t| t + offset);
    }
    r.duration_s = clock.duration_s;
    Ok(r)
}
