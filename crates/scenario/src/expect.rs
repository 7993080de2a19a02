//! A request's `expect` and `capture` tables, read into stampede-mix's checks and captures
//! with errors at file:line:col — inside the string for a JSON pointer or a capture's
//! source. The `[[requests]]` reader deserialises them as [`RawExpect`] and [`RawCapture`]
//! (so their keys keep their places) and calls [`read_expect`] and [`read_capture`].

use super::data::span_in_string as inner;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use http::HeaderName;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use stampede_mix::capture::{Capture, CaptureError};
use stampede_mix::expect::{Expect, HeaderWant, Pointer, StatusSet, POINTER_FORM};
use toml::{Spanned, Value};

use crate::error::Result;
use crate::located::Source;

/// `expect`: what an ok answer must also be, else it counts as `unexpected`.
#[derive(Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "an expect table such as { status = [201], json = { \"/status\" = \"OK\" } }"
)]
#[schemars(rename = "Expect")]
pub struct RawExpect {
    /// The statuses allowed: a 2xx code, "2xx", or a list of them (default: any 2xx).
    #[schemars(with = "Option<StatusForm>")]
    status: Option<Spanned<Value>>,
    /// JSON pointer (RFC 6901, such as "/items/0/id") = the value there, compared as JSON.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>", extend("propertyNames" = { "pattern": "^/" }))]
    json: BTreeMap<Spanned<String>, Spanned<Value>>,
    /// A substring the body must contain (searched in its first 1 MiB).
    #[schemars(with = "Option<String>")]
    body: Option<Spanned<String>>,
    /// Header name = true (present) or the value it must equal.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, HeaderWantForm>")]
    headers: BTreeMap<Spanned<String>, Spanned<Value>>,
}

/// `capture`: name = "json:/POINTER" or "header:NAME", for the flow's later steps.
#[derive(Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct RawCapture(
    #[schemars(with = "BTreeMap<String, CaptureForm>")] BTreeMap<Spanned<String>, Spanned<String>>,
);

impl RawCapture {
    /// The names it captures, as written.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(|k| k.get_ref().as_str())
    }
}

const STATUS_FORM: &str =
    "a 2xx status code (201), \"2xx\", or a list of them ([200, 201]); only ok answers are checked";
const HEADER_WANT_FORM: &str = "true (the header is present) or the value it must equal";
const CAPTURE_NAME_FORM: &str = "a name of letters, digits and _ (not starting with a digit)";

/// Reads `expect = { … }`.
pub fn read_expect(src: &Source, raw: &Spanned<RawExpect>) -> Result<Expect> {
    let raw = raw.get_ref();
    let status = raw
        .status
        .as_ref()
        .map(|s| read_status(src, s))
        .transpose()?;
    let mut headers = Vec::new();
    for (name, want) in &raw.headers {
        let header = HeaderName::from_bytes(name.get_ref().as_bytes()).map_err(|_| {
            src.error(
                name.span(),
                &format!("`{}` is not a header name", name.get_ref()),
                "a header name such as \"content-type\"",
            )
        })?;
        if headers.iter().any(|(n, _)| n == header.as_str()) {
            return Err(src.error(
                name.span(),
                &format!("`{header}` is checked twice (names are the same in any case)"),
                "each header once",
            ));
        }
        let want = match want.get_ref() {
            Value::Boolean(true) => HeaderWant::Present,
            Value::String(v) => HeaderWant::Equals(v.clone()),
            Value::Boolean(false) => {
                return Err(src.error(
                    want.span(),
                    &format!("`{header}` = false checks nothing: leave it out"),
                    HEADER_WANT_FORM,
                ))
            }
            other => {
                return Err(src.error(
                    want.span(),
                    &format!("`{header}` is a {}", other.type_str()),
                    HEADER_WANT_FORM,
                ))
            }
        };
        headers.push((header.as_str().to_string(), want));
    }
    let mut json = Vec::new();
    for (pointer, value) in &raw.json {
        let parsed = Pointer::parse(pointer.get_ref()).map_err(|e| {
            src.error(
                inner(src, pointer.span(), e.at..e.at + 1),
                &e.message,
                POINTER_FORM,
            )
        })?;
        json.push((parsed, to_json(src, value.get_ref(), value.span())?));
    }
    Ok(Expect {
        status,
        headers,
        body: raw.body.as_ref().map(|b| b.get_ref().clone()),
        json,
    })
}

/// Reads `capture = { name = "json:/pointer", … }`.
pub fn read_capture(src: &Source, raw: &Spanned<RawCapture>) -> Result<Vec<Capture>> {
    let mut out = Vec::new();
    for (name, from) in &raw.get_ref().0 {
        let n = name.get_ref();
        let valid = n.chars().next().is_some_and(|c| !c.is_ascii_digit())
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(src.error(
                name.span(),
                &format!("`{n}` cannot be a captured name ({{{{captured.NAME}}}})"),
                CAPTURE_NAME_FORM,
            ));
        }
        let capture = Capture::parse(n, from.get_ref()).map_err(|e: CaptureError| {
            src.error(
                inner(src, from.span(), e.at..e.at + 1),
                &e.message,
                e.expected,
            )
        })?;
        out.push(capture);
    }
    Ok(out)
}

