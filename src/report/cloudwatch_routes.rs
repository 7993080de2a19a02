//! Per function and per route, after the side-by-side: what Lambda counted for each
//! function the routes reach, and what API Gateway counted on each route, beside what
//! stampede saw. Text for the terminal, Markdown for CI.

use std::fmt::Write as _;

use crate::cloudwatch::CloudWatch;

fn opt(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) if v.fract() == 0.0 || v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

/// The two tables: headers and rows (the first column left-aligned).
fn tables(cw: &CloudWatch) -> Vec<(Vec<&'static str>, Vec<Vec<String>>)> {
    let mut out = Vec::new();
    if !cw.by_function.is_empty() {
        let rows = cw
            .by_function
            .iter()
            .map(|f| {
                vec![
                    f.function.clone(),
                    f.client_sent.to_string(),
                    f.client_throttled.to_string(),
                    opt(f.invocations),
                    opt(f.throttles),
                    opt(f.concurrent_max),
                ]
            })
            .collect();
        out.push((
            vec![
                "function",
                "sent",
                "throttled seen",
                "Invocations",
                "Throttles",
                "Concurrent",
            ],
            rows,
        ));
    }
    if !cw.by_route.is_empty() {
        let rows = cw
            .by_route
            .iter()
            .map(|r| {
                vec![
                    r.route.clone(),
                    r.function.clone().unwrap_or_else(|| "—".into()),
                    r.client_sent.to_string(),
                    r.client_throttled.to_string(),
                    opt(r.count),
                    opt(r.errors_4xx),
                    opt(r.errors_5xx),
                ]
            })
            .collect();
        out.push((
            vec![
                "route",
                "function",
                "sent",
                "throttled seen",
                "Count",
                "4XX",
                "5XX",
            ],
            rows,
        ));
    }
    out
}

/// What the columns are.
const LEGEND: &str = "sent and throttled seen are stampede's (429s and suspected Lambda throttles); the others CloudWatch's over the whole run (— no datapoint)";

/// The terminal's tables; empty without the quota check per route.
pub fn render(cw: &CloudWatch) -> String {
    let mut out = String::new();
    let tables = tables(cw);
    if tables.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nBy function and route (CloudWatch over the run)");
    for (headers, rows) in &tables {
        let widths: Vec<usize> = (0..headers.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([headers[i].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut line = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                // Names (route, function) to the left, numbers to the right.
                let text = cell.as_str();
                let pad = w.saturating_sub(text.chars().count());
                let left = i == 0 || (i == 1 && headers[1] == "function");
                if left {
                    let _ = write!(line, "{text}{}  ", " ".repeat(pad));
                } else {
                    let _ = write!(line, "{}{text}  ", " ".repeat(pad));
                }
            }
            line.trim_end().to_string()
        };
        let head: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        let _ = writeln!(out, "{}", line(&head));
        for r in rows {
            let _ = writeln!(out, "{}", line(r));
        }
    }
    let _ = writeln!(out, "  {LEGEND}");
    out
}

/// The Markdown tables; empty without the quota check per route.
pub fn markdown(cw: &CloudWatch) -> String {
    let mut out = String::new();
    let tables = tables(cw);
    if tables.is_empty() {
        return out;
    }
    for (headers, rows) in &tables {
        let _ = writeln!(out, "\n| {} |", headers.join(" | "));
        let _ = write!(out, "|---|");
        for h in &headers[1..] {
            let _ = write!(out, "{}|", if *h == "function" { "---" } else { "---:" });
        }
        let _ = writeln!(out);
        for r in rows {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
    }
    let _ = writeln!(out, "\n*{LEGEND}.*");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use stampede_results::cloudwatch::{FunctionCounted, RouteCounted};

    #[test]
    fn each_function_and_route_has_its_row() {
        let cw = CloudWatch {
            by_function: vec![FunctionCounted {
                function: "orders-create:live".into(),
                routes: vec!["POST /orders".into()],
                client_sent: 120,
                client_throttled: 30,
                invocations: Some(90.0),
                throttles: Some(30.0),
                concurrent_max: Some(5.0),
            }],
            by_route: vec![RouteCounted {
                route: "POST /orders".into(),
                function: Some("orders-create:live".into()),
                client_sent: 120,
                client_throttled: 30,
                count: None,
                errors_4xx: None,
                errors_5xx: None,
            }],
            ..CloudWatch::default()
        };
        let text = render(&cw);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2],
            "function            sent  throttled seen  Invocations  Throttles  Concurrent"
        );
        assert_eq!(
            lines[3],
            "orders-create:live   120              30           90         30           5"
        );
        assert_eq!(
            lines[4],
            "route         function            sent  throttled seen  Count  4XX  5XX"
        );
        assert_eq!(
            lines[5],
            "POST /orders  orders-create:live   120              30      —    —    —"
        );
        let md = markdown(&cw);
        assert!(
            md.contains("| POST /orders | orders-create:live | 120 | 30 | — | — | — |"),
            "{md}"
        );
        assert!(render(&CloudWatch::default()).is_empty());
    }
}
