//! The logical request number k: the one input of "which request" (the mix's entry, its
//! templates' `{{seq}}`). Unique across stages, lanes and shards, and the same whatever
//! `--threads` and however the run is split, because it is a function of the schedule
//! alone.

use crate::schedule::StagePlan;

/// Numbers a closed (concurrency) stage reserves per worker: it has no planned count, and
/// no worker sends 2³² requests in one stage.
pub const CLOSED_WORKER_SPAN: u64 = 1 << 32;

/// The first number of each stage: the planned counts of the stages before it (a closed
/// stage reserves `workers × 2³²`, a pause nothing).
pub fn stage_bases(plans: &[StagePlan]) -> Vec<u64> {
    let mut next = 0u64;
    plans
        .iter()
        .map(|plan| {
            let base = next;
            next = next.wrapping_add(match plan {
                StagePlan::Open(pacing) => pacing.count(),
                StagePlan::Burst { requests } => *requests,
                StagePlan::Closed { workers, .. } => workers.wrapping_mul(CLOSED_WORKER_SPAN),
                StagePlan::Pause { .. } => 0,
            });
            base
        })
        .collect()
}

/// Request `index` of an open or burst stage (its place in the stage, global across lanes
/// and shards).
#[inline]
pub fn scheduled_number(base: u64, index: u64) -> u64 {
    base.wrapping_add(index)
}

/// Worker `worker`'s `j`-th request in a closed stage of `workers` workers: the workers'
/// requests interleave, so the first `workers × n` numbers are what n rounds send.
#[inline]
pub fn closed_number(base: u64, worker: u64, j: u64, workers: u64) -> u64 {
    base.wrapping_add(worker)
        .wrapping_add(j.wrapping_mul(workers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Stage, StageKind};
    use std::time::Duration;

    #[test]
    fn stages_follow_each_other_without_overlap() {
        let second = Duration::from_secs(1);
        let open = StagePlan::for_stage(&Stage {
            name: "c".into(),
            kind: StageKind::Constant {
                rate: 10.0,
                duration: second,
            },
        });
        let plans = [
            StagePlan::Burst { requests: 5 },
            StagePlan::Pause { duration: second },
            open,
            StagePlan::Closed {
                workers: 3,
                duration: second,
            },
            StagePlan::Burst { requests: 1 },
        ];
        assert_eq!(
            stage_bases(&plans),
            vec![0, 5, 5, 15, 15 + 3 * CLOSED_WORKER_SPAN]
        );
        assert_eq!(scheduled_number(5, 9), 14);
    }

    #[test]
    fn closed_workers_interleave_and_never_collide() {
        let workers = 4;
        let mut seen: Vec<u64> = (0..workers)
            .flat_map(|w| (0..5).map(move |j| closed_number(100, w, j, workers)))
            .collect();
        seen.sort();
        assert_eq!(seen, (100..120).collect::<Vec<_>>());
        assert_eq!(closed_number(100, 1, 2, workers), 109);
    }
}
