//! HTTP/2 on the load path, with the `h2` crate (hyper's own): a session per connection,
//! its driver a task of the lane's runtime, and a [`Slot`] — one stream at a time on a
//! shared session — as what the lane's pool hands a request in place of a connection.
//!
//! A session carries up to `max_streams` requests at once (the server's
//! `SETTINGS_MAX_CONCURRENT_STREAMS` unless the scenario says fewer); the pool opens more
//! sessions beyond that. The answer is read with the HTTP/1.1 client's own
//! [`ResponseReader`](super::h1::ResponseReader) (its head given as an HTTP/1.1 head), so
//! that statuses, throttle headers, Invoke headers, excerpts and what checks keep are read
//! exactly as over HTTP/1.1.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::io::{AsyncRead, AsyncWrite};

use super::resolve::Served;
use super::timing::{ConnectTimes, Phases};
use super::Failure;

mod exchange;
mod send;

pub use exchange::{request_of, Prepared};

/// Streams a session is assumed to allow before the server's SETTINGS say (as hyper).
pub const ASSUMED_STREAMS: usize = 100;
/// Flow-control windows we grant the server (hyper's client defaults): answers of a few
/// megabytes are not held back waiting for WINDOW_UPDATEs.
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;
const CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;

/// One HTTP/2 connection's state, shared by its slots and the lane's pool.
#[derive(Debug)]
pub struct Session {
    /// Slots checked out (streams in use or held by a closed-model worker).
    in_use: AtomicUsize,
    /// `max_streams`, when the scenario sets it.
    max_streams: Option<usize>,
    /// The driver ended: the connection is closed.
    ended: AtomicBool,
    /// The server's GOAWAY was seen (and counted) on it.
    goaway_seen: AtomicBool,
    /// Its address's count of requests, added to when the session is dropped.
    served: Served,
    /// How it was opened: the first attempt on any of its slots takes it.
    opened: ConnectTimes,
    opened_taken: AtomicBool,
    /// Requests sent and answered on it, for `served`.
    sent: AtomicU64,
    answered: AtomicU64,
}

impl Drop for Session {
    fn drop(&mut self) {
        let (sent, answered) = (*self.sent.get_mut(), *self.answered.get_mut());
        self.served.add(sent, answered);
    }
}

impl Session {
    /// Slots checked out now.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Relaxed)
    }
}

/// One stream at a time on a shared session: what a request sends on over HTTP/2.
pub struct Slot {
    send: SendRequest<Bytes>,
    session: Arc<Session>,
    /// Can carry another request: the session is open and no GOAWAY came.
    reusable: bool,
    /// The last request was not processed by the server (above a GOAWAY's last stream id,
    /// or refused with REFUSED_STREAM): it may be sent again anywhere, whatever its method.
    unprocessed: bool,
    /// GOAWAYs seen first by this slot (its session's, or others' the pool passed on):
    /// to be counted, each once.
    goaway_news: u32,
    /// Opened for one request (`connections = "per-request"`).
    one_request: bool,
    /// When the last request was sent, and when its answer's head came.
    written: Option<Instant>,
    first_byte: Option<Instant>,
    /// Its answer's body bytes (DATA payload).
    body_bytes: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.session.in_use.fetch_sub(1, Relaxed);
    }
}

impl Slot {
    /// Another slot on this slot's session (the pool checks its capacity first).
    pub fn sibling(&self) -> Slot {
        Slot::on(self.send.clone(), Arc::clone(&self.session))
    }

    fn on(send: SendRequest<Bytes>, session: Arc<Session>) -> Slot {
        session.in_use.fetch_add(1, Relaxed);
        Slot {
            send,
            session,
            reusable: true,
            unprocessed: false,
            goaway_news: 0,
            one_request: false,
            written: None,
            first_byte: None,
            body_bytes: 0,
        }
    }

    /// The last attempt's phases, as [`super::h1::Connection::phases`] gives them: the
    /// session's opening for its first attempt, and the exchange's when `answered` (its
    /// first byte: the answer's head).
    pub fn phases(&mut self, answered: bool, done: Instant) -> Phases {
        let taken = &self.session.opened_taken;
        let first = !taken.load(Relaxed) && !taken.swap(true, Relaxed);
        let phases = Phases {
            opened: first.then_some(self.session.opened),
            ..Phases::default()
        };
        match (self.written, self.first_byte) {
            (Some(written), Some(first)) if answered => {
                phases.answered(written, first, done, self.body_bytes)
            }
            _ => phases,
        }
    }

    /// The session this slot is on, for the pool.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Streams the session may carry at once: the scenario's `max_streams` when set and
    /// lower, else the server's limit (assumed [`ASSUMED_STREAMS`] until it says).
    pub fn capacity(&self) -> usize {
        let server = self.send.current_max_send_streams();
        self.session.max_streams.unwrap_or(usize::MAX).min(server)
    }

    pub fn is_reusable(&self) -> bool {
        self.reusable && !self.one_request && self.session.served.is_listed()
    }

