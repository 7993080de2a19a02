//! How far this machine's clock is from the target's, read off the `Date` header (whole
//! seconds) of a few requests timed to straddle the server's second boundary. Shards of a
//! split test start on one wall-clock instant: a machine whose clock is off starts off by
//! as much. `HEAD` requests (no body, no credentials), sent only by shards with
//! `--start-at`, in the wait before it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::retry::http_date;
use crate::transport::Transport;

/// At most this many requests.
const PROBES: usize = 8;

/// What the probe found: the target's clock minus ours, within ± `within_ms`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockOffset {
    pub offset_ms: f64,
    pub within_ms: f64,
    pub probes: usize,
}

/// The offsets (target − local, seconds) consistent with every answer so far. An answer
/// sent at local `sent` and received at `recv` with `Date: D` was stamped at some local
/// instant in [sent, recv], when the server's clock read within [D, D + 1): so the offset
/// is in (D − recv, D + 1 − sent).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OffsetBounds {
    pub lo: f64,
    pub hi: f64,
}

impl Default for OffsetBounds {
    fn default() -> OffsetBounds {
        OffsetBounds {
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        }
    }
}

impl OffsetBounds {
    /// Narrows the bounds with one answer (times in seconds since the Unix epoch). False
    /// when it contradicts the others (a server whose clock jumped): then it is left out.
    pub fn add(&mut self, sent: f64, recv: f64, date: f64) -> bool {
        let (lo, hi) = (self.lo.max(date - recv), self.hi.min(date + 1.0 - sent));
        if lo > hi {
            return false;
        }
        (self.lo, self.hi) = (lo, hi);
        true
    }

    pub fn is_known(&self) -> bool {
        self.lo.is_finite() && self.hi.is_finite()
    }

    pub fn middle(&self) -> f64 {
        (self.lo + self.hi) / 2.0
    }

    pub fn half_width(&self) -> f64 {
        (self.hi - self.lo) / 2.0
    }

    /// When (local, seconds since the epoch, after `now`) to send the next probe so that
    /// it reaches the server at its next second boundary as the bounds' middle places it:
    /// either way the answer halves the bounds.
    pub fn next_send(&self, now: f64, one_way: f64) -> f64 {
        let boundary = (now + self.middle() + one_way).ceil();
        // Reach the server when its clock reads `boundary`: local time boundary − middle.
        let at = boundary - self.middle() - one_way;
        if at < now + 0.005 {
            at + 1.0
        } else {
            at
        }
    }
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// Probes the target's clock until `deadline` (at most [`PROBES`] requests). `None` when
/// no answer carried a `Date`.
pub async fn probe(transport: &Transport, deadline: Instant) -> Option<ClockOffset> {
    let mut bounds = OffsetBounds::default();
    let mut conn = None;
    let mut one_way = 0.0f64;
    let mut probes = 0;
    while probes < PROBES && Instant::now() < deadline {
        if bounds.is_known() {
            if bounds.half_width() < 0.001 {
                break;
            }
            let wait = bounds.next_send(unix(SystemTime::now()), one_way) - unix(SystemTime::now());
            let wake = Instant::now() + Duration::from_secs_f64(wait.max(0.0));
            if wake + Duration::from_secs_f64(2.0 * one_way + 0.05) >= deadline {
                break;
            }
            tokio::time::sleep_until(wake.into()).await;
        }
        let mut c = match conn.take() {
            Some(c) => c,
            None => transport.connect().await.ok()?,
        };
        let sent = unix(SystemTime::now());
        let date = tokio::time::timeout(transport.timeout, transport.head_date(&mut c))
            .await
            .ok()?
            .ok()?;
        let recv = unix(SystemTime::now());
        probes += 1;
        conn = Some(c);
        one_way = if probes == 1 {
            (recv - sent) / 2.0
        } else {
            one_way.min((recv - sent) / 2.0)
        };
        let date = date
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(http_date)?;
        bounds.add(sent, recv, unix(date));
    }
    bounds.is_known().then(|| ClockOffset {
        offset_ms: bounds.middle() * 1000.0,
        within_ms: bounds.half_width() * 1000.0,
        probes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server whose clock is `offset` ahead, answering `rtt` after a send at `sent`,
    /// stamping at the middle.
    fn answer(offset: f64, sent: f64, rtt: f64) -> (f64, f64, f64) {
        let stamped = sent + rtt / 2.0 + offset;
        (sent, sent + rtt, stamped.floor())
    }

    #[test]
    fn probes_timed_at_the_boundary_halve_the_bounds() {
        for offset in [0.0, 0.137, -2.42, 31.999] {
            let mut b = OffsetBounds::default();
            let rtt = 0.002;
            let mut now = 1_795_813_200.25;
            let (s, r, d) = answer(offset, now, rtt);
            assert!(b.add(s, r, d));
            assert!(b.half_width() <= 0.5 + rtt);
            for _ in 0..10 {
                now = b.next_send(now + rtt, rtt / 2.0);
                let (s, r, d) = answer(offset, now, rtt);
                assert!(b.add(s, r, d), "offset {offset}");
            }
            assert!(b.lo <= offset && offset <= b.hi, "{offset} in {b:?}");
            assert!(b.half_width() < 0.003, "{offset}: ±{}", b.half_width());
        }
    }

    #[test]
    fn a_contradicting_answer_is_left_out() {
        let mut b = OffsetBounds::default();
        assert!(b.add(100.0, 100.01, 100.0));
        let before = b;
        assert!(!b.add(100.5, 100.51, 105.0));
        assert_eq!(b, before);
    }
}
