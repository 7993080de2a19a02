//! One lane's recorder. Each engine thread owns one, so recording takes no lock; the
//! lanes' records are merged when the run ends, and each second's is sent to the timeline.

use std::time::{Duration, Instant};

use std::collections::VecDeque;

use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::Sender;

use super::lambda::ColdStart;
use super::live::LaneCounters;
use super::stage::{min_some, Counts, StageRecord};
use super::timeline::SecondRecord;
use crate::classify::Outcome;
use crate::retry::RetryCause;
use crate::transport::timing::Phases;
use stampede_lambda::ReportLine;
pub use stampede_results::failure::{pick_samples, FailureSample, FAILURE_SAMPLES};

/// A send later than this behind its schedule counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(1);

/// One attempt, as it ended.
#[derive(Clone, Copy, Debug)]
pub struct AttemptEnded {
    pub stage: usize,
    pub scheduled: Instant,
    /// When it went out on a connection; `None`: it never did.
    pub sent: Option<Instant>,
    pub done: Instant,
    pub outcome: Outcome,
    /// The answer's status code; `None`: no answer came.
    pub status: Option<u16>,
    /// It had a schedule to be late against (first attempts of open-model requests).
    pub paced: bool,
    /// The first attempt of its logical request.
    pub first: bool,
    /// The entry of the mix it sent.
    pub entry: usize,
    /// Where its time went on the wire (only the phases it had).
    pub phases: Phases,
}

/// How a logical request ended, all attempts and backoff included.
#[derive(Clone, Copy, Debug)]
pub struct RequestEnd {
    pub outcome: Outcome,
    pub attempts: u32,
    /// Still failing when it stopped retrying (attempts, budget or deadline exhausted).
    pub gave_up: bool,
    pub out_of_budget: bool,
    pub backoff: Duration,
}

/// The recorder of one engine lane (thread).
pub struct LaneRecorder {
    origin: Instant,
    lane: usize,
    pub stages: Vec<StageRecord>,
    second: SecondRecord,
    seconds_out: Option<Sender<(usize, SecondRecord)>>,
    /// Seconds the bounded channel had no room for, sent first next time: the lane never
    /// waits on the coordinator.
    unsent: VecDeque<SecondRecord>,
    pub failures: Vec<FailureSample>,
    /// Samples kept of each outcome so far (a handful of entries: no allocation once seen).
    sampled: Vec<(Outcome, usize)>,
    /// Entries of the `[[requests]]` mix, each recorded apart; 0 without `[[requests]]`.
    requests: usize,
    /// Entries of `[[flows]]`, each recorded apart; 0 without flows.
    flows: usize,
    /// This lane's live counters, when the run is watched (`--metrics-listen`, `--live`…).
    live: Option<std::sync::Arc<LaneCounters>>,
}

impl LaneRecorder {
    pub fn new(
        origin: Instant,
        lane: usize,
        stages: usize,
        seconds_out: Option<Sender<(usize, SecondRecord)>>,
    ) -> LaneRecorder {
        LaneRecorder {
            origin,
            lane,
            stages: (0..stages).map(|_| StageRecord::new()).collect(),
            second: SecondRecord::new(0),
            seconds_out,
            unsent: VecDeque::new(),
            failures: Vec::new(),
            sampled: Vec::new(),
            requests: 0,
            flows: 0,
            live: None,
        }
    }

    /// Bumps `counters` too, for those who watch the run live.
    pub fn with_live(mut self, counters: Option<std::sync::Arc<LaneCounters>>) -> LaneRecorder {
        self.live = counters;
        self
    }

    /// Records each of `entries` requests of a `[[requests]]` mix apart, too.
    pub fn with_requests(mut self, entries: usize) -> LaneRecorder {
        self.requests = entries;
        self
    }

    /// Records each of `flows` entries of `[[flows]]` apart, too.
    pub fn with_flows(mut self, flows: usize) -> LaneRecorder {
        self.flows = flows;
        self
    }

    /// Flow `flow` started (its first step is due) at `at`.
    pub fn on_flow_started(&mut self, (stage, flow): (usize, usize), at: Instant) {
        let at_us = self.micros(at);
        self.stages[stage].flow_cell(self.flows, flow).start(at_us);
    }

