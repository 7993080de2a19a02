//! One engine lane: a thread with its own single-threaded runtime, connections and
//! recorder. Lane `k` of `n` takes every n-th request of the schedule and every n-th
//! worker, so lanes share nothing on the hot path but two atomic counters.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Notify;

use super::abandon::Unfinished;
use super::ids::{lane_rng, request_seed, IdSource, RequestIdHeaders};
use super::pool::Pool;
use super::timer::PreciseTimer;
use super::Shared;
use crate::adaptive::ClientRateLimiter;
use crate::classify::{LocalReason, Outcome};
use crate::record::{AttemptEnded, FailureSample, LaneRecorder, RequestEnd};
use crate::retry::{parse_retry_after, retry_delay};
use crate::schedule::{Pacing, StagePlan};
use crate::transport::{Connection, Failure, Transport};

/// Waits shorter than this are spent yielding (reading answers) rather than sleeping.
const SPIN_WINDOW: Duration = Duration::from_micros(5);
/// After a failed connect (or a local failure), a closed-model worker waits this long
/// before trying again.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);
/// Past a second's end before a quiet lane hands it over: answers right at the edge land first.
const ROLL_LAG: Duration = Duration::from_millis(5);

pub struct Lane {
    id: u64,
    pub(super) shared: Arc<Shared>,
    pool: Rc<Pool>,
    pub rec: RefCell<LaneRecorder>,
    /// Live tasks of this lane (requests and closed-model workers): what `drain` waits for.
    live_tasks: Cell<u64>,
    idle: Notify,
    /// Open-model and burst requests of this lane dispatched and not yet ended, for its
    /// `--max-in-flight` share.
    capped_requests: Cell<u64>,
    slot_freed: Notify,
    max_in_flight: u64,
    /// `None`: no timerfd could be made; tokio's timer paces instead.
    timer: Option<PreciseTimer>,
    /// Adaptive mode's client-side rate limiter (one per lane, as one per SDK client).
    limiter: RefCell<Option<ClientRateLimiter>>,
    /// Requests waiting for the limiter take turns here (tokio's mutex is first come, first served).
    limiter_turn: tokio::sync::Mutex<()>,
    rng: RefCell<fastrand::Rng>,
    ids: RefCell<IdSource>,
}

impl Lane {
    pub fn new(
        id: usize,
        shared: Arc<Shared>,
        transport: Transport,
        rec: LaneRecorder,
        timer: Option<PreciseTimer>,
    ) -> Lane {
        let lanes = shared.lanes as u64;
        let max_in_flight = shared.max_in_flight.div_ceil(lanes).max(1);
        Lane {
            id: id as u64,
            pool: Pool::new(transport),
            rec: RefCell::new(rec),
            live_tasks: Cell::new(0),
            idle: Notify::new(),
            capped_requests: Cell::new(0),
            slot_freed: Notify::new(),
            max_in_flight,
            timer,
            limiter: RefCell::new(
                shared
                    .spec
                    .retry
                    .adaptive
                    .then(|| ClientRateLimiter::new(shared.seconds_since_origin())),
            ),
            limiter_turn: tokio::sync::Mutex::new(()),
            rng: RefCell::new(lane_rng(shared.spec.seed, id)),
            // Never from the seed: a service that remembers idempotency keys would take a
            // second run's requests for replays of the first's.
            ids: RefCell::new(IdSource::new(shared.spec.run_id, id, fastrand::Rng::new())),
            shared,
        }
    }

    /// Runs every stage in order, then waits for what is still in flight.
    pub async fn run(self: &Rc<Self>, plans: &[StagePlan]) {
        // Not a counted task: the run does not wait for it, it ends with the lane.
        tokio::task::spawn_local(Rc::clone(self).roll_every_second());
        let mut origin = self.shared.origin;
        for (index, plan) in plans.iter().enumerate() {
            if self.shared.stopping() {
                break;
            }
            if self.id == 0 {
                self.shared.current_stage.store(index, Relaxed);
            }
            origin = match plan {
                StagePlan::Open(pacing) => {
                    self.dispatch_open(index, pacing, origin).await;
                    origin + pacing.duration()
                }
                StagePlan::Burst { requests } => {
                    match self.dispatch_burst(index, *requests, origin).await {
                        Some(next) => next,
                        None => break,
                    }
                }
                StagePlan::Closed { workers, duration } => {
                    if !self.sleep_until(origin).await {
                        break;
                    }
                    let end = origin + *duration;
                    let step = self.shared.lanes as u64;
                    // Worker w of the whole stage, dealt round-robin: w = id, id + lanes, …
                    for worker in (self.id..*workers).step_by(step as usize) {
                        self.spawn_task(Rc::clone(self).closed_worker(index, worker, end));
                    }
                    end
                }
                StagePlan::Pause { duration } => origin + *duration,
            };
        }
        // The last stage's end (a pause or a closed stage's workers) still belongs to the run.
        self.sleep_until(origin).await;
        // Whatever the server says, the run ends: what is still in flight or backing off
        // gets one attempt timeout and the grace period, then is abandoned (and counted).
        self.drain(Some(
            origin + self.pool.transport.timeout + self.shared.grace,
        ))
        .await;
    }

