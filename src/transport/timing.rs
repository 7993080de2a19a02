//! Where an attempt's time went on the wire: how its connection was opened (the lookup,
//! TCP, TLS), and its exchange (request written → first byte → last byte). Timed with the
//! same monotonic clock as latency; the keep-alive path reads it twice per request (the
//! request written, its answer's first byte) and allocates nothing.

use std::time::{Duration, Instant};

use stampede_results::timing::Phase;

/// How a new connection was opened, phase by phase: kept on it until the first attempt
/// that uses it takes them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ConnectTimes {
    /// The name's lookup, when this connect made one (answers are kept a minute).
    pub dns: Option<Duration>,
    pub connect: Duration,
    /// `https` alone.
    pub tls: Option<Duration>,
}

/// One attempt's phases, µs, by [`Phase::index`]; `None`: not part of this attempt (a
/// reused connection has no connect; an attempt with no answer has no receive).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phases(pub [Option<u64>; 5]);

impl Phases {
    pub fn get(&self, phase: Phase) -> Option<u64> {
        self.0[phase.index()]
    }

    /// `opened`: its connection's opening, when this attempt is the first on it; `written`
    /// and `first_byte`: the exchange's instants; `last_byte`: when the answer was whole
    /// (`None`: it was not).
    pub fn of(
        opened: Option<ConnectTimes>,
        written: Option<Instant>,
        first_byte: Option<Instant>,
        last_byte: Option<Instant>,
    ) -> Phases {
        let us = |d: Duration| d.as_micros() as u64;
        let mut p = [None; 5];
        if let Some(o) = opened {
            p[Phase::Dns.index()] = o.dns.map(us);
            p[Phase::Connect.index()] = Some(us(o.connect));
            p[Phase::Tls.index()] = o.tls.map(us);
        }
        // Timed only for answers: a failed exchange's parts say nothing of the server.
        if let (Some(w), Some(f), Some(l)) = (written, first_byte, last_byte) {
            p[Phase::Ttfb.index()] = Some(us(f.saturating_duration_since(w)));
            p[Phase::Receive.index()] = Some(us(l.saturating_duration_since(f)));
        }
        Phases(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_connection_has_no_connect_and_a_failed_answer_no_receive() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let answered = Phases::of(None, Some(t), Some(t + ms(50)), Some(t + ms(300)));
        assert_eq!(answered.get(Phase::Ttfb), Some(50_000));
        assert_eq!(answered.get(Phase::Receive), Some(250_000));
        assert_eq!(answered.get(Phase::Connect), None);
        let opened = ConnectTimes {
            dns: None,
            connect: ms(2),
            tls: Some(ms(5)),
        };
        let failed = Phases::of(Some(opened), Some(t), Some(t + ms(1)), None);
        assert_eq!(
            failed.0,
            [None, Some(2_000), Some(5_000), None, None],
            "{failed:?}"
        );
    }
}
