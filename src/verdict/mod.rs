//! The verdict on a run: thresholds, abort rules, the preflight and the quota findings.

pub mod abort;
mod next_steps;
mod onset;
pub mod preflight;
pub mod quota_check;
pub mod thresholds;

/// `observed` as a percentage of `value` (a zero limit is infinitely exceeded).
pub fn percent(observed: f64, value: f64) -> f64 {
    if value > 0.0 {
        observed / value * 100.0
    } else {
        f64::INFINITY
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