    /// A flow counted as started sent nothing: its first step had no data row left.
    pub fn on_flow_not_sent(&mut self, (stage, flow): (usize, usize)) {
        let cell = self.stages[stage].flow_cell(self.flows, flow);
        cell.started = cell.started.saturating_sub(1);
    }

    /// Every step of a flow ended ok; it ran from `scheduled` to `done`.
    pub fn on_flow_completed(
        &mut self,
        (stage, flow): (usize, usize),
        scheduled: Instant,
        done: Instant,
    ) {
        let e2e = done.saturating_duration_since(scheduled).as_micros() as u64;
        let done_us = self.micros(done);
        self.stages[stage]
            .flow_cell(self.flows, flow)
            .complete(e2e, done_us);
        if let Some(live) = &self.live {
            live.flow_ended((stage, flow), 0);
        }
    }

    /// A flow ended at step `step` (from 0), for `reason`.
    pub fn on_flow_failed(
        &mut self,
        (stage, flow): (usize, usize),
        step: usize,
        reason: super::flow::FailReason,
        done: Instant,
    ) {
        let done_us = self.micros(done);
        self.stages[stage]
            .flow_cell(self.flows, flow)
            .fail(step, reason, done_us);
        if let Some(live) = &self.live {
            live.flow_ended((stage, flow), 1);
        }
    }

    /// A flow started and never ended (the run stopped waiting for it).
    pub fn on_flow_abandoned(&mut self, (stage, flow): (usize, usize)) {
        self.stages[stage].flow_cell(self.flows, flow).abandoned += 1;
        if let Some(live) = &self.live {
            live.flow_ended((stage, flow), 2);
        }
    }

    fn micros(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_micros() as u64
    }

    /// Sets the run's t = 0, once known, before anything is recorded (the engine's time zero
    /// may wait for the first stage's connections).
    pub fn set_origin(&mut self, origin: Instant) {
        self.origin = origin;
    }

    /// An attempt leaves (or starts connecting); `in_flight` is the run-wide count and its
    /// request's (with a mix), this one included; `first`: the first attempt of its request.
    pub fn on_dispatch(
        &mut self,
        (stage, entry): (usize, usize),
        now: Instant,
        (in_flight, its_own): (u64, u64),
        first: bool,
    ) {
        self.roll(now);
        let s = &mut self.stages[stage];
        s.dispatch(in_flight, first);
        if let Some(cell) = s.request_cell(self.requests, entry) {
            cell.dispatch(in_flight, first);
        }
        if let Some(cell) = self.second.request_mut(self.requests, entry) {
            cell.sent += 1;
            cell.in_flight_max = cell.in_flight_max.max(its_own);
        }
        self.second.sent += 1;
        self.second.in_flight_max = self.second.in_flight_max.max(in_flight);
    }

    /// A request held back by the in-flight cap.
    pub fn on_held_back(&mut self, stage: usize) {
        self.stages[stage].counts.held_back += 1;
    }

    /// An attempt ended.
    pub fn on_attempt(&mut self, a: &AttemptEnded) {
        self.roll(a.done);
        let sent_us = a.sent.map(|t| self.micros(t));
        let s = &mut self.stages[a.stage];
        s.attempt(a, sent_us);
        if let Some(cell) = s.request_cell(self.requests, a.entry) {
            cell.attempt(a, sent_us);
        }
        if let Some(cell) = self.second.request_mut(self.requests, a.entry) {
            cell.count_attempt(a.outcome);
        }
        self.second.count_attempt(a.outcome);
        self.second.add_phases(&a.phases);
        if let Some(live) = &self.live {
            let bytes = if a.phases.exchange().is_some() {
                a.phases.body_bytes
            } else {
                0
            };
            live.attempt((a.stage, a.entry), a.outcome, bytes);
        }
    }

    /// A request goes out again on a fresh connection: its reused one had closed.
    pub fn on_stale_connection_resend(&mut self, stage: usize) {
        self.stages[stage].counts.stale_connection_resends += 1;
    }

    /// `n` HTTP/2 connections of `stage`'s requests were ended by the server's GOAWAY.
    pub fn on_goaway(&mut self, stage: usize, n: u32) {
        self.stages[stage].counts.goaways += u64::from(n);
    }

