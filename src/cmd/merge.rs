//! `stampede merge`: results files read, merged (`results::merge`), written; the exit code
//! as `run` would give on the merged whole.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::gather;
use crate::cli::MergeArgs;
use crate::error::{exit, Error, Result};
use crate::report::{check as check_report, summary};
use crate::results::{self, Results};
use crate::store::{Destination, Store};

pub fn merge(args: &MergeArgs) -> Result<i32> {
    let wait = match &args.wait {
        Some(w) => crate::located::duration_flag("--wait", w, true)?,
        None => std::time::Duration::ZERO,
    };
    let store = match args.files.as_slice() {
        [one] => Store::parse(one).map_err(|why| {
            Error::input(format!(
                "merge: {why}\n  expected: results files, or one store: a directory (DIR/) or an S3 prefix (s3://bucket/prefix/)"
            ))
        })?,
        _ => None,
    };
    if store.is_none() && args.wait.is_some() {
        return Err(Error::input(
            "merge: --wait needs a store to wait on\n  expected: one directory (DIR/) or S3 prefix (s3://bucket/prefix/) the shards write to",
        ));
    }
    let out = Destination::from_flag(&args.out, None, "merged.json")?;
    out.prepare()?;
    let (names, runs): (Vec<String>, Vec<Results>) = match &store {
        Some(store) => gather::gather(store, args.expect, wait, args.quiet)?
            .into_iter()
            .unzip(),
        None => {
            let names: Vec<String> = args.files.iter().map(|p| p.display().to_string()).collect();
            if let Some(n) = args.expect {
                if n != names.len() {
                    return Err(Error::input(format!(
                        "merge: --expect {n}, but {} file{} given: {}\n  expected: exactly {n} results files (a shard is missing or extra)",
                        names.len(),
                        if names.len() == 1 { "" } else { "s" },
                        names.join(", ")
                    )));
                }
            }
            let runs = args
                .files
                .iter()
                .map(|p| results::file::read(p))
                .collect::<Result<Vec<_>>>()?;
            (names, runs)
        }
    };
    // Each file once, and none written over: by what the file is on disk, not how its path
    // is spelled (a link, `./a.json`).
    let on_disk = |path: &Path| std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
    let inputs: Vec<_> = names.iter().map(|n| on_disk(Path::new(n))).collect();
    let out_file = match &out {
        Destination::File(path) => on_disk(path),
        Destination::Store { .. } => None,
    };
    results::merge::check_files(&inputs, out_file).map_err(|r| Error::input(r.describe(&names)))?;
    let merged = results::merge::merge(runs).map_err(|r| Error::input(r.describe(&names)))?;
    if let Err(why) = out.write(&merged) {
        eprintln!(
            "error: cannot write the merged results to {}: {why}",
            out.describe()
        );
        return Ok(exit::INTERNAL);
    }
    if !args.quiet {
        print_out(&summary::render(&merged));
    }
    let traffic = merged.traffic_failures();
    for why in &traffic {
        eprintln!("{why}");
    }
    let failed: Vec<_> = merged.thresholds.iter().filter(|t| !t.pass).collect();
    if args.quiet {
        eprint!(
            "{}",
            check_report::quiet(&merged.thresholds, &merged.quota_check)
        );
    }
    if let Some(trip) = &merged.aborted {
        eprintln!("{}", trip.describe());
    }
    Ok(if merged.aborted.is_some() {
        exit::ABORTED
    } else if !failed.is_empty() || !merged.quota_check.pass || !traffic.is_empty() {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

/// Prints to stdout, shrugging off a closed pipe.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}
