//! `stampede report`: the reports of a results file — the summary `run` printed, or the
//! files `--html`, `--markdown`, `--junit` name — and GitHub's step summary. Exit 0 when
//! written: the report presents a verdict, `run`'s exit code is the gate.

use super::reports;
use crate::cli::ReportArgs;
use crate::error::{exit, Error, Result};
use crate::report::summary;
use crate::results;

pub fn report(args: &ReportArgs) -> Result<i32> {
    let [path] = args.results.as_slice() else {
        return Err(Error::input(
            "report takes one results file; merge several first with `stampede merge`",
        ));
    };
    reports::check(&args.outputs)?;
    let results = results::file::read(path)?;
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