    /// Open model: each of this lane's requests goes out at its instant, whatever the server does.
    async fn dispatch_open(self: &Rc<Self>, stage: usize, pacing: &Pacing, origin: Instant) {
        let step = self.shared.lanes as u64;
        let mut i = self.id;
        let mut since_yield = 0u32;
        while i < pacing.count() {
            let due = origin + pacing.offset(i);
            if !self.sleep_until(due).await {
                return;
            }
            if self.capped_requests.get() >= self.max_in_flight {
                self.rec.borrow_mut().on_held_back(stage);
                while self.capped_requests.get() >= self.max_in_flight {
                    self.slot_freed.notified().await;
                }
            }
            // Take a connection before spawning: requests that wait for one stay a number
            // here rather than tasks that crowd the run queue and slow every answer.
            let conn = match self.pool.take_idle() {
                Some(c) => Ok(c),
                None => tokio::select! {
                    c = self.pool.checkout(due) => c,
                    _ = self.shared.stop_signal() => return,
                },
            };
            self.spawn_request(stage, i, due, true, Some(conn));
            i += step;
            // Let answers be read between long runs of due sends.
            since_yield += 1;
            if since_yield == 64 {
                since_yield = 0;
                tokio::task::yield_now().await;
            }
        }
    }

    /// Opens this lane's share of connections, agrees one instant with the other lanes,
    /// releases every request at it, and waits for them. Returns the next stage's origin.
    async fn dispatch_burst(
        self: &Rc<Self>,
        stage: usize,
        requests: u64,
        origin: Instant,
    ) -> Option<Instant> {
        if !self.sleep_until(origin).await {
            return None;
        }
        let mine = share_of(requests, self.id, self.shared.lanes as u64);
        self.pool.prefill(mine as usize).await;
        let release = self
            .agree(|| Instant::now() + Duration::from_millis(2))
            .await?;
        if !self.sleep_until(release).await {
            return None;
        }
        let lanes = self.shared.lanes as u64;
        for k in 0..mine {
            let conn = self.pool.take_idle().map(Ok);
            // Request k of this lane is request id + k·lanes of the burst.
            self.spawn_request(stage, self.id + k * lanes, release, false, conn);
        }
        // Stragglers (a server holding answers back) go on into the next stage rather than
        // holding it up past one attempt timeout and the grace period.
        let limit = release + self.pool.transport.timeout + self.shared.grace;
        self.drain(Some(limit)).await;
        self.agree(Instant::now).await
    }

    /// Closed model: send, wait for the answer, send again, until `end`. `worker` is its
    /// number in the stage, for reproducible jitter.
    async fn closed_worker(self: Rc<Self>, stage: usize, worker: u64, end: Instant) {
        let mut conn = None;
        let mut sent = 0u64;
        while !self.shared.stopping() && Instant::now() < end {
            let key = (worker << 32) | (sent & 0xFFFF_FFFF);
            sent += 1;
            let (next, outcome) = self
                .request(stage, key, Instant::now(), conn.take().map(Ok), false)
                .await;
            conn = next;
            let no_connection = matches!(outcome, Outcome::ConnectError | Outcome::TlsError);
            if (no_connection || matches!(outcome, Outcome::LocalError(_))) && conn.is_none() {
                tokio::time::sleep(RECONNECT_PAUSE).await;
            }
        }
        if let Some(c) = conn {
            self.pool.checkin(c);
        }
    }

