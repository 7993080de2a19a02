//! A comparison (`stampede compare`) as text for the terminal and as GitHub-flavoured
//! Markdown. Pure.

use std::fmt::Write as _;

use super::markdown::cell;
use super::outcome::percent;
use super::summary::ms;
use crate::results::compare::tune::{TuneComparison, ValueChange};
use crate::results::compare::{CompareMetric, Comparison, Line, Section, Verdict};
use crate::results::StageKind;
use crate::tune::pick::mb;
use stampede_lambda::cost::usd;

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

/// What a section compares: the run or a stage, a request of the mix, or a flow.
#[derive(Clone, Copy, PartialEq)]
enum Of {
    Run,
    Request,
    Flow,
}

/// A line's name: its metric's, after its phase's for the timing split ("ttfb p99").
fn line_name(phase: Option<&str>, m: CompareMetric, of: Of) -> String {
    match phase {
        Some(p) => format!("{p} {}", metric_name(m, of)),
        None => metric_name(m, of).to_string(),
    }
}

fn metric_name(m: CompareMetric, of: Of) -> &'static str {
    match m {
        CompareMetric::P999 => "p99.9",
        CompareMetric::Rate if of == Of::Flow => "rate (flows/s)",
        CompareMetric::Rate => "rate (req/s)",
        CompareMetric::Retries => "retries/request",
        other => other.name(),
    }
}

/// Every section with what it compares: the run and its stages, then each request, then
/// each flow.
fn all_sections(c: &Comparison) -> impl Iterator<Item = (Of, &Section)> {
    let runs = c.sections.iter().map(|s| (Of::Run, s));
    let requests = c.requests.iter().map(|s| (Of::Request, s));
    let flows = c.flows.iter().map(|s| (Of::Flow, s));
    runs.chain(requests).chain(flows)
}

/// A section's heading: "whole run", "stage peak (constant)", "request get order", "flow buy".
fn title(of: Of, s: &Section) -> String {
    match of {
        Of::Run => section_title(&s.name, s.kind),
        Of::Request => format!("request {}", s.name),
        Of::Flow => format!("flow {}", s.name),
    }
}

/// A section as the verdict line names it: a stage by its name alone.
fn label(of: Of, s: &Section) -> String {
    match of {
        Of::Run => s.name.clone(),
        _ => title(of, s),
    }
}

