//! Where a value came from, so an error can name the file, line and column: shared by
//! everything that reads a file the user wrote (scenarios, quotas files, emulator settings).
//! With it, the error every command ends with ([`Error`], its exit code) and the value
//! forms the typed readers accept, as JSON Schema definitions ([`forms`]).
//!
//! A crate of its own because the CLI and the emulator both read what the user wrote and
//! must say where it is wrong in the same words; neither may depend on the other.

pub mod error;
pub mod forms;

pub use error::{exit, Error, Result};

use std::ops::Range;
use std::path::{Path, PathBuf};

use std::time::Duration;

use toml::{Spanned, Value};

const DURATION_FORM: &str = "a duration string such as \"30s\", \"250ms\" or \"2m\"";

/// The text of a scenario file (or a flag) and its name, for positioned errors.
pub struct Source<'a> {
    pub name: PathBuf,
    pub text: &'a str,
}

impl<'a> Source<'a> {
    pub fn new(name: &Path, text: &'a str) -> Source<'a> {
        Source {
            name: name.to_path_buf(),
            text,
        }
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// An input error at `span`: `file:line:col: message`, the offending line, and a hint.
    /// The message and the quoted line are cut to a few hundred characters: a line of
    /// 200,000 brackets (nesting past the parser's depth) gives an error of a line or two.
    pub fn error(&self, span: Range<usize>, message: &str, expected: &str) -> Error {
        let (line, col) = self.line_col(span.start);
        // Redacted before it is cut: a cut could leave a password without its `://`.
        let text_line = redact_userinfo(self.text.lines().nth(line - 1).unwrap_or(""));
        let mut out = format!(
            "{}:{}:{}: {}\n  {} | {}\n",
            self.name.display(),
            line,
            col,
            cut(message, 0, MESSAGE_MAX),
            line,
            cut(&text_line, col - 1, QUOTE_MAX)
        );
        if !expected.is_empty() {
            out.push_str(&format!("  expected: {expected}"));
        }
        // The quoted line may hold a URL with a password.
        Error::input(redact_userinfo(out.trim_end()))
    }
}

/// The most characters of a message, and of the quoted line, an error shows.
const MESSAGE_MAX: usize = 300;
const QUOTE_MAX: usize = 120;

/// At most `max` characters of `text` around character `at`, with `…` where cut.
fn cut(text: &str, at: usize, max: usize) -> String {
    let len = text.chars().count();
    if len <= max {
        return text.to_string();
    }
    let start = at.saturating_sub(max / 2).min(len - max);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(text.chars().skip(start).take(max));
    if start + max < len {
        out.push('…');
    }
    out
}

/// A bad flag: `--flag: why` and what was expected (exit 2). Flags have no line and column.
pub fn flag_error(flag: &str, why: &str, expected: &str) -> Error {
    Error::input(format!("{flag}: {why}\n  expected: {expected}"))
}

/// Typed values, each error at the value's position.
impl Source<'_> {
    /// `given` is not one of `valid`: "unknown {what} `given` (did you mean `x`?)".
    pub fn unknown(&self, span: Range<usize>, what: &str, given: &str, valid: &[&str]) -> Error {
        let mut msg = format!("unknown {what} `{given}`");
        if let Some(near) = nearest(given, valid) {
            msg.push_str(&format!(" (did you mean `{near}`?)"));
        }
        self.error(span, &msg, &format!("one of {}", valid.join(", ")))
    }

    /// A positive duration written as a string ("30s").
    pub fn duration(&self, v: &Spanned<Value>, key: &str) -> Result<Duration> {
        let d = self.duration_or_zero(v, key)?;
        if d.is_zero() {
            return Err(self.error(
                v.span(),
                &format!("`{key}` must be longer than zero"),
                DURATION_FORM,
            ));
        }
        Ok(d)
    }

    /// A duration written as a string; "0s" allowed.
    pub fn duration_or_zero(&self, v: &Spanned<Value>, key: &str) -> Result<Duration> {
        let (src, expected) = (self, DURATION_FORM);
        let text = match v.get_ref() {
            Value::String(s) => s,
            other => {
                return Err(src.error(
                    v.span(),
                    &format!("`{key}` is a {}, not a duration", other.type_str()),
                    expected,
                ))
            }
        };
        humantime::parse_duration(text.trim()).map_err(|_| {
            src.error(
                v.span(),
                &format!("bad duration `{text}` for `{key}`"),
                expected,
            )
        })
    }

    /// A rate: a number > 0, or ≥ 0 when `allow_zero`.
    pub fn number(&self, v: &Spanned<Value>, key: &str, allow_zero: bool) -> Result<f64> {
        self.number_in(v, key, allow_zero, "requests per second")
    }

    /// A number > 0 (≥ 0 when `allow_zero`) counted in `unit`.
    pub fn number_in(
        &self,
        v: &Spanned<Value>,
        key: &str,
        allow_zero: bool,
        unit: &str,
    ) -> Result<f64> {
        let src = self;
        let expected = &if allow_zero {
            format!("a number ≥ 0 ({unit})")
        } else {
            format!("a number > 0 ({unit})")
        };
        let n = match v.get_ref() {
            Value::Integer(i) => *i as f64,
            Value::Float(f) => *f,
            other => {
                return Err(src.error(
                    v.span(),
                    &format!("`{key}` is a {}, not a number", other.type_str()),
                    expected,
                ))
            }
        };
        if !n.is_finite() || n < 0.0 || (n == 0.0 && !allow_zero) {
            let what = if n == 0.0 { "zero" } else { "negative" };
            return Err(src.error(v.span(), &format!("`{key}` is {what} ({n})"), expected));
        }
        Ok(n)
    }

    /// A whole number ≥ 1.
    pub fn whole_number(&self, v: &Spanned<Value>, key: &str) -> Result<u64> {
        let src = self;
        match v.get_ref() {
            Value::Integer(i) if *i > 0 => Ok(*i as u64),
            Value::Integer(i) => Err(src.error(
                v.span(),
                &format!("`{key}` must be at least 1, not {i}"),
                "a whole number ≥ 1",
            )),
            other => Err(src.error(
                v.span(),
                &format!("`{key}` is a {}, not a whole number", other.type_str()),
                "a whole number ≥ 1",
            )),
        }
    }
}

/// Turns toml's own error (syntax, unknown key, wrong type) into ours.
pub fn toml_error(src: &Source, e: &toml::de::Error) -> Error {
    let span = e.span().unwrap_or(0..0);
    let message = e.message().trim();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let names: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        if let Some((given, valid)) = names.split_first() {
            let mut msg = format!("unknown key `{given}`");
            if let Some(near) = nearest(given, valid) {
                msg.push_str(&format!(" (did you mean `{near}`?)"));
            }
            return src.error(span, &msg, &format!("one of {}", valid.join(", ")));
        }
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return src.error(span, &format!("missing key {rest}"), "");
    }
    src.error(span, message, "")
}

