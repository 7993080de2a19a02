//! `merge STORE`: the shard files of a split test gathered from its store (a directory or
//! an S3 prefix) — waiting, with progress, for the shards still running — and read.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::results::{file, Results};
use crate::scenario::Shard;
use crate::store::Store;

/// How often the store is looked at while waiting.
const POLL: Duration = Duration::from_millis(500);

/// The shard files in the store, by index.
fn shard_files(store: &Store) -> Result<Vec<(Shard, String)>> {
    let names = store.list().map_err(|e| {
        Error::input(format!(
            "merge {}: cannot list it: {e}\n  expected: the directory or S3 prefix the shards' --out wrote shard-I-of-N.json to",
            store.describe()
        ))
    })?;
    let mut out: Vec<(Shard, String)> = names
        .into_iter()
        .filter_map(|n| Shard::from_file_name(&n).map(|s| (s, n)))
        .collect();
    out.sort_by_key(|(s, _)| (s.count, s.index));
    Ok(out)
}

/// Every shard's results in `store` — `expect` of them, else as many as the file names say —
/// waiting up to `wait` for the missing ones: (where each came from, its results). Err
/// names the shards that never arrived.
pub fn gather(
    store: &Store,
    expect: Option<usize>,
    wait: Duration,
    quiet: bool,
) -> Result<Vec<(String, Results)>> {
    let deadline = Instant::now() + wait;
    let bar = (!quiet && !wait.is_zero()).then(|| {
        let bar = indicatif::ProgressBar::new(expect.unwrap_or(0) as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("waiting for shards {pos}/{len} {elapsed}")
                .expect("a valid template"),
        );
        bar
    });
    let files = loop {
        let files = shard_files(store)?;
        let mut counts: Vec<u64> = files.iter().map(|(s, _)| s.count).collect();
        counts.dedup();
        if counts.len() > 1 {
            return Err(Error::input(format!(
                "merge {}: shard files of different splits: {}\n  expected: one split test per store (a fresh directory or prefix for each test)",
                store.describe(),
                files.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        let n = expect.map(|e| e as u64).or(counts.first().copied());
        if let (Some(b), Some(n)) = (&bar, n) {
            b.set_length(n);
            b.set_position(files.len() as u64);
        }
        if let (Some(n), Some(c)) = (n, counts.first()) {
            if *c != n {
                return Err(Error::input(format!(
                    "merge {}: --expect {n}, but the files there are shards of {c}\n  expected: --expect the number of shards the test was split into",
                    store.describe()
                )));
            }
        }
        if n.is_some_and(|n| files.len() as u64 == n) {
            break files;
        }
        if Instant::now() >= deadline {
            if let Some(b) = &bar {
                b.abandon();
            }
            return Err(missing(store, n, &files, wait));
        }
        std::thread::sleep(POLL.min(deadline.saturating_duration_since(Instant::now())));
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    files
        .into_iter()
        .map(|(_, name)| {
            let at = store.locate(&name);
            let bytes = store
                .get(&name)
                .map_err(|e| Error::input(format!("results file {at}: cannot read it: {e}")))?
                .ok_or_else(|| Error::input(format!("results file {at}: gone while reading")))?;
            let text = String::from_utf8_lossy(&bytes);
            Ok((at.clone(), file::parse(&at, &text)?))
        })
        .collect()
}

/// The error naming every shard that did not arrive.
fn missing(store: &Store, n: Option<u64>, files: &[(Shard, String)], wait: Duration) -> Error {
    let waited = if wait.is_zero() {
        String::new()
    } else {
        format!(" after waiting {}", humantime::format_duration(wait))
    };
    let Some(n) = n else {
        return Error::input(format!(
            "merge {}: no shard files (shard-I-of-N.json) there{waited}\n  expected: the directory or S3 prefix the shards' --out wrote to",
            store.describe()
        ));
    };
    let missing: Vec<String> = (0..n)
        .filter(|i| !files.iter().any(|(s, _)| s.index == *i))
        .map(|i| Shard { index: i, count: n }.file_name())
        .collect();
    Error::input(format!(
        "merge {}: {} of {n} shards missing{waited}: {}\n  expected: every shard's file (a shard that failed or never started is named above)",
        store.describe(),
        missing.len(),
        missing.join(", ")
    ))
}
