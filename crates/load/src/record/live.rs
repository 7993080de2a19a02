//! The live counters: what `/metrics`, remote write and the live page read while the run
//! goes. Each lane owns one [`LaneCounters`] and is its only writer, so a bump is a plain
//! load and store of a relaxed atomic (no lock, no `lock`-prefixed instruction); a reader
//! sums the lanes' cells whenever it likes and never makes a lane wait.
//!
//! They are bumped where the lane's own record is (`record::LaneRecorder`), from the same
//! events, so at the end they equal the results file's counts exactly. Beside them, the
//! coordinator keeps [`LiveState`] (the stage, in flight, each final second of the
//! timeline) four times a second; the lanes never touch it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::TimelinePoint;

use crate::classify::{Outcome, ThrottleKind, THROTTLE_KINDS};
use stampede_results::AttemptClass;

/// The latency histogram's bucket bounds, seconds: classic buckets for APIs, 1 ms to 60 s.
pub const LATENCY_BUCKETS_S: [f64; 19] = [
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
    7.5, 10.0, 30.0, 60.0,
];
/// The same bounds in µs, as the lanes compare them.
const LATENCY_BUCKETS_US: [u64; 19] = [
    1_000, 2_500, 5_000, 7_500, 10_000, 25_000, 50_000, 75_000, 100_000, 250_000, 500_000, 750_000,
    1_000_000, 2_500_000, 5_000_000, 7_500_000, 10_000_000, 30_000_000, 60_000_000,
];
/// Buckets kept: one per bound and one past the last (+Inf).
const BUCKETS: usize = LATENCY_BUCKETS_US.len() + 1;
const CLASSES: usize = AttemptClass::ALL.len();
const KINDS: usize = THROTTLE_KINDS.len();

/// How a logical request ended, as `stampede_requests_total`'s `outcome` label says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    Ok,
    Throttled,
    /// Any other error (the results' `errors`).
    Error,
    /// Never ended: in flight or backing off when the run stopped waiting.
    Abandoned,
}

