//! JSON Lines: one object per line, blank lines skipped. The columns are the keys of the
//! first object; a string value is its text, any other value its JSON text; a later line
//! missing a column is bad input, and keys beyond the columns are ignored.

use std::fmt;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::csv_file::BUFFER;
use super::{has_line_break, DataError, Index, Pass, MAX_ROW_BYTES};

pub(super) fn pass(path: &Path, input: impl io::Read) -> Result<Pass, DataError> {
    let mut input = BufReader::with_capacity(BUFFER, input);
    let mut line = Vec::new();
    let (mut byte, mut line_no) = (0u64, 0u64);
    let mut columns: Option<Vec<String>> = None;
    let mut line_break_at = Vec::new();
    let mut index = Index::new();
    let (mut buf, mut spans) = (Vec::new(), Vec::new());
    loop {
        let start = byte;
        let Some(used) =
            next_line(&mut input, &mut line).map_err(|e| io_error(path, e, line_no + 1))?
        else {
            break;
        };
        byte += used as u64;
        line_no += 1;
        if is_blank(&line) {
            continue;
        }
        let text = std::str::from_utf8(&line)
            .map_err(|_| DataError::new(path, Some(line_no), "this line is not valid UTF-8"))?;
        let cols = match &columns {
            Some(c) => c,
            None => {
                let keys = keys_of(text).map_err(|m| DataError::new(path, Some(line_no), m))?;
                line_break_at = vec![None; keys.len()];
                columns.insert(keys)
            }
        };
        row_into(text, cols, &mut buf, &mut spans)
            .map_err(|m| DataError::new(path, Some(line_no), m))?;
        for (i, &(s, e)) in spans.iter().enumerate() {
            if line_break_at[i].is_none() && has_line_break(&buf[s as usize..e as usize]) {
                line_break_at[i] = Some(line_no);
            }
        }
        index.push(start, line_no);
    }
    index.finish();
    let Some(columns) = columns else {
        return Err(DataError::new(
            path,
            None,
            "holds no JSON object (only blank lines)",
        ));
    };
    Ok(Pass {
        columns,
        index,
        line_break_at,
    })
}

fn io_error(path: &Path, e: io::Error, line: u64) -> DataError {
    if e.kind() == io::ErrorKind::FileTooLarge {
        DataError::new(
            path,
            Some(line),
            format!("a line longer than {} MiB", MAX_ROW_BYTES >> 20),
        )
    } else {
        DataError::new(path, None, format!("cannot be read: {e}"))
    }
}

pub(super) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// The next line into `line` (without its `\n`), never more than a row's bound; the bytes
/// consumed, or `None` at the end.
pub(super) fn next_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Option<usize>> {
    line.clear();
    let mut used = 0;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok((used > 0).then_some(used));
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let end = if done { take - 1 } else { take };
        line.extend_from_slice(&chunk[..end]);
        input.consume(take);
        used += take;
        if line.len() > MAX_ROW_BYTES {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, "line too long"));
        }
        if done {
            return Ok(Some(used));
        }
    }
}

/// The keys of the first object, in order.
fn keys_of(text: &str) -> Result<Vec<String>, String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys: Vec<String> = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if keys.contains(&key) {
                    return Err(de::Error::custom(format!("the key {key:?} appears twice")));
                }
                keys.push(key);
            }
            Ok(keys)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let keys = de::Deserializer::deserialize_map(&mut de, Keys)
        .and_then(|k| de.end().map(|_| k))
        .map_err(|e| format!("each line must be one JSON object: {e}"))?;
    if keys.is_empty() {
        return Err("the first object has no keys, so there are no columns".into());
    }
    Ok(keys)
}

/// One line's values, in the columns' order, into `buf` with their spans (both reused).
pub(super) fn row_into(
    text: &str,
    columns: &[String],
    buf: &mut Vec<u8>,
    spans: &mut Vec<(u32, u32)>,
) -> Result<(), String> {
    const MISSING: (u32, u32) = (u32::MAX, u32::MAX);
    buf.clear();
    spans.clear();
    spans.resize(columns.len(), MISSING);
    let mut de = serde_json::Deserializer::from_str(text);
    de::Deserializer::deserialize_map(
        &mut de,
        RowVisitor {
            columns,
            buf,
            spans,
        },
    )
    .and_then(|_| de.end())
    .map_err(|e| format!("each line must be one JSON object: {e}"))?;
    if let Some(i) = spans.iter().position(|s| *s == MISSING) {
        return Err(format!(
            "this object has no {:?}, a column of the file (the keys of its first object)",
            columns[i]
        ));
    }
    Ok(())
}

struct RowVisitor<'r> {
    columns: &'r [String],
    buf: &'r mut Vec<u8>,
    spans: &'r mut Vec<(u32, u32)>,
}

impl<'de> Visitor<'de> for RowVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(column) = map.next_key_seed(ColumnOf(self.columns))? {
            let Some(column) = column else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let raw: &'de RawValue = map.next_value()?;
            let start = self.buf.len() as u32;
            let text = raw.get();
            if text.starts_with('"') {
                let mut de = serde_json::Deserializer::from_str(text);
                de::Deserializer::deserialize_str(&mut de, StrInto(self.buf))
                    .map_err(de::Error::custom)?;
            } else {
                self.buf.extend_from_slice(text.as_bytes());
            }
            self.spans[column] = (start, self.buf.len() as u32);
        }
        Ok(())
    }
}

/// A key as the index of its column (`None`: not a column), without allocating.
struct ColumnOf<'c>(&'c [String]);

impl<'de> DeserializeSeed<'de> for ColumnOf<'_> {
    type Value = Option<usize>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for ColumnOf<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|c| c == key))
    }
}

/// A JSON string's text appended to a buffer, without allocating.
struct StrInto<'b>(&'b mut Vec<u8>);

impl<'de> Visitor<'de> for StrInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
