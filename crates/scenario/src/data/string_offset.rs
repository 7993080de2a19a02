//! Where a character of a TOML string value sits in the file: the decoded text a template
//! error points into differs from the written text by its quotes and escapes.

/// Where decoded byte `offset` of a TOML string sits in its written form `raw` (quotes
/// included): escapes (`\n`, `\"`, `\u00e9`, …) and a multi-line string's trimmed first
/// newline and line-ending backslashes are counted. `raw` that is not a TOML string
/// (a span off by any means) maps to its start.
pub(super) fn raw_offset(raw: &str, offset: usize) -> usize {
    let (open, basic) = if raw.starts_with("\"\"\"") {
        (3, true)
    } else if raw.starts_with("'''") {
        (3, false)
    } else if raw.starts_with('"') {
        (1, true)
    } else if raw.starts_with('\'') {
        (1, false)
    } else {
        return 0;
    };
    let mut at = open;
    // A newline right after the opening delimiter of a multi-line string is not part of it.
    if open == 3 {
        if raw[at..].starts_with("\r\n") {
            at += 2;
        } else if raw[at..].starts_with('\n') {
            at += 1;
        }
    }
    let close = raw.len().saturating_sub(open).max(at);
    let mut decoded = 0;
    let bytes = raw.as_bytes();
    while at < close && decoded < offset {
        if basic && bytes[at] == b'\\' {
            let (raw_len, decoded_len) = escape(&raw[at..close]);
            at += raw_len;
            decoded += decoded_len;
            continue;
        }
        let len = raw[at..].chars().next().map_or(1, char::len_utf8);
        at += len;
        decoded += len;
    }
    // A line-ending backslash right here decodes to nothing: point past it.
    while basic && at < close && bytes[at] == b'\\' {
        let (raw_len, decoded_len) = escape(&raw[at..close]);
        if decoded_len != 0 {
            break;
        }
        at += raw_len;
    }
    at
}

/// An escape at the start of `s`: its written and decoded lengths in bytes.
fn escape(s: &str) -> (usize, usize) {
    let b = s.as_bytes();
    match b.get(1) {
        Some(b'u') | Some(b'U') | Some(b'x') => {
            let digits = match b[1] {
                b'u' => 4,
                b'U' => 8,
                _ => 2,
            };
            let hex = s.get(2..2 + digits).unwrap_or("");
            let c = u32::from_str_radix(hex, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            ((2 + digits).min(s.len()), c.len_utf8())
        }
        // A line-ending backslash: the newline and the whitespace after it are dropped.
        Some(b' ' | b'\t' | b'\r' | b'\n') => {
            let skipped = s[1..]
                .find(|c: char| !c.is_whitespace())
                .map_or(s.len(), |i| i + 1);
            (skipped, 0)
        }
        Some(_) => (2, 1),
        None => (1, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_inside_strings_count_escapes() {
        // Decoded `a"é{{x` — the `{{` at decoded byte 4 (é is 2 bytes).
        let raw = r#""a\"\u00e9{{x""#;
        assert_eq!(&raw[raw_offset(raw, 4)..raw_offset(raw, 4) + 2], "{{");
        assert_eq!(raw_offset(raw, 0), 1);
        let raw = "'a\\{{x'";
        assert_eq!(&raw[raw_offset(raw, 2)..], "{{x'");
        let raw = "\"\"\"\nab \\\n   {{x\"\"\"";
        assert_eq!(&raw[raw_offset(raw, 3)..raw_offset(raw, 3) + 2], "{{");
        let raw = "'''\nab\n{{x'''";
        assert_eq!(&raw[raw_offset(raw, 3)..raw_offset(raw, 3) + 2], "{{");
        assert_eq!(raw_offset("not a string", 3), 0);
        // Past the end stays before the closing quote.
        assert_eq!(raw_offset("\"ab\"", 10), 3);
    }
}
