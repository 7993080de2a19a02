//! Where the time went: each attempt's dns, connect, tls, ttfb and receive. Over TLS to
//! nginx (a server we did not write): per request, every attempt has a connect and a
//! handshake, each below its latency; kept alive, only the connections nginx saw opened
//! have them. Against a server of this test that sends its head after 50 ms and the last
//! chunk of its body at 300 ms: ttfb ≈ 50 ms, receive ≈ 250 ms, a `ttfb_p99` threshold
//! trips, and a merge of two runs adds the phases exactly.

use crate::common;

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::nginx::Nginx;
use common::paced::{put, PacedServer};
use common::{read_json, run_results, stampede, stderr, write};
use serde_json::Value;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn over_tls_per_request_every_attempt_has_its_handshake_and_kept_alive_each_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = common::nginx::certificate();
    let ca = write(dir.path(), "ca.pem", &cert);
    let nginx = Nginx::start(dir.path(), Some((&cert, &key)));
    let url = format!("https://127.0.0.1:{}/", nginx.port);
    let ca = ca.to_str().unwrap();

    let s = write(
        dir.path(),
        "per.toml",
        &format!(
            "[target]\nurl = \"{url}\"\nconnections = \"per-request\"\n\
             [[stages]]\nkind = \"constant\"\nrate = 50\nduration = \"1s\"\n"
        ),
    );
    let args = ["run", s.to_str().unwrap(), "--ca-cert", ca, "--quiet"];
    let (r, _) = run_results(dir.path(), "per.json", &args, 0);
    let requests = u(&r["totals"]["requests"]);
    assert_eq!(requests, 50);
    let t = &r["timing"];
    for phase in ["connect", "tls", "ttfb", "receive"] {
        assert_eq!(u(&t[phase]["count"]), requests, "{phase}: {t}");
    }
    // Each attempt's phases are parts of its latency: so are their means, and their
    // longest is below the longest latency.
    let latency = &r["latency_ms"];
    let means: f64 = ["dns", "connect", "tls", "ttfb", "receive"]
        .iter()
        .map(|p| f(&t[p]["mean"]) * u(&t[p]["count"]) as f64 / requests as f64)
        .sum();
    assert!(means <= f(&latency["mean"]), "{means} > {latency}: {t}");
    for phase in ["connect", "tls", "ttfb"] {
        assert!(f(&t[phase]["max"]) > 0.0, "{phase}: {t}");
        assert!(f(&t[phase]["max"]) < f(&latency["max"]), "{phase}: {t}");
        assert!(f(&t[phase]["p50"]) < f(&latency["p50"]), "{phase}: {t}");
    }
    let h = &r["histograms"]["overall"]["timing"];
    assert!(h["tls"].as_str().is_some_and(|s| !s.is_empty()), "{h}");
    assert_eq!(r["stages"][0]["timing"]["tls"]["count"], requests);
    eprintln!("per-request over TLS, {requests} requests: {t}");

    // Kept alive: the handshakes are the connections', not the requests'.
    nginx.clear_log();
    let s = write(
        dir.path(),
        "keep.toml",
        &format!(
            "[target]\nurl = \"{url}\"\n\
             [[stages]]\nkind = \"concurrency\"\nworkers = 4\nduration = \"1s\"\n"
        ),
    );
    let args = ["run", s.to_str().unwrap(), "--ca-cert", ca, "--quiet"];
    let (r, _) = run_results(dir.path(), "keep.json", &args, 0);
    let requests = u(&r["totals"]["requests"]);
    let log = nginx.log(requests as usize);
    let connections: BTreeSet<u64> = log
        .iter()
        .filter(|l| l.method == "GET")
        .map(|l| l.connection)
        .collect();
    let t = &r["timing"];
    let opened = u(&t["connect"]["count"]);
    assert_eq!(opened, connections.len() as u64, "{t}");
    assert_eq!(u(&t["tls"]["count"]), opened, "{t}");
    assert!(opened < 10 && requests > 40, "{opened} for {requests}: {t}");
    assert_eq!(u(&t["ttfb"]["count"]), requests, "{t}");
    eprintln!("kept alive: {requests} requests on {opened} connections: {t}");
}

