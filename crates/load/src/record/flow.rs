//! What one `[[flows]]` entry did in a stage: flows started, completed, failed (by step
//! and reason) and abandoned, and the end-to-end latency of those that completed.

use hdrhistogram::Histogram;

use super::stage::{min_some, put};
use stampede_results::histogram::new_request_histogram;

/// Why a flow ended at a step: its request's final attempt class (`throttled`,
/// `server_errors`, …), or [`CAPTURE_MISSING`].
pub type FailReason = &'static str;

/// The reason of a step whose answer was ok but lacked a value it captures.
pub const CAPTURE_MISSING: FailReason = "capture_missing";

/// One flow's figures in a stage (or the run, once merged).
#[derive(Clone, Debug)]
pub struct FlowRecord {
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    /// Started and never ended: in flight (or thinking) when the run stopped waiting.
    pub abandoned: u64,
    /// (step index, reason, flows that failed there for it): a handful of entries.
    pub failed_by_step: Vec<(usize, FailReason, u64)>,
    /// Scheduled start → last step's end, think included, of the flows that completed (µs).
    pub latency: Histogram<u64>,
    pub first_start_us: Option<u64>,
    pub last_done_us: Option<u64>,
}

impl FlowRecord {
    pub fn new() -> FlowRecord {
        FlowRecord {
            started: 0,
            completed: 0,
            failed: 0,
            abandoned: 0,
            failed_by_step: Vec::new(),
            latency: new_request_histogram(),
            first_start_us: None,
            last_done_us: None,
        }
    }

    pub(super) fn start(&mut self, at_us: u64) {
        self.started += 1;
        self.first_start_us = min_some(self.first_start_us, Some(at_us));
    }

    pub(super) fn complete(&mut self, e2e_us: u64, done_us: u64) {
        self.completed += 1;
        put(&mut self.latency, e2e_us.max(1));
        self.last_done_us = self.last_done_us.max(Some(done_us));
    }

    pub(super) fn fail(&mut self, step: usize, reason: FailReason, done_us: u64) {
        self.failed += 1;
        count_failure(&mut self.failed_by_step, step, reason, 1);
        self.last_done_us = self.last_done_us.max(Some(done_us));
    }

    pub fn merge(&mut self, o: &FlowRecord) {
        self.started += o.started;
        self.completed += o.completed;
        self.failed += o.failed;
        self.abandoned += o.abandoned;
        for (step, reason, n) in &o.failed_by_step {
            count_failure(&mut self.failed_by_step, *step, reason, *n);
        }
        self.latency.add(&o.latency).expect("same bounds");
        self.first_start_us = min_some(self.first_start_us, o.first_start_us);
        self.last_done_us = self.last_done_us.max(o.last_done_us);
    }
}

impl Default for FlowRecord {
    fn default() -> Self {
        FlowRecord::new()
    }
}

/// Adds `n` failures at `step` for `reason`.
fn count_failure(
    counts: &mut Vec<(usize, FailReason, u64)>,
    step: usize,
    reason: FailReason,
    n: u64,
) {
    match counts
        .iter_mut()
        .find(|(s, r, _)| *s == step && *r == reason)
    {
        Some((_, _, c)) => *c += n,
        None => counts.push((step, reason, n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_by_step_and_reason_and_merge() {
        let mut a = FlowRecord::new();
        a.start(10);
        a.start(5);
        a.start(7);
        a.fail(0, "server_errors", 20);
        a.fail(0, "server_errors", 21);
        a.complete(400_000, 30);
        let mut b = FlowRecord::new();
        b.start(3);
        b.fail(2, CAPTURE_MISSING, 40);
        b.fail(0, "server_errors", 41);
        b.abandoned += 1;
        a.merge(&b);
        assert_eq!(
            (a.started, a.completed, a.failed, a.abandoned),
            (4, 1, 4, 1)
        );
        assert_eq!(
            a.failed_by_step,
            vec![(0, "server_errors", 3), (2, CAPTURE_MISSING, 1)]
        );
        assert_eq!(a.latency.len(), 1);
        assert!(a.latency.max() >= 400_000);
        assert_eq!((a.first_start_us, a.last_done_us), (Some(3), Some(41)));
    }
}
