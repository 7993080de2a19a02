//! Attempts under way: run-wide (the live view's and the timeline's "in flight") and, with
//! a `[[requests]]` mix, per request — so the quota check can say what a route's function
//! had in flight when its throttles began. Atomics shared by every lane.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub(super) struct AttemptsInFlight {
    all: AtomicU64,
    /// By entry of the mix; empty without `[[requests]]` (nothing more to count).
    by_entry: Box<[AtomicU64]>,
}

impl AttemptsInFlight {
    pub fn new(entries: usize) -> AttemptsInFlight {
        AttemptsInFlight {
            all: AtomicU64::new(0),
            by_entry: (0..entries).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// An attempt of `entry` leaves: (run-wide, its request's), each with it counted.
    pub fn enter(&self, entry: usize) -> (u64, u64) {
        let all = self.all.fetch_add(1, Relaxed) + 1;
        let own = self
            .by_entry
            .get(entry)
            .map_or(0, |n| n.fetch_add(1, Relaxed) + 1);
        (all, own)
    }

    /// An attempt of `entry` ended (or was abandoned).
    pub fn leave(&self, entry: usize) {
        self.all.fetch_sub(1, Relaxed);
        if let Some(n) = self.by_entry.get(entry) {
            n.fetch_sub(1, Relaxed);
        }
    }

    pub fn load(&self) -> u64 {
        self.all.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_is_counted_apart_and_in_the_whole() {
        let f = AttemptsInFlight::new(2);
        assert_eq!(f.enter(0), (1, 1));
        assert_eq!(f.enter(1), (2, 1));
        assert_eq!(f.enter(1), (3, 2));
        f.leave(1);
        assert_eq!(f.load(), 2);
        assert_eq!(f.enter(1), (3, 2));
        // Without a mix only the whole is counted.
        let plain = AttemptsInFlight::new(0);
        assert_eq!(plain.enter(0), (1, 0));
    }
}
