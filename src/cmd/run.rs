//! `stampede run`: scenario → schedule → engine → results → verdict → reports.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::limits::{self, Limits};
use super::load;
use crate::cli::RunArgs;
use crate::engine::{self, EngineOptions, RunSpec};
use crate::error::{exit, Error, Result};
use crate::record::StageRecord;
use crate::report::{check as check_report, live::LiveView, summary};
use crate::results::{self, RunInput, StageInput, TargetInfo};
use crate::scenario::AuthSpec;
use crate::scenario::Scenario;
use crate::schedule::StagePlan;
use crate::transport::auth::Auth;
use crate::transport::open_files;
use crate::verdict::descriptors;
use crate::verdict::quota_check::{self, RunSeen};
use crate::verdict::thresholds;

pub fn run(args: &RunArgs) -> Result<i32> {
    let mut scenario = load::load_scenario(&args.load)?;
    let emulator = load::start_emulator(&mut scenario, &args.load)?;
    let grace = humantime::parse_duration(args.grace.trim()).map_err(|_| {
        Error::input(format!(
            "--grace: bad duration `{}`\n  expected: a duration such as 5s",
            args.grace
        ))
    })?;
    if let Some(out) = &args.out {
        check_writable(out)?;
    }
    let threads = match args.threads {
        Some(0) => {
            return Err(Error::input(
                "--threads: 0 threads\n  expected: a whole number ≥ 1",
            ))
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    if args.max_in_flight == 0 {
        return Err(Error::input(
            "--max-in-flight: 0\n  expected: a whole number ≥ 1",
        ));
    }
    let tls = tls_config(args.ca_cert.as_deref())?;
    let auth = resolve_auth(&scenario)?;
    let (limits, plans, mut preflight) =
        limits::preflight(&scenario, &args.load, emulator.as_ref())?;
    let open_files = open_files::raise_to_hard();
    if let Some(why) = &open_files.raise_failed {
        preflight.warnings.push(format!(
            "could not raise the open-files limit from {} to {}: {why}",
            open_files.soft, open_files.hard
        ));
    }
    let (in_flight, basis) = descriptors::planned_in_flight(
        &scenario.stages,
        &plans,
        scenario.target.timeout,
        args.max_in_flight,
    );
    preflight.warnings.extend(descriptors::warning(
        in_flight,
        &basis,
        open_files.soft,
        open_files.hard,
    ));
    if args.quiet {
        eprint!("{}", check_report::preflight_warnings(&preflight));
    } else {
        print!("{}", check_report::preflight(&preflight, &limits.quotas));
    }

    let names: Vec<String> = scenario.stages.iter().map(|s| s.name.clone()).collect();
    let opts = EngineOptions {
        threads,
        max_in_flight: args.max_in_flight,
        grace,
        abort: scenario.abort.clone(),
    };
    let live = LiveView::start(names, args.quiet);
    let mut show = |s: &engine::Snapshot| {
        if let Some(l) = &live {
            l.update(s)
        }
    };
    let progress: Option<&mut dyn FnMut(&engine::Snapshot)> = if live.is_some() {
        Some(&mut show)
    } else {
        None
    };
    let spec = RunSpec {
        retry: scenario.retry.clone(),
        request: scenario.request.clone(),
        seed: scenario.seed,
        // Random even with a seed: ids must differ between runs to be found in logs.
        run_id: fastrand::u32(..),
        stage_names: scenario.stages.iter().map(|s| s.name.clone()).collect(),
    };
    let record = engine::run(
        &scenario.target,
        &tls,
        &auth,
        spec,
        plans.clone(),
        &opts,
        progress,
    )?;
    if let Some(l) = live {
        l.finish();
    }

    let aborted = record.aborted.clone();
    let mut results = to_results(&scenario, &plans, record);
    results.aborted = aborted;
    results.open_files_limit = Some(open_files.soft);
    results.quota_check = quota_check::check(
        &limits.quotas,
        &run_seen(&results, &limits),
        Some(preflight),
    );
    results.emulator = emulator.as_ref().map(|e| e.stats());
    drop(emulator);
    // Written before anything else can go wrong: the results are never lost.
    let mut not_written = false;
    if let Some(out) = &args.out {
        if let Err(why) = write_results(out, &results) {
            not_written = true;
            match write_fallback(out, &results) {
                Ok(at) => eprintln!(
                    "error: cannot write results to {}: {why}\n  the results are in {} instead",
                    out.display(),
                    at.display()
                ),
                Err(also) => eprintln!(
                    "error: cannot write results to {}: {why}; nor beside it: {also}",
                    out.display()
                ),
            }
        }
    }
    if !args.quiet {
        print!("{}", summary::render(&results));
    }
    let none_ok = nothing_succeeded(&results);
    if let Some(why) = &none_ok {
        eprintln!("{why}");
    }
    for fault in &results.faults {
        eprintln!("error: {fault}");
    }
    let failed: Vec<_> = results.thresholds.iter().filter(|t| !t.pass).collect();
    if args.quiet {
        for t in &failed {
            eprintln!(
                "threshold failed: {} ≤ {} (observed {:.3})",
                t.name, t.limit, t.observed
            );
        }
        if !results.quota_check.pass {
            eprint!("{}", check_report::findings(&results.quota_check));
        }
    }
    if let Some(trip) = &results.aborted {
        eprintln!("{}", trip.describe());
    }
    Ok(if !results.faults.is_empty() || not_written {
        exit::INTERNAL
    } else if results.interrupted {
        exit::INTERRUPTED
    } else if results.aborted.is_some() {
        exit::ABORTED
    } else if !failed.is_empty() || !results.quota_check.pass || none_ok.is_some() {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

/// What the quota check reads of a run: its timeline, peaks and bursts.
fn run_seen<'r>(results: &'r results::Results, limits: &Limits) -> RunSeen<'r> {
    RunSeen {
        timeline: &results.timeline,
        peak_in_flight: results.peak_in_flight,
        bursts: results
            .stages
            .iter()
            .filter(|s| s.kind == "burst")
            .filter_map(|s| {
                let started = s.started_s?;
                Some((s.name.clone(), s.planned_requests?, started.max(0.0) as u64))
            })
            .collect(),
        front: limits.front,
        function: limits.aws.function.clone(),
        qualifier: limits.aws.qualifier.clone(),
        rest_api_id: limits.aws.rest_api_id.clone(),
        stage: limits.aws.stage.clone(),
    }
}

fn to_results(
    scenario: &Scenario,
    plans: &[StagePlan],
    record: engine::RunRecord,
) -> results::Results {
    let mut overall = StageRecord::new();
    for s in &record.stages {
        overall.merge(s);
    }
    let mut checked = thresholds::evaluate(
        &scenario.thresholds.overall,
        &results::observed(&overall),
        None,
    );
    for (name, limits) in &scenario.thresholds.stages {
        if let Some(i) = scenario.stages.iter().position(|s| &s.name == name) {
            let observed = results::observed(&record.stages[i]);
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
    results::build(RunInput {
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

fn tls_config(ca_cert: Option<&Path>) -> Result<rustls::ClientConfig> {
    let pem = match ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            Error::input(format!("--ca-cert {}: cannot read it: {e}", path.display()))
        })?),
        None => None,
    };
    crate::transport::tls_config(pem.as_deref()).map_err(|why| {
        let name = ca_cert.map_or(String::new(), |p| p.display().to_string());
        Error::input(format!(
            "--ca-cert {name}: {why}
  expected: a PEM file of CA certificates"
        ))
    })
}

/// Reads the secrets `[target.auth]` names: from the environment, or for SigV4 from the
/// standard AWS chain. A missing secret is bad input, named but never shown.
fn resolve_auth(scenario: &Scenario) -> Result<Auth> {
    let target = &scenario.target;
    let resolved = match &target.auth {
        AuthSpec::SigV4 { service, region } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::internal(format!("cannot start the runtime: {e}")))?
            .block_on(Auth::resolve_sigv4(service, region.as_deref(), &target.url)),
        spec => Auth::resolve(spec, |name| std::env::var(name).ok()),
    };
    resolved.map_err(|why| {
        Error::input(format!(
            "[target.auth]: {why}\n  expected: the secret in the environment (or, for sigv4, the AWS credential chain)"
        ))
    })
}

/// Fails before any traffic if the results could not be written afterwards: creates and
/// removes a file beside `out`, as the final write will.
fn check_writable(out: &Path) -> Result<()> {
    let bad = |why: String| {
        Error::input(format!(
            "--out {}: {why}\n  expected: a file path in a directory stampede may write to",
            out.display()
        ))
    };
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(bad(format!("directory {} does not exist", dir.display())));
    }
    if out.is_dir() {
        return Err(bad("is a directory".into()));
    }
    let probe = partial_path(out);
    std::fs::write(&probe, b"")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| bad(format!("cannot write there: {e}")))
}

/// Where the results are written before being renamed into place.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

fn write_results(out: &Path, results: &results::Results) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(results).map_err(std::io::Error::other)?;
    // Write beside, then rename: a reader never sees half a file.
    let tmp = partial_path(out);
    std::fs::write(&tmp, json).and_then(|_| std::fs::rename(&tmp, out))
}

/// When `--out` could not be written after all: the working directory, else the temp
/// directory. Returns where the results went.
fn write_fallback(out: &Path, results: &results::Results) -> std::io::Result<PathBuf> {
    let stamp = results.started_at.replace([':', '.'], "-");
    let name = format!("stampede-results-{stamp}.json");
    let mut last = None;
    for dir in [PathBuf::from("."), std::env::temp_dir()] {
        let at = dir.join(&name);
        if at == out {
            continue;
        }
        match write_results(&at, results) {
            Ok(()) => return Ok(std::fs::canonicalize(&at).unwrap_or(at)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no place to write")))
}

/// "No request succeeded", with what the attempts ended in, when not one logical request
/// ended ok (a dead endpoint must not pass a CI gate without thresholds).
fn nothing_succeeded(r: &results::Results) -> Option<String> {
    let t = &r.totals;
    if t.ok > 0 || (t.requests + t.abandoned == 0 && r.attempts.sent == 0) {
        return None;
    }
    let a = &r.attempts;
    Some(format!(
        "no request succeeded: {} requests, {} attempts ({})",
        t.requests + t.abandoned,
        a.sent,
        a.describe(", ")
    ))
}
