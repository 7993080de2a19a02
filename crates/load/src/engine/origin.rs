//! The run's time zero: when the lanes begin, on the wall clock and as an instant, and how
//! late that is for a shard told to start at an agreed instant.

use std::time::{Duration, Instant, SystemTime};

/// Time for the lanes' threads to start before the first scheduled send.
const START_DELAY: Duration = Duration::from_millis(50);

/// The run's t = 0 on the wall clock and as an instant, and how late it begins: without
/// `start_at`, as soon as the lanes are up; with it, at that instant (in the past when the
/// process came late: the lanes skip what was due before they could begin).
pub(super) fn origin_of(start_at: Option<SystemTime>) -> (SystemTime, Instant, Duration) {
    let (now_sys, now) = (SystemTime::now(), Instant::now());
    let Some(at) = start_at else {
        return (now_sys + START_DELAY, now + START_DELAY, Duration::ZERO);
    };
    let begin = now + START_DELAY;
    match at.duration_since(now_sys) {
        Ok(ahead) if ahead >= START_DELAY => (at, now + ahead, Duration::ZERO),
        Ok(ahead) => (at, now + ahead, START_DELAY - ahead),
        Err(past) => {
            let behind = past.duration();
            match now.checked_sub(behind) {
                Some(origin) => (at, origin, begin - origin),
                // Further back than this machine's monotonic clock reaches: begin now, and
                // say the run was that late.
                None => (at, now, behind + START_DELAY),
            }
        }
    }
}
