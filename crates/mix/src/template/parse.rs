//! Template text into parts. Every error carries a byte range inside the text.

use super::{Part, Position, Scope, TemplateError};

/// The placeholders that take no argument or a fixed form, for "did you mean".
const FIXED: &[&str] = &["uuid", "seq", "timestamp_ms", "random_int"];
const FORMS: &str = "{{uuid}}, {{seq}}, {{random_int A B}}, {{timestamp_ms}}, \
{{data.COLUMN}}, {{SOURCE.COLUMN}}, {{env.NAME}}, {{captured.NAME}}, or {{\"text\"}} for text \
sent as written (e.g. {{\"{{\"}})";

fn err(
    span: std::ops::Range<usize>,
    message: String,
    expected: impl Into<String>,
) -> TemplateError {
    TemplateError {
        span,
        message,
        expected: expected.into(),
    }
}

pub(super) fn parts(
    text: &str,
    scope: &Scope,
    position: Position,
) -> Result<Vec<Part>, TemplateError> {
    let mut parts = Vec::new();
    let mut literal = Vec::new();
    let mut at = 0;
    // Each `random_int` draws by its own salt: the template's text and its place in it,
    // so a path's and a body's draws differ too (identical templates draw alike).
    let mut random_ints = fnv1a(text.as_bytes());
    while let Some(found) = text[at..].find("{{") {
        let open = at + found;
        push_literal(&mut literal, text, at..open, position)?;
        let (part, end) = placeholder(text, open, scope, random_ints)?;

        if matches!(part, Part::RandomInt { .. }) {
            random_ints = random_ints.wrapping_add(1);
        }
        match part {
            // `{{"…"}}`: the text between the quotes.
            Part::Literal(quoted) => {
                let start = text[open..].find('"').map_or(open, |i| open + i + 1);
                push_literal(&mut literal, text, start..start + quoted.len(), position)?
            }
            other => {
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(other);
            }
        }
        at = end;
    }
    push_literal(&mut literal, text, at..text.len(), position)?;
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(parts)
}

/// Literal text is sent as written; in a header value a CR, LF or NUL is refused here, and
/// in a path a space, CR, LF or NUL (which would end the request line) is percent-encoded
/// here, once, rather than looked for in every request.
fn push_literal(
    literal: &mut Vec<u8>,
    text: &str,
    range: std::ops::Range<usize>,
    position: Position,
) -> Result<(), TemplateError> {
    let piece = &text[range.clone()];
    if position == Position::Header {
        if let Some(i) = piece.find(['\r', '\n', '\0']) {
            let at = range.start + i;
            return Err(err(
                at..at + 1,
                "a header value may not hold a CR, LF or NUL".into(),
                "a header value on one line",
            ));
        }
    }
    if position == Position::Path {
        for b in piece.bytes() {
            match b {
                b' ' | b'\r' | b'\n' | 0 => {
                    const HEX: &[u8; 16] = b"0123456789ABCDEF";
                    literal.extend_from_slice(&[
                        b'%',
                        HEX[(b >> 4) as usize],
                        HEX[(b & 15) as usize],
                    ]);
                }
                _ => literal.push(b),
            }
        }
        return Ok(());
    }
    literal.extend_from_slice(piece.as_bytes());
    Ok(())
}

/// The placeholder opening at `open` (its `{{`) and the offset just past its `}}`.
fn placeholder(
    text: &str,
    open: usize,
    scope: &Scope,
    random_ints: u64,
) -> Result<(Part, usize), TemplateError> {
    let inner_start = open + 2;
    let rest = &text[inner_start..];
    let lead = rest.len() - rest.trim_start().len();
    // `{{"…"}}`: text as written; it may hold `}}`, so find its closing quote first.
    if rest[lead..].starts_with('"') {
        let q0 = inner_start + lead;
        let Some(q1) = text[q0 + 1..].find('"').map(|i| q0 + 1 + i) else {
            return Err(err(
                q0..text.len(),
                "this quoted text has no closing \"".into(),
                "{{\"text\"}} (the text may not hold a \")",
            ));
        };
        let after = &text[q1 + 1..];
        let gap = after.len() - after.trim_start().len();
        if !after[gap..].starts_with("}}") {
            let at = q1 + 1 + gap;
            return Err(err(
                open..at.max(open + 2),
                "quoted text must be followed by }}".into(),
                "{{\"text\"}}",
            ));
        }
        let part = Part::Literal(text.as_bytes()[q0 + 1..q1].to_vec());
        return Ok((part, q1 + 1 + gap + 2));
    }
    let Some(close) = rest.find("}}").map(|i| inner_start + i) else {
        return Err(err(
            open..text.len(),
            "this {{ is never closed by }}".into(),
            format!("{FORMS}; close it with }}}}"),
        ));
    };
    let words: Vec<(usize, &str)> = words(&text[inner_start..close], inner_start);
    let Some(&(name_at, name)) = words.first() else {
        return Err(err(
            open..close + 2,
            "this placeholder is empty".into(),
            FORMS,
        ));
    };
    let name_span = name_at..name_at + name.len();
    let args = &words[1..];
    let no_args = |part: Part| -> Result<Part, TemplateError> {
        match args.first() {
            Some(&(at, _)) => Err(err(
                at..close,
                format!("{{{{{name}}}}} takes no arguments"),
                format!("{{{{{name}}}}}"),
            )),
            None => Ok(part),
        }
    };
    let part = match name {
        "uuid" => no_args(Part::Uuid)?,
        "seq" => no_args(Part::Seq)?,
        "timestamp_ms" => no_args(Part::TimestampMs)?,
        "random_int" => random_int(args, inner_start..close, random_ints)?,
        _ => match name.split_once('.') {
            Some((prefix, field)) => {
                let part = dotted(prefix, field, name_span, scope)?;
                no_args(part)?
            }
            None => {
                let mut message = format!("there is no placeholder {{{{{name}}}}}");
                if let Some(near) = nearest(name, FIXED) {
                    message.push_str(&format!("; did you mean {{{{{near}}}}}?"));
                }
                return Err(err(name_span, message, FORMS));
            }
        },
    };
    Ok((part, close + 2))
}

