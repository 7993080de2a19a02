//! Requests and attempts the run stopped waiting for: dropped with the lane's tasks, they
//! count themselves as abandoned, so every attempt sent still lands in one class.

use std::rc::Rc;

use super::lane::Lane;

/// Counts a request or an attempt as abandoned when its future is dropped before it ended
/// (the run stopped waiting for it). `done` disarms it.
pub(super) struct Unfinished<'l> {
    lane: &'l Lane,
    stage: usize,
    /// Its request of the mix.
    entry: usize,
    attempt: bool,
    armed: bool,
}

impl<'l> Unfinished<'l> {
    pub fn request(lane: &'l Lane, stage: usize, entry: usize) -> Self {
        Unfinished {
            lane,
            stage,
            entry,
            attempt: false,
            armed: true,
        }
    }

    pub fn attempt(lane: &'l Lane, stage: usize, entry: usize) -> Self {
        // Built whole: a `..Unfinished::request(…)` temporary would be dropped armed.
        Unfinished {
            lane,
            stage,
            entry,
            attempt: true,
            armed: true,
        }
    }

    pub fn done(&mut self) {
        self.armed = false;
    }
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Dropped with the lane's task set, when nothing else holds the recorder.
        let Ok(mut rec) = self.lane.rec.try_borrow_mut() else {
            return;
        };
        if self.attempt {
            rec.on_abandoned_attempt((self.stage, self.entry));
            self.lane.shared.attempts_in_flight.leave(self.entry);
        } else {
            rec.on_abandoned_request(self.stage, Some(self.entry));
        }
    }
}

/// An open-model or burst request handed to its task: holds its slot under the run's
/// in-flight cap until the task ends or is dropped, and counts the request as abandoned
/// when the task is dropped before it ever ran (a lane that stops right after sending it
/// drops tasks never polled, which no [`Unfinished`] inside them can count).
pub(super) struct Dispatched {
    lane: Rc<Lane>,
    stage: usize,
    started: bool,
}

impl Dispatched {
    /// For a request whose slot is taken.
    pub fn new(lane: Rc<Lane>, stage: usize) -> Self {
        Dispatched {
            lane,
            stage,
            started: false,
        }
    }

    /// Its task runs: from here the request counts itself.
    pub fn started(&mut self) {
        self.started = true;
    }
}

impl Drop for Dispatched {
    fn drop(&mut self) {
        self.lane.shared.release_slot();
        if self.started {
            return;
        }
        if let Ok(mut rec) = self.lane.rec.try_borrow_mut() {
            rec.on_abandoned_request(self.stage, None);
        }
    }
}

/// Counts a flow as abandoned when its future is dropped before it ended (the run stopped
/// waiting for it mid-flow: in a step or thinking between two). `done` disarms it.
pub(super) struct UnfinishedFlow<'l> {
    lane: &'l Lane,
    /// (stage, flow entry).
    cell: (usize, usize),
    armed: bool,
}

impl<'l> UnfinishedFlow<'l> {
    pub fn new(lane: &'l Lane, cell: (usize, usize)) -> Self {
        UnfinishedFlow {
            lane,
            cell,
            armed: true,
        }
    }

    pub fn done(&mut self) {
        self.armed = false;
    }
}

impl Drop for UnfinishedFlow<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(mut rec) = self.lane.rec.try_borrow_mut() {
            rec.on_flow_abandoned(self.cell);
        }
    }
}