    /// An open-model or burst request (number `index` of its stage): in flight (for the
    /// cap) from now until it ends.
    fn spawn_request(
        self: &Rc<Self>,
        stage: usize,
        index: u64,
        scheduled: Instant,
        paced: bool,
        conn: Option<Result<Connection, Failure>>,
    ) {
        self.capped_requests.set(self.capped_requests.get() + 1);
        let lane = Rc::clone(self);
        self.spawn_task(async move {
            if let (Some(conn), _) = lane.request(stage, index, scheduled, conn, paced).await {
                lane.pool.checkin(conn);
            }
            let left = lane.capped_requests.get() - 1;
            lane.capped_requests.set(left);
            if left < lane.max_in_flight {
                lane.slot_freed.notify_one();
            }
        });
    }

    /// A logical request: attempts, with backoff between them as the retry policy says.
    /// Its latency runs from `scheduled` to its last answer, backoff included. `key` names
    /// it within its stage (its jitter comes from the seed and the key, whichever lane
    /// sends it). Returns the last connection when it can carry another request, and the
    /// final outcome.
    async fn request(
        &self,
        stage: usize,
        key: u64,
        scheduled: Instant,
        mut conn: Option<Result<Connection, Failure>>,
        paced: bool,
    ) -> (Option<Connection>, Outcome) {
        let spec = &self.shared.spec;
        let policy = &spec.retry;
        let ids = self.ids.borrow_mut().next(&spec.request);
        // Counts the request as abandoned if the run drops it before it ends.
        let mut unfinished = Unfinished::request(self, stage);
        let mut jitter: Option<fastrand::Rng> = None;
        let deadline = policy.deadline.map(|d| scheduled + d);
        let mut end = RequestEnd {
            outcome: Outcome::Ok,
            attempts: 0,
            gave_up: false,
            out_of_budget: false,
            backoff: Duration::ZERO,
        };
        let mut prev_sleep = None;
        let last_conn = loop {
            end.attempts += 1;
            if !self.wait_for_client_rate().await {
                break None;
            }
            let attempt = self
                .attempt(
                    stage,
                    scheduled,
                    conn.take(),
                    paced && end.attempts == 1,
                    &ids,
                    end.attempts,
                )
                .await;
            end.outcome = attempt.outcome;
            if let Some(limiter) = self.limiter.borrow_mut().as_mut() {
                limiter.update(
                    attempt.outcome.is_throttle(),
                    self.shared.seconds_since_origin(),
                );
                self.rec.borrow_mut().on_client_rate(limiter.rate());
            }
            let Some(cause) = policy.retryable(attempt.outcome) else {
                if attempt.outcome == Outcome::Ok && end.attempts == 1 {
                    self.shared.budget.refund_first_try();
                }
                break attempt.conn;
            };
            let retries_on = policy.max_attempts > 1;
            if end.attempts >= policy.max_attempts {
                end.gave_up = retries_on;
                break attempt.conn;
            }
            if !self.shared.budget.try_spend(cause) {
                (end.gave_up, end.out_of_budget) = (true, true);
                break attempt.conn;
            }
            let rng = jitter.get_or_insert_with(|| self.request_rng(stage, key));
            let delay = retry_delay(
                &policy.backoff,
                end.attempts - 1,
                prev_sleep,
                attempt.retry_after,
                policy.respect_retry_after,
                rng,
            );
            if deadline.is_some_and(|d| Instant::now() + delay >= d) {
                end.gave_up = true;
                break attempt.conn;
            }
            // The connection serves others while this request backs off.
            if let Some(c) = attempt.conn {
                self.pool.checkin(c);
            }
            let slept = tokio::select! {
                _ = tokio::time::sleep(delay) => true,
                _ = self.shared.stop_signal() => false,
            };
            if !slept {
                break None;
            }
            end.backoff += delay;
            prev_sleep = Some(delay);
            self.rec.borrow_mut().on_retry(stage, cause);
        };
        unfinished.done();
        self.rec
            .borrow_mut()
            .on_request(stage, scheduled, Instant::now(), &end);
        (last_conn, end.outcome)
    }

    /// The random source of one request's backoff: from the seed, the stage and the
    /// request's key when the scenario has a seed (so runs repeat whatever `--threads`),
    /// else fresh.
    fn request_rng(&self, stage: usize, key: u64) -> fastrand::Rng {
        match self.shared.spec.seed {
            Some(seed) => fastrand::Rng::with_seed(request_seed(seed, stage as u64, key)),
            None => fastrand::Rng::with_seed(self.rng.borrow_mut().u64(..)),
        }
    }

