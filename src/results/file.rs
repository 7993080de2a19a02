//! Writing the results file: tried before traffic, written beside and renamed into place,
//! and kept in a fallback file when `--out` fails after all — never lost. Reading one back
//! as any file the user names; the version check is the results crate's (`parse`).

use std::path::{Path, PathBuf};

use super::Results;
use crate::error::{Error, Result};

pub use stampede_results::file::RESULTS_MAX;

/// Fails before any traffic if the results could not be written afterwards: creates and
/// removes a file beside `out`, as the final write will.
pub fn check_writable(out: &Path) -> Result<()> {
    check_writable_as("--out", out)
}

/// As [`check_writable`], for any file a flag names (`--junit FILE`): the error names it.
/// Only a regular file or a new name will do, reached through any symlinks: a device, a
/// FIFO, a socket or a directory is refused (exit 2).
pub fn check_writable_as(flag: &str, out: &Path) -> Result<()> {
    let bad = |why: String| {
        Error::input(format!(
            "{flag} {}: {why}\n  expected: a regular file (or a new file) in a directory stampede may write to",
            out.display()
        ))
    };
    let target = target_of(out).map_err(bad)?;
    let dir = directory_of(&target);
    if !dir.is_dir() {
        return Err(bad(format!("directory {} does not exist", dir.display())));
    }
    let probe = partial_path(&target);
    std::fs::write(&probe, b"")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| {
            let _ = std::fs::remove_file(&probe);
            bad(format!("cannot write there: {e}"))
        })
}

/// The file `out` names, through any symlinks: itself, its symlink's target, or (a new
/// name) where it will be. Anything but a regular file is an error saying what it is.
pub fn target_of(out: &Path) -> std::result::Result<PathBuf, String> {
    let mut path = out.to_path_buf();
    // As many links as the kernel follows (MAXSYMLINKS).
    for _ in 0..40 {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path),
            Err(e) => return Err(format!("cannot look at it: {e}")),
        };
        if meta.file_type().is_symlink() {
            let to = std::fs::read_link(&path).map_err(|e| format!("cannot read the link: {e}"))?;
            path = directory_of(&path).join(to);
        } else if meta.is_file() {
            return Ok(path);
        } else {
            let through = if path == out {
                String::new()
            } else {
                format!(" (the symlink's target {})", path.display())
            };
            return Err(format!(
                "is {}{through}, not a regular file",
                crate::located::kind_of(&meta)
            ));
        }
    }
    Err("too many levels of symbolic links".into())
}

/// The directory a file is in (`.` for a bare name).
fn directory_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Where the results are written before being renamed into place.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

pub fn write(out: &Path, results: &Results) -> std::io::Result<()> {
    let json = stampede_results::file::to_json(results).map_err(std::io::Error::other)?;
    write_bytes(out, &json)
}

/// Writes `bytes` to the file `out` names (through its symlinks): beside it, then renamed
/// into place, so a reader never sees half a file and a failed write leaves the old file
/// as it was and no `.partial` behind.
pub fn write_bytes(out: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let target = target_of(out).map_err(std::io::Error::other)?;
    let tmp = partial_path(&target);
    // A new file of our own: never through whatever a stale `.partial` was (a symlink).
    let _ = std::fs::remove_file(&tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|_| std::fs::rename(&tmp, &target));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
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
    let text = crate::located::read_user_text(path, RESULTS_MAX).map_err(|why| {
        Error::input(format!(
            "results file {}: cannot read it: {why}\n  expected: a results file written by `stampede run --out`, of at most {}",
            path.display(),
            crate::located::size_text(RESULTS_MAX)
        ))
    })?;
    parse(&path.display().to_string(), &text)
}

/// A results file's text, read from `name` (a path, or a store's URL): as [`read`].
pub fn parse(name: &str, text: &str) -> Result<Results> {
    Ok(stampede_results::file::parse(name, text)?)
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
