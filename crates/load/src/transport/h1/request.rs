//! A target's request, serialised once: its request line and fixed headers as bytes, to
//! which an attempt adds only what changes (its ids, its signature) and the length.

use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// The bytes of a request's head, less what each attempt adds.
#[derive(Clone, Debug)]
pub struct RequestTemplate {
    /// `METHOD /path HTTP/1.1` and the fixed header lines, each ending in CRLF.
    start: Vec<u8>,
    /// The `content-length` line (when one is sent) and the blank line that ends the head.
    end: Vec<u8>,
    /// `start` + `end`: the whole head of an attempt that adds nothing.
    whole: Vec<u8>,
}

impl RequestTemplate {
    /// `target` is the origin form (`/path?query`). A `content-length` is sent as hyper
    /// sends one: when the body is not empty or the method defines a body (POST, PUT, …),
    /// unless the headers already frame the body.
    pub fn new(method: &Method, target: &str, headers: &HeaderMap, body_len: usize) -> Self {
        let mut start = Vec::with_capacity(256);
        start.extend_from_slice(method.as_str().as_bytes());
        start.push(b' ');
        start.extend_from_slice(target.as_bytes());
        start.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in headers {
            put_header(&mut start, name, value);
        }
        let framed =
            headers.contains_key(CONTENT_LENGTH) || headers.contains_key(TRANSFER_ENCODING);
        let defines_body = defines_body(method);
        let mut end = Vec::new();
        if !framed && (body_len > 0 || defines_body) {
            end.extend_from_slice(format!("content-length: {body_len}\r\n").as_bytes());
        }
        end.extend_from_slice(b"\r\n");
        let mut whole = start.clone();
        whole.extend_from_slice(&end);
        RequestTemplate { start, end, whole }
    }

    /// The head when an attempt adds no header.
    pub fn whole(&self) -> &[u8] {
        &self.whole
    }

    /// Writes into `out` the head with `added` headers after the fixed ones.
    pub fn with<'h>(
        &self,
        out: &mut Vec<u8>,
        added: impl IntoIterator<Item = (&'h HeaderName, &'h HeaderValue)>,
    ) {
        out.clear();
        out.extend_from_slice(&self.start);
        for (name, value) in added {
            put_header(out, name, value);
        }
        out.extend_from_slice(&self.end);
    }
}

/// Writes the head of a rendered request: the request line with its rendered target, the
/// fixed header lines, the rendered ones, `added` (the attempt's ids) and the length.
pub fn head_rendered<'h>(
    out: &mut Vec<u8>,
    method: &Method,
    target: &[u8],
    fixed_lines: &[u8],
    rendered_lines: &[u8],
    added: impl IntoIterator<Item = (&'h HeaderName, &'h HeaderValue)>,
    body_len: usize,
) {
    out.clear();
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    out.extend_from_slice(fixed_lines);
    out.extend_from_slice(rendered_lines);
    for (name, value) in added {
        put_header(out, name, value);
    }
    if body_len > 0 || defines_body(method) {
        out.extend_from_slice(format!("content-length: {body_len}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

fn defines_body(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::DELETE | Method::CONNECT
    )
}

/// Writes a whole head from a request line and a header map (the signed path).
pub fn head_of(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body_len: usize,
) {
    let template = RequestTemplate::new(method, target, headers, body_len);
    out.clear();
    out.extend_from_slice(template.whole());
}

pub fn put_header(out: &mut Vec<u8>, name: &HeaderName, value: &HeaderValue) {
    out.extend_from_slice(name.as_str().as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn a_get_has_no_length_and_a_post_always_has_one() {
        let h = map(&[("host", "example.com")]);
        let get = RequestTemplate::new(&Method::GET, "/a?b=1", &h, 0);
        assert_eq!(
            get.whole(),
            b"GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\n\r\n"
        );
        let post = RequestTemplate::new(&Method::POST, "/", &h, 0);
        assert_eq!(
            post.whole(),
            b"POST / HTTP/1.1\r\nhost: example.com\r\ncontent-length: 0\r\n\r\n"
        );
        let get_body = RequestTemplate::new(&Method::GET, "/", &h, 5);
        assert!(get_body.whole().ends_with(b"content-length: 5\r\n\r\n"));
    }

    #[test]
    fn added_headers_go_between_the_fixed_ones_and_the_length() {
        let h = map(&[("host", "h"), ("x-a", "1")]);
        let t = RequestTemplate::new(&Method::PUT, "/p", &h, 3);
        let id = (
            HeaderName::from_static("x-correlation-id"),
            HeaderValue::from_static("c-1"),
        );
        let mut out = Vec::new();
        t.with(&mut out, [(&id.0, &id.1)]);
        assert_eq!(
            out,
            b"PUT /p HTTP/1.1\r\nhost: h\r\nx-a: 1\r\nx-correlation-id: c-1\r\ncontent-length: 3\r\n\r\n"
        );
    }

    #[test]
    fn a_rendered_head_puts_its_lines_where_the_template_would() {
        let h = map(&[("host", "h"), ("x-a", "1")]);
        let t = RequestTemplate::new(&Method::POST, "/p/7", &h, 3);
        let id = (
            HeaderName::from_static("x-correlation-id"),
            HeaderValue::from_static("c-1"),
        );
        let mut fixed = Vec::new();
        put_header(
            &mut fixed,
            &HeaderName::from_static("host"),
            &HeaderValue::from_static("h"),
        );
        let mut templated = Vec::new();
        t.with(&mut templated, [(&id.0, &id.1)]);
        let mut rendered = Vec::new();
        head_rendered(
            &mut rendered,
            &Method::POST,
            b"/p/7",
            &fixed,
            b"x-a: 1\r\n",
            [(&id.0, &id.1)],
            3,
        );
        assert_eq!(rendered, templated);
    }

    #[test]
    fn a_length_the_user_set_is_not_doubled() {
        let h = map(&[("host", "h"), ("content-length", "3")]);
        let t = RequestTemplate::new(&Method::POST, "/", &h, 3);
        let text = String::from_utf8(t.whole().to_vec()).unwrap();
        assert_eq!(text.matches("content-length").count(), 1, "{text}");
    }
}
