//! The flows of a run (`by_flow`) in the words every report shares — a flow's figures on
//! one line, where its failed flows ended — and the Markdown report's flow tables. Pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::markdown::{cell, line};
use super::outcome::percent;
use super::summary::ms;
use crate::results::Results;
use stampede_results::flows::FlowResult;

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

/// With `[[flows]]`: a row per flow over the run, then where the failed ones ended.
pub fn markdown(r: &Results) -> String {
    let Some(flows) = r.by_flow.as_ref().filter(|f| !f.is_empty()) else {
        return String::new();
    };
    let mut out = String::from(
        "### Flows\n\n| flow | started | completed | failed | abandoned | failure % | p50 | p99 | flows/s |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for (name, f) in flows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            cell(name),
            f.started,
            f.completed,
            f.failed,
            f.abandoned,
            failure_percent(f),
            ms(f.latency_ms.p50),
            ms(f.latency_ms.p99),
            f.achieved_fps
        );
    }
    out.push('\n');
    let failed: Vec<String> = flows
        .iter()
        .filter_map(|(name, f)| failed_by_step(name, f))
        .collect();
    if !failed.is_empty() {
        out.push_str("Where failed flows ended:\n\n");
        for l in failed {
            let _ = writeln!(out, "- {}", line(&l));
        }
        out.push('\n');
    }
    out
}

/// Most rows the Markdown table of flows by stage gets, as the requests by stage.
const FLOWS_BY_STAGE_MAX_ROWS: usize = 60;

/// With `[[flows]]` and more than one stage that ran flows: each stage's flows, compactly
/// (started, completed, failed, abandoned, p99).
pub fn markdown_by_stage(r: &Results) -> String {
    let stages: Vec<_> = r
        .stages
        .iter()
        .filter_map(|s| Some((s, s.by_flow.as_ref()?)))
        .filter(|(_, f)| f.values().any(|f| f.started > 0))
        .collect();
    if stages.len() < 2 {
        return String::new();
    }
    let rows: usize = stages.iter().map(|(_, f)| f.len()).sum();
    let mut out = String::from("### Flows by stage\n\n");
    if rows > FLOWS_BY_STAGE_MAX_ROWS {
        let _ = writeln!(
            out,
            "{rows} rows ({} stages × their flows): each stage's `by_flow` in the results file, or the HTML report, has them.\n",
            stages.len()
        );
        return out;
    }
    out.push_str(
        "| stage | flow | started | completed | failed | abandoned | p99 |\n|---|---|--:|--:|--:|--:|--:|\n",
    );
    for (s, flows) in stages {
        for (name, f) in flows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&s.name),
                cell(name),
                f.started,
                f.completed,
                f.failed,
                f.abandoned,
                ms(f.latency_ms.p99)
            );
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{fixture, markdown};

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

    #[test]
    fn the_markdown_has_a_table_of_flows_after_the_requests() {
        let md = markdown::render(&fixture::flowed());
        let requests = md.find("### Requests\n").expect(&md);
        let flows = md.find("### Flows\n").expect(&md);
        assert!(requests < flows, "{md}");
        assert!(
            md.contains("| buy | 100 | 86 | 12 | 2 | 12.0% | 80.0ms | 320ms | 9.8 |"),
            "{md}"
        );
        assert!(
            md.contains("| browse | 50 | 50 | 0 | 0 | 0.0% | 10.0ms | 40.0ms | 5.0 |"),
            "{md}"
        );
        assert!(
            md.contains("- buy: 10 ended at login (server_errors 7, timeouts 3); 2 at get order (capture_missing 2)\n"),
            "{md}"
        );
        // One stage: no second table; two: each stage's flows.
        assert!(!md.contains("### Flows by stage"), "{md}");
        let mut two = fixture::flowed();
        let mut second = two.stages[0].clone();
        second.name = "peak".into();
        two.stages.push(second);
        let md = markdown::render(&two);
        assert!(
            md.contains("| peak | buy | 100 | 86 | 12 | 2 | 320ms |"),
            "{md}"
        );
        // Without [[flows]], neither.
        let md = markdown::render(&fixture::mixed());
        assert!(!md.contains("### Flows"), "{md}");
    }

    #[test]
    fn many_flows_by_stage_are_left_to_the_results_file() {
        let mut r = fixture::flowed();
        let one = r.by_flow.clone().unwrap()["buy"].clone();
        r.stages[0].by_flow = Some((0..40).map(|i| (format!("f{i}"), one.clone())).collect());
        let mut second = r.stages[0].clone();
        second.name = "peak".into();
        r.stages.push(second);
        let md = markdown::render(&r);
        assert!(md.contains("80 rows (2 stages × their flows)"), "{md}");
        assert!(!md.contains("| peak | f0 |"), "{md}");
    }
}
