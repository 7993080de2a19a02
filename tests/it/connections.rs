//! Keep-alive connections a server closes without saying so, and the in-flight cap, against
//! raw servers on loopback: a request that went out on a connection the server had already
//! closed never reached it, and is sent again on a fresh one (counted apart, not blamed on
//! the server) when that is safe; a server's `Keep-Alive: timeout, max` is heeded so that
//! rarely happens. `--max-in-flight` is one cap for the run, and the run still ends in time
//! with every planned request counted.

use crate::common;

use std::time::Duration;

use common::raw::{Misbehaviour, RawServer};
use common::{read_json, stampede_timed, stderr, write};
use serde_json::Value;

/// Every run here is small; it is killed (and the test failed) past this.
const KILL: Duration = Duration::from_secs(60);

fn closes(answers: Option<u64>, idle: Option<Duration>, headers: &[(&str, &str)]) -> RawServer {
    RawServer::start(Misbehaviour::Closes {
        answers,
        idle,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    })
}

/// Runs `args` (after `run`) with `--quiet --out`, returns the exit code and the results.
fn run(args: &[&str]) -> (Option<i32>, Value, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let mut all = vec!["run", "--quiet", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let r = stampede_timed(&all, KILL);
    let code = r.output.status.code();
    assert!(
        out.exists(),
        "no results written (exit {code:?}): {}",
        stderr(&r.output)
    );
    (code, read_json(&out), r.elapsed)
}

/// A scenario file at `url` with `method` and, when given, an idempotency header; `rate`
/// requests a second for 2 s on one thread.
fn scenario(
    dir: &std::path::Path,
    url: &str,
    method: &str,
    idempotency: bool,
    rate: u32,
) -> String {
    let ids = if idempotency {
        "[request]\nidempotency_header = \"idempotency-key\"\n"
    } else {
        ""
    };
    let path = write(
        dir,
        "s.toml",
        &format!(
            "[target]\nurl = \"{url}\"\nmethod = \"{method}\"\ntimeout = \"2s\"\n{ids}\
             [[stages]]\nkind = \"constant\"\nrate = {rate}\nduration = \"2s\"\n"
        ),
    );
    path.to_str().unwrap().to_string()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn a_server_closing_after_three_answers_unannounced_is_not_blamed() {
    let server = closes(Some(3), None, &[]);
    let (code, r, _) = run(&[
        "--url",
        &server.url(),
        "--rate",
        "50",
        "--duration",
        "2s",
        "--threads",
        "1",
    ]);
    assert_eq!(code, Some(0), "{}", r["attempts"]);
    let (t, a) = (&r["totals"], &r["attempts"]);
    assert_eq!(u(&t["ok"]), 100, "{t} {a}");
    assert_eq!(u(&a["sent"]), 100, "a resend is not an attempt: {a}");
    assert_eq!(u(&a["protocol_errors"]) + u(&a["connect_errors"]), 0, "{a}");
    assert_eq!(
        server.requests(),
        u(&t["ok"]),
        "the server saw exactly the requests that ended ok"
    );
    // Every fourth request on a connection met a closed one.
    let resends = u(&t["stale_connection_resends"]);
    assert!((20..=40).contains(&resends), "resends: {resends}");
    assert_eq!(
        u(&r["stages"][0]["totals"]["stale_connection_resends"]),
        resends
    );
}

#[test]
fn a_server_that_says_keep_alive_max_is_heeded_and_needs_no_resend() {
    let server = closes(Some(3), None, &[("Keep-Alive", "timeout=1, max=3")]);
    let (code, r, _) = run(&[
        "--url",
        &server.url(),
        "--rate",
        "50",
        "--duration",
        "2s",
        "--threads",
        "1",
    ]);
    assert_eq!(code, Some(0), "{}", r["attempts"]);
    let t = &r["totals"];
    assert_eq!(u(&t["ok"]), 100, "{t}");
    assert_eq!(u(&t["stale_connection_resends"]), 0, "{t}");
    assert_eq!(server.requests(), 100);
    // A connection carries three requests, then is retired.
    assert!(server.connections() >= 34, "{}", server.connections());
}

#[test]
fn a_short_idle_timeout_racing_the_next_request_is_not_blamed() {
    // Requests every 50 ms on one connection; the server closes after 48 ms idle, and is
    // still closing when the next request comes.
    let server = closes(None, Some(Duration::from_millis(48)), &[]);
    let (code, r, _) = run(&[
        "--url",
        &server.url(),
        "--rate",
        "20",
        "--duration",
        "3s",
        "--threads",
        "1",
    ]);
    assert_eq!(code, Some(0), "{}", r["attempts"]);
    let (t, a) = (&r["totals"], &r["attempts"]);
    assert_eq!(u(&t["ok"]), 60, "{t} {a}");
    assert_eq!(u(&a["sent"]), 60, "{a}");
    assert_eq!(server.requests(), 60, "{t}");
    // How often the race is lost depends on the machine's load; once is enough to show a
    // lost race is resent, not blamed (the counts above).
    assert!(
        u(&t["stale_connection_resends"]) >= 1,
        "the race was run: {t}"
    );
}

#[test]
fn a_post_without_an_idempotency_key_is_not_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = closes(Some(3), None, &[]);
    let s = scenario(dir.path(), &server.url(), "POST", false, 50);
    let (_, r, _) = run(&[&s, "--threads", "1"]);
    let (t, a) = (&r["totals"], &r["attempts"]);
    assert_eq!(u(&t["stale_connection_resends"]), 0, "{t}");
    let failed = u(&a["protocol_errors"]) + u(&a["connect_errors"]);
    assert!(
        failed >= 20,
        "the fourth request of each connection failed: {a}"
    );
    assert_eq!(u(&t["ok"]) + failed, 100, "{t} {a}");
    assert_eq!(server.requests(), u(&t["ok"]));

    // With a key, a POST may be sent again: the server can tell a replay.
    let server = closes(Some(3), None, &[]);
    let s = scenario(dir.path(), &server.url(), "POST", true, 50);
    let (code, r, _) = run(&[&s, "--threads", "1"]);
    assert_eq!(code, Some(0), "{}", r["attempts"]);
    let t = &r["totals"];
    assert_eq!(u(&t["ok"]), 100, "{t}");
    assert!(u(&t["stale_connection_resends"]) >= 20, "{t}");
    assert_eq!(server.requests(), 100);
}

#[test]
fn the_in_flight_cap_is_one_for_the_run_and_keeps_its_time_and_counts() {
    // A server that never answers: 20 requests planned over 1 s, one in flight at a time
    // across two threads; each waits out the 1 s timeout. The run may take its schedule,
    // one timeout and the grace period (2.5 s), not 20 timeouts.
    let server = RawServer::start(Misbehaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "s.toml",
        &format!(
            "[target]\nurl = \"{}\"\ntimeout = \"1s\"\n\
             [[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"1s\"\n",
            server.url()
        ),
    );
    let (code, r, took) = run(&[
        s.to_str().unwrap(),
        "--threads",
        "2",
        "--max-in-flight",
        "1",
        "--grace",
        "500ms",
    ]);
    assert_eq!(code, Some(1), "nothing succeeded: {}", r["totals"]);
    let t = &r["totals"];
    assert_eq!(
        u(&t["requests"]) + u(&t["abandoned"]),
        20,
        "every planned request is counted: {t}"
    );
    assert_eq!(u(&r["peak_in_flight"]), 1, "one cap for the run");
    assert!(u(&t["held_back"]) >= 1, "{t}");
    assert!(u(&r["attempts"]["timeouts"]) <= 3, "{}", r["attempts"]);
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn a_rate_far_past_the_cap_still_ends_in_time() {
    // A million requests planned in 1 s, five in flight at most, a server that never
    // answers: the run still ends after its schedule, one timeout and the grace period
    // (2.5 s), with the requests never sent counted as abandoned.
    let server = RawServer::start(Misbehaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "s.toml",
        &format!(
            "[target]\nurl = \"{}\"\ntimeout = \"1s\"\n\
             [[stages]]\nkind = \"constant\"\nrate = 1000000\nduration = \"1s\"\n",
            server.url()
        ),
    );
    let (code, r, took) = run(&[
        s.to_str().unwrap(),
        "--max-in-flight",
        "5",
        "--grace",
        "500ms",
        "--threads",
        "2",
    ]);
    assert_eq!(code, Some(1), "{}", r["totals"]);
    let t = &r["totals"];
    assert_eq!(u(&t["requests"]) + u(&t["abandoned"]), 1_000_000, "{t}");
    assert!(u(&r["peak_in_flight"]) <= 5, "{}", r["peak_in_flight"]);
    // Were the cap waited out request by request, it would take days; room for a loaded machine.
    assert!(took < Duration::from_secs(30), "took {took:?}");
}