/// Whitespace-separated words with their offsets in the template text.
fn words(inner: &str, base: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in inner.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((base + s, &inner[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((base + s, &inner[s..]));
    }
    out
}

fn random_int(
    args: &[(usize, &str)],
    inner: std::ops::Range<usize>,
    salt: u64,
) -> Result<Part, TemplateError> {
    const FORM: &str = "{{random_int A B}}: two whole numbers, A ≤ B (both included)";
    let [(a_at, a), (b_at, b)] = args else {
        let span = match args.get(2) {
            Some(&(at, _)) => at..inner.end,
            None => inner,
        };
        return Err(err(
            span,
            format!("random_int takes two bounds, A and B; {} given", args.len()),
            FORM,
        ));
    };
    let bound = |at: usize, word: &str| {
        word.parse::<i64>().map_err(|_| {
            err(
                at..at + word.len(),
                format!("{word:?} is not a whole number between -2^63 and 2^63-1"),
                FORM,
            )
        })
    };
    let low = bound(*a_at, a)?;
    let high = bound(*b_at, b)?;
    if low > high {
        return Err(err(
            *a_at..b_at + b.len(),
            format!("random_int's lower bound {low} is above its upper bound {high}"),
            FORM,
        ));
    }
    Ok(Part::RandomInt { low, high, salt })
}

/// `data.COL`, `SOURCE.COL`, `env.NAME` or `captured.NAME`.
fn dotted(
    prefix: &str,
    field: &str,
    span: std::ops::Range<usize>,
    scope: &Scope,
) -> Result<Part, TemplateError> {
    let field_span = span.start + prefix.len() + 1..span.end;
    match prefix {
        "env" => {
            let ok = !field.is_empty()
                && field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !ok {
                return Err(err(
                    field_span,
                    format!("{field:?} is not an environment variable name"),
                    "{{env.NAME}}, NAME of letters, digits and _",
                ));
            }
            Ok(Part::Env(field.to_string()))
        }
        "captured" => {
            if scope.captures.iter().any(|c| c == field) {
                return Ok(Part::Captured(field.to_string()));
            }
            let names: Vec<&str> = scope.captures.iter().map(String::as_str).collect();
            let mut message = format!("no earlier step captures {field:?}");
            if let Some(note) = &scope.captures_note {
                message.push_str(&format!(" ({note})"));
            }
            if let Some(near) = nearest(field, &names) {
                message.push_str(&format!("; did you mean {{{{captured.{near}}}}}?"));
            }
            let expected = if names.is_empty() {
                "no earlier step captures anything here".to_string()
            } else {
                format!("one of: {}", names.join(", "))
            };
            Err(err(field_span, message, expected))
        }
        _ => {
            let found = scope.sources.iter().position(|s| match &s.name {
                None => prefix == "data",
                Some(n) => n == prefix,
            });
            let Some(source) = found else {
                let mut names = vec!["env", "captured"];
                names.extend(
                    scope
                        .sources
                        .iter()
                        .map(|s| s.name.as_deref().unwrap_or("data")),
                );
                let mut message = format!("there is no data source {prefix:?}");
                if let Some(near) = nearest(prefix, &names) {
                    message.push_str(&format!("; did you mean {near:?}?"));
                }
                return Err(err(
                    span.start..span.start + prefix.len(),
                    message,
                    match names.len() {
                        2 => {
                            format!("{FORMS}; no data source is declared here ([data] or [[data]])")
                        }
                        _ => format!("{FORMS}; sources here: {}", names[2..].join(", ")),
                    },
                ));
            };
            let columns = &scope.sources[source].columns;
            if let Some(column) = columns.iter().position(|c| c == field) {
                return Ok(Part::Column { source, column });
            }
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            let mut message = format!("{prefix:?} has no column {field:?}");
            if let Some(near) = nearest(field, &names) {
                message.push_str(&format!("; did you mean {{{{{prefix}.{near}}}}}?"));
            }
            Err(err(
                field_span,
                message,
                format!("one of its columns: {}", names.join(", ")),
            ))
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The closest name, if close enough to be a likely typo (as `stampede-located` judges,
/// which this crate may not depend on).
fn nearest<'n>(given: &str, names: &[&'n str]) -> Option<&'n str> {
    names
        .iter()
        .map(|n| (strsim::jaro_winkler(given, n), *n))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}
