//! A lane's keep-alive connections. A request takes an idle connection, or waits for one
//! (first come, first served). The pool grows when a request has waited [`GROW_AFTER`]:
//! fast (a bounded number of connects at a time) when no connection came back meanwhile,
//! one connect at a time when they do — and, past a few connections, only while growing
//! raises the rate of answers ([`GrowthGate`]).
//!
//! Why not a connection per waiting request: when the client's CPU hiccups, requests queue
//! while connections still turn over fast; opening thousands of connections then (each
//! connect costs more as the port space fills) turned a brief stall into a collapse of a
//! 50k req/s run. Lane-local, so no locks.
//!
//! HTTP/2 (`http = "2"`): the pool hands out stream slots on shared sessions instead
//! ([`super::streams`]).
//!
//! With `connections = "per-request"` the pool keeps nothing: each attempt opens its own
//! connection ([`Pool::checkout`]), which carries one request and is dropped after it. With
//! `"per-flow"` neither: a flow's first step opens one, its steps pass it on, and the flow
//! drops it at its end.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::streams::Streams;
use crate::scenario::ConnectionPolicy;
use crate::transport::{Connection, Failure, Transport};

/// Connects under way at once, at least; more as the pool grows (half its size).
const MIN_PARALLEL_CONNECTS: usize = 4;
/// A request waiting this long for a connection to come free makes the pool grow.
const GROW_AFTER: Duration = Duration::from_millis(1);
/// Connects under way at once while filling the pool before a burst, and for closed-model
/// workers opening their own.
const PREFILL_PARALLELISM: usize = 256;
/// Growth is judged over windows this long: it goes on while it pays off.
const GROWTH_WINDOW: Duration = Duration::from_millis(50);
/// A window's returns must beat the last one's by this much for growth to go on.
const GROWTH_PAYOFF: f64 = 1.05;
/// Below this many connections the pool grows without asking whether it pays off.
const FREE_GROWTH: usize = 16;

/// Whether opening more connections still buys throughput. When the client's CPU is the
/// bottleneck, more connections only add work: answers come back no faster, and a run
/// that kept growing collapsed (20,000 connections and 15k of 50k req/s, measured).
struct GrowthGate {
    window_start: Instant,
    returns_at_start: u64,
    last_rate: f64,
    /// Connects this window may still start.
    budget: usize,
}

impl GrowthGate {
    /// Closes the window at `now` with `returns` answered so far and `open` connections,
    /// and sets the next window's budget.
    fn next_window(&mut self, now: Instant, returns: u64, open: usize) {
        let elapsed = now
            .saturating_duration_since(self.window_start)
            .as_secs_f64();
        let returned = returns - self.returns_at_start;
        let rate = returned as f64 / elapsed.max(1e-6);
        let pays_off = returned == 0 || rate > self.last_rate * GROWTH_PAYOFF;
        self.budget = if pays_off {
            (open / 4).max(MIN_PARALLEL_CONNECTS)
        } else {
            0
        };
        self.last_rate = rate;
        self.window_start = now;
        self.returns_at_start = returns;
    }
}

struct Waiter {
    since: Instant,
    tx: oneshot::Sender<Result<Connection, Failure>>,
}

pub struct Pool {
    pub transport: Transport,
    /// Idle connections, most recently used last.
    idle: RefCell<Vec<Connection>>,
    waiters: RefCell<VecDeque<Waiter>>,
    /// Connections open (idle or busy) and being opened.
    open: Cell<usize>,
    connecting: Cell<usize>,
    /// When a connection last came back from a request.
    last_return: Cell<Option<Instant>>,
    /// A task will look at the waiters again after `GROW_AFTER`.
    recheck_pending: Cell<bool>,
    returns: Cell<u64>,
    gate: RefCell<GrowthGate>,
    /// Turns for closed-model workers opening their own connections.
    own_connects: tokio::sync::Semaphore,
    /// A new connection for every attempt, or for every flow: none is kept idle, waited
    /// for or opened ahead.
    opens_own: bool,
    /// HTTP/2: stream slots on shared sessions, handed out instead of connections.
    h2: Option<Rc<Streams>>,
}

impl Pool {
    pub fn new(transport: Transport) -> Rc<Pool> {
        Rc::new(Pool {
            idle: RefCell::new(Vec::new()),
            waiters: RefCell::new(VecDeque::new()),
            open: Cell::new(0),
            connecting: Cell::new(0),
            recheck_pending: Cell::new(false),
            last_return: Cell::new(None),
            returns: Cell::new(0),
            gate: RefCell::new(GrowthGate {
                window_start: Instant::now(),
                returns_at_start: 0,
                last_rate: 0.0,
                budget: MIN_PARALLEL_CONNECTS,
            }),
            own_connects: tokio::sync::Semaphore::new(PREFILL_PARALLELISM),
            opens_own: transport.connections.opens_own(),
            h2: transport.http2.map(|_| Streams::new(&transport)),
            transport,
        })
    }

