//! The engine drives traffic. A coordinator (the calling thread) starts one lane per
//! worker thread, gathers their per-second records into the timeline, shows progress and
//! turns Ctrl-C into a stop; the lanes ([`lane`]) do the sending.

mod abandon;
pub mod abort;
pub mod clock;
mod ids;
mod in_flight;
mod lane;
pub mod numbering;
mod origin;
mod pool;
mod streams;
mod timer;
mod watched;

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, Barrier, Notify};

use crate::error::{Error, Result};
use crate::record::live::LiveRun;
use crate::record::{
    pick_samples, FailureSample, LaneRecorder, SecondHistograms, SecondRecord, StageRecord,
    Timeline, TimelinePoint, FAILURE_SAMPLES,
};
use crate::retry::{RetryBudget, RetryPolicy};
use crate::scenario::AbortRules;
use crate::scenario::RequestIds;
use crate::scenario::Shard;
use crate::scenario::{Requests, Target, Think};
use crate::schedule::StagePlan;
use crate::signals::Signals;
use crate::transport::{auth::Auth, Transport};
use abort::AbortTrip;
use lane::Lane;
use stampede_results::AddressServed;

/// When time zero waits for the first stage's connections: how far past the lanes'
/// agreement it is set, so that every lane is back from the barrier before it.
const ZERO_AFTER_CONNECTING: Duration = Duration::from_millis(5);
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// How often a split test's shared abort is looked at (the store is polled apart).
const REMOTE_ABORT_EVERY: Duration = Duration::from_millis(100);
/// Per-second records queued from lanes to the coordinator, per lane. A lane never waits
/// for room: it keeps what does not fit and sends it with its next second.
const SECONDS_QUEUED_PER_LANE: usize = 64;

#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Worker threads (lanes).
    pub threads: usize,
    /// Safety cap on requests in flight across all lanes.
    pub max_in_flight: u64,
    /// A ceiling on the attempts per second a closed-model stage's workers send, retries
    /// included (each lane its even share); open-model first sends keep their schedule.
    pub max_rate: Option<f64>,
    /// After a stop, how long in-flight requests may still finish.
    pub grace: Duration,
    /// `[abort]`: checked on every final second of the timeline.
    pub abort: Option<AbortRules>,
    /// `--start-at`: the run's t = 0 on the wall clock, shared by every shard. A start in
    /// the past skips the part of the schedule already over (never sends it late).
    pub start_at: Option<SystemTime>,
    /// In a split test: the abort rules of all shards as one (see [`SharedStop`]).
    pub shared_stop: Option<SharedStop>,
    /// Watched live (`--metrics-listen`, `--live`, remote write): the lanes bump its
    /// counters, the coordinator keeps its state, and its abort request stops the run.
    pub live: Option<Arc<LiveRun>>,
}

/// An abort shared by the shards of a split test: this run tells the others when its rule
/// trips (`publish`), and stops when another's did (`seen`, set by whoever watches the
/// shared store). The engine only reads and sends; the store is the caller's.
#[derive(Clone, Debug)]
pub struct SharedStop {
    pub publish: std::sync::mpsc::Sender<AbortTrip>,
    pub seen: Arc<OnceLock<AbortTrip>>,
}

/// What every lane needs to know of the scenario beyond its schedule.
#[derive(Clone, Debug)]
pub struct RunSpec {
    pub retry: RetryPolicy,
    pub request: RequestIds,
    pub seed: Option<u64>,
    /// Part of every correlation id, so ids differ between runs.
    pub run_id: u32,
    pub stage_names: Vec<String>,
    /// This process's part of a test split across machines (`--shard I/N`).
    pub shard: Shard,
    /// The requests sent, and which one logical request k is.
    pub mix: Requests,
    /// Per stage: a closed stage's workers' pause between two of their units.
    pub stage_think: Vec<Option<Think>>,
}

/// What the engine gathered, before it becomes results.
pub struct RunRecord {
    pub started_at: SystemTime,
    pub stages: Vec<StageRecord>,
    pub timeline: Vec<TimelinePoint>,
    /// Each second's latency histograms, encoded.
    pub seconds: Vec<SecondHistograms>,
    /// With `[[requests]]`: each request's seconds, by entry.
    pub request_seconds: crate::record::RequestSeconds,
    pub interrupted: bool,
    /// The abort rule that stopped the run early.
    pub aborted: Option<AbortTrip>,
    /// Failed attempts kept as samples, earliest first.
    pub failures: Vec<FailureSample>,
    /// What failed in stampede itself (a lane that stopped, credentials that ran out).
    pub faults: Vec<String>,
    /// How late the run began after `--start-at` (zero without it, or on time).
    pub late: Duration,
    /// Requests of the schedule skipped because they were due before the late start.
    pub skipped: u64,
    /// The part of the test this run was.
    pub shard: Shard,
    /// What each address of the target served, by `ip:port`.
    pub addresses: BTreeMap<String, AddressServed>,
}

