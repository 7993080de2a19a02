//! Client retries end to end: a server that throttles the first K attempts of each
//! idempotency key, and what stampede and the server saw.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{read_json, run_results, stampede, stderr, write, TestServer};

/// Per idempotency key: (time since the server started, correlation id) of each attempt.
type Seen = Arc<Mutex<HashMap<String, Vec<(Duration, String)>>>>;

/// Throttles the first `k` attempts of each key, with `retry_after` when given.
fn throttling_server(k: usize, retry_after: Option<&'static str>) -> (TestServer, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let server = TestServer::start_full(move |a| {
        let header = |n: &str| {
            a.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let mut seen = log.lock().unwrap();
        let attempts = seen.entry(header("idempotency-key")).or_default();
        attempts.push((a.since_start, header("x-correlation-id")));
        if attempts.len() <= k {
            let mut headers = vec![("x-amzn-ErrorType", "TooManyRequestsException")];
            if let Some(ra) = retry_after {
                headers.push(("Retry-After", ra));
            }
            (429, headers, r#"{"message":"Too Many Requests"}"#)
        } else {
            (200, vec![], r#"{"ok":true}"#)
        }
    });
    (server, seen)
}

fn n(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn every_request_succeeds_on_attempt_k_plus_1_with_jittered_gaps() {
    let (server, seen) = throttling_server(2, None);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            r#"
seed = 11
[target]
url = "{}"
[request]
idempotency_header = "idempotency-key"
[retry]
max_attempts = 4
backoff = "full-jitter"
base = "40ms"
cap = "1s"
budget = 0
[[stages]]
kind = "constant"
rate = 20
duration = "1s"
"#,
            server.url()
        ),
    );
    let (r, o) = run_results(
        dir.path(),
        "r.json",
        &["run", scenario.to_str().unwrap()],
        0,
    );
    assert_eq!(n(&r["totals"]["requests"]), 20);
    assert_eq!(n(&r["totals"]["ok"]), 20);
    assert_eq!(n(&r["totals"]["retries"]), 40);
    assert_eq!(n(&r["totals"]["gave_up"]), 0);
    assert_eq!(n(&r["attempts"]["sent"]), 60);
    assert_eq!(n(&r["attempts"]["throttled"]), 40);
    assert_eq!(n(&r["throttles"]["api_gateway"]), 40);
    assert_eq!(n(&r["retry"]["attempts"]["3"]), 20);
    assert_eq!(n(&r["retry"]["by_cause"]["throttle"]), 40);
    assert_eq!(r["retry"]["first_try_success_rate"], 0.0);
    assert!(r["retry"]["backoff_s"].as_f64().unwrap() > 0.0);
    assert_eq!(server.hits(), 60);
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary.contains("retries: first-try success 0.0%"),
        "{summary}"
    );

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 20, "one idempotency key per logical request");
    let mut gaps = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for attempts in seen.values() {
        assert_eq!(attempts.len(), 3);
        let id = &attempts[0].1;
        assert!(id.starts_with("stp-"), "{id}");
        assert!(
            attempts.iter().all(|(_, i)| i == id),
            "the same correlation id on every attempt"
        );
        assert!(ids.insert(id.clone()), "a fresh correlation id per request");
        for (n, pair) in attempts.windows(2).enumerate() {
            let gap = (pair[1].0 - pair[0].0).as_secs_f64();
            // Full jitter: uniform(0, 40 ms · 2ⁿ), plus a little for the round trip.
            let bound = 0.040 * 2f64.powi(n as i32) + 0.015;
            assert!(
                gap <= bound,
                "gap {gap} after attempt {} over {bound}",
                n + 1
            );
            gaps.push(gap);
        }
    }
    let first = gaps[0];
    assert!(
        gaps.iter().any(|g| (g - first).abs() > 0.002),
        "gaps are jittered: {gaps:?}"
    );
}

