//! The per-second timeline. Lanes send one [`SecondRecord`] per second; a second is final
//! once every lane has moved past it, and then only its summary and its histograms,
//! encoded (a few hundred bytes), are kept: memory grows by well under 1 KB a second.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::classify::{Outcome, Tally, ThrottleKind};
use crate::transport::timing::Phases;
use stampede_results::histogram::{encode, new_histogram, new_request_histogram, SecondLatency};
pub use stampede_results::timeline::{
    RequestSecond, RequestSecondHistogram, SecondHistograms, TimelinePoint,
};
use stampede_results::timing::{Phase, SecondTiming};

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
    /// Lambda target: answers in this second whose REPORT line shows a cold start.
    pub cold_starts: u64,
    /// End-to-end latency of logical requests that ended in this second, µs: all of them,
    /// those that ended ok and those that ended throttled (kept apart, so fast 429s cannot
    /// make the latency of answers look better).
    pub latency: Histogram<u64>,
    pub ok_latency: Option<Histogram<u64>>,
    pub throttled_latency: Option<Histogram<u64>>,
    /// With `[[requests]]`: the second of each request of the mix, by entry (grown on
    /// first use; empty without a mix).
    pub by_request: Vec<RequestSecondRecord>,
    /// Each phase's count and total, µs, of the attempts that ended in this second (by
    /// `Phase::index`): the means of the HTML report's stacked view.
    pub timing: [(u64, u64); 5],
    /// Body bytes of the answers that ended in this second.
    pub bytes_received: u64,
}

/// One request's part of one lane's second: its attempts sent and ended, its logical
/// requests that ended (those that failed, those that ended throttled) and their latency
/// (at the requests' precision). The results' per-request seconds and the `[abort]` rules
/// that name a request both read it.
#[derive(Clone, Debug)]
pub struct RequestSecondRecord {
    pub sent: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    /// Its attempts in flight at their most in the second (a run-wide count per request).
    pub in_flight_max: u64,
    /// Its 500s with API Gateway's body (suspected Lambda throttles), and its throttled
    /// attempts by kind: what the quota check of its route reads.
    pub suspected: u64,
    pub throttles_by_kind: Tally<ThrottleKind>,
    pub requests: u64,
    pub failed: u64,
    pub throttled_requests: u64,
    pub latency: Histogram<u64>,
}

impl RequestSecondRecord {
    fn new() -> RequestSecondRecord {
        RequestSecondRecord {
            sent: 0,
            ok: 0,
            throttled: 0,
            errors: 0,
            in_flight_max: 0,
            suspected: 0,
            throttles_by_kind: Tally::default(),
            requests: 0,
            failed: 0,
            throttled_requests: 0,
            latency: new_request_histogram(),
        }
    }

    /// An attempt of this request ended, counted as [`SecondRecord::count_attempt`] counts it.
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

    /// A logical request of it ended, `latency_us` after its schedule, counted as
    /// [`SecondRecord::count_request`] counts it.
    pub fn count_request(&mut self, outcome: Outcome, latency_us: u64) {
        self.requests += 1;
        if outcome.is_error() {
            self.failed += 1;
        } else if outcome.is_throttle() {
            self.throttled_requests += 1;
        }
        // Auto-sized: it grows to hold the value (an error only past u64's range).
        let _ = self.latency.record(latency_us.max(1));
    }

    fn merge(&mut self, o: &RequestSecondRecord) {
        self.sent += o.sent;
        self.ok += o.ok;
        self.throttled += o.throttled;
        self.errors += o.errors;
        // One run-wide count per request, read by every lane: the highest is its peak.
        self.in_flight_max = self.in_flight_max.max(o.in_flight_max);
        self.suspected += o.suspected;
        self.throttles_by_kind.merge(&o.throttles_by_kind);
        self.requests += o.requests;
        self.failed += o.failed;
        self.throttled_requests += o.throttled_requests;
        let _ = self.latency.add(&o.latency);
    }

