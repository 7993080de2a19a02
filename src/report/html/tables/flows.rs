//! The flows of a run (`by_flow`): a row per flow over the run, where the failed flows
//! ended, and, folded, each stage's flows.

use std::fmt::Write as _;

use super::{list, section, table};
use crate::report::flows::{failed_by_step, failure_percent};
use crate::report::html::{cell, esc};
use crate::report::summary::ms;
use crate::results::Results;
use stampede_results::flows::FlowResult;

const HEAD: [&str; 12] = [
    "flow",
    "planned",
    "started",
    "completed",
    "failed",
    "abandoned",
    "failure %",
    "flows/s",
    "p50",
    "p90",
    "p99",
    "max",
];

fn row(name: &str, f: &FlowResult) -> Vec<String> {
    let p = &f.latency_ms;
    vec![
        esc(name),
        f.planned.map_or("-".into(), |n| n.to_string()),
        f.started.to_string(),
        f.completed.to_string(),
        f.failed.to_string(),
        f.abandoned.to_string(),
        esc(&failure_percent(f)),
        cell(format!("{:.1}", f.achieved_fps)),
        esc(&ms(p.p50)),
        esc(&ms(p.p90)),
        esc(&ms(p.p99)),
        esc(&ms(p.max)),
    ]
}

/// With `[[flows]]`: the table over the run, the failed flows by the step they ended at,
/// and each stage's flows folded. Nothing without flows.
pub fn flows(out: &mut String, r: &Results) {
    let Some(flows) = r.by_flow.as_ref().filter(|f| !f.is_empty()) else {
        return;
    };
    section(out, "flows", "Flows");
    let rows: Vec<Vec<String>> = flows.iter().map(|(n, f)| row(n, f)).collect();
    table(out, "num flows", &HEAD, &rows);
    let ended: Vec<String> = flows
        .iter()
        .filter_map(|(n, f)| failed_by_step(n, f))
        .collect();
    if !ended.is_empty() {
        out.push_str("<p>Where the failed flows ended:</p>");
        list(out, "flows-failed", &ended);
    }
    let by_stage: Vec<Vec<String>> = r
        .stages
        .iter()
        .filter_map(|s| Some((s, s.by_flow.as_ref()?)))
        .flat_map(|(s, f)| {
            f.iter().map(move |(n, f)| {
                let mut cells = vec![esc(&s.name)];
                cells.extend(row(n, f));
                cells
            })
        })
        .collect();
    if !by_stage.is_empty() {
        let _ = write!(
            out,
            "<details><summary>By stage ({} rows)</summary>",
            by_stage.len()
        );
        let head: Vec<&str> = ["stage"].into_iter().chain(HEAD).collect();
        table(out, "num flows-by-stage", &head, &by_stage);
        out.push_str("</details>");
    }
    out.push_str("</section>\n");
}
