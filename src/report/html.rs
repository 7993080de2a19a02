//! A placeholder HTML report: the run's name and totals on a page of its own. The full
//! report (docs/html-report.md) replaces this file.

use crate::results::Results;

pub fn render(r: &Results) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let name = esc(r.name.as_deref().unwrap_or("stampede run"));
    let t = &r.totals;
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{name}</title></head>\n<body>\n<h1>{name}</h1>\n<p>{} requests · {} ok · {} throttled · {} errors · {:.1} s</p>\n</body>\n</html>\n",
        t.requests, t.ok, t.throttled, t.errors, r.duration_s
    )
}
