//! The sections a run has only sometimes: failure samples, the emulator's counters, what
//! AWS counted (CloudWatch), a Lambda target's cold starts and cost, a probe's steps.

use std::fmt::Write as _;

use super::{section, table};
use crate::report::html::{cell, esc};
use crate::results::Results;

pub fn failures(out: &mut String, r: &Results) {
    if r.failures.is_empty() {
        return;
    }
    section(out, "failures", "Failed attempts (samples)");
    let rows: Vec<Vec<String>> = r
        .failures
        .iter()
        .map(|f| {
            vec![
                cell(format!("{:.3}", f.t_s)),
                esc(f.correlation_id.as_deref().unwrap_or("-")),
                esc(&f.stage),
                f.attempt.to_string(),
                f.status.map_or("-".into(), |s| s.to_string()),
                esc(&f.kind),
                format!(
                    "<code>{}</code>",
                    esc(f.body_excerpt.as_deref().unwrap_or(""))
                ),
            ]
        })
        .collect();
    table(
        out,
        "",
        &[
            "t (s)",
            "correlation id",
            "stage",
            "attempt",
            "status",
            "kind",
            "body (excerpt)",
        ],
        &rows,
    );
    out.push_str("</section>\n");
}

pub fn emulator(out: &mut String, r: &Results) {
    let Some(e) = &r.emulator else {
        return;
    };
    section(out, "emulator", "Emulator");
    let value = serde_json::to_value(e).unwrap_or_default();
    let rows: Vec<Vec<String>> = value
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| vec![esc(&k.replace('_', " ")), esc(&v.to_string())])
                .collect()
        })
        .unwrap_or_default();
    table(out, "num", &["what the emulator did", "count"], &rows);
    out.push_str("</section>\n");
}

/// What AWS counted (CloudWatch) beside what the client saw, as the summary has it.
pub fn cloudwatch(out: &mut String, r: &Results) {
    use crate::report::cloudwatch as cw_report;
    let Some(cw) = &r.cloudwatch else {
        return;
    };
    section(out, "cloudwatch", "What AWS counted (CloudWatch)");
    let rendered = cw_report::render(cw);
    // The title line and the status come first, as in the terminal.
    let mut lines = rendered.lines().filter(|l| !l.trim().is_empty());
    if let Some(title) = lines.next() {
        let title = title.trim().trim_start_matches("What AWS counted ");
        let _ = writeln!(out, "<p>{}</p>", esc(title));
    }
    if cw.status == "read" || cw.status == "incomplete" {
        let t = cw_report::table(cw);
        let mut headers = vec![t.first];
        headers.extend(t.headers.iter().copied());
        let rows: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|(name, cells)| {
                std::iter::once(esc(name))
                    .chain(cells.iter().map(|c| esc(c)))
                    .collect()
            })
            .collect();
        table(out, "num", &headers, &rows);
        let _ = writeln!(out, "<p class=\"help\">{}</p>", esc(cw_report::LEGEND));
        cloudwatch_by_route(out, cw);
    }
    let notes: Vec<String> = cw
        .message
        .iter()
        .chain(cw.findings.iter().map(|f| &f.message))
        .chain(cw.not_read.iter())
        .map(|m| format!("<li>{}</li>", esc(m)))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "<ul>{}</ul>", notes.join(""));
    }
    out.push_str("</section>\n");
}

/// Each function's and each route's counts over the run, beside what the client saw on them.
fn cloudwatch_by_route(out: &mut String, cw: &crate::cloudwatch::CloudWatch) {
    let n = |v: Option<f64>| v.map_or("—".to_string(), crate::verdict::num);
    if !cw.by_function.is_empty() {
        let rows: Vec<Vec<String>> = cw
            .by_function
            .iter()
            .map(|f| {
                vec![
                    esc(&f.function),
                    f.client_sent.to_string(),
                    f.client_throttled.to_string(),
                    n(f.invocations),
                    n(f.throttles),
                    n(f.concurrent_max),
                ]
            })
            .collect();
        out.push_str("<h3>By function</h3>");
        table(
            out,
            "num",
            &[
                "function",
                "sent",
                "throttled seen",
                "Invocations",
                "Throttles",
                "Concurrent",
            ],
            &rows,
        );
    }
    if !cw.by_route.is_empty() {
        let rows: Vec<Vec<String>> = cw
            .by_route
            .iter()
            .map(|r| {
                vec![
                    esc(&r.route),
                    esc(r.function.as_deref().unwrap_or("-")),
                    r.client_sent.to_string(),
                    r.client_throttled.to_string(),
                    n(r.count),
                    n(r.errors_4xx),
                    n(r.errors_5xx),
                ]
            })
            .collect();
        out.push_str("<h3>By route</h3>");
        table(
            out,
            "num",
            &[
                "route",
                "function",
                "sent",
                "throttled seen",
                "Count",
                "4XX",
                "5XX",
            ],
            &rows,
        );
        out.push_str(
            "<p class=\"help\">sent and throttled seen are stampede's (429s and suspected Lambda throttles); the others CloudWatch's over the whole run (— no datapoint)</p>",
        );
    }
}

/// A Lambda target: cold starts, init, durations and cost, overall and per stage.
pub fn lambda(out: &mut String, r: &Results) {
    if r.lambda.is_none() {
        return;
    }
    section(out, "lambda", "Lambda: cold starts, billed time, cost");
    let lines = crate::report::lambda::lines(r);
    let _ = writeln!(out, "<ul>");
    for line in &lines {
        let _ = writeln!(out, "<li>{}</li>", esc(line.trim()));
    }
    let _ = writeln!(out, "</ul>");
    let ms = crate::report::summary::ms;
    let rows: Vec<Vec<String>> = r
        .stages
        .iter()
        .filter_map(|st| {
            let s = st.lambda.as_ref()?;
            Some(vec![
                esc(&st.name),
                s.invocations.to_string(),
                s.cold_starts.to_string(),
                ms(s.init_ms.p50),
                ms(s.init_ms.p99),
                ms(s.duration_ms.p99),
                ms(s.billed_ms.p99),
                s.function_errors.values().sum::<u64>().to_string(),
            ])
        })
        .collect();
    table(
        out,
        "num",
        &[
            "stage",
            "invocations",
            "cold starts",
            "init p50",
            "init p99",
            "duration p99",
            "billed p99",
            "function errors",
        ],
        &rows,
    );
}

/// A probe's steps and what the knee is set against.
pub fn probe(out: &mut String, r: &Results) {
    let Some(p) = &r.probe else {
        return;
    };
    section(out, "probe", "Probe: the steps");
    let lines = crate::report::probe::lines(r);
    if let Some(last) = lines.last() {
        let _ = writeln!(out, "<p>{}</p>", esc(last.trim()));
    }
    let rows: Vec<Vec<String>> = p
        .steps
        .iter()
        .map(|s| {
            vec![
                s.load.to_string(),
                esc(s.verdict.name()),
                format!("{:.1}", s.achieved_rps),
                s.peak_in_flight.to_string(),
                format!("{:.1} ms", s.p99_ms),
                format!("{:.2}%", s.throttle_rate * 100.0),
                format!("{:.2}%", s.failure_rate * 100.0),
                esc(&s.broke.join(", ")),
            ]
        })
        .collect();
    table(
        out,
        "num",
        &[
            "load",
            "verdict",
            "achieved req/s",
            "in flight",
            "p99",
            "throttled",
            "failed",
            "broke",
        ],
        &rows,
    );
}