    /// Adaptive mode: waits for the client-side rate limiter's token, in turn (one waiter
    /// at the timer, the rest queued behind it). False when stopped.
    async fn wait_for_client_rate(&self) -> bool {
        if self.limiter.borrow().is_none() {
            return true;
        }
        let _turn = tokio::select! {
            turn = self.limiter_turn.lock() => turn,
            _ = self.shared.stop_signal() => return false,
        };
        loop {
            let now = self.shared.seconds_since_origin();
            let wait = match self
                .limiter
                .borrow_mut()
                .as_mut()
                .map(|l| l.try_acquire(now))
            {
                Some(Err(wait)) => wait,
                _ => return true,
            };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs_f64(wait)) => {}
                _ = self.shared.stop_signal() => return false,
            }
        }
    }

    /// One attempt on `conn` (or its failure to connect), or on one from the pool when
    /// `None`. Returns the connection when it can carry another request.
    async fn attempt(
        &self,
        stage: usize,
        scheduled: Instant,
        conn: Option<Result<Connection, Failure>>,
        paced: bool,
        ids: &RequestIdHeaders,
        number: u32,
    ) -> AttemptEnd {
        let in_flight = self.shared.attempts_in_flight.fetch_add(1, Relaxed) + 1;
        let first = number == 1;
        self.rec
            .borrow_mut()
            .on_dispatch(stage, Instant::now(), in_flight, first);
        let mut unfinished = Unfinished::attempt(self, stage);

        let conn = match conn {
            Some(c) => c,
            None => self.pool.checkout(scheduled).await,
        };
        let transport = &self.pool.transport;
        let (sent, result, conn) = match conn {
            Ok(mut c) => {
                let sent = Instant::now();
                match tokio::time::timeout(transport.timeout, transport.send(&mut c, ids.iter()))
                    .await
                {
                    Ok(Ok(answer)) => (Some(sent), Ok(answer), Some(c)),
                    Ok(Err(failure)) => (Some(sent), Err(failure), None),
                    Err(_) => (Some(sent), Err(Failure::Timeout), None),
                }
            }
            Err(failure) => (None, Err(failure), None),
        };
        let done = Instant::now();
        let outcome = match &result {
            Ok(answer) => answer.outcome(),
            Err(failure) => failure.outcome(),
        };
        unfinished.done();
        self.shared.attempts_in_flight.fetch_sub(1, Relaxed);
        if let Err(Failure::Local(LocalReason::Credentials, why)) = &result {
            // Nothing can be signed any more: stop rather than fail every request.
            self.shared.fault(format!(
                "AWS credentials expired and could not be refreshed: {why}"
            ));
        }
        {
            let mut rec = self.rec.borrow_mut();
            rec.on_attempt(&AttemptEnded {
                stage,
                scheduled,
                sent,
                done,
                outcome,
                paced,
                first,
            });
            if outcome != Outcome::Ok {
                let spec = &self.shared.spec;
                rec.on_failure(
                    |t_s| FailureSample {
                        correlation_id: spec
                            .request
                            .correlation_header
                            .as_ref()
                            .and_then(|h| ids.iter().find(|(n, _)| n == h))
                            .and_then(|(_, v)| v.to_str().ok())
                            .map(str::to_string),
                        t_s,
                        stage: spec.stage_names[stage].clone(),
                        attempt: number,
                        status: result.as_ref().ok().map(|a| a.status),
                        kind: outcome.name(),
                        body_excerpt: match &result {
                            Ok(a) if !a.excerpt.is_empty() => Some(
                                String::from_utf8_lossy(&a.excerpt[..a.excerpt.len().min(200)])
                                    .into_owned(),
                            ),
                            Ok(_) => None,
                            Err(f) => Some(f.to_string()),
                        },
                    },
                    done,
                );
            }
        }

        let reusable = match conn {
            Some(c) if !c.is_closed() => Some(c),
            // It was open and is gone (closed by the server, broken, or timed out).
            Some(_) => {
                self.pool.discard();
                None
            }
            None if sent.is_some() => {
                self.pool.discard();
                None
            }
            None => None,
        };
        let retry_after = result
            .as_ref()
            .ok()
            .and_then(|a| a.retry_after.as_ref())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        AttemptEnd {
            conn: reusable,
            outcome,
            retry_after,
        }
    }

    /// Hands each second to the timeline as soon as it is over, even when this lane is
    /// quiet, so the live view and the abort rules see every second on time.
    async fn roll_every_second(self: Rc<Self>) {
        let origin = self.shared.origin;
        loop {
            let elapsed = Instant::now().saturating_duration_since(origin);
            let next = origin + Duration::from_secs(elapsed.as_secs() + 1) + ROLL_LAG;
            tokio::time::sleep_until(next.into()).await;
            self.rec.borrow_mut().roll(Instant::now());
        }
    }

    fn spawn_task(self: &Rc<Self>, task: impl std::future::Future<Output = ()> + 'static) {
        self.live_tasks.set(self.live_tasks.get() + 1);
        let lane = Rc::clone(self);
        tokio::task::spawn_local(async move {
            task.await;
            let left = lane.live_tasks.get() - 1;
            lane.live_tasks.set(left);
            if left == 0 {
                lane.idle.notify_one();
            }
        });
    }

    /// Waits for every task of this lane to end: until `limit` at most, and after a stop
    /// for the grace period at most. Tasks still alive then are left to the caller.
    async fn drain(&self, limit: Option<Instant>) {
        let limit = limit.map(tokio::time::Instant::from);
        let mut deadline = limit;
        let mut graced = false;
        while self.live_tasks.get() > 0 {
            if !graced && self.shared.stopping() {
                graced = true;
                let grace_end = tokio::time::Instant::now() + self.shared.grace_left();
                deadline = Some(deadline.map_or(grace_end, |d| d.min(grace_end)));
            }
            match deadline {
                Some(d) => tokio::select! {
                    _ = self.idle.notified() => {}
                    _ = tokio::time::sleep_until(d) => break,
                    _ = self.shared.abandon_signal() => break,
                },
                None => tokio::select! {
                    _ = self.idle.notified() => {}
                    _ = self.shared.stop_signal() => {}
                },
            }
        }
    }

    /// Sleeps until `due`, precisely: a timerfd for waits that matter, yielding (reading
    /// answers meanwhile) for the last few µs. Returns false when the run was stopped.
    async fn sleep_until(&self, due: Instant) -> bool {
        loop {
            let now = Instant::now();
            if now >= due {
                break;
            }
            if due - now > SPIN_WINDOW {
                let precise = async {
                    match &self.timer {
                        Some(t) => t.sleep_until(due).await,
                        None => Err(std::io::ErrorKind::Unsupported.into()),
                    }
                };
                tokio::select! {
                    slept = precise => {
                        if slept.is_err() {
                            // No timerfd: tokio's millisecond timer is the fallback.
                            tokio::time::sleep_until(due.into()).await;
                        }
                    }
                    _ = self.shared.stop_signal() => return false,
                }
            } else {
                tokio::task::yield_now().await;
            }
        }
        !self.shared.stopping()
    }

    /// Every lane waits here; one of them picks the instant (`pick`), all return it.
    /// `None` when the run was stopped meanwhile.
    async fn agree(&self, pick: impl FnOnce() -> Instant) -> Option<Instant> {
        let shared = &self.shared;
        let leader = tokio::select! {
            r = shared.barrier.wait() => r.is_leader(),
            _ = shared.stop_signal() => return None,
        };
        if leader {
            shared.agreed_us.store(shared.micros(pick()), Relaxed);
        }
        tokio::select! {
            _ = shared.barrier.wait() => {}
            _ = shared.stop_signal() => return None,
        }
        Some(shared.origin + Duration::from_micros(shared.agreed_us.load(Relaxed)))
    }
}

/// How an attempt ended, for the caller.
struct AttemptEnd {
    /// The connection, when it can carry another request.
    conn: Option<Connection>,
    outcome: Outcome,
    /// What the server's `Retry-After` asked for.
    retry_after: Option<Duration>,
}

/// Lane `id`'s part of `total` items dealt round-robin to `lanes` lanes.
fn share_of(total: u64, id: u64, lanes: u64) -> u64 {
    total / lanes + u64::from(id < total % lanes)
}

#[cfg(test)]
mod tests {
    use super::share_of;

    #[test]
    fn shares_add_up() {
        for (total, lanes) in [(5000, 2), (7, 3), (1, 4), (0, 2)] {
            let sum: u64 = (0..lanes).map(|id| share_of(total, id, lanes)).sum();
            assert_eq!(sum, total);
        }
        assert_eq!(share_of(7, 0, 3), 3);
        assert_eq!(share_of(7, 2, 3), 2);
    }
}
