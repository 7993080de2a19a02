//! The verdict on a run: thresholds, abort rules, the preflight and the quota findings.

mod buckets;
pub mod cloudwatch;
pub mod cloudwatch_routes;
pub mod cost;
pub mod descriptors;
mod environments;
pub mod judge;
pub mod lambda;
mod next_steps;
mod onset;
pub mod preflight;
pub mod quota_check;
pub mod routes;
pub mod split;
pub mod thresholds;

/// `observed` as a percentage of `value`. Against a limit of 0 the share is taken as
/// against a limit of 1, so it stays a finite number that JSON can hold (and any use at
/// all is past the limit).
pub fn percent(observed: f64, value: f64) -> f64 {
    let base = if value > 0.0 { value } else { 1.0 };
    observed / base * 100.0
}

/// Milliseconds, with the precision that reads well at each size.
pub fn ms(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1}s", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0}ms")
    } else if v >= 10.0 {
        format!("{v:.1}ms")
    } else {
        format!("{v:.2}ms")
    }
}

/// A number as people write it: whole when whole.
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_limit_of_zero_gives_a_finite_share() {
        assert_eq!(super::percent(50.0, 200.0), 25.0);
        assert_eq!(super::percent(5.0, 0.0), 500.0);
        assert_eq!(super::percent(0.0, 0.0), 0.0);
    }
}
