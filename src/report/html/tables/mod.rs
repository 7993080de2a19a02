//! The report's header and tables, rendered to HTML. Every piece of text from the results
//! goes through `esc` (or `cell`): names, bodies and messages are user data.
//!
//! Here: the pieces every table is made of; the sections are in `run` (the header, retries,
//! stages, requests), `connections` (resends, GOAWAYs, addresses), `flows` (each flow of `[[flows]]`), `checks` (thresholds, the preflight, the quota check) and `extras`
//! (failure samples, the emulator, CloudWatch, Lambda, a probe's steps), `tune` (a tune's
//! memory sizes and picks).

mod checks;
mod connections;
mod extras;
mod flows;
mod routes;
mod run;
mod timing;
mod tune;

use std::fmt::Write as _;

use super::{esc, sig3};
pub use checks::{preflight, quota_check, thresholds};
pub use connections::connections;
pub use extras::{cloudwatch, emulator, failures, lambda, probe};
pub use flows::flows;
pub use routes::routes;
pub use run::{header, requests, retries, stages};
pub use timing::timing;
pub use tune::tune;

fn percent(n: u64, of: u64) -> String {
    if of == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / of as f64)
    }
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
