//! One logical request on a lane: its attempts, the backoff between them, the client-side
//! rate limiter in adaptive mode, and what each attempt's end tells the recorder.

use std::time::{Duration, Instant, SystemTime};

use super::Lane;
use crate::classify::{LocalReason, Outcome};
use crate::engine::abandon::Unfinished;
use crate::engine::ids::{request_seed, RequestIdHeaders};
use crate::record::{AttemptEnded, FailureSample, RequestEnd, CAPTURE_MISSING};
use crate::retry::{parse_retry_after, retry_delay};
use crate::transport::timing::Phases;
use crate::transport::{Answer, Connection, Failure, Rendered};
use std::cell::{Cell, RefCell};

use stampede_mix::capture;
use stampede_mix::template::Context;

impl Lane {
    /// A logical request: attempts, with backoff between them as the retry policy says.
    /// Its latency runs from `scheduled` to its last answer, backoff included. `key` names
    /// it within its stage (its jitter comes from the seed and the key, whichever lane
    /// sends it); `k` is its logical request number, which says which request of the mix
    /// it is and what its templates render (once, for every attempt). Returns the last
    /// connection when it can carry another request, the final outcome and the attempts
    /// made.
    pub(super) async fn request(
        &self,
        stage: usize,
        key: u64,
        k: u64,
        scheduled: Instant,
        conn: Option<Result<Connection, Failure>>,
        paced: bool,
    ) -> (Option<Connection>, Outcome, u32) {
        let logical = Logical {
            k,
            entry: None,
            row: k,
            flow: None,
        };
        self.request_as(stage, key, logical, scheduled, conn, paced)
            .await
    }

    /// A logical request as [`Lane::request`] sends it, its entry, data row and flow given
    /// (a flow's step). Sends nothing and returns 0 attempts when its data row ran out.
    pub(super) async fn request_as(
        &self,
        stage: usize,
        key: u64,
        logical: Logical<'_>,
        scheduled: Instant,
        mut conn: Option<Result<Connection, Failure>>,
        paced: bool,
    ) -> (Option<Connection>, Outcome, u32) {
        let spec = &self.shared.spec;
        let k = logical.k;
        // One branch for a scenario without a mix: the request is the target's, serialised.
        let transport = &self.pool.transport;
        let (entry, rendering) = if transport.is_fixed() {
            (0, None)
        } else {
            let entry = logical.entry.unwrap_or_else(|| transport.entry_of(k));
            match self.render(entry, &logical) {
                Ok(rendering) => (entry, rendering),
                Err(NoRowLeft) => {
                    // Not sent, and nothing after it on this lane is: its stage ends.
                    self.data_exhausted.set(true);
                    self.rec.borrow_mut().on_data_exhausted(stage, 1);
                    return (conn.and_then(Result::ok), Outcome::Ok, 0);
                }
            }
        };
        let policy = &spec.retry;
        let ids = self.ids.borrow_mut().next(&spec.request);
        // Counts the request as abandoned if the run drops it before it ends.
        let mut unfinished = Unfinished::request(self, stage, entry);
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
        // When the request ended: its last attempt's end, unless it backed off after it.
        let mut ended = None;
        let last_conn = loop {
            end.attempts += 1;
            if !self.wait_for_client_rate().await {
                break None;
            }
            // A retry waits for the rate ceiling too (a closed worker's first attempt waited
            // before its start; an open one keeps its schedule).
            if end.attempts > 1 && !self.wait_for_rate_gate().await {
                break None;
            }
            let attempt = self
                .attempt(
                    Sending {
                        stage,
                        entry,
                        rendered: rendering.as_ref(),
                        flow: logical.flow,
                    },
                    scheduled,
                    conn.take(),
                    paced && end.attempts == 1,
                    &ids,
                    end.attempts,
                )
                .await;
            ended = Some(attempt.done);
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
            ended = None;
            // The connection serves others while this request backs off — unless it is
            // its flow's own, which keeps it as a client waiting to retry does.
            if let Some(c) = attempt.conn {
                if logical.flow.is_some() && self.pool.per_flow() {
                    conn = Some(Ok(c));
                } else {
                    self.pool.checkin(c);
                }
            }
            let slept = tokio::select! {
                _ = tokio::time::sleep(delay) => true,
                _ = self.shared.stop_signal() => false,
            };
            if !slept {
                break conn.take().and_then(Result::ok);
            }
            end.backoff += delay;
            prev_sleep = Some(delay);
            self.rec.borrow_mut().on_retry((stage, entry), cause);
        };
        unfinished.done();
        if let Some(r) = rendering {
            self.renderings.borrow_mut().push(r);
        }
        self.rec.borrow_mut().on_request(
            (stage, entry),
            scheduled,
            ended.unwrap_or_else(Instant::now),
            &end,
        );
        (last_conn, end.outcome, end.attempts)
    }

