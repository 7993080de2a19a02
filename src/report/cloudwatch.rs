//! The side-by-side: what stampede saw and what CloudWatch counted, per minute and in
//! total, then what the server's numbers say. Text for the terminal, Markdown for CI.

use std::fmt::Write as _;

use crate::cloudwatch::{ApiKind, CloudWatch, Minute};

/// A column: when it is shown, its header and its cell.
struct Column {
    shown: Shown,
    header: &'static str,
    cell: fn(&Minute) -> String,
}

/// Which reading a column needs.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    Always,
    WithApi,
    WithoutApi,
    WithFunction,
    WithoutFunction,
}

fn count(v: u64) -> String {
    v.to_string()
}

fn opt(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) if v.fract() == 0.0 || v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

/// Every column, in order; each shown when what it needs was read.
const COLUMNS: [Column; 19] = [
    Column {
        shown: Shown::Always,
        header: "sent",
        cell: |m| count(m.client.sent),
    },
    Column {
        shown: Shown::WithApi,
        header: "Count",
        cell: |m| opt(m.server.api_count),
    },
    Column {
        shown: Shown::WithApi,
        header: "429 seen",
        cell: |m| count(m.client.throttled_gateway),
    },
    Column {
        shown: Shown::WithApi,
        header: "4XX",
        cell: |m| opt(m.server.api_4xx),
    },
    Column {
        shown: Shown::WithApi,
        header: "5XX",
        cell: |m| opt(m.server.api_5xx),
    },
    Column {
        shown: Shown::WithApi,
        header: "susp. λ",
        cell: |m| count(m.client.suspected_lambda),
    },
    Column {
        shown: Shown::WithoutApi,
        header: "λ 429 seen",
        cell: |m| count(m.client.throttled_lambda),
    },
    Column {
        shown: Shown::WithFunction,
        header: "Invocations",
        cell: |m| opt(m.server.invocations),
    },
    Column {
        shown: Shown::WithFunction,
        header: "Throttles",
        cell: |m| opt(m.server.throttles),
    },
    Column {
        shown: Shown::WithFunction,
        header: "Errors",
        cell: |m| opt(m.server.errors),
    },
    Column {
        shown: Shown::WithoutFunction,
        header: "Throttles (acct)",
        cell: |m| opt(m.server.account_throttles),
    },
    Column {
        shown: Shown::Always,
        header: "in flight",
        cell: |m| count(m.client.peak_in_flight),
    },
    Column {
        shown: Shown::WithFunction,
        header: "Concurrent",
        cell: |m| opt(m.server.concurrent_max),
    },
    Column {
        shown: Shown::WithoutFunction,
        header: "Concurrent (acct)",
        cell: |m| opt(m.server.account_concurrent_max),
    },
    Column {
        shown: Shown::Always,
        header: "p99 ms",
        cell: |m| opt(m.client.p99_ms),
    },
    Column {
        shown: Shown::WithApi,
        header: "Latency",
        cell: |m| opt(m.server.api_latency_p99_ms),
    },
    Column {
        shown: Shown::WithApi,
        header: "Integration",
        cell: |m| opt(m.server.api_integration_latency_p99_ms),
    },
    Column {
        shown: Shown::WithFunction,
        header: "Duration",
        cell: |m| opt(m.server.duration_p99_ms),
    },
    Column {
        shown: Shown::WithFunction,
        header: "Spillover",
        cell: |m| opt(m.server.provisioned_spillover),
    },
];

/// The columns that have something to say for what was read.
fn columns(cw: &CloudWatch) -> Vec<&'static Column> {
    let (api, function) = (cw.api.is_some(), cw.function.is_some());
    // Spillover only where provisioned concurrency was measured.
    let provisioned = cw
        .total
        .server
        .provisioned_utilization
        .is_some_and(|u| u > 0.0);
    COLUMNS
        .iter()
        .filter(|c| match c.shown {
            Shown::Always => true,
            Shown::WithApi => api,
            Shown::WithoutApi => !api,
            Shown::WithFunction if c.header == "Spillover" => function && provisioned,
            Shown::WithFunction => function,
            Shown::WithoutFunction => !function,
        })
        .collect()
}

/// "12:03" (or "12:03:07" for periods shorter than a minute), UTC.
fn label(start: &str, period_s: u64) -> String {
    let time = start
        .split('T')
        .nth(1)
        .unwrap_or(start)
        .trim_end_matches('Z');
    if period_s % 60 == 0 {
        time.get(..5).unwrap_or(time).to_string()
    } else {
        time.to_string()
    }
}

/// The title: where and what was read.
fn what(cw: &CloudWatch) -> String {
    let mut parts = vec![format!(
        "{} periods",
        if cw.period_s == 60 {
            "1-minute".to_string()
        } else {
            format!("{} s", cw.period_s)
        }
    )];
    if let Some(r) = &cw.region {
        parts.insert(0, r.clone());
    }
    if let Some(api) = &cw.api {
        parts.push(match api.kind {
            ApiKind::Rest => format!(
                "REST API {} ({}) stage {}",
                api.name.as_deref().unwrap_or("?"),
                api.id,
                api.stage
            ),
            ApiKind::Http => format!("HTTP API {} stage {}", api.id, api.stage),
        });
    }
    if let Some(f) = &cw.function {
        parts.push(match &cw.qualifier {
            Some(q) => format!("function {f}:{q}"),
            None => format!("function {f}"),
        });
    } else {
        parts.push("the account's Lambda totals".into());
    }
    parts.join(", ")
}

