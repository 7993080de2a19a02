//! The verdict on a run: thresholds, abort rules, the preflight and the quota findings.

pub mod abort;
mod next_steps;
mod onset;
pub mod preflight;
pub mod quota_check;
pub mod thresholds;
