//! `{{env.NAME}}` values: read once at start, and secrets — whatever shows or stores text
//! that may hold a rendered template (a failure sample, a log line, an error) masks them
//! as `***` first.

use std::borrow::Cow;

/// The environment variables templates read, with their values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvValues {
    pairs: Vec<(String, String)>,
}

/// An `env.NAME` a template reads that is not set (or not UTF-8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingEnv(pub String);

impl EnvValues {
    /// Reads each of `names` once through `lookup` (`|n| std::env::var(n).ok()` in the
    /// CLI); the first one unset is an error.
    pub fn read<'n>(
        names: impl IntoIterator<Item = &'n str>,
        mut lookup: impl FnMut(&str) -> Option<String>,
    ) -> Result<EnvValues, MissingEnv> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for name in names {
            if pairs.iter().any(|(n, _)| n == name) {
                continue;
            }
            let value = lookup(name).ok_or_else(|| MissingEnv(name.to_string()))?;
            pairs.push((name.to_string(), value));
        }
        Ok(EnvValues { pairs })
    }

    /// By name, as [`crate::template::Context::env`] takes them.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The names of those whose value holds a CR, LF or NUL: refused when a header uses
    /// them, as a header may never carry one.
    pub fn with_line_break(&self) -> impl Iterator<Item = &str> {
        self.pairs
            .iter()
            .filter(|(_, v)| v.contains(['\r', '\n', '\0']))
            .map(|(n, _)| n.as_str())
    }

    /// `text` with every value replaced by `***` (longest first, so a value holding
    /// another is masked whole). Empty values mask nothing.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut values: Vec<&str> = self
            .pairs
            .iter()
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty() && text.contains(*v))
            .collect();
        if values.is_empty() {
            return Cow::Borrowed(text);
        }
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut out = text.to_string();
        for v in values {
            out = out.replace(v, "***");
        }
        Cow::Owned(out)
    }

    /// [`Self::mask`] of bytes that may not be UTF-8 (a rendered request).
    pub fn mask_bytes<'t>(&self, bytes: &'t [u8]) -> Cow<'t, [u8]> {
        let hit = |v: &str| !v.is_empty() && bytes.windows(v.len()).any(|w| w == v.as_bytes());
        if !self.pairs.iter().any(|(_, v)| hit(v)) {
            return Cow::Borrowed(bytes);
        }
        let text = String::from_utf8_lossy(bytes);
        Cow::Owned(self.mask(&text).into_owned().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_once_and_masked() {
        let mut asked = Vec::new();
        let env = EnvValues::read(["TOKEN", "KEY", "TOKEN", "EMPTY"], |n| {
            asked.push(n.to_string());
            Some(match n {
                "TOKEN" => "abc123".into(),
                "KEY" => "abc123-long".into(),
                _ => String::new(),
            })
        })
        .unwrap();
        assert_eq!(asked, ["TOKEN", "KEY", "EMPTY"]);
        assert_eq!(env.mask("x abc123-long y abc123 z"), "x *** y *** z");
        assert!(matches!(env.mask("nothing here"), Cow::Borrowed(_)));
        assert_eq!(&*env.mask_bytes(b"Bearer abc123\r\n"), b"Bearer ***\r\n");
        assert_eq!(env.with_line_break().count(), 0);
        let missing = EnvValues::read(["NOPE"], |_| None).unwrap_err();
        assert_eq!(missing, MissingEnv("NOPE".into()));
    }
}
