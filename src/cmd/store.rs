//! A shared store of shard results: a directory (local or mounted) the shards of a split
//! test write `shard-I-of-N.json` to, and `merge DIR/` reads from — waiting, with progress,
//! for the shards still running.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::scenario::Shard;

/// How often the store is looked at while waiting.
const POLL: Duration = Duration::from_millis(500);

/// True when `path` names a store: written with a trailing slash, or a directory.
pub fn is_store(path: &Path) -> bool {
    path.as_os_str().to_string_lossy().ends_with('/') || path.is_dir()
}

/// The shard files in `dir`, by index.
fn shard_files(dir: &Path) -> Result<Vec<(Shard, PathBuf)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::input(format!(
            "merge {}: cannot read the directory: {e}\n  expected: a directory the shards write shard-I-of-N.json to",
            dir.display()
        ))
    })?;
    let mut out: Vec<(Shard, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            Shard::from_file_name(name.to_str()?).map(|s| (s, e.path()))
        })
        .collect();
    out.sort_by_key(|(s, _)| (s.count, s.index));
    Ok(out)
}

/// The files of every shard in `dir`: `expect` of them (else as many as their names say),
/// waiting up to `wait` for the missing ones. Err names the shards that never arrived.
pub fn gather(
    dir: &Path,
    expect: Option<usize>,
    wait: Duration,
    quiet: bool,
) -> Result<Vec<PathBuf>> {
    let deadline = Instant::now() + wait;
    let bar = (!quiet && !wait.is_zero()).then(|| {
        let bar = indicatif::ProgressBar::new(expect.unwrap_or(0) as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "waiting for shards {pos}/{len} {elapsed} {msg}",
            )
            .expect("a valid template"),
        );
        bar
    });
    loop {
        let files = shard_files(dir)?;
        let counts: Vec<u64> = {
            let mut c: Vec<u64> = files.iter().map(|(s, _)| s.count).collect();
            c.dedup();
            c
        };
        if counts.len() > 1 {
            return Err(Error::input(format!(
                "merge {}: shard files of different splits ({} shards): {}\n  expected: one split test per store",
                dir.display(),
                counts.iter().map(u64::to_string).collect::<Vec<_>>().join(" and "),
                files.iter().map(|(s, _)| s.file_name()).collect::<Vec<_>>().join(", ")
            )));
        }
        let n = expect.map(|e| e as u64).or(counts.first().copied());
        if let (Some(b), Some(n)) = (&bar, n) {
            b.set_length(n);
            b.set_position(files.len() as u64);
        }
        if let Some(n) = n {
            if counts.first().is_some_and(|c| *c != n) {
                return Err(Error::input(format!(
                    "merge {}: --expect {n}, but the files are shards of {}\n  expected: --expect the number of shards the test was split into",
                    dir.display(),
                    counts[0]
                )));
            }
            if files.len() as u64 == n {
                if let Some(b) = bar {
                    b.finish_and_clear();
                }
                return Ok(files.into_iter().map(|(_, p)| p).collect());
            }
        }
        if Instant::now() >= deadline {
            if let Some(b) = bar {
                b.abandon();
            }
            let Some(n) = n else {
                return Err(Error::input(format!(
                    "merge {}: no shard files (shard-I-of-N.json) there{}\n  expected: the directory the shards' --out DIR/ wrote to",
                    dir.display(),
                    waited(wait)
                )));
            };
            let missing: Vec<String> = (0..n)
                .filter(|i| !files.iter().any(|(s, _)| s.index == *i))
                .map(|i| Shard { index: i, count: n }.file_name())
                .collect();
            return Err(Error::input(format!(
                "merge {}: {} of {n} shards missing{}: {}\n  expected: every shard's file (a shard that failed or never started is named above)",
                dir.display(),
                missing.len(),
                waited(wait),
                missing.join(", ")
            )));
        }
        std::thread::sleep(POLL.min(deadline.saturating_duration_since(Instant::now())));
    }
}

fn waited(wait: Duration) -> String {
    if wait.is_zero() {
        String::new()
    } else {
        format!(" after waiting {}", humantime::format_duration(wait))
    }
}
