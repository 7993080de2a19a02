//! What a stage saw, and the counters in it: the records each lane keeps per stage (and
//! per request of a mix), added together when the run ends.

use hdrhistogram::Histogram;

use super::flow::FlowRecord;
use super::lambda::LambdaRecord;
use super::lane::{AttemptEnded, RequestEnd, LATE_AFTER};
use super::statuses::StatusCounts;
use crate::classify::{LocalReason, Outcome, Tally, ThrottleKind};
use crate::retry::RetryCause;
use crate::transport::timing::Phases;
use stampede_results::histogram::{new_histogram, new_request_histogram};
use stampede_results::timing::{
    add_phases, new_phase_histograms, record_phase, Phase, PhaseHistograms,
};
use stampede_results::{AttemptClass, Attempts};

/// Attempts counted in the distribution; more land in the last bucket.
pub const ATTEMPT_BUCKETS: usize = 16;

/// Counters of one stage (or the whole run, once merged).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    /// Logical requests that ended (their final outcome is known).
    pub requests: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    /// Ended well on their first attempt.
    pub first_try_ok: u64,
    /// Sent more than 1 ms behind schedule (open-model stages).
    pub late: u64,
    /// Held back by `--max-in-flight`; each is also late.
    pub held_back: u64,
    /// Retries sent, and logical requests that stopped retrying with attempts or budget
    /// exhausted (or past their deadline) while still failing.
    pub retries: u64,
    pub gave_up: u64,
    pub gave_up_budget: u64,
    pub backoff_us: u64,
    /// `attempts_used[k]`: requests that took k+1 attempts.
    pub attempts_used: [u64; ATTEMPT_BUCKETS],
    pub retries_by_cause: Tally<RetryCause>,
    /// Logical requests that never ended: abandoned in flight or backing off at the end.
    pub abandoned_requests: u64,
    /// Attempts, by outcome: each attempt sent lands in exactly one class, and the classes
    /// add up to `attempts.sent` (the results' `attempts`, counted as they happen).
    pub attempts: Attempts,
    /// First attempts sent (a burst's "released").
    pub first_sent: u64,
    pub throttles_by_kind: Tally<ThrottleKind>,
    /// Local errors by what ran out.
    pub local_by_reason: Tally<LocalReason>,
    /// Requests sent again on a fresh connection because a reused one closed before any
    /// byte of the answer came: the server never saw the first, so not attempts.
    pub stale_connection_resends: u64,
    /// HTTP/2 connections the server ended with GOAWAY (its limit of requests per
    /// connection, a restart): their unprocessed requests were sent again.
    pub goaways: u64,
    /// Logical requests not sent: a `unique` data source had no row left.
    pub data_exhausted: u64,
    /// Body bytes of the answers received, as framed.
    pub bytes_received: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.ok += o.ok;
        self.throttled += o.throttled;
        self.errors += o.errors;
        self.first_try_ok += o.first_try_ok;
        self.late += o.late;
        self.held_back += o.held_back;
        self.retries += o.retries;
        self.gave_up += o.gave_up;
        self.gave_up_budget += o.gave_up_budget;
        self.backoff_us += o.backoff_us;
        for (a, b) in self.attempts_used.iter_mut().zip(o.attempts_used) {
            *a += b;
        }
        self.retries_by_cause.merge(&o.retries_by_cause);
        self.abandoned_requests += o.abandoned_requests;
        self.attempts.add(&o.attempts);
        self.first_sent += o.first_sent;
        self.throttles_by_kind.merge(&o.throttles_by_kind);
        self.local_by_reason.merge(&o.local_by_reason);
        self.stale_connection_resends += o.stale_connection_resends;
        self.goaways += o.goaways;
        self.data_exhausted += o.data_exhausted;
        self.bytes_received += o.bytes_received;
    }

    /// The attempt classes; they add up to `sent`.
    pub fn attempt_classes(&self) -> u64 {
        AttemptClass::ALL
            .iter()
            .map(|c| self.attempts.get(*c))
            .sum()
    }

    pub(super) fn count_attempt(&mut self, outcome: Outcome) {
        *self.attempts.get_mut(outcome.class()) += 1;
        match outcome {
            Outcome::Throttled(kind) => self.throttles_by_kind.add(kind),
            Outcome::LocalError(reason) => self.local_by_reason.add(reason),
            _ => {}
        }
    }

    pub(super) fn count_request(&mut self, end: &RequestEnd) {
        self.requests += 1;
        match end.outcome {
            Outcome::Ok => {
                self.ok += 1;
                if end.attempts == 1 {
                    self.first_try_ok += 1;
                }
            }
            Outcome::Throttled(_) => self.throttled += 1,
            _ => self.errors += 1,
        }
        let bucket = (end.attempts.max(1) as usize - 1).min(ATTEMPT_BUCKETS - 1);
        self.attempts_used[bucket] += 1;
        if end.gave_up {
            self.gave_up += 1;
        }
        if end.out_of_budget {
            self.gave_up_budget += 1;
        }
        self.backoff_us += end.backoff.as_micros() as u64;
    }
}