    /// `n` logical requests of `stage` not sent: a `unique` data source ran out of rows.
    pub fn on_data_exhausted(&mut self, stage: usize, n: u64) {
        self.stages[stage].counts.data_exhausted += n;
    }

    /// An attempt still under way when the run stopped waiting for it.
    pub fn on_abandoned_attempt(&mut self, (stage, entry): (usize, usize)) {
        let s = &mut self.stages[stage];
        s.counts.attempts.abandoned += 1;
        if let Some(cell) = s.request_cell(self.requests, entry) {
            cell.counts.attempts.abandoned += 1;
        }
        if let Some(live) = &self.live {
            live.abandoned_attempt((stage, entry));
        }
    }

    /// `n` requests due and held back by the in-flight cap that were never sent: the run
    /// stopped, or its time ran out, first.
    pub fn on_never_sent(&mut self, stage: usize, n: u64) {
        self.stages[stage].counts.abandoned_requests += n;
        if let Some(live) = &self.live {
            live.abandoned_request(stage, None, n);
        }
    }

    /// A logical request that never ended (in flight or backing off when the run stopped).
    /// `entry`: its request of the mix, when it had started (one dropped before it ran
    /// has none yet, and counts for its stage alone).
    pub fn on_abandoned_request(&mut self, stage: usize, entry: Option<usize>) {
        let s = &mut self.stages[stage];
        s.counts.abandoned_requests += 1;
        if let Some(cell) = entry.and_then(|e| s.request_cell(self.requests, e)) {
            cell.counts.abandoned_requests += 1;
        }
        if let Some(live) = &self.live {
            live.abandoned_request(stage, entry, 1);
        }
    }

    /// A retry is about to be sent (after its backoff) for `cause`.
    pub fn on_retry(&mut self, (stage, entry): (usize, usize), cause: RetryCause) {
        let requests = self.requests;
        let s = &mut self.stages[stage];
        let count = |c: &mut Counts| {
            c.retries += 1;
            c.retries_by_cause.add(cause);
        };
        count(&mut s.counts);
        if let Some(cell) = s.request_cell(requests, entry) {
            count(&mut cell.counts);
        }
        if let Some(live) = &self.live {
            live.retry((stage, entry));
        }
    }

    /// A stage began at `origin` by plan but its first requests were skipped (a late
    /// start): it still started there.
    pub fn on_stage_skipped_from(&mut self, stage: usize, origin: Instant) {
        let at = self.micros(origin);
        let s = &mut self.stages[stage];
        s.first_scheduled_us = min_some(s.first_scheduled_us, Some(at));
    }

    /// A logical request ended at `done`; its latency runs from its scheduled instant.
    pub fn on_request(
        &mut self,
        (stage, entry): (usize, usize),
        scheduled: Instant,
        done: Instant,
        end: &RequestEnd,
    ) {
        self.roll(done);
        let (sched_us, done_us) = (self.micros(scheduled), self.micros(done));
        let s = &mut self.stages[stage];
        let e2e = done.saturating_duration_since(scheduled).as_micros() as u64;
        s.request(e2e, sched_us, done_us, end);
        if let Some(cell) = s.request_cell(self.requests, entry) {
            cell.request(e2e, sched_us, done_us, end);
        }
        if let Some(cell) = self.second.request_mut(self.requests, entry) {
            cell.count_request(end.outcome, e2e);
        }
        self.second.record_latency(e2e, end.outcome);
        self.second.count_request(end.outcome);
        if let Some(live) = &self.live {
            live.request((stage, entry), end.outcome, e2e.max(1));
        }
    }

    /// An Invoke answer's REPORT line, read at `at`; `correlation_id` is the request's.
    pub fn on_report(
        &mut self,
        stage: usize,
        report: &ReportLine,
        at: Instant,
        stage_name: &str,
        correlation_id: Option<&str>,
    ) {
        self.roll(at);
        let t_s = at.saturating_duration_since(self.origin).as_secs_f64();
        if report.cold() {
            self.second.cold_starts += 1;
        }
        let record = self.stages[stage].lambda.get_or_insert_default();
        record.report(report, || ColdStart {
            t_s,
            stage: stage_name.to_string(),
            request_id: report.request_id.clone(),
            correlation_id: correlation_id.map(str::to_string),
            init_ms: report.init_ms.or(report.restore_ms).unwrap_or(0.0),
        });
    }

