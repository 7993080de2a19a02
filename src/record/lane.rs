//! One lane's recorder. Each engine thread owns one, so recording takes no lock; the
//! lanes' records are merged when the run ends, and each second's is sent to the timeline.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use super::histogram::new_histogram;
use super::timeline::SecondRecord;
use crate::classify::Outcome;

/// A send later than this behind its schedule counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(1);

/// Counters of one stage (or the whole run, once merged).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    /// Logical requests that ended (their final outcome is known).
    pub requests: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    /// Sent more than 1 ms behind schedule (open-model stages).
    pub late: u64,
    /// Held back by `--max-in-flight`; each is also late.
    pub held_back: u64,
    /// Attempts, by outcome.
    pub sent: u64,
    pub attempts_throttled: u64,
    pub server_errors: u64,
    pub client_errors: u64,
    pub timeouts: u64,
    pub connect_errors: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.ok += o.ok;
        self.throttled += o.throttled;
        self.errors += o.errors;
        self.late += o.late;
        self.held_back += o.held_back;
        self.sent += o.sent;
        self.attempts_throttled += o.attempts_throttled;
        self.server_errors += o.server_errors;
        self.client_errors += o.client_errors;
        self.timeouts += o.timeouts;
        self.connect_errors += o.connect_errors;
    }

    fn count_outcome(&mut self, outcome: Outcome) {
        self.requests += 1;
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Throttled => {
                self.throttled += 1;
                self.attempts_throttled += 1;
            }
            Outcome::ClientError => self.client_errors += 1,
            Outcome::ServerError => self.server_errors += 1,
            Outcome::Timeout => self.timeouts += 1,
            Outcome::ConnectError => self.connect_errors += 1,
        }
        if outcome.is_error() {
            self.errors += 1;
        }
    }
}

/// What one stage saw. Times are microseconds from the run's origin.
#[derive(Clone, Debug)]
pub struct StageRecord {
    pub counts: Counts,
    /// End-to-end: scheduled send → response, µs.
    pub latency: Histogram<u64>,
    /// Service time: actual send → response, µs.
    pub service: Histogram<u64>,
    pub peak_in_flight: u64,
    pub first_send_us: Option<u64>,
    pub last_send_us: Option<u64>,
    pub first_scheduled_us: Option<u64>,
    pub last_done_us: Option<u64>,
}

impl StageRecord {
    pub fn new() -> StageRecord {
        StageRecord {
            counts: Counts::default(),
            latency: new_histogram(),
            service: new_histogram(),
            peak_in_flight: 0,
            first_send_us: None,
            last_send_us: None,
            first_scheduled_us: None,
            last_done_us: None,
        }
    }

    pub fn merge(&mut self, o: &StageRecord) {
        self.counts.add(&o.counts);
        self.latency.add(&o.latency).expect("same bounds");
        self.service.add(&o.service).expect("same bounds");
        self.peak_in_flight = self.peak_in_flight.max(o.peak_in_flight);
        self.first_send_us = min_some(self.first_send_us, o.first_send_us);
        self.last_send_us = self.last_send_us.max(o.last_send_us);
        self.first_scheduled_us = min_some(self.first_scheduled_us, o.first_scheduled_us);
        self.last_done_us = self.last_done_us.max(o.last_done_us);
    }

    /// First send → last send, in ms (a burst's dispatch spread).
    pub fn send_spread_ms(&self) -> Option<f64> {
        Some((self.last_send_us? - self.first_send_us?) as f64 / 1000.0)
    }
}

impl Default for StageRecord {
    fn default() -> Self {
        StageRecord::new()
    }
}

fn min_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The recorder of one engine lane (thread).
pub struct LaneRecorder {
    origin: Instant,
    lane: usize,
    pub stages: Vec<StageRecord>,
    second: SecondRecord,
    seconds_out: Option<UnboundedSender<(usize, SecondRecord)>>,
    /// Requests still in flight when the grace period after Ctrl-C ran out.
    pub abandoned: u64,
}

impl LaneRecorder {
    pub fn new(
        origin: Instant,
        lane: usize,
        stages: usize,
        seconds_out: Option<UnboundedSender<(usize, SecondRecord)>>,
    ) -> LaneRecorder {
        LaneRecorder {
            origin,
            lane,
            stages: (0..stages).map(|_| StageRecord::new()).collect(),
            second: SecondRecord::new(0),
            seconds_out,
            abandoned: 0,
        }
    }

    fn micros(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_micros() as u64
    }

