//! The report's header and tables, rendered to HTML. Every piece of text from the results
//! goes through `esc` (or `cell`): names, bodies and messages are user data.

use std::fmt::Write as _;

use super::{cell, esc};
use crate::record::Percentiles;
use crate::report::summary::ms;
use crate::results::{RequestResult, Results, Totals};
use crate::verdict::judge::{judge, observed, Outcome};
use crate::verdict::num;

/// The verdict as a word, its CSS class, and the reasons behind it (the one verdict:
/// [`crate::verdict::judge`]).
pub fn verdict(r: &Results) -> (&'static str, &'static str, Vec<String>) {
    let v = judge(r);
    let class = match v.outcome {
        Outcome::Pass => "pass",
        Outcome::Interrupted => "warn",
        _ => "fail",
    };
    (v.outcome.word(), class, v.lines())
}

fn percent(n: u64, of: u64) -> String {
    if of == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / of as f64)
    }
}

pub fn header(out: &mut String, r: &Results) {
    let (word, class, why) = verdict(r);
    let title = r.name.as_deref().unwrap_or("stampede run");
    let _ = write!(
        out,
        "<header>\n<h1>{}</h1>\n<p class=\"target\">{} · started {} · {} s{}</p>\n\
         <div class=\"verdict {}\" id=\"verdict\">{}</div>\n",
        esc(title),
        esc(&crate::report::outcome::target_line(r)),
        esc(&r.started_at),
        cell(format!("{:.1}", r.duration_s)),
        if r.insecure {
            " · TLS certificates not checked (--insecure)"
        } else {
            ""
        },
        class,
        word
    );
    if !why.is_empty() {
        out.push_str("<ul class=\"why\">");
        for w in &why {
            let _ = write!(out, "<li>{}</li>", esc(w));
        }
        out.push_str("</ul>\n");
    }
    let t = &r.totals;
    let a = &r.attempts;
    let keys: [(&str, &str, String); 9] = [
        ("requests", "requests", t.requests.to_string()),
        (
            "ok",
            "ok",
            format!("{} ({})", t.ok, percent(t.ok, t.requests)),
        ),
        (
            "throttled",
            "throttled",
            format!("{} ({})", t.throttled, percent(t.throttled, t.requests)),
        ),
        ("errors", "errors", t.errors.to_string()),
        (
            "attempts",
            "attempts",
            format!("{} ({} throttled)", a.sent, a.throttled),
        ),
        ("p50", "p50", ms(r.latency_ms.p50)),
        ("p99", "p99", ms(r.latency_ms.p99)),
        ("max", "max", ms(r.latency_ms.max)),
        ("peak", "peak in flight", r.peak_in_flight.to_string()),
    ];
    // Fast throttles make the answers look quicker than they were: the ok ones apart.
    let ok_p99 = r
        .ok_latency_ms
        .filter(|_| t.ok < t.requests && t.ok > 0)
        .map(|p| ("ok-p99", "p99 of ok answers", ms(p.p99)));
    let keys = keys.into_iter().chain(ok_p99);
    out.push_str("<dl class=\"keys\">");
    for (id, name, value) in keys {
        let _ = write!(
            out,
            "<div><dt>{}</dt><dd id=\"key-{}\">{}</dd></div>",
            esc(name),
            id,
            esc(&value)
        );
    }
    out.push_str("</dl>\n");
    if let Some(o) = &r.throttle_onset {
        let _ = writeln!(
            out,
            "<p class=\"onset\">Throttling began at {} s: {} attempts sent in that second, \
             {} in flight.</p>",
            o.t_s, o.rate, o.in_flight
        );
    }
    out.push_str("</header>\n");
}