/// The live view's input, four times a second.
pub struct Snapshot<'a> {
    pub stage: usize,
    pub elapsed: Duration,
    pub in_flight: u64,
    /// The last complete second.
    pub last_second: Option<&'a TimelinePoint>,
    /// Over complete seconds.
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    pub stopping: bool,
}

/// State the lanes share: two hot counters, and the coordination for stops and bursts.
pub(crate) struct Shared {
    /// The instant the run's clock is read from: time zero, unless time zero waits for
    /// connections (`zero_after_connecting`). Barrier agreements and the adaptive limiter
    /// count from it.
    base: Instant,
    /// The run's t = 0, µs after `base`: set once, before the first send.
    origin_us: AtomicU64,
    /// No `--start-at` and a first stage that opens connections beforehand (a burst,
    /// closed-model workers): time zero is set when they are open, so connecting is part
    /// of neither the run's clock nor its duration.
    zero_after_connecting: bool,
    /// A late start (`--start-at` already past): requests due before this are skipped.
    skip_before: Option<Instant>,
    /// Requests skipped so (all lanes).
    skipped: AtomicU64,
    lanes: usize,
    max_in_flight: u64,
    /// [`EngineOptions::max_rate`].
    max_rate: Option<f64>,
    /// Open-model and burst requests in flight across all lanes, under `max_in_flight`.
    /// One count for the run, as the retry budget is (an atomic, the only state the lanes
    /// share besides it): a share per lane let two lanes hold two with a cap of one, and
    /// cannot follow the load from one lane to another.
    capped_in_flight: AtomicU64,
    /// Lanes waiting for a slot under the cap, and their wake-up when one frees.
    slot_waiters: AtomicU64,
    slot_freed: Notify,
    /// Attempts under way across all lanes, and per request of a mix.
    attempts_in_flight: in_flight::AttemptsInFlight,
    current_stage: AtomicUsize,
    /// When each stage began by plan, µs from time zero (`u64::MAX`: not yet), for the live
    /// metrics' planned rate.
    stage_starts_us: Vec<AtomicU64>,
    barrier: Barrier,
    /// An instant the lanes agreed on at the barrier, µs from `base`.
    agreed_us: AtomicU64,
    /// 0 running, 1 stopping (grace period), 2 abandon what is in flight.
    stop_level: AtomicU8,
    stop_notify: Notify,
    stopped_at: OnceLock<Instant>,
    grace: Duration,
    spec: RunSpec,
    /// The run's one retry budget, shared by the lanes (an atomic count).
    budget: RetryBudget,
    /// Failures of stampede itself; each also stops the run. Only touched when one happens.
    faults: Mutex<Vec<String>>,
}

