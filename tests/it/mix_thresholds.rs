//! Thresholds per request of a `[[requests]]` mix: judged on that request's figures, named
//! in the results and the verdict, judged again on a merge of shards.

use std::time::Duration;

use crate::common;

use common::{stampede, stderr, write};

/// A mix of three requests in which `GET /slow` answers after 500 ms, the others at once.
fn slow_server() -> common::TestServer {
    common::TestServer::start(|a| common::Reply {
        status: 200,
        delay: if a.uri.path().ends_with("/slow") {
            Duration::from_millis(500)
        } else {
            Duration::ZERO
        },
    })
}

fn slow_mix(url: &str) -> String {
    format!(
        r#"[target]
url = "{url}api"

[[requests]]
name = "create order"
method = "POST"
path = "/orders"

[[requests]]
name = "get order"
path = "/orders/1"

[[requests]]
name = "slow report"
path = "/slow"

[[stages]]
name = "steady"
kind = "constant"
rate = 60
duration = "500ms"

[thresholds.requests."slow report"]
p99 = "400ms"

[thresholds.requests."get order"]
p99 = "400ms"
failure_rate = "1%"

[thresholds.stages.steady.requests."create order"]
p99 = "400ms"
"#
    )
}

/// The results' threshold entries as (request, stage, name, pass), sorted.
fn judged(results: &serde_json::Value) -> Vec<(String, String, String, bool)> {
    let mut all: Vec<_> = results["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let text = |k: &str| t[k].as_str().unwrap_or("").to_string();
            (
                text("request"),
                text("stage"),
                text("name"),
                t["pass"].as_bool().unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

fn expected_verdicts() -> Vec<(String, String, String, bool)> {
    let mut all = [
        ("slow report", "", "p99", false),
        ("get order", "", "p99", true),
        ("get order", "", "failure_rate", true),
        ("create order", "steady", "p99", true),
    ]
    .map(|(r, s, n, p)| (r.to_string(), s.to_string(), n.to_string(), p))
    .to_vec();
    all.sort();
    all
}

#[test]
fn the_slow_request_fails_its_threshold_and_the_others_pass() {
    let server = slow_server();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "mix.toml", &slow_mix(&server.url()));
    let (results, o) =
        common::run_results(dir.path(), "r.json", &["run", path.to_str().unwrap()], 1);
    assert_eq!(
        judged(&results),
        expected_verdicts(),
        "{}",
        results["thresholds"]
    );
    let slow = request_threshold(&results, "slow report");
    assert!(slow["observed"].as_f64().unwrap() >= 500.0, "{slow}");
    let err = stderr(&o) + &common::stdout(&o);
    assert!(
        err.contains("request \"slow report\": p99 ≤ 400ms"),
        "the verdict names the request: {err}"
    );
    // A run-wide threshold has no `request` key at all.
    let plain = write(
        dir.path(),
        "plain.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[[stages]]\nkind = \"burst\"\nrequests = 3\n[thresholds]\np99 = \"10s\"\n",
            server.url()
        ),
    );
    let (results, _) = common::run_results(
        dir.path(),
        "p.json",
        &["run", plain.to_str().unwrap(), "-q"],
        0,
    );
    assert!(
        results["thresholds"][0].get("request").is_none(),
        "{results}"
    );
}

#[test]
fn a_merge_of_shards_judges_a_request_threshold_on_the_merged_request() {
    let server = slow_server();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = write(d, "mix.toml", &slow_mix(&server.url()));
    let files: Vec<_> = (0..2)
        .map(|i| {
            let out = d.join(format!("shard{i}.json"));
            let o = stampede(&[
                "run",
                path.to_str().unwrap(),
                "-q",
                "--shard",
                &format!("{i}/2"),
                "--out",
                out.to_str().unwrap(),
            ]);
            // A shard's share is judged on the merged whole: it exits 0.
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            out
        })
        .collect();
    let merged = d.join("merged.json");
    let o = stampede(&[
        "merge",
        files[0].to_str().unwrap(),
        files[1].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let m = common::read_json(&merged);
    assert_eq!(judged(&m), expected_verdicts(), "{}", m["thresholds"]);
    // Observed on the merged request: its p99 is that of the added histogram.
    let slow = request_threshold(&m, "slow report");
    assert_eq!(
        slow["observed"],
        m["by_request"]["slow report"]["latency_ms"]["p99"]
    );
    assert_eq!(m["by_request"]["slow report"]["totals"]["requests"], 10);
}

fn request_threshold<'r>(results: &'r serde_json::Value, request: &str) -> &'r serde_json::Value {
    results["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["request"] == request)
        .expect("the request's threshold")
}
