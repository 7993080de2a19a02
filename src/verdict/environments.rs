//! New execution environments as Lambda makes them: one is created only when the
//! function's concurrency is more than the environments it has (a free one is reused, and
//! it stays warm after its request), and no faster than the scaling rate allows: a bucket
//! of that many environments, full at the start and refilled evenly over 10 s (AWS: 1,000
//! more every 10 s; the emulator's `scaling` is the same bucket).
//! Requests in flight at the client are not environments: throttled ones never reach the
//! function, and those past its ceiling are refused. Pure.

/// The scaling rate's window.
pub(super) const WINDOW_S: usize = 10;

/// Environments created each second, for the function's concurrency each second (already
/// capped at its ceiling), `warm` environments at the start (provisioned, or left warm),
/// and a scaling bucket of `per_10s` environments refilled over 10 s (`None`: unlimited).
pub(super) fn created_per_second(concurrency: &[f64], warm: f64, per_10s: Option<f64>) -> Vec<f64> {
    let mut created: Vec<f64> = Vec::with_capacity(concurrency.len());
    let mut have = warm.max(0.0);
    let mut tokens = per_10s.unwrap_or(f64::INFINITY);
    for (i, &c) in concurrency.iter().enumerate() {
        if let Some(limit) = per_10s.filter(|_| i > 0) {
            tokens = (tokens + limit / WINDOW_S as f64).min(limit);
        }
        let wanted = (c.ceil() - have).max(0.0);
        let n = wanted.min(tokens.floor());
        tokens -= n;
        have += n;
        created.push(n);
    }
    created
}

/// For each second, what was created in the 10 s that end with it.
pub(super) fn in_10s(created: &[f64]) -> Vec<f64> {
    (0..created.len())
        .map(|i| created[i.saturating_sub(WINDOW_S - 1)..=i].iter().sum())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peak(v: &[f64]) -> f64 {
        v.iter().copied().fold(0.0, f64::max)
    }

    #[test]
    fn free_environments_are_reused_so_only_new_highs_create() {
        // Up to 50, down to 10, up to 40: nothing new after the first climb.
        let c = [20.0, 50.0, 10.0, 40.0, 50.0];
        let made = created_per_second(&c, 0.0, None);
        assert_eq!(made, vec![20.0, 30.0, 0.0, 0.0, 0.0]);
        assert_eq!(peak(&in_10s(&made)), 50.0);
    }

    #[test]
    fn warm_environments_are_used_first() {
        // lambda.toml: a burst of 1,000 on 100 warm environments makes 900.
        let made = created_per_second(&[1000.0], 100.0, Some(1000.0));
        assert_eq!(made, vec![900.0]);
    }

    #[test]
    fn the_scaling_rate_is_a_bucket_full_at_the_start_and_refilled_over_10_s() {
        // A burst of 5,000 against 1,000 per 10 s: 1,000 at once, then 100 a second.
        let c = vec![5000.0; 12];
        let made = created_per_second(&c, 0.0, Some(1000.0));
        assert_eq!(made[0], 1000.0);
        assert!(made[1..].iter().all(|&n| n == 100.0), "{made:?}");
        assert_eq!(peak(&in_10s(&made)), 1900.0);
    }

    #[test]
    fn a_ramp_past_the_scaling_rate_makes_what_the_bucket_allows() {
        // The emulator with 50 per 10 s created 79 on a 6 s ramp to 300 in flight: the
        // bucket's 50 (and 5 refilled) in the first two seconds, then 5 a second.
        let c = [20.0, 60.0, 110.0, 160.0, 210.0, 260.0, 300.0];
        let made = created_per_second(&c, 0.0, Some(50.0));
        assert_eq!(made, vec![20.0, 35.0, 5.0, 5.0, 5.0, 5.0, 5.0]);
        assert_eq!(peak(&in_10s(&made)), 80.0);
    }
}