impl Shared {
    fn micros(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.base).as_micros() as u64
    }

    /// The run's t = 0 (before the lanes agree on it when it waits for connections: the
    /// earliest it can be).
    fn origin(&self) -> Instant {
        self.base + Duration::from_micros(self.origin_us.load(Relaxed))
    }

    /// Seconds since `base` (negative before it), for the adaptive limiter: a clock that
    /// never moves, whenever time zero is set.
    fn seconds_since_origin(&self) -> f64 {
        let now = Instant::now();
        if now >= self.base {
            (now - self.base).as_secs_f64()
        } else {
            -(self.base - now).as_secs_f64()
        }
    }

    fn stopping(&self) -> bool {
        self.stop_level.load(Relaxed) > 0
    }

    fn raise_stop(&self) {
        let _ = self.stopped_at.set(Instant::now());
        let level = (self.stop_level.load(Relaxed) + 1).min(2);
        self.stop_level.store(level, Relaxed);
        self.stop_notify.notify_waiters();
    }

    fn grace_left(&self) -> Duration {
        let since = self
            .stopped_at
            .get()
            .map_or(Duration::ZERO, Instant::elapsed);
        self.grace.saturating_sub(since)
    }

    /// Resolves once the stop level reaches `level`.
    async fn stop_level_reached(&self, level: u8) {
        loop {
            let notified = self.stop_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.stop_level.load(Relaxed) >= level {
                return;
            }
            notified.await;
        }
    }

    async fn stop_signal(&self) {
        self.stop_level_reached(1).await
    }

    async fn abandon_signal(&self) {
        self.stop_level_reached(2).await
    }

    /// Takes a slot under the in-flight cap, if one is free.
    fn try_take_slot(&self) -> bool {
        self.capped_in_flight
            .fetch_update(SeqCst, SeqCst, |n| {
                (n < self.max_in_flight).then_some(n + 1)
            })
            .is_ok()
    }

    /// Takes a slot whether or not one is free: a burst is released whole.
    fn take_slot_anyway(&self) {
        self.capped_in_flight.fetch_add(1, SeqCst);
    }

    /// Gives a slot back, and wakes the lanes waiting for one.
    fn release_slot(&self) {
        self.capped_in_flight.fetch_sub(1, SeqCst);
        // SeqCst with the waiter's count-then-try: a waiter either sees this slot free or
        // is counted here, and woken.
        if self.slot_waiters.load(SeqCst) > 0 {
            self.slot_freed.notify_waiters();
        }
    }

    /// Waits for a slot under the cap until `until`. False when the run was stopped or
    /// `until` came first.
    async fn wait_for_slot(&self, until: Instant) -> bool {
        struct Waiting<'s>(&'s AtomicU64);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, SeqCst);
            }
        }
        self.slot_waiters.fetch_add(1, SeqCst);
        let _waiting = Waiting(&self.slot_waiters);
        loop {
            let freed = self.slot_freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.try_take_slot() {
                return true;
            }
            tokio::select! {
                _ = freed => {}
                _ = self.stop_signal() => return false,
                _ = tokio::time::sleep_until(until.into()) => return false,
            }
        }
    }

    /// stampede itself failed: name it in the results and stop the run (once).
    fn fault(&self, what: String) {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        if faults.contains(&what) {
            return;
        }
        tracing::error!("{what}");
        faults.push(what);
        drop(faults);
        if !self.stopping() {
            self.raise_stop();
        }
    }
}

