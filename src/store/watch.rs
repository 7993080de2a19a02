//! One abort for every shard of a split test: the shard whose rule trips writes the abort
//! marker to the store; every shard looks for it twice a second and stops with the same
//! reason. A marker counts only for the test it was written in (the same `--start-at`).

use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Store, ABORT_MARKER};
use crate::engine::abort::AbortTrip;
use crate::engine::SharedStop;

/// How often the store is looked at for another shard's abort.
const POLL: Duration = Duration::from_millis(500);

#[derive(Serialize, Deserialize)]
struct Marker {
    /// The test's `--start-at`, as the results write it: which run of the store it ends.
    start_at: String,
    shard: u64,
    trip: AbortTrip,
}

/// Watches `store` for the abort of another shard of the test that starts at `start_at`,
/// and publishes this shard's (`shard`). The thread lives as long as the process.
pub fn shared_stop(store: Store, start_at: String, shard: u64) -> SharedStop {
    let (publish, published) = mpsc::channel::<AbortTrip>();
    let seen = Arc::new(OnceLock::new());
    let found = Arc::clone(&seen);
    let spawned = std::thread::Builder::new()
        .name("stampede-abort-watch".into())
        .spawn(move || loop {
            match published.recv_timeout(POLL) {
                Ok(trip) => {
                    // Ours tripped: tell the others, then stop watching.
                    publish_marker(&store, &start_at, shard, trip);
                    return;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(trip) = read_marker(&store, &start_at, shard) {
                let _ = found.set(trip);
                return;
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot watch the store for other shards' aborts: {e}");
    }
    SharedStop { publish, seen }
}

/// Writes the marker for `trip` (this shard's own abort). Failing to is said, not fatal:
/// the other shards then run to their end, and the merge still reports the abort.
pub fn publish_marker(store: &Store, start_at: &str, shard: u64, trip: AbortTrip) {
    let marker = Marker {
        start_at: start_at.to_string(),
        shard,
        trip,
    };
    let bytes = serde_json::to_vec_pretty(&marker).expect("a marker serialises");
    if let Err(e) = store.put(ABORT_MARKER, &bytes) {
        eprintln!(
            "warning: cannot write the abort marker {}: {e}; the other shards run on",
            store.locate(ABORT_MARKER)
        );
    }
}

/// Another shard's abort of this test, when the store holds one.
fn read_marker(store: &Store, start_at: &str, shard: u64) -> Option<AbortTrip> {
    let bytes = store.get(ABORT_MARKER).ok()??;
    let marker: Marker = serde_json::from_slice(&bytes).ok()?;
    (marker.start_at == start_at && marker.shard != shard).then_some(AbortTrip {
        by_shard: Some(marker.shard),
        ..marker.trip
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trip() -> AbortTrip {
        AbortTrip {
            request: None,
            rule: "throttle_rate".into(),
            limit: 0.05,
            observed: 0.5,
            t_s: 3,
            window_s: 2,
            attempts: 40,
            by_shard: None,
        }
    }

    #[test]
    fn a_marker_stops_the_other_shards_of_the_same_test_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::Dir(dir.path().to_path_buf());
        let at = "2026-11-27T21:00:00.000Z";
        publish_marker(&store, at, 2, trip());
        let seen = read_marker(&store, at, 0).unwrap();
        assert_eq!(seen.by_shard, Some(2));
        assert_eq!(seen.rule, "throttle_rate");
        assert!(read_marker(&store, at, 2).is_none(), "its own");
        assert!(
            read_marker(&store, "2026-11-27T22:00:00.000Z", 0).is_none(),
            "another test"
        );
        let stop = shared_stop(store, at.to_string(), 1);
        let mut waited = Duration::ZERO;
        while stop.seen.get().is_none() && waited < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
            waited += Duration::from_millis(50);
        }
        assert_eq!(stop.seen.get().unwrap().by_shard, Some(2));
    }
}
