//! A tune's answer (`results.tune`, docs/tune.md "Reading the answer") for the summary, the
//! Markdown report and the HTML report's table: per memory size its durations, init, cold
//! starts, cost per million with and without init, latency and throttles; then each
//! strategy's pick with why, the strategy asked for marked.

use std::fmt::Write as _;

use stampede_lambda::cost::usd;
use stampede_results::tune::{Strategy, Tune, TuneMemory};

use super::markdown::{cell, line};
use super::summary::ms;
use crate::results::Results;
use crate::tune::pick::{mb, unpickable, NOT_PICKED};

/// The table's columns, in order.
pub const HEADERS: [&str; 12] = [
    "memory",
    "invocations",
    "duration p50",
    "duration p99",
    "init p50",
    "init p99",
    "cold starts",
    "$/M with init",
    "$/M without init",
    "latency p99",
    "throttles",
    "errors",
];

/// The strategies in the order the answer lists them.
pub const STRATEGIES: [Strategy; 3] = [Strategy::Cost, Strategy::Speed, Strategy::Balanced];

/// One size's cells, as text (the HTML escapes them).
pub fn cells(m: &TuneMemory) -> Vec<String> {
    let init = |p: fn(&stampede_results::tune::Spread) -> f64| {
        m.init_ms.as_ref().map_or("—".to_string(), |s| ms(p(s)))
    };
    vec![
        mb(m.memory),
        m.invocations.to_string(),
        ms(m.duration_ms.p50),
        ms(m.duration_ms.p99),
        init(|s| s.p50),
        init(|s| s.p99),
        m.cold_starts.to_string(),
        usd(m.cost_per_million),
        usd(m.cost_per_million_without_init),
        ms(m.latency_ms.p99),
        m.throttles.to_string(),
        m.errors.to_string(),
    ]
}

/// The strategies that picked `memory` ("cost, speed"), the one asked for with `*`.
pub fn picked_by(t: &Tune, memory: u64) -> String {
    let Some(p) = &t.picks else {
        return String::new();
    };
    STRATEGIES
        .iter()
        .filter(|s| p.of(**s) == memory)
        .map(|s| {
            let star = if *s == t.strategy { "*" } else { "" };
            format!("{}{star}", s.key())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The title: the function, the sizes, the strategy asked for.
pub fn title(t: &Tune) -> String {
    let o = &t.original;
    let region = o
        .region
        .as_deref()
        .map_or(String::new(), |r| format!(" ({r})"));
    let balance = if t.strategy == Strategy::Balanced {
        format!(", balance {}", t.balance)
    } else {
        String::new()
    };
    format!(
        "tune of {}{region}: {} memory size{} under load · strategy {}{balance} · found at {}",
        o.function,
        t.memories.len(),
        if t.memories.len() == 1 { "" } else { "s" },
        t.strategy.key(),
        mb(o.memory)
    )
}

/// Each strategy's pick with why, the one asked for first and marked; when nothing could be
/// picked, why not; then the sizes left out.
pub fn pick_lines(t: &Tune) -> Vec<String> {
    let Some(p) = &t.picks else {
        let mut out = vec!["no size picked: none ran enough to judge".to_string()];
        out.extend(
            t.memories
                .iter()
                .filter_map(|m| Some(format!("{}: {}", mb(m.memory), unpickable(m)?))),
        );
        return out;
    };
    let mut order: Vec<Strategy> = vec![t.strategy];
    order.extend(STRATEGIES.iter().filter(|s| **s != t.strategy));
    let mut out: Vec<String> = order
        .iter()
        .map(|s| {
            let asked = if *s == t.strategy { " (asked for)" } else { "" };
            let why = p.why.get(s.key()).cloned().unwrap_or_else(|| mb(p.of(*s)));
            format!("{}{asked} → {why}", s.key())
        })
        .collect();
    if let Some(left_out) = p.why.get(NOT_PICKED) {
        out.push(left_out.clone());
    }
    out
}

/// What the end of the tune put back, and what `--apply` changed, in a line each.
pub fn restore_lines(t: &Tune) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = &t.restored {
        let memory = if r.memory_restored {
            format!("memory back at {}", mb(t.original.memory))
        } else {
            format!("memory NOT back at {}", mb(t.original.memory))
        };
        let mut parts = vec![memory, format!("{} versions deleted", r.deleted.len())];
        if !r.kept.is_empty() {
            parts.push(format!("kept: {}", r.kept.join(", ")));
        }
        out.push(format!("restored: {}", parts.join(" · ")));
        out.extend(r.problems.iter().map(|p| format!("not restored: {p}")));
    }
    if let Some(a) = &t.applied {
        out.push(match &a.alias {
            Some(alias) => format!(
                "applied: alias {} → version {} ({})",
                alias.name,
                alias.version.as_deref().unwrap_or("?"),
                mb(a.memory)
            ),
            None => format!("applied: $LATEST set to {}", mb(a.memory)),
        });
    }
    out
}

/// The section as lines for the summary; empty when the results are not a tune's.
pub fn lines(r: &Results) -> Vec<String> {
    let Some(t) = &r.tune else {
        return Vec::new();
    };
    let widths = [9, 11, 12, 12, 9, 9, 11, 13, 16, 11, 9, 6];
    let row = |cells: &[String]| -> String {
        let mut text = String::from(" ");
        for (c, w) in cells.iter().zip(widths) {
            let _ = write!(text, " {c:>w$}");
        }
        text
    };
    let mut out = vec![title(t)];
    let head: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    out.push(format!("{}  picked by", row(&head)));
    for m in &t.memories {
        out.push(format!("{}  {}", row(&cells(m)), picked_by(t, m.memory)));
    }
    out.extend(pick_lines(t).into_iter().map(|l| format!("  {l}")));
    out.extend(restore_lines(t).into_iter().map(|l| format!("  {l}")));
    out.iter_mut().for_each(|l| *l = l.trim_end().to_string());
    out
}

/// The section as GitHub-flavoured Markdown: the table and the picks; empty when the
/// results are not a tune's.
pub fn markdown(r: &Results) -> String {
    let Some(t) = &r.tune else {
        return String::new();
    };
    let mut out = format!("### Memory: {}\n\n", line(&title(t)));
    let _ = writeln!(out, "| {} | picked by |", HEADERS.join(" | "));
    let _ = writeln!(out, "|---|{}---|", "--:|".repeat(HEADERS.len() - 1));
    for m in &t.memories {
        let _ = writeln!(
            out,
            "| {} | {} |",
            cells(m)
                .iter()
                .map(|c| cell(c))
                .collect::<Vec<_>>()
                .join(" | "),
            cell(&picked_by(t, m.memory))
        );
    }
    out.push('\n');
    for l in pick_lines(t).iter().chain(&restore_lines(t)) {
        let _ = writeln!(out, "- {}", line(l));
    }
    out.push_str("\n`*`: the strategy asked for. $/M: USD per million invocations.\n\n");
    out
}

#[cfg(test)]
mod tests;
