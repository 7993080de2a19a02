//! Writing the reports of a results file, for `run` and `report`: the files that
//! `--html`, `--markdown` and `--junit` name (`-` is stdout), and the Markdown appended to
//! GitHub's step summary when `GITHUB_STEP_SUMMARY` names a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::ReportOutputs;
use crate::error::{Error, Result};
use crate::report::{html, junit, markdown};
use crate::results::{file, Results};

/// What is appended to the step summary at most: GitHub takes 1 MiB per step.
pub const STEP_SUMMARY_MAX: usize = 512 * 1024;

/// Each flag with its file.
fn named(o: &ReportOutputs) -> Vec<(&'static str, &Path)> {
    [
        ("--html", &o.html),
        ("--markdown", &o.markdown),
        ("--junit", &o.junit),
    ]
    .into_iter()
    .filter_map(|(flag, path)| path.as_deref().map(|p| (flag, p)))
    .collect()
}

fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// True when no report file was asked for.
pub fn none_asked(o: &ReportOutputs) -> bool {
    named(o).is_empty()
}

/// True when a report goes to stdout (then `run` keeps its own text off it).
pub fn uses_stdout(o: &ReportOutputs) -> bool {
    named(o).iter().any(|(_, p)| is_stdout(p))
}

/// Bad input before anything else (exit 2): two reports on stdout, or a file that cannot
/// be written.
pub fn check(o: &ReportOutputs) -> Result<()> {
    let on_stdout: Vec<&str> = named(o)
        .iter()
        .filter(|(_, p)| is_stdout(p))
        .map(|(f, _)| *f)
        .collect();
    if on_stdout.len() > 1 {
        return Err(Error::input(format!(
            "{}: more than one report to stdout (-)\n  expected: at most one report on stdout, the others in files",
            on_stdout.join(", ")
        )));
    }
    for (flag, path) in named(o) {
        if !is_stdout(path) {
            file::check_writable_as(flag, path)?;
        }
    }
    Ok(())
}

/// Writes every report asked for; returns what could not be written, one line each.
pub fn write(o: &ReportOutputs, r: &Results) -> Vec<String> {
    let mut failed = Vec::new();
    for (flag, path) in named(o) {
        let text = match flag {
            "--html" => html::render(r),
            "--markdown" => markdown::render(r),
            _ => junit::render(r),
        };
        let written = if is_stdout(path) {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|_| out.flush())
        } else {
            file::write_bytes(path, text.as_bytes())
        };
        if let Err(e) = written {
            failed.push(format!("{flag} {}: cannot write it: {e}", path.display()));
        }
    }
    if let Err(e) = step_summary(r) {
        failed.push(e);
    }
    failed
}

/// Appends the Markdown (at most [`STEP_SUMMARY_MAX`] bytes) to `$GITHUB_STEP_SUMMARY`
/// when it names a file.
fn step_summary(r: &Results) -> std::result::Result<(), String> {
    append_step_summary(|| markdown::render_within(r, STEP_SUMMARY_MAX))
}

/// Appends `text()` and a newline to `$GITHUB_STEP_SUMMARY` when it names a file (the text
/// is only made then); the error names the file.
pub fn append_step_summary(text: impl FnOnce() -> String) -> std::result::Result<(), String> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = PathBuf::from(path);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{}\n", text()).as_bytes()))
        .map_err(|e| {
            format!(
                "GITHUB_STEP_SUMMARY {}: cannot append to it: {e}",
                path.display()
            )
        })
}