    /// Renders a templated entry for logical request `k` into a reused buffer; `None` for
    /// a literal one (its head was serialised once). Err: a `unique` data source has no
    /// row for `k`.
    fn render(&self, entry: usize, logical: &Logical) -> Result<Option<Rendered>, NoRowLeft> {
        let transport = &self.pool.transport;
        if !transport.is_templated(entry) {
            return Ok(None);
        }
        let k = logical.k;
        let mix = &self.shared.spec.mix;
        let mut readers = self.readers.borrow_mut();
        let rows = match readers.as_mut() {
            None if !mix.data.is_empty() => return Err(NoRowLeft),
            None => None,
            Some(r) => match r.rows_of(logical.row) {
                Ok(Some(rows)) => Some(rows),
                Ok(None) => return Err(NoRowLeft),
                Err(e) => {
                    self.shared.fault(format!("reading a data source: {e}"));
                    return Err(NoRowLeft);
                }
            },
        };
        let mut out = self.renderings.borrow_mut().pop().unwrap_or_default();
        let mut rng = match self.shared.spec.seed {
            Some(seed) => fastrand::Rng::with_seed(request_seed(seed, RENDER_STREAM, k)),
            None => fastrand::Rng::with_seed(self.rng.borrow_mut().u64(..)),
        };
        let captured = logical.flow.map(|f| f.captured.borrow());
        let timestamp_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let ctx = Context {
            seq: k,
            uuid: rng.u128(..),
            random_seed: rng.u64(..),
            timestamp_ms,
            rows: rows.as_ref().map_or(&[], |r| r.as_slice()),
            env: mix.env.pairs(),
            // What earlier steps of its flow captured.
            captured: captured.as_deref().map_or(&[], Vec::as_slice),
        };
        transport.render(entry, &ctx, &mut out);
        Ok(Some(out))
    }

    /// The random source of one request's backoff: from the seed, the stage and the
    /// request's key when the scenario has a seed (so runs repeat whatever `--threads`),
    /// else fresh.
    pub(super) fn request_rng(&self, stage: usize, key: u64) -> fastrand::Rng {
        match self.shared.spec.seed {
            Some(seed) => fastrand::Rng::with_seed(request_seed(seed, stage as u64, key)),
            None => fastrand::Rng::with_seed(self.rng.borrow_mut().u64(..)),
        }
    }

