//! New execution environments as Lambda makes them: one is created only when the
//! function's concurrency is more than the environments it has (a free one is reused, and
//! it stays warm after its request), and no more than the scaling rate allows in any 10 s.
//! Requests in flight at the client are not environments: throttled ones never reach the
//! function, and those past its ceiling are refused. Pure.

/// The scaling rate's window.
pub(super) const WINDOW_S: usize = 10;

/// Environments created each second, for the function's concurrency each second (already
/// capped at its ceiling), `warm` environments at the start (provisioned, or left warm),
/// and at most `per_10s` new ones in any 10 s (`None`: unlimited).
pub(super) fn created_per_second(concurrency: &[f64], warm: f64, per_10s: Option<f64>) -> Vec<f64> {
    let mut created: Vec<f64> = Vec::with_capacity(concurrency.len());
    let mut have = warm.max(0.0);
    for (i, &c) in concurrency.iter().enumerate() {
        let wanted = (c.ceil() - have).max(0.0);
        let room = per_10s.map_or(f64::INFINITY, |limit| {
            let recent: f64 = created[i.saturating_sub(WINDOW_S - 1)..i].iter().sum();
            (limit - recent).max(0.0)
        });
        let n = wanted.min(room);
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
    fn at_most_the_scaling_rate_in_any_10_s() {
        // A burst of 5,000 against 1,000 per 10 s: 1,000 now, the next 1,000 ten seconds on.
        let mut c = vec![5000.0; 12];
        c[0] = 5000.0;
        let made = created_per_second(&c, 0.0, Some(1000.0));
        assert_eq!(made[0], 1000.0);
        assert_eq!(made[1..10].iter().sum::<f64>(), 0.0);
        assert_eq!(made[10], 1000.0);
        assert_eq!(peak(&in_10s(&made)), 1000.0);
    }
}
