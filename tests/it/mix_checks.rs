//! `expect` end to end: a server that answers 200 with `{"status":"ERROR"}` to one call in
//! ten — exactly those are `unexpected` (errors, never ok), their samples say what
//! differed, and a `failure_rate` threshold trips on them.

use crate::common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::TestServer;

#[test]
fn answers_that_fail_expect_are_unexpected_and_a_failure_rate_trips() {
    // Every tenth POST says ERROR (counted here); a status header is always there.
    let posts = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let (p, e) = (Arc::clone(&posts), Arc::clone(&errors));
    let server = TestServer::start_full(move |a| {
        let tenth = a.method == "POST" && p.fetch_add(1, Ordering::SeqCst) % 10 == 9;
        if tenth {
            e.fetch_add(1, Ordering::SeqCst);
        }
        let body = if tenth {
            r#"{"status":"ERROR","token":"s3cr3t-token"}"#
        } else {
            r#"{"status":"OK"}"#
        };
        (200, vec![("x-status", "done")], body)
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = r#"[target]
url = "URL"

[[requests]]
name = "create order"
method = "POST"
path = "/orders"
body = '{"n":{{seq}}}'
expect = { status = [200, 201], json = { "/status" = "OK" }, headers = { x-status = "done" } }

[[requests]]
name = "get order"
path = "/orders/{{seq}}"
weight = 4
expect = { body = "status" }

[[stages]]
kind = "constant"
rate = 1000
duration = "1s"

[thresholds]
failure_rate = "1%"
"#
    .replace("URL/", &server.url())
    .replace("URL", server.url().trim_end_matches('/'));
    let path = common::write(dir.path(), "checks.toml", &scenario);
    let (results, o) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "--threads", "1"],
        1,
    );
    assert_eq!(server.hits(), 1000);
    // "get order" only needs the word "status": the ERROR answers pass its check.
    let unexpected = results["attempts"]["unexpected"].as_u64().unwrap();
    let create = &results["by_request"]["create order"];
    let get = &results["by_request"]["get order"];
    assert_eq!(get["attempts"]["unexpected"], 0, "{get}");
    assert_eq!(get["totals"]["ok"], 800);
    assert_eq!(create["attempts"]["unexpected"], unexpected);
    assert_eq!(create["totals"]["errors"], unexpected);
    assert_eq!(results["totals"]["ok"].as_u64().unwrap() + unexpected, 1000);
    // Exactly the server's ERROR answers: a tenth of the 200 POSTs.
    assert_eq!(posts.load(Ordering::SeqCst), 200);
    assert_eq!(unexpected, errors.load(Ordering::SeqCst));
    assert_eq!(unexpected, 20);
    let samples = results["failures"].as_array().unwrap();
    let sample = samples
        .iter()
        .find(|f| f["kind"] == "unexpected")
        .expect("an unexpected sample");
    let why = sample["body_excerpt"].as_str().unwrap();
    assert!(
        why.contains("/status") && why.contains("ERROR"),
        "the sample says what differed: {why}"
    );
    let text = std::fs::read_to_string(dir.path().join("r.json")).unwrap();
    assert!(
        !text.contains("s3cr3t-token"),
        "the body is not kept in samples"
    );
    let t = &results["thresholds"][0];
    assert_eq!(t["pass"], false, "{t}");
    assert!(common::stdout(&o).contains("FAIL") || common::stderr(&o).contains("failure_rate"));
}
