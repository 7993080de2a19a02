//! The verdict a results file carries, in words, for the reports: the one verdict
//! ([`crate::verdict::judge`]) and the phrases every format shares.

use crate::results::Results;

pub use crate::verdict::judge::{
    judge, observed, percent, threshold_name, threshold_scope, Outcome, Verdict,
};

/// Why the run did not pass, most serious first; empty when it passed.
pub fn reasons(r: &Results) -> Vec<String> {
    judge(r).lines()
}

/// The verdict in one line, as the summary ends: `verdict: PASS`, or `verdict: FAIL — why;
/// why`.
pub fn headline(v: &Verdict) -> String {
    let lines = v.lines();
    if lines.is_empty() {
        format!("verdict: {}", v.outcome.word())
    } else {
        format!("verdict: {} — {}", v.outcome.word(), lines.join("; "))
    }
}

/// Requests per second over the whole run.
pub fn achieved_rps(r: &Results) -> f64 {
    if r.duration_s > 0.0 {
        r.totals.requests as f64 / r.duration_s
    } else {
        0.0
    }
}

/// What was sent, for a report's title line: `POST https://…/orders`, or for a mix
/// `3 requests under https://…` (each request's own method and path are in its table).
/// With a connection per request, or HTTP/2, it says so.
pub fn target_line(r: &crate::results::Results) -> String {
    let sent = match &r.by_request {
        Some(requests) if r.target.method == crate::results::MIX_METHOD => {
            format!("{} requests under {}", requests.len(), r.target.url)
        }
        _ => format!("{} {}", r.target.method, r.target.url),
    };
    // Multiplexed streams are not one request per connection at a time.
    let sent = match &r.target.http {
        Some(v) => format!("{sent} · HTTP/{v}"),
        None => sent,
    };
    // Latencies that include connecting are not those of reused connections.
    match (&r.target.connections, r.target.tls_resume) {
        (Some(c), Some(false)) => format!("{sent} · connections {c}, TLS not resumed"),
        (Some(c), _) => format!("{sent} · connections {c}"),
        (None, Some(false)) => format!("{sent} · TLS not resumed"),
        (None, None | Some(true)) => sent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::verdict::judge::{Command, Reason};

    #[test]
    fn the_most_serious_wins_and_every_reason_is_kept() {
        let mut r = fixture::failed();
        let v = judge(&r);
        assert_eq!(v.outcome, Outcome::Aborted, "{:?}", v.reasons);
        assert_eq!(v.exit_code(Command::Run), 3);
        assert_eq!(v.exit_code(Command::Report), 0);
        assert!(v.reasons.iter().any(|w| matches!(w, Reason::Threshold(_))));
        r.interrupted = true;
        assert_eq!(judge(&r).exit_code(Command::Merge), 130);
        r.faults.push("engine lane 1 failed".into());
        let v = judge(&r);
        assert_eq!(v.outcome, Outcome::Faulted);
        assert_eq!(v.exit_code(Command::Merge), 4);
        assert_eq!(v.lines()[0], "stampede failed: engine lane 1 failed");
    }

    #[test]
    fn a_passing_run_passes_and_a_dead_endpoint_fails() {
        let r = fixture::passed();
        let v = judge(&r);
        assert!(v.passed(), "{:?}", v.reasons);
        assert_eq!(v.exit_code(Command::Run), 0);
        assert_eq!(headline(&v), "verdict: PASS");
        let mut dead = fixture::passed();
        dead.totals.ok = 0;
        dead.totals.errors = 100;
        dead.attempts.ok = 0;
        dead.attempts.connect_errors = 100;
        let v = judge(&dead);
        assert_eq!(v.outcome, Outcome::Fail);
        assert!(v.lines()[0].starts_with("no request succeeded"), "{v:?}");
        assert!(headline(&v).starts_with("verdict: FAIL — no request succeeded"));
    }

    #[test]
    fn a_shards_thresholds_are_deferred_to_the_merge() {
        let mut r = fixture::failed();
        r.aborted = None;
        r.shard = Some(crate::results::ShardInfo {
            index: 0,
            count: 2,
            source: "--shard".into(),
            start_at: None,
            late_s: 0.0,
            skipped_requests: 0,
            clock_offset_ms: None,
            clock_within_ms: None,
        });
        let v = judge(&r);
        assert!(v.passed(), "{v:?}");
        assert!(!v.deferred.is_empty());
    }

    #[test]
    fn a_probe_is_judged_by_its_knee() {
        let mut r = fixture::failed();
        r.aborted = None;
        r.probe = Some(crate::probe::ProbeResults {
            by: "concurrency".into(),
            from: 1,
            knee: Some(8),
            ..Default::default()
        });
        assert!(judge(&r).passed(), "{:?}", judge(&r));
        r.probe.as_mut().unwrap().knee = None;
        let v = judge(&r);
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.lines(), ["no knee: even 1 concurrent broke the SLO"]);
    }
}