    /// `max_rate`: waits for this lane's next free slot. Slots are `gap` apart and none are
    /// saved up while the lane is idle, so no burst passes the ceiling. False when stopped.
    pub(super) async fn wait_for_rate_gate(&self) -> bool {
        let Some((gap, next)) = &self.rate_gate else {
            return true;
        };
        let now = Instant::now();
        let slot = next.get().max(now);
        next.set(slot + *gap);
        if slot <= now {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(slot.into()) => true,
            _ = self.shared.stop_signal() => false,
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
        sending: Sending<'_>,
        scheduled: Instant,
        conn: Option<Result<Connection, Failure>>,
        paced: bool,
        ids: &RequestIdHeaders,
        number: u32,
    ) -> AttemptEnd {
        let stage = sending.stage;
        let in_flight = self.shared.attempts_in_flight.enter(sending.entry);
        let first = number == 1;
        let dispatched = Instant::now();
        self.rec
            .borrow_mut()
            .on_dispatch((stage, sending.entry), dispatched, in_flight, first);
        let mut unfinished = Unfinished::attempt(self, stage, sending.entry);

        // Sent at once when it has its connection (one clock read less per request).
        let (conn, ready) = match conn {
            Some(c) => (c, dispatched),
            None => (self.pool.checkout(scheduled).await, Instant::now()),
        };
        let transport = &self.pool.transport;
        // A connection that failed is kept until its phases are read, then discarded (it
        // is not reusable).
        let (sent, result, mut conn) = match conn {
            Ok(mut c) => {
                let sent = ready;
                let exchange = self.exchange(&sending, &mut c, ids);
                match tokio::time::timeout(transport.timeout, exchange).await {
                    Ok(Ok(answer)) => (Some(sent), Ok(answer), Some(c)),
                    Ok(Err(failure)) => (Some(sent), Err(failure), Some(c)),
                    Err(_) => (Some(sent), Err(Failure::Timeout), Some(c)),
                }
            }
            Err(failure) => (None, Err(failure), None),
        };
        let done = Instant::now();
        let phases = conn
            .as_mut()
            .map_or_else(Phases::default, |c| c.phases(result.is_ok(), done));
        // An ok answer must also pass its request's `expect`, else it is `unexpected`.
        // One view of what was kept, for the checks and the captures: its body is parsed
        // as JSON once, whichever reads it first.
        let view = result.as_ref().ok().and_then(|answer| {
            let kept = answer.kept.as_ref()?;
            Some(kept.view(answer.status, &answer.excerpt))
        });
        let expect = self.shared.spec.mix.entries[sending.entry].expect.as_ref();
        let (outcome, mismatch) = match (&result, expect) {
            (Ok(answer), Some(expect)) => answer.outcome().checked(|| match &view {
                Some(view) => expect.check(view),
                None => Ok(()),
            }),
            (Ok(answer), None) => (answer.outcome(), None),
            (Err(failure), _) => (failure.outcome(), None),
        };
        // A flow's step takes its captures from its ok answer, for the later steps; what
        // it could not take is said in a sample (the capture and pointer, never a value).
        let mut capture_missed: Option<String> = None;
        if let (Some(flow), Ok(_), Outcome::Ok) = (sending.flow, &result, outcome) {
            let captures = &self.shared.spec.mix.entries[sending.entry].captures;
            if !captures.is_empty() {
                capture_missed = match &view {
                    Some(view) => {
                        capture::extract_all(captures, view, &mut flow.captured.borrow_mut())
                            .err()
                            .map(|m| m.to_string())
                    }
                    None => Some("capture: the answer was not kept".to_string()),
                };
                flow.capture_missing.set(capture_missed.is_some());
            }
        }
        unfinished.done();
        self.shared.attempts_in_flight.leave(sending.entry);
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
                status: result.as_ref().ok().map(|a| a.status),
                paced,
                first,
                entry: sending.entry,
                phases,
            });
            let spec = &self.shared.spec;
            let correlation_id = || {
                spec.request
                    .correlation_header
                    .as_ref()
                    .and_then(|h| ids.iter().find(|(n, _)| n == h))
                    .and_then(|(_, v)| v.to_str().ok())
            };
            if let Some(answer) = result.as_ref().ok().filter(|a| a.invoke.is_some()) {
                if let Some(report) = answer.report_line() {
                    let name = &spec.stage_names[stage];
                    rec.on_report(stage, &report, done, name, correlation_id());
                }
                if outcome == Outcome::FunctionError {
                    let error_type = answer.function_error_type();
                    rec.on_function_error(stage, error_type.as_deref().unwrap_or("Unhandled"));
                }
            }
            if let Some(why) = capture_missed {
                // Kept apart from failed attempts' samples: this answer was ok.
                rec.on_failure(
                    Outcome::Ok,
                    |t_s| FailureSample {
                        correlation_id: correlation_id().map(str::to_string),
                        t_s,
                        stage: spec.stage_names[stage].clone(),
                        attempt: number,
                        status: result.as_ref().ok().map(|a| a.status),
                        kind: CAPTURE_MISSING.to_string(),
                        request: Some(spec.mix.entries[sending.entry].name.clone()),
                        body_excerpt: Some(why),
                    },
                    done,
                );
            }
            if outcome != Outcome::Ok {
                rec.on_failure(
                    outcome,
                    |t_s| FailureSample {
                        correlation_id: correlation_id().map(str::to_string),
                        t_s,
                        stage: spec.stage_names[stage].clone(),
                        attempt: number,
                        status: result.as_ref().ok().map(|a| a.status),
                        kind: outcome.name(),
                        request: spec
                            .mix
                            .declared
                            .then(|| spec.mix.entries[sending.entry].name.clone()),
                        // A server may echo what it was sent: `{{env.…}}` secrets are masked.
                        // What differed, not the body: a login's answer holds its token.
                        body_excerpt: match &result {
                            _ if mismatch.is_some() => mismatch.as_ref().map(|m| m.to_string()),
                            Ok(a) if !a.excerpt.is_empty() => Some(
                                String::from_utf8_lossy(&a.excerpt[..a.excerpt.len().min(200)])
                                    .into_owned(),
                            ),
                            Ok(_) => None,
                            Err(f) => Some(f.to_string()),
                        }
                        .map(|text| spec.mix.env.mask(&text).into_owned()),
                    },
                    done,
                );
            }
        }

        let reusable = match conn {
            Some(c) if c.is_reusable() => Some(c),
            // It was open and is gone (closed by the server, broken, or timed out).
            Some(_) => {
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
            done,
        }
    }
}

