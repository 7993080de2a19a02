//! `stampede merge`: results files read, merged (`results::merge`), written (with the
//! fallback file) and judged as one run by the one verdict (pipeline::Sink): a merged
//! whole holding an aborted, faulted or interrupted shard exits 3, 4 or 130, as that run
//! did.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::cli::{MergeArgs, ReportOutputs};
use crate::error::{Error, Result};
use crate::pipeline::{gather, Sink};
use crate::results::{self, Results};
use crate::store::{Destination, Store};
use crate::verdict::judge::Command;

pub fn merge(args: &MergeArgs) -> Result<i32> {
    let wait = args.wait.unwrap_or_default();
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
    let sink = Sink::prove(
        Command::Merge,
        Some(&args.out),
        None,
        "merged.json",
        &ReportOutputs::default(),
        args.quiet,
    )?;
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
    let out_file = match sink.destination() {
        Some(Destination::File(path)) => on_disk(path),
        _ => None,
    };
    results::merge::check_files(&inputs, out_file).map_err(|r| Error::input(r.describe(&names)))?;
    let merged = results::merge::merge(runs).map_err(|r| Error::input(r.describe(&names)))?;
    Ok(sink.deliver(&merged))
}
