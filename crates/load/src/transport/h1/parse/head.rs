//! An answer's head: the status line and the headers a load test reads (with `httparse`),
//! and the framing of the body they set.

use std::mem::MaybeUninit;

use http::HeaderValue;

use super::{Chunked, Kept, ParseError, ResponseReader, State, MAX_HEAD, MAX_HEADERS};

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
    /// An InvokeWithResponseStream answer's event stream, read to its end.
    pub stream: Option<Box<crate::transport::invoke_stream::StreamEnd>>,
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

impl ResponseReader {
    pub(super) fn read_head(&mut self, input: &[u8]) -> Result<usize, ParseError> {
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
        // A stream's function error is known at its end: the payload's start is kept.
        if self.invoke_stream && status == 200 {
            self.events = Some(Box::default());
            self.keep = self.excerpt_limit;
        }
        if let Some(keep) = &self.keep_for {
            self.keep = self.keep.max(keep.body_limit);
        }
        head.kept = kept;
        self.head = head;
        Ok(len)
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
}
