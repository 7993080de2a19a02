//! What answers count as, against a real server on loopback: redirects are their own class
//! (not ok, not followed, errors for `error_rate`), answers are counted by status code per
//! stage, and the failure samples keep every kind of failure, not the first twenty of one.

use crate::common;

use std::time::Duration;

use common::{run_results, write, FullReply, TestServer};
use serde_json::{json, Value};

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn redirects_are_errors_of_their_own_class_and_answers_are_counted_by_status() {
    // The first stage's 20 requests are answered 200, the burst's 10 are sent elsewhere:
    // the http → https redirect a mistyped URL gets.
    let server = TestServer::start_full(|a| -> FullReply {
        if a.index < 20 {
            (200, vec![], "ok")
        } else {
            (301, vec![("location", "https://127.0.0.1/")], "")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            r#"
[target]
url = "{}"
[[stages]]
name = "steady"
kind = "constant"
rate = 20
duration = "1s"
[[stages]]
name = "burst"
kind = "burst"
requests = 10
[thresholds]
error_rate = "1%"
"#,
            server.url()
        ),
    );
    let (r, o) = run_results(
        dir.path(),
        "r.json",
        &["run", scenario.to_str().unwrap(), "--threads", "1"],
        1,
    );
    let a = &r["attempts"];
    assert_eq!(
        (u(&a["sent"]), u(&a["ok"]), u(&a["redirects"])),
        (30, 20, 10)
    );
    let t = &r["totals"];
    assert_eq!(
        (u(&t["requests"]), u(&t["ok"]), u(&t["errors"])),
        (30, 20, 10)
    );
    assert_eq!(
        server.hits(),
        30,
        "a redirect is neither followed nor retried"
    );
    let check = &r["thresholds"][0];
    assert_eq!(
        (&check["name"], &check["pass"]),
        (&json!("error_rate"), &json!(false))
    );
    assert!((check["observed"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);

    assert_eq!(r["status_codes"], json!({"200": 20, "301": 10}));
    assert_eq!(r["stages"][0]["status_codes"], json!({"200": 20}));
    assert_eq!(r["stages"][1]["status_codes"], json!({"301": 10}));
    assert_eq!(u(&r["stages"][1]["attempts"]["redirects"]), 10);
    let sample = &r["failures"][0];
    assert_eq!(
        (&sample["kind"], &sample["status"]),
        (&json!("redirect"), &json!(301))
    );

    let summary = common::stdout(&o);
    assert!(
        summary.contains("10 redirects (3xx, not followed)")
            && summary.contains("answers by status code: 200 20 · 301 10"),
        "{summary}"
    );
}

#[test]
fn every_kind_of_failure_is_sampled_not_only_the_first_to_come() {
    // 40 throttles, then 10 server errors.
    let server = TestServer::start_shaped(|a| {
        let status = if a.index < 40 { 429 } else { 500 };
        (Duration::ZERO, (status, vec![], "busy"))
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            r#"
[target]
url = "{}"
[retry]
max_attempts = 1
[[stages]]
name = "steady"
kind = "constant"
rate = 50
duration = "1s"
"#,
            server.url()
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &["run", scenario.to_str().unwrap(), "--threads", "1", "-q"],
        1,
    );
    assert_eq!(r["status_codes"], json!({"429": 40, "500": 10}));
    let failures = r["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 20);
    let of = |kind: &str| failures.iter().filter(|f| f["kind"] == kind).count();
    assert_eq!((of("throttled:other_429"), of("server_error")), (10, 10));
    let times: Vec<f64> = failures
        .iter()
        .map(|f| f["t_s"].as_f64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "earliest first: {times:?}"
    );
    assert_eq!(failures[0]["status"], 429);
    assert_eq!(failures[19]["status"], 500);
}
