//! Whether the open-files limit can hold the plan: every request in flight holds a
//! connection, and a connection a file descriptor. Past the limit, connects fail with
//! EMFILE, which looks like a server refusing. Pure: fed the plans and the limit.

use std::time::Duration;

use crate::scenario::Stage;
use crate::schedule::StagePlan;

/// Descriptors the process holds besides connections: stdio, runtimes, timers, the log.
pub const SPARE_DESCRIPTORS: u64 = 64;

/// The most requests the plan could hold in flight at once, and where: a closed stage's
/// workers, a burst's requests, or an open stage's peak rate × the attempt timeout (the
/// worst case, when the server answers nothing), never more than `--max-in-flight`.
pub fn planned_in_flight(
    stages: &[Stage],
    plans: &[StagePlan],
    timeout: Duration,
    max_in_flight: u64,
) -> (u64, String) {
    let mut worst = (0, String::new());
    for (stage, plan) in stages.iter().zip(plans) {
        let (n, how) = match plan {
            StagePlan::Open(p) => {
                let n = (p.peak_rate() * timeout.as_secs_f64()).ceil() as u64;
                (n, "peak rate × attempt timeout")
            }
            StagePlan::Burst { requests } => (*requests, "burst"),
            StagePlan::Closed { workers, .. } => (*workers, "workers"),
            StagePlan::Pause { .. } => (0, ""),
        };
        let n = n.min(max_in_flight);
        if n > worst.0 {
            worst = (n, format!("stage `{}`: {how}", stage.name));
        }
    }
    worst
}

/// A warning when `in_flight` connections (and the spare descriptors) do not fit the
/// open-files limit `soft` (already raised as far as `hard` allows), with what to run.
pub fn warning(in_flight: u64, basis: &str, soft: u64, hard: u64) -> Option<String> {
    let needed = in_flight + SPARE_DESCRIPTORS;
    if needed <= soft {
        return None;
    }
    let suggest = needed.next_multiple_of(1024);
    let how = if suggest <= hard {
        format!("run `ulimit -n {suggest}` first")
    } else {
        format!(
            "the hard limit is {hard}: raise it (`ulimit -Hn {suggest}` as root, or the nofile limit in /etc/security/limits.conf or the container's settings), then `ulimit -n {suggest}`"
        )
    };
    Some(format!(
        "up to {in_flight} requests may be in flight ({basis}), each on a connection, but the open-files limit is {soft}: connects past it fail as local errors (out of file descriptors); {how}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::StageKind;

    fn stage(name: &str, kind: StageKind) -> (Stage, StagePlan) {
        let s = Stage {
            name: name.into(),
            kind,
        };
        let p = StagePlan::for_stage(&s);
        (s, p)
    }

    #[test]
    fn the_worst_stage_sets_the_need() {
        let (a, pa) = stage(
            "soak",
            StageKind::Concurrency {
                workers: 200,
                duration: Duration::from_secs(2),
            },
        );
        let (b, pb) = stage(
            "steady",
            StageKind::Constant {
                rate: 100.0,
                duration: Duration::from_secs(5),
            },
        );
        let (n, basis) = planned_in_flight(
            &[a.clone(), b.clone()],
            &[pa.clone(), pb.clone()],
            Duration::from_secs(29),
            20_000,
        );
        assert_eq!(n, 2900);
        assert!(basis.contains("steady"), "{basis}");
        let (n, _) = planned_in_flight(&[a, b], &[pa, pb], Duration::from_secs(1), 20_000);
        assert_eq!(n, 200, "the workers, when the rate needs fewer");
    }

    #[test]
    fn warns_with_the_command_to_run() {
        assert_eq!(warning(100, "w", 4096, 4096), None);
        let w = warning(200, "stage `soak`: workers", 64, 1_048_576).unwrap();
        assert!(w.contains("open-files limit is 64"), "{w}");
        assert!(w.contains("ulimit -n 1024"), "{w}");
        let w = warning(5000, "burst", 64, 64).unwrap();
        assert!(w.contains("hard limit is 64"), "{w}");
    }
}