fn verdict_line(c: &Comparison) -> String {
    if c.regressions == 0 {
        return "no regression".into();
    }
    let what: Vec<String> = all_sections(c)
        .flat_map(|(of, s)| s.all_lines().map(move |(phase, l)| (of, s, phase, l)))
        .filter(|(_, _, _, l)| l.verdict == Verdict::Regressed)
        .map(|(of, s, phase, l)| {
            format!(
                "{} {} {} (limit {})",
                label(of, s),
                line_name(phase, l.metric, of),
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

/// The request and flow names only one run has: ("requests", "base", names), …
fn only_one_side(c: &Comparison) -> Vec<(&'static str, &'static str, &[String])> {
    [
        ("requests", "base", &c.requests_only_in_base),
        ("requests", "head", &c.requests_only_in_head),
        ("flows", "base", &c.flows_only_in_base),
        ("flows", "head", &c.flows_only_in_head),
    ]
    .into_iter()
    .filter(|(_, _, names)| !names.is_empty())
    .map(|(what, which, names)| (what, which, names.as_slice()))
    .collect()
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
    for (of, s) in all_sections(c) {
        let title = title(of, s);
        let _ = writeln!(out, "\n{title}");
        let _ = writeln!(
            out,
            "  {:<16} {:>10} {:>10} {:>10} {:>10} {:>7}  verdict",
            "", "base", "head", "change", "noise", "limit"
        );
        for (phase, l) in s.all_lines() {
            let _ = writeln!(
                out,
                "  {:<16} {:>10} {:>10} {:>10} {:>10} {:>7}  {}",
                line_name(phase, l.metric, of),
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
    for (what, which, names) in only_one_side(c) {
        let _ = writeln!(out, "\n{what} only in the {which}: {}", names.join(", "));
    }
    if let Some(t) = &c.tune {
        tune_text(&mut out, t);
    }
    let _ = writeln!(out, "\n{}", verdict_line(c));
    out
}

/// A pick, or "none".
fn pick(memory: Option<u64>) -> String {
    memory.map_or("none".into(), mb)
}

fn relative(v: &ValueChange) -> String {
    match v.change {
        Some(c) => format!("{:+.1}%", c * 100.0),
        None if v.delta == 0.0 => "0".into(),
        None => "from 0".into(),
    }
}

fn tune_title(t: &TuneComparison) -> String {
    let strategies = if t.base_strategy == t.head_strategy {
        format!("strategy {}", t.base_strategy)
    } else {
        format!(
            "strategy {} in the base, {} in the head",
            t.base_strategy, t.head_strategy
        )
    };
    format!("memory (two tunes, {strategies}): informational, not gated")
}

/// The sizes only one tune measured, a line each.
fn tune_only(t: &TuneComparison) -> Vec<String> {
    [("base", &t.only_in_base), ("head", &t.only_in_head)]
        .into_iter()
        .filter(|(_, sizes)| !sizes.is_empty())
        .map(|(which, sizes)| {
            let sizes: Vec<String> = sizes.iter().map(|m| mb(*m)).collect();
            format!("sizes only in the {which}: {}", sizes.join(", "))
        })
        .collect()
}

/// Two tunes' picks and sizes, for the terminal.
fn tune_text(out: &mut String, t: &TuneComparison) {
    let _ = writeln!(out, "\n{}", tune_title(t));
    let _ = writeln!(out, "  {:<16} {:>10} {:>10}", "pick", "base", "head");
    for p in &t.picks {
        let _ = writeln!(
            out,
            "  {:<16} {:>10} {:>10}  {}",
            p.strategy,
            pick(p.base),
            pick(p.head),
            if p.changed { "changed" } else { "same" }
        );
    }
    let _ = writeln!(
        out,
        "  {:<16} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "memory", "p99 base", "p99 head", "change", "$/M base", "$/M head", "change"
    );
    for m in &t.memories {
        let (d, c) = (&m.duration_p99_ms, &m.cost_per_million);
        let _ = writeln!(
            out,
            "  {:<16} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            mb(m.memory),
            ms(d.base),
            ms(d.head),
            relative(d),
            usd(c.base),
            usd(c.head),
            relative(c)
        );
    }
    for line in tune_only(t) {
        let _ = writeln!(out, "  {line}");
    }
}

/// Two tunes' picks and sizes, as Markdown tables.
fn tune_markdown(out: &mut String, t: &TuneComparison) {
    let _ = writeln!(out, "\n### {}\n", cell(&tune_title(t)));
    let _ = writeln!(out, "| strategy | base | head | |\n|---|---:|---:|---|");
    for p in &t.picks {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            p.strategy,
            pick(p.base),
            pick(p.head),
            if p.changed { "changed" } else { "same" }
        );
    }
    let _ = writeln!(
        out,
        "\n| memory | p99 base | p99 head | change | $/M base | $/M head | change |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for m in &t.memories {
        let (d, c) = (&m.duration_p99_ms, &m.cost_per_million);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            mb(m.memory),
            ms(d.base),
            ms(d.head),
            relative(d),
            usd(c.base),
            usd(c.head),
            relative(c)
        );
    }
    for line in tune_only(t) {
        let _ = writeln!(out, "\n{}", cell(&line));
    }
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
    for (of, s) in all_sections(c) {
        let title = title(of, s);
        let _ = writeln!(out, "\n### {}\n", cell(&title));
        let _ = writeln!(
            out,
            "| metric | base | head | change | noise | limit | verdict |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
        for (phase, l) in s.all_lines() {
            let verdict = match l.verdict {
                Verdict::Regressed => "❌ regressed".to_string(),
                v => v.word().to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {verdict} |",
                line_name(phase, l.metric, of),
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
    for (what, which, names) in only_one_side(c) {
        let mut what = what.to_string();
        what[..1].make_ascii_uppercase();
        let _ = writeln!(
            out,
            "\n{what} only in the {which}: {}",
            cell(&names.join(", "))
        );
    }
    if let Some(t) = &c.tune {
        tune_markdown(&mut out, t);
    }
    let _ = writeln!(
        out,
        "\nWithin noise: the change is no larger than the two runs' uncertainty (95 % intervals of each percentile from its histogram, of each share from its counts) or than {}.",
        ms(c.noise_floor_ms)
    );
    out
}
