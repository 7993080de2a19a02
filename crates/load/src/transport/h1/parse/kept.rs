//! What a request's checks and captures keep of its answers: the body up to a limit and
//! the headers they name.

use stampede_mix::capture::{self, Capture};
use stampede_mix::expect::{AnswerView, Expect, BODY_LIMIT};

/// What a request's checks and captures read besides what every answer keeps: the body up
/// to a limit, whatever the status, and the headers they name. Made once per request.
#[derive(Debug, Clone, PartialEq)]
pub struct KeepFor {
    pub body_limit: usize,
    /// Lowercase names.
    pub headers: Vec<String>,
}

impl KeepFor {
    pub fn new(body_limit: usize, headers: impl IntoIterator<Item = impl AsRef<str>>) -> KeepFor {
        let mut names: Vec<String> = headers
            .into_iter()
            .map(|n| n.as_ref().to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        KeepFor {
            body_limit,
            headers: names,
        }
    }

    /// What a request with these checks and captures keeps of its answers; `None` when it
    /// has neither, and its answers are read as every other request's.
    pub fn for_checks(expect: Option<&Expect>, captures: &[Capture]) -> Option<KeepFor> {
        if expect.is_none() && captures.is_empty() {
            return None;
        }
        let reads_body = expect.is_some_and(Expect::reads_body) || capture::reads_body(captures);
        let names = expect
            .into_iter()
            .flat_map(Expect::header_names)
            .chain(captures.iter().filter_map(Capture::header_name));
        Some(KeepFor::new(if reads_body { BODY_LIMIT } else { 0 }, names))
    }
}

/// The headers kept for checks (the body is the reader's excerpt), and whether the body
/// went on past the limit.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Kept {
    /// Name (lowercase) and value; a repeated header's fields joined by ", ".
    headers: Vec<(String, Vec<u8>)>,
    pub body_cut: bool,
}

impl stampede_mix::expect::Headers for Kept {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

impl Kept {
    /// The answer as checks and captures read it: `body` is the reader's kept bytes.
    pub fn view<'a>(&'a self, status: u16, body: &'a [u8]) -> AnswerView<'a> {
        AnswerView::new(status, self, body, self.body_cut)
    }

