//! How a lane sends each kind of stage: open-model pacing, the burst's release at one
//! agreed instant, and closed-model workers.

use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::{Lane, RECONNECT_PAUSE};
use crate::classify::Outcome;
use crate::engine::abandon::Dispatched;
use crate::engine::numbering;
use crate::scenario::shard::share_of;
use crate::schedule::{Pacing, StagePlan};
use crate::transport::{Connection, Failure};

/// Where a closed worker's think pauses are drawn from (apart from its requests' keys).
const THINK_KEY: u64 = 0x636c_6f73_6564_7468;

impl Lane {
    /// Open model: each of this lane's requests goes out at its instant, whatever the server does.
    pub(super) async fn dispatch_open(
        self: &Rc<Self>,
        stage: usize,
        pacing: &Pacing,
        origin: Instant,
    ) {
        let step = self.parts;
        let mut i = self.first_due(stage, pacing, origin);
        let mut since_yield = 0u32;
        // Requests held back by the in-flight cap wait no longer than the run may last:
        // the stage's end, one attempt timeout and the grace period.
        let end = origin + pacing.duration() + self.pool.transport.timeout + self.shared.grace;
        while i < pacing.count() {
            if self.data_exhausted.get() {
                // The rows ran out: this lane's rest of the stage is not sent.
                let rest = (pacing.count() - i).div_ceil(step);
                self.rec.borrow_mut().on_data_exhausted(stage, rest);
                return;
            }
            let due = origin + pacing.offset(i);
            if !self.sleep_until(due).await {
                return;
            }
            if !self.shared.try_take_slot() {
                self.rec.borrow_mut().on_held_back(stage);
                if !self.shared.wait_for_slot(end).await {
                    self.never_sent(stage, pacing, origin, i);
                    return;
                }
            }
            // Take a connection before spawning: requests that wait for one stay a number
            // here rather than tasks that crowd the run queue and slow every answer.
            // With a connection per request (or per flow), each task opens its own
            // (connects run side by side; their time is the request's).
            let conn = match self.pool.take_idle() {
                Some(c) => Some(Ok(c)),
                None if self.pool.opens_own() => None,
                None => Some(tokio::select! {
                    c = self.pool.checkout(due) => c,
                    _ = self.shared.stop_signal() => {
                        self.shared.release_slot();
                        self.never_sent(stage, pacing, origin, i);
                        return;
                    }
                }),
            };
            self.spawn_request(stage, i, due, true, conn);
            i += step;
            // Let answers be read between long runs of due sends.
            since_yield += 1;
            if since_yield == 64 {
                since_yield = 0;
                tokio::task::yield_now().await;
            }
        }
    }

    /// Request `i` of this lane, due and held back, will never be sent (the run stopped, or
    /// its time ran out): it is abandoned, with this lane's others due by now — or all the
    /// rest of the stage, when the run was not stopped but ran out of time.
    fn never_sent(&self, stage: usize, pacing: &Pacing, origin: Instant, i: u64) {
        let due = if self.shared.stopping() {
            let now = Instant::now().saturating_duration_since(origin);
            pacing.due_before(now.as_secs_f64()).max(i + 1)
        } else {
            pacing.count()
        };
        let mine = share_of(due, self.part, self.parts) - share_of(i, self.part, self.parts);
        self.rec.borrow_mut().on_never_sent(stage, mine);
    }

    /// This lane's first request of an open stage: its first, or after a late start the
    /// first due at or after the start (the ones before are counted as skipped).
    fn first_due(&self, stage: usize, pacing: &Pacing, origin: Instant) -> u64 {
        let Some(begin) = self.shared.skip_before.filter(|b| origin < *b) else {
            return self.part;
        };
        self.rec.borrow_mut().on_stage_skipped_from(stage, origin);
        // Global requests due before the start: 0..missed.
        let missed = pacing.due_before(begin.duration_since(origin).as_secs_f64());
        let mine = share_of(missed, self.part, self.parts);
        self.shared.skipped.fetch_add(mine, Relaxed);
        self.part + mine * self.parts
    }

    /// Before time zero, when it waits for connections: opens this lane's share of the first
    /// stage's (a burst's requests, closed-model workers), then agrees time zero with the
    /// other lanes, just ahead. False when the run was stopped meanwhile.
    pub(super) async fn open_before_zero(self: &Rc<Self>, first: &StagePlan) -> bool {
        let wanted = match first {
            StagePlan::Burst { requests: n } | StagePlan::Closed { workers: n, .. } => {
                share_of(*n, self.part, self.parts)
            }
            StagePlan::Open(_) | StagePlan::Pause { .. } => 0,
        };
        tokio::select! {
            _ = self.pool.prefill(wanted as usize) => {}
            _ = self.shared.stop_signal() => return false,
        }
        let Some(zero) = self
            .agree(|| Instant::now() + super::super::ZERO_AFTER_CONNECTING)
            .await
        else {
            return false;
        };
        // Every lane stores the same instant.
        let shared = &self.shared;
        shared.origin_us.store(shared.micros(zero), Relaxed);
        true
    }

