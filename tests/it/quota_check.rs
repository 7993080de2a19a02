//! The quota check end to end: the preflight (`plan`), throttle onsets attributed to the
//! limit that explains them — on the emulator with known limits, and on limiters written
//! here that know nothing of stampede, described to it by a quotas file — and abort rules.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{run_results, stampede, stderr, write, TestServer};
use serde_json::Value;

const API_GATEWAY_429: (&str, &str) = ("x-amzn-errortype", "TooManyRequestsException");

fn scenario(emulator: &str, stages: &str) -> String {
    format!(
        "[target]\nurl = \"/orders\"\n\n{stages}\n[emulator]\ncold_start = \"0ms\"\n{emulator}\n"
    )
}

fn onset_limit(r: &Value) -> String {
    let onset = &r["quota_check"]["onset"];
    assert!(!onset.is_null(), "no onset: {:#}", r["quota_check"]);
    onset["limit"].as_str().unwrap_or("none").to_string()
}

fn quota<'a>(r: &'a Value, key: &str) -> &'a Value {
    r["quota_check"]["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {:#}", r["quota_check"]["quotas"]))
}

#[test]
fn onset_at_the_api_gateway_rate_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.toml",
        &scenario(
            "api = \"rest\"\nrate = 100\nburst = 20\nduration = \"5ms\"",
            "[[stages]]\nkind = \"ramp\"\nfrom = 40\nto = 240\nduration = \"6s\"\n",
        ),
    );
    let (r, o) = run_results(dir.path(), "r.json", &["run", file.to_str().unwrap()], 1);
    assert_eq!(onset_limit(&r), "apigw_rate", "{:#}", r["quota_check"]);
    let rate = quota(&r, "apigw_rate");
    assert_eq!(rate["value"], 100.0);
    assert_eq!(rate["source"]["action"], "apigateway:GetAccount");
    let qc = &r["quota_check"];
    assert_eq!(qc["pass"], false);
    assert!(qc["next_steps"][0].as_str().unwrap().contains("L-8A5B8E43"));
    // The onset is where the ramp passed the rate (and the bucket ran dry), not before.
    let t = qc["onset"]["t_s"].as_u64().unwrap();
    assert!((1..=5).contains(&t), "onset at {t} s");
    assert!(qc["onset"]["rate"].as_u64().unwrap() > 100);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("preflight") && out.contains("quota check (emulator): FAIL"),
        "{out}"
    );
}

#[test]
fn onset_at_reserved_concurrency_is_named_behind_api_gateway_500s() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.toml",
        &scenario(
            "api = \"rest\"\naccount_concurrency = 100\nreserved_concurrency = 10\nrate = 5000\nburst = 5000\nduration = \"100ms\"",
            "[[stages]]\nkind = \"ramp\"\nfrom = 20\nto = 200\nduration = \"5s\"\n",
        ),
    );
    let (r, _) = run_results(dir.path(), "r.json", &["run", file.to_str().unwrap()], 1);
    assert_eq!(onset_limit(&r), "function_reserved_concurrency");
    let qc = &r["quota_check"];
    assert!(
        qc["onset"]["kinds"]["suspected_lambda_throttle"]
            .as_u64()
            .unwrap()
            > 0
    );
    let s = &qc["suspected_lambda_throttles"];
    assert_eq!(s["at_limit"], "function_reserved_concurrency", "{s:#}");
    assert!(s["message"].as_str().unwrap().contains("500"));
    assert_eq!(quota(&r, "function_reserved_concurrency")["value"], 10.0);
    assert!(qc["next_steps"][0]
        .as_str()
        .unwrap()
        .contains("put-function-concurrency"));
}