/// The valid name closest to `given`, if it is close enough to be a likely typo.
pub fn nearest<'n>(given: &str, valid: &[&'n str]) -> Option<&'n str> {
    valid
        .iter()
        .map(|v| (strsim::jaro_winkler(given, v), *v))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v)
}

/// `text` with any URL password replaced by `***` (for messages that quote what was given).
pub fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '`')
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or("");
                out.push_str(&format!("{user}:***@{host}"));
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let s = Source::new(Path::new("x.toml"), "a = 1\nbb = 2\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(6), (2, 1));
        assert_eq!(s.line_col(9), (2, 4));
    }

    #[test]
    fn nearest_suggests_typos_only() {
        let valid = ["rate", "duration", "requests"];
        assert_eq!(nearest("rat", &valid), Some("rate"));
        assert_eq!(nearest("duraton", &valid), Some("duration"));
        assert_eq!(nearest("zzz", &valid), None);
    }

    #[test]
    fn a_long_line_is_quoted_around_the_column() {
        let deep = format!("x = {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let s = Source::new(Path::new("deep.toml"), &deep);
        let e = s
            .error(5_000..5_001, &"m".repeat(5_000), "a shallower array")
            .to_string();
        assert!(e.len() < 1_200, "{} bytes: {e}", e.len());
        assert!(e.starts_with("deep.toml:1:5001: mmm"), "{e}");
        assert!(e.contains("m…\n  1 | …[[[") && e.contains("[[…\n"), "{e}");
        assert!(e.ends_with("expected: a shallower array"), "{e}");
        // Short lines are quoted whole; a password is redacted before any cut.
        assert_eq!(cut("abc", 1, 10), "abc");
        assert_eq!(cut("abcdefghij", 9, 4), "…ghij");
        assert_eq!(cut("abcdefghij", 0, 4), "abcd…");
        let url = format!("url = \"http://alice:s3cret@host/{}\"", "p".repeat(500));
        let s = Source::new(Path::new("u.toml"), &url);
        let e = s.error(82..83, "bad", "").to_string();
        assert!(!e.contains("s3cret") && !e.contains("cret"), "{e}");
    }

    #[test]
    fn messages_never_quote_a_password() {
        assert_eq!(
            redact_userinfo("bad URL `http://alice:s3cret@host:1/p`: no"),
            "bad URL `http://alice:***@host:1/p`: no"
        );
        assert_eq!(
            redact_userinfo("see https://example.com/x"),
            "see https://example.com/x"
        );
    }
}

