//! The Markdown report's tables of a mix: each request, each flow (and where the failed
//! ones ended), over the run and compactly per stage. Pure.

use std::fmt::Write as _;

use super::{cell, line, share};
use crate::report::flows::{failed_by_step, failure_percent};
use crate::report::summary::ms;
use crate::results::Results;

/// With `[[requests]]`: a row per request of the mix over the run, by name.
pub(super) fn requests(r: &Results) -> String {
    let Some(requests) = &r.by_request else {
        return String::new();
    };
    let mut out = String::from(
        "### Requests\n\n| request | requests | ok | throttled | errors | error % | p50 | p99 | req/s |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for (name, q) in requests {
        let t = &q.totals;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            cell(name),
            t.requests,
            t.ok,
            t.throttled,
            t.errors,
            share(t.errors, t.requests),
            ms(q.latency_ms.p50),
            ms(q.latency_ms.p99),
            q.achieved_rps
        );
    }
    out.push('\n');
    out
}

/// Most rows a PR comment's table of requests (or flows) by stage gets; past it, the
/// results file has them (a hundred requests over ten stages is a thousand rows nobody
/// reads there).
const BY_STAGE_MAX_ROWS: usize = 60;

/// With `[[requests]]` and more than one stage that sent: each stage's requests, compactly
/// (one row per stage and request: requests, ok, throttled, errors, p99).
pub(super) fn requests_by_stage(r: &Results) -> String {
    let stages: Vec<_> = r
        .stages
        .iter()
        .filter_map(|s| Some((s, s.by_request.as_ref()?)))
        .filter(|(_, q)| !q.is_empty())
        .collect();
    if stages.len() < 2 {
        return String::new();
    }
    let rows: usize = stages.iter().map(|(_, q)| q.len()).sum();
    let mut out = String::from("### Requests by stage\n\n");
    if rows > BY_STAGE_MAX_ROWS {
        let _ = writeln!(
            out,
            "{rows} rows ({} stages × their requests): each stage's `by_request` in the results file, or the HTML report, has them.\n",
            stages.len()
        );
        return out;
    }
    out.push_str("| stage | request | requests | ok | throttled | errors | p99 |\n|---|---|--:|--:|--:|--:|--:|\n");
    for (s, requests) in stages {
        for (name, q) in requests {
            let t = &q.totals;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&s.name),
                cell(name),
                t.requests,
                t.ok,
                t.throttled,
                t.errors,
                ms(q.latency_ms.p99)
            );
        }
    }
    out.push('\n');
    out
}

/// With `[[flows]]`: a row per flow over the run, then where the failed ones ended.
pub(super) fn flows(r: &Results) -> String {
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

/// With `[[flows]]` and more than one stage that ran flows: each stage's flows, compactly
/// (started, completed, failed, abandoned, p99).
pub(super) fn flows_by_stage(r: &Results) -> String {
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
    if rows > BY_STAGE_MAX_ROWS {
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
    use crate::report::{fixture, markdown};

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
