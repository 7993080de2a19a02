//! The logical request number k: the one input of "which request" (the mix's entry, its
//! templates' `{{seq}}`). Unique across stages, lanes and shards, and the same whatever
//! `--threads` and however the run is split, because it is a function of the schedule
//! alone.

use crate::scenario::Requests;
use crate::schedule::StagePlan;
use stampede_mix::Rotation;

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

/// What a stage of `n` planned requests from number `base` sends of each entry of the
/// mix, in the part `index` of `count` (a shard) — the items `i` of the stage with
/// `i mod count = index` — counted over the rotation's period, never by a scan.
pub fn planned_by_entry(
    rotation: &Rotation,
    base: u64,
    n: u64,
    index: u64,
    count: u64,
) -> Vec<u64> {
    let Some(end) = base.checked_add(n) else {
        return vec![0; rotation.entries()];
    };
    // Numbers base + i with i ≡ index are the k < end with k ≡ base + index, less those < base.
    let part = ((base % count) + index) % count;
    let upto_end = rotation.counts(end, part, count);
    let before = rotation.counts(base, part, count);
    upto_end.iter().zip(before).map(|(a, b)| a - b).collect()
}

/// What a stage of `n` planned units from `base` plans per request of `mix`, in part
/// `index` of `count`: its share of the rotation's requests, or with `[[flows]]` the steps
/// of its share of the flows (a flow of three steps plans one of each).
pub fn planned_by_request(mix: &Requests, base: u64, n: u64, index: u64, count: u64) -> Vec<u64> {
    match &mix.flows {
        None => planned_by_entry(&mix.rotation, base, n, index, count),
        Some(flows) => {
            let per_flow = planned_by_entry(&flows.rotation, base, n, index, count);
            flows.requests_of(&per_flow, mix.entries.len())
        }
    }
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
    fn a_shards_planned_share_per_entry_is_a_scan_of_its_numbers() {
        let r = Rotation::new(&[3, 6, 1]).unwrap();
        for (base, n) in [(0, 1000), (7, 33), (500, 1), (13, 0)] {
            for count in 1..5 {
                let mut sum = [0; 3];
                for index in 0..count {
                    let mut scan = vec![0; 3];
                    for i in (index..n).step_by(count as usize) {
                        scan[r.entry(base + i)] += 1;
                    }
                    let counted = planned_by_entry(&r, base, n, index, count);
                    assert_eq!(counted, scan, "base {base} n {n} {index}/{count}");
                    sum.iter_mut().zip(&counted).for_each(|(s, c)| *s += c);
                }
                assert_eq!(sum.iter().sum::<u64>(), n);
            }
        }
        assert_eq!(planned_by_entry(&r, 0, 1000, 0, 1), vec![300, 600, 100]);
    }

    #[test]
    fn with_flows_a_stage_plans_the_steps_of_its_share_of_the_flows() {
        let text = "[target]\nurl = \"http://127.0.0.1:9\"\n\
            [[requests]]\nname = \"a\"\npath = \"/a\"\n[[requests]]\nname = \"b\"\npath = \"/b\"\n\
            [[flows]]\nname = \"ab\"\nweight = 3\nsteps = [\"a\", \"b\", \"b\"]\n\
            [[flows]]\nname = \"a\"\nsteps = [\"a\"]\n\
            [[stages]]\nkind = \"burst\"\nrequests = 100\n";
        let s = crate::scenario::parse_str(std::path::Path::new("s.toml"), text, None).unwrap();
        let mix = s.requests.unwrap();
        // 75 flows ab and 25 flows a: a 75 + 25 times, b twice in each ab.
        assert_eq!(planned_by_request(&mix, 0, 100, 0, 1), vec![100, 150]);
        let shards: Vec<Vec<u64>> = (0..3)
            .map(|i| planned_by_request(&mix, 7, 100, i, 3))
            .collect();
        let sum: Vec<u64> = (0..2).map(|e| shards.iter().map(|s| s[e]).sum()).collect();
        assert_eq!(sum, planned_by_request(&mix, 7, 100, 0, 1));
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
