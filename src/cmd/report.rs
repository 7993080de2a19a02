//! `stampede report`: the reports of a results file — the summary `run` printed, or the
//! files `--html`, `--markdown`, `--junit` name — and GitHub's step summary. Exit 0 when
//! written: the report presents a verdict, `run`'s exit code is the gate. Several files are
//! merged first, exactly as `stampede merge` does.

use crate::cli::ReportArgs;
use crate::error::{exit, Error, Result};
use crate::pipeline::reports;
use crate::report::summary;
use crate::results;
use crate::verdict::judge::{judge, Command};

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
    let mut failed = Vec::new();
    if reports::none_asked(&args.outputs) {
        // A full disk or device behind stdout is an error (exit 4); a closed pipe ends the
        // process quietly (SIGPIPE), as Unix tools do.
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let text = summary::render(&results);
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
            failed.push(format!("stdout: cannot write the summary: {e}"));
        }
    }
    failed.extend(reports::write(&args.outputs, &results));
    for f in &failed {
        eprintln!("error: {f}");
    }
    // The report presents the verdict; the command that ran is the gate (exit 0).
    Ok(if failed.is_empty() {
        judge(&results).exit_code(Command::Report)
    } else {
        exit::INTERNAL
    })
}
