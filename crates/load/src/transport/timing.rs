//! Where an attempt's time went on the wire: how its connection was opened (the lookup,
//! TCP, TLS), and its exchange (request written → first byte → last byte). Timed with the
//! same monotonic clock as latency. The kept-alive path pays one clock read per request
//! (the request written) for an answer that comes in one read — its first byte is then its
//! last, at the attempt's end, which the engine reads anyway — and a second for an answer
//! read in pieces (its first byte); nothing is allocated, and the few words it carries
//! are copied as they are.

use std::time::{Duration, Instant};

use stampede_results::timing::Phase;

/// A phase this attempt did not have.
const NONE: u32 = u32::MAX;

/// Microseconds, as a phase keeps them (at most 71 minutes: far past any timeout).
fn us(d: Duration) -> u32 {
    d.as_micros().min(u128::from(NONE - 1)) as u32
}

/// How a new connection was opened, phase by phase, µs: kept on it until the first
/// attempt that uses it takes them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConnectTimes {
    /// The name's lookup, when this connect made one (answers are kept a minute).
    dns: u32,
    connect: u32,
    /// `https` alone.
    tls: u32,
}

impl ConnectTimes {
    pub fn new(dns: Option<Duration>, connect: Duration, tls: Option<Duration>) -> ConnectTimes {
        ConnectTimes {
            dns: dns.map_or(NONE, us),
            connect: us(connect),
            tls: tls.map_or(NONE, us),
        }
    }
}

/// One attempt's phases: its connection's opening, when it opened it, and its exchange's
/// (`NONE` when no answer came), with the answer's body bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Phases {
    pub opened: Option<ConnectTimes>,
    pub(super) ttfb: u32,
    pub(super) receive: u32,
    /// The answer's body bytes as framed (0 when no answer came).
    pub body_bytes: u64,
}

impl Default for Phases {
    fn default() -> Phases {
        Phases {
            opened: None,
            ttfb: NONE,
            receive: NONE,
            body_bytes: 0,
        }
    }
}

impl Phases {
    /// Phase `phase` in µs; `None`: not part of this attempt (a reused connection has no
    /// connect; an attempt with no answer has no ttfb or receive).
    pub fn get(&self, phase: Phase) -> Option<u64> {
        let v = match phase {
            Phase::Dns => self.opened.map_or(NONE, |o| o.dns),
            Phase::Connect => self.opened.map_or(NONE, |o| o.connect),
            Phase::Tls => self.opened.map_or(NONE, |o| o.tls),
            Phase::Ttfb => self.ttfb,
            Phase::Receive => self.receive,
        };
        (v != NONE).then_some(u64::from(v))
    }

    /// The exchange's part: `first_byte` → `last_byte` after `written`, and the answer's
    /// `body_bytes`.
    pub fn answered(
        mut self,
        written: Instant,
        first_byte: Instant,
        last_byte: Instant,
        body_bytes: u64,
    ) -> Phases {
        self.ttfb = us(first_byte.saturating_duration_since(written));
        self.receive = us(last_byte.saturating_duration_since(first_byte));
        self.body_bytes = body_bytes;
        self
    }

    /// The exchange of an answer whole in the read that brought its first byte (the
    /// common kept-alive case): its last byte was its first, so receive is 0 with no
    /// second subtraction.
    #[inline]
    pub fn answered_whole(mut self, written: Instant, done: Instant, body_bytes: u64) -> Phases {
        self.ttfb = us(done.saturating_duration_since(written));
        self.receive = 0;
        self.body_bytes = body_bytes;
        self
    }

    /// A streamed answer's throughput, bytes/s: `None` for an answer that came about at
    /// once (its receive phase under 1 ms), had no body, or did not come.
    #[inline]
    pub fn throughput(&self) -> Option<u64> {
        if self.receive == NONE {
            return None;
        }
        stampede_results::timing::throughput(self.body_bytes, u64::from(self.receive))
    }

    /// The answer's phases, µs, when it came: (ttfb, receive).
    #[inline]
    pub fn exchange(&self) -> Option<(u64, u64)> {
        (self.ttfb != NONE).then_some((u64::from(self.ttfb), u64::from(self.receive)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_connection_has_no_connect_and_a_failed_answer_no_receive() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let answered = Phases::default().answered(t, t + ms(50), t + ms(300), 50_000);
        assert_eq!(answered.get(Phase::Ttfb), Some(50_000));
        assert_eq!(answered.get(Phase::Receive), Some(250_000));
        assert_eq!(answered.get(Phase::Connect), None);
        assert_eq!(answered.exchange(), Some((50_000, 250_000)));
        // 50 KB over 250 ms.
        assert_eq!(answered.throughput(), Some(200_000));
        let at_once = Phases::default().answered(t, t + ms(50), t + ms(50), 50_000);
        assert_eq!(at_once.throughput(), None);
        let failed = Phases {
            opened: Some(ConnectTimes::new(None, ms(2), Some(ms(5)))),
            ..Phases::default()
        };
        let got = Phase::ALL.map(|p| failed.get(p));
        assert_eq!(got, [None, Some(2_000), Some(5_000), None, None]);
        assert_eq!(failed.exchange(), None);
        assert_eq!(failed.throughput(), None);
    }
}
