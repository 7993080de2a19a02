//! An HTTP/1.1 answer, read without I/O: the head (with `httparse`, the parser hyper uses)
//! and the framing of the body (RFC 9112 §6.3), fed bytes as they arrive.
//!
//! The same rules as hyper's client: 1xx answers (but 101) are skipped; HEAD answers, 204
//! and 304 have no body; `Transfer-Encoding` ending in `chunked` wins over
//! `Content-Length`, any other `Transfer-Encoding` reads until the server closes; several
//! `Content-Length`s must agree; without either, the body runs until the server closes.
//! Where we part from hyper (a 101, the limits, trailers), `tests/it/h1_codec.rs` says why.

use std::mem::MaybeUninit;
use std::sync::Arc;

use http::HeaderValue;
use stampede_mix::capture::{self, Capture};
use stampede_mix::expect::{AnswerView, Expect, BODY_LIMIT};

/// The longest head accepted, in bytes (hyper's own buffer limit is about 400 KB).
pub const MAX_HEAD: usize = 256 * 1024;
/// At most this many header fields in a head (hyper's default).
const MAX_HEADERS: usize = 100;
/// The longest chunk-size line (with extensions) or trailer line.
const MAX_LINE: usize = 16 * 1024;

/// What an answer's head says that a load test reads.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Head {
    pub status: u16,
    pub error_type: Option<HeaderValue>,
    pub retry_after: Option<HeaderValue>,
    pub function_error: Option<HeaderValue>,
    pub log_result: Option<HeaderValue>,
    pub date: Option<HeaderValue>,
    /// The connection cannot carry another request after this answer.
    pub close: bool,
    /// `Keep-Alive: timeout=…, max=…`, when the answer has one.
    pub keep_alive: Option<KeepAlive>,
    /// What a request's checks and captures asked to keep ([`ResponseReader::keeping`]).
    pub kept: Option<Box<Kept>>,
}

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

    fn add(&mut self, name: &str, value: &[u8]) {
        match self.headers.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => {
                v.extend_from_slice(b", ");
                v.extend_from_slice(value);
            }
            None => self.headers.push((name.to_string(), value.to_vec())),
        }
    }
}

/// What a server says of how long it keeps an idle connection and how many requests one
/// may carry (`Keep-Alive`, RFC 2068 §19.7.1.1): servers that close without saying
/// `Connection: close` say this instead, if anything.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct KeepAlive {
    /// Seconds an idle connection stays open.
    pub timeout: Option<f64>,
    /// Requests the connection carries: in all (Node's), or still (Apache's, counting down).
    pub max: Option<u32>,
}

impl KeepAlive {
    /// `timeout=5, max=100`; unknown or malformed parameters are ignored.
    fn parse(value: &[u8]) -> KeepAlive {
        let mut out = KeepAlive::default();
        for param in value.split(|b| *b == b',') {
            let Some(eq) = param.iter().position(|b| *b == b'=') else {
                continue;
            };
            let (name, value) = (param[..eq].trim_ascii(), param[eq + 1..].trim_ascii());
            let Ok(value) = std::str::from_utf8(value) else {
                continue;
            };
            let value = value.trim_matches('"');
            if name.eq_ignore_ascii_case(b"timeout") {
                out.timeout = value
                    .parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite() && *t >= 0.0);
            } else if name.eq_ignore_ascii_case(b"max") {
                out.max = value.parse().ok();
            }
        }
        out
    }
}

/// Why the bytes are not a valid answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseError {
    Head(httparse::Error),
    HeadTooLarge,
    SwitchingProtocols,
    ContentLength,
    TransferEncodingInHttp10,
    ChunkSize,
    ChunkEnd,
    LineTooLong,
    /// The server closed the connection before the answer was complete.
    Incomplete,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Head(e) => write!(f, "invalid answer head: {e}"),
            ParseError::HeadTooLarge => write!(f, "answer head over {} KB", MAX_HEAD / 1024),
            ParseError::SwitchingProtocols => f.write_str("101 Switching Protocols, not asked for"),
            ParseError::ContentLength => f.write_str("invalid or conflicting Content-Length"),
            ParseError::TransferEncodingInHttp10 => {
                f.write_str("Transfer-Encoding in an HTTP/1.0 answer")
            }
            ParseError::ChunkSize => f.write_str("invalid chunk size line"),
            ParseError::ChunkEnd => f.write_str("chunk data not followed by CRLF"),
            ParseError::LineTooLong => {
                write!(f, "chunk or trailer line over {} KB", MAX_LINE / 1024)
            }
            ParseError::Incomplete => {
                f.write_str("connection closed before the answer was complete")
            }
        }
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Chunked {
    /// A chunk-size line is next.
    Size,
    /// This many bytes of chunk data are left.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// Trailer lines until an empty one.
    Trailer,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Head,
    Length(u64),
    Chunked(Chunked),
    UntilClose,
    Done,
}

