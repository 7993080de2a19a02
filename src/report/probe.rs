//! The probe's section of the summary and the Markdown report: each step, the knee, and
//! what it is set against.

use crate::results::Results;

/// The section as lines; empty when the results are not a probe's.
pub fn lines(r: &Results) -> Vec<String> {
    let Some(p) = &r.probe else {
        return Vec::new();
    };
    let unit = if p.by == "rate" {
        "req/s"
    } else {
        "concurrent"
    };
    let mut out = vec![format!(
        "probe by {} from {} to at most {} {unit} · SLO {} · precision {:.0}% · {} steps in {:.0} s ({})",
        p.by,
        p.from,
        p.searched_up_to,
        p.slo.join(", "),
        p.precision * 100.0,
        p.steps.len(),
        p.seconds,
        p.ended.replace('_', " ")
    )];
    if let Some(why) = &p.capped_by {
        out.push(format!("  {why}"));
    }
    for s in &p.steps {
        out.push(format!(
            "  {:>7} {unit:<10} {:<7} achieved {:>8.1} req/s · in flight {:>5} · p99 {:>7.1} ms · throttled {:>6.2}% · failed {:>6.2}%{}",
            s.load,
            s.verdict,
            s.achieved_rps,
            s.peak_in_flight,
            s.p99_ms,
            s.throttle_rate * 100.0,
            s.failure_rate * 100.0,
            if s.broke.is_empty() {
                String::new()
            } else {
                format!(" — {}", s.broke.join(", "))
            }
        ));
    }
    out.push(match (p.knee, p.first_bad) {
        (Some(k), Some(b)) => format!(
            "  knee: {k} {unit} met the SLO (p99 {:.1} ms); {b} did not",
            p.p99_at_knee_ms.unwrap_or(0.0)
        ),
        (Some(k), None) => format!("  knee: at least {k} {unit}: every step up to it met the SLO"),
        (None, _) => format!("  no knee: {} {unit} already broke the SLO", p.from),
    });
    out.push(format!("  {}", p.finding));
    out
}
