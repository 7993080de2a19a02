//! `stampede run` end to end: the binary against a real HTTP server on loopback.

use crate::common;

use std::time::Duration;

use common::{read_json, run_results, stampede, stderr, write, Reply, TestServer};

fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn every_stage_kind_sends_what_its_schedule_says() {
    let server = TestServer::start(|_| Reply {
        status: 200,
        delay: Duration::from_millis(50),
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "all.toml",
        &format!(
            r#"
name = "all kinds"
[target]
url = "{}"
[[stages]]
name = "flat"
kind = "constant"
rate = 100
duration = "1s"
[[stages]]
name = "up"
kind = "ramp"
from = 0
to = 200
duration = "1s"
[[stages]]
name = "stairs"
kind = "steps"
from = 50
to = 100
step = 50
hold = "400ms"
[[stages]]
name = "all at once"
kind = "burst"
requests = 40
[[stages]]
name = "closed"
kind = "concurrency"
workers = 3
duration = "500ms"
[[stages]]
kind = "pause"
duration = "300ms"
"#,
            server.url()
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            scenario.to_str().unwrap(),
            "--threads",
            "2",
            "--quiet",
        ],
        0,
    );
    assert_eq!(r["schema"], "stampede.results/1");
    let stages = r["stages"].as_array().unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["flat", "up", "stairs", "all at once", "closed", "pause 6"]
    );
    // Open stages: exactly the schedule's count (100; 0→200 over 1 s = 100; 20 + 40).
    for (i, expected) in [(0, 100), (1, 100), (2, 60), (3, 40), (5, 0)] {
        assert_eq!(
            u(&stages[i]["totals"]["requests"]),
            expected,
            "stage {}",
            names[i]
        );
        assert_eq!(
            u(&stages[i]["totals"]["ok"]),
            expected,
            "stage {}",
            names[i]
        );
    }
    // Closed: 3 workers, ~50 ms each, 500 ms → about 30; at least a few, at most what time allows.
    let closed = u(&stages[4]["totals"]["requests"]);
    assert!((3..=33).contains(&closed), "closed stage sent {closed}");
    assert!(
        u(&stages[4]["peak_in_flight"]) <= 3 + 2,
        "{}",
        stages[4]["peak_in_flight"]
    );
    // The burst held all 40 in flight at once (with what the stage before left in flight).
    assert!(
        u(&stages[3]["peak_in_flight"]) >= 40,
        "{}",
        stages[3]["peak_in_flight"]
    );
    assert!(stages[3]["dispatch_spread_ms"].as_f64().is_some());
    assert!(stages[0]["dispatch_spread_ms"].is_null());
    // The pause, which sends nothing, starts where the closed stage ends by plan.
    let closed_at = stages[4]["started_s"].as_f64().unwrap();
    let pause_at = stages[5]["started_s"].as_f64().unwrap();
    assert!(
        (pause_at - (closed_at + 0.5)).abs() < 1e-6,
        "{closed_at} {pause_at}"
    );
    // What the server counted is what the results say was sent.
    let total = u(&r["totals"]["requests"]);
    assert_eq!(total, 300 + closed);
    assert_eq!(server.hits(), total);
    assert_eq!(u(&r["attempts"]["sent"]), total);
    // One timeline point per second, covering the run.
    let timeline = r["timeline"].as_array().unwrap();
    for (i, p) in timeline.iter().enumerate() {
        assert_eq!(u(&p["t_s"]), i as u64);
    }
    let sent: u64 = timeline.iter().map(|p| u(&p["sent"])).sum();
    assert_eq!(sent, total);
    // Histograms decode and hold every request.
    let h =
        stampede::results::decode(r["histograms"]["overall"]["latency"].as_str().unwrap()).unwrap();
    assert_eq!(h.len(), total);
    assert!(
        h.value_at_quantile(0.5) >= 50_000,
        "p50 below the server's 50 ms: {}",
        h.value_at_quantile(0.5)
    );
}

