//! The request of each entry of the mix, as the wire needs it. A literal entry (nothing to
//! render) has its head serialised once for the whole run; a templated one keeps its
//! compiled templates and the head lines that do not change, and is rendered once per
//! logical request into a [`Rendered`] that every attempt of the request sends.

use bytes::Bytes;
use http::header::HeaderName;
use http::{HeaderMap, HeaderValue, Method, Uri};

use std::sync::Arc;

use super::h1::{KeepFor, RequestTemplate};
use crate::scenario::RequestEntry;
use stampede_mix::template::{Context, Template};

/// One entry of the mix, ready to send.
#[derive(Clone)]
pub(super) struct EntryRequest {
    pub method: Method,
    /// May be sent twice with no other effect than once (RFC 9110 §9.2.2).
    pub idempotent: bool,
    /// Origin-form request target of a literal entry (`/path?query`).
    pub path: String,
    /// Every fixed header (the target's and the entry's literal ones), for signing and
    /// for a request whose ids replace one of them.
    pub headers: HeaderMap,
    /// The head of a literal entry, serialised once.
    pub template: RequestTemplate,
    pub body: Bytes,
    /// The whole URL of a literal entry, for signing.
    pub url: Uri,
    /// `Some`: rendered per logical request.
    pub templates: Option<Box<EntryTemplates>>,
    /// What its answers' checks and captures read (the body, named headers); `None`: it
    /// has neither, and nothing more than today is kept.
    pub keep: Option<Arc<KeepFor>>,
}

/// What a templated entry renders, and the fixed header lines around it.
#[derive(Clone)]
pub(super) struct EntryTemplates {
    pub target: Template,
    pub headers: Vec<(HeaderName, Template)>,
    pub body: Template,
    /// The fixed headers not replaced by a templated one, as head lines.
    pub fixed_lines: Vec<u8>,
}

/// One logical request's rendering: its request target, its templated header lines and
/// its body. Owned by the lane and reused from request to request.
#[derive(Debug, Default)]
pub struct Rendered {
    pub target: Vec<u8>,
    /// `name: value\r\n` lines.
    pub header_lines: Vec<u8>,
    pub body: Vec<u8>,
}

impl Rendered {
    fn clear(&mut self) {
        self.target.clear();
        self.header_lines.clear();
        self.body.clear();
    }
}

impl EntryRequest {
    /// `base` holds the target's headers (Host, User-Agent, Basic auth, `[target.headers]`,
    /// a fixed credential); `origin` is `scheme://authority`.
    pub fn new(entry: &RequestEntry, base: &HeaderMap, origin: &str) -> EntryRequest {
        let mut headers = base.clone();
        let mut templated = Vec::new();
        for (name, value) in &entry.headers {
            match value.as_literal() {
                Some(v) => {
                    let v =
                        HeaderValue::from_bytes(v).expect("literal values are checked when read");
                    headers.insert(name.clone(), v);
                }
                None => {
                    headers.remove(name);
                    templated.push((name.clone(), value.clone()));
                }
            }
        }
        let path = entry.target.as_literal().map_or_else(
            || "/".to_string(),
            |p| String::from_utf8_lossy(p).into_owned(),
        );
        let body = Bytes::from(entry.body.as_literal().unwrap_or_default().to_vec());
        let template = RequestTemplate::new(&entry.method, &path, &headers, body.len());
        let templates = (!entry.is_literal()).then(|| {
            let mut fixed_lines = Vec::new();
            for (name, value) in &headers {
                super::h1::put_header(&mut fixed_lines, name, value);
            }
            Box::new(EntryTemplates {
                target: entry.target.clone(),
                headers: templated,
                body: entry.body.clone(),
                fixed_lines,
            })
        });
        let url = format!("{origin}{path}")
            .parse()
            .unwrap_or_else(|_| Uri::from_static("/"));
        EntryRequest {
            idempotent: matches!(
                entry.method,
                Method::GET
                    | Method::HEAD
                    | Method::PUT
                    | Method::DELETE
                    | Method::OPTIONS
                    | Method::TRACE
            ),
            method: entry.method.clone(),
            path,
            headers,
            template,
            body,
            url,
            templates,
            keep: KeepFor::for_checks(entry.expect.as_ref(), &entry.captures).map(Arc::new),
        }
    }

    /// Renders this entry for one logical request into `out` (nothing for a literal one).
    pub fn render(&self, ctx: &Context, out: &mut Rendered) {
        out.clear();
        let Some(t) = &self.templates else {
            return;
        };
        // Templates compiled for their place never end a line early: a path's values and
        // literal spaces are percent-encoded, a header value never holds a CR, LF or NUL.
        t.target.render(ctx, &mut out.target);
        for (name, value) in &t.headers {
            out.header_lines.extend_from_slice(name.as_str().as_bytes());
            out.header_lines.extend_from_slice(b": ");
            value.render(ctx, &mut out.header_lines);
            out.header_lines.extend_from_slice(b"\r\n");
        }
        t.body.render(ctx, &mut out.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Requests;

    fn entry(name: &str, method: Method, path: &str, body: &str) -> RequestEntry {
        RequestEntry {
            name: name.into(),
            method,
            target: Template::literal(path.as_bytes()),
            shown_path: path.into(),
            headers: vec![(
                HeaderName::from_static("x-entry"),
                Template::literal(name.as_bytes()),
            )],
            body: Template::literal(body.as_bytes()),
            weight: 1,
            expect: None,
            captures: Vec::new(),
        }
    }

    #[test]
    fn a_literal_entry_has_its_whole_head_serialised_once() {
        let mut base = HeaderMap::new();
        base.insert("host", HeaderValue::from_static("h"));
        base.insert("x-entry", HeaderValue::from_static("target's"));
        let mix = Requests {
            entries: vec![
                entry("a", Method::GET, "/a?q=1", ""),
                entry("b", Method::POST, "/b", "{}"),
            ],
            rotation: stampede_mix::Rotation::new(&[1, 1]).unwrap(),
            declared: true,
            data: Vec::new(),
            env: Default::default(),
            flows: None,
        };
        let prepared: Vec<EntryRequest> = mix
            .entries
            .iter()
            .map(|e| EntryRequest::new(e, &base, "http://h"))
            .collect();
        assert!(
            prepared.iter().all(|p| p.templates.is_none()),
            "nothing to render"
        );
        assert_eq!(
            prepared[0].template.whole(),
            b"GET /a?q=1 HTTP/1.1\r\nhost: h\r\nx-entry: a\r\n\r\n"
        );
        assert_eq!(
            prepared[1].template.whole(),
            b"POST /b HTTP/1.1\r\nhost: h\r\nx-entry: b\r\ncontent-length: 2\r\n\r\n"
        );
        assert_eq!(&prepared[1].body[..], b"{}");
        assert_eq!(prepared[1].url, "http://h/b");
        assert!(prepared[0].idempotent && !prepared[1].idempotent);
        // Rendering a literal entry writes nothing: its bytes are the template's.
        let mut out = Rendered::default();
        let ctx = Context {
            seq: 0,
            uuid: 0,
            random_seed: 0,
            timestamp_ms: 0,
            rows: &[],
            env: &[],
            captured: &[],
        };
        prepared[1].render(&ctx, &mut out);
        assert!(out.target.is_empty() && out.body.is_empty());
    }
}
