//! `stampede report`: the reports of a results file — the summary `run` printed, or the
//! files `--html`, `--markdown`, `--junit` name — and GitHub's step summary. Exit 0 when
//! written: the report presents a verdict, `run`'s exit code is the gate. Several files are
//! merged first, exactly as `stampede merge` does.

use super::reports;
use crate::cli::ReportArgs;
use crate::error::{exit, Error, Result};
use crate::report::summary;
use crate::results;

pub fn report(args: &ReportArgs) -> Result<i32> {
    reports::check(&args.outputs)?;
    let runs = args
        .results
        .iter()
        .map(|p| results::file::read(p))
        .collect::<Result<Vec<_>>>()?;
    // Several files are shards of one test: reported as their exact merge.
    let results = if runs.len() == 1 {
        runs.into_iter().next().expect("one run")
    } else {
        let names: Vec<String> = args
            .results
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        results::merge::merge(runs).map_err(|r| Error::input(r.describe(&names)))?
    };
    if reports::none_asked(&args.outputs) {
        use std::io::Write;
        let _ = std::io::stdout().write_all(summary::render(&results).as_bytes());
    }
    let failed = reports::write(&args.outputs, &results);
    for f in &failed {
        eprintln!("error: {f}");
    }
    Ok(if failed.is_empty() {
        exit::OK
    } else {
        exit::INTERNAL
    })
}