/// The side-by-side as a table: the first column's name, the headers, and each row (a
/// period, then the total) with its cells.
pub struct Table {
    pub first: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<(String, Vec<String>)>,
}

pub fn table(cw: &CloudWatch) -> Table {
    let cols = columns(cw);
    let rows = cw
        .minutes
        .iter()
        .map(|m| {
            (
                label(&m.start, cw.period_s),
                cols.iter().map(|c| (c.cell)(m)).collect(),
            )
        })
        .chain(std::iter::once((
            "total".to_string(),
            cols.iter().map(|c| (c.cell)(&cw.total)).collect(),
        )))
        .collect();
    Table {
        first: if cw.period_s == 60 {
            "minute"
        } else {
            "period"
        },
        headers: cols.iter().map(|c| c.header).collect(),
        rows,
    }
}

/// What the table's columns are.
pub const LEGEND: &str =
    "sent, 429 seen, susp. λ, in flight and p99 are stampede's; the others CloudWatch's (latencies p99, ms; — no datapoint)";

/// The terminal's side-by-side.
pub fn render(cw: &CloudWatch) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nWhat AWS counted (CloudWatch: {})", what(cw));
    if cw.status != "read" && cw.status != "incomplete" {
        let _ = writeln!(
            out,
            "  {}",
            cw.message.as_deref().unwrap_or("CloudWatch was not read")
        );
        notes(&mut out, cw);
        return out;
    }
    let t = table(cw);
    let widths: Vec<usize> = t
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            t.rows
                .iter()
                .map(|r| r.1[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let first = t.rows.iter().map(|r| r.0.len()).max().unwrap_or(5).max(6);
    let mut line = format!("{:<first$}", t.first);
    for (h, w) in t.headers.iter().zip(&widths) {
        let _ = write!(line, "  {h:>w$}");
    }
    let _ = writeln!(out, "{}", line.trim_end());
    for (name, cells) in &t.rows {
        let mut line = format!("{name:<first$}");
        for (cell, w) in cells.iter().zip(&widths) {
            let _ = write!(line, "  {cell:>w$}");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(out, "  {LEGEND}");
    if !cw.incomplete.is_empty() {
        let minutes: Vec<String> = cw
            .incomplete
            .iter()
            .map(|s| label(s, cw.period_s))
            .collect();
        let _ = writeln!(
            out,
            "  incomplete: no datapoints yet for {} after waiting {:.0} s; `stampede cloudwatch RESULTS.json` reads them again later",
            minutes.join(", "),
            cw.waited_s
        );
    }
    out.push_str(&super::cloudwatch_routes::render(cw));
    for f in &cw.findings {
        let _ = writeln!(out, "  {}", f.message);
    }
    notes(&mut out, cw);
    out
}

fn notes(out: &mut String, cw: &CloudWatch) {
    for n in &cw.not_read {
        let _ = writeln!(out, "  not read: {n}");
    }
}

/// The Markdown section: the same table, then the findings.
pub fn markdown(cw: &CloudWatch) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n### What AWS counted\n\nCloudWatch: {}.\n", what(cw));
    if cw.status != "read" && cw.status != "incomplete" {
        let _ = writeln!(
            out,
            "{}",
            cw.message.as_deref().unwrap_or("CloudWatch was not read.")
        );
        return out;
    }
    let t = table(cw);
    let _ = write!(out, "| {} |", t.first);
    for h in &t.headers {
        let _ = write!(out, " {h} |");
    }
    let _ = write!(out, "\n|---|");
    for _ in &t.headers {
        let _ = write!(out, "---:|");
    }
    let _ = writeln!(out);
    for (name, cells) in &t.rows {
        let name = if name == "total" { "**total**" } else { name };
        let _ = write!(out, "| {name} |");
        for c in cells {
            let _ = write!(out, " {c} |");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "\n*{LEGEND}.*");
    if !cw.incomplete.is_empty() {
        let _ = writeln!(
            out,
            "\nIncomplete: no datapoints yet for {} after waiting {:.0} s.",
            cw.incomplete.join(", "),
            cw.waited_s
        );
    }
    out.push_str(&super::cloudwatch_routes::markdown(cw));
    if !cw.findings.is_empty() {
        let _ = writeln!(out);
        for f in &cw.findings {
            let _ = writeln!(out, "- {}", f.message);
        }
    }
    out
}

/// The wait for the last minutes' datapoints (stderr, only on a terminal).
pub struct WaitBar {
    bar: Option<indicatif::ProgressBar>,
}

impl WaitBar {
    pub fn start(wait: std::time::Duration, quiet: bool) -> WaitBar {
        use std::io::IsTerminal;
        if quiet || !std::io::stderr().is_terminal() {
            return WaitBar { bar: None };
        }
        let bar = indicatif::ProgressBar::new(wait.as_secs().max(1));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:24} waiting for CloudWatch {pos}/{len} s · {msg} · Ctrl-C skips",
            )
            .expect("static template is valid")
            .progress_chars("=> "),
        );
        WaitBar { bar: Some(bar) }
    }

    pub fn update(&self, waited: std::time::Duration, missing: &[String], period_s: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(waited.as_secs());
            let names: Vec<String> = missing.iter().map(|m| label(m, period_s)).collect();
            bar.set_message(format!("no datapoints yet for {}", names.join(", ")));
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
