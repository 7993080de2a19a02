//! `stampede probe`: steps of rising load, each held after a settle period and judged
//! against the SLO, up then bisected to the knee (probe::drive, probe::search); the knee
//! set against the quotas (probe::knee); one results file with a stage per step and the
//! `probe` key, written, reported and judged as `run`'s are (pipeline::Sink).

use crate::cli::{ProbeArgs, ProbeBy};
use crate::error::Result;
use crate::located::flag_error;
use crate::pipeline::{self, load, preflight, Known, Sink};
use crate::probe::drive::{self, Knobs, DEFAULT_MAX_RATE};
use crate::probe::knee::By;
use crate::probe::search::default_slo;
use crate::report::check as check_report;
use crate::verdict::judge::Command;

pub fn probe(args: &ProbeArgs) -> Result<i32> {
    let traffic = load::traffic(&args.traffic)?;
    let knobs = knobs(args, &traffic)?;
    let mut scenario = load::load_target(&args.load)?;
    let emulator = load::start_emulator(&mut scenario, &args.load)?;
    let sink = Sink::prove(
        Command::Probe,
        args.out.as_deref(),
        None,
        "results.json",
        &args.reports,
        args.quiet,
    )?;
    let auth = load::auth(&scenario, emulator.as_ref())?;

    // The worst case, --max, planned against the quotas before anything is sent.
    scenario.stages = vec![knobs.stage("max", knobs.max, knobs.step)];
    let (limits, _, worst) = preflight::preflight(&scenario, &args.load, emulator.as_ref())?;
    let (ceiling, capped_by) = knobs.ceiling(&limits, &worst, args.past_limits);
    if !args.quiet {
        eprint!("{}", check_report::preflight(&worst, &limits.quotas));
        if let Some(why) = &capped_by {
            eprintln!(
                "\nprobe: searching up to {ceiling} {} — {why}",
                knobs.by.unit()
            );
        }
    }

    let searched = drive::search(&scenario, &knobs, ceiling, &traffic.tls, &auth, args.quiet)?;
    let mut r = pipeline::probe::assemble(&scenario, searched.started_at, &searched.steps)?;
    pipeline::complete(
        &mut r,
        Known {
            scenario: &scenario,
            limits: &limits,
            preflight: Some(worst),
            emulator: emulator.as_ref(),
            run_id: None,
            shard: None,
            aborted: searched.aborted(),
            open_files_limit: None,
            insecure: traffic.insecure,
        },
    );
    r.probe = Some(drive::summarise(
        &knobs,
        &searched,
        &limits,
        (ceiling, capped_by),
    ));
    Ok(sink.deliver(&r))
}

/// What the flags ask, checked.
fn knobs(a: &ProbeArgs, traffic: &load::Traffic) -> Result<Knobs> {
    let by = match a.by {
        ProbeBy::Rate => By::Rate,
        ProbeBy::Concurrency => By::Concurrency,
    };
    let (from, max) = match by {
        By::Rate => (a.from.unwrap_or(10), a.max.unwrap_or(10_000)),
        By::Concurrency => (a.from.unwrap_or(1), a.max.unwrap_or(1_000)),
    };
    if from == 0 || max < from {
        return Err(flag_error(
            "--from/--max",
            &format!("from {from}, max {max}"),
            "1 ≤ --from ≤ --max",
        ));
    }
    let max_rate = a.max_rate.unwrap_or(match by {
        By::Rate => max,
        By::Concurrency => DEFAULT_MAX_RATE,
    });
    if max_rate == 0 || (by == By::Rate && max_rate < from) {
        return Err(flag_error(
            "--max-rate",
            &max_rate.to_string(),
            "at least 1 request per second, and by rate at least --from",
        ));
    }
    let (slo, slo_text) = match &a.slo {
        Some(slo) => (slo.bounds.clone(), slo.written.clone()),
        None => {
            let slo = default_slo();
            let text = slo
                .iter()
                .map(|t| format!("{}={}", t.metric.name(), t.text))
                .collect();
            (slo, text)
        }
    };
    Ok(Knobs {
        by,
        from,
        max,
        step: a.step,
        settle: a.settle,
        slo,
        slo_text,
        precision: a.precision.fraction(),
        budget: a.budget,
        max_requests: a.max_requests,
        max_rate,
        threads: load::engine_threads(a.threads)?,
        max_in_flight: traffic.max_in_flight,
        grace: traffic.grace,
    })
}
