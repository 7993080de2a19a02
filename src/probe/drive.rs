//! The knee search driven through the engine: each step's settle period and held stage
//! run, judged against the SLO (`search::judge`) and fed to the search (`search::Search`)
//! until it ends, the budget or the request cap is reached, or a step is aborted or
//! interrupted; then the findings as the results' `probe` key. `cmd/probe.rs` reads the
//! flags into [`Knobs`]; `pipeline::probe` lays the steps into one results file.

use std::time::{Duration, Instant, SystemTime};

use crate::engine::{self, EngineOptions, RunRecord, RunSpec};
use crate::error::Result;
use crate::probe::knee::{attribute, By, KneeSeen};
use crate::probe::search::{judge, Ended, Next, Search, StepVerdict};
use crate::probe::{ProbeResults, ProbeStep, ProbeVerdict};
use crate::quotas::sources::Limits;
use crate::record::StageRecord;
use crate::results;
use crate::scenario::{Scenario, Shard, Stage, StageKind, Threshold};
use crate::schedule::StagePlan;
use crate::transport::auth::Auth;
use crate::verdict::preflight;

/// A knee this far below the first limit the preflight names still gets a look past it.
pub const PAST_LIMIT: f64 = 1.25;
/// `--max-rate` by concurrency: a tenth of API Gateway's default account rate (10,000 req/s,
/// shared by every API of the account in the region), so a probe past a limit that answers
/// throttles fast cannot flood it.
pub const DEFAULT_MAX_RATE: u64 = 1_000;

/// What the flags ask, checked.
pub struct Knobs {
    pub by: By,
    pub from: u64,
    pub max: u64,
    pub step: Duration,
    pub settle: Duration,
    pub slo: Vec<Threshold>,
    pub slo_text: Vec<String>,
    pub precision: f64,
    pub budget: Duration,
    pub max_requests: Option<u64>,
    /// `--max-rate`: requests per second no step passes.
    pub max_rate: u64,
    pub threads: usize,
    /// `--max-in-flight` and `--grace`, as `run` has them.
    pub max_in_flight: u64,
    pub grace: Duration,
}

impl Knobs {
    pub fn stage(&self, name: &str, load: u64, duration: Duration) -> Stage {
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
    pub fn requests_of(&self, load: u64) -> u64 {
        match self.by {
            By::Rate => (load as f64 * (self.step + self.settle).as_secs_f64()).ceil() as u64,
            By::Concurrency => load,
        }
    }

    /// The highest load searched: --max (by rate, --max-rate when lower), or just past the
    /// first limit read from the account that the plan would pass (unless --past-limits);
    /// and why.
    pub fn ceiling(
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

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
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
pub struct StepRun {
    pub load: u64,
    pub runs: Vec<(Stage, RunRecord)>,
    pub verdict: StepVerdict,
}

impl StepRun {
    /// The held stage's record, the one judged.
    pub fn held(&self) -> &StageRecord {
        &self.runs.last().expect("a held stage").1.stages[0]
    }

    pub fn interrupted(&self) -> bool {
        self.runs.iter().any(|(_, r)| r.interrupted)
    }

    pub fn aborted(&self) -> Option<crate::engine::abort::AbortTrip> {
        self.runs.iter().find_map(|(_, r)| r.aborted.clone())
    }
}

/// A search as it ran: the search's state, its steps, how it ended, and when it began.
pub struct Searched {
    pub search: Search,
    pub steps: Vec<StepRun>,
    pub stop: Stop,
    pub t0: Instant,
    pub started_at: SystemTime,
}

impl Searched {
    /// The abort that stopped a step, if one did.
    pub fn aborted(&self) -> Option<crate::engine::abort::AbortTrip> {
        self.steps.iter().find_map(StepRun::aborted)
    }
}

/// Searches from `k.from` up to `ceiling`, each step through the engine, until the search
/// ends, the budget or `--max-requests` would be passed, or a step is aborted or
/// interrupted. Each step's line on stderr unless `quiet`.
pub fn search(
    scenario: &Scenario,
    k: &Knobs,
    ceiling: u64,
    tls: &rustls::ClientConfig,
    auth: &Auth,
    quiet: bool,
) -> Result<Searched> {
    let mut search = Search::new(k.from, ceiling, k.precision);
    let (t0, started_at) = (Instant::now(), SystemTime::now());
    let mut steps: Vec<StepRun> = Vec::new();
    let mut sent = 0u64;
    let stop = loop {
        let load = match search.next() {
            Next::Done(e) => break Stop::Ended(e),
            Next::Try(load) => load,
        };
        if t0.elapsed() + k.settle + k.step > k.budget {
            break Stop::Budget;
        }
        if k.max_requests
            .is_some_and(|m| sent + k.requests_of(load) > m)
        {
            break Stop::Requests;
        }
        let n = steps.len() + 1;
        let run = run_step(scenario, k, tls, auth, n, load)?;
        sent += run
            .runs
            .iter()
            .flat_map(|(_, r)| &r.stages)
            .map(|s| s.counts.attempts.sent)
            .sum::<u64>();
        if !quiet {
            eprintln!("{}", step_line(n, k, &run));
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
    Ok(Searched {
        search,
        steps,
        stop,
        t0,
        started_at,
    })
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
            mix: scenario.mix(),
            stage_think: vec![None],
        };
        let opts = EngineOptions {
            threads: k.threads,
            max_in_flight: k.max_in_flight,
            max_rate: Some(k.max_rate as f64),
            grace: k.grace,
            abort: scenario.abort.clone(),
            start_at: None,
            shared_stop: None,
            live: None,
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

/// The results' `probe` key: each step, the knee, and the knee set against the limits.
pub fn summarise(
    k: &Knobs,
    searched: &Searched,
    limits: &Limits,
    (ceiling, capped_by): (u64, Option<String>),
) -> ProbeResults {
    let Searched {
        search,
        steps,
        stop,
        t0,
        ..
    } = searched;
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