    /// An idle connection, or the first one to come free or be opened, for a request
    /// that has been waiting since `since` (its scheduled instant, when it has one).
    /// With a connection per request: a new one, opened now.
    pub async fn checkout(self: &Rc<Self>, since: Instant) -> Result<Connection, Failure> {
        if let Some(c) = self.take_idle() {
            return Ok(c);
        }
        if self.opens_own {
            return self.fresh().await;
        }
        if let Some(streams) = &self.h2 {
            return streams.checkout().await;
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().push_back(Waiter { since, tx });
        self.grow();
        rx.await
            .unwrap_or_else(|_| Err(Failure::Connect("connection pool closed".into())))
    }

    /// Returns a connection after a request: to the longest waiter, else to the idle list.
    /// A connection that cannot carry another request is dropped, as is every connection
    /// when each unit opens its own (no other request or flow may have it).
    pub fn checkin(self: &Rc<Self>, conn: Connection) {
        if self.opens_own {
            drop(conn);
            self.discard();
            return;
        }
        if let Some(streams) = &self.h2 {
            return streams.checkin(conn);
        }
        self.last_return.set(Some(Instant::now()));
        self.returns.set(self.returns.get() + 1);
        self.hand_over(conn);
    }

    /// A connection, new or used, goes to the longest waiter or to the idle list.
    fn hand_over(self: &Rc<Self>, conn: Connection) {
        if !conn.is_reusable() {
            self.open.set(self.open.get() - 1);
            self.grow();
            return;
        }
        let mut conn = conn;
        loop {
            let Some(waiter) = self.waiters.borrow_mut().pop_front() else {
                break;
            };
            match waiter.tx.send(Ok(conn)) {
                Ok(()) => return,
                // That waiter gave up (its lane stopped); try the next.
                Err(Ok(back)) => conn = back,
                Err(Err(_)) => unreachable!("we sent Ok"),
            }
        }
        self.idle.borrow_mut().push(conn);
    }

    /// A connection that broke or timed out mid-request, never to be checked in.
    pub fn discard(self: &Rc<Self>) {
        if let Some(streams) = &self.h2 {
            return streams.released();
        }
        self.open.set(self.open.get() - 1);
        self.grow();
    }

    /// Opens connections until `wanted` are idle (before a burst). None with a connection
    /// per request: each request opens its own when it is sent.
    pub async fn prefill(self: &Rc<Self>, wanted: usize) {
        if self.opens_own {
            return;
        }
        if let Some(streams) = &self.h2 {
            return streams.prefill(wanted).await;
        }
        let mut missing = wanted.saturating_sub(self.idle.borrow().len());
        let mut opening = JoinSet::new();
        while missing > 0 || !opening.is_empty() {
            while missing > 0 && opening.len() < PREFILL_PARALLELISM {
                let pool = Rc::clone(self);
                opening.spawn_local(async move { pool.transport.connect().await.ok() });
                missing -= 1;
            }
            if let Some(Ok(Some(conn))) = opening.join_next().await {
                self.open.set(self.open.get() + 1);
                self.hand_over(conn);
            }
        }
    }

    /// A connection for a closed-model worker to keep: an idle one, else its own new one —
    /// as wrk's and oha's connections, so that no worker waits behind the others for a
    /// free one (10,000 workers that shared a growing pool waited seconds). A bounded
    /// number connect at once: past a listen queue's length, connects are dropped and
    /// retried a second later.
    pub async fn own(self: &Rc<Self>) -> Result<Connection, Failure> {
        if let Some(c) = self.take_idle() {
            return Ok(c);
        }
        if self.opens_own {
            return self.fresh().await;
        }
        if let Some(streams) = &self.h2 {
            return streams.checkout().await;
        }
        let _turn = self.own_connects.acquire().await;
        let conn = self.transport.connect().await?;
        self.open.set(self.open.get() + 1);
        Ok(conn)
    }

    /// Whether each attempt (`connections = "per-request"`) or each flow (`"per-flow"`)
    /// opens a new connection: nothing is taken from the pool ahead of it.
    pub fn opens_own(&self) -> bool {
        self.opens_own
    }

    /// Whether a flow keeps its connection for its steps and drops it at its end.
    pub fn per_flow(&self) -> bool {
        self.transport.connections == ConnectionPolicy::PerFlow
    }

    /// A new connection for one request, counted open until it is dropped after it.
    async fn fresh(&self) -> Result<Connection, Failure> {
        let conn = self.transport.connect().await?;
        self.open.set(self.open.get() + 1);
        Ok(conn)
    }

    /// A connection to send on again after the server did not process a request on the
    /// last: a new one (HTTP/1.1, in the stale one's place in the count), or a stream slot
    /// as any request takes one (HTTP/2).
    pub async fn reconnect(self: &Rc<Self>) -> Result<Connection, Failure> {
        match &self.h2 {
            Some(streams) if !self.opens_own => streams.checkout().await,
            _ => self.transport.connect().await,
        }
    }

    /// An idle connection, if one is open (HTTP/2: a stream slot on a session with room).
    pub fn take_idle(&self) -> Option<Connection> {
        if let Some(streams) = &self.h2 {
            return streams.take();
        }
        let mut idle = self.idle.borrow_mut();
        while let Some(mut c) = idle.pop() {
            if !c.is_closed() {
                return Some(c);
            }
            self.open.set(self.open.get() - 1);
        }
        None
    }

    /// Starts connects while a request has waited [`GROW_AFTER`] (at once when there are
    /// no connections at all): if none came back meanwhile (a slow or stalled server), a
    /// bounded number at a time, growing with the pool; if they do come back, the wait
    /// comes from too few connections turning over, or from a busy CPU that more would not
    /// help — so one at a time.
    fn grow(self: &Rc<Self>) {
        let oldest = self.waiters.borrow().front().map(|w| w.since.elapsed());
        let Some(oldest) = oldest else { return };
        let connections = self.open.get() + self.connecting.get();
        if connections > 0 && oldest < GROW_AFTER {
            self.recheck_later(GROW_AFTER - oldest);
            return;
        }
        let since_return = self.last_return.get().map_or(GROW_AFTER, |t| t.elapsed());
        let allowed = if since_return >= GROW_AFTER {
            MIN_PARALLEL_CONNECTS.max(self.open.get() / 2)
        } else {
            1
        };
        while self.connecting.get() < allowed && self.may_open() {
            self.connecting.set(self.connecting.get() + 1);
            let pool = Rc::clone(self);
            tokio::task::spawn_local(async move {
                let result = pool.transport.connect().await;
                pool.connecting.set(pool.connecting.get() - 1);
                match result {
                    Ok(conn) => {
                        pool.open.set(pool.open.get() + 1);
                        pool.hand_over(conn);
                        // Requests may still be waiting (closed-model workers keep theirs).
                        pool.grow();
                    }
                    // The server refuses: the longest waiter gets the error, the others a retry.
                    Err(failure) => {
                        let waiter = pool.waiters.borrow_mut().pop_front();
                        if let Some(w) = waiter {
                            let _ = w.tx.send(Err(failure));
                        }
                        pool.grow();
                    }
                }
            });
        }
    }

    /// Takes one connect from this window's budget. A new window's budget depends on the
    /// last: growth that raised the rate of answers (or a server that answered nothing,
    /// stalled) earns more; growth that did not, none — until the next window shows a rise.
    fn may_open(self: &Rc<Self>) -> bool {
        let open = self.open.get() + self.connecting.get();
        if open < FREE_GROWTH {
            return true;
        }
        let mut g = self.gate.borrow_mut();
        let elapsed = g.window_start.elapsed();
        if elapsed >= GROWTH_WINDOW {
            g.next_window(Instant::now(), self.returns.get(), open);
        }
        if g.budget == 0 {
            // Look again when this window ends: requests may still be waiting.
            drop(g);
            self.recheck_later(GROWTH_WINDOW.saturating_sub(elapsed));
            return false;
        }
        g.budget -= 1;
        true
    }

    fn recheck_later(self: &Rc<Self>, after: Duration) {
        if self.recheck_pending.replace(true) {
            return;
        }
        let pool = Rc::clone(self);
        tokio::task::spawn_local(async move {
            tokio::time::sleep(after).await;
            pool.recheck_pending.set(false);
            pool.grow();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_goes_on_only_while_it_pays_off() {
        let t0 = Instant::now();
        let mut g = GrowthGate {
            window_start: t0,
            returns_at_start: 0,
            last_rate: 0.0,
            budget: 0,
        };
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        g.next_window(at(50), 500, 100);
        assert_eq!(g.budget, 25, "answers rose from nothing: a quarter more");
        g.next_window(at(100), 1000, 125);
        assert_eq!(
            g.budget, 0,
            "as many answers as before: more connections bought nothing"
        );
        g.next_window(at(150), 1600, 125);
        assert_eq!(g.budget, 31, "answers rose again");
        g.next_window(at(200), 1600, 156);
        assert_eq!(g.budget, 39, "none at all: a stalled server, so grow");
    }
}