    /// Opens this lane's share of connections, agrees one instant with the other lanes,
    /// releases every request at it, and waits for them. Returns the next stage's origin.
    pub(super) async fn dispatch_burst(
        self: &Rc<Self>,
        stage: usize,
        requests: u64,
        origin: Instant,
    ) -> Option<Instant> {
        let mine = share_of(requests, self.part, self.parts);
        if self.shared.skip_before.is_some_and(|begin| origin < begin) {
            // Due before a late start: the burst was the other shards' moment, not ours.
            self.shared.skipped.fetch_add(mine, Relaxed);
            self.rec.borrow_mut().on_stage_skipped_from(stage, origin);
            return Some(origin);
        }
        // Connections first, then the release: at the stage's instant when they are ready
        // by then (shards started together release together), else as soon as they are.
        tokio::select! {
            _ = self.pool.prefill(mine as usize) => {}
            _ = self.shared.stop_signal() => return None,
        }
        let release = self
            .agree(|| origin.max(Instant::now() + Duration::from_millis(2)))
            .await?;
        if !self.sleep_until(release).await {
            return None;
        }
        for k in 0..mine {
            self.shared.take_slot_anyway();
            let conn = self.pool.take_idle().map(Ok);
            // Request k of this lane is request part + k·parts of the burst.
            self.spawn_request(stage, self.part + k * self.parts, release, false, conn);
        }
        // Stragglers (a server holding answers back) go on into the next stage rather than
        // holding it up past one attempt timeout and the grace period.
        let limit = release + self.pool.transport.timeout + self.shared.grace;
        self.drain(Some(limit)).await;
        self.agree(Instant::now).await
    }

    /// Closed model: send, wait for the answer, send again, until `end`. `worker` is its
    /// number in the stage, for reproducible jitter. A request that ended throttled is
    /// followed by a pause, as long as the retry policy would back off before one more
    /// retry: a throttled closed loop would otherwise ask again at once, as fast as the
    /// throttle answers. Each request waits for the rate ceiling (`max_rate`) first.
    pub(super) async fn closed_worker(
        self: Rc<Self>,
        stage: usize,
        (worker, workers): (u64, u64),
        end: Instant,
    ) {
        let base = self.base(stage);
        let think = self.shared.spec.stage_think.get(stage).copied().flatten();
        let mut think_rng = None;
        let mut conn = None;
        let mut sent = 0u64;
        loop {
            if self.shared.stopping() || Instant::now() >= end || self.data_exhausted.get() {
                break;
            }
            if !self.wait_for_rate_gate().await {
                break;
            }
            let now = Instant::now();
            if now >= end {
                break;
            }
            let key = (worker << 32) | (sent & 0xFFFF_FFFF);
            let k = numbering::closed_number(base, worker, sent, workers);
            sent += 1;
            // The request's time starts once it has a connection, as wrk's and oha's do:
            // a first request does not count the queue of 10,000 connects before it.
            // With a connection per request, its connect and handshake are its own time: the
            // attempt opens it.
            let (ready, start) = match conn.take() {
                Some(c) => (Some(Ok(c)), now),
                None if self.pool.opens_own() => (None, now),
                None => tokio::select! {
                    c = self.pool.own() => (Some(c), Instant::now()),
                    _ = self.shared.stop_signal() => break,
                },
            };
            let (next, outcome, attempts) = self.unit(stage, key, k, start, ready, false).await;
            conn = next;
            let no_connection = matches!(outcome, Outcome::ConnectError | Outcome::TlsError);
            let pause = if (no_connection || matches!(outcome, Outcome::LocalError(_)))
                && conn.is_none()
            {
                RECONNECT_PAUSE
            } else if outcome.is_throttle() || outcome == Outcome::SuspectedIntegrationThrottle {
                let backoff = &self.shared.spec.retry.backoff;
                backoff.delay(
                    attempts.saturating_sub(1),
                    None,
                    &mut self.request_rng(stage, key),
                )
            } else if let Some(think) = think {
                // A user's pause before the next request (or flow), drawn per worker.
                let rng =
                    think_rng.get_or_insert_with(|| self.request_rng(stage, THINK_KEY ^ worker));
                think.pick(rng.u64(..))
            } else {
                continue;
            };
            // Never past the stage's end: the next stage's workers start then.
            let until = (Instant::now() + pause).min(end);
            tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => {}
                _ = self.shared.stop_signal() => break,
            }
        }
        if let Some(c) = conn {
            self.pool.checkin(c);
        }
    }

    /// An open-model or burst request (number `index` of its stage), its slot under the
    /// in-flight cap taken: it holds the slot until it ends.
    fn spawn_request(
        self: &Rc<Self>,
        stage: usize,
        index: u64,
        scheduled: Instant,
        paced: bool,
        conn: Option<Result<Connection, Failure>>,
    ) {
        let mut dispatched = Dispatched::new(Rc::clone(self), stage);
        let lane = Rc::clone(self);
        let k = numbering::scheduled_number(self.base(stage), index);
        self.spawn_task(async move {
            dispatched.started();
            if let (Some(conn), ..) = lane.unit(stage, index, k, scheduled, conn, paced).await {
                lane.pool.checkin(conn);
            }
            drop(dispatched);
        });
    }
}
