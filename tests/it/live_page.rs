//! The live page (`--live`, `--live-control`) of real emulator runs: its server-sent
//! events read by a plain HTTP client, the page kept open in headless Chromium (driven over
//! the DevTools protocol: its DOM read while the run goes, its abort button clicked), and
//! the warning on a non-loopback address. The page's script writes its status into the DOM
//! (`data-last-second`, `data-events`, `data-drawn`, `data-errors`).

use crate::common::{self, cdp};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Two stages of about 8 s in all; `[thresholds]` none, so no exit 1 for its throttles.
const SCENARIO: &str = r#"
name = "live page"
seed = 5

[emulator]
api = "rest"
account_concurrency = 100
reserved_concurrency = 30
rate = 150
burst = 40
duration = "20ms"

[target]
url = "/orders"
method = "GET"

[[stages]]
name = "steady"
kind = "constant"
rate = 40
duration = "DURATION"

[[stages]]
name = "over the limit"
kind = "constant"
rate = 200
duration = "DURATION"
"#;

/// stampede running SCENARIO (stages of `stage` each) with `flags`, and its live page's
/// address once it says it.
fn start(dir: &Path, stage: &str, flags: &[&str]) -> (common::Watched, String) {
    let scenario = common::write(dir, "live.toml", &SCENARIO.replace("DURATION", stage));
    let out = dir.join("results.json");
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--no-cloudwatch",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    let mut run = common::spawn_watched(common::command(&args));
    run.wait_for_stderr("live page: http://", Duration::from_secs(60));
    let err = run.stderr_so_far();
    let at = err.find("live page: http://").unwrap() + "live page: http://".len();
    let addr = err[at..].split('/').next().unwrap().to_string();
    (run, addr)
}

/// The loopback address of the page at `addr` (which may name 0.0.0.0).
fn loopback(addr: &str) -> String {
    format!("127.0.0.1:{}", addr.rsplit(':').next().unwrap())
}

/// A plain HTTP/1.1 request to `addr`; the answer's status and the first `limit` of it.
fn http(addr: &str, head: &str, limit: Duration) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    write!(s, "{head}Host: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let (start, mut got, mut buf) = (Instant::now(), Vec::new(), [0u8; 8192]);
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        if String::from_utf8_lossy(&got).contains("\n\n") && head.contains("/events") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// The first event's id and JSON in an event stream's bytes.
fn first_event(text: &str) -> (usize, Value) {
    let id_at = text.find("id: ").expect("an event id") + 4;
    let id = text[id_at..id_at + text[id_at..].find('\n').unwrap()]
        .parse()
        .unwrap();
    let at = text.find("data: ").expect("an event") + 6;
    let line = &text[at..at + text[at..].find('\n').unwrap()];
    (
        id,
        serde_json::from_str(line).expect("the event's data is JSON"),
    )
}

fn target_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn events_stream_each_second_and_the_page_draws_it_then_becomes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let chromium = cdp::require_chromium();
    let (run, addr) = start(dir.path(), "4s", &["--live", "127.0.0.1:0"]);

    // A plain client gets an event within 2 s, with every second so far and the state.
    let began = Instant::now();
    let (status, text) = http(&addr, "GET /events HTTP/1.1\r\n", Duration::from_secs(2));
    assert_eq!(status, 200, "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{text}"
    );
    let (id, event) = first_event(&text);
    assert!(began.elapsed() < Duration::from_secs(2));
    let points = event["points"].as_array().unwrap();
    assert_eq!(points.len(), id, "all the seconds so far: {event}");
    assert_eq!(event["state"]["stages"], 2, "{event}");
    assert!(event["state"]["left_s"].as_f64().unwrap() <= 8.0, "{event}");
    // A client that had `id` seconds is sent only those after them.
    let (_, resumed) = http(
        &addr,
        &format!("GET /events HTTP/1.1\r\nLast-Event-ID: {id}\r\n"),
        Duration::from_secs(2),
    );
    let (_, again) = first_event(&resumed);
    let first_t = again["points"]
        .as_array()
        .unwrap()
        .first()
        .map(|p| p["t_s"].clone());
    assert!(
        first_t.is_none() || first_t.as_ref().and_then(Value::as_u64) >= Some(id as u64),
        "{again}"
    );

    // Without --live-control there is nothing to stop the run with.
    let (status, _) = http(
        &addr,
        "POST /abort HTTP/1.1\r\nX-Stampede-Control: abort\r\nContent-Length: 0\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(status, 404);

    if let Some(chromium) = chromium {
        let mut page = cdp::Browser::open(
            &chromium,
            &dir.path().join("profile"),
            &format!("http://{addr}/"),
        );
        let second = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok());
        let last = "document.body.dataset.lastSecond";
        let first = page.wait_for("a second drawn", Duration::from_secs(20), last, |v| {
            second(v).is_some()
        });
        let first = second(&first).unwrap();
        // The same page, a few seconds on, has drawn later seconds.
        let later = page.wait_for("a later second", Duration::from_secs(20), last, |v| {
            second(v) > Some(first + 1)
        });
        assert!(second(&later).unwrap() >= first + 2);
        page.screenshot(&target_dir().join("live-page.png"));
        let status = page
            .eval("[document.body.dataset.errors, document.body.dataset.drawn, !!document.getElementById('abort'), +document.getElementById('chart-rate').dataset.points]")
            .unwrap();
        assert_eq!(status[0], "0", "script errors: {status}");
        assert_eq!(status[1], "3", "all three charts drawn: {status}");
        assert_eq!(status[2], false, "no abort button without --live-control");
        assert!(status[3].as_u64().unwrap() > 0, "{status}");
        // When the run ends, the page becomes its report.
        let report = page.wait_for(
            "the report",
            Duration::from_secs(60),
            "location.pathname == '/report' && document.getElementById('verdict') && document.readyState == 'complete' ? [document.body.dataset.drawn, document.body.dataset.errors] : null",
            |v| v.is_array(),
        );
        assert_eq!(report[1], "0", "{report}");
        assert!(
            report[0].as_str().unwrap().parse::<u32>().unwrap() >= 4,
            "the report's charts: {report}"
        );
    }
    let done = run.finish(Duration::from_secs(60));
    let results = common::read_json(&dir.path().join("results.json"));
    assert_ne!(
        done.output.status.code(),
        Some(3),
        "{}",
        common::stderr(&done.output)
    );
    assert!(results["aborted"].is_null(), "{}", results["aborted"]);
}

