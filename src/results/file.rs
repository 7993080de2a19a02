//! Writing the results file: tried before traffic, written beside and renamed into place,
//! and kept in a fallback file when `--out` fails after all — never lost.

use std::path::{Path, PathBuf};

use super::Results;
use crate::error::{Error, Result};

/// Fails before any traffic if the results could not be written afterwards: creates and
/// removes a file beside `out`, as the final write will.
pub fn check_writable(out: &Path) -> Result<()> {
    check_writable_as("--out", out)
}

/// As [`check_writable`], for any file a flag names (`--junit FILE`): the error names it.
pub fn check_writable_as(flag: &str, out: &Path) -> Result<()> {
    let bad = |why: String| {
        Error::input(format!(
            "{flag} {}: {why}\n  expected: a file path in a directory stampede may write to",
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

/// Reads a results file written by `run` (or `merge`). Bad input (exit 2) names the file and,
/// for a JSON or shape error, the line and column; a file of another major version of the
/// format says which version it is and which this stampede reads.
pub fn read(path: &Path) -> Result<Results> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::input(format!(
            "results file {}: cannot read it: {e}\n  expected: a results file written by `stampede run --out`",
            path.display()
        ))
    })?;
    parse(&path.display().to_string(), &text)
}

/// A results file's text, read from `name` (a path, or a store's URL): as [`read`].
pub fn parse(name: &str, text: &str) -> Result<Results> {
    let bad = |why: String, expected: &str| {
        Error::input(format!(
            "results file {name}: {why}\n  expected: {expected}"
        ))
    };
    // The version first, so a newer file gets "version 2" rather than a missing key.
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(
            format!("{}:{}: {e}", e.line(), e.column()),
            "JSON, as `stampede run --out` writes it",
        )
    })?;
    let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    let major = super::SCHEMA.rsplit_once('/').map_or("1", |(_, v)| v);
    match schema.strip_prefix("stampede.results/") {
        Some(v) if v.split('.').next() == Some(major) => {}
        Some(v) => {
            return Err(bad(
                format!("format version {v}; this stampede reads version {major}"),
                &format!(
                    "\"schema\": \"{}\" (a newer stampede reads newer files)",
                    super::SCHEMA
                ),
            ))
        }
        None => {
            return Err(bad(
                format!("`schema` is {schema:?}, not a stampede results format"),
                &format!("\"schema\": \"{}\"", super::SCHEMA),
            ))
        }
    }
    serde_json::from_str(text).map_err(|e| {
        bad(
            format!("{}:{}: {e}", e.line(), e.column()),
            "the keys of docs/results.md (`stampede schema results`)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Results> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, text).unwrap();
        read(&path)
    }

    #[test]
    fn what_is_not_a_results_file_says_why_and_where() {
        let e = read_text("{\"schema\": \"stampede.results/1\",\n \"name\": }").unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.message.contains("r.json: 2:"), "{}", e.message);
        let e = read_text("{\"schema\": \"stampede.results/2\"}").unwrap_err();
        assert!(
            e.message
                .contains("format version 2; this stampede reads version 1"),
            "{}",
            e.message
        );
        let e = read_text("{\"schema\": \"k6\"}").unwrap_err();
        assert!(
            e.message.contains("not a stampede results format"),
            "{}",
            e.message
        );
        let e = read_text("{\"schema\": \"stampede.results/1\"}").unwrap_err();
        assert!(e.message.contains("missing field"), "{}", e.message);
    }
}
