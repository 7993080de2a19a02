//! What an HTTP/2 server's stream resets do to a run (docs/connections.md, "When the server
//! ends a connection"), against a real server built on the `h2` crate's server, over h2c on
//! loopback, that counts what it did: every 5th stream refused (`REFUSED_STREAM`) is sent
//! again once and loses nothing; one refused again is sent again, 6 times at most; reset with `INTERNAL_ERROR` it is a protocol error, not
//! sent again; a server whose flow control never lets a request's body through leaves the
//! attempt to time out.

use crate::common;

use std::path::Path;

use common::h2_server::{Behaviour, H2Server};
use common::{run_results, write};
use h2::Reason;
use serde_json::Value;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Runs an HTTP/2 scenario against `server`: `target_extra` in `[target]`, 150 requests
/// at 75 req/s; the results.
fn run(dir: &Path, server: &H2Server, target_extra: &str, code: i32) -> Value {
    let scenario = write(
        dir,
        "h2.toml",
        &format!(
            "[target]\nurl = \"http://{}/orders\"\nhttp = \"2\"\n{target_extra}\n\n\
             [[stages]]\nkind = \"constant\"\nrate = 75\nduration = \"2s\"\n",
            server.address
        ),
    );
    let (r, _) = run_results(
        dir,
        "h2.json",
        &["run", scenario.to_str().unwrap(), "--quiet"],
        code,
    );
    r
}

#[test]
fn a_refused_stream_is_sent_again_once_and_nothing_is_lost() {
    let server = H2Server::start(Behaviour {
        reset_every: Some((5, Reason::REFUSED_STREAM)),
        ..Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    // A POST: sent again whatever its method, the server said it did not process it.
    let r = run(
        dir.path(),
        &server,
        "method = \"POST\"\nbody = '{\"sku\":\"A-1\"}'\ntimeout = \"5s\"",
        0,
    );
    let (t, a) = (&r["totals"], &r["attempts"]);
    let requests = u(&t["requests"]);
    assert_eq!(requests, 150, "{t}");
    assert_eq!(u(&t["ok"]), requests, "nothing lost: {t} {a}");
    assert_eq!(u(&a["sent"]), requests, "a resend is not an attempt: {a}");
    assert_eq!(
        server.count(|c| &c.answered_200),
        u(&t["ok"]),
        "the server's 200s are stampede's ok"
    );
    let resets = server.count(|c| &c.resets);
    assert!(resets >= 25, "every 5th of ~180 streams refused: {resets}");
    assert_eq!(
        u(&t["stale_connection_resends"]),
        resets,
        "each refused stream sent again, once: {t}"
    );
    assert_eq!(u(&t["retries"]), 0, "{t}");
    assert_eq!(
        server.count(|c| &c.streams),
        requests + resets,
        "each request reached the server once, and once more when refused"
    );
}

/// A request refused again when sent again (its new stream refused too, or met a GOAWAY)
/// is sent again each time, up to 6 times as Go's HTTP/2 client does: refused 3 times it is
/// answered; refused on every stream it is a connect error after its 7th send.
#[test]
fn a_request_refused_again_is_sent_again_up_to_six_times() {
    for (refusals, code) in [(3, 0), (u64::MAX, 1)] {
        let server = H2Server::start(Behaviour {
            refuse_each: refusals,
            ..Behaviour::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let scenario = write(
            dir.path(),
            "h2.toml",
            &format!(
                "[target]\nurl = \"http://{}/orders\"\nhttp = \"2\"\nmethod = \"POST\"\n\
                 timeout = \"5s\"\n\n[[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"1s\"\n",
                server.address
            ),
        );
        let (r, _) = run_results(
            dir.path(),
            "h2.json",
            &["run", scenario.to_str().unwrap(), "--quiet"],
            code,
        );
        let (t, a) = (&r["totals"], &r["attempts"]);
        let requests = u(&t["requests"]);
        assert_eq!(requests, 20, "{t}");
        assert_eq!(u(&a["sent"]), requests, "resends are not attempts: {a}");
        let sends = refusals.min(6) + 1;
        assert_eq!(
            server.count(|c| &c.streams),
            requests * sends,
            "refused {refusals}: each request sent {sends} times: {t}"
        );
        assert_eq!(
            u(&t["stale_connection_resends"]),
            requests * (sends - 1),
            "{t}"
        );
        if code == 0 {
            assert_eq!(u(&t["ok"]), requests, "{t}");
            assert_eq!(server.count(|c| &c.answered_200), requests);
        } else {
            assert_eq!(u(&t["ok"]), 0, "{t}");
            assert_eq!(u(&a["connect_errors"]), requests, "refused a 7th time: {a}");
        }
    }
}

#[test]
fn another_reset_is_a_protocol_error_not_sent_again() {
    let server = H2Server::start(Behaviour {
        reset_every: Some((5, Reason::INTERNAL_ERROR)),
        ..Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), &server, "timeout = \"5s\"", 0);
    let (t, a) = (&r["totals"], &r["attempts"]);
    let resets = server.count(|c| &c.resets);
    assert_eq!(resets, 30, "every 5th of 150 streams: {t}");
    assert_eq!(u(&t["stale_connection_resends"]), 0, "not resent: {t}");
    assert_eq!(u(&a["protocol_errors"]), resets, "{a}");
    assert_eq!(u(&t["errors"]), resets, "{t}");
    assert_eq!(u(&t["ok"]), server.count(|c| &c.answered_200), "{t}");
    assert_eq!(u(&a["sent"]), server.count(|c| &c.streams), "{a}");
    let sample = r["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "protocol_error")
        .unwrap_or_else(|| panic!("no protocol_error sample: {}", r["failures"]));
    let text = sample.to_string();
    assert!(
        text.contains("the server reset the stream: INTERNAL_ERROR")
            && text.contains("internal error"),
        "{sample}"
    );
}

#[test]
fn a_body_the_servers_flow_control_never_lets_through_times_out() {
    let server = H2Server::start(Behaviour {
        never_grant_window: true,
        ..Behaviour::default()
    });
    let dir = tempfile::tempdir().unwrap();
    // Larger than HTTP/2's default window: a request sent before the server's SETTINGS
    // (window 0) arrive may send 65,535 bytes of it, never the rest.
    let body = "x".repeat(100_000);
    let scenario = write(
        dir.path(),
        "stall.toml",
        &format!(
            "[target]\nurl = \"http://{}/orders\"\nhttp = \"2\"\nmethod = \"POST\"\n\
             body = '{body}'\ntimeout = \"500ms\"\n\n\
             [[stages]]\nkind = \"constant\"\nrate = 10\nduration = \"1s\"\n",
            server.address
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "stall.json",
        &["run", scenario.to_str().unwrap(), "--quiet"],
        1,
    );
    let (t, a) = (&r["totals"], &r["attempts"]);
    assert_eq!(u(&t["requests"]), 10, "{t}");
    assert_eq!(
        u(&a["timeouts"]),
        u(&a["sent"]),
        "every attempt timed out: {a}"
    );
    assert_eq!(u(&t["ok"]), 0, "{t}");
    assert_eq!(server.count(|c| &c.answered_200), 0);
    assert_eq!(
        server.count(|c| &c.streams),
        u(&a["sent"]),
        "each stream opened"
    );
}
