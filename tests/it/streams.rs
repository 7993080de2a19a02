//! Streamed answers: bytes counted as framed, ttfb and receive of a two-second stream,
//! the throughput of each streamed answer and `min_throughput`. Against a server of this
//! test (chunked HTTP/1.1: its head and first chunk at 50 ms, its last at 2 s; and an
//! HTTP/1.0-style answer that runs until the server closes), each counting what it sent,
//! and against the emulator's `stream` over h2c.

use crate::common;

use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::paced::{put, PacedServer};
use common::{read_json, run_results, stampede, stderr, write};
use serde_json::Value;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Chunked: the head and first of 20 chunks of 1000 bytes at 50 ms, one more every
/// ~102.6 ms, the last at 2 s. Keep-alive.
fn two_seconds(conn: &mut TcpStream, counted: &AtomicU64) -> bool {
    std::thread::sleep(Duration::from_millis(50));
    let began = std::time::Instant::now();
    let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for i in 0..20u32 {
        // Each chunk on its schedule: the last 1950 ms after the first.
        let due = Duration::from_micros(1_950_000 * u64::from(i) / 19);
        std::thread::sleep(due.saturating_sub(began.elapsed()));
        out.extend_from_slice(b"3e8\r\n");
        out.extend_from_slice(&[b'x'; 1000]);
        out.extend_from_slice(b"\r\n");
        if i == 19 {
            out.extend_from_slice(b"0\r\n\r\n");
        }
        if !put(conn, &out) {
            return false;
        }
        counted.fetch_add(1000, Ordering::Relaxed);
        out.clear();
    }
    true
}

