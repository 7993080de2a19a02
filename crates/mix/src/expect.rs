//! A request's checks (`expect`): what an answer the classifier calls ok must also be — a
//! status among those listed, JSON values at RFC 6901 pointers, a substring of the body,
//! headers present or equal — judged on a view of one answer. A failed check is one short
//! line ([`Mismatch`]) for the failure sample; the engine counts the attempt `unexpected`.
//!
//! Pure: the transport keeps the body (up to [`BODY_LIMIT`]) and the headers named here,
//! and hands them over as an [`AnswerView`].

use std::cell::OnceCell;
use std::fmt;

use serde_json::Value;

/// The most body kept, and parsed as JSON, for checks and captures.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The longest [`Mismatch`] line, in characters.
const LINE_MAX: usize = 200;
/// The longest value quoted in a mismatch, in characters.
const VALUE_MAX: usize = 60;

/// The headers an answer kept, by name.
pub trait Headers {
    /// The value of `name` (lowercase ASCII); a repeated header's fields joined by ", ".
    fn get(&self, name: &str) -> Option<&[u8]>;
}

/// Name and value pairs (tests, and answers whose headers were copied out).
impl Headers for &[(&str, &[u8])] {
    fn get(&self, name: &str) -> Option<&[u8]> {
        find_pair(self, name)
    }
}

impl<const N: usize> Headers for [(&str, &[u8]); N] {
    fn get(&self, name: &str) -> Option<&[u8]> {
        find_pair(self, name)
    }
}

fn find_pair<'v>(pairs: &[(&str, &'v [u8])], name: &str) -> Option<&'v [u8]> {
    pairs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// What checks and captures read of one answer. The body is parsed as JSON at most once,
/// when a check or a capture first asks.
pub struct AnswerView<'a> {
    status: u16,
    headers: &'a dyn Headers,
    body: &'a [u8],
    /// The body went on past what was kept.
    body_cut: bool,
    json: OnceCell<Result<Value, Mismatch>>,
}

impl<'a> AnswerView<'a> {
    /// `body`: the body as kept, up to [`BODY_LIMIT`]; `body_cut`: it went on past that.
    pub fn new(
        status: u16,
        headers: &'a dyn Headers,
        body: &'a [u8],
        body_cut: bool,
    ) -> AnswerView<'a> {
        let body_cut = body_cut || body.len() > BODY_LIMIT;
        AnswerView {
            status,
            headers,
            body: &body[..body.len().min(BODY_LIMIT)],
            body_cut,
            json: OnceCell::new(),
        }
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.get(name)
    }

    /// The body parsed as JSON, or why it cannot be.
    pub fn json(&self) -> Result<&Value, Mismatch> {
        self.json
            .get_or_init(|| {
                if self.body_cut {
                    return Err(Mismatch::new("body longer than 1 MiB: JSON not checked"));
                }
                serde_json::from_slice(self.body)
                    .map_err(|e| Mismatch::new(format!("body is not JSON ({e})")))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Why an answer failed its checks, in one short line: what differed, never a header value
/// the user did not name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch(String);

impl Mismatch {
    /// `line`, cut to [`LINE_MAX`] characters.
    pub fn new(line: impl Into<String>) -> Mismatch {
        Mismatch(cut(&line.into(), LINE_MAX))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The statuses an answer may have: codes and classes (`2xx`). Only ok answers are checked,
/// so only 2xx codes can be listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSet {
    /// Inclusive ranges, as written: a code is `(c, c)`, `2xx` is `(200, 299)`.
    ranges: Vec<(u16, u16)>,
}

impl StatusSet {
    pub fn new() -> StatusSet {
        StatusSet { ranges: Vec::new() }
    }

    /// Adds a code (`201`); refused unless 2xx.
    pub fn add_code(&mut self, code: i64) -> Result<(), String> {
        match u16::try_from(code) {
            Ok(c @ 200..=299) => {
                self.ranges.push((c, c));
                Ok(())
            }
            Ok(c @ 100..=599) => Err(format!(
                "status {c} is never checked: only ok (2xx) answers are, a {} is counted as {} before any check",
                c,
                match c {
                    300..=399 => "a redirect",
                    429 => "a throttle",
                    400..=499 => "a client error",
                    500..=599 => "a server error",
                    _ => "an interim answer",
                }
            )),
            _ => Err(format!("{code} is not an HTTP status code")),
        }
    }

    /// Adds a code or class written as text (`"201"`, `"2xx"`).
    pub fn add_text(&mut self, text: &str) -> Result<(), String> {
        let t = text.trim();
        if t.len() == 3 && t.as_bytes()[1..].eq_ignore_ascii_case(b"xx") {
            return match t.as_bytes()[0] {
                b'2' => {
                    self.ranges.push((200, 299));
                    Ok(())
                }
                b'1'..=b'5' => Err(format!(
                    "status \"{t}\" is never checked: only ok (2xx) answers are"
                )),
                _ => Err(format!("\"{t}\" is not a status class")),
            };
        }
        match t.parse::<i64>() {
            Ok(code) if t.bytes().all(|b| b.is_ascii_digit()) => self.add_code(code),
            _ => Err(format!("\"{}\" is not a status code or class", cut(t, 20))),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    pub fn contains(&self, status: u16) -> bool {
        self.ranges
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&status))
    }
}

impl Default for StatusSet {
    fn default() -> Self {
        StatusSet::new()
    }
}

impl fmt::Display for StatusSet {
    /// `201`, `201 or 204`, `200, 201 or 2xx`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .ranges
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{}xx", lo / 100)
                }
            })
            .collect();
        match names.split_last() {
            None => Ok(()),
            Some((last, [])) => f.write_str(last),
            Some((last, rest)) => write!(f, "{} or {last}", rest.join(", ")),
        }
    }
}

