//! `stampede compare`: two results files read, compared (`results::compare`), and the
//! comparison printed and written (text, `--json`, `--markdown`, GitHub's step summary).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::CompareArgs;
use crate::error::{exit, Error, Result};
use crate::pipeline::reports::{self, STEP_SUMMARY_MAX};
use crate::report::compare as render;
use crate::results::compare::{self, Limits, Settings};
use crate::results::file;

pub fn compare(args: &CompareArgs) -> Result<i32> {
    let mut limits = Limits::default();
    limits.apply(&args.max_regress)?;
    let floor = args.noise_floor;
    let outputs = outputs(args)?;
    let base = file::read(&args.base)?;
    let head = file::read(&args.head)?;
    let (base_name, head_name) = (
        args.base.display().to_string(),
        args.head.display().to_string(),
    );
    let settings = Settings {
        base_file: &base_name,
        head_file: &head_name,
        limits: &limits,
        noise_floor_ms: floor.as_secs_f64() * 1000.0,
        force: args.force,
    };
    let c = compare::compare(&base, &head, &settings).map_err(|why| {
        Error::input(format!(
            "compare {base_name} {head_name}: {}\n  expected: two runs of the same target and stages (or --force to compare anyway, stages matched by name)",
            why.join("; ")
        ))
    })?;
    let text = render::text(&c);
    let on_stdout = outputs.iter().any(|(_, p)| p.as_os_str() == "-");
    let mut failed = Vec::new();
    if args.quiet || on_stdout {
        eprint!(
            "{}",
            text.lines()
                .last()
                .map(|l| format!("{l}\n"))
                .unwrap_or_default()
        );
    } else if let Err(e) = print_out(&text) {
        failed.push(format!("stdout: cannot write the comparison: {e}"));
    }
    for (flag, path) in &outputs {
        let body = if *flag == "--json" {
            serde_json::to_string_pretty(&c).expect("a comparison serialises") + "\n"
        } else {
            render::markdown(&c)
        };
        if let Err(e) = write_to(path, &body) {
            failed.push(format!("{flag} {}: cannot write it: {e}", path.display()));
        }
    }
    // The Markdown, or only the verdict line when the whole would pass GitHub's limit.
    let summary = reports::append_step_summary(|| {
        let md = render::markdown(&c);
        if md.len() > STEP_SUMMARY_MAX {
            render::text(&c)
                .lines()
                .last()
                .unwrap_or_default()
                .to_string()
        } else {
            md
        }
    });
    failed.extend(summary.err());
    for f in &failed {
        eprintln!("error: {f}");
    }
    Ok(if !failed.is_empty() {
        exit::INTERNAL
    } else if c.regressions > 0 {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

/// The files asked for, checked before anything is read (exit 2): one on stdout at most.
fn outputs(args: &CompareArgs) -> Result<Vec<(&'static str, PathBuf)>> {
    let named: Vec<(&'static str, PathBuf)> =
        [("--json", &args.json), ("--markdown", &args.markdown)]
            .into_iter()
            .filter_map(|(f, p)| p.clone().map(|p| (f, p)))
            .collect();
    if named.iter().filter(|(_, p)| p.as_os_str() == "-").count() > 1 {
        return Err(Error::input(
            "--json, --markdown: both to stdout (-)\n  expected: at most one on stdout, the other in a file".to_string(),
        ));
    }
    for (flag, path) in &named {
        if path.as_os_str() != "-" {
            file::check_writable_as(flag, path)?;
        }
    }
    Ok(named)
}

fn write_to(path: &Path, body: &str) -> std::io::Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(body.as_bytes()).and_then(|_| out.flush())
    } else {
        file::write_bytes(path, body.as_bytes())
    }
}

/// Prints to stdout. A full disk or device behind it is an error (exit 4): a comparison
/// lost is not a comparison made. A closed pipe ends the process quietly (SIGPIPE).
fn print_out(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|_| out.flush())
}
