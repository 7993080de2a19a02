//! The input file as a JSON value — JSON, or YAML where the format allows it — and the two
//! ways it can be wrong: not parseable (at a byte offset the caller turns into line:col) or
//! not the expected shape (at a JSON path such as `$.paths./orders.post`).

use serde_json::Value;

#[derive(Debug, PartialEq)]
pub enum DocumentError {
    /// The text does not parse; `offset` is a byte offset into it.
    Syntax { offset: usize, message: String },
    /// It parses, but `at` (a JSON path) is not what the format says.
    Shape {
        at: String,
        message: String,
        expected: String,
    },
}

impl DocumentError {
    pub fn shape(at: &str, message: impl Into<String>, expected: impl Into<String>) -> Self {
        DocumentError::Shape {
            at: at.to_string(),
            message: message.into(),
            expected: expected.into(),
        }
    }
}

/// JSON when the text starts with `{` or `[` (or YAML is not allowed), else YAML.
pub fn parse_document(text: &str, yaml: bool) -> Result<Value, DocumentError> {
    let first = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .next();
    if !yaml || matches!(first, Some('{') | Some('[')) {
        return serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
            DocumentError::Syntax {
                offset: offset_of(text, e.line(), e.column()),
                message: json_message(&e),
            }
        });
    }
    let mut value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| DocumentError::Syntax {
            offset: e.location().map_or(0, |l| l.index()),
            message: format!("not YAML: {}", yaml_message(&e)),
        })?;
    value.apply_merge().map_err(|e| DocumentError::Syntax {
        offset: e.location().map_or(0, |l| l.index()),
        message: format!("a YAML merge key (<<) that cannot be applied: {e}"),
    })?;
    Ok(from_yaml(value))
}

/// serde_json's message without its own " at line L column C" (the caller places it).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text);
    format!("not JSON: {text}")
}

fn yaml_message(e: &serde_yaml_ng::Error) -> String {
    let text = e.to_string();
    text.split(" at line ").next().unwrap_or(&text).to_string()
}

/// The byte offset of 1-based `line` and `column`, kept inside the text and on a char boundary.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut at = (start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// YAML's richer values as JSON's: keys as their text (`200:` is the key "200"), tags dropped.
fn from_yaml(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(from_yaml).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (key_text(k), from_yaml(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => from_yaml(tagged.value),
    }
}

fn key_text(k: serde_yaml_ng::Value) -> String {
    match from_yaml(k) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A JSON path one step further: `$.paths` + `/orders` = `$.paths./orders`, `[3]` for indexes.
pub fn child(at: &str, key: &str) -> String {
    format!("{at}.{key}")
}

pub fn index(at: &str, i: usize) -> String {
    format!("{at}[{i}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_give_the_same_value() {
        let json = parse_document(r#"{"a": {"200": [1, "x"]}}"#, true).unwrap();
        let yaml = parse_document("a:\n  200:\n    - 1\n    - x\n", true).unwrap();
        assert_eq!(json, yaml);
    }

    #[test]
    fn a_json_error_is_at_its_offset() {
        let text = "{\n  \"a\": 1,\n  oops\n}";
        let Err(DocumentError::Syntax { offset, message }) = parse_document(text, true) else {
            panic!("an error");
        };
        assert_eq!(&text[offset..offset + 1], "o", "{message}");
        assert!(message.starts_with("not JSON"), "{message}");
    }

    #[test]
    fn a_yaml_error_is_at_its_offset() {
        let text = "a: 1\nb: [1, 2\n";
        let Err(DocumentError::Syntax { offset, .. }) = parse_document(text, true) else {
            panic!("an error");
        };
        assert!(offset > 5, "{offset}");
    }

    #[test]
    fn yaml_is_refused_where_only_json_is_read() {
        assert!(matches!(
            parse_document("a: 1", false),
            Err(DocumentError::Syntax { .. })
        ));
    }
}
