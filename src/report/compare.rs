//! A comparison (`stampede compare`) as text for the terminal and as GitHub-flavoured
//! Markdown. Pure.

use std::fmt::Write as _;

use super::markdown::cell;
use super::outcome::percent;
use super::summary::ms;
use crate::results::compare::{CompareMetric, Comparison, Line, Section, Verdict};
use crate::results::StageKind;

/// A value in its unit: "41.2ms", "1.20%", "99.8/s", "0.05".
fn value(m: CompareMetric, v: f64) -> String {
    if m.is_latency() {
        ms(v)
    } else if m == CompareMetric::Rate {
        format!("{v:.1}/s")
    } else if m == CompareMetric::Retries {
        format!("{v:.3}")
    } else {
        percent(v)
    }
}

/// The change: relative for latency and rate, percentage points for shares.
fn change(l: &Line) -> String {
    let m = l.metric;
    if m.is_share() && m != CompareMetric::Retries {
        return format!("{:+.2}pp", l.delta * 100.0);
    }
    if m == CompareMetric::Retries {
        return format!("{:+.3}", l.delta);
    }
    match l.change {
        Some(c) => format!("{:+.1}%", c * 100.0),
        None if l.delta == 0.0 => "0".into(),
        None => format!("from 0 to {}", value(m, l.head)),
    }
}

fn noise(l: &Line) -> String {
    let m = l.metric;
    if m.is_share() && m != CompareMetric::Retries {
        format!("±{:.2}pp", l.noise * 100.0)
    } else {
        format!("±{}", value(m, l.noise))
    }
}

fn metric_name(m: CompareMetric) -> &'static str {
    match m {
        CompareMetric::P999 => "p99.9",
        CompareMetric::Rate => "rate (req/s)",
        CompareMetric::Retries => "retries/request",
        other => other.name(),
    }
}

fn verdict_line(c: &Comparison) -> String {
    if c.regressions == 0 {
        return "no regression".into();
    }
    let named = |s: &'_ Section, request: bool| {
        if request {
            format!("request {}", s.name)
        } else {
            s.name.clone()
        }
    };
    let what: Vec<String> = c
        .sections
        .iter()
        .map(|s| (s, false))
        .chain(c.requests.iter().map(|s| (s, true)))
        .flat_map(|(s, request)| s.lines.iter().map(move |l| (s, request, l)))
        .filter(|(_, _, l)| l.verdict == Verdict::Regressed)
        .map(|(s, request, l)| {
            format!(
                "{} {} {} (limit {})",
                named(s, request),
                metric_name(l.metric),
                change(l),
                l.limit.as_deref().unwrap_or("")
            )
        })
        .collect();
    format!(
        "{} regression{}: {}",
        c.regressions,
        if c.regressions == 1 { "" } else { "s" },
        what.join("; ")
    )
}

fn section_title(name: &str, kind: Option<StageKind>) -> String {
    match kind {
        Some(k) => format!("stage {name} ({k})"),
        None => name.to_string(),
    }
}

/// The comparison for the terminal.
pub fn text(c: &Comparison) -> String {
    let mut out = String::new();
    for (which, s) in [("base", &c.base), ("head", &c.head)] {
        let _ = writeln!(
            out,
            "{which}  {}  started {}  {}  {:.1}s",
            s.file, s.started_at, s.target, s.duration_s
        );
    }
    if c.forced {
        for m in &c.mismatches {
            let _ = writeln!(out, "compared anyway (--force): {m}");
        }
    }
    for n in &c.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let titled = c
        .sections
        .iter()
        .map(|s| (section_title(&s.name, s.kind), s))
        .chain(
            c.requests
                .iter()
                .map(|s| (format!("request {}", s.name), s)),
        );
    for (title, s) in titled {
        let _ = writeln!(out, "\n{title}");
        let _ = writeln!(
            out,
            "  {:<16} {:>10} {:>10} {:>10} {:>10} {:>7}  verdict",
            "", "base", "head", "change", "noise", "limit"
        );
        for l in &s.lines {
            let _ = writeln!(
                out,
                "  {:<16} {:>10} {:>10} {:>10} {:>10} {:>7}  {}",
                metric_name(l.metric),
                value(l.metric, l.base),
                value(l.metric, l.head),
                change(l),
                noise(l),
                l.limit.as_deref().unwrap_or("-"),
                l.verdict.word()
            );
        }
    }
    for (which, names) in [("base", &c.only_in_base), ("head", &c.only_in_head)] {
        if !names.is_empty() {
            let _ = writeln!(out, "\nonly in the {which}: {}", names.join(", "));
        }
    }
    for (which, names) in [
        ("base", &c.requests_only_in_base),
        ("head", &c.requests_only_in_head),
    ] {
        if !names.is_empty() {
            let _ = writeln!(out, "\nrequests only in the {which}: {}", names.join(", "));
        }
    }
    let _ = writeln!(out, "\n{}", verdict_line(c));
    out
}

/// The comparison as GitHub-flavoured Markdown: a heading with the verdict, a table per
/// section.
pub fn markdown(c: &Comparison) -> String {
    let mut out = String::new();
    let mark = if c.regressions == 0 { "✅" } else { "❌" };
    let _ = writeln!(
        out,
        "## {mark} stampede compare: {}\n",
        cell(&verdict_line(c))
    );
    let _ = writeln!(out, "| | file | started | target | duration |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (which, s) in [("base", &c.base), ("head", &c.head)] {
        let _ = writeln!(
            out,
            "| {which} | {} | {} | {} | {:.1} s |",
            cell(&s.file),
            cell(&s.started_at),
            cell(&s.target),
            s.duration_s
        );
    }
    let _ = writeln!(out);
    for m in &c.mismatches {
        let _ = writeln!(out, "- compared anyway (`--force`): {}", cell(m));
    }
    for n in &c.notes {
        let _ = writeln!(out, "- note: {}", cell(n));
    }
    let titled = c
        .sections
        .iter()
        .map(|s| (section_title(&s.name, s.kind), s))
        .chain(
            c.requests
                .iter()
                .map(|s| (format!("request {}", s.name), s)),
        );
    for (title, s) in titled {
        let _ = writeln!(out, "\n### {}\n", cell(&title));
        let _ = writeln!(
            out,
            "| metric | base | head | change | noise | limit | verdict |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
        for l in &s.lines {
            let verdict = match l.verdict {
                Verdict::Regressed => "❌ regressed".to_string(),
                v => v.word().to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {verdict} |",
                metric_name(l.metric),
                value(l.metric, l.base),
                value(l.metric, l.head),
                change(l),
                noise(l),
                l.limit.as_deref().unwrap_or("–"),
            );
        }
    }
    for (which, names) in [("base", &c.only_in_base), ("head", &c.only_in_head)] {
        if !names.is_empty() {
            let _ = writeln!(out, "\nOnly in the {which}: {}", cell(&names.join(", ")));
        }
    }
    for (which, names) in [
        ("base", &c.requests_only_in_base),
        ("head", &c.requests_only_in_head),
    ] {
        if !names.is_empty() {
            let _ = writeln!(
                out,
                "\nRequests only in the {which}: {}",
                cell(&names.join(", "))
            );
        }
    }
    let _ = writeln!(
        out,
        "\nWithin noise: the change is no larger than the two runs' uncertainty (95 % intervals of each percentile from its histogram, of each share from its counts) or than {}.",
        ms(c.noise_floor_ms)
    );
    out
}