#[test]
fn onset_at_account_concurrency_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.toml",
        &scenario(
            "api = \"function-url\"\naccount_concurrency = 15\nduration = \"100ms\"",
            "[[stages]]\nkind = \"ramp\"\nfrom = 20\nto = 300\nduration = \"5s\"\n",
        ),
    );
    let (r, _) = run_results(dir.path(), "r.json", &["run", file.to_str().unwrap()], 1);
    assert_eq!(
        onset_limit(&r),
        "lambda_concurrent_executions",
        "{:#}",
        r["quota_check"]
    );
    let qc = &r["quota_check"];
    assert!(
        qc["onset"]["kinds"]["lambda_account_concurrency"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(qc["next_steps"][0].as_str().unwrap().contains("L-B99A9384"));
    // A function URL has no API Gateway in front: its limits are not in the usage.
    let usage = qc["usage"].as_array().unwrap();
    assert!(usage
        .iter()
        .all(|u| !u["limit"].as_str().unwrap().starts_with("apigw")));
}

#[test]
fn a_plan_of_a_burst_of_3000_against_1000_concurrent_executions_exits_1_and_sends_nothing() {
    let server = TestServer::start(|_| common::Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let quotas = write(
        dir.path(),
        "q.toml",
        "lambda_concurrent_executions = 1000\n",
    );
    let o = stampede(&[
        "plan",
        "--url",
        &server.url(),
        "--burst",
        "3000",
        "--quotas",
        quotas.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("concurrency 3000 vs Lambda concurrent executions (account) 1000")
            && out.contains("headroom -2000"),
        "{out}"
    );
    // The same plan from a scenario with the emulator: quotas through its control plane.
    let file = write(
        dir.path(),
        "s.toml",
        &scenario(
            "account_concurrency = 1000",
            "[[stages]]\nkind = \"burst\"\nrequests = 3000\n",
        ),
    );
    let o = stampede(&["plan", file.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
    let over: Vec<&str> = plan["preflight"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["exceeded"] == true)
        .map(|c| c["limit"].as_str().unwrap())
        .collect();
    assert!(over.contains(&"lambda_concurrent_executions"), "{over:?}");
    // Read from the emulator's control plane, not assumed.
    let account = plan["quotas"]["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "lambda_concurrent_executions")
        .unwrap();
    assert_eq!(
        account["source"]["action"], "lambda:GetAccountSettings",
        "{account:#}"
    );
    // A plan within the limits passes.
    let o = stampede(&[
        "plan",
        "--url",
        &server.url(),
        "--burst",
        "500",
        "--quotas",
        quotas.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(server.hits(), 0, "plan sends nothing");
}

/// A server that knows nothing of stampede: it serves `limit` requests at a time (each
/// takes `hold`) and answers the rest with a bare 429.
fn concurrency_limiter(limit: usize, hold: Duration) -> TestServer {
    let ends: Arc<Mutex<Vec<Instant>>> = Arc::default();
    TestServer::start_shaped(move |_| {
        let now = Instant::now();
        let mut ends = ends.lock().unwrap();
        ends.retain(|e| *e > now);
        if ends.len() >= limit {
            return (Duration::ZERO, (429, vec![], "slow down"));
        }
        ends.push(now + hold);
        (hold, (200, vec![], "{}"))
    })
}

/// A token bucket (`rate` per second, `burst` deep) answering 429 as API Gateway does.
fn rate_limiter(rate: f64, burst: f64) -> TestServer {
    let bucket = Arc::new(Mutex::new((burst, Instant::now())));
    TestServer::start_shaped(move |_| {
        let mut b = bucket.lock().unwrap();
        let now = Instant::now();
        b.0 = (b.0 + (now - b.1).as_secs_f64() * rate).min(burst);
        b.1 = now;
        if b.0 < 1.0 {
            return (
                Duration::ZERO,
                (
                    429,
                    vec![API_GATEWAY_429],
                    r#"{"message":"Too Many Requests"}"#,
                ),
            );
        }
        b.0 -= 1.0;
        (Duration::from_millis(2), (200, vec![], "{}"))
    })
}

#[test]
fn a_quotas_file_explains_an_independent_concurrency_limiter() {
    let server = concurrency_limiter(20, Duration::from_millis(50));
    let dir = tempfile::tempdir().unwrap();
    let quotas = write(
        dir.path(),
        "q.toml",
        "lambda_concurrent_executions = 1000\nfunction_reserved_concurrency = 20\nstage_rate = 5000\nstage_burst = 2500\n",
    );
    let file = write(
        dir.path(),
        "s.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[[stages]]\nkind = \"ramp\"\nfrom = 100\nto = 800\nduration = \"4s\"\n",
            server.url()
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            file.to_str().unwrap(),
            "--quotas",
            quotas.to_str().unwrap(),
        ],
        1,
    );
    assert_eq!(
        onset_limit(&r),
        "function_reserved_concurrency",
        "{:#}",
        r["quota_check"]
    );
    assert_eq!(
        quota(&r, "function_reserved_concurrency")["source"]["kind"],
        "file"
    );
}

#[test]
fn a_quotas_file_explains_an_independent_rate_limiter() {
    let server = rate_limiter(150.0, 10.0);
    let dir = tempfile::tempdir().unwrap();
    let quotas = write(
        dir.path(),
        "q.toml",
        "lambda_concurrent_executions = 1000\nstage_rate = 150\nstage_burst = 10\n",
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            "--url",
            &server.url(),
            "--rate",
            "300",
            "--duration",
            "3s",
            "--quotas",
            quotas.to_str().unwrap(),
        ],
        1,
    );
    assert_eq!(onset_limit(&r), "stage_rate", "{:#}", r["quota_check"]);
    let usage = r["quota_check"]["usage"].as_array().unwrap();
    let stage = usage.iter().find(|u| u["limit"] == "stage_rate").unwrap();
    assert!(stage["percent"].as_f64().unwrap() > 150.0, "{stage:#}");
}

#[test]
fn a_throttle_rate_abort_stops_early_with_exit_3_and_writes_results() {
    // Fine for 1.5 s, then every request throttled.
    let server = TestServer::start(|a| common::Reply {
        status: if a.since_start > Duration::from_millis(1500) {
            429
        } else {
            200
        },
        delay: Duration::ZERO,
    });
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (r, o) = run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            "--url",
            &server.url(),
            "--rate",
            "200",
            "--duration",
            "30s",
            "--abort",
            "throttle_rate=20%",
            "--abort",
            "window=2s",
        ],
        3,
    );
    assert!(started.elapsed() < Duration::from_secs(15), "stopped early");
    let a = &r["aborted"];
    assert_eq!(a["rule"], "throttle_rate", "{a:#}");
    assert!(a["observed"].as_f64().unwrap() > 0.2);
    assert!(r["duration_s"].as_f64().unwrap() < 10.0);
    assert!(server.hits() < 200 * 10);
    assert_eq!(r["interrupted"], false);
    assert!(stderr(&o).contains("aborted at"), "{}", stderr(&o));
}

#[test]
fn an_error_rate_abort_from_the_scenario_file() {
    let server = TestServer::start(|a| common::Reply {
        status: if a.since_start > Duration::from_secs(1) {
            503
        } else {
            200
        },
        delay: Duration::ZERO,
    });
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[[stages]]\nkind = \"constant\"\nrate = 100\nduration = \"30s\"\n[abort]\nerror_rate = \"10%\"\nwindow = \"1s\"\n",
            server.url()
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &["run", file.to_str().unwrap(), "--quiet"],
        3,
    );
    assert_eq!(r["aborted"]["rule"], "error_rate");
    assert!(r["duration_s"].as_f64().unwrap() < 10.0);
    // What was gathered before the stop is all there.
    assert!(r["totals"]["ok"].as_u64().unwrap() >= 50);
}
