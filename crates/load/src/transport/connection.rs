//! What a request is sent on, whichever HTTP the target speaks.

use std::time::Instant;

use super::timing::Phases;
use super::{h1, h2};

/// What a request is sent on: an open HTTP/1.1 connection, or a stream slot on an HTTP/2
/// session. Ready for the next request when idle.
pub enum Connection {
    H1(h1::Connection),
    H2(h2::Slot),
}

impl Connection {
    /// See [`h1::Connection::is_closed`]; an HTTP/2 slot is closed with its session, or
    /// once the server sent GOAWAY.
    pub fn is_closed(&mut self) -> bool {
        match self {
            Connection::H1(c) => c.is_closed(),
            Connection::H2(s) => s.is_closed(),
        }
    }

    #[inline]
    pub fn is_reusable(&self) -> bool {
        match self {
            Connection::H1(c) => c.is_reusable(),
            Connection::H2(s) => s.is_reusable(),
        }
    }

    /// The last request never reached the server's processing: a stale kept-alive
    /// connection ([`h1::Connection::went_stale`]), or an HTTP/2 stream the server said it
    /// did not process (GOAWAY, REFUSED_STREAM).
    pub fn went_stale(&self) -> bool {
        match self {
            Connection::H1(c) => c.went_stale(),
            Connection::H2(s) => s.went_stale(),
        }
    }

    /// The server said it did not process the last request (HTTP/2): it may be sent again
    /// whatever its method (RFC 9113 §8.7).
    #[inline]
    pub fn unprocessed(&self) -> bool {
        match self {
            Connection::H1(_) => false,
            Connection::H2(s) => s.went_stale(),
        }
    }

    /// HTTP/2 sessions the server ended with GOAWAY, seen since last asked: each counted
    /// once.
    #[inline]
    pub fn take_goaway_news(&mut self) -> u32 {
        match self {
            Connection::H1(_) => 0,
            Connection::H2(s) => s.take_goaway_news(),
        }
    }

    /// The last attempt's phases (see [`h1::Connection::phases`]).
    #[inline]
    pub fn phases(&mut self, answered: bool, done: Instant) -> Phases {
        match self {
            Connection::H1(c) => c.phases(answered, done),
            Connection::H2(s) => s.phases(answered, done),
        }
    }

    pub(super) fn carry_one_request(&mut self) {
        match self {
            Connection::H1(c) => c.carry_one_request(),
            Connection::H2(s) => s.carry_one_request(),
        }
    }
}
