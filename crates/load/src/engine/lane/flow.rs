//! A flow on a lane: its steps one after another on one connection, a think pause between
//! them, each step's captures feeding the next steps' templates. The first step not ok
//! (after its retries), or one whose answer lacks a value it captures, ends the flow.

use std::time::Instant;

use super::request::{FlowState, Logical};
use super::Lane;
use crate::classify::Outcome;
use crate::engine::abandon::UnfinishedFlow;
use crate::record::CAPTURE_MISSING;
use crate::scenario::flows::{step_number, STEP_SPAN};
use crate::transport::{Connection, Failure};

/// The stream of the request seeds a flow's think pauses are drawn from, apart from its
/// steps' backoff jitter.
const THINK_STREAM: u64 = 0x7468_696e_6b00_0000;

impl Lane {
    /// Unit `n` of a stage — what an arrival, a burst member or a closed worker's
    /// iteration runs: flow number `n` with `[[flows]]`, else logical request `n`. Returns
    /// the last connection when it can carry more, the last outcome and its attempts.
    pub(super) async fn unit(
        &self,
        stage: usize,
        key: u64,
        n: u64,
        scheduled: Instant,
        conn: Option<Result<Connection, Failure>>,
        paced: bool,
    ) -> (Option<Connection>, Outcome, u32) {
        if self.shared.spec.mix.flows.is_none() {
            return self.request(stage, key, n, scheduled, conn, paced).await;
        }
        self.flow(stage, key, n, scheduled, conn, paced).await
    }

    /// Flow number `f`: which flow the rotation says, its steps in order on the
    /// connection it was given (a broken one is replaced from the pool). Its latency runs
    /// from `scheduled` to its last step's end, think included.
    async fn flow(
        &self,
        stage: usize,
        key: u64,
        f: u64,
        scheduled: Instant,
        mut conn: Option<Result<Connection, Failure>>,
        paced: bool,
    ) -> (Option<Connection>, Outcome, u32) {
        let flows = self
            .shared
            .spec
            .mix
            .flows
            .as_ref()
            .expect("a mix with flows");
        let index = flows.rotation.entry(f);
        let flow = &flows.entries[index];
        let cell = (stage, index);
        self.rec.borrow_mut().on_flow_started(cell, scheduled);
        let mut unfinished = UnfinishedFlow::new(self, cell);
        let state = FlowState::default();
        if let Some(reused) = self.captured_vecs.borrow_mut().pop() {
            *state.captured.borrow_mut() = reused;
        }
        let mut think_rng = None;
        let mut last = (Outcome::Ok, 0);
        let mut step_start = scheduled;
        let mut ended = Ended::Completed;
        for (s, &entry) in flow.steps.iter().enumerate() {
            if s > 0 {
                if let Some(think) = flow.think {
                    let rng = think_rng
                        .get_or_insert_with(|| self.request_rng(stage, key ^ THINK_STREAM));
                    let pause = think.pick(rng.u64(..));
                    // The flow keeps its connection while it thinks, as a user's browser does.
                    let slept = tokio::select! {
                        _ = tokio::time::sleep(pause) => true,
                        _ = self.shared.stop_signal() => false,
                    };
                    if !slept {
                        ended = Ended::Abandoned;
                        break;
                    }
                }
                step_start = Instant::now();
            }
            let logical = Logical {
                k: step_number(f, s),
                entry: Some(entry),
                row: f,
                flow: Some(&state),
            };
            let step_key = key.wrapping_mul(STEP_SPAN).wrapping_add(s as u64);
            let first = paced && s == 0;
            let (next, outcome, attempts) = self
                .request_as(stage, step_key, logical, step_start, conn.take(), first)
                .await;
            conn = next.map(Ok);
            if attempts == 0 {
                // Its data row ran out: nothing of it was sent.
                ended = if s == 0 {
                    Ended::NotSent
                } else {
                    Ended::Abandoned
                };
                break;
            }
            last = (outcome, attempts);
            if outcome != Outcome::Ok {
                ended = Ended::Failed(s, outcome.class().key());
                break;
            }
            if state.capture_missing.get() {
                ended = Ended::Failed(s, CAPTURE_MISSING);
                break;
            }
            if self.shared.stopping() && s + 1 < flow.steps.len() {
                ended = Ended::Abandoned;
                break;
            }
        }
        unfinished.done();
        {
            let mut rec = self.rec.borrow_mut();
            match ended {
                Ended::Completed => rec.on_flow_completed(cell, scheduled, Instant::now()),
                Ended::Failed(step, reason) => {
                    rec.on_flow_failed(cell, step, reason, Instant::now())
                }
                Ended::Abandoned => rec.on_flow_abandoned(cell),
                Ended::NotSent => rec.on_flow_not_sent(cell),
            }
        }
        let mut captured = state.captured.into_inner();
        captured.clear();
        self.captured_vecs.borrow_mut().push(captured);
        let conn = conn.and_then(Result::ok);
        if self.pool.per_flow() {
            // Each flow a new client: its connection ends with it.
            if let Some(c) = conn {
                self.pool.checkin(c);
            }
            return (None, last.0, last.1);
        }
        (conn, last.0, last.1)
    }
}

/// How a flow ended.
#[derive(Clone, Copy)]
enum Ended {
    Completed,
    /// At step (from 0), for a reason: its attempt class, or `capture_missing`.
    Failed(usize, &'static str),
    /// The run stopped before its last step.
    Abandoned,
    /// Its first step had no data row left: it never started.
    NotSent,
}