    /// An Invoke answer said the function failed, with this error type.
    pub fn on_function_error(&mut self, stage: usize, error_type: &str) {
        self.stages[stage]
            .lambda
            .get_or_insert_default()
            .function_error(error_type);
    }

    /// Adaptive mode: the client-side limiter's rate now (`None`: not limiting).
    pub fn on_client_rate(&mut self, rate: Option<f64>) {
        self.second.client_rate = rate;
    }

    /// Keeps an attempt that failed with `outcome` as a sample, while its kind has room.
    pub fn on_failure(
        &mut self,
        outcome: Outcome,
        sample: impl FnOnce(f64) -> FailureSample,
        at: Instant,
    ) {
        let kept = match self.sampled.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, n)) => n,
            None => {
                self.sampled.push((outcome, 0));
                &mut self.sampled.last_mut().expect("just pushed").1
            }
        };
        if *kept < FAILURE_SAMPLES {
            *kept += 1;
            let t_s = at.saturating_duration_since(self.origin).as_secs_f64();
            self.failures.push(sample(t_s));
        }
    }

    /// Sends the current second to the timeline once the clock has moved past it.
    pub fn roll(&mut self, now: Instant) {
        let sec = now.saturating_duration_since(self.origin).as_secs();
        if sec > self.second.sec {
            let done = std::mem::replace(&mut self.second, SecondRecord::new(sec));
            self.unsent.push_back(done);
            self.flush();
        }
    }

    /// Sends the seconds waiting, in order, while the channel has room.
    fn flush(&mut self) {
        let Some(out) = &self.seconds_out else {
            self.unsent.clear();
            return;
        };
        while let Some(rec) = self.unsent.pop_front() {
            match out.try_send((self.lane, rec)) {
                Ok(()) => {}
                Err(TrySendError::Full((_, rec))) => {
                    self.unsent.push_front(rec);
                    return;
                }
                Err(TrySendError::Closed(_)) => {
                    self.unsent.clear();
                    return;
                }
            }
        }
    }

    /// Sends the last, partial second and any still waiting; the lane's work is over, so
    /// this one may wait for room.
    pub fn finish(&mut self) {
        let last = std::mem::replace(&mut self.second, SecondRecord::new(0));
        self.unsent.push_back(last);
        if let Some(out) = self.seconds_out.take() {
            for rec in self.unsent.drain(..) {
                if out.blocking_send((self.lane, rec)).is_err() {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::ThrottleKind;

    fn attempt(
        scheduled: Instant,
        sent: Option<Instant>,
        done: Instant,
        outcome: Outcome,
        paced: bool,
    ) -> AttemptEnded {
        AttemptEnded {
            stage: 0,
            scheduled,
            sent,
            done,
            outcome,
            status: None,
            paced,
            first: true,
            entry: 0,
            phases: Default::default(),
        }
    }

    fn end(outcome: Outcome, attempts: u32) -> RequestEnd {
        RequestEnd {
            outcome,
            attempts,
            gave_up: false,
            out_of_budget: false,
            backoff: Duration::ZERO,
        }
    }

    #[test]
    fn latency_runs_from_the_schedule_and_service_from_the_send() {
        let origin = Instant::now();
        let mut r = LaneRecorder::new(origin, 0, 1, None);
        let scheduled = origin + Duration::from_millis(10);
        let sent = scheduled + Duration::from_millis(5);
        let done = sent + Duration::from_millis(20);
        r.on_dispatch((0, 0), sent, (1, 1), true);
        r.on_attempt(&attempt(scheduled, Some(sent), done, Outcome::Ok, true));
        r.on_request((0, 0), scheduled, done, &end(Outcome::Ok, 1));
        let s = &r.stages[0];
        assert_eq!(
            (s.counts.requests, s.counts.first_try_ok, s.counts.late),
            (1, 1, 1)
        );
        assert!((s.latency.max() as i64 - 25_000).abs() <= 25);
        assert!((s.service.max() as i64 - 20_000).abs() <= 20);
        assert_eq!(s.peak_in_flight, 1);
    }

    #[test]
    fn a_requests_cell_records_latencies_as_the_stage_does() {
        let origin = Instant::now();
        let mut r = LaneRecorder::new(origin, 0, 1, None).with_requests(2);
        let scheduled = origin + Duration::from_millis(10);
        let done = scheduled + Duration::from_millis(250);
        r.on_dispatch((0, 1), scheduled, (1, 1), true);
        let mut a = attempt(scheduled, Some(scheduled), done, Outcome::Ok, false);
        a.entry = 1;
        r.on_attempt(&a);
        r.on_request((0, 1), scheduled, done, &end(Outcome::Ok, 1));
        let s = &r.stages[0];
        assert!(s.by_request[0].is_none(), "made on first use only");
        let cell = s.by_request[1].as_deref().unwrap();
        assert_eq!((cell.counts.requests, cell.counts.attempts.sent), (1, 1));
        // Two significant digits: within 1% of what the stage holds.
        for (c, w) in [(&cell.latency, &s.latency), (&cell.service, &s.service)] {
            let (c, w) = (c.max() as f64, w.max() as f64);
            assert!((c - w).abs() <= w / 100.0, "{c} against {w}");
        }
        // Without [[requests]], no cell at all.
        let mut plain = LaneRecorder::new(origin, 0, 1, None);
        plain.on_request((0, 0), scheduled, done, &end(Outcome::Ok, 1));
        assert!(plain.stages[0].by_request.is_empty());
    }

    #[test]
    fn the_live_counters_count_what_the_stage_record_counts() {
        use crate::record::live::Counters;
        use stampede_results::AttemptClass;
        let origin = Instant::now();
        let live = Counters::new(1, 2, (2, 0));
        let mut r = LaneRecorder::new(origin, 0, 2, None)
            .with_requests(2)
            .with_live(live.lane(0));
        let t = origin + Duration::from_millis(50);
        let throttle = Outcome::Throttled(ThrottleKind::LambdaAccount);
        let mut a = attempt(origin, Some(t), t, throttle, false);
        (a.stage, a.entry) = (1, 1);
        r.on_attempt(&a);
        r.on_retry((1, 1), RetryCause::Throttle);
        a.outcome = Outcome::Timeout;
        r.on_attempt(&a);
        r.on_request((1, 1), origin, t, &end(Outcome::Timeout, 2));
        r.on_abandoned_attempt((1, 1));
        r.on_abandoned_request(1, Some(1));
        r.on_abandoned_request(1, None);
        r.on_never_sent(1, 2);
        let c = r.stages[1].counts;
        let cells = live.read();
        let sum = |f: &dyn Fn(&crate::record::live::CellTotals) -> u64| -> u64 {
            cells.iter().filter(|x| x.stage == 1).map(f).sum()
        };
        for (i, class) in AttemptClass::ALL.iter().enumerate() {
            assert_eq!(sum(&|x| x.attempts[i]), c.attempts.get(*class), "{class:?}");
        }
        assert_eq!(
            [
                sum(&|x| x.requests[0]),
                sum(&|x| x.requests[1]),
                sum(&|x| x.requests[2])
            ],
            [c.ok, c.throttled, c.errors]
        );
        assert_eq!(sum(&|x| x.requests[3]), c.abandoned_requests);
        assert_eq!(sum(&|x| x.retries), c.retries);
        assert_eq!(sum(&|x| x.latency_buckets.iter().sum()), c.requests);
        assert!(cells.iter().filter(|x| x.stage == 0).all(|x| x.is_empty()));
    }

    #[test]
    fn attempts_and_requests_are_counted_apart() {
        let origin = Instant::now();
        let mut r = LaneRecorder::new(origin, 0, 1, None);
        let t = origin + Duration::from_millis(50);
        let throttle = Outcome::Throttled(ThrottleKind::ApiGateway);
        r.on_attempt(&attempt(origin, Some(t), t, throttle, false));
        r.on_retry((0, 0), RetryCause::Throttle);
        r.on_attempt(&attempt(origin, None, t, Outcome::ConnectError, false));
        r.on_retry((0, 0), RetryCause::Connect);
        r.on_attempt(&attempt(origin, Some(t), t, Outcome::Ok, false));
        r.on_request((0, 0), origin, t, &end(Outcome::Ok, 3));
        let c = r.stages[0].counts;
        assert_eq!((c.requests, c.ok, c.first_try_ok, c.errors), (1, 1, 0, 0));
        assert_eq!(
            (c.attempts.throttled, c.attempts.connect_errors, c.retries),
            (1, 1, 2)
        );
        assert_eq!(c.throttles_by_kind.get(ThrottleKind::ApiGateway), 1);
        assert_eq!(c.attempts_used[2], 1);
        assert_eq!(c.late, 0, "unpaced attempts are never late");
    }

    #[test]
    fn seconds_roll_over_to_the_timeline() {
        let origin = Instant::now();
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let mut r = LaneRecorder::new(origin, 3, 1, Some(tx));
        r.on_dispatch((0, 0), origin, (1, 1), true);
        r.on_dispatch((0, 0), origin + Duration::from_millis(1500), (2, 2), true);
        let (lane, first) = rx.try_recv().unwrap();
        assert_eq!((lane, first.sec, first.sent), (3, 0, 1));
        // A full channel never blocks the lane: the second waits and goes out in order.
        r.on_dispatch((0, 0), origin + Duration::from_millis(2500), (3, 3), true);
        r.on_dispatch((0, 0), origin + Duration::from_millis(3500), (4, 4), true);
        let (_, second) = rx.try_recv().unwrap();
        assert_eq!(second.sec, 1);
        assert!(rx.try_recv().is_err(), "the channel holds one");
        std::thread::spawn(move || r.finish());
        let secs: Vec<u64> =
            std::iter::from_fn(|| rx.blocking_recv().map(|(_, s)| s.sec)).collect();
        assert_eq!(secs, vec![2, 3]);
    }

    fn sample(i: usize, kind: &str) -> impl FnOnce(f64) -> FailureSample + '_ {
        move |t_s| FailureSample {
            correlation_id: Some(format!("id-{i}")),
            t_s,
            stage: "s".into(),
            attempt: 1,
            status: None,
            kind: kind.into(),
            body_excerpt: None,
            request: None,
        }
    }

    #[test]
    fn failure_samples_are_bounded_per_kind_so_a_later_kind_is_kept() {
        let origin = Instant::now();
        let mut r = LaneRecorder::new(origin, 0, 1, None);
        let throttle = Outcome::Throttled(ThrottleKind::Other);
        for i in 0..100 {
            let at = origin + Duration::from_millis(i as u64);
            r.on_failure(throttle, sample(i, "throttled:other_429"), at);
        }
        for i in 100..110 {
            let at = origin + Duration::from_millis(i as u64);
            r.on_failure(Outcome::ServerError, sample(i, "server_error"), at);
        }
        assert_eq!(r.failures.len(), FAILURE_SAMPLES + 10);
        assert_eq!(r.failures[0].correlation_id.as_deref(), Some("id-0"));
        let picked = pick_samples(r.failures, FAILURE_SAMPLES);
        assert_eq!(picked.len(), FAILURE_SAMPLES);
        let kinds = |k: &str| picked.iter().filter(|f| f.kind == k).count();
        assert_eq!(
            (kinds("throttled:other_429"), kinds("server_error")),
            (10, 10)
        );
        assert!(picked.windows(2).all(|w| w[0].t_s <= w[1].t_s));
        assert_eq!(picked[0].correlation_id.as_deref(), Some("id-0"));
        assert_eq!(picked[10].correlation_id.as_deref(), Some("id-100"));
    }

    #[test]
    fn picking_takes_one_of_every_kind_first_then_the_earliest() {
        let at = |t_s: f64, kind: &str| FailureSample {
            t_s,
            ..sample(0, kind)(0.0)
        };
        let samples = vec![
            at(5.0, "timeout"),
            at(1.0, "server_error"),
            at(2.0, "server_error"),
            at(3.0, "server_error"),
            at(9.0, "connect_error"),
        ];
        let picked = pick_samples(samples.clone(), 3);
        let seen: Vec<(f64, &str)> = picked.iter().map(|f| (f.t_s, f.kind.as_str())).collect();
        assert_eq!(
            seen,
            [
                (1.0, "server_error"),
                (5.0, "timeout"),
                (9.0, "connect_error")
            ]
        );
        let picked = pick_samples(samples, 4);
        let times: Vec<f64> = picked.iter().map(|f| f.t_s).collect();
        assert_eq!(times, [1.0, 2.0, 5.0, 9.0]);
    }
}
