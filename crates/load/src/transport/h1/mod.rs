//! The load path's HTTP/1.1 client: one connection, driven inline by the task that sends
//! on it — the request's head is serialised once per target, its bytes written, the answer
//! parsed from a buffer the connection keeps. No connection task, no channel between the
//! request and its connection, no header map per request (measured: hyper's client
//! dispatch and its per-request allocations were half of the client's own CPU time).

use std::io;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

mod parse;
mod request;

pub use parse::{Head, KeepAlive, KeepFor, Kept, ParseError, ResponseReader, MAX_HEAD};
pub use request::{head_of, head_rendered, put_header, RequestTemplate};

use super::resolve::Served;
use super::timing::{ConnectTimes, Phases};

/// The lane's read buffer: large bodies are read in pieces this big.
const READ_BUFFER_SIZE: usize = 64 * 1024;
/// A connection's own bytes (a split head) are given back past this size.
const MAX_KEPT: usize = 16 * 1024;

/// A TCP connection, or TLS over one.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    async fn write_request(&mut self, head: &[u8], body: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(s) => write_two(s, head, body).await,
            Stream::Tls(s) => {
                write_two(s.as_mut(), head, body).await?;
                s.flush().await
            }
        }
    }
}

/// Writes `head` then `body`, in one system call when they fit.
async fn write_two<W: tokio::io::AsyncWrite + Unpin>(
    w: &mut W,
    mut head: &[u8],
    mut body: &[u8],
) -> io::Result<()> {
    while !head.is_empty() || !body.is_empty() {
        let n = if head.is_empty() {
            w.write(body).await?
        } else if body.is_empty() {
            w.write(head).await?
        } else {
            let parts = [io::IoSlice::new(head), io::IoSlice::new(body)];
            w.write_vectored(&parts).await?
        };
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let from_head = n.min(head.len());
        head = &head[from_head..];
        body = &body[n - from_head..];
    }
    Ok(())
}

/// Why an exchange failed: the connection's I/O, or an answer that is not HTTP.
#[derive(Debug)]
pub enum ExchangeError {
    Io(io::Error),
    Parse(ParseError),
}

/// One open HTTP/1.1 connection, with the buffer its answers are read into.
pub struct Connection {
    stream: Stream,
    /// The start of an answer's head or chunk line that a read split, until the rest comes.
    pending: Vec<u8>,
    /// Can carry another request: the last answer was whole and did not say `close`, nor
    /// that it was the last the server allows (`Keep-Alive: max`).
    reusable: bool,
    /// Answers read whole on it.
    answers: u32,
    /// A byte of the answer under way has come.
    answer_began: bool,
    /// Where the time went: boxed, so that the connection, moved with its request from
    /// the pool and back, stays as small as it was (one allocation per connection).
    clock: Box<ExchangeClock>,
    /// The server's `Keep-Alive: timeout`, less a margin, and when it runs out: the
    /// connection is not reused idle past it (the server may be closing it as we send).
    idle_limit: Option<Duration>,
    reuse_until: Option<Instant>,
    /// The last answer's `Keep-Alive: max`, to tell a count of what is left (it falls).
    last_max: Option<u32>,
    /// Reused for the head of requests that add headers per attempt.
    pub(crate) out: Vec<u8>,
    /// Opened for one request (`connections = "per-request"`): never reused after it.
    one_request: bool,
    /// Its address's count of requests, added to when it closes; `None` for a connection
    /// not opened by the transport.
    served: Option<Served>,
}

/// A connection's timing of its phases ([`Connection::phases`]).
#[derive(Default)]
struct ExchangeClock {
    /// How it was opened, until the first attempt on it takes it.
    opened: Option<ConnectTimes>,
    /// When the last request was written.
    written: Option<Instant>,
    /// When the first byte of an answer read in pieces came (`None`: none yet, or the
    /// whole answer came in its first read — its first byte is then its last).
    first_byte: Option<Instant>,
    /// The last answer's body bytes, as framed.
    body_bytes: u64,
}

/// Of a server's idle timeout, the part a connection is reused in: the server's clock
/// starts when it wrote its answer, and our request takes time to reach it.
fn idle_limit(timeout_s: f64) -> Duration {
    // Capped: a timeout of years is as good as none, and must not overflow an Instant.
    let timeout = Duration::from_secs_f64(timeout_s.min(86_400.0));
    timeout - (timeout / 4).min(Duration::from_secs(1))
}