/// Reads one answer. Feed it the unread bytes; it takes what it can and says how many.
#[derive(Debug)]
pub struct ResponseReader {
    head_request: bool,
    /// Keep `X-Amz-Function-Error` and `X-Amz-Log-Result` (a Lambda Invoke target).
    invoke: bool,
    /// Up to this many body bytes are kept for answers of 400 and above and function errors.
    excerpt_limit: usize,
    /// A request with checks or captures: its body and headers are kept for every answer.
    keep_for: Option<Arc<KeepFor>>,
    keep: usize,
    /// The body went on past what `keep` allows.
    body_cut: bool,
    state: State,
    head: Head,
    excerpt: Vec<u8>,
}

impl ResponseReader {
    pub fn new(head_request: bool, invoke: bool, excerpt_limit: usize) -> ResponseReader {
        ResponseReader {
            head_request,
            invoke,
            excerpt_limit,
            keep_for: None,
            keep: 0,
            body_cut: false,
            state: State::Head,
            head: Head::default(),
            excerpt: Vec::new(),
        }
    }

    /// Also keeps what a request's checks and captures read: the body up to
    /// `keep.body_limit` (whatever the status; [`ResponseReader::finish`]'s bytes) and the
    /// headers named, in [`Head::kept`]. Without it nothing more is kept or looked at.
    pub fn keeping(mut self, keep: Arc<KeepFor>) -> ResponseReader {
        self.keep_for = Some(keep);
        self
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The head and the kept start of the body, once done.
    pub fn finish(mut self) -> (Head, Vec<u8>) {
        if let Some(kept) = &mut self.head.kept {
            kept.body_cut = self.body_cut;
        }
        (self.head, self.excerpt)
    }

    /// Takes what it can of `input` and returns how many bytes it took. When it is not
    /// done and took less than all, the rest is an incomplete head or line: call again with
    /// that rest and more bytes.
    pub fn feed(&mut self, input: &[u8]) -> Result<usize, ParseError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            let step = match self.state {
                State::Done => return Ok(used),
                State::Head => self.read_head(rest)?,
                State::Length(left) => {
                    let n = left.min(rest.len() as u64) as usize;
                    self.keep_body(&rest[..n]);
                    self.state = match left - n as u64 {
                        0 => State::Done,
                        left => State::Length(left),
                    };
                    n
                }
                State::UntilClose => {
                    self.keep_body(rest);
                    rest.len()
                }
                State::Chunked(c) => self.read_chunked(c, rest)?,
            };
            used += step;
            // Nothing taken: the rest is incomplete (or empty) until more bytes come.
            if step == 0 && self.state != State::Done {
                return Ok(used);
            }
        }
    }

    /// The server closed the connection: the end of an answer that runs until then, else
    /// an answer cut short.
    pub fn eof(&mut self) -> Result<(), ParseError> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(ParseError::Incomplete),
        }
    }

    fn keep_body(&mut self, data: &[u8]) {
        let room = self.keep - self.excerpt.len();
        if room > 0 {
            self.excerpt
                .extend_from_slice(&data[..data.len().min(room)]);
        }
        self.body_cut |= data.len() > room;
    }

    fn read_head(&mut self, input: &[u8]) -> Result<usize, ParseError> {
        let mut headers = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut []);
        let config = httparse::ParserConfig::default();
        // Only the first MAX_HEAD bytes are parsed: a longer head is too large however its
        // bytes arrive (all at once, or a piece ending inside it), and a head that never
        // ends is not parsed again and again in full.
        let window = &input[..input.len().min(MAX_HEAD)];
        let len =
            match config.parse_response_with_uninit_headers(&mut response, window, &mut headers) {
                Ok(httparse::Status::Complete(len)) => len,
                Ok(httparse::Status::Partial) if window.len() == MAX_HEAD => {
                    return Err(ParseError::HeadTooLarge)
                }
                Ok(httparse::Status::Partial) => return Ok(0),
                Err(e) => return Err(ParseError::Head(e)),
            };
        let status = response.code.unwrap_or_default();
        // httparse takes any three digits; 000 to 099 is no status class (hyper rejects it).
        if status < 100 {
            return Err(ParseError::Head(httparse::Error::Status));
        }
        let http10 = response.version == Some(0);
        let mut head = Head {
            status,
            ..Head::default()
        };
        // `close` in any Connection field wins over `keep-alive` in any other (RFC 9112 §9.3).
        let (mut close, mut keep_alive) = (false, false);
        let (mut chunked, mut encoded, mut length) = (false, false, None::<u64>);
        let mut bad_length = false;
        let value = |v: &[u8]| HeaderValue::from_bytes(v).ok();
        let mut kept = self.keep_for.as_ref().map(|_| Box::<Kept>::default());
        for h in response.headers.iter() {
            let name = h.name;
            if let (Some(kept), Some(keep)) = (&mut kept, &self.keep_for) {
                if let Some(n) = keep.headers.iter().find(|n| name.eq_ignore_ascii_case(n)) {
                    kept.add(n, h.value.trim_ascii());
                }
            }
            if name.eq_ignore_ascii_case("content-length") {
                match content_length(h.value) {
                    Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                    _ => bad_length = true,
                }
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                encoded = true;
                // Only the last field's last coding counts.
                chunked = std::str::from_utf8(h.value).is_ok_and(|s| {
                    s.rsplit(',')
                        .next()
                        .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"))
                });
            } else if name.eq_ignore_ascii_case("connection") {
                for token in h.value.split(|b| *b == b',') {
                    let token = token.trim_ascii();
                    close |= token.eq_ignore_ascii_case(b"close");
                    keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name.eq_ignore_ascii_case("x-amzn-errortype") {
                head.error_type = value(h.value);
            } else if name.eq_ignore_ascii_case("retry-after") {
                head.retry_after = value(h.value);
            } else if name.eq_ignore_ascii_case("date") {
                head.date = value(h.value);
            } else if name.eq_ignore_ascii_case("keep-alive") {
                head.keep_alive = Some(KeepAlive::parse(h.value));
            } else if self.invoke && name.eq_ignore_ascii_case("x-amz-function-error") {
                head.function_error = value(h.value);
            } else if self.invoke && name.eq_ignore_ascii_case("x-amz-log-result") {
                head.log_result = value(h.value);
            }
        }
        // HTTP/1.0 closes unless the server says keep-alive.
        head.close = close || (http10 && !keep_alive);
        match status {
            101 => return Err(ParseError::SwitchingProtocols),
            // An interim answer: the real one follows.
            100..=199 => return Ok(len),
            _ => {}
        }
        self.state = if self.head_request || status == 204 || status == 304 {
            State::Done
        } else if encoded {
            if http10 {
                return Err(ParseError::TransferEncodingInHttp10);
            }
            if chunked {
                State::Chunked(Chunked::Size)
            } else {
                State::UntilClose
            }
        } else if bad_length {
            return Err(ParseError::ContentLength);
        } else {
            match length {
                Some(0) => State::Done,
                Some(n) => State::Length(n),
                None => State::UntilClose,
            }
        };
        if self.state == State::UntilClose {
            head.close = true;
        }
        if status >= 400 || head.function_error.is_some() {
            self.keep = self.excerpt_limit;
        }
        if let Some(keep) = &self.keep_for {
            self.keep = self.keep.max(keep.body_limit);
        }
        head.kept = kept;
        self.head = head;
        Ok(len)
    }

    fn read_chunked(&mut self, state: Chunked, input: &[u8]) -> Result<usize, ParseError> {
        match state {
            Chunked::Size => {
                let Some(line) = line(input)? else {
                    return Ok(0);
                };
                let size = chunk_size(&input[..line - 2])?;
                self.state = State::Chunked(if size == 0 {
                    Chunked::Trailer
                } else {
                    Chunked::Data(size)
                });
                Ok(line)
            }
            Chunked::Data(left) => {
                let n = left.min(input.len() as u64) as usize;
                self.keep_body(&input[..n]);
                self.state = State::Chunked(match left - n as u64 {
                    0 => Chunked::DataEnd,
                    left => Chunked::Data(left),
                });
                Ok(n)
            }
            Chunked::DataEnd => match input {
                [b'\r', b'\n', ..] => {
                    self.state = State::Chunked(Chunked::Size);
                    Ok(2)
                }
                [] | [b'\r'] => Ok(0),
                _ => Err(ParseError::ChunkEnd),
            },
            Chunked::Trailer => {
                let Some(line) = line(input)? else {
                    return Ok(0);
                };
                if line == 2 {
                    self.state = State::Done;
                }
                Ok(line)
            }
        }
    }
}