/// What one stage saw. Times are microseconds from the run's origin.
#[derive(Clone, Debug)]
pub struct StageRecord {
    pub counts: Counts,
    /// End-to-end: scheduled send → response, µs.
    pub latency: Histogram<u64>,
    /// The same latencies of the requests that ended ok alone (thresholds `ok_p99` …).
    pub ok_latency: Histogram<u64>,
    /// Service time: actual send → response, µs.
    pub service: Histogram<u64>,
    /// Where the time went: each phase of the attempts that had it, µs, by `Phase::index`.
    pub timing: PhaseHistograms,
    /// `timing`'s receive phase lacks these 0s until a merge adds them: answers whole in
    /// their first read (most kept-alive ones), counted here rather than recorded one by
    /// one — a histogram record fewer per request on the hot path.
    answers_in_one_read: u64,
    pub peak_in_flight: u64,
    /// Answers by status code.
    pub statuses: StatusCounts,
    pub first_send_us: Option<u64>,
    pub last_send_us: Option<u64>,
    pub first_scheduled_us: Option<u64>,
    pub last_done_us: Option<u64>,
    /// A Lambda target's REPORT lines and function errors (from the first one read).
    pub lambda: Option<Box<LambdaRecord>>,
    /// Per entry of a `[[requests]]` mix, the same figures for that request alone: made
    /// when the first of its requests is recorded, and never without `[[requests]]`.
    pub by_request: Vec<Option<Box<StageRecord>>>,
    /// Per `[[flows]]` entry: made when the first of its flows starts; never without flows.
    pub by_flow: Vec<Option<Box<FlowRecord>>>,
}

impl StageRecord {
    pub fn new() -> StageRecord {
        StageRecord {
            counts: Counts::default(),
            latency: new_histogram(),
            ok_latency: new_histogram(),
            service: new_histogram(),
            timing: new_phase_histograms(),
            answers_in_one_read: 0,
            peak_in_flight: 0,
            statuses: StatusCounts::new(),
            first_send_us: None,
            last_send_us: None,
            first_scheduled_us: None,
            last_done_us: None,
            lambda: None,
            by_request: Vec::new(),
            by_flow: Vec::new(),
        }
    }

    /// The record of one request of the mix: its histograms at the requests' precision.
    pub fn for_request() -> StageRecord {
        StageRecord {
            latency: new_request_histogram(),
            ok_latency: new_request_histogram(),
            service: new_request_histogram(),
            ..StageRecord::new()
        }
    }

    /// Entry `entry`'s record, made on first use; `None` without `[[requests]]` (`entries`
    /// is 0).
    pub(super) fn request_cell(
        &mut self,
        entries: usize,
        entry: usize,
    ) -> Option<&mut StageRecord> {
        if entries == 0 {
            return None;
        }
        if self.by_request.len() < entries {
            self.by_request.resize_with(entries, || None);
        }
        Some(self.by_request[entry].get_or_insert_with(|| Box::new(StageRecord::for_request())))
    }

    /// Flow `flow`'s record, made on first use (`flows` entries in all).
    pub(super) fn flow_cell(&mut self, flows: usize, flow: usize) -> &mut FlowRecord {
        if self.by_flow.len() < flows {
            self.by_flow.resize_with(flows, || None);
        }
        self.by_flow[flow].get_or_insert_with(Box::default)
    }

    pub(super) fn dispatch(&mut self, in_flight: u64, first: bool) {
        self.counts.attempts.sent += 1;
        self.counts.first_sent += u64::from(first);
        self.peak_in_flight = self.peak_in_flight.max(in_flight);
    }