impl Connection {
    pub fn new(stream: Stream) -> Connection {
        Connection {
            stream,
            pending: Vec::new(),
            reusable: true,
            answers: 0,
            answer_began: false,
            clock: Box::default(),
            idle_limit: None,
            reuse_until: None,
            last_max: None,
            out: Vec::new(),
            one_request: false,
            served: None,
        }
    }

    /// Counts its requests for its address (docs/connections.md, "Every address").
    pub(crate) fn serving(&mut self, served: Served) {
        self.served = Some(served);
    }

    /// The connection cannot carry a request: an answer said `close` or ran until the
    /// server closed, one failed or was cut off, the server closed it while idle, or it
    /// has been idle about as long as the server said it keeps idle connections.
    pub fn is_closed(&mut self) -> bool {
        !self.is_reusable() || self.idle_too_long() || self.closed_while_idle()
    }

    /// The last exchange failed on a connection that had carried answers before, with
    /// not one byte of its answer come: the server most likely closed it (an idle
    /// timeout, a limit of requests per connection) as the request went out, and never
    /// saw the request. Sending it again on a fresh connection is what browsers and
    /// HTTP clients do (RFC 9112 §9.3.1).
    pub fn went_stale(&self) -> bool {
        // A connection opened for one request was never reused: nothing went stale.
        !self.one_request && self.answers > 0 && !self.answer_began && !self.reusable
    }

    /// The last attempt's phases: the connection's opening, when it is the first attempt
    /// to ask (taken), and, when `answered`, its exchange's, its last byte at `done` (the
    /// attempt's end, read as the answer was whole).
    #[inline]
    pub fn phases(&mut self, answered: bool, done: Instant) -> Phases {
        let clock = &mut *self.clock;
        let phases = Phases {
            opened: clock.opened.take(),
            ..Phases::default()
        };
        match clock.written {
            Some(written) if answered => match clock.first_byte {
                Some(first_byte) => phases.answered(written, first_byte, done, clock.body_bytes),
                None => phases.answered_whole(written, done, clock.body_bytes),
            },
            _ => phases,
        }
    }

    /// Notes how it was opened, for the first attempt on it.
    pub fn opened(&mut self, times: ConnectTimes) {
        self.clock.opened = Some(times);
    }

    /// Marks it as opened for one request: after its answer it is not reusable, whatever
    /// the server said.
    pub fn carry_one_request(&mut self) {
        self.one_request = true;
    }

    fn idle_too_long(&mut self) -> bool {
        let Some(until) = self.reuse_until else {
            return false;
        };
        let stale = Instant::now() >= until;
        if stale {
            self.reusable = false;
        }
        stale
    }

    /// Heeds an answer's `Keep-Alive`; false when the connection has carried every
    /// request the server allows it.
    fn heed(&mut self, keep_alive: Option<KeepAlive>) -> bool {
        if let Some(timeout) = keep_alive.and_then(|k| k.timeout) {
            self.idle_limit = Some(idle_limit(timeout));
        }
        if let Some(limit) = self.idle_limit {
            self.reuse_until = Some(Instant::now() + limit);
        }
        let Some(max) = keep_alive.and_then(|k| k.max) else {
            return true;
        };
        // A `max` that falls from one answer to the next counts what is left (Apache);
        // otherwise it is the whole (Node), and this answer may have been the last.
        let counting_down = self.last_max.is_some_and(|last| max < last);
        self.last_max = Some(max);
        if counting_down {
            max > 0
        } else {
            self.answers < max
        }
    }

    /// The last answer left the connection fit for another request (no idle check: for a
    /// connection used again at once), and its address is still one the target's name
    /// resolves to (a vanished one's connections drain as they come back).
    pub fn is_reusable(&self) -> bool {
        self.reusable && self.served.as_ref().is_none_or(Served::is_listed)
    }

    /// Between requests nothing should arrive: a read that does not wait means the server
    /// closed it (or sent what no request asked for). No system call while the socket is
    /// quiet — the runtime knows from epoll; TLS records that need no answer (session
    /// tickets) are taken in by rustls and do not count.
    fn closed_while_idle(&mut self) -> bool {
        use tokio::io::{AsyncRead, ReadBuf};
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut byte = [0u8; 1];
        let mut probe = ReadBuf::new(&mut byte);
        let polled = match &mut self.stream {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_read(&mut cx, &mut probe),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(&mut cx, &mut probe),
        };
        let closed = polled.is_ready();
        if closed {
            self.reusable = false;
        }
        closed
    }

