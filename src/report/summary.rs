//! The summary table printed when a run ends, rendered from the results alone, so a
//! results file read back later prints the same.

use std::fmt::Write as _;

use crate::record::Percentiles;
use crate::results::{Results, Totals};

pub fn render(r: &Results) -> String {
    let mut out = String::new();
    stage_table(&mut out, r);
    request_table(&mut out, r);
    flow_table(&mut out, r);
    shards(&mut out, r);
    timing(&mut out, r);
    if let Some(line) = super::addresses::line(r) {
        let _ = writeln!(out, "{line}");
    }
    outcomes(&mut out, r);
    retries(&mut out, r);
    failure_samples(&mut out, r);
    for line in super::lambda::lines(r)
        .into_iter()
        .chain(super::probe::lines(r))
        .chain(super::tune::lines(r))
    {
        let _ = writeln!(out, "{line}");
    }
    onset_and_emulator(&mut out, r);
    thresholds(&mut out, r);
    verdicts(&mut out, r);
    if let Some(cw) = &r.cloudwatch {
        out.push_str(&super::cloudwatch::render(cw));
    }
    out
}

/// With `[[flows]]`: what each flow did over the run — started, completed, failed (and
/// where: the step and why), its end-to-end latency — by name.
fn flow_table(out: &mut String, r: &Results) {
    let Some(flows) = &r.by_flow else {
        return;
    };
    let _ = writeln!(
        out,
        "\n{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "flow", "started", "completed", "failed", "abandoned", "p50", "p99", "flows/s"
    );
    for (name, f) in flows {
        let _ = writeln!(
            out,
            "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9.1}",
            cut(name, 24),
            f.started,
            f.completed,
            f.failed,
            f.abandoned,
            ms(f.latency_ms.p50),
            ms(f.latency_ms.p99),
            f.achieved_fps
        );
    }
    // Where the failed ones ended, in the words every report uses.
    for (name, f) in flows {
        if let Some(line) = super::flows::failed_by_step(name, f) {
            let _ = writeln!(out, "  {line}");
        }
    }
}

/// At most `max` characters of `text`, with `…` where cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        text.chars().take(max - 1).chain(['…']).collect()
    } else {
        text.to_string()
    }
}

/// A shard's part in a split test, and in a merged one the shards that began late.
fn shards(out: &mut String, r: &Results) {
    let late_line = |s: &crate::results::ShardInfo| {
        format!(
            "shard {}/{} began {:.3} s after the start: {} requests of its share skipped, not sent late",
            s.index, s.count, s.late_s, s.skipped_requests
        )
    };
    if let Some(s) = &r.shard {
        let _ = writeln!(
            out,
            "\nshard {}/{} of a split test (from {}): its thresholds and quota check here are of its share; `stampede merge` judges the whole",
            s.index, s.count, s.source
        );
        if s.late_s > 0.0 {
            let _ = writeln!(out, "{}", late_line(s));
        }
    }
    if let Some(m) = &r.merged {
        for s in m.shards.iter().filter(|s| s.skipped_requests > 0) {
            let _ = writeln!(out, "\n{}", late_line(s));
        }
    }
}

/// The title line and the per-stage table with its `all` row.
fn stage_table(out: &mut String, r: &Results) {
    let title = r.name.as_deref().unwrap_or("run");
    let tags: String = [
        (r.interrupted, " · INTERRUPTED"),
        (r.aborted.is_some(), " · ABORTED"),
        (r.insecure, " · TLS NOT CHECKED (--insecure)"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, tag)| *tag)
    .collect();
    let _ = writeln!(
        out,
        "\n{title}: {} · {:.1} s{tags}",
        super::outcome::target_line(r),
        r.duration_s
    );
    let _ = writeln!(
        out,
        "\n{:<20} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "stage",
        "requests",
        "req/s",
        "ok",
        "throttled",
        "errors",
        "p50",
        "p90",
        "p99",
        "max",
        "in flight"
    );
    for s in &r.stages {
        row(
            out,
            &s.name,
            &s.totals,
            s.achieved_rps,
            &s.latency_ms,
            s.peak_in_flight,
        );
    }
    let overall_rps = if r.duration_s > 0.0 {
        r.totals.requests as f64 / r.duration_s
    } else {
        0.0
    };
    row(
        out,
        "all",
        &r.totals,
        overall_rps,
        &r.latency_ms,
        r.peak_in_flight,
    );
    ok_latency(out, r);
}

/// When some requests did not end ok, the latency of those that did, apart: fast 429s
/// would otherwise make the answers look quicker than they were.
fn ok_latency(out: &mut String, r: &Results) {
    let t = &r.totals;
    if let (Some(p), true) = (&r.ok_latency_ms, t.ok < t.requests && t.ok > 0) {
        let _ = writeln!(
            out,
            "ok answers alone ({} of {}): p50 {}, p90 {}, p99 {}, max {}",
            t.ok,
            t.requests,
            ms(p.p50),
            ms(p.p90),
            ms(p.p99),
            ms(p.max)
        );
    }
}

