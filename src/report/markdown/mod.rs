//! The results as GitHub-flavoured Markdown (no HTML): the verdict and why, the summary,
//! the stages, the thresholds, the quota check, an abort. For `report --markdown`, `run
//! --markdown` and GitHub's step summary (`render_within` keeps it under a size). Pure.

use std::fmt::Write as _;

use super::outcome::{self, achieved_rps, percent};
use super::summary::ms;
use crate::record::Percentiles;
use crate::results::{Results, Totals};
use crate::verdict::num;

mod mix;

/// The whole report.
pub fn render(r: &Results) -> String {
    sections(r).into_iter().map(|s| s.text).collect()
}

/// The report in at most `max` bytes: whole sections are left out, the least needed
/// first, and a line says which; the heading with the verdict always stays.
pub fn render_within(r: &Results, max: usize) -> String {
    let all = sections(r);
    let mut keep: Vec<bool> = vec![true; all.len()];
    let size = |keep: &[bool], dropped: &[&str]| -> usize {
        let body: usize = all
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(s, _)| s.text.len())
            .sum();
        body + left_out_line(dropped).len()
    };
    let mut dropped: Vec<&str> = Vec::new();
    // Least needed first: the heading (index 0) is never among them.
    let mut order: Vec<usize> = (1..all.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(all[i].rank));
    for i in order {
        if size(&keep, &dropped) <= max {
            break;
        }
        keep[i] = false;
        dropped.push(all[i].name);
    }
    // Keep the left-out line in document order.
    dropped.sort_by_key(|name| all.iter().position(|s| s.name == *name));
    let mut out: String = all
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(s, _)| s.text.as_str())
        .collect();
    out.push_str(&left_out_line(&dropped));
    if out.len() > max {
        // Only a heading of absurd length gets here: cut it on a character boundary.
        let mut end = max;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

fn left_out_line(dropped: &[&str]) -> String {
    if dropped.is_empty() {
        return String::new();
    }
    format!(
        "\n_Left out to stay within the size limit: {}. `stampede report RESULTS.json --markdown FILE` writes the whole report._\n",
        dropped.join(", ")
    )
}

struct Section {
    name: &'static str,
    /// Higher is left out sooner.
    rank: u8,
    text: String,
}

fn sections(r: &Results) -> Vec<Section> {
    let mut all = vec![Section {
        name: "heading",
        rank: 0,
        text: heading(r),
    }];
    let mut add = |name, rank, text: String| {
        if !text.is_empty() {
            all.push(Section { name, rank, text });
        }
    };
    add("the summary", 2, summary(r));
    add("the stages", 5, stages(r));
    add("where the time went", 6, super::timing::markdown(r));
    add("the requests", 5, mix::requests(r));
    add("the requests by stage", 7, mix::requests_by_stage(r));
    add("the flows", 5, mix::flows(r));
    add("the flows by stage", 7, mix::flows_by_stage(r));
    add("the Lambda invocations", 6, lambda(r));
    add("the probe", 2, probe(r));
    add("the memory sizes", 2, super::tune::markdown(r));
    add("the thresholds", 3, thresholds(r));
    add("the quota check", 4, quota_check(r));
    add("the abort", 1, abort_and_faults(r));
    add(
        "what AWS counted",
        6,
        r.cloudwatch
            .as_ref()
            .map_or_else(String::new, super::cloudwatch::markdown),
    );
    all
}

/// A Lambda target's cold starts, billed time and cost, as a list.
fn lambda(r: &Results) -> String {
    list_section(&super::lambda::lines(r))
}

/// A probe's steps and knee, as a list.
fn probe(r: &Results) -> String {
    list_section(&super::probe::lines(r))
}

/// The first line as a heading, the others as a list; nothing without lines.
fn list_section(lines: &[String]) -> String {
    let Some((title, rest)) = lines.split_first() else {
        return String::new();
    };
    let mut out = format!("#### {}\n\n", line(title));
    for l in rest {
        out.push_str(&format!("- {}\n", line(l.trim())));
    }
    out.push('\n');
    out
}

/// A table cell: `|` escaped, one line, no HTML.
pub fn cell(text: &str) -> String {
    no_html(&text.replace('|', "\\|").replace(['\r', '\n'], " "))
}

/// One line of text (headings, list items), no HTML.
pub fn line(text: &str) -> String {
    no_html(&text.replace(['\r', '\n'], " "))
}

/// `text` with `<` and `>` as entities, so a name like `<img src=x onerror=…>` is shown
/// as written, not rendered as HTML (GitHub renders inline HTML in Markdown). Code spans
/// are left alone: their text is shown literally already, and an entity there would show
/// as `&lt;`. A code span is what CommonMark says it is: a run of n backticks closed by
/// the next run of exactly n; a backslash escapes the character after it.
fn no_html(text: &str) -> String {
    let b = text.as_bytes();
    let run_at = |i: usize| b[i..].iter().take_while(|&&c| c == b'`').count();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                let next = text[i + 1..].chars().next().map_or(0, char::len_utf8);
                out.push_str(&text[i..i + 1 + next]);
                i += 1 + next;
            }
            b'`' => {
                let n = run_at(i);
                let mut j = i + n;
                let mut end = None;
                while j < b.len() {
                    if b[j] == b'`' {
                        let m = run_at(j);
                        if m == n {
                            end = Some(j + m);
                            break;
                        }
                        j += m;
                    } else {
                        j += 1;
                    }
                }
                let to = end.unwrap_or(i + n);
                out.push_str(&text[i..to]);
                i = to;
            }
            b'<' => {
                out.push_str("&lt;");
                i += 1;
            }
            b'>' => {
                out.push_str("&gt;");
                i += 1;
            }
            _ => {
                let c = text[i..].chars().next().expect("i is on a char boundary");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

fn heading(r: &Results) -> String {
    let mut out = String::new();
    let name = r.name.as_deref().unwrap_or("stampede run");
    let judged = outcome::judge(r);
    let why = judged.lines();
    let verdict = if judged.passed() {
        "✅ pass".to_string()
    } else {
        format!("❌ {}", judged.outcome.lower())
    };
    let _ = writeln!(out, "## {} — {verdict}\n", line(name));
    let mut tags = vec![
        format!("`{}`", line(&outcome::target_line(r))),
        format!("started {}", r.started_at),
        format!("{:.1} s", r.duration_s),
    ];
    if r.insecure {
        tags.push("TLS not checked (`--insecure`)".into());
    }
    let _ = writeln!(out, "{}\n", tags.join(" · "));
    if !why.is_empty() {
        let _ = writeln!(out, "**Why it failed:**\n");
        for w in &why {
            let _ = writeln!(out, "- {}", line(w));
        }
        out.push('\n');
    }
    out
}

fn summary(r: &Results) -> String {
    let mut out = String::from("### Summary\n\n| measure | value |\n|---|---|\n");
    let t = &r.totals;
    let a = &r.attempts;
    let mut row = |k: &str, v: String| {
        let _ = writeln!(out, "| {} | {} |", cell(k), cell(&v));
    };
    let mut requests = t.requests.to_string();
    if t.abandoned > 0 {
        let _ = write!(requests, " (and {} abandoned unanswered)", t.abandoned);
    }
    row("requests", requests);
    row("ok", format!("{} ({})", t.ok, share(t.ok, t.requests)));
    let mut throttled = format!("{} requests", t.throttled);
    if !r.throttles.is_empty() {
        let kinds: Vec<String> = r
            .throttles
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = write!(throttled, " · attempts by kind: {}", kinds.join(", "));
    }
    row("throttled", throttled);
    row(
        "suspected Lambda throttles",
        a.suspected_lambda_throttles.to_string(),
    );
    let classes: Vec<String> = a
        .classes()
        .iter()
        .skip(3) // ok, throttled, suspected Lambda throttles: above
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    let mut errors = format!("{} requests", t.errors);
    if !classes.is_empty() {
        let _ = write!(errors, " · attempts: {}", classes.join(", "));
    }
    row("errors", errors);
    let p = &r.latency_ms;
    row(
        "latency p50 / p90 / p99 / max",
        format!(
            "{} / {} / {} / {}",
            ms(p.p50),
            ms(p.p90),
            ms(p.p99),
            ms(p.max)
        ),
    );
    if let (Some(p), true) = (&r.ok_latency_ms, t.ok < t.requests && t.ok > 0) {
        row(
            "latency of ok answers p50 / p90 / p99 / max",
            format!(
                "{} / {} / {} / {}",
                ms(p.p50),
                ms(p.p90),
                ms(p.p99),
                ms(p.max)
            ),
        );
    }
    row("peak in flight", r.peak_in_flight.to_string());
    row("achieved rate", format!("{:.1} req/s", achieved_rps(r)));
    if t.retries > 0 {
        row(
            "retries",
            format!(
                "{} (first-try success {}, gave up {})",
                t.retries,
                percent(r.retry.first_try_success_rate),
                r.retry.gave_up
            ),
        );
    }
    if t.stale_connection_resends > 0 {
        row(
            "sent again, not processed",
            format!(
                "{} (a kept-alive connection closed unannounced, or an HTTP/2 server's GOAWAY or REFUSED_STREAM)",
                t.stale_connection_resends
            ),
        );
    }
    if t.goaways > 0 {
        row("HTTP/2 GOAWAYs", t.goaways.to_string());
    }
    if let Some(spread) = super::addresses::line(r) {
        row("addresses", spread.replace('\n', " · "));
    }
    if let Some(o) = &r.throttle_onset {
        row(
            "throttling began",
            format!(
                "at {} s: {} req/s sent, {} in flight",
                o.t_s, o.rate, o.in_flight
            ),
        );
    }
    out.push('\n');
    out
}

pub(super) fn share(n: u64, of: u64) -> String {
    if of == 0 {
        "-".into()
    } else {
        percent(n as f64 / of as f64)
    }
}

fn stages(r: &Results) -> String {
    if r.stages.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "### Stages\n\n| stage | kind | requests | req/s | ok | throttled | errors | p50 | p90 | p99 | max | peak in flight |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for s in &r.stages {
        stage_row(
            &mut out,
            &cell(&s.name),
            s.kind.name(),
            &s.totals,
            s.achieved_rps,
            &s.latency_ms,
            s.peak_in_flight,
        );
    }
    stage_row(
        &mut out,
        "**all**",
        "",
        &r.totals,
        achieved_rps(r),
        &r.latency_ms,
        r.peak_in_flight,
    );
    out.push('\n');
    out
}

fn stage_row(
    out: &mut String,
    name: &str,
    kind: &str,
    t: &Totals,
    rps: f64,
    p: &Percentiles,
    peak: u64,
) {
    let _ = writeln!(
        out,
        "| {name} | {kind} | {} | {rps:.1} | {} | {} | {} | {} | {} | {} | {} | {peak} |",
        t.requests,
        t.ok,
        t.throttled,
        t.errors,
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.max),
    );
}

