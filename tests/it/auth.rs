//! Secrets from the environment reach the server and nothing else: not the output, not
//! the logs, not the results.

use crate::common;

use std::sync::{Arc, Mutex};

use common::{read_json, write, TestServer};

const API_KEY: &str = "k3y-7f1d9c0a-never-print-me";
const AWS_SECRET: &str = "aws-secret-never-print-me";

/// A server that answers 403 unless `check` passes on the request's headers, and keeps
/// the headers it saw.
fn checking_server(
    check: fn(&http::HeaderMap) -> bool,
) -> (TestServer, Arc<Mutex<Vec<http::HeaderMap>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let server = TestServer::start_full(move |a| {
        log.lock().unwrap().push(a.headers.clone());
        if check(a.headers) {
            (200, vec![], r#"{"ok":true}"#)
        } else {
            (403, vec![], r#"{"message":"Forbidden"}"#)
        }
    });
    (server, seen)
}

fn run(scenario: &std::path::Path, out: &std::path::Path, env: &[(&str, &str)]) -> (i32, String) {
    let dir = scenario.parent().unwrap();
    let mut command = common::command(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-vv",
    ]);
    command
        // The AWS chain sees only what the test gives it: no machine profiles, no IMDS
        // (which would mean traffic off loopback).
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", dir.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied());
    let o = common::run_bounded(command, common::DEFAULT_LIMIT).output;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap(), text)
}

#[test]
fn an_api_key_reaches_the_server_and_appears_nowhere_else() {
    let (server, _) = checking_server(|h| h.get("x-api-key").is_some_and(|v| v == API_KEY));
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[target.auth]\nkind = \"api-key\"\nheader = \"x-api-key\"\nenv = \"ORDERS_API_KEY\"\n[[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"500ms\"\n",
            server.url()
        ),
    );
    let out = dir.path().join("r.json");
    let (code, text) = run(&scenario, &out, &[("ORDERS_API_KEY", API_KEY)]);
    assert_eq!(code, 0, "{text}");
    let results = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        read_json(&out)["totals"]["ok"],
        10,
        "every request carried the key"
    );
    assert!(!text.contains(API_KEY), "the key leaked into the output");
    assert!(
        !results.contains(API_KEY),
        "the key leaked into the results"
    );
}

#[test]
fn a_bearer_token_is_sent_as_authorization() {
    let (server, _) = checking_server(|h| {
        h.get("authorization")
            .is_some_and(|v| v == &format!("Bearer {API_KEY}")[..])
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[target.auth]\nkind = \"bearer\"\nenv = \"TOKEN\"\n[[stages]]\nkind = \"burst\"\nrequests = 5\n",
            server.url()
        ),
    );
    let out = dir.path().join("r.json");
    let (code, text) = run(&scenario, &out, &[("TOKEN", API_KEY)]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(read_json(&out)["totals"]["ok"], 5);
    assert!(!text.contains(API_KEY) && !std::fs::read_to_string(&out).unwrap().contains(API_KEY));
}

#[test]
fn sigv4_signs_every_attempt_with_credentials_from_the_environment() {
    let (server, seen) = checking_server(|h| {
        h.get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.starts_with("AWS4-HMAC-SHA256 Credential=AKIDSTAMPEDE/")
                    && v.contains("/eu-west-1/execute-api/aws4_request")
            })
            && h.contains_key("x-amz-date")
            && h.contains_key("x-amz-security-token")
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!(
            "[target]\nurl = \"{}\"\nmethod = \"POST\"\nbody = '{{\"a\":1}}'\n[target.auth]\nkind = \"sigv4\"\nservice = \"execute-api\"\nregion = \"eu-west-1\"\n[[stages]]\nkind = \"burst\"\nrequests = 3\n",
            server.url()
        ),
    );
    let out = dir.path().join("r.json");
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDSTAMPEDE"),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AWS_SESSION_TOKEN", "session-token-never-print-me"),
    ];
    let (code, text) = run(&scenario, &out, &env);
    assert_eq!(code, 0, "{text}");
    assert_eq!(read_json(&out)["totals"]["ok"], 3);
    let seen = seen.lock().unwrap();
    let signatures: std::collections::HashSet<_> =
        seen.iter().map(|h| h["authorization"].clone()).collect();
    assert_eq!(
        signatures.len(),
        3,
        "each request signed on its own (its correlation id differs)"
    );
    let results = std::fs::read_to_string(&out).unwrap();
    for secret in [AWS_SECRET, "session-token-never-print-me"] {
        assert!(!text.contains(secret) && !results.contains(secret));
    }
}

#[test]
fn sigv4_credentials_come_from_a_profile_through_the_aws_chain() {
    let (server, seen) = checking_server(|h| {
        h.get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.starts_with("AWS4-HMAC-SHA256 Credential=AKIDPROFILE/")
                    && v.contains("/us-west-2/lambda/aws4_request")
            })
    });
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "aws-credentials",
        &format!("[stampede-test]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = {AWS_SECRET}\n"),
    );
    write(
        dir.path(),
        "aws-config",
        "[profile stampede-test]\nregion = us-west-2\n",
    );
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!("[target]\nurl = \"{}\"\n[target.auth]\nkind = \"sigv4\"\nservice = \"lambda\"\n[[stages]]\nkind = \"burst\"\nrequests = 2\n", server.url()),
    );
    let out = dir.path().join("r.json");
    let (code, text) = run(&scenario, &out, &[("AWS_PROFILE", "stampede-test")]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        read_json(&out)["totals"]["ok"],
        2,
        "{:?}",
        seen.lock().unwrap()
    );
    assert!(
        !text.contains(AWS_SECRET) && !std::fs::read_to_string(&out).unwrap().contains(AWS_SECRET)
    );

    // No credentials anywhere: bad input before any traffic, naming the problem.
    let before = server.hits();
    let (code, text) = run(&scenario, &out, &[("AWS_PROFILE", "nobody")]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("[target.auth]") && text.contains("credentials"),
        "{text}"
    );
    assert_eq!(server.hits(), before);
}
