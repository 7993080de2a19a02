//! `stampede run`: scenario → schedule → engine → results → verdict → reports.

use crate::cli::RunArgs;
use crate::engine::{self, EngineOptions, RunSpec};
use crate::error::Result;
use crate::live::{metrics::About, Watch};
use crate::pipeline::cloudwatch::{self as cw, Reading};
use crate::pipeline::split::Split;
use crate::pipeline::{self, load, preflight, print_out, Known, Sink};
use crate::quotas::sources::Limits;
use crate::report::live::LiveView;
use crate::results;
use crate::scenario::Scenario;
use crate::schedule::StagePlan;
use crate::verdict::judge::Command;

pub fn run(args: &RunArgs) -> Result<i32> {
    let mut scenario = load::load_scenario(&args.load)?;
    let emulator = load::start_emulator(&mut scenario, &args.load)?;
    let split = Split::from_flags(&args.load, args.start_at)?;
    // A report on stdout keeps the preflight and the summary off it, as --quiet does.
    let sink = Sink::prove(
        Command::Run,
        args.out.as_deref(),
        split.shard.map(|s| s.0),
        "results.json",
        &args.reports,
        args.quiet,
    )?;
    let threads = load::engine_threads(args.threads)?;
    let traffic = load::traffic(&args.traffic)?;
    let auth = load::auth(&scenario, emulator.as_ref())?;
    let (limits, plans, preflight, open_files) = preflight::for_run(
        &scenario,
        &args.load,
        emulator.as_ref(),
        traffic.max_in_flight,
        split.shard,
    )?;
    let cloudwatch = cloudwatch_reading(args, &scenario, &limits, emulator.as_ref(), &split)?;
    preflight::print(&preflight, &limits, sink.quiet);
    if !sink.quiet {
        pipeline::print_out(&crate::report::check::mix(&scenario, &plans));
    }

    // Random even with a seed: ids must differ between runs to be found in logs.
    let run_id = fastrand::u32(..);
    let spec = RunSpec {
        retry: scenario.retry.clone(),
        request: scenario.request.clone(),
        seed: scenario.seed,
        run_id,
        stage_names: scenario.stages.iter().map(|s| s.name.clone()).collect(),
        shard: split.part(),
        mix: scenario.mix(),
        stage_think: scenario.stage_think.clone(),
    };
    let watch = watch(
        args,
        &scenario,
        &plans,
        &spec,
        threads,
        emulator.as_ref(),
        sink.quiet,
    )?;
    if let Some(watch) = &watch {
        watch.show_limits(&limits.quotas);
        if let Some(url) = watch.page_url().filter(|_| !args.quiet) {
            eprintln!("live page: {url}");
        }
    }
    let opts = EngineOptions {
        threads,
        max_in_flight: traffic.max_in_flight,
        max_rate: None,
        grace: traffic.grace,
        abort: scenario.abort.clone(),
        start_at: split.start_at,
        shared_stop: split.shared_stop(sink.destination()),
        live: watch.as_ref().map(Watch::live_run),
    };
    split.announce();
    let clock = split.clock(&scenario, &traffic.tls, &auth);
    let record = with_live_view(&scenario, &plans, args.quiet, |progress| {
        engine::run(
            &scenario.target,
            &traffic.tls,
            &auth,
            spec,
            plans.clone(),
            &opts,
            progress,
        )
    })?;

    let aborted = record.aborted.clone();
    split.publish_abort(sink.destination(), aborted.as_ref());
    let shard = split.info(&record, clock);
    let mut results = results::assemble(&scenario, &plans, record);
    pipeline::complete(
        &mut results,
        Known {
            scenario: &scenario,
            limits: &limits,
            preflight: Some(preflight),
            emulator: emulator.as_ref(),
            run_id: Some(run_id),
            shard,
            aborted,
            open_files_limit: Some(open_files.soft),
            insecure: traffic.insecure,
        },
    );
    let mut not_written = sink.write(&results);
    sink.summary(&results);
    if let Some(reading) = cloudwatch.filter(|_| !results.interrupted) {
        let read = cw::read(crate::aws::Aws::shared()?, &results, &reading, sink.quiet);
        if !sink.quiet {
            print_out(&crate::report::cloudwatch::render(&read));
        }
        results.cloudwatch = Some(read);
        not_written |= sink.write(&results);
    }
    if let Some(watch) = watch {
        watch.finish(&results);
    }
    drop(emulator);
    Ok(sink.conclude(&results, not_written))
}

