//! The flows of a run (`by_flow`) in the words every report shares: a flow's figures on
//! one line, where its failed flows ended. Pure.

use super::outcome::percent;
use super::summary::ms;
use stampede_results::flows::FlowResult;
use std::collections::BTreeMap;

/// Failed / started, as a percentage; `-` when none started.
pub fn failure_percent(f: &FlowResult) -> String {
    if f.started == 0 {
        "-".into()
    } else {
        percent(f.failure_rate())
    }
}

/// A flow's figures on one line: `started 100, completed 88, failed 10 (10.0%),
/// abandoned 2, p50 40.0ms, p99 120ms, 9.8 flows/s`.
pub fn figures(f: &FlowResult) -> String {
    format!(
        "started {}, completed {}, failed {} ({}), abandoned {}, p50 {}, p99 {}, {:.1} flows/s",
        f.started,
        f.completed,
        f.failed,
        failure_percent(f),
        f.abandoned,
        ms(f.latency_ms.p50),
        ms(f.latency_ms.p99),
        f.achieved_fps
    )
}

/// Where a flow's failed flows ended, most first: `buy: 10 ended at login (server_errors
/// 10)`, `buy: 8 ended at login (server_errors 6, timeouts 2); 2 at get order
/// (capture_missing 2)`. `None` when none failed.
pub fn failed_by_step(name: &str, f: &FlowResult) -> Option<String> {
    let steps = ended_at(&f.failed_by_step);
    if steps.is_empty() {
        return None;
    }
    let parts: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, (step, n, reasons))| {
            let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
            let verb = if i == 0 { " ended" } else { "" };
            format!("{n}{verb} at {step} ({})", reasons.join(", "))
        })
        .collect();
    Some(format!("{name}: {}", parts.join("; ")))
}

/// Each step flows ended at with its count and its reasons, the most first (then by name).
type Ended<'a> = (&'a str, u64, Vec<(&'a str, u64)>);

fn ended_at(by_step: &BTreeMap<String, BTreeMap<String, u64>>) -> Vec<Ended<'_>> {
    let mut steps: Vec<Ended<'_>> = by_step
        .iter()
        .map(|(step, reasons)| {
            let mut rs: Vec<(&str, u64)> = reasons.iter().map(|(r, n)| (r.as_str(), *n)).collect();
            rs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            (step.as_str(), rs.iter().map(|(_, n)| n).sum(), rs)
        })
        .filter(|(_, n, _)| *n > 0)
        .collect();
    steps.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn failed_flows_are_told_by_the_step_they_ended_at_most_first() {
        let r = fixture::flowed();
        let flows = r.by_flow.as_ref().unwrap();
        assert_eq!(
            failed_by_step("buy", &flows["buy"]).unwrap(),
            "buy: 10 ended at login (server_errors 7, timeouts 3); 2 at get order (capture_missing 2)"
        );
        assert_eq!(failed_by_step("browse", &flows["browse"]), None);
        assert_eq!(
            figures(&flows["buy"]),
            "started 100, completed 86, failed 12 (12.0%), abandoned 2, p50 80.0ms, p99 320ms, 9.8 flows/s"
        );
    }
}
