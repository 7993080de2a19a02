//! `stampede probe`: steps of rising load, each held after a settle period and judged
//! against the SLO, up then bisected to the knee (probe::search); the knee set against the
//! quotas (probe::knee); one results file with a stage per step and the `probe` key.

use std::time::{Duration, Instant, SystemTime};

use super::{limits, load, reports};
use crate::cli::{ProbeArgs, ProbeBy};
use crate::engine::{self, EngineOptions, RunRecord, RunSpec};
use crate::error::{exit, Error, Result};
use crate::located::{duration_flag, flag_error};
use crate::probe::knee::{attribute, By, KneeSeen};
use crate::probe::search::{default_slo, judge, Ended, Next, Search, StepVerdict};
use crate::probe::{ProbeResults, ProbeStep, ProbeVerdict};
use crate::quotas::sources::Limits;
use crate::record::StageRecord;
use crate::report::check as check_report;
use crate::results::merge::WallClock;
use crate::results::{self, Results, RunInput, StageInput, TargetInfo};
use crate::scenario::{Metric, Scenario, Shard, Stage, StageKind, Threshold};
use crate::schedule::StagePlan;
use crate::transport::auth::Auth;
use crate::verdict::preflight;

/// A knee this far below the first limit the preflight names still gets a look past it.
const PAST_LIMIT: f64 = 1.25;
/// `--max-rate` by concurrency: a tenth of API Gateway's default account rate (10,000 req/s,
/// shared by every API of the account in the region), so a probe past a limit that answers
/// throttles fast cannot flood it.
const DEFAULT_MAX_RATE: u64 = 1_000;

pub fn probe(args: &ProbeArgs) -> Result<i32> {
    let knobs = Knobs::from_args(args)?;
    let mut scenario = load::load_target(&args.load)?;
    let emulator = load::start_emulator(&mut scenario, &args.load)?;
    reports::check(&args.reports)?;
    if let Some(out) = &args.out {
        results::file::check_writable(out)?;
    }
    let auth = match (&emulator, &scenario.target.lambda) {
        (Some(_), Some(l)) => Auth::placeholder("lambda", &l.region),
        _ => Auth::for_target(&scenario.target)?,
    };
    let tls = crate::transport::tls_config_with(None)?;

    // The worst case, --max, planned against the quotas before anything is sent.
    scenario.stages = vec![knobs.stage("max", knobs.max, knobs.step)];
    let (limits, _, worst) = limits::preflight(&scenario, &args.load, emulator.as_ref())?;
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

    let mut search = Search::new(knobs.from, ceiling, knobs.precision);
    let (t0, started_at) = (Instant::now(), SystemTime::now());
    let mut steps: Vec<StepRun> = Vec::new();
    let mut sent = 0u64;
    let stop = loop {
        let load = match search.next() {
            Next::Done(e) => break Stop::Ended(e),
            Next::Try(load) => load,
        };
        if t0.elapsed() + knobs.settle + knobs.step > knobs.budget {
            break Stop::Budget;
        }
        if knobs
            .max_requests
            .is_some_and(|m| sent + knobs.requests_of(load) > m)
        {
            break Stop::Requests;
        }
        let n = steps.len() + 1;
        let run = run_step(&scenario, &knobs, &tls, &auth, n, load)?;
        sent += run
            .runs
            .iter()
            .flat_map(|(_, r)| &r.stages)
            .map(|s| s.counts.attempts.sent)
            .sum::<u64>();
        if !args.quiet {
            eprintln!("{}", step_line(n, &knobs, &run));
        }
        let (interrupted, aborted) = (run.interrupted(), run.aborted().is_some());
        let verdict = run.verdict.clone();
        steps.push(run);
        if interrupted {
            break Stop::Interrupted;
        }
        if aborted {
            break Stop::Aborted;
        }
        search.record(load, &verdict);
    };

    let mut r = assemble(&scenario, started_at, &steps)?;
    let probe = summarise(
        &knobs,
        &search,
        &steps,
        stop,
        &limits,
        (ceiling, capped_by),
        t0,
    );
    r.emulator = emulator
        .as_ref()
        .map(|e| results::emulator_stats(e.stats()));
    r.quota_check = crate::verdict::quota_check::check(
        &limits.quotas,
        &super::run::run_seen(&r, &limits),
        Some(worst),
    );
    r.aws = super::run::aws_target(&limits);
    r.aborted = steps.iter().find_map(StepRun::aborted);
    let code = match (stop, probe.knee) {
        (Stop::Interrupted, _) => exit::INTERRUPTED,
        (Stop::Aborted, _) => exit::ABORTED,
        (_, None) => exit::CHECK_FAILED,
        (_, Some(_)) => exit::OK,
    };
    r.probe = Some(probe);
    let mut failed = false;
    if let Some(out) = &args.out {
        if let Err(e) = results::file::write(out, &r) {
            eprintln!("error: cannot write results to {}: {e}", out.display());
            failed = true;
        }
    }
    if !args.quiet {
        print!("{}", crate::report::summary::render(&r));
    }
    for why in reports::write(&args.reports, &r) {
        failed = true;
        eprintln!("error: {why}");
    }
    Ok(if failed { exit::INTERNAL } else { code })
}

