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

/// A server that throttles 2 calls in 5 at once (429 in well under 5 ms) and answers the
/// others after 30 ms: the p99 of all requests passes, that of the ok ones says what they
/// waited, and the failure rate fails.
#[test]
fn fast_throttles_cannot_hide_in_a_p99_but_ok_latencies_and_the_failure_rate_show_them() {
    let server = common::TestServer::start(|a| {
        if a.index % 5 < 2 {
            common::Reply {
                status: 429,
                delay: Duration::ZERO,
            }
        } else {
            common::Reply {
                status: 200,
                delay: Duration::from_millis(30),
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "throttled.toml",
        &format!(
            r#"[target]
url = "{}"

[[requests]]
name = "browse"
path = "/browse"

[[requests]]
name = "buy"
method = "POST"
path = "/buy"

[[stages]]
name = "steady"
kind = "constant"
rate = 100
duration = "1s"

[thresholds]
p99 = "2s"
failure_rate = "10%"

[thresholds.requests.buy]
ok_p50 = "2s"
"#,
            server.url()
        ),
    );
    let (r, _) = common::run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            path.to_str().unwrap(),
            "-q",
            "--threshold",
            "ok_p99=2s",
        ],
        1,
    );
    assert_eq!(r["totals"]["requests"], 100);
    assert_eq!(r["totals"]["throttled"], 40, "2 calls in 5");
    let passed = |name: &str, request: Option<&str>| {
        let t = r["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name && t["request"].as_str() == request)
            .unwrap_or_else(|| panic!("no threshold {name}: {}", r["thresholds"]));
        (
            t["pass"].as_bool().unwrap(),
            t["observed"].as_f64().unwrap(),
        )
    };
    assert!(passed("p99", None).0);
    let (pass, failure_rate) = passed("failure_rate", None);
    assert!(!pass && (failure_rate - 0.4).abs() < 1e-9, "{failure_rate}");
    // The ok requests' latencies are theirs alone: every one waited 30 ms.
    let (pass, ok_p99) = passed("ok_p99", None);
    assert!(pass);
    assert_eq!(ok_p99, r["ok_latency_ms"]["p99"].as_f64().unwrap());
    let ok = &r["ok_latency_ms"];
    assert!(ok["p50"].as_f64().unwrap() >= 30.0, "{ok}");
    let all_mean = r["latency_ms"]["mean"].as_f64().unwrap();
    assert!(
        ok["mean"].as_f64().unwrap() > all_mean * 1.4,
        "the fast throttles pull the mean of all down: {ok} against {all_mean}"
    );
    // Per stage and per request too, histograms included so merges stay exact.
    assert!(r["stages"][0]["ok_latency_ms"]["p50"].as_f64().unwrap() >= 30.0);
    let buy = &r["by_request"]["buy"];
    assert!(
        buy["ok_latency_ms"]["p50"].as_f64().unwrap() >= 30.0,
        "{buy}"
    );
    let (pass, buy_ok_p50) = passed("ok_p50", Some("buy"));
    assert!(pass);
    assert_eq!(buy_ok_p50, buy["ok_latency_ms"]["p50"].as_f64().unwrap());
    let h = &r["histograms"];
    let ok_count = |text: &serde_json::Value| {
        stampede_results::decode(text.as_str().expect("an ok histogram"))
            .unwrap()
            .len()
    };
    assert_eq!(ok_count(&h["overall"]["ok_latency"]), 60);
    assert_eq!(ok_count(&h["stages"][0]["ok_latency"]), 60);
    let by_request: u64 = ["browse", "buy"]
        .iter()
        .map(|n| ok_count(&h["by_request"][n]["ok_latency"]))
        .sum();
    assert_eq!(by_request, 60);
    // The reports say so too: the summary and the Markdown give the ok answers apart.
    let results = dir.path().join("r.json");
    let o = stampede(&["report", results.to_str().unwrap()]);
    let summary = common::stdout(&o) + &stderr(&o);
    let ok_line = format!(
        "ok answers alone (60 of 100): p50 {}",
        stampede::verdict::ms(ok["p50"].as_f64().unwrap())
    );
    assert!(summary.contains(&ok_line), "{ok_line} in:\n{summary}");
    let o = stampede(&["report", results.to_str().unwrap(), "--markdown", "-"]);
    let md = common::stdout(&o);
    assert!(
        md.contains("| latency of ok answers p50 / p90 / p99 / max |"),
        "{md}"
    );
}

/// `[abort.requests."buy"]`: one request throttled throughout stops the run (exit 3) on its
/// own seconds, while the run's throttle rate stays under the run's bound; the trip names it.
#[test]
fn an_abort_rule_on_one_request_stops_the_run_and_names_it() {
    let server = common::TestServer::start(|a| common::Reply {
        status: if a.uri.path() == "/buy" { 429 } else { 200 },
        delay: Duration::ZERO,
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "abort.toml",
        &format!(
            r#"[target]
url = "{}"

[[requests]]
name = "browse"
path = "/browse"
weight = 9

[[requests]]
name = "buy"
method = "POST"
path = "/buy"

[[stages]]
kind = "constant"
rate = 100
duration = "20s"

[abort]
throttle_rate = "30%"
window = "1s"
min_attempts = 5

[abort.requests.buy]
throttle_rate = "50%"
"#,
            server.url()
        ),
    );
    let (r, o) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "-q"],
        3,
    );
    let trip = &r["aborted"];
    assert_eq!(trip["request"], "buy", "{trip}");
    assert_eq!(trip["rule"], "throttle_rate");
    assert_eq!(trip["observed"], 1.0);
    assert!(r["duration_s"].as_f64().unwrap() < 15.0, "stopped early");
    let err = stderr(&o) + &common::stdout(&o);
    assert!(err.contains("request \"buy\"'s throttle_rate"), "{err}");
    // The run's own rate never passed its bound: one request in ten was throttled.
    let rate =
        r["attempts"]["throttled"].as_f64().unwrap() / r["attempts"]["sent"].as_f64().unwrap();
    assert!(rate < 0.3, "{rate}");
}

#[test]
fn request_rules_name_requests_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    let base =
        "[target]\nurl = \"http://127.0.0.1:9\"\n[[requests]]\nname = \"buy\"\npath = \"/b\"\n\
                [[stages]]\nkind = \"burst\"\nrequests = 1\n";
    let check = |extra: &str, wanted: &[&str]| {
        let path = write(dir.path(), "s.toml", &format!("{base}{extra}"));
        let o = stampede(&["plan", path.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        for w in wanted {
            assert!(err.contains(w), "{w:?} in {err}");
        }
    };
    check(
        "[abort.requests.bye]\nthrottle_rate = \"5%\"\n",
        &["s.toml:9:17:", "names no request `bye`", "one of: `buy`"],
    );
    check(
        "[abort.requests.buy]\nwindow = \"2s\"\n",
        &["s.toml:", "rates only"],
    );
    check(
        "[thresholds.requests.bye]\np99 = \"1s\"\n",
        &["s.toml:9:22:", "names no request `bye`", "one of: `buy`"],
    );
}
