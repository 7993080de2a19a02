//! The per-second timeline. Lanes send one [`SecondRecord`] per second; a second is final
//! once every lane has moved past it, and then only its summary is kept, so memory stays
//! flat however long the run.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::histogram::new_histogram;
use crate::classify::{Outcome, Tally, ThrottleKind};

/// One lane's second: attempts sent in it and attempts that ended in it (ok, throttled,
/// errors), and the latency of logical requests that ended in it.
#[derive(Clone, Debug)]
pub struct SecondRecord {
    pub sec: u64,
    pub sent: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    pub in_flight_max: u64,
    /// Logical requests that ended in this second, those of them that failed (an error
    /// other than a throttle), and those that ended throttled.
    pub requests: u64,
    pub failed: u64,
    pub throttled_requests: u64,
    /// 500s with API Gateway's body: Lambda throttles behind a REST API, suspected.
    pub suspected: u64,
    /// Throttled attempts by kind.
    pub throttles_by_kind: Tally<ThrottleKind>,
    /// Adaptive mode: the client-side limiter's rate at the second's last answer.
    pub client_rate: Option<f64>,
    /// End-to-end latency of logical requests that ended in this second, µs.
    pub latency: Histogram<u64>,
}

impl SecondRecord {
    pub fn new(sec: u64) -> SecondRecord {
        SecondRecord {
            sec,
            sent: 0,
            ok: 0,
            throttled: 0,
            errors: 0,
            in_flight_max: 0,
            requests: 0,
            failed: 0,
            throttled_requests: 0,
            suspected: 0,
            throttles_by_kind: Tally::default(),
            client_rate: None,
            latency: new_histogram(),
        }
    }

    /// An attempt ended in this second.
    pub fn count_attempt(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Throttled(kind) => {
                self.throttled += 1;
                self.throttles_by_kind.add(kind);
            }
            Outcome::SuspectedIntegrationThrottle => {
                self.errors += 1;
                self.suspected += 1;
            }
            _ => self.errors += 1,
        }
    }

    /// A logical request ended in this second, `latency_us` after its schedule.
    pub fn record_latency(&mut self, latency_us: u64) {
        self.latency.saturating_record(latency_us.max(1));
    }

    /// A logical request ended in this second with `outcome` (after all its attempts).
    pub fn count_request(&mut self, outcome: Outcome) {
        self.requests += 1;
        if outcome.is_error() {
            self.failed += 1;
        } else if outcome.is_throttle() {
            self.throttled_requests += 1;
        }
    }

    fn merge(&mut self, o: &SecondRecord) {
        self.sent += o.sent;
        self.ok += o.ok;
        self.throttled += o.throttled;
        self.errors += o.errors;
        self.in_flight_max = self.in_flight_max.max(o.in_flight_max);
        self.requests += o.requests;
        self.failed += o.failed;
        self.throttled_requests += o.throttled_requests;
        self.suspected += o.suspected;
        self.throttles_by_kind.merge(&o.throttles_by_kind);
        // Lanes limit apart: the client's rate is their sum.
        self.client_rate = match (self.client_rate, o.client_rate) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.latency.add(&o.latency).expect("same bounds");
    }
}

/// One second of the run, as the results file has it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TimelinePoint {
    pub t_s: u64,
    pub sent: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    pub in_flight_max: u64,
    /// Logical requests that ended in this second, those that failed (an error other than a
    /// throttle), and those that ended throttled.
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub throttled_requests: u64,
    /// 500s that look like a Lambda throttle behind API Gateway.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suspected_lambda_throttles: u64,
    /// Throttled attempts by kind, when there were any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttles: BTreeMap<String, u64>,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Adaptive retry mode: the rate the client-side limiter allowed, req/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_rate_limit: Option<f64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Collects lanes' seconds into final timeline points.
pub struct Timeline {
    /// Per lane: every second before this one has been sent.
    watermarks: Vec<u64>,
    pending: BTreeMap<u64, SecondRecord>,
    pub points: Vec<TimelinePoint>,
}

impl Timeline {
    pub fn new(lanes: usize) -> Timeline {
        Timeline {
            watermarks: vec![0; lanes],
            pending: BTreeMap::new(),
            points: Vec::new(),
        }
    }

    pub fn add(&mut self, lane: usize, rec: SecondRecord) {
        self.watermarks[lane] = self.watermarks[lane].max(rec.sec + 1);
        let is_empty = rec.sent == 0 && rec.latency.is_empty();
        if !is_empty {
            match self.pending.get_mut(&rec.sec) {
                Some(p) => p.merge(&rec),
                None => {
                    self.pending.insert(rec.sec, rec);
                }
            }
        }
        self.finalize();
    }

    /// The lane sent its last second.
    pub fn lane_done(&mut self, lane: usize) {
        self.watermarks[lane] = u64::MAX;
        self.finalize();
    }

    fn finalize(&mut self) {
        let upto = self.watermarks.iter().copied().min().unwrap_or(u64::MAX);
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() >= upto {
                break;
            }
            let rec = entry.remove();
            self.push(rec.sec, &rec);
        }
    }

    fn push(&mut self, sec: u64, rec: &SecondRecord) {
        // Quiet seconds (a pause) still get a point: one per second.
        let next = self.points.last().map_or(0, |p| p.t_s + 1);
        for t_s in next..sec {
            self.points.push(TimelinePoint {
                t_s,
                ..TimelinePoint::default()
            });
        }
        let ms = |q: f64| rec.latency.value_at_quantile(q) as f64 / 1000.0;
        let (p50_ms, p99_ms) = if rec.latency.is_empty() {
            (0.0, 0.0)
        } else {
            (ms(0.5), ms(0.99))
        };
        self.points.push(TimelinePoint {
            t_s: sec,
            sent: rec.sent,
            ok: rec.ok,
            throttled: rec.throttled,
            errors: rec.errors,
            in_flight_max: rec.in_flight_max,
            requests: rec.requests,
            failed: rec.failed,
            throttled_requests: rec.throttled_requests,
            suspected_lambda_throttles: rec.suspected,
            throttles: rec.throttles_by_kind.by_key(),
            p50_ms,
            p99_ms,
            client_rate_limit: rec.client_rate,
        });
    }

    /// The most recent final second.
    pub fn last(&self) -> Option<&TimelinePoint> {
        self.points.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(sec: u64, sent: u64, throttled: u64) -> SecondRecord {
        let mut r = SecondRecord::new(sec);
        r.sent = sent;
        for _ in 0..throttled {
            r.count_attempt(Outcome::Throttled(crate::classify::ThrottleKind::Other));
            r.record_latency(1000);
        }
        r
    }

    #[test]
    fn a_second_is_final_when_every_lane_passed_it() {
        let mut t = Timeline::new(2);
        t.add(0, rec(0, 5, 0));
        assert!(t.points.is_empty());
        t.add(1, rec(0, 7, 1));
        assert_eq!(t.points.len(), 1);
        assert_eq!((t.points[0].sent, t.points[0].throttled), (12, 1));
    }

    #[test]
    fn quiet_seconds_are_filled_and_the_end_flushes() {
        let mut t = Timeline::new(1);
        t.add(0, rec(0, 1, 0));
        t.add(0, rec(3, 2, 0));
        // A lane's records come in order: sending second 4 means it is done with it.
        t.add(0, rec(4, 4, 0));
        t.lane_done(0);
        let secs: Vec<u64> = t.points.iter().map(|p| p.t_s).collect();
        assert_eq!(secs, vec![0, 1, 2, 3, 4]);
        assert_eq!(t.points[4].sent, 4);
    }
}