impl RequestOutcome {
    pub const ALL: [RequestOutcome; 4] = [
        RequestOutcome::Ok,
        RequestOutcome::Throttled,
        RequestOutcome::Error,
        RequestOutcome::Abandoned,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RequestOutcome::Ok => "ok",
            RequestOutcome::Throttled => "throttled",
            RequestOutcome::Error => "error",
            RequestOutcome::Abandoned => "abandoned",
        }
    }

    fn of(outcome: Outcome) -> RequestOutcome {
        match outcome {
            Outcome::Ok => RequestOutcome::Ok,
            Outcome::Throttled(_) => RequestOutcome::Throttled,
            _ => RequestOutcome::Error,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A counter with one writer: its lane.
#[derive(Default)]
struct Slot(AtomicU64);

impl Slot {
    #[inline]
    fn bump(&self, n: u64) {
        // One writer: a load and a store, never lost, never a locked instruction.
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    fn read(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// One (stage, request) cell of one lane.
#[derive(Default)]
struct Cell {
    attempts: [Slot; CLASSES],
    requests: [Slot; 4],
    throttles: [Slot; KINDS],
    retries: Slot,
    bytes_received: Slot,
    latency: [Slot; BUCKETS],
    latency_sum_us: Slot,
}

/// How a flow of `[[flows]]` ended, as `stampede_flows_total`'s `outcome` label says it.
pub const FLOW_OUTCOMES: [&str; 3] = ["completed", "failed", "abandoned"];

/// One lane's counters, by (stage, request of the mix), and by (stage, flow) with
/// `[[flows]]`. Written by that lane alone.
pub struct LaneCounters {
    /// Cells per stage: one per request of the mix and one for what no request is known
    /// of (a request dropped before it began); one in all without a mix.
    per_stage: usize,
    cells: Box<[Cell]>,
    flows: usize,
    /// Per (stage, flow): completed, failed, abandoned (as [`FLOW_OUTCOMES`]).
    flow_cells: Box<[[Slot; 3]]>,
}

/// Cells per stage for `entries` requests of a mix (0: none).
fn cells_per_stage(entries: usize) -> usize {
    if entries == 0 {
        1
    } else {
        entries + 1
    }
}

impl LaneCounters {
    fn new(stages: usize, entries: usize, flows: usize) -> LaneCounters {
        let per_stage = cells_per_stage(entries);
        LaneCounters {
            per_stage,
            cells: (0..stages * per_stage).map(|_| Cell::default()).collect(),
            flows,
            flow_cells: (0..stages * flows).map(|_| Default::default()).collect(),
        }
    }

    /// A flow of (stage, flow) ended: `outcome` indexes [`FLOW_OUTCOMES`].
    pub fn flow_ended(&self, (stage, flow): (usize, usize), outcome: usize) {
        if flow < self.flows {
            if let Some(c) = self.flow_cells.get(stage * self.flows + flow) {
                c[outcome].bump(1);
            }
        }
    }

    #[inline]
    fn cell(&self, stage: usize, entry: usize) -> Option<&Cell> {
        // Without a mix every request is the one cell.
        let entry = if self.per_stage == 1 { 0 } else { entry };
        self.cells.get(stage * self.per_stage + entry)
    }

    /// An attempt of (stage, entry) ended with `outcome`, `bytes` of body received.
    #[inline]
    pub fn attempt(&self, (stage, entry): (usize, usize), outcome: Outcome, bytes: u64) {
        let Some(c) = self.cell(stage, entry) else {
            return;
        };
        c.attempts[class_index(outcome.class())].bump(1);
        if let Outcome::Throttled(kind) = outcome {
            c.throttles[kind_index(kind)].bump(1);
        }
        if bytes > 0 {
            c.bytes_received.bump(bytes);
        }
    }

    /// An attempt of (stage, entry) still under way when the run stopped waiting.
    pub fn abandoned_attempt(&self, (stage, entry): (usize, usize)) {
        if let Some(c) = self.cell(stage, entry) {
            c.attempts[class_index(AttemptClass::Abandoned)].bump(1);
        }
    }

    /// A logical request ended with `outcome`, `latency_us` after its schedule.
    #[inline]
    pub fn request(&self, (stage, entry): (usize, usize), outcome: Outcome, latency_us: u64) {
        let Some(c) = self.cell(stage, entry) else {
            return;
        };
        c.requests[RequestOutcome::of(outcome).index()].bump(1);
        let bucket = LATENCY_BUCKETS_US.partition_point(|&b| b < latency_us);
        c.latency[bucket].bump(1);
        c.latency_sum_us.bump(latency_us);
    }

    /// A logical request that never ended (entry `None`: it never began, so no request of
    /// the mix is known; the results count it for the stage alone, and so does its cell).
    pub fn abandoned_request(&self, stage: usize, entry: Option<usize>, n: u64) {
        let entry = entry.unwrap_or(self.per_stage - 1);
        if let Some(c) = self.cell(stage, entry) {
            c.requests[RequestOutcome::Abandoned.index()].bump(n);
        }
    }

    pub fn retry(&self, (stage, entry): (usize, usize)) {
        if let Some(c) = self.cell(stage, entry) {
            c.retries.bump(1);
        }
    }
}

/// A class's place in [`AttemptClass::ALL`]: its declaration order, which `ALL` follows
/// (a test holds them together), so no search on the hot path.
#[inline]
fn class_index(class: AttemptClass) -> usize {
    class as usize
}

/// A kind's place in [`THROTTLE_KINDS`], as [`class_index`].
#[inline]
fn kind_index(kind: ThrottleKind) -> usize {
    kind as usize
}

/// Every lane's counters: what a reader sums.
pub struct Counters {
    stages: usize,
    per_stage: usize,
    flows: usize,
    lanes: Vec<Arc<LaneCounters>>,
}

impl Counters {
    /// Counters for `lanes` lanes of `stages` stages, `entries` requests of a mix (0: one
    /// request, no mix) and `flows` flows (0: no `[[flows]]`).
    pub fn new(lanes: usize, stages: usize, (entries, flows): (usize, usize)) -> Counters {
        Counters {
            stages,
            per_stage: cells_per_stage(entries),
            flows,
            lanes: (0..lanes)
                .map(|_| Arc::new(LaneCounters::new(stages, entries, flows)))
                .collect(),
        }
    }

    /// Each (stage, flow)'s flows ended, by [`FLOW_OUTCOMES`], summed over the lanes.
    pub fn read_flows(&self) -> Vec<((usize, usize), [u64; 3])> {
        let mut out = Vec::with_capacity(self.stages * self.flows);
        for stage in 0..self.stages {
            for flow in 0..self.flows {
                let mut n = [0; 3];
                for lane in &self.lanes {
                    add(&mut n, &lane.flow_cells[stage * self.flows + flow]);
                }
                out.push(((stage, flow), n));
            }
        }
        out
    }

    /// Lane `id`'s counters, for its recorder; `None` past the lanes made.
    pub fn lane(&self, id: usize) -> Option<Arc<LaneCounters>> {
        self.lanes.get(id).cloned()
    }

    /// The sum over lanes, cell by cell: what the counters say now. With a mix, each
    /// stage's last cell (entry = the mix's length) holds what no request is known of.
    pub fn read(&self) -> Vec<CellTotals> {
        let mut out = Vec::with_capacity(self.stages * self.per_stage);
        for stage in 0..self.stages {
            for entry in 0..self.per_stage {
                let mut t = CellTotals {
                    stage,
                    entry,
                    ..CellTotals::default()
                };
                for lane in &self.lanes {
                    let c = &lane.cells[stage * self.per_stage + entry];
                    add(&mut t.attempts, &c.attempts);
                    add(&mut t.requests, &c.requests);
                    add(&mut t.throttles, &c.throttles);
                    add(&mut t.latency_buckets, &c.latency);
                    t.retries += c.retries.read();
                    t.bytes_received += c.bytes_received.read();
                    t.latency_sum_us += c.latency_sum_us.read();
                }
                out.push(t);
            }
        }
        out
    }
}

fn add<const N: usize>(into: &mut [u64; N], from: &[Slot; N]) {
    for (a, s) in into.iter_mut().zip(from) {
        *a += s.read();
    }
}

/// One (stage, request) cell summed over the lanes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CellTotals {
    pub stage: usize,
    pub entry: usize,
    /// By [`AttemptClass::ALL`]'s order.
    pub attempts: [u64; CLASSES],
    /// By [`RequestOutcome::ALL`]'s order.
    pub requests: [u64; 4],
    /// By [`THROTTLE_KINDS`]' order.
    pub throttles: [u64; KINDS],
    pub retries: u64,
    pub bytes_received: u64,
    /// Per bucket (not cumulative), the last past 60 s.
    pub latency_buckets: [u64; BUCKETS],
    pub latency_sum_us: u64,
}

impl CellTotals {
    /// Whether anything at all was counted in it.
    pub fn is_empty(&self) -> bool {
        self.attempts.iter().all(|n| *n == 0) && self.requests.iter().all(|n| *n == 0)
    }

    pub fn requests_ended(&self) -> u64 {
        self.latency_buckets.iter().sum()
    }
}

/// What a run shows while it goes: the lanes' counters and the coordinator's state, read
/// by the metrics endpoint, remote write and the live page.
pub struct LiveRun {
    pub counters: Counters,
    state: Mutex<LiveState>,
    /// A stop asked for from outside the engine (the live page's abort button): the reason,
    /// set once; the coordinator stops the run as an abort rule would.
    abort: OnceLock<String>,
}

/// The coordinator's view, four times a second.
#[derive(Clone, Debug, Default)]
pub struct LiveState {
    /// The stage running (index into the run's stages).
    pub stage: usize,
    /// Since the run's time zero.
    pub elapsed: Duration,
    /// Attempts under way now.
    pub in_flight: u64,
    /// The run is stopping (a signal, an abort, the schedule's end) or has ended.
    pub stopping: bool,
    pub ended: bool,
    /// When each stage began by plan, s from time zero (`None`: not yet).
    pub stage_starts_s: Vec<Option<f64>>,
    /// Every final second of the timeline so far, oldest first.
    pub points: Vec<TimelinePoint>,
}

impl std::fmt::Debug for LiveRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRun").finish_non_exhaustive()
    }
}

impl LiveRun {
    /// `(entries, flows)`: the mix's requests and flows recorded apart (0: none).
    pub fn new(lanes: usize, stages: usize, mix: (usize, usize)) -> LiveRun {
        LiveRun {
            counters: Counters::new(lanes, stages, mix),
            state: Mutex::new(LiveState::default()),
            abort: OnceLock::new(),
        }
    }

    /// The state, to read or (the coordinator) to update.
    pub fn state(&self) -> MutexGuard<'_, LiveState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the run to stop as an abort rule would; false when one was asked already.
    pub fn request_abort(&self, why: String) -> bool {
        self.abort.set(why).is_ok()
    }

    /// The stop asked for, if any.
    pub fn abort_requested(&self) -> Option<&str> {
        self.abort.get().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_add_up_cell_by_cell() {
        let all = Counters::new(2, 2, (3, 0));
        let (a, b) = (all.lane(0).unwrap(), all.lane(1).unwrap());
        a.attempt((1, 2), Outcome::Ok, 10);
        b.attempt((1, 2), Outcome::Throttled(ThrottleKind::ApiGateway), 0);
        b.request((1, 2), Outcome::Throttled(ThrottleKind::ApiGateway), 1_500);
        a.request((1, 2), Outcome::Ok, 100_000);
        a.abandoned_request(0, None, 3);
        let read = all.read();
        assert_eq!(read.len(), 8, "three requests and one unknown per stage");
        let cell = read.iter().find(|c| (c.stage, c.entry) == (1, 2)).unwrap();
        assert_eq!(cell.attempts[class_index(AttemptClass::Ok)], 1);
        assert_eq!(cell.attempts[class_index(AttemptClass::Throttled)], 1);
        assert_eq!(cell.throttles[kind_index(ThrottleKind::ApiGateway)], 1);
        assert_eq!(cell.requests, [1, 1, 0, 0]);
        assert_eq!(cell.bytes_received, 10);
        assert_eq!(cell.latency_sum_us, 101_500);
        // 1.5 ms is in the 2.5 ms bucket; 100 ms (at the bound) in the 100 ms one.
        assert_eq!(cell.latency_buckets[1], 1);
        assert_eq!(cell.latency_buckets[8], 1);
        assert_eq!(read[3].requests, [0, 0, 0, 3], "never began: no request");
    }

    #[test]
    fn classes_and_kinds_are_indexed_in_the_order_they_are_listed() {
        for (i, class) in AttemptClass::ALL.iter().enumerate() {
            assert_eq!(class_index(*class), i, "{class:?}");
        }
        for (i, kind) in THROTTLE_KINDS.iter().enumerate() {
            assert_eq!(kind_index(*kind), i, "{kind:?}");
        }
    }

    #[test]
    fn without_a_mix_every_request_is_the_one_cell() {
        let all = Counters::new(1, 1, (0, 0));
        all.lane(0).unwrap().attempt((0, 7), Outcome::Ok, 0);
        assert_eq!(all.read()[0].attempts[0], 1);
    }

    #[test]
    fn a_latency_past_a_minute_is_in_the_last_bucket() {
        let all = Counters::new(1, 1, (0, 0));
        all.lane(0)
            .unwrap()
            .request((0, 0), Outcome::Ok, 61_000_000);
        assert_eq!(all.read()[0].latency_buckets[BUCKETS - 1], 1);
    }
}