    /// An attempt leaves (or starts connecting); `in_flight` is the run-wide count, this one included.
    pub fn on_dispatch(&mut self, stage: usize, now: Instant, in_flight: u64) {
        self.roll(now);
        let s = &mut self.stages[stage];
        s.counts.sent += 1;
        s.peak_in_flight = s.peak_in_flight.max(in_flight);
        self.second.sent += 1;
        self.second.in_flight_max = self.second.in_flight_max.max(in_flight);
    }

    /// A request held back by the in-flight cap.
    pub fn on_held_back(&mut self, stage: usize) {
        self.stages[stage].counts.held_back += 1;
    }

    /// An attempt ended. `sent` is when it went out on a connection (`None`: it never did);
    /// `paced` says whether it had a schedule to be late against.
    pub fn on_done(
        &mut self,
        stage: usize,
        scheduled: Instant,
        sent: Option<Instant>,
        done: Instant,
        outcome: Outcome,
        paced: bool,
    ) {
        self.roll(done);
        let (sched_us, done_us) = (self.micros(scheduled), self.micros(done));
        let sent_us = sent.map(|t| self.micros(t));
        let s = &mut self.stages[stage];
        s.counts.count_outcome(outcome);
        let e2e = done.saturating_duration_since(scheduled).as_micros() as u64;
        s.latency.saturating_record(e2e.max(1));
        if let Some(sent) = sent {
            let service = done.saturating_duration_since(sent).as_micros() as u64;
            s.service.saturating_record(service.max(1));
            if paced && sent.saturating_duration_since(scheduled) > LATE_AFTER {
                s.counts.late += 1;
            }
        }
        s.first_send_us = min_some(s.first_send_us, sent_us);
        s.last_send_us = s.last_send_us.max(sent_us);
        s.first_scheduled_us = min_some(s.first_scheduled_us, Some(sched_us));
        s.last_done_us = s.last_done_us.max(Some(done_us));
        self.second.count(outcome, e2e);
    }

    /// Sends the current second to the timeline once the clock has moved past it.
    pub fn roll(&mut self, now: Instant) {
        let sec = now.saturating_duration_since(self.origin).as_secs();
        if sec > self.second.sec {
            let done = std::mem::replace(&mut self.second, SecondRecord::new(sec));
            if let Some(out) = &self.seconds_out {
                let _ = out.send((self.lane, done));
            }
        }
    }

    /// Sends the last, partial second.
    pub fn finish(&mut self) {
        let last = std::mem::replace(&mut self.second, SecondRecord::new(0));
        if let Some(out) = self.seconds_out.take() {
            let _ = out.send((self.lane, last));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_latency_from_schedule_and_service_from_send() {
        let origin = Instant::now();
        let mut r = LaneRecorder::new(origin, 0, 1, None);
        let scheduled = origin + Duration::from_millis(10);
        let sent = scheduled + Duration::from_millis(5);
        let done = sent + Duration::from_millis(20);
        r.on_dispatch(0, sent, 1);
        r.on_done(0, scheduled, Some(sent), done, Outcome::Ok, true);
        let s = &r.stages[0];
        assert_eq!(s.counts.requests, 1);
        assert_eq!(s.counts.late, 1);
        assert!((s.latency.max() as i64 - 25_000).abs() <= 25);
        assert!((s.service.max() as i64 - 20_000).abs() <= 20);
        assert_eq!(s.peak_in_flight, 1);
    }

    #[test]
    fn unpaced_sends_are_never_late_and_outcomes_split() {
        let origin = Instant::now();
        let mut r = LaneRecorder::new(origin, 0, 1, None);
        let later = origin + Duration::from_millis(50);
        r.on_done(0, origin, Some(later), later, Outcome::Throttled, false);
        r.on_done(0, origin, None, later, Outcome::ConnectError, true);
        let c = r.stages[0].counts;
        assert_eq!(c.late, 0);
        assert_eq!(
            (
                c.throttled,
                c.attempts_throttled,
                c.errors,
                c.connect_errors
            ),
            (1, 1, 1, 1)
        );
    }

    #[test]
    fn seconds_roll_over_to_the_timeline() {
        let origin = Instant::now();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut r = LaneRecorder::new(origin, 3, 1, Some(tx));
        r.on_dispatch(0, origin, 1);
        r.on_dispatch(0, origin + Duration::from_millis(1500), 2);
        let (lane, first) = rx.try_recv().unwrap();
        assert_eq!((lane, first.sec, first.sent), (3, 0, 1));
        r.finish();
        let (_, last) = rx.try_recv().unwrap();
        assert_eq!((last.sec, last.sent, last.in_flight_max), (1, 1, 2));
    }
}