/// A server that stops answering from 1.0 s to 1.5 s: whatever arrives then waits until 1.5 s.
fn stalling_server() -> TestServer {
    TestServer::start(|a| {
        let (from, to) = (Duration::from_millis(1000), Duration::from_millis(1500));
        let delay = if a.since_start >= from && a.since_start < to {
            to - a.since_start
        } else {
            Duration::ZERO
        };
        Reply { status: 200, delay }
    })
}

#[test]
fn latency_from_the_schedule_shows_a_stall_that_closed_loop_hides() {
    let dir = tempfile::tempdir().unwrap();
    // Open model with one request in flight at most: requests due during the stall are held
    // back, so their service time is short but their latency from the schedule is not.
    let server = stalling_server();
    let open = dir.path().join("open.json");
    let o = stampede(&[
        "run",
        "--url",
        &server.url(),
        "--rate",
        "200",
        "--duration",
        "2500ms",
        "--max-in-flight",
        "1",
        "--threads",
        "1",
        "--out",
        open.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let open = read_json(&open);
    let (lat, svc) = (&open["latency_ms"], &open["service_ms"]);
    // ~100 of ~500 requests were due during the 500 ms stall: the top 10% waited for it.
    assert!(lat["p90"].as_f64().unwrap() > 100.0, "latency {lat}");
    assert!(lat["max"].as_f64().unwrap() > 350.0, "latency {lat}");
    assert!(svc["p90"].as_f64().unwrap() < 20.0, "service {svc}");
    assert!(u(&open["totals"]["late"]) >= 50, "{}", open["totals"]);
    assert!(u(&open["totals"]["held_back"]) >= 50, "{}", open["totals"]);
    assert_eq!(u(&open["totals"]["requests"]), 500);

    // Closed loop against the same stall: one slow request, so its p90 looks healthy.
    let server = stalling_server();
    let closed = dir.path().join("closed.json");
    let o = stampede(&[
        "run",
        "--url",
        &server.url(),
        "--concurrency",
        "1",
        "--duration",
        "2500ms",
        "--threads",
        "1",
        "--out",
        closed.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let closed = read_json(&closed);
    assert!(
        closed["latency_ms"]["p90"].as_f64().unwrap() < 20.0,
        "{}",
        closed["latency_ms"]
    );
}

#[test]
fn throttles_are_counted_and_their_onset_found() {
    // 429 for every request after the first 150.
    let server = TestServer::start(|a| Reply {
        status: if a.index >= 150 { 429 } else { 200 },
        delay: Duration::ZERO,
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let o = stampede(&[
        "run",
        "--url",
        &server.url(),
        "--rate",
        "100",
        "--duration",
        "3s",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
        "--threshold",
        "throttle_rate=10%",
        "--quiet",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a breached threshold exits 1: {}",
        stderr(&o)
    );
    let r = read_json(&out);
    assert_eq!(u(&r["totals"]["ok"]), 150);
    assert_eq!(u(&r["totals"]["throttled"]), 150);
    assert_eq!(u(&r["totals"]["errors"]), 0);
    assert_eq!(u(&r["attempts"]["throttled"]), 150);
    assert_eq!(u(&r["throttle_onset"]["t_s"]), 1);
    let t = &r["thresholds"][0];
    assert_eq!(t["name"], "throttle_rate");
    assert_eq!(t["pass"], false);
    assert!((t["observed"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    assert!(stderr(&o).contains("threshold failed"));
}

#[test]
fn errors_are_split_by_kind_and_per_stage_thresholds_apply() {
    let server = TestServer::start(|a| Reply {
        status: match a.index % 4 {
            0 => 500,
            1 => 404,
            _ => 200,
        },
        delay: Duration::from_millis(if a.headers.contains_key("x-slow") {
            30
        } else {
            0
        }),
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            r#"
[target]
url = "{}"
[target.headers]
x-slow = "yes"
[[stages]]
name = "one"
kind = "constant"
rate = 40
duration = "1s"
[thresholds]
error_rate = "60%"
[thresholds.stages.one]
p50 = "5ms"
"#,
            server.url()
        ),
    );
    let (r, o) = run_results(
        dir.path(),
        "r.json",
        &["run", scenario.to_str().unwrap()],
        1,
    );
    assert_eq!(u(&r["attempts"]["server_errors"]), 10);
    assert_eq!(u(&r["attempts"]["client_errors"]), 10);
    assert_eq!(u(&r["totals"]["errors"]), 20);
    let checks = r["thresholds"].as_array().unwrap();
    assert_eq!(checks[0]["pass"], true, "error rate 50% is under 60%");
    assert_eq!(checks[1]["stage"], "one");
    assert_eq!(checks[1]["pass"], false, "p50 ≥ 30 ms breaches 5 ms");
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary.contains("FAIL") && summary.contains("one: p50"),
        "{summary}"
    );
}

#[test]
fn a_burst_holds_every_request_in_flight_at_once() {
    let server = TestServer::start(|_| Reply {
        status: 200,
        delay: Duration::from_millis(300),
    });
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &["run", "--url", &server.url(), "--burst", "500", "--quiet"],
        0,
    );
    assert_eq!(u(&r["totals"]["ok"]), 500);
    assert_eq!(u(&r["peak_in_flight"]), 500);
    assert_eq!(u(&r["stages"][0]["peak_in_flight"]), 500);
    assert_eq!(server.hits(), 500);
    // All 500 were answered after one 300 ms wait, not in rounds.
    assert!(
        r["latency_ms"]["max"].as_f64().unwrap() < 600.0,
        "{}",
        r["latency_ms"]
    );
}

/// `--timeout` is the per-attempt timeout of an ad-hoc run, and overrides a scenario's
/// `[target] timeout`: against a server that answers after 5 s, every attempt times out
/// at 200 ms (with the default 29 s they would all succeed).
#[test]
fn the_timeout_flag_bounds_each_attempt() {
    let server = TestServer::start(|_| Reply {
        status: 200,
        delay: Duration::from_secs(5),
    });
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let adhoc = [
        "run",
        "--url",
        &url,
        "--rate",
        "10",
        "--duration",
        "500ms",
        "--timeout",
        "200ms",
        "--connect-timeout",
        "1s",
        "--quiet",
    ];
    let (r, _) = run_results(dir.path(), "adhoc.json", &adhoc, 1);
    assert_eq!(u(&r["attempts"]["timeouts"]), 5, "{}", r["attempts"]);
    assert_eq!(u(&r["totals"]["ok"]), 0);
    assert!(r["latency_ms"]["max"].as_f64().unwrap() < 2000.0);

    let scenario = write(
        dir.path(),
        "slow.toml",
        &format!(
            "[target]\nurl = \"{url}\"\ntimeout = \"29s\"\n[[stages]]\nkind = \"constant\"\nrate = 10\nduration = \"500ms\"\n"
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "file.json",
        &[
            "run",
            scenario.to_str().unwrap(),
            "--timeout",
            "200ms",
            "--quiet",
        ],
        1,
    );
    assert_eq!(u(&r["attempts"]["timeouts"]), 5, "{}", r["attempts"]);

    for bad in ["0s", "soon"] {
        let o = stampede(&["run", "--url", &url, "--burst", "1", "--timeout", bad]);
        assert_eq!(o.status.code(), Some(2), "--timeout {bad}");
        let e = stderr(&o);
        assert!(e.contains("--timeout") && e.contains("above zero"), "{e}");
    }
    assert_eq!(server.hits(), 10, "the bad flags sent nothing");
}

#[test]
fn timeouts_and_refused_connections_are_errors_of_their_own_kind() {
    let server = TestServer::start(|_| Reply {
        status: 200,
        delay: Duration::from_secs(5),
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "t.toml",
        &format!(
            "[target]\nurl = \"{}\"\ntimeout = \"200ms\"\n[[stages]]\nkind = \"constant\"\nrate = 10\nduration = \"500ms\"\n",
            server.url()
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "t.json",
        &["run", scenario.to_str().unwrap(), "--quiet"],
        1,
    );
    // Nothing succeeded: that fails the run even without thresholds.
    assert_eq!(u(&r["attempts"]["timeouts"]), 5);

    // Nothing listens on this port: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let (r, _) = run_results(
        dir.path(),
        "c.json",
        &[
            "run",
            "--url",
            &url,
            "--rate",
            "10",
            "--duration",
            "500ms",
            "--quiet",
        ],
        1,
    );
    assert_eq!(u(&r["attempts"]["connect_errors"]), 5);
    assert_eq!(u(&r["totals"]["errors"]), 5);
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_and_still_writes_results() {
    let server = TestServer::start(|_| Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let mut child = common::spawn_watched(common::command(&[
        "run",
        "--url",
        &server.url(),
        "--rate",
        "50",
        "--duration",
        "60s",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]));
    child.wait_for(
        "the server saw 50 requests",
        Duration::from_secs(40),
        || server.hits() >= 50,
    );
    child.signal(libc::SIGINT);
    let started = std::time::Instant::now();
    let o = child.finish(Duration::from_secs(40)).output;
    assert_eq!(o.status.code(), Some(130));
    // Well short of the 60 s the run had left.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stopped within the grace period"
    );
    let r = read_json(&out);
    assert_eq!(r["interrupted"], true);
    let requests = u(&r["totals"]["requests"]);
    assert!(
        (50..1500).contains(&requests),
        "the 50 seen before Ctrl-C, not the 60 s of 50 req/s: {requests}"
    );
    assert_eq!(server.hits(), requests);
}

#[test]
fn closed_loop_keeps_every_worker_busy() {
    let server = TestServer::start(|_| Reply {
        status: 200,
        delay: Duration::from_millis(50),
    });
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            "--url",
            &server.url(),
            "--concurrency",
            "20",
            "--duration",
            "1s",
            "--threads",
            "2",
            "--quiet",
        ],
        0,
    );
    // 20 workers × (1 s / 50 ms) = 400 if every worker always has a connection.
    let requests = u(&r["totals"]["requests"]);
    assert!((300..=420).contains(&requests), "{requests}");
    assert_eq!(u(&r["peak_in_flight"]), 20);
    // No worker waited long for a connection.
    assert!(
        r["latency_ms"]["max"].as_f64().unwrap() < 250.0,
        "{}",
        r["latency_ms"]
    );
}

#[test]
fn https_targets_are_reached_over_rustls() {
    let tls = common::TestTls::new();
    let server = TestServer::start_tls(&tls, |_| Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", &tls.ca_pem);
    let url = format!("https://{}/", server.addr);
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            "--url",
            &url,
            "--rate",
            "50",
            "--duration",
            "1s",
            "--ca-cert",
            ca.to_str().unwrap(),
            "--quiet",
        ],
        0,
    );
    assert_eq!(u(&r["totals"]["ok"]), 50);
    assert_eq!(server.hits(), 50);
    assert!(r.get("insecure").is_none(), "certificates were checked");

    // --insecure: the self-signed certificate is not checked, and the run says so.
    let (r, o) = run_results(
        dir.path(),
        "insecure.json",
        &[
            "run",
            "--url",
            &url,
            "--rate",
            "10",
            "--duration",
            "500ms",
            "--insecure",
        ],
        0,
    );
    assert_eq!(u(&r["totals"]["ok"]), 5);
    assert_eq!(r["insecure"], true);
    assert!(stderr(&o).contains("--insecure: TLS certificates are not checked"));
    assert!(common::stdout(&o).contains("TLS NOT CHECKED"));

    // Without trusting the test CA, the handshake fails: TLS errors, nothing reaches the server.
    let (r, _) = run_results(
        dir.path(),
        "untrusted.json",
        &[
            "run",
            "--url",
            &url,
            "--rate",
            "10",
            "--duration",
            "500ms",
            "--quiet",
        ],
        1,
    );
    assert_eq!(u(&r["attempts"]["tls_errors"]), 5);
    assert_eq!(u(&r["attempts"]["connect_errors"]), 0);
    assert_eq!(server.hits(), 55);

    // A results file is no PEM certificate.
    let not_pem = dir.path().join("untrusted.json");
    let o = stampede(&[
        "run",
        "--url",
        &url,
        "--rate",
        "10",
        "--ca-cert",
        not_pem.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--ca-cert"), "{}", stderr(&o));
}