/// What the flags ask, checked.
struct Knobs {
    by: By,
    from: u64,
    max: u64,
    step: Duration,
    settle: Duration,
    slo: Vec<Threshold>,
    slo_text: Vec<String>,
    precision: f64,
    budget: Duration,
    max_requests: Option<u64>,
    /// `--max-rate`: requests per second no step passes.
    max_rate: u64,
    threads: usize,
}

impl Knobs {
    fn from_args(a: &ProbeArgs) -> Result<Knobs> {
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
            Some(text) => parse_slo(text)?,
            None => {
                let slo = default_slo();
                let text = slo
                    .iter()
                    .map(|t| format!("{}={}", t.metric.name(), t.text))
                    .collect();
                (slo, text)
            }
        };
        let precision = crate::scenario::Threshold::parse(Metric::ThrottleRate, &a.precision)
            .map_err(|_| flag_error("--precision", &a.precision, "a percentage such as 5%"))?
            .limit;
        if !(precision > 0.0 && precision < 1.0) {
            return Err(flag_error(
                "--precision",
                &a.precision,
                "a percentage between 0% and 100%",
            ));
        }
        Ok(Knobs {
            by,
            from,
            max,
            step: duration_flag("--step", &a.step, false)?,
            settle: duration_flag("--settle", &a.settle, true)?,
            slo,
            slo_text,
            precision,
            budget: duration_flag("--budget", &a.budget, false)?,
            max_requests: a.max_requests,
            max_rate,
            threads: super::load::engine_threads(a.threads)?,
        })
    }

    fn stage(&self, name: &str, load: u64, duration: Duration) -> Stage {
        let kind = match self.by {
            By::Rate => StageKind::Constant {
                rate: load as f64,
                duration,
            },
            By::Concurrency => StageKind::Concurrency {
                workers: load,
                duration,
            },
        };
        Stage {
            name: name.to_string(),
            kind,
        }
    }

    /// Requests a step plans (a closed one: none known, counted as its workers).
    fn requests_of(&self, load: u64) -> u64 {
        match self.by {
            By::Rate => (load as f64 * (self.step + self.settle).as_secs_f64()).ceil() as u64,
            By::Concurrency => load,
        }
    }

    /// The highest load searched: --max (by rate, --max-rate when lower), or just past the
    /// first limit read from the account that the plan would pass (unless --past-limits);
    /// and why.
    fn ceiling(
        &self,
        limits: &Limits,
        worst: &preflight::Preflight,
        past_limits: bool,
    ) -> (u64, Option<String>) {
        let read = |p: &preflight::Preflight| {
            p.exceeded_checks()
                .any(|c| !c.source.starts_with("documented"))
        };
        let by_rate = match self.by {
            By::Rate if self.max_rate < self.max => Some(self.max_rate),
            _ => None,
        };
        let max = by_rate.unwrap_or(self.max);
        let rate_capped = || {
            by_rate.map(|r| {
                format!(
                    "--max-rate {r}: no step sends more requests per second (raise it to go on)"
                )
            })
        };
        if past_limits || !read(worst) {
            return (max, rate_capped());
        }
        let fits = |load: u64| {
            let stages = [self.stage("s", load, self.step)];
            let plans: Vec<StagePlan> = stages.iter().map(StagePlan::for_stage).collect();
            let p = preflight::check(
                &stages,
                &plans,
                &limits.quotas,
                limits.front,
                Duration::from_secs_f64(worst.expect_latency_ms / 1000.0),
                &worst.latency_basis,
            );
            !read(&p)
        };
        let (mut lo, mut hi) = (0, max);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let cap = ((lo.max(1) as f64 * PAST_LIMIT).ceil() as u64).clamp(self.from, max);
        if cap == max && by_rate.is_some() {
            return (max, rate_capped());
        }
        let over = worst
            .exceeded_checks()
            .find(|c| !c.source.starts_with("documented"))
            .map(|c| format!("{} {} ({})", c.limit.title(), c.value, c.source))
            .unwrap_or_default();
        (
            cap,
            Some(format!(
                "--max {} would pass {over}; {lo} fits, so the search goes to {cap} and no further (--past-limits to go on)",
                self.max
            )),
        )
    }
}