/// The length of the first CRLF-ended line of `input` (CRLF included), if it is all there.
/// A CR or LF alone is an error (RFC 9112 §2.2), as is a line over MAX_LINE with its CRLF —
/// whether the bytes after it have come yet or not, so a line's fate does not depend on how
/// the reads fall.
fn line(input: &[u8]) -> Result<Option<usize>, ParseError> {
    let window = &input[..input.len().min(MAX_LINE)];
    let full = window.len() == MAX_LINE;
    match window.iter().position(|b| *b == b'\r' || *b == b'\n') {
        Some(at) if window[at] == b'\r' => match window.get(at + 1) {
            Some(b'\n') => Ok(Some(at + 2)),
            Some(_) => Err(ParseError::ChunkSize),
            None if full => Err(ParseError::LineTooLong),
            None => Ok(None),
        },
        Some(_) => Err(ParseError::ChunkSize),
        None if full => Err(ParseError::LineTooLong),
        None => Ok(None),
    }
}

/// A chunk-size line without its CRLF: hex digits, optional spaces or tabs, extensions.
fn chunk_size(line: &[u8]) -> Result<u64, ParseError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ParseError::ChunkSize);
    }
    let mut size: u64 = 0;
    for b in &line[..digits] {
        let d = (*b as char).to_digit(16).expect("a hex digit") as u64;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(d))
            .ok_or(ParseError::ChunkSize)?;
    }
    // Only SP and HTAB (BWS) before the extensions: not the form feed `trim_ascii` takes.
    let blank = line[digits..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let rest = &line[digits + blank..];
    if rest.is_empty() || rest[0] == b';' {
        Ok(size)
    } else {
        Err(ParseError::ChunkSize)
    }
}

