//! `--prometheus-remote-write`: three shards of one run push to a real Prometheus (its
//! remote-write receiver), whose sum over the shards equals the merged results' totals;
//! a recording server sees bearer, basic and SigV4 pushes and their bodies; a dead
//! endpoint fails no run.

use crate::common;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{read_json, stampede, stderr, wait_bounded, write, Reply, TestServer};
use stampede::live::remote_write::wire;

#[path = "remote_write/servers.rs"]
mod servers;
use common::prometheus::Prometheus;
use servers::{free_port, Emulator, Pushed, Recorder};

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn three_shards_push_and_prometheus_sums_them_to_the_merged_totals() {
    let dir = tempfile::tempdir().unwrap();
    let prometheus = Prometheus::receiver(dir.path());
    let emulator = Emulator::start(dir.path());
    let scenario = write(
        dir.path(),
        "rw.toml",
        &format!(
            r#"name = "remote-write"
[target]
url = "{}"
[[stages]]
name = "steady"
kind = "constant"
rate = 60
duration = "3s"
"#,
            emulator.url
        ),
    );
    let store = dir.path().join("store");
    let start_at = format!("{:.3}", unix_now() + 2.0);
    let url = prometheus.write_url();
    let shards: Vec<Child> = (0..3)
        .map(|i| {
            common::command(&[
                "run",
                scenario.to_str().unwrap(),
                "--threads",
                "1",
                "--shard",
                &format!("{i}/3"),
                "--start-at",
                &start_at,
                "--out",
                &format!("{}/", store.display()),
                "--prometheus-remote-write",
                &url,
                "--push-interval",
                "1s",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("stampede starts")
        })
        .collect();
    for (i, child) in shards.into_iter().enumerate() {
        let run = wait_bounded(child, &format!("shard {i}/3"), Duration::from_secs(60));
        let err = String::from_utf8_lossy(&run.output.stderr);
        assert!(
            matches!(run.output.status.code(), Some(0 | 1)),
            "shard {i}/3: {err}"
        );
        assert!(
            err.contains(&format!("pushes to {url}, none failed")),
            "shard {i}/3: {err}"
        );
    }
    emulator.stop();

    let merged_out = dir.path().join("merged.json");
    let o = stampede(&[
        "merge",
        &format!("{}/", store.display()),
        "--expect",
        "3",
        "--out",
        merged_out.to_str().unwrap(),
        "-q",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let totals = read_json(&merged_out)["totals"].clone();

    let by_outcome = prometheus.by_label(
        r#"sum by (outcome) (stampede_requests_total{scenario="remote-write"})"#,
        "outcome",
        None,
    );
    let in_prometheus = |outcome: &str| {
        by_outcome
            .iter()
            .find(|(o, _)| o == outcome)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {outcome} series in {by_outcome:?}"))
    };
    let pairs = [
        ("ok", "ok"),
        ("throttled", "throttled"),
        ("error", "errors"),
        ("abandoned", "abandoned"),
    ];
    for (outcome, key) in pairs {
        assert_eq!(
            in_prometheus(outcome),
            totals[key].as_u64().unwrap() as f64,
            "{outcome}: Prometheus {by_outcome:?}, merged totals {totals}"
        );
    }
    assert_eq!(
        totals["ok"].as_u64().unwrap() + totals["throttled"].as_u64().unwrap(),
        180 - totals["errors"].as_u64().unwrap() - totals["abandoned"].as_u64().unwrap(),
    );
    let shards = prometheus.scalar("count(count by (shard) (stampede_requests_total))", None);
    assert_eq!(shards, 3.0);
    let _ = std::io::stderr().write_all(
        format!(
            "\nPromQL sum by (outcome): {:?}\nmerged totals: ok {} throttled {} errors {} abandoned {}\n",
            pairs.map(|(o, _)| (o, in_prometheus(o))),
            totals["ok"],
            totals["throttled"],
            totals["errors"],
            totals["abandoned"]
        )
        .as_bytes(),
    );
}

/// A scenario of 10 requests to a loopback server answering 200.
fn small_run(dir: &Path) -> (TestServer, PathBuf) {
    let target = TestServer::start(|_| Reply::ok());
    let scenario = write(
        dir,
        "small.toml",
        &format!(
            "name = \"small\"\n[target]\nurl = \"{}\"\n[[stages]]\nname = \"only\"\nkind = \"constant\"\nrate = 10\nduration = \"1s\"\n",
            target.url()
        ),
    );
    (target, scenario)
}

/// A way to authenticate: its name, its environment and its flags.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [&'a str]);

#[test]
fn bearer_basic_and_sigv4_pushes_carry_their_credentials_and_the_runs_series() {
    let dir = tempfile::tempdir().unwrap();
    let (_target, scenario) = small_run(dir.path());
    let secret_token = "tok-never-print-me";
    let cases: [Case; 3] = [
        (
            "bearer",
            vec![("STAMPEDE_REMOTE_WRITE_BEARER_TOKEN", secret_token)],
            &[],
        ),
        (
            "basic",
            vec![
                ("STAMPEDE_REMOTE_WRITE_USERNAME", "ann"),
                ("STAMPEDE_REMOTE_WRITE_PASSWORD", "pw-never-print-me"),
            ],
            &[],
        ),
        (
            "sigv4",
            vec![
                common::DUMMY_KEYS[0],
                common::DUMMY_KEYS[1],
                ("AWS_REGION", "us-east-1"),
            ],
            &["--remote-write-sigv4"],
        ),
    ];
    for (name, env, extra) in cases {
        let recorder = Recorder::start(204);
        let url = recorder.url();
        let mut args = vec![
            "run",
            scenario.to_str().unwrap(),
            "--prometheus-remote-write",
            &url,
            "--push-interval",
            "1s",
        ];
        args.extend_from_slice(extra);
        let o = common::stampede_aws(dir.path(), &args, &env);
        let said = format!("{}{}", common::stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{name}: {said}");
        for (_, value) in &env {
            if value.contains("never-print-me") {
                assert!(!said.contains(value), "{name}: a secret printed: {said}");
            }
        }
        let pushes = recorder.pushes();
        assert!(
            pushes.len() >= 2,
            "{name}: at least one interval's and the last: {pushes:?}"
        );
        assert!(
            said.contains(&format!(
                "remote write: {} pushes to {url}, none failed",
                pushes.len()
            )),
            "{name}: {said}"
        );
        for p in &pushes {
            let h = &p.headers;
            assert_eq!(h["content-encoding"], "snappy");
            assert_eq!(h["content-type"], "application/x-protobuf");
            assert_eq!(h["x-prometheus-remote-write-version"], "0.1.0");
            assert!(h["user-agent"].to_str().unwrap().starts_with("stampede/"));
            let auth = h["authorization"].to_str().unwrap();
            match name {
                "bearer" => assert_eq!(auth, format!("Bearer {secret_token}")),
                // base64("ann:pw-never-print-me")
                "basic" => assert_eq!(auth, "Basic YW5uOnB3LW5ldmVyLXByaW50LW1l"),
                _ => {
                    assert!(
                        auth.starts_with(&format!(
                            "AWS4-HMAC-SHA256 Credential={}/",
                            common::DUMMY_KEYS[0].1
                        )) && auth.contains("/us-east-1/aps/aws4_request"),
                        "{auth}"
                    );
                    assert_eq!(auth, expected_signature(p), "the signature checks out");
                }
            }
        }
        // The last push has the final counts: 10 requests ended ok, under the run's labels.
        let last = wire::decode(&pushes.last().unwrap().body).unwrap();
        let ok = last
            .timeseries
            .iter()
            .find(|s| {
                s.label("__name__") == Some("stampede_requests_total")
                    && s.label("outcome") == Some("ok")
            })
            .unwrap_or_else(|| panic!("{name}: no requests series in {last:?}"));
        assert_eq!(ok.label("scenario"), Some("small"));
        assert_eq!(ok.label("stage"), Some("only"));
        assert_eq!(ok.label("run_id").map(str::len), Some(8));
        assert_eq!(ok.samples.last().unwrap().value, 10.0, "{name}");
        for s in &last.timeseries {
            let names: Vec<&str> = s.labels.iter().map(|l| l.name.as_str()).collect();
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(names, sorted, "labels sorted by name");
        }
        assert!(last
            .timeseries
            .iter()
            .any(|s| s.label("__name__") == Some("stampede_latency_seconds_bucket")));
    }
}

/// The Authorization header a receiver expects for `pushed`: the request signed again
/// with the same keys at its `x-amz-date`, over the headers it says it signed and its
/// body (so a changed body or header would not match).
fn expected_signature(pushed: &Pushed) -> String {
    use stampede::transport::auth::{Auth, CredentialSource};
    let auth = pushed.headers["authorization"].to_str().unwrap();
    let signed = auth
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap();
    let mut headers = http::HeaderMap::new();
    for name in signed.split(';').filter(|n| *n != "x-amz-date") {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            pushed.headers[name].clone(),
        );
    }
    let date = pushed.headers["x-amz-date"].to_str().unwrap();
    let at = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ").unwrap();
    let at = UNIX_EPOCH + Duration::from_secs(at.and_utc().timestamp() as u64);
    let uri: http::Uri = format!(
        "http://{}/api/v1/write",
        pushed.headers["host"].to_str().unwrap()
    )
    .parse()
    .unwrap();
    let signer = Auth::SigV4 {
        service: "aps".into(),
        region: "us-east-1".into(),
        credentials: CredentialSource::fixed(aws_credential_types::Credentials::new(
            common::DUMMY_KEYS[0].1,
            common::DUMMY_KEYS[1].1,
            None,
            None,
            "test",
        )),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let added = rt
        .block_on(signer.headers_for(&http::Method::POST, &uri, &headers, &pushed.body, at))
        .unwrap();
    added
        .into_iter()
        .find(|(n, _)| n == http::header::AUTHORIZATION)
        .map(|(_, v)| v.to_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn a_dead_endpoint_or_a_refusal_fails_no_run_and_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let (_target, scenario) = small_run(dir.path());
    let dead = format!("http://127.0.0.1:{}/api/v1/write", free_port());
    let refusing = Recorder::start(400);
    for url in [dead.clone(), refusing.url()] {
        let o = stampede(&[
            "run",
            scenario.to_str().unwrap(),
            "--prometheus-remote-write",
            &url,
            "--push-interval",
            "1s",
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(err.contains("a push failed"), "warned: {err}");
        assert_eq!(
            err.matches("a push failed").count(),
            1,
            "warned once: {err}"
        );
        assert!(
            err.contains(&format!("pushes to {url} failed (last: ")),
            "{err}"
        );
    }
    assert!(refusing.pushes().len() >= 2);

    // Bad URLs are bad input before any traffic.
    for bad in ["prometheus:9090/api/v1/write", "ftp://u:s3cret@h/w"] {
        let o = stampede(&[
            "run",
            scenario.to_str().unwrap(),
            "--prometheus-remote-write",
            bad,
        ]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("--prometheus-remote-write")
                && err.contains("expected: an http:// or https:// URL"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    }
}

#[test]
fn an_endpoint_that_never_answers_holds_the_exit_at_most_the_push_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (_target, scenario) = small_run(dir.path());
    // Connections complete in the backlog and are never served.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1/write", silent.local_addr().unwrap());
    let run = common::stampede_timed(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--prometheus-remote-write",
            &url,
        ],
        Duration::from_secs(60),
    );
    let err = String::from_utf8_lossy(&run.output.stderr);
    assert_eq!(run.output.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "push to {url} failed (last: no answer within 10 s)"
        )),
        "{err}"
    );
    // 1 s of traffic, then the last push's 10 s at most: not the pushes' sum.
    assert!(
        run.elapsed < Duration::from_secs(20),
        "{:?}: {err}",
        run.elapsed
    );
    drop(silent);
}
