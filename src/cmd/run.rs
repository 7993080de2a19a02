//! `stampede run`: scenario → schedule → engine → results → verdict → reports.

use std::time::Duration;

use super::limits;
use super::load;
use super::plan::shard_of_in_flight;
use super::reports;
use crate::cli::RunArgs;
use crate::engine::{self, EngineOptions, RunSpec};
use crate::error::{exit, Error, Result};
use crate::located::flag_error;
use crate::quotas::sources::Limits;
use crate::report::{check as check_report, live::LiveView, summary};
use crate::results::{self, ShardInfo};
use crate::scenario::shard::parse_start_at;
use crate::scenario::Shard;
use crate::store::{watch, Destination};
use crate::transport::auth::Auth;
use crate::transport::open_files;
use crate::verdict::descriptors;
use crate::verdict::quota_check::{self, LambdaCounted, RunSeen};

pub fn run(args: &RunArgs) -> Result<i32> {
    let mut scenario = load::load_scenario(&args.load)?;
    let emulator = load::start_emulator(&mut scenario, &args.load)?;
    let grace = crate::located::duration_flag("--grace", &args.grace, true)?;
    let shard = load::shard(&args.load)?;
    let start_at = match &args.start_at {
        Some(text) => Some(parse_start_at(text).map_err(|why| {
            flag_error(
                "--start-at",
                &why,
                "such as 2026-11-27T21:00:00Z, 2026-11-27T22:00:00+01:00 or 1795813200",
            )
        })?),
        None => None,
    };
    let out = match &args.out {
        Some(out) => {
            let out = Destination::from_flag(out, shard.map(|s| s.0), "results.json")?;
            out.prepare()?;
            Some(out)
        }
        None => None,
    };
    reports::check(&args.reports)?;
    // A report on stdout keeps the preflight and the summary off it, as --quiet does.
    let quiet = args.quiet || reports::uses_stdout(&args.reports);
    let threads = load::engine_threads(args.threads)?;
    if args.max_in_flight == 0 {
        return Err(Error::input(
            "--max-in-flight: 0\n  expected: a whole number ≥ 1",
        ));
    }
    let mut tls = crate::transport::tls_config_with(args.ca_cert.as_deref())?;
    if args.insecure {
        tls = crate::transport::insecure(tls);
        eprintln!("warning: --insecure: TLS certificates are not checked");
    }
    let auth = match (&emulator, &scenario.target.lambda) {
        // The in-process emulator checks no signature: it never sees the user's keys.
        (Some(_), Some(l)) => Auth::placeholder("lambda", &l.region),
        _ => Auth::for_target(&scenario.target)?,
    };
    let (limits, plans, mut preflight) =
        limits::preflight(&scenario, &args.load, emulator.as_ref())?;
    let cloudwatch =
        cloudwatch_reading(args, &scenario, &limits, emulator.as_ref(), shard.is_some())?;
    let open_files = open_files::raise_to_hard();
    if let Some(why) = &open_files.raise_failed {
        preflight.warnings.push(format!(
            "could not raise the open-files limit from {} to {}: {why}",
            open_files.soft, open_files.hard
        ));
    }
    let whole = descriptors::planned_in_flight(
        &scenario.stages,
        &plans,
        Duration::from_secs_f64(preflight.expect_latency_ms / 1000.0),
        &preflight.latency_basis,
        args.max_in_flight,
    );
    // A shard's machine holds its share of what is in flight.
    let in_flight = descriptors::InFlight {
        requests: shard_of_in_flight(whole.requests, shard),
        ..whole
    };
    preflight.warnings.extend(descriptors::warning(
        &in_flight,
        open_files.soft,
        open_files.hard,
        scenario.target.timeout,
    ));
    if quiet {
        eprint!("{}", check_report::preflight_warnings(&preflight));
    } else {
        print_out(&check_report::preflight(&preflight, &limits.quotas));
    }

    let names: Vec<String> = scenario.stages.iter().map(|s| s.name.clone()).collect();
    let opts = EngineOptions {
        threads,
        max_in_flight: args.max_in_flight,
        max_rate: None,
        grace,
        abort: scenario.abort.clone(),
        start_at,
        // Shards of one test (one store, one start instant) stop together.
        shared_stop: match (out.as_ref().and_then(Destination::store), shard, start_at) {
            (Some(store), Some((s, _)), Some(at)) => Some(watch::shared_stop(
                store.clone(),
                humantime::format_rfc3339_millis(at).to_string(),
                s.index,
            )),
            _ => None,
        },
    };
    if let Some((s, source)) = shard {
        eprintln!(
            "shard {s} (from {}): request, worker and burst member number k of every stage where k mod {} = {}",
            source.describe(),
            s.count,
            s.index
        );
    }
    if let Some(at) = start_at {
        eprintln!("{}", start_line(at));
    }
    let live = LiveView::start(names, &plans, args.quiet);
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
    // Shards start on one wall-clock instant: how far is this machine's clock from the
    // target's? Asked in the wait before the start, when there is time.
    let clock = match (shard, start_at) {
        (Some(_), Some(at)) => clock_offset(&scenario, &tls, &auth, at),
        _ => None,
    };
    // Random even with a seed: ids must differ between runs to be found in logs.
    let run_id = fastrand::u32(..);
    let spec = RunSpec {
        retry: scenario.retry.clone(),
        request: scenario.request.clone(),
        seed: scenario.seed,
        run_id,
        stage_names: scenario.stages.iter().map(|s| s.name.clone()).collect(),
        shard: shard.map_or(Shard::WHOLE, |s| s.0),
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
    let shard_info = shard.map(|(s, source)| ShardInfo {
        index: s.index,
        count: s.count,
        source: source.describe().to_string(),
        start_at: start_at.map(|at| humantime::format_rfc3339_millis(at).to_string()),
        late_s: record.late.as_secs_f64(),
        skipped_requests: record.skipped,
        clock_offset_ms: clock.map(|c| c.offset_ms),
        clock_within_ms: clock.map(|c| c.within_ms),
    });
    if !record.late.is_zero() && start_at.is_some() {
        eprintln!(
            "warning: began {:.3} s after --start-at: {} requests due before then were skipped, not sent late",
            record.late.as_secs_f64(),
            record.skipped
        );
    }
    let mut results = results::assemble(&scenario, &plans, record);
    results.run_id = Some(format!("{run_id:08x}"));
    results.shard = shard_info;
    // This shard's own abort: make sure the others see it even when the run ended before
    // the watcher wrote the marker.
    if let (Some(trip), Some(store), Some((s, _)), Some(at)) = (
        aborted.as_ref().filter(|t| t.by_shard.is_none()),
        out.as_ref().and_then(Destination::store),
        shard,
        start_at,
    ) {
        watch::publish_marker(
            store,
            &humantime::format_rfc3339_millis(at).to_string(),
            s.index,
            trip.clone(),
        );
    }
    results.aborted = aborted;
    results.open_files_limit = Some(open_files.soft);
    results.insecure = args.insecure;
    // The emulator's counts first: the quota check prefers them to its own estimates.
    results.emulator = emulator
        .as_ref()
        .map(|e| results::emulator_stats(e.stats()));
    results.quota_check = quota_check::check(
        &limits.quotas,
        &run_seen(&results, &limits),
        Some(preflight),
    );
    if let Some(l) = results.lambda.as_mut() {
        let (arch, source) =
            results::lambda::architecture_of(scenario.aws.as_ref(), &limits.quotas);
        let prices = scenario.aws.as_ref().map(|a| a.prices).unwrap_or_default();
        l.price(arch, &source, &prices);
    }
    results.aws = aws_target(&limits);
    // Written before anything else can go wrong: the results are never lost.
    let mut not_written = write_results(out.as_ref(), &results);
    if !quiet {
        print_out(&summary::render(&results));
    }
    if let Some(reading) = cloudwatch.filter(|_| !results.interrupted) {
        let cw = super::cloudwatch::read(&results, &reading, quiet);
        if !quiet {
            print_out(&crate::report::cloudwatch::render(&cw));
        }
        results.cloudwatch = Some(cw);
        not_written |= write_results(out.as_ref(), &results);
    }
    drop(emulator);
    // The reports after the results file, from the same results: a report that cannot be
    // written is exit 4, the results file stays.
    for why in reports::write(&args.reports, &results) {
        not_written = true;
        eprintln!("error: {why}");
    }
    let traffic = results.traffic_failures();
    for why in &traffic {
        eprintln!("{why}");
    }
    for fault in &results.faults {
        eprintln!("error: {fault}");
    }
    let failed: Vec<_> = results.thresholds.iter().filter(|t| !t.pass).collect();
    if quiet {
        eprint!(
            "{}",
            check_report::quiet(&results.thresholds, &results.quota_check)
        );
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
    } else if results.shard.is_some() && results.short_of_plan().is_none() {
        // A shard's share is not the test: its thresholds and quota check are judged on the
        // merged whole (`stampede merge`). Failing here would fail a Kubernetes index or a
        // Batch child for what the merge decides. Its share not sent is its own failure.
        if !failed.is_empty() || !results.quota_check.pass || !traffic.is_empty() {
            eprintln!("shard: thresholds and the quota check are judged on the merged whole (stampede merge); this shard exits 0");
        }
        exit::OK
    } else if !failed.is_empty() || !results.quota_check.pass || !traffic.is_empty() {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

/// Writes the results to `--out`, or beside it when that fails; true when not written
/// where asked.
fn write_results(out: Option<&Destination>, results: &results::Results) -> bool {
    let Some(out) = out else { return false };
    let Err(why) = out.write(results) else {
        return false;
    };
    match results::file::write_fallback(&out.fallback_path(), results) {
        Ok(at) => eprintln!(
            "error: cannot write results to {}: {why}\n  the results are in {} instead",
            out.describe(),
            at.display()
        ),
        Err(also) => eprintln!(
            "error: cannot write results to {}: {why}; nor beside it: {also}",
            out.describe()
        ),
    }
    true
}

/// The AWS names the run was aimed at, as far as they are known.
pub(super) fn aws_target(limits: &Limits) -> Option<results::AwsTarget> {
    let a = &limits.aws;
    let t = results::AwsTarget {
        region: a.region.clone().or_else(|| limits.quotas.region.clone()),
        function: a.function.clone(),
        qualifier: a.qualifier.clone(),
        api_id: a.rest_api_id.clone(),
        stage: a.stage.clone(),
    };
    (t != results::AwsTarget::default()).then_some(t)
}

/// Whether and how to read CloudWatch after the run: on by default for a target on AWS
/// and for the in-process emulator (whose control plane answers), off for a shard (the
/// server counts every shard's traffic: read it for the merged whole).
fn cloudwatch_reading(
    args: &RunArgs,
    scenario: &crate::scenario::Scenario,
    limits: &Limits,
    emulator: Option<&crate::emulator::RunningEmulator>,
    is_shard: bool,
) -> Result<Option<super::cloudwatch::Reading>> {
    use crate::quotas::Front;
    let wait = crate::located::duration_flag("--cloudwatch-wait", &args.cloudwatch_wait, true)?;
    let period = args
        .cloudwatch_period
        .as_deref()
        .map(|p| super::cloudwatch::period_flag("--cloudwatch-period", p))
        .transpose()?;
    let on_aws = scenario.aws.is_some() || limits.front != Front::Unknown;
    let wanted = if args.no_cloudwatch {
        false
    } else {
        args.cloudwatch || (!is_shard && (emulator.is_some() || on_aws))
    };
    if !wanted {
        return Ok(None);
    }
    let names = aws_target(limits).unwrap_or_default();
    let in_process = emulator.zip(scenario.emulator.as_ref());
    Ok(Some(super::cloudwatch::Reading {
        connect: crate::quotas::aws::QuotaQuery {
            region: names.region.clone(),
            endpoint_url: match in_process {
                Some((e, _)) => Some(format!("http://{}", e.addr)),
                None => limits.aws.endpoint_url.clone(),
            },
            placeholder_credentials: in_process.is_some(),
            ..Default::default()
        },
        period_s: period.unwrap_or(match in_process {
            Some((_, c)) => c.metrics_period.as_secs().max(1),
            None => 60,
        }),
        names,
        wait,
        url_region: super::cloudwatch::url_region(&scenario.target.url.to_string()),
    }))
}

/// Above this, a clock off from the target's is worth a warning: shards start that far apart.
const CLOCK_WARN_MS: f64 = 100.0;

/// The target's clock against ours (engine::clock), in at most 8 s and ending 1 s before
/// `start_at`; said on stderr, and warned about past [`CLOCK_WARN_MS`].
fn clock_offset(
    scenario: &crate::scenario::Scenario,
    tls: &rustls::ClientConfig,
    auth: &Auth,
    start_at: std::time::SystemTime,
) -> Option<engine::clock::ClockOffset> {
    use std::time::{Duration, Instant, SystemTime};
    let ahead = start_at.duration_since(SystemTime::now()).ok()?;
    let budget = ahead
        .checked_sub(Duration::from_secs(1))?
        .min(Duration::from_secs(8));
    if budget < Duration::from_millis(500) {
        return None;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    // Connections drive themselves on local tasks, as in the lanes.
    let local = tokio::task::LocalSet::new();
    let found = local.block_on(&runtime, async {
        let transport =
            crate::transport::Transport::new(&scenario.target, tls.clone(), auth.clone());
        engine::clock::probe(&transport, Instant::now() + budget).await
    });
    match found {
        Some(c) if c.offset_ms.abs() - c.within_ms > CLOCK_WARN_MS => eprintln!(
            "warning: this machine's clock is {:.0} ms {} the target's (± {:.0} ms): shards start that far apart; run NTP (chrony, the Amazon Time Sync Service)",
            c.offset_ms.abs(),
            if c.offset_ms > 0.0 { "behind" } else { "ahead of" },
            c.within_ms
        ),
        Some(c) => eprintln!(
            "clock: the target's is {:+.0} ms from this machine's (± {:.0} ms, {} requests)",
            c.offset_ms, c.within_ms, c.probes
        ),
        None => eprintln!("clock: the target's Date headers could not be read; offset unknown"),
    }
    found
}

/// "starting at T (in 12.3 s)", or how late it already is.
fn start_line(at: std::time::SystemTime) -> String {
    let when = humantime::format_rfc3339_millis(at);
    match at.duration_since(std::time::SystemTime::now()) {
        Ok(ahead) => format!("starting at {when} (in {:.1} s)", ahead.as_secs_f64()),
        Err(past) => format!(
            "starting at {when}: {:.1} s ago, so what was due before now is skipped",
            past.duration().as_secs_f64()
        ),
    }
}

/// What the quota check reads of a run: its timeline, peaks and bursts.
pub(super) fn run_seen<'r>(results: &'r results::Results, limits: &Limits) -> RunSeen<'r> {
    RunSeen {
        timeline: &results.timeline,
        peak_in_flight: results.peak_in_flight,
        bursts: results.bursts(),
        front: limits.front,
        function: limits.aws.function.clone(),
        qualifier: limits.aws.qualifier.clone(),
        rest_api_id: limits.aws.rest_api_id.clone(),
        stage: limits.aws.stage.clone(),
        api: limits.api,
        counted: counted(results),
    }
}

/// What Lambda counted in a run: cold starts in REPORT lines (when every answer had
/// one), the emulator's environments and peak concurrency.
pub(crate) fn counted(results: &results::Results) -> LambdaCounted {
    let reports = results.lambda.as_ref().map(|l| &l.seen);
    LambdaCounted {
        cold_starts_per_second: reports
            .is_some_and(|s| s.reports > 0 && s.reports >= s.invocations),
        environments_created: results.emulator.as_ref().map(|e| e.environments_created),
        peak_concurrency: results.emulator.as_ref().map(|e| e.peak_concurrency),
    }
}

/// Prints to stdout, shrugging off a closed pipe (`stampede run … | head`): the run goes
/// on and its results are written whoever stopped reading.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}