/// `p99=800ms,throttle_rate=1%,failure_rate=0.5%`.
fn parse_slo(text: &str) -> Result<(Vec<Threshold>, Vec<String>)> {
    let expected = "NAME=LIMIT,… such as p99=800ms,throttle_rate=1%,failure_rate=0.5%";
    let mut slo = Vec::new();
    let mut written = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| flag_error("--slo", &format!("`{part}` has no `=`"), expected))?;
        let metric = Metric::from_name(name.trim()).ok_or_else(|| {
            flag_error(
                "--slo",
                &format!("unknown metric `{}`", name.trim()),
                &crate::scenario::METRIC_NAMES.join(", "),
            )
        })?;
        let t = Threshold::parse(metric, value.trim())
            .map_err(|why| flag_error("--slo", &why, expected))?;
        written.push(format!("{}={}", metric.name(), value.trim()));
        slo.push(t);
    }
    if slo.is_empty() {
        return Err(flag_error("--slo", "no bound given", expected));
    }
    Ok((slo, written))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stop {
    Ended(Ended),
    Budget,
    Requests,
    Aborted,
    Interrupted,
}

impl Stop {
    fn key(self) -> &'static str {
        match self {
            Stop::Ended(Ended::Converged) => "converged",
            Stop::Ended(Ended::ReachedMax) => "reached_max",
            Stop::Ended(Ended::NotMetAtFrom) => "not_met_at_from",
            Stop::Ended(Ended::StoppedHard) => "stopped_hard",
            Stop::Budget => "budget",
            Stop::Requests => "requests",
            Stop::Aborted => "aborted",
            Stop::Interrupted => "interrupted",
        }
    }
}

/// One step as run: its load, its settle period and its held stage, each its own engine
/// run (so the settle's last requests end before the held ones start: in a closed loop
/// they would otherwise overlap), and its verdict.
struct StepRun {
    load: u64,
    runs: Vec<(Stage, RunRecord)>,
    verdict: StepVerdict,
}

impl StepRun {
    /// The held stage's record, the one judged.
    fn held(&self) -> &StageRecord {
        &self.runs.last().expect("a held stage").1.stages[0]
    }

    fn interrupted(&self) -> bool {
        self.runs.iter().any(|(_, r)| r.interrupted)
    }

    fn aborted(&self) -> Option<crate::engine::abort::AbortTrip> {
        self.runs.iter().find_map(|(_, r)| r.aborted.clone())
    }
}

fn run_step(
    scenario: &Scenario,
    k: &Knobs,
    tls: &rustls::ClientConfig,
    auth: &Auth,
    n: usize,
    load: u64,
) -> Result<StepRun> {
    let unit = k.by.unit();
    let mut stages = Vec::new();
    if !k.settle.is_zero() {
        stages.push(k.stage(&format!("step {n} settle · {load} {unit}"), load, k.settle));
    }
    stages.push(k.stage(&format!("step {n} · {load} {unit}"), load, k.step));
    let mut runs = Vec::new();
    for stage in stages {
        let spec = RunSpec {
            retry: scenario.retry.clone(),
            request: scenario.request.clone(),
            seed: scenario.seed,
            run_id: fastrand::u32(..),
            stage_names: vec![stage.name.clone()],
            shard: Shard::WHOLE,
        };
        let opts = EngineOptions {
            threads: k.threads,
            max_in_flight: 20_000,
            max_rate: Some(k.max_rate as f64),
            grace: Duration::from_secs(2),
            abort: scenario.abort.clone(),
            start_at: None,
            shared_stop: None,
        };
        let plans = vec![StagePlan::for_stage(&stage)];
        let record = engine::run(&scenario.target, tls, auth, spec, plans, &opts, None)?;
        let stop = record.interrupted || record.aborted.is_some();
        runs.push((stage, record));
        if stop {
            break;
        }
    }
    let held = &runs.last().expect("a held stage").1.stages[0];
    let verdict = judge(&k.slo, &results::observed(held));
    Ok(StepRun {
        load,
        runs,
        verdict,
    })
}