/// HTTP/1.0 style: no length, 3 writes of 1000 bytes 20 ms apart, then closed.
fn until_close(conn: &mut TcpStream, counted: &AtomicU64) -> bool {
    std::thread::sleep(Duration::from_millis(50));
    if put(conn, b"HTTP/1.0 200 OK\r\n\r\n") {
        for _ in 0..3 {
            if !put(conn, &[b'x'; 1000]) {
                break;
            }
            counted.fetch_add(1000, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    false
}

fn scenario(dir: &std::path::Path, name: &str, url: &str, floor: &str) -> String {
    let s = write(
        dir,
        name,
        &format!(
            "name = \"streams\"\n[target]\nurl = \"{url}\"\ntimeout = \"5s\"\n\
             [[requests]]\nname = \"stream\"\npath = \"/\"\n\
             [[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = 2\nduration = \"1s\"\n\
             [thresholds]\nmin_throughput = \"{floor}\"\n\
             [thresholds.stages.steady]\nmin_throughput = \"{floor}\"\n\
             [thresholds.requests.stream]\nmin_throughput = \"{floor}\"\n"
        ),
    );
    s.to_str().unwrap().to_string()
}

#[test]
fn a_two_second_stream_is_timed_counted_and_judged_and_shards_merge_exactly() {
    let server = PacedServer::start(two_seconds);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 20,000 bytes over 1.95 s: ~10.3 KB/s. One shard's floor is met, the other's not.
    let shards = [("pass", "5KB/s", 0), ("fail", "20KB/s", 1)];
    let runs: Vec<_> = shards
        .iter()
        .map(|(name, floor, _)| {
            let s = scenario(d, &format!("{name}.toml"), &server.url(), floor);
            let out = d.join(format!("{name}.json"));
            let args: Vec<String> = ["run", &s, "-q", "--out", out.to_str().unwrap()]
                .map(String::from)
                .to_vec();
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                (stampede(&args), out)
            })
        })
        .collect();
    let mut files = Vec::new();
    for (run, (_, _, code)) in runs.into_iter().zip(shards) {
        let (o, out) = run.join().unwrap();
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        if code == 1 {
            assert!(stderr(&o).contains("min_throughput"), "{}", stderr(&o));
        }
        files.push(read_json(&out));
    }
    let sent = server.sent();
    let received: u64 = files
        .iter()
        .map(|r| u(&r["totals"]["bytes_received"]))
        .sum();
    assert_eq!(
        received, sent,
        "every body byte the server sent, counted once"
    );
    for r in &files {
        assert_eq!(u(&r["totals"]["ok"]), 2, "{}", r["totals"]);
        assert_eq!(u(&r["totals"]["bytes_received"]), 40_000);
        assert_eq!(u(&r["stages"][0]["totals"]["bytes_received"]), 40_000);
        assert_eq!(
            u(&r["by_request"]["stream"]["totals"]["bytes_received"]),
            40_000
        );
        let t = &r["timing"];
        let (ttfb, receive) = (f(&t["ttfb"]["p50"]), f(&t["receive"]["p50"]));
        assert!((40.0..=150.0).contains(&ttfb), "ttfb {ttfb}: {t}");
        assert!(
            (1800.0..=2300.0).contains(&receive),
            "receive {receive}: {t}"
        );
        // Throughput: bytes ÷ receive, each answer's (2 significant digits kept).
        let tp = &t["throughput"];
        assert_eq!(u(&tp["count"]), 2, "{tp}");
        let expected = 20_000.0 / (receive / 1000.0);
        assert!(
            (f(&tp["p50"]) - expected).abs() < expected * 0.05,
            "{tp} vs {expected}"
        );
        assert!(f(&tp["p1"]) <= f(&tp["p50"]), "{tp}");
        assert_eq!(
            r["by_request"]["stream"]["timing"]["throughput"]["count"],
            2
        );
        assert_eq!(r["stages"][0]["timing"]["throughput"]["count"], 2);
        let timeline: u64 = r["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["bytes_received"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(timeline, 40_000, "each second's bytes add up to the run's");
        let judged: Vec<bool> = r["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["pass"].as_bool().unwrap())
            .collect();
        assert_eq!(judged.len(), 3, "{}", r["thresholds"]);
        assert!(
            judged.iter().all(|p| *p == judged[0]),
            "{}",
            r["thresholds"]
        );
        eprintln!("two-second stream: {t}");
    }

    // The merge adds bytes and throughput histograms exactly, and judges the first
    // file's floor (5KB/s) again: it passes.
    let merged = d.join("merged.json");
    let o = stampede(&[
        "merge",
        d.join("pass.json").to_str().unwrap(),
        d.join("fail.json").to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = read_json(&merged);
    assert_eq!(u(&m["totals"]["bytes_received"]), 80_000);
    assert_eq!(u(&m["stages"][0]["totals"]["bytes_received"]), 80_000);
    assert_eq!(
        u(&m["by_request"]["stream"]["totals"]["bytes_received"]),
        80_000
    );
    assert_eq!(u(&m["timing"]["throughput"]["count"]), 4);
    assert_eq!(
        u(&m["by_request"]["stream"]["timing"]["throughput"]["count"]),
        4
    );
    let lo = files
        .iter()
        .map(|r| f(&r["timing"]["throughput"]["min"]))
        .fold(f64::MAX, f64::min);
    assert_eq!(f(&m["timing"]["throughput"]["min"]), lo);
    assert_eq!(m["thresholds"][0]["name"], "min_throughput");
    assert_eq!(m["thresholds"][0]["pass"], true);
    // The summary line says what came.
    let o = stampede(&["report", merged.to_str().unwrap()]);
    let text = common::stdout(&o);
    assert!(text.contains("80 KB received"), "{text}");
}

#[test]
fn an_answer_until_close_is_counted_and_a_run_without_streams_is_not_judged() {
    let server = PacedServer::start(until_close);
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path(), "close.toml", &server.url(), "1KB/s");
    let (r, _) = run_results(dir.path(), "close.json", &["run", &s, "-q"], 0);
    assert_eq!(u(&r["totals"]["ok"]), 2, "{}", r["totals"]);
    assert_eq!(u(&r["totals"]["bytes_received"]), server.sent());
    assert_eq!(server.sent(), 6_000);
    // 3,000 bytes over ~40 ms: streamed answers, each measured.
    assert_eq!(u(&r["timing"]["throughput"]["count"]), 2, "{}", r["timing"]);

    // An answer that comes whole is no stream: the floor is not judged, and passes.
    let server = common::TestServer::start(|_| common::Reply::ok());
    let s = scenario(dir.path(), "whole.toml", &server.url(), "1MB/s");
    let (r, _) = run_results(dir.path(), "whole.json", &["run", &s, "-q"], 0);
    assert!(u(&r["totals"]["bytes_received"]) > 0, "{}", r["totals"]);
    assert!(r["timing"].get("throughput").is_none(), "{}", r["timing"]);
    let t = &r["thresholds"][0];
    assert_eq!(
        (t["pass"].as_bool(), t["not_judged"].as_bool()),
        (Some(true), Some(true))
    );
}

#[test]
fn the_emulators_stream_over_h2c_is_timed_and_holds_its_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    // 5 pieces of 2,000 bytes 100 ms apart after a 20 ms handler: 400 ms of stream.
    let file = write(
        dir.path(),
        "e.toml",
        "[target]\nurl = \"/orders\"\nhttp = \"2\"\n\
         [[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"1s\"\n\
         [thresholds]\nmin_throughput = \"5KB/s\"\n\
         [emulator]\nduration = \"20ms\"\ncold_start = \"0ms\"\n\
         stream = { chunks = 5, pace = \"100ms\", bytes = 2000 }\n",
    );
    let (r, o) = run_results(
        dir.path(),
        "e.json",
        &["run", file.to_str().unwrap(), "-q"],
        0,
    );
    assert_eq!(r["target"]["http"], "2");
    let ok = u(&r["totals"]["ok"]);
    assert_eq!(ok, 20, "{}: {}", r["totals"], stderr(&o));
    assert_eq!(u(&r["totals"]["bytes_received"]), ok * 10_000);
    let t = &r["timing"];
    let (ttfb, receive) = (f(&t["ttfb"]["p50"]), f(&t["receive"]["p50"]));
    assert!((15.0..=120.0).contains(&ttfb), "ttfb {ttfb}: {t}");
    assert!((380.0..=550.0).contains(&receive), "receive {receive}: {t}");
    assert_eq!(u(&t["throughput"]["count"]), ok, "{t}");
    let p50 = f(&t["throughput"]["p50"]);
    assert!(
        (18_000.0..=26_500.0).contains(&p50),
        "10 KB over ~0.4 s: {t}"
    );
    // Each invocation holds its environment 420 ms: at 20/s about 8 at once, where whole
    // answers after 20 ms would need one or two.
    let peak = u(&r["emulator"]["peak_concurrency"]);
    assert!(peak >= 6, "peak concurrency {peak}: {}", r["emulator"]);
}
