//! `stampede run`: scenario → schedule → engine → results → verdict → reports.

use std::time::Duration;

use crate::cli::RunArgs;
use crate::engine::{self, EngineOptions, RunSpec};
use crate::error::Result;
use crate::located::flag_error;
use crate::pipeline::cloudwatch::{self as cw, Reading};
use crate::pipeline::preflight::{self as limits, shard_of_in_flight};
use crate::pipeline::{self, load, print_out, Known, Sink};
use crate::quotas::sources::Limits;
use crate::report::{check as check_report, live::LiveView};
use crate::results::store::{watch, Destination};
use crate::results::{self, ShardInfo};
use crate::scenario::shard::parse_start_at;
use crate::scenario::Shard;
use crate::transport::auth::Auth;
use crate::transport::open_files;
use crate::verdict::descriptors;
use crate::verdict::judge::Command;

pub fn run(args: &RunArgs) -> Result<i32> {
    let mut scenario = load::load_scenario(&args.load)?;
    let emulator = load::start_emulator(&mut scenario, &args.load)?;
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
    // A report on stdout keeps the preflight and the summary off it, as --quiet does.
    let sink = Sink::prove(
        Command::Run,
        args.out.as_deref(),
        shard.map(|s| s.0),
        "results.json",
        &args.reports,
        args.quiet,
    )?;
    let quiet = sink.quiet;
    let threads = load::engine_threads(args.threads)?;
    let traffic = load::traffic(&args.traffic)?;
    let tls = &traffic.tls;
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
        traffic.max_in_flight,
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
        max_in_flight: traffic.max_in_flight,
        max_rate: None,
        grace: traffic.grace,
        abort: scenario.abort.clone(),
        start_at,
        // Shards of one test (one store, one start instant) stop together.
        shared_stop: match (
            sink.destination().and_then(Destination::store),
            shard,
            start_at,
        ) {
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
        (Some(_), Some(at)) => clock_offset(&scenario, tls, &auth, at),
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
        tls,
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
    // This shard's own abort: make sure the others see it even when the run ended before
    // the watcher wrote the marker.
    if let (Some(trip), Some(store), Some((s, _)), Some(at)) = (
        aborted.as_ref().filter(|t| t.by_shard.is_none()),
        sink.destination().and_then(Destination::store),
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
    pipeline::complete(
        &mut results,
        Known {
            scenario: &scenario,
            limits: &limits,
            preflight: Some(preflight),
            emulator: emulator.as_ref(),
            run_id: Some(run_id),
            shard: shard_info,
            aborted,
            open_files_limit: Some(open_files.soft),
            insecure: traffic.insecure,
        },
    );
    let mut not_written = sink.write(&results);
    sink.summary(&results);
    if let Some(reading) = cloudwatch.filter(|_| !results.interrupted) {
        let read = cw::read(&results, &reading, quiet);
        if !quiet {
            print_out(&crate::report::cloudwatch::render(&read));
        }
        results.cloudwatch = Some(read);
        not_written |= sink.write(&results);
    }
    drop(emulator);
    Ok(sink.conclude(&results, not_written))
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
) -> Result<Option<Reading>> {
    use crate::quotas::Front;
    let wait = crate::located::duration_flag("--cloudwatch-wait", &args.cloudwatch_wait, true)?;
    let period = args
        .cloudwatch_period
        .as_deref()
        .map(|p| cw::period_flag("--cloudwatch-period", p))
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
    let names = pipeline::aws_target(limits).unwrap_or_default();
    let in_process = emulator.zip(scenario.emulator.as_ref());
    Ok(Some(Reading {
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
        url_region: cw::url_region(&scenario.target.url.to_string()),
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