/// Drives `plans` at `target`. `progress` is called four times a second when given.
pub fn run(
    target: &Target,
    tls: &rustls::ClientConfig,
    auth: &Auth,
    spec: RunSpec,
    plans: Vec<StagePlan>,
    opts: &EngineOptions,
    mut progress: Option<&mut dyn FnMut(&Snapshot)>,
) -> Result<RunRecord> {
    let lanes = opts.threads.max(1);
    let coordinator = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the runtime: {e}")))?;
    let plans = Arc::new(plans);
    let stages = plans.len();

    coordinator.block_on(async {
        // Listen for Ctrl-C, SIGTERM and SIGHUP before any traffic starts: the first stops
        // the run (what is in flight gets the grace period), the second abandons it. One
        // heard before now (during the setup) stops the run at its start.
        let mut signals = Signals::listen()?;

        let (based_at, origin, late) = origin::origin_of(opts.start_at);
        let zero_after_connecting = opts.start_at.is_none()
            && matches!(
                plans.first(),
                Some(StagePlan::Burst { .. } | StagePlan::Closed { .. })
            );
        // Each request of a [[requests]] mix is recorded apart too; one request is not.
        let mix_entries = spec.mix.recorded_entries();
        let shared = Arc::new(Shared {
            base: origin,
            origin_us: AtomicU64::new(0),
            zero_after_connecting,
            skip_before: (!late.is_zero()).then(|| origin + late),
            skipped: AtomicU64::new(0),
            lanes,
            max_in_flight: opts.max_in_flight,
            max_rate: opts.max_rate,
            capped_in_flight: AtomicU64::new(0),
            slot_waiters: AtomicU64::new(0),
            slot_freed: Notify::new(),
            attempts_in_flight: in_flight::AttemptsInFlight::new(mix_entries),
            current_stage: AtomicUsize::new(0),
            stage_starts_us: (0..stages).map(|_| AtomicU64::new(u64::MAX)).collect(),
            barrier: Barrier::new(lanes),
            agreed_us: AtomicU64::new(0),
            stop_level: AtomicU8::new(0),
            stop_notify: Notify::new(),
            stopped_at: OnceLock::new(),
            grace: opts.grace,
            budget: RetryBudget::new(spec.retry.budget),
            spec,
            faults: Mutex::new(Vec::new()),
        });
        let (seconds_tx, mut seconds_rx) =
            mpsc::channel::<(usize, SecondRecord)>(SECONDS_QUEUED_PER_LANE * lanes);
        let mut threads = Vec::with_capacity(lanes);
        // One transport, copied into each lane: the copies share the target's addresses,
        // whose turn each new connection takes, and what each address served.
        let transport = Transport::new(target, &shared.spec.mix, tls.clone(), auth.clone());
        for id in 0..lanes {
            // Its clock is set again when the lane knows time zero.
            let rec = LaneRecorder::new(shared.base, id, stages, Some(seconds_tx.clone()));
            let mix = &shared.spec.mix;
            let rec = rec
                .with_requests(mix_entries)
                .with_flows(mix.flows.as_ref().map_or(0, |f| f.entries.len()))
                .with_live(opts.live.as_ref().and_then(|l| l.counters.lane(id)));
            let (lane_shared, plans, transport) = (
                Arc::clone(&shared),
                Arc::clone(&plans),
                transport.clone(),
            );
            let thread = std::thread::Builder::new()
                .name(format!("stampede-lane-{id}"))
                .spawn(move || {
                    // A lane that panics loses its own record; the others' are still written.
                    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_lane(id, Arc::clone(&lane_shared), transport, rec, &plans)
                    }));
                    match ran {
                        Ok(Ok(rec)) => Some(rec),
                        Ok(Err(e)) => {
                            lane_shared.fault(format!("engine lane {id} stopped: {e}"));
                            None
                        }
                        Err(panic) => {
                            let why = panic_message(panic.as_ref());
                            lane_shared.fault(format!("engine lane {id} failed: {why}; its requests are missing from the results"));
                            None
                        }
                    }
                });
            match thread {
                Ok(t) => threads.push(t),
                // The lanes started so far run the whole schedule's share they were given;
                // a missing lane's share is not sent. Stop and say so.
                Err(e) => {
                    shared.fault(format!("cannot start engine lane {id}: {e}"));
                    break;
                }
            }
        }
        drop(seconds_tx);

        let watched = opts.abort.iter().flat_map(|a| a.requests.iter().map(|r| r.entry));
        let mut timeline = Timeline::new(lanes).watch_requests(watched);
        let (mut ok, mut throttled, mut errors) = (0, 0, 0);
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        let mut remote_check = tokio::time::interval(REMOTE_ABORT_EVERY);
        let mut interrupted = false;
        let mut aborted = None;
        loop {
            tokio::select! {
                msg = seconds_rx.recv() => match msg {
                    Some((lane, second)) => {
                        let before = timeline.points.len();
                        timeline.add(lane, second);
                        for p in &timeline.points[before..] {
                            ok += p.ok;
                            throttled += p.throttled;
                            errors += p.errors;
                        }
                        if let Some(live) = &opts.live {
                            watched::publish_points(live, &timeline.points, before);
                        }
                        let checked = timeline.points.len() > before && aborted.is_none();
                        if let (true, Some(rules)) = (checked, &opts.abort) {
                            aborted = abort::check(rules, &timeline.points)
                                .or_else(|| abort::check_requests(rules, &timeline.watched));
                            if let Some(trip) = &aborted {
                                shared.raise_stop();
                                if let Some(stop) = &opts.shared_stop {
                                    let _ = stop.publish.send(trip.clone());
                                }
                            }
                        }
                    }
                    None => break,
                },
                _ = remote_check.tick(), if (opts.shared_stop.is_some() || opts.live.is_some()) && aborted.is_none() => {
                    if let Some(trip) = opts.shared_stop.as_ref().and_then(|s| s.seen.get()) {
                        aborted = Some(trip.clone());
                        shared.raise_stop();
                    } else if opts.live.as_ref().is_some_and(|l| l.abort_requested().is_some()) {
                        let trip = AbortTrip::live_control(
                            shared.origin().elapsed().as_secs(),
                            ok + throttled + errors,
                        );
                        if let Some(stop) = &opts.shared_stop {
                            let _ = stop.publish.send(trip.clone());
                        }
                        aborted = Some(trip);
                        shared.raise_stop();
                    }
                }
                _ = signals.next() => { interrupted = true; shared.raise_stop(); }
                _ = tick.tick(), if progress.is_some() || opts.live.is_some() => {
                    if let Some(live) = &opts.live {
                        watched::publish_progress(live, &shared);
                    }
                    if let Some(show) = progress.as_mut() {
                        show(&Snapshot {
                            stage: shared.current_stage.load(Relaxed),
                            elapsed: shared.origin().elapsed(),
                            in_flight: shared.attempts_in_flight.load(),
                            last_second: timeline.last(),
                            ok, throttled, errors,
                            stopping: shared.stopping(),
                        });
                    }
                }
            }
        }
        for lane in 0..lanes {
            timeline.lane_done(lane);
        }
        if let Some(live) = &opts.live {
            watched::publish_end(live, &timeline.points);
        }

        let mut merged: Vec<StageRecord> = (0..stages).map(|_| StageRecord::new()).collect();
        let mut failures = Vec::new();
        for thread in threads {
            // A lane's panic was caught on its thread: join only fails if that failed too.
            let Some(rec) = thread.join().ok().flatten() else {
                continue;
            };
            for (into, from) in merged.iter_mut().zip(&rec.stages) {
                into.merge(from);
            }
            failures.extend(rec.failures);
        }
        let failures = pick_samples(failures, FAILURE_SAMPLES);
        let faults = std::mem::take(&mut *shared.faults.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(RunRecord {
            started_at: based_at + Duration::from_micros(shared.origin_us.load(Relaxed)),
            stages: merged,
            timeline: timeline.points,
            seconds: timeline.histograms,
            request_seconds: timeline.by_request,
            interrupted,
            aborted,
            failures,
            faults,
            late,
            skipped: shared.skipped.load(Relaxed),
            shard: shared.spec.shard,
            // Every lane's connections are closed by now: each added what it served.
            addresses: transport.addresses_served(),
        })
    })
}

