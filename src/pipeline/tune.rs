//! The tune's one results file: each size's run assembled alone (as `run` does), laid on
//! the wall clock where it ran (`merge::align`, as `probe` lays its steps), one stage per
//! size and scenario stage ("512 MB · hold"), and the run's `lambda` key over them all;
//! the journal written into it, and `--restore`'s repair from one.

use std::path::Path;
use std::time::SystemTime;

use crate::aws::{Aws, Endpoint};
use crate::error::{exit, Error, Result};
use crate::record::StageRecord;
use crate::results::lambda::{lambda_results, lambda_seen};
use crate::results::{self, Results, RunInput, StageInput};
use crate::scenario::Scenario;
use crate::schedule::StagePlan;
use crate::store::Destination;
use crate::tune::control::Control;
use crate::tune::restore::{self, Keep};
use crate::tune::run::{SizeRun, Stopped};
use stampede_results::tune::Tune;

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
    let clock = super::one_clock(&alone, started_at, "the sizes' runs")?;
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

/// The results so far with the journal in them, where --out names: before a change is
/// made, so a tune that dies leaves what `--restore` reads.
pub fn write_journal(out: &Destination, started_at: SystemTime, tune: &Tune) -> Result<()> {
    let mut results = empty(started_at);
    results.tune = Some(tune.clone());
    out.write(&results).map_err(|why| {
        Error::internal(format!(
            "cannot write the journal to {}: {why}",
            out.describe()
        ))
    })
}

/// The tune's part of its results: how it ended (interrupted; a tune that stopped on a
/// failure, or a function not put back, is a fault, which the one verdict makes exit 4 and
/// says why, as for any run) and the `tune` key.
pub fn settle(results: &mut Results, tune: Tune, stopped: Option<&Stopped>, put_back: bool) {
    results.interrupted |= stopped == Some(&Stopped::Interrupted);
    if let Some(Stopped::Failed(why)) = stopped {
        results.faults.push(format!("the tune stopped: {why}"));
    }
    if !put_back {
        results.faults.push(
            "the function was not put back as found (tune.restored.problems; `stampede tune --restore` repairs it)"
                .to_string(),
        );
    }
    // Advice on provisioned concurrency is for one function configuration under one load;
    // a tune's stages ran at several memories, each a fresh version.
    if let Some(l) = results.lambda.as_mut() {
        l.provisioned_advice = None;
    }
    results.tune = Some(tune);
}

/// What the restore could not do (always said), and what it did (unless `quiet`).
pub fn say_restored(tune: &Tune, quiet: bool) {
    let Some(r) = &tune.restored else {
        return;
    };
    for problem in &r.problems {
        eprintln!("error: tune: {problem}");
    }
    if !quiet {
        eprintln!(
            "tune: restored — memory {} MB {}; versions deleted: [{}]; kept: [{}]",
            tune.original.memory,
            if r.memory_restored {
                "back"
            } else {
                "NOT back"
            },
            r.deleted.join(", "),
            r.kept.join(", ")
        );
    }
}

/// `tune --restore FILE`: the function put back from the journal in FILE (the control
/// plane at `endpoint_url`, in `region`, when given), and FILE written again with
/// `tune.restored`. Exit 0 when all went back, 4 when not.
pub fn repair(
    path: &Path,
    endpoint_url: Option<&str>,
    region: Option<&str>,
    quiet: bool,
) -> Result<i32> {
    let mut results = stampede_results::file::read(path)?;
    let Some(mut tune) = results.tune.take() else {
        return Err(Error::input(format!(
            "{}: no tune journal in it\n  expected: the results file of a `stampede tune` (its `tune.original`)",
            path.display()
        )));
    };
    let at = Endpoint::given(endpoint_url);
    let region = region.map(str::to_string).or(tune.original.region.clone());
    let control = Control::new(
        Aws::shared()?,
        &tune.original.function,
        region.as_deref(),
        &at,
    )
    .map_err(|why| Error::input(format!("the function's control plane: {why}")))?;
    let restored = restore::restore(&control, &tune.original, Keep::None, true);
    let put_back = restore::complete(&restored);
    tune.restored = Some(restored);
    say_restored(&tune, quiet);
    results.tune = Some(tune);
    let out = Destination::File(path.to_path_buf());
    if let Err(why) = out.write(&results) {
        eprintln!("error: cannot write {}: {why}", path.display());
        return Ok(exit::INTERNAL);
    }
    Ok(if put_back { exit::OK } else { exit::INTERNAL })
}
