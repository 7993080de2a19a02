//! The tune's loop: for each size, `$LATEST` set to it and waited for, a version published
//! (and added to the journal, written again), the load run against that version, the
//! size's entry measured. It stops at the first error, stop signal or abort; the caller
//! restores whatever happened.

use stampede_lambda::{Architecture, Prices};
use stampede_results::tune::Tune;

use super::control::Control;
use super::measure;
use crate::engine::RunRecord;
use crate::engine::{self, EngineOptions, RunSpec};
use crate::error::Result;
use crate::record::StageRecord;
use crate::scenario::{Scenario, Shard, Stage, Target};
use crate::schedule::StagePlan;
use crate::signals::Signals;
use crate::transport::auth::Auth;
use stampede_results::Results;

/// One size's run: its stages (named for the size), what each recorded, and the run
/// assembled alone.
pub struct SizeRun {
    pub stages: Vec<Stage>,
    pub records: Vec<StageRecord>,
    pub alone: Results,
}

/// A run's record assembled into results, as `run` assembles its own (the layer above's
/// `results::assemble`, handed down by the command).
pub type Assemble = fn(&Scenario, &[StagePlan], RunRecord) -> Results;

/// How the loop runs the load.
pub struct Load<'a> {
    pub scenario: &'a Scenario,
    pub tls: &'a rustls::ClientConfig,
    pub auth: &'a Auth,
    pub threads: usize,
    pub max_in_flight: u64,
    pub grace: std::time::Duration,
    /// Priced at.
    pub architecture: Architecture,
    pub prices: Prices,
    pub quiet: bool,
    pub assemble: Assemble,
}

/// Why the loop ended before the last size.
#[derive(Clone, Debug, PartialEq)]
pub enum Stopped {
    /// A stop signal (Ctrl-C, SIGTERM, SIGHUP).
    Interrupted,
    /// An abort rule tripped.
    Aborted,
    /// A control-plane call, the journal or the engine failed.
    Failed(String),
}

/// Each size in turn; `tune`'s journal and memories filled as it goes, `journal` called
/// after each change it records. The runs measured, and why it stopped early if it did.
pub fn measure(
    control: &Control,
    load: &Load,
    sizes: &[u64],
    tune: &mut Tune,
    journal: &mut dyn FnMut(&Tune) -> Result<()>,
    signals: &Signals,
) -> (Vec<SizeRun>, Option<Stopped>) {
    let mut runs = Vec::new();
    for &mb in sizes {
        if signals.heard() > 0 {
            return (runs, Some(Stopped::Interrupted));
        }
        if let Err(why) = control.set_memory(mb) {
            return (runs, Some(Stopped::Failed(why)));
        }
        if signals.heard() > 0 {
            return (runs, Some(Stopped::Interrupted));
        }
        let version = match control.publish(mb) {
            Ok(v) => v,
            Err(why) => return (runs, Some(Stopped::Failed(why))),
        };
        tune.original.published.push(version.clone());
        if let Err(e) = journal(tune) {
            return (runs, Some(Stopped::Failed(e.message)));
        }
        let run = match run_size(load, mb, &version) {
            Ok(run) => run,
            Err(e) => return (runs, Some(Stopped::Failed(e.message))),
        };
        let entry = measure::memory_entry(
            mb,
            Some(&version),
            &run.alone,
            load.architecture,
            &load.prices,
        );
        if !load.quiet {
            eprintln!("{}", line(&entry));
        }
        tune.memories.push(entry);
        let stopped = if run.alone.interrupted {
            Some(Stopped::Interrupted)
        } else if run.alone.aborted.is_some() {
            Some(Stopped::Aborted)
        } else {
            None
        };
        runs.push(run);
        if stopped.is_some() {
            return (runs, stopped);
        }
    }
    (runs, None)
}

/// The scenario's stages against `version` (a lambda target invoked with it as the
/// qualifier; a URL as it is), assembled alone.
fn run_size(load: &Load, mb: u64, version: &str) -> Result<SizeRun> {
    let mut scenario = load.scenario.clone();
    scenario.target = at_version(&scenario.target, version);
    for stage in &mut scenario.stages {
        stage.name = format!("{mb} MB · {}", stage.name);
    }
    let plans: Vec<StagePlan> = scenario.stages.iter().map(StagePlan::for_stage).collect();
    let spec = RunSpec {
        retry: scenario.retry.clone(),
        request: scenario.request.clone(),
        seed: scenario.seed,
        run_id: fastrand::u32(..),
        stage_names: scenario.stages.iter().map(|s| s.name.clone()).collect(),
        shard: Shard::WHOLE,
        mix: scenario.mix(),
        stage_think: scenario.stage_think.clone(),
    };
    let opts = EngineOptions {
        threads: load.threads,
        max_in_flight: load.max_in_flight,
        max_rate: None,
        grace: load.grace,
        abort: scenario.abort.clone(),
        start_at: None,
        shared_stop: None,
        live: None,
    };
    let record = engine::run(
        &scenario.target,
        load.tls,
        load.auth,
        spec,
        plans.clone(),
        &opts,
        None,
    )?;
    let records = record.stages.clone();
    let alone = (load.assemble)(&scenario, &plans, record);
    Ok(SizeRun {
        stages: scenario.stages,
        records,
        alone,
    })
}

/// `target` invoking `version` when it invokes a function directly; else unchanged (a
/// URL reaches the function as its API calls it).
pub fn at_version(target: &Target, version: &str) -> Target {
    let mut t = target.clone();
    let Some(lambda) = t.lambda.as_mut() else {
        return t;
    };
    lambda.function.qualifier = Some(version.to_string());
    let path = lambda
        .invocation
        .path(&lambda.function.function, Some(version));
    let base = format!(
        "{}://{}",
        t.url.scheme_str().unwrap_or("https"),
        t.url.authority().map_or("", |a| a.as_str())
    );
    if let Ok(url) = format!("{base}{path}").parse() {
        t.url = url;
    }
    t
}

/// One size's line on stderr (the table is the report's).
pub fn line(m: &stampede_results::tune::TuneMemory) -> String {
    let mut text = format!(
        "tune: {} MB (version {}) · latency p99 {:.0} ms",
        m.memory,
        m.version.as_deref().unwrap_or("-"),
        m.latency_ms.p99
    );
    if m.invocations > 0 {
        text += &format!(
            " · duration p50 {:.1} ms p99 {:.1} ms · cold starts {} · ${:.4} per million (${:.4} without init)",
            m.duration_ms.p50,
            m.duration_ms.p99,
            m.cold_starts,
            m.cost_per_million,
            m.cost_per_million_without_init
        );
    }
    text += &format!(" · throttled {} · errors {}", m.throttles, m.errors);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lambda_target_is_aimed_at_the_version_and_a_url_left_alone() {
        let flags = |lambda: Option<&str>| crate::scenario::AdHoc {
            url: Some("http://127.0.0.1:9/prod/orders".into()),
            lambda: lambda.map(str::to_string),
            shape: Some(crate::scenario::LoadShape::Rate(1.0)),
            ..crate::scenario::AdHoc::default()
        };
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:orders:live";
        let s = crate::scenario::from_flags(&flags(Some(arn))).unwrap();
        let t = at_version(&s.target, "7");
        assert_eq!(
            t.url.to_string(),
            "http://127.0.0.1:9/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders/invocations?Qualifier=7"
        );
        assert_eq!(t.lambda.unwrap().function.qualifier.as_deref(), Some("7"));
        let s = crate::scenario::from_flags(&flags(None)).unwrap();
        assert_eq!(at_version(&s.target, "7").url, s.target.url);
    }
}
