//! Writing the results file: tried before traffic, written beside and renamed into place,
//! and kept in a fallback file when `--out` fails after all — never lost.

use std::path::{Path, PathBuf};

use super::Results;
use crate::error::{Error, Result};

/// Fails before any traffic if the results could not be written afterwards: creates and
/// removes a file beside `out`, as the final write will.
pub fn check_writable(out: &Path) -> Result<()> {
    let bad = |why: String| {
        Error::input(format!(
            "--out {}: {why}\n  expected: a file path in a directory stampede may write to",
            out.display()
        ))
    };
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(bad(format!("directory {} does not exist", dir.display())));
    }
    if out.is_dir() {
        return Err(bad("is a directory".into()));
    }
    let probe = partial_path(out);
    std::fs::write(&probe, b"")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| bad(format!("cannot write there: {e}")))
}

/// Where the results are written before being renamed into place.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

pub fn write(out: &Path, results: &Results) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(results).map_err(std::io::Error::other)?;
    // Write beside, then rename: a reader never sees half a file.
    let tmp = partial_path(out);
    std::fs::write(&tmp, json).and_then(|_| std::fs::rename(&tmp, out))
}

/// When `--out` could not be written after all: the working directory, else the temp
/// directory. Returns where the results went.
pub fn write_fallback(out: &Path, results: &Results) -> std::io::Result<PathBuf> {
    let stamp = results.started_at.replace([':', '.'], "-");
    let name = format!("stampede-results-{stamp}.json");
    let mut last = None;
    for dir in [PathBuf::from("."), std::env::temp_dir()] {
        let at = dir.join(&name);
        if at == out {
            continue;
        }
        match write(&at, results) {
            Ok(()) => return Ok(std::fs::canonicalize(&at).unwrap_or(at)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no place to write")))
}