    pub(super) fn add(&mut self, name: &str, value: &[u8]) {
        match self.headers.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => {
                v.extend_from_slice(b", ");
                v.extend_from_slice(value);
            }
            None => self.headers.push((name.to_string(), value.to_vec())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::h1::parse::{Head, ResponseReader};
    use std::sync::Arc;

    /// Reads `answer` fed in pieces of `step` bytes (as reads may fall), to its end.
    fn read_in_pieces(mut r: ResponseReader, answer: &[u8], step: usize) -> (Head, Vec<u8>) {
        let mut pending = Vec::new();
        for piece in answer.chunks(step) {
            pending.extend_from_slice(piece);
            let used = r.feed(&pending).unwrap();
            pending.drain(..used);
        }
        if !r.is_done() {
            r.eof().unwrap();
        }
        assert!(pending.is_empty() && r.is_done());
        r.finish()
    }

    fn for_checks(body_limit: usize) -> Arc<KeepFor> {
        Arc::new(KeepFor::new(
            body_limit,
            ["Location", "x-trace", "content-type"],
        ))
    }

    #[test]
    fn a_request_with_checks_keeps_the_body_and_the_headers_it_names() {
        use stampede_mix::expect::Headers;
        let chunked: &[u8] = b"HTTP/1.1 201 Created\r\nLocation: /orders/7\r\nX-Trace: a\r\n\
            Set-Cookie: s3cr3t\r\nx-trace: b\r\nTransfer-Encoding: chunked\r\n\r\n\
            6\r\n{\"id\":\r\n2\r\n7}\r\n0\r\n\r\n";
        let length: &[u8] = b"HTTP/1.1 201 Created\r\nlocation: /orders/7\r\nX-Trace: a, b\r\n\
            Set-Cookie: s3cr3t\r\nContent-Length: 8\r\n\r\n{\"id\":7}";
        for answer in [chunked, length] {
            for step in [1, 3, 7, answer.len()] {
                let r = ResponseReader::new(false, false, 512).keeping(for_checks(1 << 20));
                let (head, body) = read_in_pieces(r, answer, step);
                assert_eq!(body, br#"{"id":7}"#, "step {step}");
                let kept = head.kept.expect("kept for checks");
                assert_eq!(kept.get("location"), Some(&b"/orders/7"[..]));
                assert_eq!(kept.get("x-trace"), Some(&b"a, b"[..]));
                assert_eq!(kept.get("set-cookie"), None, "only the headers named");
                assert_eq!(kept.get("content-type"), None);
                assert!(!kept.body_cut);
            }
        }
    }

    #[test]
    fn a_body_past_the_limit_is_read_to_its_end_and_said_to_be_cut() {
        let mut answer = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n".to_vec();
        answer.extend_from_slice(&[b'x'; 100]);
        answer.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        let mut r = ResponseReader::new(false, false, 512).keeping(for_checks(10));
        let used = r.feed(&answer).unwrap();
        assert!(r.is_done());
        assert_eq!(
            used,
            answer.len() - 27,
            "the whole body, not a byte of the next"
        );
        let (head, body) = r.finish();
        assert_eq!(body.len(), 10);
        assert!(head.kept.unwrap().body_cut);
        // A chunked body past the limit too, and one ending exactly at it.
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
        for (limit, cut) in [(7, true), (10, false)] {
            let r = ResponseReader::new(false, false, 0).keeping(for_checks(limit));
            let (head, body) = read_in_pieces(r, chunked, 4);
            assert_eq!(body, &b"helloworld"[..limit]);
            assert_eq!(head.kept.unwrap().body_cut, cut, "limit {limit}");
        }
    }

    #[test]
    fn without_checks_an_ok_answer_keeps_nothing_more() {
        let answer = b"HTTP/1.1 200 OK\r\nlocation: /x\r\ncontent-length: 5\r\n\r\nhello";
        let (head, body) = read_in_pieces(ResponseReader::new(false, false, 512), answer, 2);
        assert_eq!((head.kept, body.len()), (None, 0));
        // A failed answer keeps its excerpt as before; checks keep more of it.
        let failed = b"HTTP/1.1 500 Oops\r\ncontent-length: 5\r\n\r\nhello";
        let (_, body) = read_in_pieces(ResponseReader::new(false, false, 3), failed, 2);
        assert_eq!(body, b"hel");
        let r = ResponseReader::new(false, false, 3).keeping(for_checks(1 << 20));
        let (head, body) = read_in_pieces(r, failed, 2);
        assert_eq!(body, b"hello");
        assert!(!head.kept.unwrap().body_cut);
    }

    #[test]
    fn a_request_keeps_what_its_checks_and_captures_read_and_no_more() {
        use stampede_mix::expect::{HeaderWant, Pointer};
        assert_eq!(KeepFor::for_checks(None, &[]), None);
        let status_only = Expect {
            status: Some(stampede_mix::expect::StatusSet::new()),
            ..Expect::default()
        };
        let keep = KeepFor::for_checks(Some(&status_only), &[]).unwrap();
        assert_eq!((keep.body_limit, keep.headers.len()), (0, 0));
        let expect = Expect {
            headers: vec![("etag".into(), HeaderWant::Present)],
            json: vec![(Pointer::parse("/status").unwrap(), serde_json::json!("OK"))],
            ..Expect::default()
        };
        let captures = [Capture::parse("loc", "header:Location").unwrap()];
        let keep = KeepFor::for_checks(Some(&expect), &captures).unwrap();
        assert_eq!(keep.body_limit, BODY_LIMIT);
        assert_eq!(keep.headers, ["etag", "location"]);
        let keep = KeepFor::for_checks(None, &captures).unwrap();
        assert_eq!((keep.body_limit, keep.headers.len()), (0, 1));
        // The hook the lane calls, end to end on one answer.
        let answer = b"HTTP/1.1 200 OK\r\nETag: 1\r\nLocation: /o/1\r\ncontent-length: 16\r\n\r\n{\"status\":\"BAD\"}";
        let keep = Arc::new(KeepFor::for_checks(Some(&expect), &captures).unwrap());
        let r = ResponseReader::new(false, false, 512).keeping(keep);
        let (head, body) = read_in_pieces(r, answer, 9);
        let kept = head.kept.unwrap();
        let view = kept.view(head.status, &body);
        assert_eq!(
            expect.check(&view).unwrap_err().as_str(),
            r#"/status was "BAD", expected "OK""#
        );
        let mut captured = Vec::new();
        capture::extract_all(&captures, &view, &mut captured).unwrap();
        assert_eq!(captured, [("loc".to_string(), b"/o/1".to_vec())]);
    }

    #[test]
    fn checks_keep_the_final_answer_not_an_interim_one() {
        let answer = b"HTTP/1.1 100 Continue\r\nx-trace: interim\r\n\r\n\
            HTTP/1.1 200 OK\r\nx-trace: final\r\ncontent-length: 2\r\n\r\nok";
        let r = ResponseReader::new(false, false, 0).keeping(for_checks(64));
        let (head, body) = read_in_pieces(r, answer, 5);
        use stampede_mix::expect::Headers;
        assert_eq!(head.kept.unwrap().get("x-trace"), Some(&b"final"[..]));
        assert_eq!(body, b"ok");
    }
}
