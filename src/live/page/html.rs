//! The live page itself: the HTML report's styles, uPlot and chart script (the same look,
//! vendored, nothing fetched from elsewhere) around the charts a run has while it goes,
//! and the page's own script (`live.js`), which reads `/events` and redraws each second.
//! Pure.

use std::fmt::Write as _;

use crate::live::metrics::About;
use crate::report::html::data::{to_script_json, Data, Limit, Spectrum};
use crate::report::html::{esc, CSP, ERROR_COUNTER, REPORT_CSS, REPORT_JS, UPLOT_CSS, UPLOT_JS};

const LIVE_JS: &str = include_str!("live.js");
const LIVE_CSS: &str = include_str!("live.css");

/// The header's values, each filled in by live.js from the events.
const KEYS: [(&str, &str); 8] = [
    ("stage", "stage"),
    ("elapsed", "elapsed"),
    ("left", "time left"),
    ("in-flight", "in flight"),
    ("requests", "requests"),
    ("ok", "ok"),
    ("throttled", "throttled"),
    ("errors", "errors"),
];

/// The page of a run named by `about`, with the limits its charts draw (from the preflight)
/// and an abort button when `control`.
pub fn render(about: &About, limits: (Vec<Limit>, Vec<Limit>), control: bool) -> String {
    let mut out = String::with_capacity(128 * 1024);
    let title = format!("stampede live: {}", about.scenario);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}; connect-src 'self'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{UPLOT_CSS}</style>\n<style>{REPORT_CSS}</style>\n\
         <style>{LIVE_CSS}</style>\n</head>\n\
         <body data-drawn=\"0\" data-errors=\"0\" data-events=\"0\" data-last-second=\"\" \
         data-control=\"{}\">\n<script>{ERROR_COUNTER}</script>\n",
        esc(&title),
        if control { "1" } else { "0" },
    );
    let shard = if about.shard.is_empty() {
        String::new()
    } else {
        format!(" · shard {}", about.shard)
    };
    let _ = write!(
        out,
        "<header>\n<h1>{}</h1>\n<p class=\"target\">run {}{} · live: each second as it ends · \
         {} planned</p>\n<div class=\"verdict warn\" id=\"live-state\">connecting</div>\n",
        esc(&title),
        esc(&about.run_id),
        esc(&shard),
        esc(&seconds(about.planned_s)),
    );
    if control {
        out.push_str(
            "<button type=\"button\" id=\"abort\" class=\"abort\" data-armed=\"0\">Stop the run</button>\n\
             <span id=\"abort-said\" class=\"note\"></span>\n",
        );
    }
    out.push_str("<p id=\"live-note\" class=\"note\"></p>\n<dl class=\"keys\">");
    for (id, name) in KEYS {
        let _ = write!(out, "<div><dt>{name}</dt><dd id=\"live-{id}\">–</dd></div>");
    }
    out.push_str("</dl>\n</header>\n");
    for (id, title, help) in SECTIONS {
        let _ = writeln!(
            out,
            "<section class=\"chart-section\"><h2>{}</h2><p class=\"help\">{}</p>\
             <div class=\"chart\" id=\"{}\" data-points=\"0\"></div></section>",
            esc(title),
            esc(help),
            id
        );
    }
    let _ = write!(
        out,
        "<footer>stampede {} · charts by uPlot 1.6.32 (MIT licence) · when the run ends this \
         page becomes its HTML report</footer>\n\
         <script type=\"application/json\" id=\"data\">{}</script>\n\
         <script>{UPLOT_JS}</script>\n<script>{REPORT_JS}</script>\n<script>{LIVE_JS}</script>\n\
         </body>\n</html>\n",
        esc(env!("CARGO_PKG_VERSION")),
        to_script_json(&empty(limits)),
    );
    out
}

/// The charts of a run while it goes: the report's first three.
const SECTIONS: [(&str, &str, &str); 3] = [
    (
        "chart-rate",
        "Requests per second",
        "Attempts sent, answered ok, throttled (by kind) and failed in each second that has \
         ended, with what the schedule planned (the wide pale line) and API Gateway's rate \
         limits as horizontal lines. Shaded bands are the stages; the axis runs to the end \
         of the stage running.",
    ),
    (
        "chart-latency",
        "Latency per second (log scale)",
        "p50, p90, p99 and max end-to-end latency of the requests that ended in each \
         second: of those that ended ok (solid) and of those that ended throttled (dashed).",
    ),
    (
        "chart-inflight",
        "In flight",
        "The most attempts in flight at once in each second, with the concurrency limits \
         the preflight read as horizontal lines.",
    ),
];

/// The charts' data before the first second: no seconds, the limits.
fn empty((rate_limits, concurrency_limits): (Vec<Limit>, Vec<Limit>)) -> Data {
    Data {
        t: Vec::new(),
        stages: Vec::new(),
        marks: Vec::new(),
        rate: Vec::new(),
        rate_limits,
        latency: Vec::new(),
        in_flight: Vec::new(),
        concurrency_limits,
        spectrum: Spectrum::default(),
        knee: None,
        request_rate: Vec::new(),
        request_p99: Vec::new(),
        timing: Vec::new(),
    }
}

/// "1 h 2 min 5 s", "45 s".
fn seconds(s: f64) -> String {
    let s = s.round() as u64;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, m, s) => format!("{h} h {m} min {s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn about() -> About {
        About {
            scenario: "</script><b>x</b>".into(),
            run_id: "0000abcd".into(),
            stages: vec!["a".into()],
            planned_s: 3725.0,
            ..About::default()
        }
    }

    #[test]
    fn the_page_is_whole_and_escapes_the_names() {
        let limits = vec![Limit {
            label: "function_reserved_concurrency".into(),
            value: 30.0,
        }];
        let page = render(&about(), (Vec::new(), limits), false);
        assert!(!page.contains("<b>x</b>"), "the name is escaped");
        assert!(page.contains("1 h 2 min 5 s planned"));
        assert!(
            page.contains("\"concurrency_limits\":[{\"label\":\"function_reserved_concurrency\"")
        );
        for id in ["chart-rate", "chart-latency", "chart-inflight", "live-left"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(
            !page.contains("id=\"abort\""),
            "no button without --live-control"
        );
        assert!(page.contains("connect-src 'self'"));
        assert!(
            !page.contains(" src=") && !page.contains(" href="),
            "nothing fetched"
        );
    }

    #[test]
    fn with_control_the_page_has_its_button() {
        let page = render(&about(), (Vec::new(), Vec::new()), true);
        assert!(page.contains("id=\"abort\""));
        assert!(page.contains("data-control=\"1\""));
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(seconds(45.2), "45 s");
        assert_eq!(seconds(125.0), "2 min 5 s");
    }
}
