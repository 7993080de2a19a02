//! Where the time went: a table of the phases over the run and the section of their
//! stacked chart (each phase's mean per second, drawn by report.js from `data.timing`).

use std::fmt::Write as _;

use super::{section, table};
use crate::report::html::esc;
use crate::report::summary::ms;
use crate::report::timing::{meaning, seen};
use crate::results::Results;

pub fn timing(out: &mut String, r: &Results) {
    let Some(t) = &r.timing else {
        return;
    };
    if seen(t).next().is_none() {
        return;
    }
    section(out, "timing", "Where the time went");
    let _ = writeln!(
        out,
        "<p class=\"help\">{}</p>",
        esc(
            "Each attempt's phases. dns, connect and tls are counted for the attempts that \
             opened their connection: with connections kept alive, one per connection, not \
             per request (a reused connection's requests have none). ttfb runs from the \
             request written to the first byte of the answer, receive from it to the last."
        )
    );
    let rows: Vec<Vec<String>> = seen(t)
        .map(|p| {
            let s = t.get(p);
            let mut row = vec![esc(p.name()), esc(meaning(p)), s.count.to_string()];
            row.extend([s.p50, s.p90, s.p99, s.max, s.mean].map(|v| esc(&ms(v))));
            row
        })
        .collect();
    table(
        out,
        "timing",
        &[
            "phase", "covers", "attempts", "p50", "p90", "p99", "max", "mean",
        ],
        &rows,
    );
    if let Some(line) = crate::report::timing::received(r) {
        let _ = writeln!(out, "<p class=\"help\">{}.</p>", esc(&line));
    }
    let _ = writeln!(
        out,
        "<h3>Mean per second, stacked</h3><p class=\"help\">{}</p>\
         <div class=\"chart\" id=\"chart-timing\" data-points=\"0\"></div></section>",
        esc(
            "Each phase's mean over the attempts that ended in each second, stacked: the top \
             of a band is the sum of the phases up to it (what the legend shows). A phase \
             with no attempt in a second adds nothing to it."
        )
    );
}
