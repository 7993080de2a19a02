//! A lane's keep-alive connections. A request takes an idle connection, or waits for one
//! (first come, first served). The pool grows only when a request has waited longer than
//! [`GROW_AFTER`], and then a bounded number of connects at a time: opening a connection
//! for every waiting request turns a brief CPU stall into thousands of connects, which
//! make the stall worse (measured: a 40k req/s run collapsing). Lane-local, so no locks.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::transport::{Connection, Failure, Transport};

/// Connects under way at once, at least; more as the pool grows (a quarter of its size).
const MIN_PARALLEL_CONNECTS: usize = 4;
/// A request waiting this long for a connection to come free makes the pool grow.
const GROW_AFTER: Duration = Duration::from_millis(1);
/// Connects under way at once while filling the pool before a burst.
const PREFILL_PARALLELISM: usize = 256;

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
    /// A task will look at the waiters again after `GROW_AFTER`.
    recheck_pending: Cell<bool>,
}

impl Pool {
    pub fn new(transport: Transport) -> Rc<Pool> {
        Rc::new(Pool {
            transport,
            idle: RefCell::new(Vec::new()),
            waiters: RefCell::new(VecDeque::new()),
            open: Cell::new(0),
            connecting: Cell::new(0),
            recheck_pending: Cell::new(false),
        })
    }

    /// An idle connection, or the first one to come free or be opened.
    pub async fn checkout(self: &Rc<Self>) -> Result<Connection, Failure> {
        if let Some(c) = self.take_idle() {
            return Ok(c);
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().push_back(Waiter {
            since: Instant::now(),
            tx,
        });
        self.grow();
        rx.await
            .unwrap_or_else(|_| Err(Failure::Connect("connection pool closed".into())))
    }

    /// Returns a connection after use: to the longest waiter, else to the idle list.
    /// A connection that cannot carry another request is dropped.
    pub fn checkin(self: &Rc<Self>, conn: Connection) {
        if conn.is_closed() {
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
        self.open.set(self.open.get() - 1);
        self.grow();
    }

    /// Opens connections until `wanted` are idle (before a burst).
    pub async fn prefill(self: &Rc<Self>, wanted: usize) {
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
                self.checkin(conn);
            }
        }
    }

    fn take_idle(&self) -> Option<Connection> {
        let mut idle = self.idle.borrow_mut();
        while let Some(c) = idle.pop() {
            if !c.is_closed() {
                return Some(c);
            }
            self.open.set(self.open.get() - 1);
        }
        None
    }

    /// Starts connects for waiting requests, a bounded number at a time, once the
    /// longest waiter has waited `GROW_AFTER` (at once when there is no connection at all).
    fn grow(self: &Rc<Self>) {
        let oldest = self.waiters.borrow().front().map(|w| w.since.elapsed());
        let Some(oldest) = oldest else { return };
        let connections = self.open.get() + self.connecting.get();
        if connections > 0 && oldest < GROW_AFTER {
            self.recheck_later(GROW_AFTER - oldest);
            return;
        }
        let allowed = MIN_PARALLEL_CONNECTS.max(self.open.get() / 4);
        while self.connecting.get() < allowed && self.waiters.borrow().len() > self.connecting.get()
        {
            self.connecting.set(self.connecting.get() + 1);
            let pool = Rc::clone(self);
            tokio::task::spawn_local(async move {
                let result = pool.transport.connect().await;
                pool.connecting.set(pool.connecting.get() - 1);
                match result {
                    Ok(conn) => {
                        pool.open.set(pool.open.get() + 1);
                        pool.checkin(conn);
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
