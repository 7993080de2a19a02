//! One file per subcommand (`docs.rs`: the three that print generated documents —
//! completions, man pages, schemas): orchestration only. A command never calls another;
//! what they share lives in `pipeline/`.

pub mod cloudwatch;
pub mod compare;
mod docs;
pub mod emulate;
pub mod init;
pub mod merge;
pub mod plan;
pub mod probe;
pub mod quotas;
mod report;
pub mod run;
pub mod tune;

use crate::cli::{Cli, Command};
use crate::error::Result;

/// Runs the chosen command; returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<i32> {
    // Test hook: a bug outside the engine (tests/it/engine_faults.rs checks it exits 4).
    // Only with debug assertions, as the engine's (ARCHITECTURE.md, Testing).
    #[cfg(debug_assertions)]
    if std::env::var("STAMPEDE_INJECT_FAULT").as_deref() == Ok("command-panic") {
        panic!("injected fault (STAMPEDE_INJECT_FAULT)");
    }
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Plan(args) => plan::plan(&args),
        Command::Probe(args) => probe::probe(&args),
        Command::Tune(args) => tune::tune(&args),
        Command::Init(args) => init::init(&args),
        Command::Emulate(args) => emulate::emulate(&args),
        Command::Quotas(args) => quotas::quotas(&args),
        Command::Report(args) => report::report(&args),
        Command::Completions(args) => docs::completions(args.shell),
        Command::Merge(args) => merge::merge(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Cloudwatch(args) => cloudwatch::cloudwatch(&args),
        Command::Man(args) => docs::man(&args),
        Command::Schema(args) => docs::schema(args.format),
    }
}