/// An RFC 6901 JSON pointer, checked when the scenario is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer(String);

/// Why a pointer is not one: at byte `at` of its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointerError {
    pub at: usize,
    pub message: String,
}

/// The form a pointer takes, for errors.
pub const POINTER_FORM: &str =
    "a JSON pointer (RFC 6901) such as \"/status\" or \"/items/0/id\"; \"~0\" for ~ and \"~1\" for / inside a name";

impl Pointer {
    /// `/a/b~1c/0`: it starts with `/`, and `~` is only ever `~0` or `~1`.
    pub fn parse(text: &str) -> Result<Pointer, PointerError> {
        if !text.starts_with('/') {
            return Err(PointerError {
                at: 0,
                message: "a JSON pointer starts with /".into(),
            });
        }
        let bytes = text.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'~' && !matches!(bytes.get(i + 1), Some(b'0' | b'1')) {
                return Err(PointerError {
                    at: i,
                    message: "`~` in a JSON pointer is `~0` (for ~) or `~1` (for /)".into(),
                });
            }
        }
        Ok(Pointer(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value it points at in `json`.
    pub fn find<'v>(&self, json: &'v Value) -> Option<&'v Value> {
        json.pointer(&self.0)
    }
}

/// What a header must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderWant {
    Present,
    /// This value exactly (surrounding blanks aside).
    Equals(String),
}

/// A request's checks. The default checks nothing (every ok answer passes).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expect {
    /// `None`: any status the classifier calls ok.
    pub status: Option<StatusSet>,
    /// Names in lowercase.
    pub headers: Vec<(String, HeaderWant)>,
    /// A substring the body must contain.
    pub body: Option<String>,
    pub json: Vec<(Pointer, Value)>,
}