impl Lane {
    /// Sends the request on `conn` and reads its answer; sends it again, on a fresh
    /// connection put in `conn`'s place, when `conn` was a reused one that closed before
    /// any byte of the answer came (or an HTTP/2 server said it did not process it) and
    /// the request may be sent twice. The server never saw those sends: each is counted
    /// apart, not as an attempt that failed. An HTTP/2 stream taken again may meet another
    /// GOAWAY or REFUSED_STREAM, so this goes on up to [`MAX_UNSEEN_RESENDS`] times, as
    /// Go's HTTP/2 client does.
    async fn exchange(
        &self,
        sending: &Sending<'_>,
        conn: &mut Connection,
        ids: &RequestIdHeaders,
    ) -> Result<Answer, Failure> {
        let transport = &self.pool.transport;
        let Sending {
            stage,
            entry,
            rendered,
            ..
        } = *sending;
        let mut resends = 0;
        loop {
            let sent = transport.send(conn, entry, rendered, ids.iter()).await;
            let goaways = conn.take_goaway_news();
            if goaways > 0 {
                self.rec.borrow_mut().on_goaway(stage, goaways);
            }
            // An HTTP/2 server that said it did not process it: any method may go again.
            let resendable = self.keyed || transport.idempotent(entry) || conn.unprocessed();
            if sent.is_ok() || !resendable || !conn.went_stale() || resends == MAX_UNSEEN_RESENDS {
                return sent;
            }
            resends += 1;
            self.rec.borrow_mut().on_stale_connection_resend(stage);
            // The fresh connection takes the stale one's place in the pool's count.
            *conn = self.pool.reconnect().await?;
        }
    }
}

/// How many times one attempt is sent again because the server never saw it (a reused
/// connection closed under it, a GOAWAY, REFUSED_STREAM): Go's HTTP/2 client's bound. A
/// fresh HTTP/1.1 connection cannot go stale, so there it is once at most.
const MAX_UNSEEN_RESENDS: u32 = 6;

/// What an attempt sends: its stage, the entry of the mix, and the entry's rendering for
/// this logical request (templated entries); the flow its captures go to.
#[derive(Clone, Copy)]
struct Sending<'r> {
    stage: usize,
    entry: usize,
    rendered: Option<&'r Rendered>,
    flow: Option<&'r FlowState>,
}

/// What a logical request is: its number k (`{{seq}}`, its uuid and random draws), its
/// entry of the mix (`None`: the rotation's for k), the number its data rows are picked
/// by (k; a flow's steps all take their flow's), and the flow it is a step of.
#[derive(Clone, Copy)]
pub(super) struct Logical<'f> {
    pub k: u64,
    pub entry: Option<usize>,
    pub row: u64,
    pub flow: Option<&'f FlowState>,
}

/// Values a flow's steps captured, by name.
pub(super) type Captured = Vec<(String, Vec<u8>)>;

/// A running flow's own state: what its steps captured so far, and whether the last
/// step's answer lacked a value it captures.
#[derive(Default)]
pub(super) struct FlowState {
    pub captured: RefCell<Captured>,
    pub capture_missing: Cell<bool>,
}

/// The stream of [`request_seed`] that seeds a request's rendering (its UUID and
/// `random_int`), apart from the stages' backoff jitter.
const RENDER_STREAM: u64 = u64::MAX;

/// How an attempt ended, for the caller.
struct AttemptEnd {
    /// The connection, when it can carry another request.
    conn: Option<Connection>,
    outcome: Outcome,
    /// What the server's `Retry-After` asked for.
    retry_after: Option<Duration>,
    done: Instant,
}

/// A `unique` data source has no row left for a logical request (or its sources could not
/// be read): the request is not sent, and the lane sends no more.
struct NoRowLeft;
