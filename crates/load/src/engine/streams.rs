//! A lane's HTTP/2 sessions, as the pool hands them out: a request takes a stream slot on
//! an open session with room (the first such, so sessions fill before new ones open), or
//! waits for one to come free or for a new session. A session is opened when the requests
//! waiting outnumber the room the sessions being opened will bring; sessions that closed or
//! got the server's GOAWAY are let go (their slots still out finish their streams).
//!
//! Lane-local, like the HTTP/1.1 pool: no locks of ours.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::transport::h2::{Session, Slot, ASSUMED_STREAMS};
use crate::transport::{Connection, Failure, Transport};

/// Sessions opened at once while filling before a burst or a closed stage.
const PREFILL_PARALLELISM: usize = 64;

/// An open session the pool hands slots of: a slot kept to make siblings from.
struct Open {
    model: Slot,
    /// Its streams at once, as last read (the server's SETTINGS may change it): read
    /// again when a slot is taken of it, not for every session at every look.
    capacity: usize,
}

impl Open {
    fn new(model: Slot) -> Open {
        Open {
            capacity: model.capacity(),
            model,
        }
    }

    fn session(&self) -> &Arc<Session> {
        self.model.session()
    }

    /// Streams it has room for: the model itself is one slot in use, not a stream.
    fn room(&self) -> usize {
        let streams = self.session().in_use().saturating_sub(1);
        self.capacity.saturating_sub(streams)
    }
}

pub struct Streams {
    transport: Transport,
    sessions: RefCell<Vec<Open>>,
    /// Sessions being opened.
    connecting: Cell<usize>,
    waiters: RefCell<VecDeque<oneshot::Sender<Result<Connection, Failure>>>>,
    /// `max_streams`, or the room a new session is assumed to bring.
    per_session: usize,
    /// GOAWAYs seen on sessions let go, for the next slot handed out to report.
    goaway_news: Cell<u32>,
}

impl Streams {
    pub fn new(transport: &Transport) -> Rc<Streams> {
        let per_session = transport
            .http2
            .and_then(|h| h.max_streams)
            .map_or(ASSUMED_STREAMS, |m| m as usize);
        Rc::new(Streams {
            transport: transport.clone(),
            sessions: RefCell::new(Vec::new()),
            connecting: Cell::new(0),
            waiters: RefCell::new(VecDeque::new()),
            per_session,
            goaway_news: Cell::new(0),
        })
    }

    /// A slot on an open session with room, if there is one.
    pub fn take(&self) -> Option<Connection> {
        let mut sessions = self.sessions.borrow_mut();
        loop {
            let i = sessions.iter().position(|o| o.room() > 0)?;
            let open = &mut sessions[i];
            // Closed or GOAWAY'd sessions take no new streams: let go of them.
            if open.model.is_closed() {
                let mut gone = sessions.swap_remove(i);
                let news = gone.model.take_goaway_news();
                self.goaway_news.set(self.goaway_news.get() + news);
                continue;
            }
            open.capacity = open.model.capacity();
            if open.room() > 0 {
                let mut slot = open.model.sibling();
                slot.pass_goaway_news(self.goaway_news.take());
                return Some(Connection::H2(slot));
            }
        }
    }

    /// A slot now, or the first to come free or be opened.
    pub async fn checkout(self: &Rc<Self>) -> Result<Connection, Failure> {
        if let Some(c) = self.take() {
            return Ok(c);
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().push_back(tx);
        self.open_for_waiters();
        rx.await
            .unwrap_or_else(|_| Err(Failure::Connect("connection pool closed".into())))
    }

    /// A slot back after a request: to the longest waiter while its session may carry
    /// more, else let go (its stream is free again for [`Streams::take`]).
    pub fn checkin(self: &Rc<Self>, conn: Connection) {
        let mut conn = conn;
        if conn.is_reusable() {
            loop {
                let Some(waiter) = self.waiters.borrow_mut().pop_front() else {
                    return;
                };
                match waiter.send(Ok(conn)) {
                    Ok(()) => return,
                    Err(Ok(back)) => conn = back,
                    Err(Err(_)) => unreachable!("we sent Ok"),
                }
            }
        }
        drop(conn);
        self.serve();
    }

    /// A slot was dropped (its request failed or timed out): its room may serve a waiter.
    pub fn released(self: &Rc<Self>) {
        self.serve();
    }

    /// Opens sessions until `wanted` streams have room (before a burst or closed stage).
    pub async fn prefill(self: &Rc<Self>, wanted: usize) {
        let room: usize = self.sessions.borrow().iter().map(Open::room).sum();
        let mut missing = wanted.saturating_sub(room).div_ceil(self.per_session);
        let mut opening = JoinSet::new();
        while missing > 0 || !opening.is_empty() {
            while missing > 0 && opening.len() < PREFILL_PARALLELISM {
                let t = self.transport.clone();
                opening.spawn_local(async move { t.connect().await.ok() });
                missing -= 1;
            }
            if let Some(Ok(Some(Connection::H2(slot)))) = opening.join_next().await {
                self.sessions.borrow_mut().push(Open::new(slot));
            }
        }
    }

    /// Gives waiters the room there is, and opens sessions for those left.
    fn serve(self: &Rc<Self>) {
        while !self.waiters.borrow().is_empty() {
            let Some(slot) = self.take() else { break };
            let waiter = self.waiters.borrow_mut().pop_front();
            if let Some(w) = waiter {
                // A waiter that gave up drops the slot: its room is free again.
                let _ = w.send(Ok(slot));
            }
        }
        self.open_for_waiters();
    }

    /// Starts sessions while the waiters outnumber what those being opened will hold.
    fn open_for_waiters(self: &Rc<Self>) {
        let waiting = self.waiters.borrow().len();
        while self.connecting.get() * self.per_session < waiting {
            self.connecting.set(self.connecting.get() + 1);
            let me = Rc::clone(self);
            tokio::task::spawn_local(async move {
                let result = me.transport.connect().await;
                me.connecting.set(me.connecting.get() - 1);
                match result {
                    Ok(Connection::H2(slot)) => {
                        me.sessions.borrow_mut().push(Open::new(slot));
                        me.serve();
                    }
                    Ok(Connection::H1(_)) => unreachable!("an HTTP/2 transport opens sessions"),
                    // The server refuses: the longest waiter gets the error, the others
                    // another try.
                    Err(failure) => {
                        let waiter = me.waiters.borrow_mut().pop_front();
                        if let Some(w) = waiter {
                            let _ = w.send(Err(failure));
                        }
                        me.open_for_waiters();
                    }
                }
            });
        }
    }
}