    /// Writes one request and reads its answer to the end. `reader` says how to read it
    /// (a HEAD, an Invoke). When it returns an error, or is dropped before it ends (the
    /// attempt timed out), the connection is not reusable.
    pub async fn exchange(
        &mut self,
        head: &[u8],
        body: &[u8],
        mut reader: ResponseReader,
    ) -> Result<(Head, Vec<u8>), ExchangeError> {
        self.reusable = false;
        self.answer_began = false;
        (self.clock.first_byte, self.clock.written) = (None, None);
        if let Some(s) = &mut self.served {
            s.sent();
        }
        self.stream
            .write_request(head, body)
            .await
            .map_err(ExchangeError::Io)?;
        self.clock.written = Some(Instant::now());
        self.pending.clear();
        let Connection {
            stream,
            pending,
            answer_began,
            clock,
            ..
        } = self;
        let mut arrival = Arrival {
            began: answer_began,
            first_byte: &mut clock.first_byte,
        };
        let mut extra = false;
        std::future::poll_fn(|cx| loop {
            let read = READ_BUFFER.with_borrow_mut(|buffer| {
                read_into(stream, cx, buffer, pending, &mut reader, &mut arrival)
            });
            match read {
                Poll::Ready(Ok(Some(left))) => {
                    extra = left;
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(None)) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        })
        .await?;
        self.clock.body_bytes = reader.body_bytes();
        let (answer, excerpt) = reader.finish();
        self.answers = self.answers.saturating_add(1);
        if let Some(s) = &mut self.served {
            s.answered();
        }
        // Bytes past the answer were never asked for: do not read the next answer from them.
        self.reusable =
            !answer.close && !extra && !self.one_request && self.heed(answer.keep_alive);
        if self.pending.capacity() > MAX_KEPT {
            self.pending = Vec::new();
        }
        Ok((answer, excerpt))
    }
}

thread_local! {
    /// Every read of a lane lands here and is parsed at once; a connection keeps bytes of
    /// its own only when an answer's head or a chunk line is split between reads. (A
    /// buffer per connection was 4 KB of each connection's 9 KB at 10,000 connections.)
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(READ_BUFFER_SIZE));
}

/// Whether an answer's first byte came, and when, noted by the read that brought it (for
/// an answer that was not whole in that read: else its end is the instant).
struct Arrival<'c> {
    began: &'c mut bool,
    first_byte: &'c mut Option<Instant>,
}

/// One read from `stream` into `buffer`, fed to `reader` (after the connection's `pending`
/// bytes, if any). `Some(extra)` once the answer is whole (`extra`: bytes came after it).
fn read_into(
    stream: &mut Stream,
    cx: &mut Context<'_>,
    buffer: &mut Vec<u8>,
    pending: &mut Vec<u8>,
    reader: &mut ResponseReader,
    arrival: &mut Arrival<'_>,
) -> Poll<Result<Option<bool>, ExchangeError>> {
    use tokio::io::{AsyncRead, ReadBuf};
    let mut read = ReadBuf::uninit(buffer.spare_capacity_mut());
    let polled = match stream {
        Stream::Plain(s) => std::pin::Pin::new(s).poll_read(cx, &mut read),
        Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, &mut read),
    };
    match polled {
        Poll::Pending => return Poll::Pending,
        Poll::Ready(Err(e)) => return Poll::Ready(Err(ExchangeError::Io(e))),
        Poll::Ready(Ok(())) => {}
    }
    let data = read.filled();
    let parse = |r: Result<usize, ParseError>| r.map_err(ExchangeError::Parse);
    let first = !*arrival.began && !data.is_empty();
    *arrival.began |= first;
    if data.is_empty() {
        parse(reader.eof().map(|_| 0))?;
        if reader.first_payload_came() {
            *arrival.first_byte = Some(Instant::now());
        }
        return Poll::Ready(Ok(Some(!pending.is_empty())));
    }
    let left = if pending.is_empty() {
        let used = parse(reader.feed(data))?;
        if !reader.is_done() {
            // An incomplete head or line: kept until the rest arrives.
            pending.extend_from_slice(&data[used..]);
        }
        data.len() - used
    } else {
        pending.extend_from_slice(data);
        let used = parse(reader.feed(pending))?;
        pending.drain(..used);
        pending.len()
    };
    let done = reader.is_done();
    // An Invoke stream's first byte is its first payload's, not its head's.
    if (first && !done) || reader.first_payload_came() {
        *arrival.first_byte = Some(Instant::now());
    }
    Poll::Ready(Ok(done.then_some(left > 0)))
}
