//! Where the shards of a split test keep their results: a directory (local, or a shared
//! mount) or an S3 prefix. Each shard writes `shard-I-of-N.json` there; `merge` reads them
//! back; an abort marker lets one shard's abort rule stop the others.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::results::{file, Results};
use crate::scenario::Shard;

mod s3;
pub mod watch;

pub use s3::S3Location;

/// The name of the abort marker in a store.
pub const ABORT_MARKER: &str = "abort.json";

/// A shared store of results files.
#[derive(Clone, Debug, PartialEq)]
pub enum Store {
    Dir(PathBuf),
    S3(S3Location),
}

impl Store {
    /// `s3://bucket/prefix/`, or a path with a trailing slash (or an existing directory).
    /// `None`: a plain file path.
    pub fn parse(given: &Path) -> std::result::Result<Option<Store>, String> {
        let text = given.as_os_str().to_string_lossy();
        if let Some(rest) = text.strip_prefix("s3://") {
            return S3Location::parse(rest).map(|l| Some(Store::S3(l)));
        }
        if text.ends_with('/') || given.is_dir() {
            return Ok(Some(Store::Dir(given.to_path_buf())));
        }
        Ok(None)
    }

    /// As the user wrote it.
    pub fn describe(&self) -> String {
        match self {
            Store::Dir(d) => d.display().to_string(),
            Store::S3(l) => l.url(""),
        }
    }

    /// Where `name` is, for messages: a path or an `s3://` URL.
    pub fn locate(&self, name: &str) -> String {
        match self {
            Store::Dir(d) => d.join(name).display().to_string(),
            Store::S3(l) => l.url(name),
        }
    }

    /// Makes the store ready to write to (a directory is created); fails before traffic
    /// when it cannot be written.
    pub fn prepare(&self) -> std::io::Result<()> {
        match self {
            Store::Dir(d) => {
                std::fs::create_dir_all(d)?;
                // One probe per process: shards prepare the same directory at once.
                let probe = d.join(format!(".stampede-probe-{}", std::process::id()));
                std::fs::write(&probe, b"").and_then(|_| std::fs::remove_file(&probe))
            }
            Store::S3(l) => s3::blocking(|c| async move { c.check(l).await }),
        }
    }

    /// Writes `name` whole: a reader sees the old file or the new one, never half.
    pub fn put(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Store::Dir(d) => {
                let tmp = d.join(format!(".{name}.{}.partial", std::process::id()));
                let written =
                    std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, d.join(name)));
                if written.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                written
            }
            Store::S3(l) => {
                let bytes = bytes.to_vec();
                s3::blocking(|c| async move { c.put(l, name, bytes).await })
            }
        }
    }

    /// Reads `name`; `None` when it is not there.
    pub fn get(&self, name: &str) -> std::io::Result<Option<Vec<u8>>> {
        match self {
            Store::Dir(d) => {
                let path = d.join(name);
                if !path.exists() {
                    return Ok(None);
                }
                crate::located::read_user_file(&path, file::RESULTS_MAX)
                    .map(Some)
                    .map_err(std::io::Error::other)
            }
            Store::S3(l) => s3::blocking(|c| async move { c.get(l, name).await }),
        }
    }

    /// The names of the files in the store (not in sub-directories or deeper prefixes).
    pub fn list(&self) -> std::io::Result<Vec<String>> {
        match self {
            Store::Dir(d) => Ok(std::fs::read_dir(d)?
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()),
            Store::S3(l) => s3::blocking(|c| async move { c.list(l).await }),
        }
    }
}

/// Where `run --out` writes the results: a file, or a file in a store (`shard-I-of-N.json`
/// for a shard, `results.json` otherwise).
#[derive(Clone, Debug)]
pub enum Destination {
    File(PathBuf),
    Store { store: Store, name: String },
}

impl Destination {
    /// `--out` as given; in a store the file is the shard's, else `unsharded` (`run`:
    /// results.json, `merge`: merged.json). Bad input (exit 2): an `s3://` URL that is not
    /// a prefix.
    pub fn from_flag(out: &Path, shard: Option<Shard>, unsharded: &str) -> Result<Destination> {
        let store = Store::parse(out).map_err(|why| {
            Error::input(format!(
                "--out: {why}\n  expected: a file, a directory (DIR/) or an S3 prefix (s3://bucket/prefix/)"
            ))
        })?;
        Ok(match store {
            None => Destination::File(out.to_path_buf()),
            Some(store) => Destination::Store {
                store,
                name: shard.map_or(unsharded.to_string(), Shard::file_name),
            },
        })
    }

    /// Fails before any traffic (exit 2) when the results could not be written afterwards.
    pub fn prepare(&self) -> Result<()> {
        match self {
            Destination::File(path) => file::check_writable(path),
            Destination::Store { store, .. } => store.prepare().map_err(|e| {
                Error::input(format!(
                    "--out {}: cannot write there: {e}\n  expected: a directory or S3 prefix stampede may write to (for S3: the bucket exists, and the credentials may s3:ListBucket and s3:PutObject)",
                    store.describe()
                ))
            }),
        }
    }

    pub fn write(&self, results: &Results) -> std::io::Result<()> {
        match self {
            Destination::File(path) => file::write(path, results),
            Destination::Store { store, name } => {
                let json = serde_json::to_vec_pretty(results).map_err(std::io::Error::other)?;
                store.put(name, &json)
            }
        }
    }

    /// Where the results go, for messages.
    pub fn describe(&self) -> String {
        match self {
            Destination::File(path) => path.display().to_string(),
            Destination::Store { store, name } => store.locate(name),
        }
    }

    /// The local file to fall back on when the write fails: beside it, or its name.
    pub fn fallback_path(&self) -> PathBuf {
        match self {
            Destination::File(path) => path.clone(),
            Destination::Store { name, .. } => PathBuf::from(name),
        }
    }

    /// The store, when the results go to one.
    pub fn store(&self) -> Option<&Store> {
        match self {
            Destination::File(_) => None,
            Destination::Store { store, .. } => Some(store),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_are_told_apart_from_files() {
        assert_eq!(Store::parse(Path::new("out.json")).unwrap(), None);
        assert_eq!(
            Store::parse(Path::new("results/")).unwrap(),
            Some(Store::Dir(PathBuf::from("results/")))
        );
        let Some(Store::S3(l)) = Store::parse(Path::new("s3://bucket/runs/launch/")).unwrap()
        else {
            panic!("an s3 store")
        };
        assert_eq!(
            (l.bucket.as_str(), l.prefix.as_str()),
            ("bucket", "runs/launch/")
        );
        assert_eq!(
            l.url("shard-0-of-2.json"),
            "s3://bucket/runs/launch/shard-0-of-2.json"
        );
        assert!(Store::parse(Path::new("s3://")).is_err());
        assert!(Store::parse(Path::new("s3://bucket/no-slash")).is_err());
    }

    #[test]
    fn a_directory_store_writes_whole_files_and_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::Dir(dir.path().join("new/"));
        store.prepare().unwrap();
        assert_eq!(store.get("shard-0-of-1.json").unwrap(), None);
        store.put("shard-0-of-1.json", b"{}").unwrap();
        assert_eq!(store.get("shard-0-of-1.json").unwrap().unwrap(), b"{}");
        assert_eq!(store.list().unwrap(), ["shard-0-of-1.json"]);
    }
}
