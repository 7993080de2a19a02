//! What was not sent does not pass: a stage that started well below its planned requests
//! fails the run (exit 1), and so does a merge whose shard sent nothing; a stage that plans
//! no request at all is bad input (exit 2), named by its file, line and column or its flags.

use crate::common;

use std::process::{Child, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{read_json, stampede, stderr, wait_bounded, write, TestServer};

#[test]
fn a_rate_and_duration_that_plan_no_request_are_bad_input() {
    // Nothing listens there: nothing may be sent, and it is not.
    for (rate, duration) in [("0.5", "1s"), ("10", "500us")] {
        let o = stampede(&[
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--rate",
            rate,
            "--duration",
            duration,
            "--quiet",
        ]);
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "--rate {rate} --duration {duration}: {err}"
        );
        assert!(
            err.contains("--rate") && err.contains("plans no request") && err.contains("expected:"),
            "{err}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.toml",
        "[target]\nurl = \"http://127.0.0.1:9/\"\n\n[[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"1s\"\n\n[[stages]]\nname = \"trickle\"\nkind = \"ramp\"\nfrom = 0\nto = 1\nduration = \"1s\"\n",
    );
    let o = stampede(&["run", file.to_str().unwrap(), "--quiet"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // The second stage's table: line 9, column 1.
    assert!(
        err.contains(&format!(
            "{}:9:1: ramp stage 2 plans no request",
            file.display()
        )) && err.contains("expected:"),
        "{err}"
    );
    // `plan` reads the same scenario: the same error.
    let o = stampede(&["plan", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn shard(scenario: &str, store: &str, start_at: &str, which: &str) -> Child {
    common::command(&[
        "run",
        scenario,
        "--threads",
        "1",
        "--quiet",
        "--shard",
        which,
        "--start-at",
        start_at,
        "--out",
        store,
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("stampede starts")
}

/// Shards 0/3 and 1/3 run at `--start-at`; 2/3 begins after the test's end, so its whole
/// share is skipped: it sent nothing, and neither it nor the merge may pass.
#[test]
fn a_shard_that_began_after_the_end_fails_and_so_does_the_merge() {
    let server = TestServer::start(|_| common::Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    // 30 requests over 1 s: 10 for each shard.
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            "name = \"split\"\n[target]\nurl = \"{}\"\n[[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = 30\nduration = \"1s\"\n",
            server.url()
        ),
    );
    let scenario = scenario.to_str().unwrap();
    let store = format!("{}/", dir.path().join("store").display());
    let start = unix_now() + 1.5;
    let start_at = format!("{start:.3}");
    let on_time: Vec<Child> = ["0/3", "1/3"]
        .iter()
        .map(|w| shard(scenario, &store, &start_at, w))
        .collect();
    for (i, child) in on_time.into_iter().enumerate() {
        let run = wait_bounded(child, "on-time shard", Duration::from_secs(60));
        assert_eq!(
            run.output.status.code(),
            Some(0),
            "shard {i}: {}",
            String::from_utf8_lossy(&run.output.stderr)
        );
    }
    // Past the end of the test (1 s after the start).
    std::thread::sleep(Duration::from_secs_f64((start + 1.5 - unix_now()).max(0.0)));
    let late = wait_bounded(
        shard(scenario, &store, &start_at, "2/3"),
        "late shard",
        Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&late.output.stderr);
    assert_eq!(late.output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("sent well below the plan")
            && err.contains("stage \"steady\" started 0 of 10 planned requests (0%)"),
        "{err}"
    );
    let r = read_json(&dir.path().join("store").join("shard-2-of-3.json"));
    assert_eq!(r["totals"]["requests"], 0);
    assert_eq!(r["shard"]["skipped_requests"], 10);
    assert_eq!(server.hits(), 20, "the on-time shards sent their shares");

    let merged = dir.path().join("merged.json");
    let o = stampede(&[
        "merge",
        &store,
        "--expect",
        "3",
        "--quiet",
        "--out",
        merged.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("stage \"steady\" started 20 of 30 planned requests (67%)"),
        "{err}"
    );
    // The merged file says it too, for the reports.
    let m = read_json(&merged);
    assert_eq!(m["stages"][0]["planned_requests"], 30);
    let junit = dir.path().join("junit.xml");
    let o = stampede(&[
        "report",
        merged.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("requests sent as planned") && xml.contains("started 20 of 30"),
        "{xml}"
    );
}

/// A run sent as planned passes as before: the rule judges what was started, not what
/// succeeded or how fast.
#[test]
fn a_run_sent_as_planned_passes() {
    let server = TestServer::start(|_| common::Reply::ok());
    let o = stampede(&[
        "run",
        "--url",
        &server.url(),
        "--rate",
        "20",
        "--duration",
        "500ms",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("well below"), "{}", stderr(&o));
    assert_eq!(server.hits(), 10);
}
