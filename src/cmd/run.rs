//! `stampede run`: scenario → schedule → engine → results → verdict → reports.

use std::path::Path;
use std::time::Duration;

use crate::cli::RunArgs;
use crate::emulator;
use crate::engine::{self, EngineOptions, RunSpec};
use crate::error::{exit, Error, Result};
use crate::record::results::{self, RunInput, StageInput, TargetInfo};
use crate::record::StageRecord;
use crate::report::{live::LiveView, summary};
use crate::scenario::{self, AdHoc, LoadShape, Scenario};
use crate::schedule::StagePlan;
use crate::transport::auth::{Auth, AuthSpec};
use crate::verdict::thresholds;

pub fn run(args: &RunArgs) -> Result<i32> {
    let mut scenario = load_scenario(args)?;
    // `[emulator]`: serve it in-process and aim the run at it (unless --url says otherwise).
    let emulator = match (&scenario.emulator, &args.url) {
        (Some(config), None) => {
            let running = emulator::start(
                config.clone(),
                "127.0.0.1:0".parse().expect("a loopback address"),
            )?;
            scenario.target.url = aim_at(&scenario.target.url, running.addr);
            Some(running)
        }
        _ => None,
    };
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
    raise_open_files_limit();

    let plans: Vec<StagePlan> = scenario.stages.iter().map(StagePlan::for_stage).collect();
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

    let mut results = to_results(&scenario, &plans, record);
    results.emulator = emulator.as_ref().map(|e| e.stats());
    drop(emulator);
    if let Some(out) = &args.out {
        write_results(out, &results)?;
    }
    if !args.quiet {
        print!("{}", summary::render(&results));
    }
    let failed: Vec<_> = results.thresholds.iter().filter(|t| !t.pass).collect();
    if args.quiet {
        for t in &failed {
            eprintln!(
                "threshold failed: {} ≤ {} (observed {:.3})",
                t.name, t.limit, t.observed
            );
        }
    }
    Ok(if results.interrupted {
        exit::INTERRUPTED
    } else if !failed.is_empty() {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

fn load_scenario(args: &RunArgs) -> Result<Scenario> {
    let shape = match (args.rate, args.concurrency, args.burst) {
        (Some(r), _, _) => Some(LoadShape::Rate(r)),
        (_, Some(c), _) => Some(LoadShape::Concurrency(c)),
        (_, _, Some(b)) => Some(LoadShape::Burst(b)),
        _ => None,
    };
    let flags = AdHoc {
        url: args.url.clone(),
        shape,
        duration: args.duration.clone(),
        method: args.method.clone(),
        headers: args.headers.clone(),
        body: args.body.clone(),
        thresholds: args.thresholds.clone(),
    };
    match &args.scenario {
        None => scenario::from_flags(&flags),
        Some(path) => {
            if shape.is_some() || args.duration.is_some() {
                return Err(Error::input(format!(
                    "{}: a scenario file sets the load itself\n  expected: either a scenario file or --rate/--concurrency/--burst with --duration",
                    path.display()
                )));
            }
            let mut s = scenario::load(path, flags.url()?.as_ref())?;
            flags.amend(&mut s)?;
            Ok(s)
        }
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
    let url = &scenario.target.url;
    results::build(RunInput {
        name: scenario.name.as_deref(),
        target: TargetInfo {
            url: format!(
                "{}://{}{}",
                url.scheme_str().unwrap_or("http"),
                url.authority().map_or("", |a| a.as_str()),
                url.path()
            ),
            method: scenario.target.method.to_string(),
        },
        started_at: record.started_at,
        interrupted: record.interrupted,
        abandoned: record.abandoned,
        stages,
        overall: &overall,
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
            .map_err(|e| Error::runtime(format!("cannot start the runtime: {e}")))?
            .block_on(Auth::resolve_sigv4(service, region.as_deref(), &target.url)),
        spec => Auth::resolve(spec, |name| std::env::var(name).ok()),
    };
    resolved.map_err(|why| {
        Error::input(format!(
            "[target.auth]: {why}\n  expected: the secret in the environment (or, for sigv4, the AWS credential chain)"
        ))
    })
}

/// `url`'s path and query on the emulator's address.
fn aim_at(url: &http::Uri, addr: std::net::SocketAddr) -> http::Uri {
    let path = url.path_and_query().map_or("/", |p| p.as_str());
    format!("http://{addr}{path}")
        .parse()
        .expect("an address and a valid path make a valid URI")
}

/// Fails before any traffic if the results could not be written afterwards.
fn check_writable(out: &Path) -> Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Error::input(format!(
            "--out {}: directory {} does not exist",
            out.display(),
            dir.display()
        )));
    }
    if out.is_dir() {
        return Err(Error::input(format!(
            "--out {}: is a directory\n  expected: a file path",
            out.display()
        )));
    }
    Ok(())
}

fn write_results(out: &Path, results: &results::Results) -> Result<()> {
    let json = serde_json::to_vec_pretty(results).expect("results serialise");
    // Write beside, then rename: a reader never sees half a file.
    let tmp = out.with_extension("json.partial");
    std::fs::write(&tmp, json)
        .and_then(|_| std::fs::rename(&tmp, out))
        .map_err(|e| Error::runtime(format!("cannot write results to {}: {e}", out.display())))
}

/// Bursts and high rates need a file descriptor per connection: lift the soft limit to the hard one.
fn raise_open_files_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
