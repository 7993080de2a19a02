//! The verdict a results file carries, in words: pass, or fail and why. The exit code of
//! `run` says the same in one number (docs/exit-codes.md); the reports spell it out.

use crate::results::Results;
use crate::verdict::thresholds::ThresholdResult;

use super::summary::ms;

/// Why the run did not pass, most serious first; empty when it passed.
pub fn reasons(r: &Results) -> Vec<String> {
    let mut why = Vec::new();
    for fault in &r.faults {
        why.push(format!("stampede failed: {fault}"));
    }
    if r.interrupted {
        why.push("interrupted by a signal".to_string());
    }
    if let Some(trip) = &r.aborted {
        why.push(trip.describe());
    }
    why.extend(r.traffic_failures());
    let failed: Vec<&ThresholdResult> = r.thresholds.iter().filter(|t| !t.pass).collect();
    if !failed.is_empty() {
        let names: Vec<String> = failed.iter().map(|t| threshold_name(t)).collect();
        why.push(format!(
            "{} threshold{} failed: {}",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    if !r.quota_check.pass {
        why.push("the quota check failed".to_string());
    }
    why
}

/// `p99 ≤ 800ms`, or `stage ramp: throttle_rate ≤ 1%`.
pub fn threshold_name(t: &ThresholdResult) -> String {
    match &t.stage {
        Some(stage) => format!("stage {stage}: {} ≤ {}", t.name, t.limit),
        None => format!("{} ≤ {}", t.name, t.limit),
    }
}

/// What a threshold observed, in its own unit: milliseconds, or a percentage for rates.
pub fn observed(t: &ThresholdResult) -> String {
    if t.name.ends_with("_rate") {
        percent(t.observed)
    } else {
        ms(t.observed)
    }
}

/// A fraction as a percentage with the precision that reads well.
pub fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p == 0.0 || p >= 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

/// Requests per second over the whole run.
pub fn achieved_rps(r: &Results) -> f64 {
    if r.duration_s > 0.0 {
        r.totals.requests as f64 / r.duration_s
    } else {
        0.0
    }
}
