//! The load path's HTTP/1.1 client: one connection, driven inline by the task that sends
//! on it — the request's head is serialised once per target, its bytes written, the answer
//! parsed from a buffer the connection keeps. No connection task, no channel between the
//! request and its connection, no header map per request (measured: hyper's client
//! dispatch and its per-request allocations were half of the client's own CPU time).

use std::io;
use std::task::Context;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

mod parse;
mod request;

pub use parse::{Head, ParseError, ResponseReader, MAX_HEAD};
pub use request::{head_of, RequestTemplate};

/// A read asks for at least this much room in the buffer.
const READ_ROOM: usize = 2048;
/// The buffer's first size: a whole small answer in one read.
const FIRST_BUFFER: usize = 4096;
/// Large bodies are read in pieces this big at most.
const MAX_BUFFER: usize = 64 * 1024;

/// A TCP connection, or TLS over one.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    async fn read_buf(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read_buf(buf).await,
            Stream::Tls(s) => s.read_buf(buf).await,
        }
    }

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
    buf: Vec<u8>,
    /// Can carry another request: the last answer was whole and did not say `close`.
    reusable: bool,
    /// Reused for the head of requests that add headers per attempt.
    pub(crate) out: Vec<u8>,
}

impl Connection {
    pub fn new(stream: Stream) -> Connection {
        Connection {
            stream,
            buf: Vec::new(),
            reusable: true,
            out: Vec::new(),
        }
    }

    /// The connection cannot carry a request: an answer said `close` or ran until the
    /// server closed, one failed or was cut off, or the server closed it while idle.
    pub fn is_closed(&mut self) -> bool {
        !self.reusable || self.closed_while_idle()
    }

    /// The last answer left the connection fit for another request (no idle check: for a
    /// connection used again at once).
    pub fn is_reusable(&self) -> bool {
        self.reusable
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
        self.stream
            .write_request(head, body)
            .await
            .map_err(ExchangeError::Io)?;
        self.buf.clear();
        let mut start = 0;
        let mut filled = false;
        loop {
            let used = reader
                .feed(&self.buf[start..])
                .map_err(ExchangeError::Parse)?;
            start += used;
            if reader.is_done() {
                break;
            }
            // What is left is an incomplete head or line: keep it at the front.
            if start == self.buf.len() {
                self.buf.clear();
            } else if start > 0 {
                self.buf.drain(..start);
            }
            start = 0;
            self.make_room(filled);
            let room = self.buf.capacity() - self.buf.len();
            let n = self
                .stream
                .read_buf(&mut self.buf)
                .await
                .map_err(ExchangeError::Io)?;
            if n == 0 {
                reader.eof().map_err(ExchangeError::Parse)?;
                self.buf.clear();
                break;
            }
            filled = n == room;
        }
        let (answer, excerpt) = reader.finish();
        // Bytes past the answer were never asked for: do not read the next answer from them.
        self.reusable = !answer.close && start == self.buf.len();
        Ok((answer, excerpt))
    }

    /// Room for the next read: the first buffer on the first read; more when a head does
    /// not fit (the parser bounds it) or a body fills the buffer (read in larger pieces).
    fn make_room(&mut self, filled: bool) {
        let (len, cap) = (self.buf.len(), self.buf.capacity());
        if cap == 0 {
            self.buf.reserve_exact(FIRST_BUFFER);
        } else if cap - len < READ_ROOM {
            self.buf.reserve_exact(cap.max(READ_ROOM));
        } else if filled && len == 0 && cap < MAX_BUFFER {
            self.buf.reserve_exact((cap * 2).min(MAX_BUFFER));
        }
    }
}