#[test]
fn the_abort_button_stops_the_run_as_an_abort_rule_would() {
    let Some(chromium) = cdp::require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (run, addr) = start(
        dir.path(),
        "20s",
        &["--live", "127.0.0.1:0", "--live-control"],
    );
    // A cross-site form cannot send the page's header, nor a foreign script its origin.
    let post = "POST /abort HTTP/1.1\r\nContent-Length: 0\r\n";
    let (status, _) = http(&addr, post, Duration::from_secs(5));
    assert_eq!(status, 403);
    let (status, _) = http(
        &addr,
        &format!("{post}X-Stampede-Control: abort\r\nOrigin: http://evil.example\r\n"),
        Duration::from_secs(5),
    );
    assert_eq!(status, 403);
    let (status, _) = http(&addr, "GET /abort HTTP/1.1\r\n", Duration::from_secs(5));
    assert_eq!(status, 405);

    let mut page = cdp::Browser::open(
        &chromium,
        &dir.path().join("profile"),
        &format!("http://{addr}/"),
    );
    page.wait_for(
        "an event",
        Duration::from_secs(20),
        "+document.body.dataset.events",
        |v| v.as_u64() > Some(0),
    );
    // The first click arms the button, the second stops the run.
    page.click("abort");
    let armed = page
        .eval("document.getElementById('abort').dataset.armed")
        .unwrap();
    assert_eq!(armed, "1");
    page.click("abort");
    page.wait_for(
        "the stop taken",
        Duration::from_secs(10),
        "document.body.dataset.abort",
        |v| v == "202",
    );

    let done = run.finish(Duration::from_secs(60));
    assert_eq!(
        done.output.status.code(),
        Some(3),
        "{}",
        common::stderr(&done.output)
    );
    assert!(common::stderr(&done.output).contains("live page's abort button"));
    let results = common::read_json(&dir.path().join("results.json"));
    assert_eq!(
        results["aborted"]["rule"], "live_control",
        "{}",
        results["aborted"]
    );
    assert!(
        results["duration_s"].as_f64().unwrap() < 30.0,
        "stopped early"
    );
}

#[test]
fn a_page_anyone_can_reach_is_said_to_be() {
    let dir = tempfile::tempdir().unwrap();
    let (run, addr) = start(dir.path(), "3s", &["--live", "0.0.0.0:0", "--live-control"]);
    let err = run.stderr_so_far();
    assert!(
        err.contains("not a loopback address: anyone who can reach"),
        "{err}"
    );
    assert!(err.contains("can stop it"), "{err}");
    // Reached over loopback only.
    let (status, page) = http(
        &loopback(&addr),
        "GET / HTTP/1.1\r\n",
        Duration::from_secs(10),
    );
    assert_eq!(status, 200);
    assert!(page.contains("stampede live: live page"));
    run.finish(Duration::from_secs(60));
}
