//! The checks' sections: thresholds, the preflight before traffic, and the quota check
//! after it.

use std::fmt::Write as _;

use super::{list, pass_badge, section, table};
use crate::report::html::{cell, esc};
use crate::results::Results;
use crate::verdict::judge::observed;
use crate::verdict::num;

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
