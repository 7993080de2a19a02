//! One engine lane: a thread with its own single-threaded runtime, connections and
//! recorder. Lane `k` of `n` takes every n-th request of the schedule and every n-th
//! worker, so lanes share nothing on the hot path but two atomic counters.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::engine::ids::{lane_rng, IdSource};
use crate::engine::pool::Pool;
use crate::engine::timer::PreciseTimer;
use crate::engine::Shared;

mod dispatch;
mod flow;
mod request;
use crate::adaptive::ClientRateLimiter;
use crate::engine::numbering;
use crate::record::LaneRecorder;
use crate::scenario::shard::share_of;
use crate::schedule::StagePlan;
use crate::transport::{Rendered, Transport};
use stampede_mix::data::SourceReaders;

/// Waits shorter than this are spent yielding (reading answers) rather than sleeping.
const SPIN_WINDOW: Duration = Duration::from_micros(5);
/// After a failed connect (or a local failure), a closed-model worker waits this long
/// before trying again.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);
/// Past a second's end before a quiet lane hands it over: answers right at the edge land first.
const ROLL_LAG: Duration = Duration::from_millis(5);

pub struct Lane {
    id: u64,
    /// This lane's first item (request, worker, burst member) of each stage, and the
    /// stride between its items: its place among all lanes of all shards.
    part: u64,
    parts: u64,
    pub(super) shared: Arc<Shared>,
    pool: Rc<Pool>,
    pub rec: RefCell<LaneRecorder>,
    /// Live tasks of this lane (requests and closed-model workers): what `drain` waits for.
    live_tasks: Cell<u64>,
    idle: Notify,
    /// `None`: no timerfd could be made; tokio's timer paces instead.
    timer: Option<PreciseTimer>,
    /// Adaptive mode's client-side rate limiter (one per lane, as one per SDK client).
    limiter: RefCell<Option<ClientRateLimiter>>,
    /// Requests waiting for the limiter take turns here (tokio's mutex is first come, first served).
    limiter_turn: tokio::sync::Mutex<()>,
    rng: RefCell<fastrand::Rng>,
    ids: RefCell<IdSource>,
    /// `max_rate`: this lane's least gap between two gated attempts, and the next free slot.
    rate_gate: Option<(Duration, Cell<Instant>)>,
    /// Requests carry an idempotency key: one that went out on a connection the server
    /// had closed may be sent again whatever its method.
    keyed: bool,
    /// The first logical request number of each stage ([`numbering`]).
    bases: RefCell<Vec<u64>>,
    /// Renderings of templated requests, reused: one per logical request in flight.
    renderings: RefCell<Vec<Rendered>>,
    /// This lane's readers of the mix's data sources (`None`: it has none).
    readers: RefCell<Option<SourceReaders>>,
    /// A `unique` data source had no row for one of this lane's requests: every later
    /// one (a larger k) has none either, so the lane sends no more.
    data_exhausted: Cell<bool>,
    /// Flows' captured values, their vectors reused from flow to flow.
    captured_vecs: RefCell<Vec<request::Captured>>,
}