/// With `[[requests]]`: what each request of the mix did over the run, by name (as the
/// results keep them).
fn request_table(out: &mut String, r: &Results) {
    let Some(requests) = &r.by_request else {
        return;
    };
    let _ = writeln!(
        out,
        "\n{:<24} {:>9} {:>9} {:>9} {:>7} {:>9} {:>9}",
        "request", "requests", "ok", "throttled", "errors", "p50", "p99"
    );
    for (name, q) in requests {
        let name = cut(name, 24);
        let _ = writeln!(
            out,
            "{:<24} {:>9} {:>9} {:>9} {:>7} {:>9} {:>9}",
            name,
            q.totals.requests,
            q.totals.ok,
            q.totals.throttled,
            q.totals.errors,
            ms(q.latency_ms.p50),
            ms(q.latency_ms.p99)
        );
    }
}

/// Service time, late and held-back sends, abandoned requests, resends, burst releases.
fn timing(out: &mut String, r: &Results) {
    let _ = writeln!(
        out,
        "\nservice time (send → answer): p50 {} · p99 {} · max {}",
        ms(r.service_ms.p50),
        ms(r.service_ms.p99),
        ms(r.service_ms.max)
    );
    if let Some(line) = r.timing.as_ref().and_then(super::timing::line) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(line) = super::timing::received(r) {
        let _ = writeln!(out, "{line}");
    }
    let mut notes = vec![format!(
        "late sends (> 1 ms behind schedule): {}",
        r.totals.late
    )];
    if r.totals.held_back > 0 {
        notes.push(format!(
            "held back by --max-in-flight: {}",
            r.totals.held_back
        ));
    }
    if r.totals.abandoned > 0 {
        notes.push(format!(
            "requests abandoned unanswered when the run stopped waiting: {}",
            r.totals.abandoned
        ));
    }
    if r.totals.stale_connection_resends > 0 {
        notes.push(format!(
            "sent again on a fresh connection (a kept-alive one had closed unannounced, or an HTTP/2 server had not processed it): {}",
            r.totals.stale_connection_resends
        ));
    }
    if r.totals.goaways > 0 {
        notes.push(format!(
            "HTTP/2 connections ended by the server's GOAWAY: {}",
            r.totals.goaways
        ));
    }
    if r.totals.data_exhausted > 0 {
        notes.push(format!(
            "not sent, a unique data source had no row left (the stage ended early): {}",
            r.totals.data_exhausted
        ));
    }
    let _ = writeln!(out, "{}", notes.join(" · "));
    for s in &r.stages {
        if let Some(spread) = s.dispatch_spread_ms {
            let _ = writeln!(
                out,
                "burst `{}`: {} released, dispatch spread {:.1} ms, peak in flight {}",
                s.name, s.released, spread, s.peak_in_flight
            );
        }
    }
}

/// Attempts by class, local errors with what to do, throttles by kind.
fn outcomes(out: &mut String, r: &Results) {
    let a = &r.attempts;
    if a.sent > a.ok {
        let _ = writeln!(out, "attempts: {} sent · {}", a.sent, a.describe(" · "));
        if !r.status_codes.is_empty() {
            let codes: Vec<String> = r
                .status_codes
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect();
            let _ = writeln!(out, "answers by status code: {}", codes.join(" · "));
        }
    }
    if a.redirects > 0 {
        let _ = writeln!(
            out,
            "redirects are not followed and count as errors: point the target at the URL they lead to (https, the final path)"
        );
    }
    for (key, n) in &r.local_errors {
        let _ = writeln!(out, "local errors: {n} {}", local_error_line(key, r));
    }
    if !r.throttles.is_empty() {
        let kinds: Vec<String> = r
            .throttles
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(out, "throttled attempts by kind: {}", kinds.join(" · "));
    }
    if a.suspected_lambda_throttles > 0 {
        let _ = writeln!(
            out,
            "suspected Lambda throttles behind API Gateway (500 with its own body): {}",
            a.suspected_lambda_throttles
        );
    }
}

/// What retries did.
fn retries(out: &mut String, r: &Results) {
    if r.totals.retries > 0 || r.retry.attempts.len() > 1 {
        let rt = &r.retry;
        let attempts: Vec<String> = rt
            .attempts
            .iter()
            .map(|(k, n)| format!("{k}× {n}"))
            .collect();
        let causes: Vec<String> = rt
            .by_cause
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "\nretries: first-try success {:.1}% · attempts per request: {} · retries {} ({}) · gave up {} ({} on an empty budget) · backoff {:.1} s in all",
            rt.first_try_success_rate * 100.0,
            attempts.join(", "),
            r.totals.retries,
            if causes.is_empty() { "none".to_string() } else { causes.join(", ") },
            rt.gave_up,
            rt.gave_up_budget,
            rt.backoff_s
        );
    }
}

