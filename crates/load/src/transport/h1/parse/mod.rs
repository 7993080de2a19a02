//! An HTTP/1.1 answer, read without I/O: the head (with `httparse`, the parser hyper uses)
//! and the framing of the body (RFC 9112 §6.3), fed bytes as they arrive.
//!
//! The same rules as hyper's client: 1xx answers (but 101) are skipped; HEAD answers, 204
//! and 304 have no body; `Transfer-Encoding` ending in `chunked` wins over
//! `Content-Length`, any other `Transfer-Encoding` reads until the server closes; several
//! `Content-Length`s must agree; without either, the body runs until the server closes.
//! Where we part from hyper (a 101, the limits, trailers), `tests/it/h1_codec.rs` says why.
//!
//! Here: the reader's state machine, fed bytes; the head is read in `head`, a chunked body
//! in `chunked`, and what a request's checks and captures keep in `kept`.

mod chunked;
mod head;
mod kept;

use std::sync::Arc;

use crate::transport::invoke_stream::EventStreamReader;
pub use head::{Head, KeepAlive};
pub use kept::{KeepFor, Kept};

/// The longest head accepted, in bytes (hyper's own buffer limit is about 400 KB).
pub const MAX_HEAD: usize = 256 * 1024;
/// At most this many header fields in a head (hyper's default).
const MAX_HEADERS: usize = 100;
/// The longest chunk-size line (with extensions) or trailer line.
const MAX_LINE: usize = 16 * 1024;

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
    /// An InvokeWithResponseStream body that is not the event stream Lambda sends.
    EventStream(String),
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
            ParseError::EventStream(why) => f.write_str(why),
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
    /// The body's bytes as framed: chunk data without chunk lines.
    body_bytes: u64,
    state: State,
    head: Head,
    excerpt: Vec<u8>,
    /// An InvokeWithResponseStream answer is read ([`ResponseReader::reading_invoke_stream`]).
    invoke_stream: bool,
    /// A 200 of one: its body's event stream, until the body ends.
    events: Option<Box<EventStreamReader>>,
    /// The stream's first payload bytes (or, with none, its end) came, not yet noted by
    /// the connection.
    payload_news: bool,
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
            body_bytes: 0,
            state: State::Head,
            head: Head::default(),
            excerpt: Vec::new(),
            invoke_stream: false,
            events: None,
            payload_news: false,
        }
    }

    /// Reads an InvokeWithResponseStream answer: a 200's body is its event stream, whose
    /// payload chunks are the body kept (and counted), whose `InvokeComplete` says what
    /// `X-Amz-Function-Error` and `X-Amz-Log-Result` say of a buffered Invoke. A stream
    /// cut short or malformed is a parse error.
    pub fn reading_invoke_stream(mut self) -> ResponseReader {
        self.invoke_stream = true;
        self
    }

    /// True once, when the stream's first payload bytes have come (its time to first
    /// byte), or its end when it has none; always false for other answers.
    #[inline]
    pub fn first_payload_came(&mut self) -> bool {
        std::mem::take(&mut self.payload_news)
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

    /// The body's bytes read so far, as framed (chunk data without its chunk lines).
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes
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
                State::Done => {
                    self.end_events()?;
                    return Ok(used);
                }
                State::Head => self.read_head(rest)?,
                State::Length(left) => {
                    let n = left.min(rest.len() as u64) as usize;
                    self.keep_body(&rest[..n])?;
                    self.state = match left - n as u64 {
                        0 => State::Done,
                        left => State::Length(left),
                    };
                    n
                }
                State::UntilClose => {
                    self.keep_body(rest)?;
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
                self.end_events()
            }
            _ => Err(ParseError::Incomplete),
        }
    }

    /// Every body byte passes here: counted (of an event stream, its payload: the
    /// function's answer), and kept as far as `keep` allows.
    fn keep_body(&mut self, data: &[u8]) -> Result<(), ParseError> {
        let ResponseReader {
            events,
            excerpt,
            keep,
            body_cut,
            payload_news,
            body_bytes,
            ..
        } = self;
        match events {
            None => {
                *body_bytes += data.len() as u64;
                keep_start(excerpt, *keep, body_cut, data)
            }
            // The body kept is the function's payload, not its framing.
            Some(events) => {
                let before = events.payload_bytes();
                events
                    .feed(data, |payload| {
                        keep_start(excerpt, *keep, body_cut, payload)
                    })
                    .map_err(|e| ParseError::EventStream(e.to_string()))?;
                *payload_news |= before == 0 && events.payload_bytes() > 0;
                *body_bytes += events.payload_bytes() - before;
            }
        }
        Ok(())
    }

    /// The body ended: an event stream's end says what a buffered Invoke's headers say.
    fn end_events(&mut self) -> Result<(), ParseError> {
        let Some(events) = self.events.take() else {
            return Ok(());
        };
        let end = events
            .end()
            .map_err(|e| ParseError::EventStream(e.to_string()))?;
        // No payload (a function error, an exception): what the function said began with
        // the stream's end.
        self.payload_news |= end.payload_bytes == 0;
        let value = |v: &str| http::HeaderValue::from_str(v).ok();
        if let Some(code) = &end.error_code {
            let unnamed = http::HeaderValue::from_static("Unhandled");
            self.head.function_error = Some(value(code).unwrap_or(unnamed));
            // The error's own account (its `errorType`), where a buffered Invoke has it
            // in the body.
            if let Some(details) = &end.error_details {
                self.excerpt.clear();
                let n = details.len().min(self.excerpt_limit);
                self.excerpt.extend_from_slice(&details.as_bytes()[..n]);
            }
        }
        self.head.log_result = end.log_result.as_deref().and_then(value);
        if let Some((_, start)) = &end.exception {
            self.excerpt.clone_from(start);
        }
        self.head.stream = Some(Box::new(end));
        Ok(())
    }
}

/// Keeps the start of `data`, up to `keep` bytes in all.
fn keep_start(excerpt: &mut Vec<u8>, keep: usize, cut: &mut bool, data: &[u8]) {
    let room = keep - excerpt.len();
    if room > 0 {
        excerpt.extend_from_slice(&data[..data.len().min(room)]);
    }
    *cut |= data.len() > room;
}
