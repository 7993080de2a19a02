//! A step's captures (`capture = { token = "json:/access_token" }`): values taken from an
//! ok answer for the later steps of the same flow (`{{captured.token}}`). A value that is
//! not there fails the step as a check does, with a line that names the capture and never
//! its value (a token is a secret).

use serde_json::Value;

use crate::expect::{cut, AnswerView, Mismatch, Pointer, POINTER_FORM};

/// Where a captured value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureSource {
    /// A JSON value of the body: a string as it is, a number or a boolean as JSON text.
    Json(Pointer),
    /// A header's value (its name in lowercase).
    Header(String),
}

/// One capture: a name and where its value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub name: String,
    pub from: CaptureSource,
}

/// Why a capture's text is not one: at byte `at` of the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureError {
    pub at: usize,
    pub message: String,
    pub expected: &'static str,
}

/// The forms of a capture's source, for errors.
pub const CAPTURE_FORM: &str =
    "\"json:/POINTER\" (a JSON pointer into the body) or \"header:NAME\"";

/// The sources a capture may name.
pub const CAPTURE_SOURCES: [&str; 2] = ["json", "header"];

impl Capture {
    /// `name = "json:/pointer"` or `name = "header:NAME"`.
    pub fn parse(name: &str, text: &str) -> Result<Capture, CaptureError> {
        let Some((source, rest)) = text.split_once(':') else {
            return Err(CaptureError {
                at: 0,
                message: format!("`{}` names no source", cut(text, 40)),
                expected: CAPTURE_FORM,
            });
        };
        let at = source.len() + 1;
        let from = match source {
            "json" => CaptureSource::Json(Pointer::parse(rest).map_err(|e| CaptureError {
                at: at + e.at,
                message: e.message,
                expected: POINTER_FORM,
            })?),
            "header" => {
                if rest.is_empty() || !rest.bytes().all(is_token_byte) {
                    return Err(CaptureError {
                        at,
                        message: format!("`{}` is not a header name", cut(rest, 40)),
                        expected: "a header name such as \"location\" (letters, digits, -)",
                    });
                }
                CaptureSource::Header(rest.to_ascii_lowercase())
            }
            other => {
                return Err(CaptureError {
                    at: 0,
                    message: format!("unknown capture source `{}`", cut(other, 40)),
                    expected: CAPTURE_FORM,
                })
            }
        };
        Ok(Capture {
            name: name.to_string(),
            from,
        })
    }

    /// The value in `answer`, or why there is none.
    pub fn extract(&self, answer: &AnswerView) -> Result<Vec<u8>, Mismatch> {
        let fail = |why: &str| Mismatch::new(format!("capture {}: {why}", self.name));
        match &self.from {
            CaptureSource::Header(name) => answer
                .header(name)
                .map(|v| v.trim_ascii().to_vec())
                .ok_or_else(|| fail(&format!("header {name} is missing"))),
            CaptureSource::Json(pointer) => {
                let json = answer.json().map_err(|m| fail(m.as_str()))?;
                let p = pointer.as_str();
                match pointer.find(json) {
                    None | Some(Value::Null) => Err(fail(&format!("{p} is missing"))),
                    Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
                    Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string().into_bytes()),
                    Some(Value::Object(_)) => Err(fail(&format!("{p} is an object, not a value"))),
                    Some(Value::Array(_)) => Err(fail(&format!("{p} is an array, not a value"))),
                }
            }
        }
    }

    /// The header the transport must keep for it, if it reads one.
    pub fn header_name(&self) -> Option<&str> {
        match &self.from {
            CaptureSource::Header(n) => Some(n),
            CaptureSource::Json(_) => None,
        }
    }
}

/// Takes every capture of a step from its answer into `captured` (a name captured again
/// replaces its value): the values `{{captured.NAME}}` renders in the flow's later steps.
/// The first that fails fails the step and `captured` is left as it was: all or none.
pub fn extract_all(
    captures: &[Capture],
    answer: &AnswerView,
    captured: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), Mismatch> {
    let values = captures
        .iter()
        .map(|c| c.extract(answer))
        .collect::<Result<Vec<_>, _>>()?;
    for (c, value) in captures.iter().zip(values) {
        match captured.iter_mut().find(|(n, _)| *n == c.name) {
            Some((_, v)) => *v = value,
            None => captured.push((c.name.clone(), value)),
        }
    }
    Ok(())
}

