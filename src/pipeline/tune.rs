//! The tune's one results file: each size's run assembled alone (as `run` does), laid on
//! the wall clock where it ran (`merge::align`, as `probe` lays its steps), one stage per
//! size and scenario stage ("512 MB · hold"), and the run's `lambda` key over them all.

use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::record::StageRecord;
use crate::results::lambda::{lambda_results, lambda_seen};
use crate::results::merge::WallClock;
use crate::results::{self, Results, RunInput, StageInput};
use crate::scenario::Scenario;
use crate::schedule::StagePlan;
use crate::tune::run::SizeRun;

/// Results with no traffic yet, from `started_at`: what the journal is written in before
/// the first change.
pub fn empty(started_at: SystemTime) -> Results {
    results::build(RunInput {
        request_names: Vec::new(),
        name: None,
        target: results::TargetInfo::default(),
        started_at,
        interrupted: false,
        stages: Vec::new(),
        overall: &StageRecord::new(),
        faults: Vec::new(),
        open_files_limit: None,
        failures: Vec::new(),
        timeline: Vec::new(),
        seconds: Vec::new(),
        thresholds: Vec::new(),
    })
}

/// The sizes' runs as one results file (no run: the scenario's target, no traffic).
pub fn combine(scenario: &Scenario, started_at: SystemTime, runs: &[SizeRun]) -> Result<Results> {
    let alone: Vec<Results> = runs.iter().map(|r| r.alone.clone()).collect();
    let clock = match alone.is_empty() {
        true => WallClock {
            start: started_at,
            offsets: Vec::new(),
            timeline: Vec::new(),
            seconds: Vec::new(),
            per_second_exact: true,
            duration_s: 0.0,
        },
        false => results::merge::align(&alone, false)
            .map_err(|why| Error::internal(format!("the sizes' runs on one clock: {why:?}")))?,
    };
    let mut overall = StageRecord::new();
    for rec in runs.iter().flat_map(|r| &r.records) {
        overall.merge(rec);
    }
    let stages: Vec<StageInput> = runs
        .iter()
        .flat_map(|r| r.stages.iter().zip(&r.records))
        .map(|(stage, record)| {
            let plan = StagePlan::for_stage(stage);
            StageInput {
                planned_by_request: None,
                name: &stage.name,
                kind: stage.kind.kind(),
                record,
                planned_s: plan.duration().map(|d| d.as_secs_f64()),
                planned_requests: plan.planned_requests(),
            }
        })
        .collect();
    let failures = runs
        .iter()
        .zip(&clock.offsets)
        .flat_map(|(r, offset)| {
            r.alone.failures.iter().cloned().map(move |mut f| {
                f.t_s += offset;
                f
            })
        })
        .collect();
    let mut r = results::build(RunInput {
        request_names: Vec::new(),
        name: scenario.name.as_deref(),
        target: results::target_info(&scenario.target, scenario.target.method.to_string()),
        started_at: clock.start,
        interrupted: runs.iter().any(|r| r.alone.interrupted),
        stages,
        overall: &overall,
        faults: runs.iter().flat_map(|r| r.alone.faults.clone()).collect(),
        open_files_limit: None,
        failures: crate::record::pick_samples(failures, crate::record::FAILURE_SAMPLES),
        timeline: clock.timeline,
        seconds: clock.seconds,
        thresholds: Vec::new(),
    });
    // Each run's stages from its own start: moved to where that run began.
    let offsets = runs
        .iter()
        .zip(&clock.offsets)
        .flat_map(|(run, offset)| run.alone.stages.iter().map(move |s| (s, *offset)));
    for (stage, (alone, offset)) in r.stages.iter_mut().zip(offsets) {
        stage.started_s = alone.started_s.map(|t| t + offset);
    }
    if let Some(target) = &scenario.target.lambda {
        let records = runs.iter().flat_map(|r| &r.records);
        for (stage, rec) in r.stages.iter_mut().zip(records) {
            stage.lambda = Some(lambda_seen(rec.lambda.as_deref(), &rec.counts));
        }
        let mut lambda = lambda_results(target, overall.lambda.as_deref(), &overall.counts);
        // Each size ran against its own version: the key names the function alone.
        lambda.qualifier = None;
        r.lambda = Some(lambda);
    }
    r.duration_s = clock.duration_s;
    Ok(r)
}
