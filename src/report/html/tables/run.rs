//! The run's own sections: the header (the verdict, the key numbers, the onset), retries,
//! stages, and each request of a mix.

use std::fmt::Write as _;

use super::{bar, percent, section, table};
use crate::record::Percentiles;
use crate::report::html::{cell, esc};
use crate::report::summary::ms;
use crate::results::{RequestResult, Results, Totals};
use crate::verdict::judge::{judge, Outcome};

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
