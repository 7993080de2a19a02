//! A results file's text: checked for its format version, then read into [`Results`]; and
//! written back as JSON. (Trying `--out` before traffic, writing beside and renaming, and the
//! fallback file are the CLI's.)

use std::path::Path;

use crate::error::{Error, Result};
use crate::{Results, SCHEMA};

/// The most a results file read back may hold (a day's run at one point a second is
/// under 100 MB).
pub const RESULTS_MAX: u64 = 1 << 30;

/// The JSON a results file holds, as `run` and `merge` write it.
pub fn to_json(results: &Results) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec_pretty(results)
}

/// Reads the results file at `path` (at most [`RESULTS_MAX`] bytes), as [`parse`].
pub fn read(path: &Path) -> Result<Results> {
    let name = path.display().to_string();
    let cannot = |why: String| {
        Error::new(
            format!("results file {name}"),
            format!("cannot read it: {why}"),
            "a results file written by `stampede run --out`",
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| cannot(e.to_string()))?;
    if !meta.is_file() {
        return Err(cannot("not a regular file".into()));
    }
    if meta.len() > RESULTS_MAX {
        return Err(cannot(format!("more than {RESULTS_MAX} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| cannot(e.to_string()))?;
    parse(&name, &text)
}

/// A results file's text, read from `name` (a path, or a store's URL). A JSON or shape error
/// names the line and column; a file of another major version of the format says which
/// version it is and which this stampede reads.
pub fn parse(name: &str, text: &str) -> Result<Results> {
    let bad =
        |why: String, expected: &str| Error::new(format!("results file {name}"), why, expected);
    // The version first, so a newer file gets "version 2" rather than a missing key.
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(
            format!("{}:{}: {e}", e.line(), e.column()),
            "JSON, as `stampede run --out` writes it",
        )
    })?;
    let schema = value.get("schema").and_then(|s| s.as_str()).unwrap_or("");
    let major = SCHEMA.rsplit_once('/').map_or("1", |(_, v)| v);
    match schema.strip_prefix("stampede.results/") {
        Some(v) if v.split('.').next() == Some(major) => {}
        Some(v) => {
            return Err(bad(
                format!("format version {v}; this stampede reads version {major}"),
                &format!("\"schema\": \"{SCHEMA}\" (a newer stampede reads newer files)"),
            ))
        }
        None => {
            return Err(bad(
                format!("`schema` is {schema:?}, not a stampede results format"),
                &format!("\"schema\": \"{SCHEMA}\""),
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

    #[test]
    fn what_is_not_a_results_file_says_why_and_where() {
        let e = parse(
            "r.json",
            "{\"schema\": \"stampede.results/1\",\n \"name\": }",
        )
        .unwrap_err();
        assert!(e.to_string().contains("r.json: 2:"), "{e}");
        assert_eq!(e.about, "results file r.json");
        let e = parse("r.json", "{\"schema\": \"stampede.results/2\"}").unwrap_err();
        assert!(
            e.why
                .contains("format version 2; this stampede reads version 1"),
            "{e}"
        );
        let e = parse("r.json", "{\"schema\": \"k6\"}").unwrap_err();
        assert!(e.why.contains("not a stampede results format"), "{e}");
        let e = parse("r.json", "{\"schema\": \"stampede.results/1\"}").unwrap_err();
        assert!(e.why.contains("missing field"), "{e}");
    }

    #[test]
    fn a_file_is_read_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "{\"schema\": \"k6\"}").unwrap();
        let e = read(&path).unwrap_err();
        assert!(e
            .to_string()
            .starts_with(&format!("results file {}: ", path.display())));
        assert!(read(dir.path())
            .unwrap_err()
            .why
            .contains("not a regular file"));
    }
}
