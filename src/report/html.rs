//! The HTML report (docs/html-report.md): one self-contained file that works offline. The
//! charts are drawn in the browser by uPlot (vendored, MIT, in `assets/uplot/`) and the
//! page's own script (`assets/report.js`) from one JSON blob of derived series built here;
//! the header and the tables are rendered here, every piece of text HTML-escaped. Pure.

use std::fmt::Display;
use std::fmt::Write as _;

use crate::results::Results;

mod aws;
pub(crate) mod data;
mod tables;
mod timing_chart;
mod tune_chart;

pub use data::{sig3, spectrum_points};

pub(crate) const UPLOT_JS: &str = include_str!("assets/uplot/uPlot.iife.min.js");
pub(crate) const UPLOT_CSS: &str = include_str!("assets/uplot/uPlot.min.css");
/// The page's script: the run's charts, then the tune's (drawn only where its section is).
pub(crate) const REPORT_JS: &str = concat!(
    include_str!("assets/report.js"),
    include_str!("assets/tune_chart.js")
);
pub(crate) const REPORT_CSS: &str = include_str!("assets/report.css");

/// Counts script errors into `<body data-errors>` from the first script on: the page's
/// own status, which a headless browser's DOM dump shows.
pub(crate) const ERROR_COUNTER: &str = "window.onerror=function(){var b=document.body;\
b.dataset.errors=String((+b.dataset.errors||0)+1);};";

/// Nothing may be fetched: no network, no files; inline scripts and styles only.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; \
style-src 'unsafe-inline'; img-src data:";

/// The report of a run, a complete HTML document.
pub fn render(r: &Results) -> String {
    let title = r.name.as_deref().unwrap_or("stampede run");
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>stampede: {}</title>\n<style>{}</style>\n<style>{}</style>\n</head>\n\
         <body data-drawn=\"0\" data-errors=\"0\">\n<script>{}</script>\n",
        CSP,
        esc(title),
        UPLOT_CSS,
        REPORT_CSS,
        ERROR_COUNTER
    );
    tables::header(&mut out, r);
    if r.probe.is_some() {
        let _ =
            writeln!(
            out,
            "<section class=\"chart-section\"><h2>The knee</h2><p class=\"help\">{}</p>\
             <div class=\"chart\" id=\"chart-knee\" data-points=\"0\"></div></section>",
            esc("Each probe step by the load it offered: what it achieved (req/s, left), its p99 \
                 and the share of attempts throttled (right). The vertical line is the knee: the \
                 highest load that met the SLO.")
        );
        tables::probe(&mut out, r);
    }
    if r.tune.is_some() {
        let _ = writeln!(
            out,
            "<section class=\"chart-section\" id=\"memory\"><h2>Memory</h2><p class=\"help\">{}</p>\
             <div class=\"chart\" id=\"chart-tune\" data-points=\"0\"></div>",
            esc("Each memory size measured under the load: its cost per million invocations \
                 (init billed) against its duration p99, on a log scale. Down and to the left is \
                 cheaper and faster. The ringed points are the picks; the thick red ring is the \
                 pick of the strategy asked for.")
        );
        tables::tune(&mut out, r);
    }
    charts(&mut out);
    request_charts(&mut out, r);
    tables::retries(&mut out, r);
    tables::stages(&mut out, r);
    tables::connections(&mut out, r);
    tables::timing(&mut out, r);
    tables::requests(&mut out, r);
    tables::flows(&mut out, r);
    tables::lambda(&mut out, r);
    tables::thresholds(&mut out, r);
    tables::preflight(&mut out, r);
    tables::quota_check(&mut out, r);
    tables::routes(&mut out, r);
    tables::cloudwatch(&mut out, r);
    tables::failures(&mut out, r);
    tables::emulator(&mut out, r);
    let _ = writeln!(
        out,
        "<footer>stampede {} · charts by uPlot 1.6.32 (MIT licence) · \
         drag across a time chart to zoom (all time charts follow), double-click to zoom \
         out, hover for values, click a legend entry to hide its line</footer>",
        esc(env!("CARGO_PKG_VERSION"))
    );
    if let Some(t) = &r.tune {
        let _ = writeln!(
            out,
            "<script type=\"application/json\" id=\"tune-data\">{}</script>",
            tune_chart::to_script_json(t)
        );
    }
    let _ = write!(
        out,
        "<script type=\"application/json\" id=\"data\">{}</script>\n\
         <script>{}</script>\n<script>{}</script>\n</body>\n</html>\n",
        data::to_script_json(&data::build(r)),
        UPLOT_JS,
        REPORT_JS
    );
    out
}

/// With `[[requests]]` and their seconds: each request's rate and p99 per second.
fn request_charts(out: &mut String, r: &Results) {
    let has_seconds = r
        .by_request
        .as_ref()
        .is_some_and(|m| m.values().any(|q| !q.timeline.is_empty()));
    if !has_seconds {
        return;
    }
    let sections = [
        (
            "chart-request-rate",
            "Requests per second, per request",
            "Attempts of each request of the mix sent in each second, one line per request \
             (its name in the legend): the mix's shares over time, and which request a \
             change of rate came from.",
        ),
        (
            "chart-request-p99",
            "p99 per second, per request (log scale)",
            "The p99 end-to-end latency of each request's logical requests that ended in each \
             second, whatever their outcome: which request of the mix got slow, and when.",
        ),
    ];
    for (id, title, help) in sections {
        let _ = writeln!(
            out,
            "<section class=\"chart-section\"><h2>{}</h2><p class=\"help\">{}</p>\
             <div class=\"chart\" id=\"{}\" data-points=\"0\"></div></section>",
            esc(title),
            esc(help),
            id
        );
    }
}

/// The chart sections; report.js draws into their `.chart` elements.
fn charts(out: &mut String) {
    let sections = [
        (
            "chart-rate",
            "Requests per second",
            "Attempts sent, answered ok, throttled (by kind) and failed in each second, with \
             what the schedule planned (the wide pale line) and API Gateway's rate limits as horizontal \
             lines. Shaded bands are the stages; the red line is where throttling began.",
        ),
        (
            "chart-latency",
            "Latency per second (log scale)",
            "p50, p90, p99 and max end-to-end latency of the requests that ended in each \
             second: of those that ended ok (solid) and of those that ended throttled \
             (dashed), kept apart so fast 429s cannot make the service look faster.",
        ),
        (
            "chart-inflight",
            "In flight",
            "The most attempts in flight at once in each second, with the concurrency \
             limits read for the run as horizontal lines.",
        ),
        (
            "chart-spectrum",
            "Latency distribution",
            "Latency by percentile over the whole run and per stage, as HdrHistogram plots \
             it: the x axis stretches the tail (90%, 99%, 99.9%, …) so the slowest requests \
             are visible; the last point of each line is its maximum.",
        ),
    ];
    for (id, title, help) in sections {
        let _ = writeln!(
            out,
            "<section class=\"chart-section\"><h2>{}</h2><p class=\"help\">{}</p>\
             <div class=\"chart\" id=\"{}\" data-points=\"0\"></div></section>",
            esc(title),
            esc(help),
            id
        );
    }
}

/// `text` with `& < > " '` escaped, for element text and attribute values alike.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Any displayable value, escaped.
fn cell(v: impl Display) -> String {
    esc(&v.to_string())
}

#[cfg(test)]
mod tests;