    /// As a timeline point of second `t_s` (its counts only), for the abort rules.
    pub fn point(&self, t_s: u64) -> TimelinePoint {
        TimelinePoint {
            t_s,
            sent: self.sent,
            ok: self.ok,
            throttled: self.throttled,
            errors: self.errors,
            in_flight_max: self.in_flight_max,
            suspected_lambda_throttles: self.suspected,
            throttles: self.throttles_by_kind.by_key(),
            requests: self.requests,
            failed: self.failed,
            throttled_requests: self.throttled_requests,
            ..TimelinePoint::default()
        }
    }
}

/// Each request's seconds, by entry of the mix: what the results keep per request.
#[derive(Clone, Debug, Default)]
pub struct RequestSeconds {
    pub points: Vec<Vec<RequestSecond>>,
    pub histograms: Vec<Vec<RequestSecondHistogram>>,
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
            cold_starts: 0,
            latency: new_histogram(),
            ok_latency: None,
            throttled_latency: None,
            by_request: Vec::new(),
            timing: [(0, 0); 5],
            bytes_received: 0,
        }
    }

    /// An attempt's phases, ended in this second.
    #[inline]
    pub fn add_phases(&mut self, phases: &Phases) {
        let mut add = |phase: Phase, us: u64| {
            let (n, total) = &mut self.timing[phase.index()];
            *n += 1;
            *total += us;
        };
        if let Some((ttfb, receive)) = phases.exchange() {
            add(Phase::Ttfb, ttfb);
            add(Phase::Receive, receive);
            self.bytes_received += phases.body_bytes;
        }
        if phases.opened.is_some() {
            for phase in [Phase::Dns, Phase::Connect, Phase::Tls] {
                if let Some(us) = phases.get(phase) {
                    add(phase, us);
                }
            }
        }
    }

    /// Entry `entry`'s part of this second; `None` without `[[requests]]` (`entries` 0).
    pub fn request_mut(
        &mut self,
        entries: usize,
        entry: usize,
    ) -> Option<&mut RequestSecondRecord> {
        if entries == 0 || entry >= entries {
            return None;
        }
        if self.by_request.len() < entries {
            self.by_request
                .resize_with(entries, RequestSecondRecord::new);
        }
        Some(&mut self.by_request[entry])
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

    /// A logical request ended in this second with `outcome`, `latency_us` after its schedule.
    pub fn record_latency(&mut self, latency_us: u64, outcome: Outcome) {
        let us = latency_us.max(1);
        self.latency.saturating_record(us);
        let apart = match outcome {
            Outcome::Ok => &mut self.ok_latency,
            o if o.is_throttle() => &mut self.throttled_latency,
            _ => return,
        };
        apart
            .get_or_insert_with(new_histogram)
            .saturating_record(us);
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
        self.cold_starts += o.cold_starts;
        self.bytes_received += o.bytes_received;
        for ((n, total), (n2, total2)) in self.timing.iter_mut().zip(o.timing) {
            *n += n2;
            *total += total2;
        }
        // Lanes limit apart: the client's rate is their sum.
        self.client_rate = match (self.client_rate, o.client_rate) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.latency.add(&o.latency).expect("same bounds");
        add_some(&mut self.ok_latency, &o.ok_latency);
        add_some(&mut self.throttled_latency, &o.throttled_latency);
        if self.by_request.len() < o.by_request.len() {
            self.by_request
                .resize_with(o.by_request.len(), RequestSecondRecord::new);
        }
        for (mine, theirs) in self.by_request.iter_mut().zip(&o.by_request) {
            mine.merge(theirs);
        }
    }
}

fn add_some(into: &mut Option<Histogram<u64>>, from: &Option<Histogram<u64>>) {
    if let Some(h) = from {
        into.get_or_insert_with(new_histogram)
            .add(h)
            .expect("same bounds");
    }
}