/// Whether captures read the body (the transport keeps it only then).
pub fn reads_body(captures: &[Capture]) -> bool {
    captures
        .iter()
        .any(|c| matches!(c.from, CaptureSource::Json(_)))
}

/// RFC 9110's `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captures(pairs: &[(&str, &str)]) -> Vec<Capture> {
        pairs
            .iter()
            .map(|(n, t)| Capture::parse(n, t).unwrap())
            .collect()
    }

    #[test]
    fn values_are_taken_from_json_and_headers() {
        let c = captures(&[
            ("token", "json:/access_token"),
            ("n", "json:/order/n"),
            ("paid", "json:/order/paid"),
            ("location", "header:Location"),
        ]);
        assert_eq!(c[3].from, CaptureSource::Header("location".into()));
        assert!(reads_body(&c));
        let headers: &[(&str, &[u8])] = &[("location", b" /orders/7 ")];
        let body = br#"{"access_token":"abc.def","order":{"n":7,"paid":false}}"#;
        let answer = AnswerView::new(200, &headers, body, false);
        let mut got = vec![("token".to_string(), b"old".to_vec())];
        extract_all(&c, &answer, &mut got).unwrap();
        assert_eq!(
            got,
            vec![
                ("token".to_string(), b"abc.def".to_vec()),
                ("n".to_string(), b"7".to_vec()),
                ("paid".to_string(), b"false".to_vec()),
                ("location".to_string(), b"/orders/7".to_vec()),
            ]
        );
    }

    #[test]
    fn a_missing_value_or_an_object_fails_without_showing_a_value() {
        let answer = |body: &'static [u8]| AnswerView::new(200, &[], body, false);
        let c = captures(&[("token", "json:/access_token")]);
        let mut got = Vec::new();
        let m = extract_all(&c, &answer(br#"{"error":"no"}"#), &mut got).unwrap_err();
        assert_eq!(m.as_str(), "capture token: /access_token is missing");
        let m = extract_all(&c, &answer(br#"{"access_token":null}"#), &mut got).unwrap_err();
        assert_eq!(m.as_str(), "capture token: /access_token is missing");
        let m =
            extract_all(&c, &answer(br#"{"access_token":{"v":"s3cr3t"}}"#), &mut got).unwrap_err();
        assert_eq!(
            m.as_str(),
            "capture token: /access_token is an object, not a value"
        );
        let m = extract_all(&c, &answer(b"not json"), &mut got).unwrap_err();
        assert!(
            m.as_str().starts_with("capture token: body is not JSON"),
            "{m}"
        );
        // All or none: a step that fails leaves what earlier steps captured as it was.
        let both = captures(&[("loc", "header:location"), ("token", "json:/access_token")]);
        let mut kept = vec![("token".to_string(), b"earlier".to_vec())];
        let headers = [("location", &b"/o/1"[..])];
        let partial = AnswerView::new(200, &headers, br#"{}"#, false);
        assert!(extract_all(&both, &partial, &mut kept).is_err());
        assert_eq!(kept, [("token".to_string(), b"earlier".to_vec())]);
        let h = captures(&[("loc", "header:location")]);
        let m = extract_all(&h, &answer(b""), &mut got).unwrap_err();
        assert_eq!(m.as_str(), "capture loc: header location is missing");
        assert!(got.is_empty());
        assert_eq!(h[0].header_name(), Some("location"));
        assert!(!reads_body(&h));
    }

    #[test]
    fn bad_sources_are_placed_in_the_text() {
        let e = Capture::parse("t", "body:/x").unwrap_err();
        assert_eq!(
            (e.at, e.message.as_str()),
            (0, "unknown capture source `body`")
        );
        let e = Capture::parse("t", "json:access_token").unwrap_err();
        assert_eq!(e.at, 5);
        assert_eq!(e.expected, POINTER_FORM);
        let e = Capture::parse("t", "json:/a~x").unwrap_err();
        assert_eq!(e.at, 7);
        let e = Capture::parse("t", "header:").unwrap_err();
        assert_eq!(e.at, 7);
        assert!(Capture::parse("t", "header:bad name").is_err());
        assert!(Capture::parse("t", "/access_token").is_err());
    }
}