/// What a panic said, when it said it as text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
}

/// A lane's thread: its own single-threaded runtime, so nothing it owns needs a lock.
fn run_lane(
    id: usize,
    shared: Arc<Shared>,
    transport: Transport,
    rec: LaneRecorder,
    plans: &[StagePlan],
) -> Result<LaneRecorder> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start a worker runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    let origin = shared.base;
    let inject = injected_fault(id);
    let lane = local.block_on(&runtime, async {
        // Without a timerfd, tokio's millisecond timer paces (sends may be later).
        let timer = match timer::PreciseTimer::new() {
            Ok(t) => Some(t),
            // No timerfd on this system (it is Linux's): nothing to warn about.
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => None,
            Err(e) => {
                tracing::warn!("lane {id}: no precise timer ({e}); pacing with tokio's timer");
                None
            }
        };
        // Every lane's runtime and timer are made before any lane connects: under a low
        // open-files limit, a lane late to start (a loaded machine) found the descriptors
        // taken by another's connections and could not make its runtime. A lane that
        // cannot start stops the run, which releases the others.
        let all_started = tokio::select! {
            _ = shared.barrier.wait() => true,
            _ = shared.stop_signal() => false,
        };
        let lane = Rc::new(Lane::new(id, shared, transport, rec, timer));
        match inject {
            _ if !all_started => {}
            #[cfg(debug_assertions)]
            Some(after) => tokio::select! {
                _ = lane.run(plans) => {}
                _ = tokio::time::sleep(after) => panic!("injected fault (STAMPEDE_INJECT_FAULT)"),
            },
            _ => lane.run(plans).await,
        }
        lane
    });
    // Tasks still alive (abandoned requests) are dropped here and count themselves.
    drop(local);
    let mut rec = lane.rec.replace(LaneRecorder::new(origin, id, 0, None));
    rec.finish();
    Ok(rec)
}

/// Test hook: `STAMPEDE_INJECT_FAULT=lane-panic:K:MS` makes lane K panic MS milliseconds
/// into the run, so tests can show that a failing lane loses nothing else. Read once per
/// lane, off the hot path. Only in builds with debug assertions (the tests' builds): a
/// release build has no hook and reads no variable.
#[cfg(debug_assertions)]
fn injected_fault(lane: usize) -> Option<Duration> {
    let v = std::env::var("STAMPEDE_INJECT_FAULT").ok()?;
    let mut parts = v.strip_prefix("lane-panic:")?.split(':');
    let k: usize = parts.next()?.parse().ok()?;
    let ms: u64 = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    (k == lane).then_some(Duration::from_millis(ms))
}

#[cfg(not(debug_assertions))]
fn injected_fault(_lane: usize) -> Option<Duration> {
    None
}