impl Expect {
    /// Checks an ok answer: `Ok`, or the first difference (status, headers, body, JSON).
    pub fn check(&self, answer: &AnswerView) -> Result<(), Mismatch> {
        if let Some(set) = &self.status {
            if !set.contains(answer.status) {
                return Err(Mismatch::new(format!(
                    "status {}, expected {set}",
                    answer.status
                )));
            }
        }
        for (name, want) in &self.headers {
            let got = answer.header(name);
            match (want, got) {
                (_, None) => return Err(Mismatch::new(format!("header {name} is missing"))),
                (HeaderWant::Present, Some(_)) => {}
                (HeaderWant::Equals(v), Some(got)) => {
                    if got.trim_ascii() != v.trim().as_bytes() {
                        return Err(Mismatch::new(format!(
                            "header {name} was {}, expected {}",
                            quoted(&String::from_utf8_lossy(got)),
                            quoted(v)
                        )));
                    }
                }
            }
        }
        if let Some(part) = &self.body {
            if !contains(answer.body, part.as_bytes()) {
                let within = if answer.body_cut {
                    " in its first 1 MiB"
                } else {
                    ""
                };
                return Err(Mismatch::new(format!(
                    "body does not contain {}{within}",
                    quoted(part)
                )));
            }
        }
        if !self.json.is_empty() {
            let json = answer.json()?;
            for (pointer, want) in &self.json {
                match pointer.find(json) {
                    None => {
                        return Err(Mismatch::new(format!(
                            "{} is missing, expected {}",
                            pointer.as_str(),
                            json_text(want)
                        )))
                    }
                    Some(got) if !json_equal(got, want) => {
                        return Err(Mismatch::new(format!(
                            "{} was {}, expected {}",
                            pointer.as_str(),
                            json_text(got),
                            json_text(want)
                        )))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }

    /// The headers the transport must keep for these checks (lowercase).
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.headers.iter().map(|(n, _)| n.as_str())
    }

    /// Whether the checks read the body (the transport keeps it only then).
    pub fn reads_body(&self) -> bool {
        self.body.is_some() || !self.json.is_empty()
    }
}

/// JSON equality with numbers compared by value: `7` equals `7.0`.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A JSON value as text, cut to [`VALUE_MAX`] characters.
pub(crate) fn json_text(v: &Value) -> String {
    cut(&v.to_string(), VALUE_MAX)
}

/// A string in quotes as JSON writes it, cut to [`VALUE_MAX`] characters.
fn quoted(s: &str) -> String {
    cut(&Value::String(s.to_string()).to_string(), VALUE_MAX)
}

/// At most `max` characters of `text`, ending in `…` where cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view<'a>(status: u16, headers: &'a dyn Headers, body: &'a [u8]) -> AnswerView<'a> {
        AnswerView::new(status, headers, body, false)
    }

    fn statuses(items: &[&str]) -> StatusSet {
        let mut s = StatusSet::new();
        for i in items {
            s.add_text(i).unwrap();
        }
        s
    }

    #[test]
    fn statuses_are_codes_or_the_2xx_class() {
        let s = statuses(&["201", "204"]);
        assert!(s.contains(201) && s.contains(204) && !s.contains(200));
        assert_eq!(s.to_string(), "201 or 204");
        let s = statuses(&["200", "201", "2xx"]);
        assert_eq!(s.to_string(), "200, 201 or 2xx");
        assert!(s.contains(250));
        let mut s = StatusSet::new();
        assert!(s.add_code(404).unwrap_err().contains("a client error"));
        assert!(s.add_code(302).unwrap_err().contains("a redirect"));
        assert!(s.add_code(429).unwrap_err().contains("a throttle"));
        assert!(s.add_code(99).unwrap_err().contains("not an HTTP status"));
        assert!(s.add_code(-1).is_err());
        assert!(s.add_text("5xx").unwrap_err().contains("never checked"));
        assert!(s.add_text("2x").is_err());
        assert!(s.add_text("+201").is_err());
        assert!(s
            .add_text("9xx")
            .unwrap_err()
            .contains("not a status class"));
        assert!(s.is_empty());
    }

    #[test]
    fn a_status_not_listed_is_a_mismatch() {
        let e = Expect {
            status: Some(statuses(&["201"])),
            ..Expect::default()
        };
        assert_eq!(e.check(&view(201, &[], b"")), Ok(()));
        assert_eq!(
            e.check(&view(200, &[], b"")).unwrap_err().as_str(),
            "status 200, expected 201"
        );
        assert_eq!(Expect::default().check(&view(299, &[], b"")), Ok(()));
    }

    #[test]
    fn json_values_are_compared_as_json() {
        let e = Expect {
            json: vec![
                (Pointer::parse("/status").unwrap(), json!("CREATED")),
                (Pointer::parse("/items/0/id").unwrap(), json!(7)),
            ],
            ..Expect::default()
        };
        let ok = br#"{"status":"CREATED","items":[{"id":7.0}]}"#;
        assert_eq!(e.check(&view(201, &[], ok)), Ok(()));
        let bad = br#"{"status":"ERROR","items":[{"id":7}]}"#;
        assert_eq!(
            e.check(&view(200, &[], bad)).unwrap_err().as_str(),
            r#"/status was "ERROR", expected "CREATED""#
        );
        let wrong_type = br#"{"status":"CREATED","items":[{"id":"7"}]}"#;
        assert_eq!(
            e.check(&view(200, &[], wrong_type)).unwrap_err().as_str(),
            r#"/items/0/id was "7", expected 7"#
        );
        let missing = br#"{"status":"CREATED","items":[]}"#;
        assert_eq!(
            e.check(&view(200, &[], missing)).unwrap_err().as_str(),
            "/items/0/id is missing, expected 7"
        );
        let m = e.check(&view(200, &[], b"<html>")).unwrap_err();
        assert!(m.as_str().starts_with("body is not JSON ("), "{m}");
        // Escapes: `~1` is `/`, `~0` is `~`.
        let e = Expect {
            json: vec![(Pointer::parse("/a~1b/c~0d").unwrap(), json!(true))],
            ..Expect::default()
        };
        assert_eq!(e.check(&view(200, &[], br#"{"a/b":{"c~d":true}}"#)), Ok(()));
    }

    #[test]
    fn a_body_past_the_limit_is_not_parsed_but_its_start_is_searched() {
        let e = Expect {
            json: vec![(Pointer::parse("/ok").unwrap(), json!(true))],
            ..Expect::default()
        };
        let body = format!(r#"{{"ok":true,"pad":"{}"}}"#, "x".repeat(BODY_LIMIT));
        assert_eq!(
            e.check(&view(200, &[], body.as_bytes()))
                .unwrap_err()
                .as_str(),
            "body longer than 1 MiB: JSON not checked"
        );
        let cut = AnswerView::new(200, &[], br#"{"ok":true}"#, true);
        assert!(e.check(&cut).is_err(), "a body cut short is never parsed");
        let e = Expect {
            body: Some("\"ok\":true".into()),
            ..Expect::default()
        };
        assert_eq!(e.check(&cut), Ok(()));
        let e = Expect {
            body: Some("nope".into()),
            ..Expect::default()
        };
        assert_eq!(
            e.check(&cut).unwrap_err().as_str(),
            r#"body does not contain "nope" in its first 1 MiB"#
        );
    }

    #[test]
    fn headers_are_present_or_equal_by_any_case_of_their_name() {
        let e = Expect {
            headers: vec![
                (
                    "content-type".into(),
                    HeaderWant::Equals("application/json".into()),
                ),
                ("x-request-id".into(), HeaderWant::Present),
            ],
            ..Expect::default()
        };
        let good: &[(&str, &[u8])] = &[
            ("Content-Type", b" application/json"),
            ("X-Request-Id", b"abc"),
            ("Set-Cookie", b"secret"),
        ];
        assert_eq!(e.check(&view(200, &good, b"")), Ok(()));
        let html: &[(&str, &[u8])] = &[("content-type", b"text/html"), ("set-cookie", b"s3cr3t")];
        let m = e.check(&view(200, &html, b"")).unwrap_err();
        assert_eq!(
            m.as_str(),
            r#"header content-type was "text/html", expected "application/json""#
        );
        let no_id: &[(&str, &[u8])] = &[("content-type", b"application/json")];
        assert_eq!(
            e.check(&view(200, &no_id, b"")).unwrap_err().as_str(),
            "header x-request-id is missing"
        );
        assert_eq!(
            e.header_names().collect::<Vec<_>>(),
            ["content-type", "x-request-id"]
        );
        assert!(!e.reads_body());
    }

    #[test]
    fn a_mismatch_is_one_short_line() {
        let long = "y".repeat(5000);
        let e = Expect {
            json: vec![(Pointer::parse(&format!("/{long}")).unwrap(), json!(long))],
            ..Expect::default()
        };
        let m = e.check(&view(200, &[], b"{}")).unwrap_err();
        assert!(m.as_str().chars().count() <= LINE_MAX, "{m}");
        assert!(!m.as_str().contains('\n'));
    }

    #[test]
    fn odd_text_is_refused_never_a_panic() {
        let odd = [
            "",
            "é",
            "éx",
            "\u{1F600}",
            "2é",
            "~",
            "/~",
            "/é~",
            "/~é",
            "xx",
            "2xxx",
            " 2xx ",
            "json:",
            "header:é",
            "json:é",
            ":",
            "::",
            "json:/~\u{1F600}",
        ];
        for text in odd {
            let _ = StatusSet::new().add_text(text);
            let _ = Pointer::parse(text);
            if let Err(e) = crate::capture::Capture::parse("n", text) {
                assert!(text.is_char_boundary(e.at), "{text:?} at {}", e.at);
            }
            if let Err(e) = Pointer::parse(text) {
                assert!(text.is_char_boundary(e.at) && e.at < text.len().max(1));
            }
        }
        assert!(StatusSet::new().add_text(" 2xx ").is_ok());
    }

    #[test]
    fn pointers_start_with_a_slash_and_escape_only_0_and_1() {
        assert!(Pointer::parse("/").is_ok());
        assert!(Pointer::parse("/a~0~1").is_ok());
        assert_eq!(Pointer::parse("status").unwrap_err().at, 0);
        assert_eq!(Pointer::parse("").unwrap_err().at, 0);
        assert_eq!(Pointer::parse("/a~2").unwrap_err().at, 2);
        assert_eq!(Pointer::parse("/a/b~").unwrap_err().at, 4);
    }
}
