//! `stampede tune`: the function found and journalled before the first change, each size
//! set, published and run against (tune::run), the function put back whatever happened
//! (tune::restore), the pick applied when asked (tune::apply), one results file with the
//! `tune` key. `--restore FILE`: the repair from a journal alone.

use std::time::SystemTime;

use crate::aws::{Aws, Endpoint};
use crate::cli::{ReportOutputs, TuneArgs};
use crate::error::{Error, Result};
use crate::pipeline::tune as assemble;
use crate::pipeline::{self, load, preflight, Known, Sink};
use crate::signals::Signals;
use crate::tune::conclude::{self, Ending};
use crate::tune::control::Control;
use crate::tune::run::{self, Load};
use crate::tune::sizes;
use crate::verdict::judge::Command;
use stampede_lambda::FunctionRef;
use stampede_results::tune::{Tune, TuneOriginal};

pub fn tune(args: &TuneArgs) -> Result<i32> {
    if let Some(journal) = &args.restore {
        return assemble::repair(
            journal,
            args.endpoint_url.as_deref(),
            args.region.as_deref(),
            args.quiet,
        );
    }
    let sizes = args.memory.as_ref().map(|s| s.0.clone()).ok_or_else(|| {
        Error::input(format!(
            "--memory: missing\n  expected: {}",
            sizes::MEMORY_FORM
        ))
    })?;
    let mut scenario = load::load_scenario(&args.load)?;
    let function = function_of(args, &scenario)?;
    permitted(args, &function, &sizes)?;
    let emulator = load::start_emulator(&mut scenario, &args.load)?;
    let sink = Sink::prove(
        Command::Run,
        Some(&args.out),
        None,
        "tune.json",
        &ReportOutputs::default(),
        args.quiet,
    )?;
    let threads = load::engine_threads(args.threads)?;
    let traffic = load::traffic(&args.traffic)?;
    let auth = load::auth(&scenario, emulator.as_ref())?;
    let (limits, _, worst) = preflight::preflight(&scenario, &args.load, emulator.as_ref())?;
    let control = control_plane(args, &function, &scenario, emulator.as_ref())?;

    // From here on a stop signal is heard, not fatal: the function is always put back.
    let signals = Signals::listen()?;
    let found = control.read().map_err(|why| {
        Error::input(format!(
            "{why}\n  expected: a function this identity may read and change (docs/tune.md, IAM)"
        ))
    })?;
    let started_at = SystemTime::now();
    let mut tune = Tune {
        original: TuneOriginal {
            function: function.function.clone(),
            region: control.region.clone(),
            memory: found.memory,
            revision_id: found.revision_id.clone(),
            published: Vec::new(),
            alias: None,
        },
        strategy: args.strategy,
        balance: args.balance,
        ..Tune::default()
    };
    let out = sink.destination().expect("tune always has --out").clone();
    let mut journal = |t: &Tune| assemble::write_journal(&out, started_at, t);
    journal(&tune).map_err(|e| Error::internal(format!("{}; nothing was changed", e.message)))?;
    if !sink.quiet {
        eprintln!(
            "tune: {} found at {} MB; the journal is in {out} (stampede tune --restore {out} puts it back)",
            function.function,
            found.memory,
            out = out.describe()
        );
    }

    let loaded = Load {
        scenario: &scenario,
        tls: &traffic.tls,
        auth: &auth,
        threads,
        max_in_flight: traffic.max_in_flight,
        grace: traffic.grace,
        architecture: scenario
            .aws
            .as_ref()
            .and_then(|a| a.architecture)
            .unwrap_or(found.architecture),
        prices: scenario.aws.as_ref().map(|a| a.prices).unwrap_or_default(),
        quiet: sink.quiet,
        assemble: crate::results::assemble,
    };
    let (runs, stopped) =
        run::measure(&control, &loaded, &sizes, &mut tune, &mut journal, &signals);

    let ended = conclude::conclude(
        &control,
        &mut tune,
        &Ending {
            measured_all: stopped.is_none(),
            apply: args.apply,
            alias: args.alias.as_deref(),
            keep_versions: args.keep_versions,
        },
        &mut journal,
    );
    assemble::say_restored(&tune, sink.quiet);
    if let Some(why) = &ended.not_applied {
        eprintln!("error: tune: --apply: {why}");
    }

    let mut results = assemble::combine(&scenario, started_at, &runs)?;
    pipeline::complete(
        &mut results,
        Known {
            scenario: &scenario,
            limits: &limits,
            preflight: Some(worst),
            emulator: emulator.as_ref(),
            run_id: None,
            shard: None,
            aborted: runs.iter().find_map(|r| r.alone.aborted.clone()),
            open_files_limit: None,
            insecure: traffic.insecure,
        },
    );
    assemble::settle(&mut results, tune, stopped.as_ref(), ended.put_back);
    let not_written = sink.write(&results);
    sink.summary(&results);
    drop(emulator);
    Ok(sink.conclude(&results, not_written))
}

/// The function to tune: `--function` (behind the load's URL), else the lambda target's.
fn function_of(args: &TuneArgs, scenario: &crate::scenario::Scenario) -> Result<FunctionRef> {
    if let Some(f) = &args.function {
        return FunctionRef::parse(f).map_err(|why| Error::input(format!("--function: {why}")));
    }
    match &scenario.target.lambda {
        Some(l) => Ok(l.function.clone()),
        None => Err(Error::input(
            "tune needs a function to change\n  expected: --lambda FUNCTION, a scenario whose [target] is kind = \"lambda\", or --function NAME with --url (the API in front of it)",
        )),
    }
}

/// Nothing is changed without `--allow-changes`: the refusal says what would be. A
/// qualifier is not what is tuned, and the user is told so.
fn permitted(args: &TuneArgs, function: &FunctionRef, sizes: &[u64]) -> Result<()> {
    if !args.allow_changes {
        return Err(Error::input(format!(
            "tune changes the function {}: $LATEST's memory set to {} MB in turn, a version published for each{}, then its memory put back{}\n  expected: --allow-changes to let it",
            function.function,
            sizes.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
            if args.keep_versions { " (kept)" } else { " (deleted at the end)" },
            match (args.apply, &args.alias) {
                (true, Some(a)) => format!(", and alias {a} moved to the pick"),
                (true, None) => ", and the picked memory set on $LATEST".into(),
                _ => String::new(),
            }
        )));
    }
    if let Some(q) = function.qualifier.as_deref().filter(|_| !args.quiet) {
        eprintln!(
            "tune: the qualifier {q} is not what is tuned: tune sets $LATEST's memory and runs each size's own version (name the alias --apply moves with --alias)"
        );
    }
    Ok(())
}

/// The function's control plane: the endpoint the tune's calls go to (`--endpoint-url`, the
/// built-in emulator, or AWS) in the function's region.
fn control_plane(
    args: &TuneArgs,
    function: &FunctionRef,
    scenario: &crate::scenario::Scenario,
    emulator: Option<&stampede_emulator::RunningEmulator>,
) -> Result<Control> {
    let at = match (&args.endpoint_url, emulator) {
        (Some(url), _) => Endpoint::given(Some(url)),
        (None, Some(e)) => Endpoint::Emulator(format!("http://{}", e.addr)),
        (None, None) => Endpoint::Aws,
    };
    let region = args
        .region
        .clone()
        .or(function.region.clone())
        .or_else(|| scenario.target.lambda.as_ref().map(|l| l.region.clone()));
    Control::new(Aws::shared()?, &function.function, region.as_deref(), &at)
        .map_err(|why| Error::input(format!("the function's control plane: {why}")))
}