/// A `Content-Length` value: digits, or a list of equal digits (`5, 5`).
fn content_length(value: &[u8]) -> Option<u64> {
    let mut length = None;
    for part in value.split(|b| *b == b',') {
        let part = part.trim_ascii();
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = std::str::from_utf8(part).ok()?.parse::<u64>().ok()?;
        if length.is_some_and(|l| l != n) {
            return None;
        }
        length = Some(n);
    }
    length
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_parameters_are_read_and_bad_ones_ignored() {
        let ka = KeepAlive::parse(b"timeout=5, max=100");
        assert_eq!((ka.timeout, ka.max), (Some(5.0), Some(100)));
        let ka = KeepAlive::parse(b" MAX = 3 ,Timeout=\"1.5\", foo=bar, junk");
        assert_eq!((ka.timeout, ka.max), (Some(1.5), Some(3)));
        let ka = KeepAlive::parse(b"timeout=-1, max=many");
        assert_eq!((ka.timeout, ka.max), (None, None));
        let ka = KeepAlive::parse(b"timeout=inf");
        assert_eq!(ka.timeout, None);
    }

    #[test]
    fn an_answer_says_keep_alive_only_when_it_has_the_header() {
        let mut r = ResponseReader::new(false, false, 0);
        r.feed(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .unwrap();
        assert_eq!(r.finish().0.keep_alive, None);
        let mut r = ResponseReader::new(false, false, 0);
        let answer =
            b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1, max=3\r\ncontent-length: 0\r\n\r\n";
        r.feed(answer).unwrap();
        let ka = r.finish().0.keep_alive.unwrap();
        assert_eq!((ka.timeout, ka.max), (Some(1.0), Some(3)));
    }

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