/// What watches the run while it goes (`--metrics-listen`, `--live`, remote write), started
/// before the traffic, with what names the run in its series; the in-process emulator's own
/// series beside the client's.
fn watch(
    args: &RunArgs,
    scenario: &Scenario,
    plans: &[StagePlan],
    spec: &RunSpec,
    threads: usize,
    emulator: Option<&stampede_emulator::RunningEmulator>,
    quiet: bool,
) -> Result<Option<Watch>> {
    let about = about(scenario, plans, spec);
    let run_labels = about.run_labels();
    let watch = Watch::start(
        &args.live,
        about,
        (plans, spec.shard),
        (
            threads,
            (
                spec.mix.recorded_entries(),
                spec.mix.flows.as_ref().map_or(0, |f| f.entries.len()),
            ),
        ),
        crate::live::remote_write::Local {
            ca_cert: args.traffic.ca_cert.as_deref(),
            quiet,
        },
    )?;
    // The in-process emulator's own series, beside the client's.
    if let (Some(watch), Some(emulator)) = (&watch, emulator) {
        let stats = emulator.stats_reader();
        watch.include(Box::new(move || {
            crate::live::emulator_metrics::gather(&stats.stats(), &run_labels)
        }));
    }
    Ok(watch)
}

/// What names this run in its live metrics.
fn about(scenario: &Scenario, plans: &[StagePlan], spec: &RunSpec) -> About {
    let mix = &spec.mix;
    About {
        scenario: scenario
            .name
            .clone()
            .unwrap_or_else(|| results::scenario_id(scenario)),
        run_id: format!("{:08x}", spec.run_id),
        shard: if spec.shard.count > 1 {
            spec.shard.to_string()
        } else {
            String::new()
        },
        stages: spec.stage_names.clone(),
        requests: if mix.declared {
            mix.entries.iter().map(|e| e.name.clone()).collect()
        } else {
            Vec::new()
        },
        flows: mix.flows.as_ref().map_or(Vec::new(), |f| {
            f.entries.iter().map(|e| e.name.clone()).collect()
        }),
        planned_s: plans
            .iter()
            .filter_map(StagePlan::duration)
            .map(|d| d.as_secs_f64())
            .sum(),
    }
}

/// Runs `engine` with the live view on stderr (unless `quiet` or not a terminal) fed by
/// its progress, closed when it ends.
fn with_live_view<T>(
    scenario: &Scenario,
    plans: &[StagePlan],
    quiet: bool,
    engine: impl FnOnce(Option<&mut dyn FnMut(&engine::Snapshot)>) -> T,
) -> T {
    let names: Vec<String> = scenario.stages.iter().map(|s| s.name.clone()).collect();
    let live = LiveView::start(names, plans, quiet);
    let mut show = |s: &engine::Snapshot| {
        if let Some(l) = &live {
            l.update(s)
        }
    };
    let ended = engine(if live.is_some() {
        Some(&mut show)
    } else {
        None
    });
    if let Some(l) = live {
        l.finish();
    }
    ended
}

/// Whether and how to read CloudWatch after the run: on by default for a target on AWS
/// and for the in-process emulator (whose control plane answers), off for a shard (the
/// server counts every shard's traffic: read it for the merged whole).
fn cloudwatch_reading(
    args: &RunArgs,
    scenario: &Scenario,
    limits: &Limits,
    emulator: Option<&stampede_emulator::RunningEmulator>,
    split: &Split,
) -> Result<Option<Reading>> {
    let is_shard = split.shard.is_some();
    use crate::quotas::Front;
    let wait = args.cloudwatch_wait;
    let period = args.cloudwatch_period;
    let on_aws = scenario.aws.is_some() || limits.front != Front::Unknown;
    let wanted = if args.no_cloudwatch {
        false
    } else {
        args.cloudwatch || (!is_shard && (emulator.is_some() || on_aws))
    };
    if !wanted {
        return Ok(None);
    }
    let names = crate::aws::AwsNames {
        region: limits
            .aws
            .names
            .region
            .clone()
            .or_else(|| limits.quotas.region.clone()),
        ..limits.aws.names.clone()
    };
    let in_process = emulator.zip(scenario.emulator.as_ref());
    Ok(Some(Reading {
        endpoint: match in_process {
            Some((e, _)) => crate::aws::Endpoint::Emulator(format!("http://{}", e.addr)),
            None => crate::aws::Endpoint::given(limits.aws.endpoint_url.as_deref()),
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