fn read_status(src: &Source, v: &Spanned<Value>) -> Result<StatusSet> {
    let mut set = StatusSet::new();
    let mut add = |item: &Value| match item {
        Value::Integer(code) => set.add_code(*code),
        Value::String(text) => set.add_text(text),
        other => Err(format!("a {} is not a status", other.type_str())),
    };
    let added = match v.get_ref() {
        Value::Array(items) if items.is_empty() => Err("an empty list allows no status".into()),
        Value::Array(items) => items.iter().try_for_each(&mut add),
        one => add(one),
    };
    added.map_err(|why| src.error(v.span(), &format!("`status`: {why}"), STATUS_FORM))?;
    Ok(set)
}

/// A TOML value as the JSON value an answer's must equal.
fn to_json(src: &Source, v: &Value, span: Range<usize>) -> Result<serde_json::Value> {
    use serde_json::Value as J;
    Ok(match v {
        Value::String(s) => J::String(s.clone()),
        Value::Integer(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| {
                src.error(
                    span.clone(),
                    &format!("{f} is not a JSON number"),
                    "a finite number",
                )
            })?,
        Value::Boolean(b) => J::Bool(*b),
        Value::Array(items) => J::Array(
            items
                .iter()
                .map(|i| to_json(src, i, span.clone()))
                .collect::<Result<_>>()?,
        ),
        Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(src, v, span.clone())?)))
                .collect::<Result<_>>()?,
        ),
        Value::Datetime(_) => {
            return Err(src.error(
                span,
                "a TOML date-time is no JSON value",
                "a string, number, boolean, array or table (write a date as a string)",
            ))
        }
    })
}

/// The schema of `status`.
pub struct StatusForm;

impl JsonSchema for StatusForm {
    fn schema_name() -> Cow<'static, str> {
        "ExpectStatus".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let one = serde_json::json!({
            "anyOf": [
                { "type": "integer", "minimum": 200, "maximum": 299 },
                { "type": "string", "pattern": "^\\s*(2[0-9][0-9]|2[xX][xX])\\s*$" },
            ]
        });
        json_schema!({
            "description": "A 2xx status code, \"2xx\", or a list of them.",
            "anyOf": [one.clone(), { "type": "array", "items": one, "minItems": 1 }],
        })
    }
}

/// The schema of a header's check.
pub struct HeaderWantForm;

impl JsonSchema for HeaderWantForm {
    fn schema_name() -> Cow<'static, str> {
        "ExpectHeader".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "true: the header is present; a string: the value it must equal.",
            "anyOf": [{ "const": true }, { "type": "string" }],
        })
    }
}

/// The schema of a capture's source.
pub struct CaptureForm;

impl JsonSchema for CaptureForm {
    fn schema_name() -> Cow<'static, str> {
        "CaptureSource".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"json:/POINTER\" (a JSON pointer into the body) or \"header:NAME\".",
            "type": "string",
            "pattern": "^(json:/|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+$)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use stampede_mix::capture::CaptureSource;
    use stampede_mix::expect::AnswerView;
    use std::path::Path;

    #[derive(Deserialize)]
    struct Entry {
        expect: Option<Spanned<RawExpect>>,
        capture: Option<Spanned<RawCapture>>,
    }

    fn entry(text: &str) -> std::result::Result<Entry, String> {
        let src = Source::new(Path::new("s.toml"), text);
        toml::from_str(text).map_err(|e| crate::located::toml_error(&src, &e).to_string())
    }

    fn expect(text: &str) -> std::result::Result<Expect, String> {
        let src = Source::new(Path::new("s.toml"), text);
        let e = entry(text)?;
        read_expect(&src, e.expect.as_ref().unwrap()).map_err(|e| e.to_string())
    }