/// Collects lanes' seconds into final timeline points.
pub struct Timeline {
    /// Per lane: every second before this one has been sent.
    watermarks: Vec<u64>,
    pending: BTreeMap<u64, SecondRecord>,
    pub points: Vec<TimelinePoint>,
    /// The histograms of each second in which a request ended.
    pub histograms: Vec<SecondHistograms>,
    /// With `[[requests]]`: each request's seconds in which it sent or ended something.
    pub by_request: RequestSeconds,
    /// Per entry of the mix an `[abort]` rule names, its final seconds, every one (counts
    /// only): what those rules read.
    pub watched: BTreeMap<usize, Vec<TimelinePoint>>,
}

impl Timeline {
    pub fn new(lanes: usize) -> Timeline {
        Timeline {
            watermarks: vec![0; lanes],
            pending: BTreeMap::new(),
            points: Vec::new(),
            histograms: Vec::new(),
            by_request: RequestSeconds::default(),
            watched: BTreeMap::new(),
        }
    }

    /// Keeps the final seconds of these entries of the mix apart (for `[abort]` rules that
    /// name a request).
    pub fn watch_requests(mut self, entries: impl IntoIterator<Item = usize>) -> Timeline {
        self.watched = entries.into_iter().map(|e| (e, Vec::new())).collect();
        self
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
        for (entry, points) in &mut self.watched {
            let quiet = |t_s| TimelinePoint {
                t_s,
                ..TimelinePoint::default()
            };
            let next = points.last().map_or(0, |p| p.t_s + 1);
            points.extend((next..sec).map(quiet));
            points.push(
                rec.by_request
                    .get(*entry)
                    .map_or(quiet(sec), |r| r.point(sec)),
            );
        }
        // Quiet seconds (a pause) still get a point: one per second.
        let next = self.points.last().map_or(0, |p| p.t_s + 1);
        for t_s in next..sec {
            self.points.push(TimelinePoint {
                t_s,
                ..TimelinePoint::default()
            });
        }
        let all = SecondLatency::of(&rec.latency);
        let some = |h: &Option<Histogram<u64>>| h.as_ref().map(SecondLatency::of);
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
            cold_starts: rec.cold_starts,
            throttles: rec.throttles_by_kind.by_key(),
            p50_ms: all.p50,
            p90_ms: all.p90,
            p99_ms: all.p99,
            max_ms: all.max,
            ok_ms: some(&rec.ok_latency),
            throttled_ms: some(&rec.throttled_latency),
            planned: None,
            client_rate_limit: rec.client_rate,
            timing_ms: SecondTiming::of(&rec.timing),
            bytes_received: rec.bytes_received,
        });
        self.push_requests(sec, &rec.by_request);
        if !rec.latency.is_empty() {
            let encoded = |h: &Option<Histogram<u64>>| h.as_ref().map_or(String::new(), encode);
            self.histograms.push(SecondHistograms {
                t_s: sec,
                latency: encode(&rec.latency),
                ok: encoded(&rec.ok_latency),
                throttled: encoded(&rec.throttled_latency),
            });
        }
    }

    /// Each request's part of second `sec`, for those that sent or ended something in it.
    fn push_requests(&mut self, sec: u64, requests: &[RequestSecondRecord]) {
        let by = &mut self.by_request;
        if by.points.len() < requests.len() {
            by.points.resize_with(requests.len(), Vec::new);
            by.histograms.resize_with(requests.len(), Vec::new);
        }
        for (entry, r) in requests.iter().enumerate() {
            if r.sent + r.ok + r.throttled + r.errors + r.requests == 0 {
                continue;
            }
            let latency = SecondLatency::of(&r.latency);
            by.points[entry].push(RequestSecond {
                t_s: sec,
                sent: r.sent,
                ok: r.ok,
                throttled: r.throttled,
                errors: r.errors,
                in_flight_max: r.in_flight_max,
                suspected_lambda_throttles: r.suspected,
                throttles: r.throttles_by_kind.by_key(),
                requests: r.requests,
                p50_ms: latency.p50,
                p99_ms: latency.p99,
            });
            if !r.latency.is_empty() {
                by.histograms[entry].push(RequestSecondHistogram {
                    t_s: sec,
                    latency: encode(&r.latency),
                });
            }
        }
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
            r.record_latency(
                1000,
                Outcome::Throttled(crate::classify::ThrottleKind::Other),
            );
        }
        r
    }

    #[test]
    fn watched_requests_get_a_point_every_final_second_from_every_lane() {
        let mut t = Timeline::new(2).watch_requests([1]);
        let mut a = rec(0, 3, 0);
        a.request_mut(2, 1)
            .unwrap()
            .count_attempt(Outcome::Throttled(crate::classify::ThrottleKind::Other));
        let mut b = rec(0, 1, 0);
        b.request_mut(2, 1)
            .unwrap()
            .count_request(Outcome::Ok, 1000);
        b.request_mut(2, 0).unwrap().count_attempt(Outcome::Ok);
        t.add(0, a);
        t.add(1, b);
        t.add(0, rec(2, 1, 0));
        t.lane_done(1);
        t.lane_done(0);
        let points = &t.watched[&1];
        assert_eq!(points.iter().map(|p| p.t_s).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!((points[0].throttled, points[0].requests), (1, 1));
        let quiet = TimelinePoint {
            t_s: 1,
            ..TimelinePoint::default()
        };
        assert_eq!(points[1], quiet, "a quiet second");
        assert!(!t.watched.contains_key(&0), "entry 0 is not watched");
    }

    #[test]
    fn ok_and_throttled_latency_are_kept_apart_and_their_histograms_kept() {
        let mut r = SecondRecord::new(0);
        r.record_latency(40_000, Outcome::Ok);
        r.record_latency(42_000, Outcome::Ok);
        r.record_latency(
            300,
            Outcome::Throttled(crate::classify::ThrottleKind::ApiGateway),
        );
        r.record_latency(29_000_000, Outcome::Timeout);
        let mut t = Timeline::new(1);
        t.add(0, r);
        t.lane_done(0);
        let p = &t.points[0];
        assert_eq!(p.ok_ms.unwrap().count, 2);
        assert!((p.ok_ms.unwrap().p50 - 40.0).abs() < 0.1);
        assert_eq!(p.throttled_ms.unwrap().count, 1);
        assert!(p.throttled_ms.unwrap().max < 1.0);
        assert!(p.max_ms > 28_000.0, "all outcomes: {}", p.max_ms);
        let h = &t.histograms[0];
        assert_eq!(super::super::decode(&h.latency).unwrap().len(), 4);
        assert_eq!(super::super::decode(&h.ok).unwrap().len(), 2);
        assert_eq!(super::super::decode(&h.throttled).unwrap().len(), 1);
    }

    #[test]
    fn each_requests_second_is_added_over_lanes_and_kept_apart() {
        let mut t = Timeline::new(2);
        for (lane, (entry, ms)) in [(1, 40u64), (1, 60)].into_iter().enumerate() {
            let mut r = SecondRecord::new(0);
            r.sent = 1;
            let cell = r.request_mut(3, entry).unwrap();
            cell.sent += 1;
            cell.count_attempt(Outcome::Ok);
            cell.count_request(Outcome::Ok, ms * 1000);
            t.add(lane, r);
        }
        t.lane_done(0);
        t.lane_done(1);
        let by = &t.by_request;
        assert!(by.points[0].is_empty() && by.points[2].is_empty());
        let p = &by.points[1][0];
        assert_eq!((p.t_s, p.sent, p.ok, p.requests), (0, 2, 2, 2));
        assert!((p.p99_ms - 60.0).abs() < 1.0, "{p:?}");
        let h = super::super::decode(&by.histograms[1][0].latency).unwrap();
        assert_eq!(h.len(), 2);
        assert!(SecondRecord::new(0).request_mut(0, 0).is_none(), "no mix");
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
