//! What the coordinator tells those watching the run live (`--metrics-listen`, `--live`,
//! remote write): each second's final point as it is merged, four times a second where the
//! run stands, and its end. The lanes' counters are bumped by the lanes themselves
//! (`record::live`); this is the coordinator's part.

use std::sync::atomic::Ordering::Relaxed;

use super::Shared;
use crate::record::live::LiveRun;
use crate::record::TimelinePoint;

/// The timeline's seconds from `known` on, which the watchers have not had yet.
pub(super) fn publish_points(live: &LiveRun, points: &[TimelinePoint], known: usize) {
    if let Some(new) = points.get(known..).filter(|new| !new.is_empty()) {
        live.state().points.extend_from_slice(new);
    }
}

/// Where the run stands now: its stage, time, attempts under way, the stages begun.
pub(super) fn publish_progress(live: &LiveRun, shared: &Shared) {
    let mut state = live.state();
    state.stage = shared.current_stage.load(Relaxed);
    state.elapsed = shared.origin().elapsed();
    state.in_flight = shared.attempts_in_flight.load();
    state.stopping = shared.stopping();
    state.stage_starts_s = shared
        .stage_starts_us
        .iter()
        .map(|us| match us.load(Relaxed) {
            u64::MAX => None,
            us => Some(us as f64 / 1e6),
        })
        .collect();
}

/// The run has ended: its last seconds, nothing in flight.
pub(super) fn publish_end(live: &LiveRun, points: &[TimelinePoint]) {
    let known = live.state().points.len();
    publish_points(live, points, known);
    let mut state = live.state();
    state.in_flight = 0;
    state.stopping = true;
    state.ended = true;
}