/// A few failed attempts, every kind before a second of any, with their correlation ids.
fn failure_samples(out: &mut String, r: &Results) {
    if !r.failures.is_empty() {
        let shown = crate::record::pick_samples(r.failures.clone(), 5);
        let _ = writeln!(
            out,
            "\nfailed attempts ({} of the {} samples, one of each kind first):",
            shown.len(),
            r.failures.len()
        );
        for f in &shown {
            let _ = writeln!(
                out,
                "  {:>7.3}s {:<14} attempt {} · {} · {} · {}",
                f.t_s,
                f.correlation_id.as_deref().unwrap_or("-"),
                f.attempt,
                f.status.map_or("-".to_string(), |s| s.to_string()),
                f.kind,
                f.body_excerpt
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(80)
                    .collect::<String>()
                    .replace('\n', " ")
            );
        }
    }
}

/// Where throttling began, and what the emulator did.
fn onset_and_emulator(out: &mut String, r: &Results) {
    if let Some(onset) = &r.throttle_onset {
        let _ = writeln!(
            out,
            "throttling began at {} s: {} req/s sent, {} in flight",
            onset.t_s, onset.rate, onset.in_flight
        );
    }
    if let Some(e) = &r.emulator {
        let _ = writeln!(
            out,
            "emulator: {} requests · {} cold starts · peak concurrency {} · throttled by API Gateway {} (account) {} (stage) · by Lambda {} (reserved) {} (account) {} (scaling) · {} integration timeouts",
            e.requests,
            e.cold_starts,
            e.peak_concurrency,
            e.throttled_api_gateway_account,
            e.throttled_api_gateway_stage,
            e.throttled_lambda_reserved,
            e.throttled_lambda_account,
            e.throttled_lambda_scaling,
            e.integration_timeouts
        );
        if e.invocations_direct > 0 {
            let _ = writeln!(
                out,
                "emulator (Invoke API): {} invocations · {} function errors",
                e.invocations_direct, e.function_errors
            );
        }
    }
}

/// Each threshold, pass or FAIL.
fn thresholds(out: &mut String, r: &Results) {
    if !r.thresholds.is_empty() {
        let _ = writeln!(out, "\nthresholds");
        for t in &r.thresholds {
            let name = match super::outcome::threshold_scope(t) {
                Some(scope) => format!("{scope}: {}", t.name),
                None => t.name.clone(),
            };
            let observed = super::outcome::observed(t);
            let floor = crate::scenario::Metric::from_name(&t.name).is_some_and(|m| m.is_floor());
            let _ = writeln!(
                out,
                "  {:<30} {} {:<10} observed {:<12} {}",
                name,
                if floor { "≥" } else { "≤" },
                t.limit,
                observed,
                if t.pass { "pass" } else { "FAIL" }
            );
        }
    }
}

/// The quota findings, then the verdict (the one verdict, [`crate::verdict::judge`]): an
/// abort and faults of stampede itself on their own lines, and the headline last.
fn verdicts(out: &mut String, r: &Results) {
    out.push_str(&super::check::findings(&r.quota_check));
    if let Some(trip) = &r.aborted {
        let _ = writeln!(out, "\n{}", trip.describe());
    }
    for fault in &r.faults {
        let _ = writeln!(out, "\nstampede failed: {fault}");
    }
    let v = super::outcome::judge(r);
    let _ = writeln!(out, "\n{}", super::outcome::headline(&v));
    let whose = if r.probe.is_some() {
        "not a gate of a probe"
    } else {
        "judged on the merged whole (stampede merge)"
    };
    for d in &v.deferred {
        let _ = writeln!(out, "  {whose}: {}", d.line());
    }
}

/// What ran out on the client machine, with what to do about it.
fn local_error_line(key: &str, r: &Results) -> String {
    use crate::classify::{LocalReason, LOCAL_REASONS};
    let Some(reason) = LOCAL_REASONS.iter().find(|l| l.key() == key) else {
        return key.to_string();
    };
    match (reason, r.open_files_limit) {
        (LocalReason::FileDescriptors, Some(limit)) => format!(
            "— {}: limit {limit} (`ulimit -n`); raise it, or lower the concurrency",
            reason.describe()
        ),
        (LocalReason::EphemeralPorts, _) => format!(
            "— {}: fewer connections (per request, a lower rate: each closed one holds its port a minute), or widen net.ipv4.ip_local_port_range",
            reason.describe()
        ),
        _ => format!("— {}", reason.describe()),
    }
}

fn row(out: &mut String, name: &str, t: &Totals, rps: f64, p: &Percentiles, peak: u64) {
    let name: String = if name.chars().count() > 20 {
        name.chars().take(19).chain(['…']).collect()
    } else {
        name.to_string()
    };
    let _ = writeln!(
        out,
        "{:<20} {:>9} {:>9.1} {:>9} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        name,
        t.requests,
        rps,
        t.ok,
        t.throttled,
        t.errors,
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.max),
        peak
    );
}

pub use crate::verdict::ms;

#[cfg(test)]
mod tests {
    use super::ms;

    #[test]
    fn milliseconds_read_well() {
        assert_eq!(ms(0.412), "0.41ms");
        assert_eq!(ms(12.34), "12.3ms");
        assert_eq!(ms(812.0), "812ms");
        assert_eq!(ms(29_000.0), "29.0s");
    }
}