    /// The session cannot carry a new stream: closed, or the server sent GOAWAY.
    pub fn is_closed(&mut self) -> bool {
        self.refresh();
        !self.is_reusable()
    }

    pub fn went_stale(&self) -> bool {
        self.unprocessed
    }

    pub fn carry_one_request(&mut self) {
        self.one_request = true;
    }

    /// GOAWAYs this slot saw first (each session's is seen first once), and any passed on
    /// to it ([`Slot::pass_goaway_news`]), since last asked.
    pub fn take_goaway_news(&mut self) -> u32 {
        std::mem::take(&mut self.goaway_news)
    }

    /// Hands this slot GOAWAYs seen where no request will report them (the pool's look at
    /// a session it lets go): the next exchange on it counts them.
    pub fn pass_goaway_news(&mut self, n: u32) {
        self.goaway_news += n;
    }

    /// Looks at the session without waiting: a GOAWAY or a closed connection makes it
    /// unfit for new streams.
    fn refresh(&mut self) {
        // Asked even when the connection has ended: a GOAWAY before its close is counted.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        if let Poll::Ready(Err(e)) = self.send.poll_ready(&mut cx) {
            self.reusable = false;
            self.note_goaway(&e);
        }
        if self.session.ended.load(Relaxed) {
            self.reusable = false;
        }
    }

    fn note_goaway(&mut self, e: &h2::Error) {
        if e.is_go_away() && e.is_remote() && !self.session.goaway_seen.swap(true, Relaxed) {
            self.goaway_news += 1;
        }
    }

    /// Names a failed exchange; marks the request unprocessed when the server said it was
    /// not (RFC 9113 §8.7: a GOAWAY's streams above its last id, REFUSED_STREAM).
    fn failure(&mut self, e: h2::Error) -> Failure {
        self.reusable = false;
        self.note_goaway(&e);
        let remote = e.is_remote();
        if e.is_go_away() && remote {
            self.unprocessed = true;
            return Failure::Connect(format!("the server's GOAWAY: not processed ({e})"));
        }
        if e.is_reset() && remote {
            if e.reason() == Some(h2::Reason::REFUSED_STREAM) {
                self.unprocessed = true;
                // The session itself may go on.
                self.reusable = !self.session.ended.load(Relaxed);
                return Failure::Connect(format!("the server refused the stream ({e})"));
            }
            self.reusable = !self.session.ended.load(Relaxed);
            // The code as the RFC names it (INTERNAL_ERROR), then h2's words for it.
            let code = e.reason().map(|r| format!("{r:?} ")).unwrap_or_default();
            return Failure::Protocol(format!("the server reset the stream: {code}({e})"));
        }
        match e.get_io() {
            Some(io) => Failure::of(io),
            None => Failure::Protocol(format!("HTTP/2: {e}")),
        }
    }
}

/// Opens an HTTP/2 session on `io` (TLS that negotiated `h2`, or plain TCP for h2c with
/// prior knowledge), spawns its driver on the lane's runtime, and returns its first slot.
pub async fn open<T>(
    io: T,
    max_streams: Option<u32>,
    served: Served,
    opened: ConnectTimes,
) -> Result<Slot, Failure>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (send, connection) = h2::client::Builder::new()
        .initial_max_send_streams(ASSUMED_STREAMS)
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .enable_push(false)
        .handshake::<T, Bytes>(io)
        .await
        .map_err(|e| match e.get_io() {
            Some(io) => Failure::of(io),
            None => Failure::Protocol(format!("HTTP/2 handshake: {e}")),
        })?;
    let session = Arc::new(Session {
        in_use: AtomicUsize::new(0),
        max_streams: max_streams.map(|m| m as usize),
        ended: AtomicBool::new(false),
        goaway_seen: AtomicBool::new(false),
        served,
        opened,
        opened_taken: AtomicBool::new(false),
        sent: AtomicU64::new(0),
        answered: AtomicU64::new(0),
    });
    let ended = Arc::clone(&session);
    // The connection's frames are read and written by this task; it ends when the
    // connection closes or every slot and the pool let go of it.
    tokio::spawn(async move {
        let _ = connection.await;
        ended.ended.store(true, Relaxed);
    });
    Ok(Slot::on(send, session))
}

/// What a TLS handshake's ALPN must have chosen for HTTP/2, or why not.
pub fn check_alpn(chosen: Option<&[u8]>) -> Result<(), Failure> {
    match chosen {
        Some(b"h2") => Ok(()),
        other => Err(Failure::Protocol(format!(
            "the server did not agree to HTTP/2: ALPN offered h2 and it chose {} (http = \"1.1\" speaks HTTP/1.1 to it)",
            other.map_or("none".into(), |p| String::from_utf8_lossy(p).into_owned())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_h2_chosen_by_alpn_is_http2() {
        assert!(check_alpn(Some(b"h2")).is_ok());
        let refused = check_alpn(Some(b"http/1.1")).unwrap_err().to_string();
        assert!(refused.contains("chose http/1.1"), "{refused}");
        let none = check_alpn(None).unwrap_err().to_string();
        assert!(none.contains("chose none"), "{none}");
    }
}