fn thresholds(r: &Results) -> String {
    if r.thresholds.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "### Thresholds\n\n| | threshold | applies to | limit | observed |\n|---|---|---|--:|--:|\n",
    );
    for t in &r.thresholds {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            if t.pass { "✅" } else { "❌" },
            cell(&t.name),
            cell(&outcome::threshold_scope(t).unwrap_or_else(|| "all".into())),
            cell(&t.limit),
            outcome::observed(t)
        );
    }
    out.push('\n');
    out
}

fn quota_check(r: &Results) -> String {
    let c = &r.quota_check;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Quota check — {} (limits: {})\n",
        if c.pass { "✅ pass" } else { "❌ fail" },
        c.quotas.origin
    );
    let assumed = c.quotas.origin == "documented";
    if assumed {
        let _ = writeln!(
            out,
            "The limits are AWS's documented defaults, not read from an account.\n"
        );
    }
    let usage: Vec<_> = c
        .usage
        .iter()
        .filter(|u| !assumed || u.percent >= 80.0)
        .collect();
    if !usage.is_empty() {
        out.push_str("| limit | value | measure | observed | share |\n|---|--:|---|--:|--:|\n");
        for u in usage {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.0}% |",
                cell(u.limit.title()),
                num(u.value),
                cell(&u.measure),
                num(u.observed),
                u.percent
            );
        }
        out.push('\n');
    }
    if let Some(o) = &c.onset {
        let _ = writeln!(out, "**Onset:** {}\n", line(&o.explanation));
        for e in &o.evidence {
            let _ = writeln!(out, "- {}", line(e));
        }
        if !o.evidence.is_empty() {
            out.push('\n');
        }
    }
    if let Some(s) = &c.suspected_lambda_throttles {
        let _ = writeln!(
            out,
            "**Suspected Lambda throttles:** {}\n",
            line(&s.message)
        );
    }
    if !c.by_route.is_empty() {
        out.push_str(
            "| route | function | sent | throttled | check | onset |\n|---|---|--:|--:|---|---|\n",
        );
        for r in &c.by_route {
            let what = r.outcome();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&r.route),
                cell(r.function.as_deref().unwrap_or("-")),
                r.sent,
                r.throttled,
                if r.pass { "✅" } else { "❌" },
                cell(&what)
            );
        }
        out.push('\n');
    }
    if !c.quotas.not_read.is_empty() {
        out.push_str("**Not read:**\n\n");
        for n in &c.quotas.not_read {
            let _ = writeln!(out, "- {}: {}", line(&n.action), line(&n.reason));
        }
        out.push('\n');
    }
    if !c.next_steps.is_empty() {
        out.push_str("**Next steps:**\n\n");
        for (i, s) in c.next_steps.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", i + 1, line(s));
        }
        out.push('\n');
    }
    out
}

fn abort_and_faults(r: &Results) -> String {
    let mut out = String::new();
    if let Some(trip) = &r.aborted {
        let _ = writeln!(out, "### Aborted\n\n{}\n", trip.describe());
    }
    if !r.faults.is_empty() {
        out.push_str("### stampede failed\n\n");
        for f in &r.faults {
            let _ = writeln!(out, "- {}", line(f));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