    fn capture(text: &str) -> std::result::Result<Vec<Capture>, String> {
        let src = Source::new(Path::new("s.toml"), text);
        let e = entry(text)?;
        read_capture(&src, e.capture.as_ref().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn every_key_is_read() {
        let e = expect(
            r#"expect = { status = [201, "2xx"], json = { "/status" = "CREATED", "/items/0/id" = 7, "/tags" = ["a"] }, body = "CREATED", headers = { Location = true, content-type = "application/json" } }"#,
        )
        .unwrap();
        assert_eq!(e.status.as_ref().unwrap().to_string(), "201 or 2xx");
        assert_eq!(
            e.json
                .iter()
                .map(|(p, v)| (p.as_str(), v.clone()))
                .collect::<Vec<_>>(),
            vec![
                ("/items/0/id", json!(7)),
                ("/status", json!("CREATED")),
                ("/tags", json!(["a"]))
            ]
        );
        assert_eq!(
            e.headers,
            vec![
                ("location".into(), HeaderWant::Present),
                (
                    "content-type".into(),
                    HeaderWant::Equals("application/json".into())
                ),
            ]
        );
        let headers = [
            ("content-type", &b"application/json"[..]),
            ("location", b"/o/1"),
        ];
        let body = br#"{"status":"CREATED","items":[{"id":7}],"tags":["a"]}"#;
        assert_eq!(
            e.check(&AnswerView::new(201, &headers, body, false)),
            Ok(())
        );
        let e = expect("expect = { status = 204 }").unwrap();
        assert_eq!(e.status.unwrap().to_string(), "204");
        assert_eq!(expect("expect = {}").unwrap(), Expect::default());
    }

    #[test]
    fn a_bad_pointer_is_placed_inside_its_string() {
        let text = "expect = { json = { \"/ok\" = true, \"/a~2\" = 1 } }";
        let err = expect(text).unwrap_err();
        let col = text.find("~2").unwrap() + 1;
        assert!(err.starts_with(&format!("s.toml:1:{col}: ")), "{err}");
        assert!(err.contains("`~0` (for ~) or `~1` (for /)"), "{err}");
        let err = expect("expect = { json = { status = \"x\" } }").unwrap_err();
        assert!(
            err.starts_with("s.toml:1:21: a JSON pointer starts with /"),
            "{err}"
        );
        assert!(err.contains("RFC 6901"), "{err}");
    }

    #[test]
    fn bad_statuses_headers_and_keys_are_located_and_explained() {
        let err = expect("\nexpect = { status = [201, 404] }").unwrap_err();
        assert!(err.starts_with("s.toml:2:21: "), "{err}");
        assert!(err.contains("status 404 is never checked"), "{err}");
        assert!(err.contains("a client error"), "{err}");
        for bad in ["[]", "\"3xx\"", "\"ok\"", "true", "600"] {
            let err = expect(&format!("expect = {{ status = {bad} }}")).unwrap_err();
            assert!(err.starts_with("s.toml:1:21: `status`"), "{bad}: {err}");
        }
        let err = expect("expect = { headers = { etag = false } }").unwrap_err();
        assert!(err.contains("checks nothing"), "{err}");
        let err = expect("expect = { headers = { \"bad name\" = true } }").unwrap_err();
        assert!(err.contains("not a header name"), "{err}");
        let err = expect("expect = { headers = { ETag = true, etag = \"x\" } }").unwrap_err();
        assert!(err.contains("checked twice"), "{err}");
        let err = expect("expect = { stauts = 200 }").unwrap_err();
        assert!(
            err.contains("unknown key `stauts` (did you mean `status`?)"),
            "{err}"
        );
        let err = expect("expect = { json = { \"/at\" = 1979-05-27 } }").unwrap_err();
        assert!(err.contains("date-time"), "{err}");
    }

    #[test]
    fn the_schema_offers_the_keys_the_reader_takes() {
        let schema = crate::schema::generator().into_root_schema_for::<RawExpect>();
        let schema = serde_json::to_value(schema).unwrap();
        let keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["body", "headers", "json", "status"]);
        assert_eq!(schema["additionalProperties"], json!(false));
        let capture = crate::schema::generator().into_root_schema_for::<RawCapture>();
        let capture = serde_json::to_value(capture).unwrap();
        assert_eq!(capture["type"], "object");
        let text = capture.to_string();
        assert!(
            text.contains("json:/") && text.contains("header:"),
            "{text}"
        );
    }

    #[test]
    fn captures_are_read_with_their_sources_placed() {
        let c =
            capture(r#"capture = { token = "json:/access_token", location = "header:Location" }"#)
                .unwrap();
        assert_eq!(c[0].name, "location");
        assert_eq!(c[0].from, CaptureSource::Header("location".into()));
        assert_eq!(c[1].name, "token");
        assert_eq!(
            c[1].from,
            CaptureSource::Json(Pointer::parse("/access_token").unwrap())
        );
        let text = r#"capture = { token = "body:/access_token" }"#;
        let err = capture(text).unwrap_err();
        let col = text.find("body:").unwrap() + 1;
        assert!(
            err.starts_with(&format!("s.toml:1:{col}: unknown capture source `body`")),
            "{err}"
        );
        assert!(err.contains("\"json:/POINTER\""), "{err}");
        let text = r#"capture = { token = "json:access_token" }"#;
        let err = capture(text).unwrap_err();
        let col = text.find("access_token").unwrap() + 1;
        assert!(err.starts_with(&format!("s.toml:1:{col}: ")), "{err}");
        let err = capture(r#"capture = { "my token" = "json:/t" }"#).unwrap_err();
        assert!(err.contains("cannot be a captured name"), "{err}");
        // Escapes move the bytes: the place is near, never inside a character.
        let err = capture("capture = { t = \"json:/\\tééé~\" }").unwrap_err();
        assert!(err.starts_with("s.toml:1:"), "{err}");
        let err = expect("expect = { json = { \"/\\tééé~\" = 1 } }").unwrap_err();
        assert!(err.starts_with("s.toml:1:"), "{err}");
        let err = capture(r#"capture = { token = 3 }"#).unwrap_err();
        assert!(err.starts_with("s.toml:1:"), "{err}");
    }
}