/// A lane's own readers of the data sources (its own file handles and block cache).
fn readers_of(shared: &Shared) -> Option<SourceReaders> {
    let data = &shared.spec.mix.data;
    if data.is_empty() {
        return None;
    }
    match SourceReaders::new(data) {
        Ok(r) => Some(r),
        Err(e) => {
            shared.fault(format!("data source: {e}"));
            None
        }
    }
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
        let (part, parts) = shared.spec.shard.lane_part(id as u64, lanes);
        let keyed = shared.spec.request.idempotency_header.is_some();
        Lane {
            keyed,
            bases: RefCell::new(Vec::new()),
            renderings: RefCell::new(Vec::new()),
            readers: RefCell::new(readers_of(&shared)),
            data_exhausted: Cell::new(false),
            captured_vecs: RefCell::new(Vec::new()),
            id: id as u64,
            part,
            parts,
            pool: Pool::new(transport),
            rec: RefCell::new(rec),
            live_tasks: Cell::new(0),
            idle: Notify::new(),
            timer,
            limiter: RefCell::new(
                shared
                    .spec
                    .retry
                    .adaptive
                    .then(|| ClientRateLimiter::new(shared.seconds_since_origin())),
            ),
            limiter_turn: tokio::sync::Mutex::new(()),
            rate_gate: shared.max_rate.filter(|r| *r > 0.0).map(|r| {
                (
                    Duration::from_secs_f64(lanes as f64 / r),
                    Cell::new(Instant::now()),
                )
            }),
            rng: RefCell::new(lane_rng(shared.spec.seed, id)),
            // Never from the seed: a service that remembers idempotency keys would take a
            // second run's requests for replays of the first's.
            ids: RefCell::new(IdSource::new(
                shared.spec.run_id,
                (!shared.spec.shard.is_whole()).then_some(shared.spec.shard.index),
                id,
                fastrand::Rng::new(),
            )),
            shared,
        }
    }

    /// Runs every stage in order, then waits for what is still in flight.
    pub async fn run(self: &Rc<Self>, plans: &[StagePlan]) {
        if self.shared.zero_after_connecting {
            if let Some(first) = plans.first() {
                if !self.open_before_zero(first).await {
                    return;
                }
            }
        }
        *self.bases.borrow_mut() = numbering::stage_bases(plans);
        let mut origin = self.shared.origin();
        self.rec.borrow_mut().set_origin(origin);
        // Not a counted task: the run does not wait for it, it ends with the lane.
        tokio::task::spawn_local(Rc::clone(self).roll_every_second());
        for (index, plan) in plans.iter().enumerate() {
            if self.shared.stopping() {
                break;
            }
            if self.id == 0 {
                self.shared.current_stage.store(index, Relaxed);
                let since_zero = origin.saturating_duration_since(self.shared.origin());
                if let Some(start) = self.shared.stage_starts_us.get(index) {
                    start.store(since_zero.as_micros() as u64, Relaxed);
                }
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
                    // Worker w of the whole stage (all shards), dealt round-robin.
                    let mine = (self.part..*workers).step_by(self.parts as usize);
                    // Connections first, as wrk opens them: a server busy answering the
                    // first workers accepts the rest too slowly, its listen queue
                    // overflows, and those connects wait out TCP's 1 s, 3 s, 7 s retries.
                    tokio::select! {
                        _ = self.pool.prefill(share_of(*workers, self.part, self.parts) as usize) => {}
                        _ = self.shared.stop_signal() => break,
                    }
                    for worker in mine {
                        let w = (worker, *workers);
                        self.spawn_task(Rc::clone(self).closed_worker(index, w, end));
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

    /// Hands each second to the timeline as soon as it is over, even when this lane is
    /// quiet, so the live view and the abort rules see every second on time.
    async fn roll_every_second(self: Rc<Self>) {
        let origin = self.shared.origin();
        loop {
            let elapsed = Instant::now().saturating_duration_since(origin);
            let next = origin + Duration::from_secs(elapsed.as_secs() + 1) + ROLL_LAG;
            tokio::time::sleep_until(next.into()).await;
            self.rec.borrow_mut().roll(Instant::now());
        }
    }

    /// The first logical request number of `stage`.
    fn base(&self, stage: usize) -> u64 {
        self.bases.borrow().get(stage).copied().unwrap_or(0)
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
            let until_deadline = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            // A stop while waiting (after the schedule, in a burst's wait) shortens the
            // wait to what is left of the grace period: wake for it, not only for the end.
            tokio::select! {
                _ = self.idle.notified() => {}
                _ = until_deadline => break,
                _ = self.shared.stop_signal(), if !graced => {}
                _ = self.shared.abandon_signal() => break,
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
        Some(shared.base + Duration::from_micros(shared.agreed_us.load(Relaxed)))
    }
}