/// The most a scenario, quotas file, emulator settings file or CA file may hold.
pub const TEXT_FILE_MAX: u64 = 4 << 20;

/// What a file is, for a message: "a directory", "a FIFO (named pipe)", …
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// A size for a message: "12.5 MiB", "900 KiB", "17 bytes".
pub fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Reads a file the user named, whole: only a regular file (a FIFO would wait for a
/// writer, a device such as /dev/zero never ends) of at most `max` bytes, checked before
/// it is opened and again while it is read (a file that grows). The error says why, in a
/// few words, for the caller to put after the file's name.
pub fn read_user_file(path: &Path, max: u64) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let too_big = |len: u64| {
        format!(
            "{} is more than the {} it may be",
            size_text(len),
            size_text(max)
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| io_reason(&e))?;
    if !meta.is_file() {
        return Err(format!("is {}, not a regular file", kind_of(&meta)));
    }
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    // Non-blocking, and looked at again once open: swapped for a FIFO meanwhile, the open
    // still returns at once and the check refuses it.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| io_reason(&e))?;
    let meta = file.metadata().map_err(|e| io_reason(&e))?;
    if !meta.is_file() {
        return Err(format!("is {}, not a regular file", kind_of(&meta)));
    }
    let mut data = Vec::with_capacity(meta.len().min(max) as usize);
    file.take(max + 1)
        .read_to_end(&mut data)
        .map_err(|e| io_reason(&e))?;
    if data.len() as u64 > max {
        return Err(too_big(data.len() as u64));
    }
    Ok(data)
}

/// As [`read_user_file`], for text: not UTF-8 is an error too.
pub fn read_user_text(path: &Path, max: u64) -> std::result::Result<String, String> {
    String::from_utf8(read_user_file(path, max)?).map_err(|_| "not UTF-8 text".to_string())
}

/// An I/O error in a few words.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod user_file_tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"hello").unwrap();
        assert_eq!(read_user_file(&small, 5).unwrap(), b"hello");
        let why = read_user_file(&small, 4).unwrap_err();
        assert_eq!(why, "5 bytes is more than the 4 bytes it may be");
        let why = read_user_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(why, "is a character device, not a regular file");
        assert_eq!(
            read_user_file(dir.path(), 10).unwrap_err(),
            "is a directory, not a regular file"
        );
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string; mkfifo has no other preconditions.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(
            read_user_file(&fifo, 10).unwrap_err(),
            "is a FIFO (named pipe), not a regular file"
        );
        assert_eq!(
            read_user_file(&dir.path().join("none"), 10).unwrap_err(),
            "no such file"
        );
    }
}
