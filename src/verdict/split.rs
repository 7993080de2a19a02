//! `plan --shards N`: whether one machine like this one can hold each shard's share of the
//! plan — its rate on schedule, its connections in flight, its descriptors — and, when not,
//! how many shards would. Pure: fed the plans and this machine's cores and limits.

use serde::Serialize;

use crate::schedule::StagePlan;
use crate::verdict::descriptors::SPARE_DESCRIPTORS;

/// Requests per second one core sends on schedule, measured (docs/distributed.md): an open
/// model at 50,000 req/s with p99 send lateness under 2 ms. Plans count half of it, for the
/// TLS, the answers and the machine's other work.
pub const RATE_PER_CORE: f64 = 50_000.0;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SplitPlan {
    pub shards: u64,
    /// Each shard's peak rate on schedule, req/s (its share: every N-th request).
    pub peak_rate: f64,
    /// Each shard's largest burst.
    pub burst: u64,
    /// Each shard's most requests in flight (peak rate × expected latency, a burst, a
    /// closed stage's workers), each a connection.
    pub in_flight: u64,
    /// Cores each shard needs at half a core's measured rate.
    pub cores_needed: u64,
    /// Descriptors each shard needs: its connections and the process's own.
    pub files_needed: u64,
    /// What does not fit on a machine like this one; empty when every share fits.
    pub problems: Vec<String>,
    /// The fewest shards that would fit, when these do not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u64>,
}

/// The whole plan's peak rate (req/s) and largest burst.
pub fn peaks(plans: &[StagePlan]) -> (f64, u64) {
    plans
        .iter()
        .fold((0.0f64, 0u64), |(rate, burst), p| match p {
            StagePlan::Burst { requests } => (rate, burst.max(*requests)),
            other => (rate.max(other.peak_rate().unwrap_or(0.0)), burst),
        })
}

/// Each of `shards` shares of a plan whose peak rate is `rate`, largest burst `burst`, and
/// most in flight `in_flight`, on a machine with `cores` and an open-files hard limit of
/// `hard_files`.
pub fn split(
    rate: f64,
    burst: u64,
    in_flight: u64,
    shards: u64,
    cores: u64,
    hard_files: u64,
) -> SplitPlan {
    let shards = shards.max(1);
    let per_core = RATE_PER_CORE / 2.0;
    let share_rate = rate / shards as f64;
    let share_in_flight = in_flight.div_ceil(shards);
    let files_needed = share_in_flight + SPARE_DESCRIPTORS;
    let cores_needed = ((share_rate / per_core).ceil() as u64).max(1);
    let mut problems = Vec::new();
    let mut at_least = shards;
    if cores_needed > cores {
        let fits = (rate / (per_core * cores as f64)).ceil() as u64;
        at_least = at_least.max(fits);
        problems.push(format!(
            "each shard sends up to {share_rate:.0} req/s: {cores_needed} cores at {per_core:.0} req/s each (half of one core's measured {RATE_PER_CORE:.0}), and this machine has {cores}"
        ));
    }
    let room = hard_files.saturating_sub(SPARE_DESCRIPTORS).max(1);
    if files_needed > hard_files {
        at_least = at_least.max(in_flight.div_ceil(room));
        problems.push(format!(
            "each shard holds up to {share_in_flight} connections in flight: {files_needed} open files, and this machine allows {hard_files}"
        ));
    }
    SplitPlan {
        shards,
        peak_rate: share_rate,
        burst: burst.div_ceil(shards),
        in_flight: share_in_flight,
        cores_needed,
        files_needed,
        at_least: (at_least > shards).then_some(at_least),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_that_fits_says_nothing_and_one_that_does_not_says_how_many_would() {
        let fits = split(60_000.0, 20_000, 12_000, 4, 2, 65_536);
        assert_eq!(
            (fits.peak_rate, fits.in_flight, fits.burst),
            (15_000.0, 3_000, 5_000)
        );
        assert_eq!(fits.cores_needed, 1);
        assert!(fits.problems.is_empty(), "{:?}", fits.problems);
        assert_eq!(fits.at_least, None);

        let two = split(60_000.0, 20_000, 12_000, 1, 2, 4_096);
        assert_eq!(two.cores_needed, 3);
        assert_eq!(two.problems.len(), 2, "{:?}", two.problems);
        assert!(two.problems[0].contains("3 cores"), "{}", two.problems[0]);
        // Rate: 60,000 / (2 × 25,000) = 2 shards; files: 12,000 / 4,032 = 3 shards.
        assert_eq!(two.at_least, Some(3));
    }

    #[test]
    fn peaks_read_rates_and_bursts() {
        let plans = [
            StagePlan::Burst { requests: 300 },
            StagePlan::Pause {
                duration: std::time::Duration::from_secs(1),
            },
        ];
        assert_eq!(peaks(&plans), (0.0, 300));
    }
}
