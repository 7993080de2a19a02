//! Where a value came from, so an error can name the file, line and column.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::Error;

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
    pub fn error(&self, span: Range<usize>, message: &str, expected: &str) -> Error {
        let (line, col) = self.line_col(span.start);
        let text_line = self.text.lines().nth(line - 1).unwrap_or("");
        let mut out = format!(
            "{}:{}:{}: {}\n  {} | {}\n",
            self.name.display(),
            line,
            col,
            message,
            line,
            text_line
        );
        if !expected.is_empty() {
            out.push_str(&format!("  expected: {expected}"));
        }
        Error::input(out.trim_end().to_string())
    }
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
}