fn step_line(n: usize, k: &Knobs, step: &StepRun) -> String {
    let (load, seen) = (step.load, results::observed(step.held()));
    let what = match &step.verdict {
        StepVerdict::Good => "good".to_string(),
        StepVerdict::Bad(w) => format!("broken: {}", w.join(", ")),
        StepVerdict::Noisy(w) => format!("too close to call ({}): once more", w.join(", ")),
        StepVerdict::Hard(w) => format!("far past the SLO ({}): stopping", w.join(", ")),
    };
    format!(
        "probe step {n}: {load} {} · p99 {:.0} ms · throttled {:.2}% · failed {:.2}% → {what}",
        k.by.unit(),
        seen.p99,
        seen.throttle_rate * 100.0,
        seen.failure_rate * 100.0
    )
}

/// One engine run's stage, as the results need it.
fn input<'a>(stage: &'a Stage, rec: &'a RunRecord) -> StageInput<'a> {
    let plan = StagePlan::for_stage(stage);
    StageInput {
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
fn assemble(scenario: &Scenario, started_at: SystemTime, steps: &[StepRun]) -> Result<Results> {
    let target = || TargetInfo {
        url: scenario.target.display_url(),
        method: scenario.target.method.to_string(),
    };
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
    let clock = match alone.is_empty() {
        // No step ran (the budget held none): an empty run from the probe's start.
        true => WallClock {
            start: started_at,
            offsets: Vec::new(),
            timeline: Vec::new(),
            seconds: Vec::new(),
            per_second_exact: true,
            duration_s: 0.0,
        },
        false => results::merge::align(&alone, false)
            .map_err(|why| Error::internal(format!("the probe's steps on one clock: {why:?}")))?,
    };
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

fn summarise(
    k: &Knobs,
    search: &Search,
    steps: &[StepRun],
    stop: Stop,
    limits: &Limits,
    (ceiling, capped_by): (u64, Option<String>),
    t0: Instant,
) -> ProbeResults {
    let held = |s: &StepRun| results::observed(s.held());
    let at = |load: u64| steps.iter().rev().find(|s| s.load == load);
    let knee = search.good;
    let first_bad = steps.iter().find(|s| Some(s.load) == search.bad);
    let mut throttled_by: Vec<(crate::classify::ThrottleKind, u64)> = first_bad
        .map(|s| {
            crate::classify::THROTTLE_KINDS
                .iter()
                .map(|k| (*k, s.held().counts.throttles_by_kind.get(*k)))
                .filter(|(_, n)| *n > 0)
                .collect()
        })
        .unwrap_or_default();
    throttled_by.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let finding = match knee.and_then(at) {
        Some(s) => {
            let seen = KneeSeen {
                by: k.by,
                knee: s.load as f64,
                in_flight_at_knee: s.held().peak_in_flight as f64,
                throttled_by: throttled_by.iter().map(|(k, _)| *k).collect(),
                p99_first_ms: steps.first().map_or(0.0, |f| held(f).p99),
                p99_knee_ms: held(s).p99,
            };
            attribute(&seen, &limits.quotas, limits.front)
        }
        None => crate::probe::knee::Attribution {
            limit: None,
            message: format!("no knee: even {} {} broke the SLO", k.from, k.by.unit()),
        },
    };
    ProbeResults {
        by: match k.by {
            By::Rate => "rate".into(),
            By::Concurrency => "concurrency".into(),
        },
        slo: k.slo_text.clone(),
        from: k.from,
        max: k.max,
        searched_up_to: ceiling,
        capped_by,
        precision: k.precision,
        steps: steps
            .iter()
            .map(|s| {
                let seen = held(s);
                let rec = s.held();
                let (verdict, broke) = match &s.verdict {
                    StepVerdict::Good => (ProbeVerdict::Good, Vec::new()),
                    StepVerdict::Bad(w) => (ProbeVerdict::Broken, w.clone()),
                    StepVerdict::Noisy(w) => (ProbeVerdict::Noisy, w.clone()),
                    StepVerdict::Hard(w) => (ProbeVerdict::Hard, w.clone()),
                };
                ProbeStep {
                    load: s.load,
                    stage: s
                        .runs
                        .last()
                        .map_or(String::new(), |(st, _)| st.name.clone()),
                    verdict,
                    broke,
                    achieved_rps: rec.counts.ok as f64 / k.step.as_secs_f64(),
                    peak_in_flight: rec.peak_in_flight,
                    p99_ms: seen.p99,
                    throttle_rate: seen.throttle_rate,
                    failure_rate: seen.failure_rate,
                }
            })
            .collect(),
        knee,
        first_bad: search.bad,
        ended: stop.key().into(),
        finding: finding.message,
        limit: finding.limit.map(|(k, _)| k),
        p99_at_knee_ms: knee.and_then(at).map(|s| held(s).p99),
        seconds: t0.elapsed().as_secs_f64(),
    }
}