    pub(super) fn attempt(&mut self, a: &AttemptEnded, sent_us: Option<u64>) {
        self.counts.count_attempt(a.outcome);
        if let Some(status) = a.status {
            self.statuses.add(status);
        }
        if let Some((ttfb, receive)) = a.phases.exchange() {
            record_phase(&mut self.timing[Phase::Ttfb.index()], ttfb);
            self.counts.bytes_received += a.phases.body_bytes;
            if receive == 0 {
                self.answers_in_one_read += 1;
            } else {
                record_phase(&mut self.timing[Phase::Receive.index()], receive);
                if let Some(bytes_per_s) = a.phases.throughput() {
                    record_phase(&mut self.timing.throughput, bytes_per_s);
                }
            }
        }
        if a.phases.opened.is_some() {
            self.opened(&a.phases);
        }
        if let Some(sent) = a.sent {
            let service = a.done.saturating_duration_since(sent).as_micros() as u64;
            put(&mut self.service, service.max(1));
            if a.paced && sent.saturating_duration_since(a.scheduled) > LATE_AFTER {
                self.counts.late += 1;
            }
        }
        // The dispatch spread is of requests released, not of their retries.
        if a.first {
            self.first_send_us = min_some(self.first_send_us, sent_us);
            self.last_send_us = self.last_send_us.max(sent_us);
        }
    }

    /// The phases of an attempt that opened its connection (the few, with keep-alive).
    #[cold]
    fn opened(&mut self, phases: &Phases) {
        for phase in [Phase::Dns, Phase::Connect, Phase::Tls] {
            if let Some(us) = phases.get(phase) {
                record_phase(&mut self.timing[phase.index()], us);
            }
        }
    }

    pub(super) fn request(&mut self, e2e: u64, sched_us: u64, done_us: u64, end: &RequestEnd) {
        self.counts.count_request(end);
        put(&mut self.latency, e2e.max(1));
        if matches!(end.outcome, Outcome::Ok) {
            put(&mut self.ok_latency, e2e.max(1));
        }
        self.first_scheduled_us = min_some(self.first_scheduled_us, Some(sched_us));
        self.last_done_us = self.last_done_us.max(Some(done_us));
    }

    pub fn merge(&mut self, o: &StageRecord) {
        self.counts.add(&o.counts);
        self.latency.add(&o.latency).expect("same bounds");
        self.ok_latency.add(&o.ok_latency).expect("same bounds");
        self.service.add(&o.service).expect("same bounds");
        add_phases(&mut self.timing, &o.timing);
        let in_one_read = std::mem::take(&mut self.answers_in_one_read) + o.answers_in_one_read;
        if in_one_read > 0 {
            let _ = self.timing[Phase::Receive.index()].record_n(0, in_one_read);
        }
        self.peak_in_flight = self.peak_in_flight.max(o.peak_in_flight);
        self.statuses.merge(&o.statuses);
        self.first_send_us = min_some(self.first_send_us, o.first_send_us);
        self.last_send_us = self.last_send_us.max(o.last_send_us);
        self.first_scheduled_us = min_some(self.first_scheduled_us, o.first_scheduled_us);
        self.last_done_us = self.last_done_us.max(o.last_done_us);
        if let Some(i) = &o.lambda {
            self.lambda.get_or_insert_default().merge(i);
        }
        if self.by_request.len() < o.by_request.len() {
            self.by_request.resize_with(o.by_request.len(), || None);
        }
        for (mine, theirs) in self.by_request.iter_mut().zip(&o.by_request) {
            if let Some(theirs) = theirs {
                mine.get_or_insert_with(|| Box::new(StageRecord::for_request()))
                    .merge(theirs);
            }
        }
        if self.by_flow.len() < o.by_flow.len() {
            self.by_flow.resize_with(o.by_flow.len(), || None);
        }
        for (mine, theirs) in self.by_flow.iter_mut().zip(&o.by_flow) {
            if let Some(theirs) = theirs {
                mine.get_or_insert_with(Box::default).merge(theirs);
            }
        }
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

/// Records `v`: a request's histogram grows to hold it (it is auto-sized, which
/// `saturating_record` does not do: it would clamp to its current top); a stage's,
/// bounded, keeps a value past its bound at the bound.
pub(super) fn put(h: &mut Histogram<u64>, v: u64) {
    if h.record(v).is_err() {
        h.saturating_record(v);
    }
}

pub(super) fn min_some(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