/// Answers with a chunked body: its head and first chunk after 50 ms, the last chunk at
/// 300 ms. Keep-alive.
fn slow_chunked(conn: &mut TcpStream, counted: &AtomicU64) -> bool {
    std::thread::sleep(Duration::from_millis(50));
    if !put(
        conn,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n",
    ) {
        return false;
    }
    std::thread::sleep(Duration::from_millis(250));
    counted.fetch_add(9, Ordering::Relaxed);
    put(conn, b"4\r\nlast\r\n0\r\n\r\n")
}

fn slow_scenario(dir: &Path, url: &str) -> String {
    let s = write(
        dir,
        "slow.toml",
        &format!(
            "name = \"slow\"\n[target]\nurl = \"{url}\"\ntimeout = \"5s\"\n\
             [[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = 10\nduration = \"2s\"\n\
             [thresholds]\nttfb_p99 = \"10ms\"\nreceive_p50 = \"2s\"\n\
             [thresholds.stages.steady]\nconnect_max = \"5s\"\n"
        ),
    );
    s.to_str().unwrap().to_string()
}

#[test]
fn a_streamed_answer_splits_into_ttfb_and_receive_trips_ttfb_p99_and_merges_exactly() {
    let server = PacedServer::start(slow_chunked);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = format!("http://127.0.0.1:{}/", server.port);
    let s = slow_scenario(d, &url);
    // Two runs at once, as two shards of a split test.
    let outs = [d.join("a.json"), d.join("b.json")];
    let runs: Vec<_> = outs
        .iter()
        .map(|out| {
            let args: Vec<String> = ["run", &s, "-q", "--out", out.to_str().unwrap()]
                .map(String::from)
                .to_vec();
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                stampede(&args)
            })
        })
        .collect();
    for run in runs {
        let o = run.join().unwrap();
        // The ttfb threshold fails the run as any threshold does.
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("ttfb_p99"), "{}", stderr(&o));
    }
    let files: Vec<Value> = outs.iter().map(|p| read_json(p)).collect();
    for r in &files {
        assert_eq!(u(&r["totals"]["ok"]), 20, "{}", r["totals"]);
        let t = &r["timing"];
        let (ttfb, receive) = (f(&t["ttfb"]["p50"]), f(&t["receive"]["p50"]));
        assert!((45.0..=90.0).contains(&ttfb), "ttfb {ttfb}: {t}");
        assert!((235.0..=320.0).contains(&receive), "receive {receive}: {t}");
        assert_eq!(u(&t["receive"]["count"]), 20);
        // The server's wait before its head is not part of the connect.
        assert!(f(&t["connect"]["max"]) < 20.0, "{t}");
        let judged: Vec<(&str, bool)> = r["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| (j["name"].as_str().unwrap(), j["pass"].as_bool().unwrap()))
            .collect();
        assert_eq!(
            judged,
            [
                ("ttfb_p99", false),
                ("receive_p50", true),
                ("connect_max", true)
            ],
            "{}",
            r["thresholds"]
        );
        let timeline_ttfb: u64 = r["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["timing_ms"]["ttfb"]["count"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(
            timeline_ttfb, 20,
            "every second's phases add up to the run's"
        );
        eprintln!("slow server: {t}");
    }

    // The merge adds the phase histograms: counts add up, and the thresholds are judged
    // again on the whole.
    let merged = d.join("merged.json");
    let o = stampede(&[
        "merge",
        outs[0].to_str().unwrap(),
        outs[1].to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let m = read_json(&merged);
    for phase in ["connect", "ttfb", "receive"] {
        let sum: u64 = files.iter().map(|r| u(&r["timing"][phase]["count"])).sum();
        assert_eq!(u(&m["timing"][phase]["count"]), sum, "{phase}");
        let stage: u64 = files
            .iter()
            .map(|r| u(&r["stages"][0]["timing"][phase]["count"]))
            .sum();
        assert_eq!(u(&m["stages"][0]["timing"][phase]["count"]), stage);
    }
    let hi = files
        .iter()
        .map(|r| f(&r["timing"]["ttfb"]["max"]))
        .fold(0.0, f64::max);
    assert_eq!(f(&m["timing"]["ttfb"]["max"]), hi);
    assert_eq!(m["thresholds"][0]["name"], "ttfb_p99");
    assert_eq!(m["thresholds"][0]["pass"], false);
    assert_eq!(
        f(&m["thresholds"][0]["observed"]),
        f(&m["timing"]["ttfb"]["p99"])
    );
}
