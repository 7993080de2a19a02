//! The engine under its own faults and across thread counts: a lane that fails loses
//! nothing else; one retry budget per run; a seed that repeats whatever `--threads`.

use crate::common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use common::{read_json, stampede, stderr, write, TestServer};

/// Answers 429 to the first attempt of each idempotency key, 200 to the rest; or 429
/// always when `always`.
fn first_attempts_throttled(always: bool) -> TestServer {
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    TestServer::start_full(move |a| {
        let key = a
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let first = seen.lock().unwrap().insert(key);
        if first || always {
            (429, vec![], r#"{"message":"Too Many Requests"}"#)
        } else {
            (200, vec![], r#"{"ok":true}"#)
        }
    })
}

fn scenario(dir: &std::path::Path, url: &str, retry: &str) -> std::path::PathBuf {
    write(
        dir,
        "s.toml",
        &format!(
            r#"
seed = 5
[target]
url = "{url}"
[request]
idempotency_header = "idempotency-key"
[retry]
{retry}
[[stages]]
kind = "constant"
rate = 60
duration = "1s"
"#
        ),
    )
}

fn run(scenario: &std::path::Path, threads: &str, out: &std::path::Path) -> serde_json::Value {
    let o = stampede(&[
        "run",
        scenario.to_str().unwrap(),
        "--quiet",
        "--threads",
        threads,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    read_json(out)
}

#[test]
fn one_retry_budget_per_run_whatever_the_thread_count() {
    let server = first_attempts_throttled(true);
    let dir = tempfile::tempdir().unwrap();
    // 100 tokens pay for 20 throttle retries, however many lanes share them.
    let s = scenario(
        dir.path(),
        &server.url(),
        "max_attempts = 2\nbase = \"5ms\"\ncap = \"10ms\"\nbudget = 100",
    );
    for threads in ["1", "2", "3"] {
        let r = run(&s, threads, &dir.path().join(format!("r{threads}.json")));
        assert_eq!(r["totals"]["requests"], 60, "threads {threads}");
        assert_eq!(
            r["totals"]["retries"], 20,
            "threads {threads}: {}",
            r["retry"]
        );
        assert_eq!(r["retry"]["gave_up_budget"], 40, "threads {threads}");
    }
}

#[test]
fn a_seed_gives_the_same_backoff_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut backoffs = Vec::new();
    for threads in ["1", "2"] {
        let server = first_attempts_throttled(false);
        let s = scenario(
            dir.path(),
            &server.url(),
            "max_attempts = 2\nbase = \"20ms\"\ncap = \"1s\"",
        );
        let r = run(&s, threads, &dir.path().join(format!("r{threads}.json")));
        assert_eq!(r["totals"]["ok"], 60, "{}", r["retry"]);
        backoffs.push(r["retry"]["backoff_s"].as_f64().unwrap());
    }
    assert!(backoffs[0] > 0.0);
    assert!(
        (backoffs[0] - backoffs[1]).abs() < 1e-5,
        "backoff with 1 and 2 threads: {backoffs:?}"
    );
}

#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the fault hook is only in builds with debug assertions"
)]
fn a_lane_that_fails_leaves_the_others_results_written_and_exits_4() {
    let server = TestServer::start(|_| common::Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let mut cmd = common::command(&[
        "run",
        "--url",
        &server.url(),
        "--rate",
        "50",
        "--duration",
        "1s",
        "--threads",
        "2",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    // Lane 1 fails half a second in.
    cmd.env("STAMPEDE_INJECT_FAULT", "lane-panic:1:500");
    let o = common::run_bounded(cmd, std::time::Duration::from_secs(60)).output;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("engine lane 1 failed"), "{err}");
    assert!(
        !err.contains("RUST_BACKTRACE"),
        "no stack-trace advice: {err}"
    );
    let r = read_json(&out);
    assert!(
        r["faults"][0].as_str().unwrap().contains("lane 1"),
        "{}",
        r["faults"]
    );
    // Lane 0 ran until the fault stopped the run; what it sent is there and adds up.
    let a = &r["attempts"];
    assert_eq!(a["sent"], a["ok"], "{a}");
    let sent = a["sent"].as_u64().unwrap();
    assert!(
        (10..=30).contains(&sent),
        "lane 0's share of half a second: {sent}"
    );
    let back: Result<stampede::results::Results, _> =
        serde_json::from_slice(&std::fs::read(&out).unwrap());
    assert!(back.is_ok(), "{back:?}");
}

#[test]
fn requests_still_backing_off_at_the_end_are_abandoned_and_counted() {
    // Every answer asks for an hour; the cap allows 10 s; the run may take its schedule,
    // one attempt timeout (1 s) and the grace period (0.5 s).
    let server = TestServer::start_full(|_| (429, vec![("Retry-After", "3600")], "slow down"));
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "s.toml",
        &format!(
            r#"
[target]
url = "{}"
timeout = "1s"
[retry]
max_attempts = 3
cap = "10s"
[[stages]]
kind = "constant"
rate = 5
duration = "1s"
"#,
            server.url()
        ),
    );
    let out = dir.path().join("r.json");
    let started = std::time::Instant::now();
    let o = stampede(&[
        "run",
        s.to_str().unwrap(),
        "--quiet",
        "--grace",
        "500ms",
        "--out",
        out.to_str().unwrap(),
    ]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(took.as_secs_f64() < 6.0, "took {took:?}");
    let r = read_json(&out);
    assert_eq!(r["totals"]["abandoned"], 5, "{}", r["totals"]);
    assert_eq!(r["totals"]["requests"], 0);
    assert_eq!(r["attempts"]["sent"], 5);
    assert_eq!(r["attempts"]["throttled"], 5);
    assert_eq!(r["attempts"]["abandoned"], 0, "none was on the wire");
    assert!(stderr(&o).contains("no request succeeded"));
}

#[test]
fn a_burst_releases_requests_and_its_spread_leaves_retries_out() {
    // Every first attempt is throttled; retries follow 250–500 ms later.
    let server = first_attempts_throttled(false);
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "s.toml",
        &format!(
            r#"
[target]
url = "{}"
[request]
idempotency_header = "idempotency-key"
[retry]
max_attempts = 2
backoff = "equal-jitter"
base = "500ms"
[[stages]]
name = "launch"
kind = "burst"
requests = 40
"#,
            server.url()
        ),
    );
    let out = dir.path().join("r.json");
    let o = stampede(&["run", s.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_json(&out);
    let stage = &r["stages"][0];
    assert_eq!(stage["released"], 40);
    assert_eq!(stage["attempts"]["sent"], 80);
    let spread = stage["dispatch_spread_ms"].as_f64().unwrap();
    assert!(spread < 200.0, "first attempts only: {spread} ms");
    let summary = common::stdout(&o);
    assert!(summary.contains("burst `launch`: 40 released"), "{summary}");
}

#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "the fault hook is only in builds with debug assertions"
)]
fn a_bug_outside_the_engine_is_one_line_and_exit_4() {
    let mut cmd = common::command(&["plan", "scenarios/smoke.toml"]);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env("STAMPEDE_INJECT_FAULT", "command-panic");
    let o = common::run_bounded(cmd, std::time::Duration::from_secs(30)).output;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("error: stampede failed inside"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}