/// A table: `head` is plain text; each row's cells are HTML already escaped.
fn table(out: &mut String, class: &str, head: &[&str], rows: &[Vec<String>]) {
    let _ = write!(out, "<table class=\"{class}\"><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for c in row {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

fn section(out: &mut String, id: &str, title: &str) {
    let _ = writeln!(out, "<section id=\"{id}\"><h2>{}</h2>", esc(title));
}

fn pass_badge(pass: bool) -> String {
    if pass {
        "<span class=\"badge pass\">pass</span>".into()
    } else {
        "<span class=\"badge fail\">FAIL</span>".into()
    }
}

/// A count with a bar of its share of `max`, for the small bar tables.
fn bar(n: u64, max: u64) -> String {
    let width = if max == 0 {
        0.0
    } else {
        n as f64 * 100.0 / max as f64
    };
    format!("<span class=\"bar\" style=\"width:{width:.1}%\"></span> {n}")
}

pub fn retries(out: &mut String, r: &Results) {
    let rt = &r.retry;
    section(out, "retries", "Retries");
    let _ = writeln!(
        out,
        "<p>{} retries · first-try success {} · gave up {} (retry budget empty: {}) · \
         {} s spent backing off</p>",
        r.totals.retries,
        cell(format!("{:.1}%", rt.first_try_success_rate * 100.0)),
        rt.gave_up,
        rt.gave_up_budget,
        cell(format!("{:.1}", rt.backoff_s))
    );
    out.push_str("<div class=\"pair\">");
    let mut attempts: Vec<(&String, &u64)> = rt.attempts.iter().collect();
    attempts.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(u64::MAX));
    let max = attempts.iter().map(|(_, n)| **n).max().unwrap_or(0);
    let rows: Vec<Vec<String>> = attempts
        .iter()
        .map(|(k, n)| vec![esc(k), bar(**n, max)])
        .collect();
    table(out, "bars", &["attempts per request", "requests"], &rows);
    let max = rt.by_cause.values().copied().max().unwrap_or(0);
    let rows: Vec<Vec<String>> = rt
        .by_cause
        .iter()
        .map(|(k, n)| vec![esc(k), bar(*n, max)])
        .collect();
    if rows.is_empty() {
        out.push_str("<p>No retries.</p>");
    } else {
        table(out, "bars", &["retry cause", "retries"], &rows);
    }
    out.push_str("</div></section>\n");
}

fn latency_cells(p: &Percentiles) -> [String; 4] {
    [ms(p.p50), ms(p.p90), ms(p.p99), ms(p.max)].map(|s| esc(&s))
}

fn totals_cells(t: &Totals) -> [String; 4] {
    [t.requests, t.ok, t.throttled, t.errors].map(|n| n.to_string())
}

pub fn stages(out: &mut String, r: &Results) {
    section(out, "stages", "Stages");
    let mut rows = Vec::new();
    for s in &r.stages {
        let mut row = vec![
            esc(&s.name),
            esc(s.kind.name()),
            s.started_s
                .map_or("-".into(), |t| cell(format!("{t:.1} s"))),
            s.planned_requests.map_or("-".into(), |n| n.to_string()),
        ];
        row.extend(totals_cells(&s.totals));
        row.push(cell(format!("{:.1}", s.achieved_rps)));
        row.extend(latency_cells(&s.latency_ms));
        row.push(s.peak_in_flight.to_string());
        rows.push(row);
    }
    let rps = if r.duration_s > 0.0 {
        r.totals.requests as f64 / r.duration_s
    } else {
        0.0
    };
    let mut all = vec![
        "<b>all</b>".into(),
        String::new(),
        String::new(),
        String::new(),
    ];
    all.extend(totals_cells(&r.totals));
    all.push(cell(format!("{rps:.1}")));
    all.extend(latency_cells(&r.latency_ms));
    all.push(r.peak_in_flight.to_string());
    rows.push(all);
    table(
        out,
        "num",
        &[
            "stage",
            "kind",
            "starts",
            "planned",
            "requests",
            "ok",
            "throttled",
            "errors",
            "req/s",
            "p50",
            "p90",
            "p99",
            "max",
            "peak in flight",
        ],
        &rows,
    );
    out.push_str("</section>\n");
}

/// With `[[requests]]`: a row per request of the mix over the run, then, folded, each
/// stage's requests. Nothing without a mix.
pub fn requests(out: &mut String, r: &Results) {
    let Some(requests) = &r.by_request else {
        return;
    };
    section(out, "requests", "Requests");
    let row = |name: &str, q: &RequestResult| -> Vec<String> {
        let mut row = vec![
            esc(name),
            q.planned_requests.map_or("-".into(), |n| n.to_string()),
        ];
        row.extend(totals_cells(&q.totals));
        row.push(percent(q.totals.errors, q.totals.requests));
        row.push(cell(format!("{:.1}", q.achieved_rps)));
        row.extend(latency_cells(&q.latency_ms));
        row
    };
    let head = [
        "request",
        "planned",
        "requests",
        "ok",
        "throttled",
        "errors",
        "error %",
        "req/s",
        "p50",
        "p90",
        "p99",
        "max",
    ];
    let rows: Vec<Vec<String>> = requests.iter().map(|(n, q)| row(n, q)).collect();
    table(out, "num requests", &head, &rows);
    let by_stage: Vec<Vec<String>> = r
        .stages
        .iter()
        .filter_map(|s| Some((s, s.by_request.as_ref()?)))
        .flat_map(|(s, q)| {
            q.iter().map(move |(n, q)| {
                let mut cells = vec![esc(&s.name)];
                cells.extend(row(n, q));
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
        let head: Vec<&str> = ["stage"].into_iter().chain(head).collect();
        table(out, "num requests-by-stage", &head, &by_stage);
        out.push_str("</details>");
    }
    out.push_str("</section>\n");
}

pub fn thresholds(out: &mut String, r: &Results) {
    section(out, "thresholds", "Thresholds");
    if r.thresholds.is_empty() {
        out.push_str("<p>No thresholds were set.</p></section>\n");
        return;
    }
    let rows: Vec<Vec<String>> = r
        .thresholds
        .iter()
        .map(|t| {
            vec![
                esc(&t.name),
                esc(&crate::report::outcome::threshold_scope(t)
                    .unwrap_or_else(|| "whole run".into())),
                cell(format!("≤ {}", t.limit)),
                esc(&observed(t)),
                pass_badge(t.pass),
            ]
        })
        .collect();
    table(
        out,
        "",
        &["threshold", "applies to", "limit", "observed", "result"],
        &rows,
    );
    out.push_str("</section>\n");
}

pub fn preflight(out: &mut String, r: &Results) {
    let Some(p) = &r.quota_check.preflight else {
        return;
    };
    section(out, "preflight", "Preflight (before any traffic)");
    let _ = writeln!(
        out,
        "<p>Expected latency {} ms ({}); concurrency = rate × latency.</p>",
        cell(num(p.expect_latency_ms)),
        esc(&p.latency_basis)
    );
    let rows: Vec<Vec<String>> = p
        .stages
        .iter()
        .map(|s| {
            vec![
                esc(&s.name),
                esc(s.kind.name()),
                s.peak_rate.map_or("-".into(), |v| cell(num(v))),
                s.burst.map_or("-".into(), |b| b.to_string()),
                cell(num(s.expected_concurrency)),
                cell(num(s.new_environments_per_10s)),
            ]
        })
        .collect();
    table(
        out,
        "num",
        &[
            "stage",
            "kind",
            "peak req/s",
            "burst",
            "concurrency",
            "new environments / 10 s",
        ],
        &rows,
    );
    if !p.checks.is_empty() {
        let rows: Vec<Vec<String>> = p
            .checks
            .iter()
            .map(|c| {
                vec![
                    esc(&c.stage),
                    esc(c.limit.key()),
                    esc(&c.measure),
                    cell(num(c.planned)),
                    cell(num(c.value)),
                    cell(format!("{:.0}%", c.percent)),
                    esc(&c.source),
                    pass_badge(!c.exceeded),
                ]
            })
            .collect();
        table(
            out,
            "num",
            &[
                "stage",
                "limit",
                "measure",
                "planned",
                "limit value",
                "share",
                "source",
                "fits",
            ],
            &rows,
        );
    }
    list(out, "warn", &p.warnings);
    out.push_str("</section>\n");
}

fn sig(v: f64) -> f64 {
    super::sig3(v)
}

fn list(out: &mut String, class: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(out, "<ul class=\"{class}\">");
    for i in items {
        let _ = write!(out, "<li>{}</li>", esc(i));
    }
    out.push_str("</ul>\n");
}

pub fn quota_check(out: &mut String, r: &Results) {
    let q = &r.quota_check;
    section(out, "quota-check", "Quota check");
    let _ = writeln!(
        out,
        "<p>{} · limits from {}{}{}</p>",
        pass_badge(q.pass),
        esc(&q.quotas.origin),
        q.quotas
            .region
            .as_deref()
            .map_or(String::new(), |region| format!(", region {}", esc(region))),
        q.quotas
            .function
            .as_deref()
            .map_or(String::new(), |function| format!(
                ", function {}",
                esc(function)
            )),
    );
    if !q.quotas.quotas.is_empty() {
        let rows: Vec<Vec<String>> = q
            .quotas
            .quotas
            .iter()
            .map(|l| {
                vec![
                    esc(l.key.title()),
                    l.value.map_or("not set".into(), |v| cell(num(v))),
                    esc(l.key.unit()),
                    esc(&l.source.describe()),
                    esc(l.note.as_deref().unwrap_or("")),
                ]
            })
            .collect();
        out.push_str("<h3>Limits</h3>");
        table(
            out,
            "",
            &["limit", "value", "unit", "source", "note"],
            &rows,
        );
    }
    if !q.usage.is_empty() {
        let rows: Vec<Vec<String>> = q
            .usage
            .iter()
            .map(|u| {
                vec![
                    esc(u.limit.title()),
                    esc(&u.measure),
                    cell(num(sig(u.observed))),
                    cell(num(u.value)),
                    format!(
                        "<span class=\"{}\">{}</span>",
                        if u.percent > 100.0 { "over" } else { "" },
                        cell(format!("{:.0}%", u.percent))
                    ),
                    esc(&u.source),
                ]
            })
            .collect();
        out.push_str("<h3>Usage</h3>");
        table(
            out,
            "",
            &[
                "limit",
                "measure",
                "observed",
                "limit value",
                "share",
                "source",
            ],
            &rows,
        );
    }
    if let Some(o) = &q.onset {
        let _ = write!(
            out,
            "<h3>Onset</h3><p>At {} s: {} attempts sent, {} in flight; limit: {}{}.</p>\
             <p>{}</p>",
            o.t_s,
            o.rate,
            o.in_flight,
            esc(o.limit.map_or("none known", |l| l.title())),
            if o.limit.is_some() && !o.reached {
                " (named by the answers, not seen reached)"
            } else {
                ""
            },
            esc(&o.explanation)
        );
        if !o.kinds.is_empty() {
            let kinds: Vec<String> = o.kinds.iter().map(|(k, n)| format!("{k}: {n}")).collect();
            let _ = write!(out, "<p>Throttles by kind: {}</p>", esc(&kinds.join(", ")));
        }
        list(out, "evidence", &o.evidence);
    }
    if let Some(s) = &q.suspected_lambda_throttles {
        let _ = write!(
            out,
            "<h3>Suspected Lambda throttles</h3><p>{} from {} s, {} in flight: {}</p>",
            s.count,
            s.first_t_s,
            s.in_flight,
            esc(&s.message)
        );
    }
    if !q.findings.is_empty() {
        out.push_str("<h3>Findings</h3>");
        let rows: Vec<Vec<String>> = q
            .findings
            .iter()
            .map(|f| {
                vec![
                    format!(
                        "<span class=\"level {}\">{}</span>",
                        esc(&f.level),
                        esc(&f.level)
                    ),
                    esc(f.limit.map_or("", |l| l.key())),
                    esc(&f.message),
                ]
            })
            .collect();
        table(out, "", &["level", "limit", "finding"], &rows);
    }
    if !q.next_steps.is_empty() {
        out.push_str("<h3>Next steps</h3><ul class=\"steps\">");
        for s in &q.next_steps {
            let _ = write!(out, "<li><pre>{}</pre></li>", esc(s));
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>\n");
}

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