#[test]
fn retry_after_is_honoured_and_attempts_run_out() {
    let (server, seen) = throttling_server(1, Some("1"));
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[request]\nidempotency_header = \"idempotency-key\"\n[retry]\nmax_attempts = 2\nbase = \"10ms\"\n[[stages]]\nkind = \"burst\"\nrequests = 3\n",
            server.url()
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &["run", scenario.to_str().unwrap(), "--quiet"],
        0,
    );
    assert_eq!(n(&r["totals"]["ok"]), 3);
    for attempts in seen.lock().unwrap().values() {
        let gap = attempts[1].0 - attempts[0].0;
        assert!(
            gap >= Duration::from_millis(950),
            "Retry-After: 1 waited {gap:?}"
        );
    }
    assert!(
        r["latency_ms"]["p50"].as_f64().unwrap() >= 1000.0,
        "latency includes the backoff"
    );

    // Two attempts against a server that throttles the first two: every request gives up.
    let (server, _) = throttling_server(2, None);
    let scenario = write(
        dir.path(),
        "g.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[request]\nidempotency_header = \"idempotency-key\"\ncorrelation_header = \"\"\n[retry]\nmax_attempts = 2\nbase = \"5ms\"\n[[stages]]\nkind = \"burst\"\nrequests = 4\n",
            server.url()
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "g.json",
        &["run", scenario.to_str().unwrap(), "--quiet"],
        1,
    );
    assert_eq!(n(&r["totals"]["throttled"]), 4);
    assert_eq!(n(&r["totals"]["gave_up"]), 4);
    assert_eq!(n(&r["attempts"]["sent"]), 8);
    let failures = r["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 8);
    assert!(failures
        .iter()
        .all(|f| f["kind"] == "throttled:api_gateway" && f["status"] == 429));
    assert!(failures[0]["body_excerpt"]
        .as_str()
        .unwrap()
        .contains("Too Many Requests"));
    assert!(
        failures[0]["correlation_id"].is_null(),
        "correlation ids were turned off"
    );
}

#[test]
fn an_empty_budget_stops_retries() {
    let (server, _) = throttling_server(100, None);
    let dir = tempfile::tempdir().unwrap();
    // 10 tokens: two throttle retries at 5 each, then no more.
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[request]\nidempotency_header = \"idempotency-key\"\n[retry]\nmax_attempts = 5\nbase = \"1ms\"\nbudget = 10\n[[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"500ms\"\n",
            server.url()
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            scenario.to_str().unwrap(),
            "--quiet",
            "--threads",
            "1",
        ],
        1,
    );
    assert_eq!(n(&r["totals"]["requests"]), 10);
    assert_eq!(n(&r["totals"]["retries"]), 2);
    assert_eq!(n(&r["totals"]["gave_up"]), 10);
    // The first request took both retries, then found the bucket empty, as did every other.
    assert_eq!(n(&r["retry"]["gave_up_budget"]), 10);
    assert_eq!(n(&r["attempts"]["sent"]), 12);
}

/// A scenario against the emulator's API Gateway bucket (100 req/s, burst 20): 400
/// requests at 400 req/s, retrying throttles in `mode`.
fn against_a_bucket(dir: &std::path::Path, mode: &str) -> serde_json::Value {
    let scenario = write(
        dir,
        &format!("{mode}.toml"),
        &format!(
            r#"
seed = 3
[emulator]
rate = 100
burst = 20
duration = "1ms"
cold_start = "0ms"
[target]
url = "/"
[retry]
mode = "{mode}"
max_attempts = 2
base = "5ms"
budget = 0
[[stages]]
kind = "constant"
rate = 400
duration = "1s"
"#
        ),
    );
    let out = dir.join(format!("{mode}.json"));
    let o = stampede(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    // 400 req/s against a 100 req/s bucket: the quota check fails, as it should.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    read_json(&out)
}

#[test]
fn adaptive_mode_slows_sending_when_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let standard = against_a_bucket(dir.path(), "standard");
    let adaptive = against_a_bucket(dir.path(), "adaptive");
    let throttled = |r: &serde_json::Value| {
        n(&r["attempts"]["throttled"]) as f64 / n(&r["attempts"]["sent"]) as f64
    };
    // Standard mode keeps sending at 400/s into a 100/s bucket: most attempts are throttled.
    assert!(
        throttled(&standard) > 0.6,
        "standard: {}",
        throttled(&standard)
    );
    // Adaptive mode backs off to about what the bucket admits.
    assert!(
        throttled(&adaptive) < throttled(&standard) * 0.7,
        "adaptive {} vs standard {}",
        throttled(&adaptive),
        throttled(&standard)
    );
    assert!(standard["timeline"][1].get("client_rate_limit").is_none());
    let rates: Vec<f64> = adaptive["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["client_rate_limit"].as_f64())
        .collect();
    assert!(!rates.is_empty(), "the limiter's rate is in the timeline");
    assert!(rates.iter().all(|r| *r < 400.0), "{rates:?}");
    // Requests held by the limiter went out late, and say so.
    assert!(
        n(&adaptive["totals"]["late"]) > 100,
        "{}",
        adaptive["totals"]
    );
}
