//! `http = "2"` (`--http2`), checked by servers we did not write: nginx over TLS (ALPN h2)
//! and over h2c logs each request's connection and protocol — every request is HTTP/2.0,
//! as many as stampede counted, on far fewer connections than requests; a
//! `keepalive_requests` limit (nginx's GOAWAY) loses nothing and is counted. The built-in
//! emulator answers h2c; hyper's HTTP/2 server sees a templated POST's retry send the same
//! bytes and ids. `scripts/test` installs nginx.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::nginx::{by_connection, certificate, every_stage_kind, Logged, Nginx, Options};
use common::{run_results, stampede, stderr, write};
use serde_json::Value;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// Runs `scenario` against nginx, and checks what nginx logged against what stampede
/// counted: every request HTTP/2.0, logged once, multiplexed. Returns the results.
fn run_and_check(nginx: &Nginx, dir: &Path, scenario: &str, extra: &[&str]) -> Value {
    nginx.clear_log();
    let mut args = vec!["run", scenario, "--quiet"];
    args.extend_from_slice(extra);
    let (r, _) = run_results(dir, "h2.json", &args, 0);
    let requests = u(&r["totals"]["requests"]);
    assert_eq!(u(&r["totals"]["ok"]), requests, "{}", r["totals"]);
    assert_eq!(r["target"]["http"], "2", "{}", r["target"]);
    // 200 open, 60 burst, and the closed workers' half second.
    assert!(requests > 260, "{requests}");
    let log = nginx.log(requests as usize);
    let gets: Vec<&Logged> = log.iter().filter(|l| l.method == "GET").collect();
    assert_eq!(
        gets.len() as u64,
        requests,
        "nginx logged each request once (a request it did not process, sent again, once)"
    );
    assert!(
        log.iter().all(|l| l.server_protocol == "HTTP/2.0"),
        "every request over HTTP/2: {:?}",
        log.iter().find(|l| l.server_protocol != "HTTP/2.0")
    );
    let per = by_connection(&log);
    assert!(
        (per.len() as u64) * 5 < requests,
        "multiplexed: {} connections for {requests} requests",
        per.len()
    );
    // Where the time went, over HTTP/2: every answered attempt has its ttfb; each session
    // its connect (and TLS), once — as many as the connections nginx saw.
    let t = &r["timing"];
    assert_eq!(
        u(&t["ttfb"]["count"]),
        u(&r["attempts"]["sent"]),
        "{t} {}",
        r["attempts"]
    );
    assert_eq!(u(&t["connect"]["count"]), per.len() as u64, "{t}");
    // And the address counted every request its sessions carried: each attempt, and each
    // one sent again because the server did not process it (past a GOAWAY).
    let served: u64 = r["addresses"]
        .as_object()
        .expect("addresses")
        .values()
        .map(|a| u(&a["requests"]))
        .sum();
    let resent = u(&r["totals"]["stale_connection_resends"]);
    assert_eq!(
        served,
        u(&r["attempts"]["sent"]) + resent,
        "{}",
        r["addresses"]
    );
    eprintln!(
        "http2 {}: stampede {requests} requests, nginx {} lines on {} connections (most on one: {}), goaways {}",
        extra.join(" "),
        gets.len(),
        per.len(),
        per.values().max().unwrap(),
        r["totals"]["goaways"]
    );
    r
}

#[test]
fn http2_over_tls_multiplexes_every_stage_kind_and_a_goaway_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate();
    let ca = write(dir.path(), "ca.pem", &cert);
    let ca = ca.to_str().unwrap();
    let options = Options {
        http2: true,
        ..Options::default()
    };
    let nginx = Nginx::start_with(dir.path(), Some((&cert, &key)), options);
    let url = format!("https://127.0.0.1:{}/", nginx.port);
    let s = every_stage_kind(
        dir.path(),
        &url,
        "http = \"2\"\nmax_streams = 10",
        (200, 20, 60),
    );
    let r = run_and_check(&nginx, dir.path(), &s, &["--ca-cert", ca]);
    assert!(r["totals"].get("goaways").is_none(), "{}", r["totals"]);
    drop(nginx);

    // nginx ends a connection with GOAWAY after 50 requests: streams past it were not
    // processed, and go again on another connection; nothing is lost or failed.
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        http2: true,
        keepalive_requests: Some(50),
    };
    let nginx = Nginx::start_with(dir.path(), Some((&cert, &key)), options);
    let url = format!("https://127.0.0.1:{}/", nginx.port);
    let s = every_stage_kind(
        dir.path(),
        &url,
        "http = \"2\"\nmax_streams = 10",
        (200, 20, 60),
    );
    let r = run_and_check(&nginx, dir.path(), &s, &["--ca-cert", ca]);
    let requests = u(&r["totals"]["requests"]);
    let goaways = u(&r["totals"]["goaways"]);
    let log = nginx.log(requests as usize);
    assert!(log.iter().all(|l| l.connection_requests <= 50));
    // nginx said GOAWAY on each connection that reached 50 requests (some that were
    // closing as the run ended may not have been seen).
    let full = by_connection(&log).values().filter(|n| **n == 50).count() as u64;
    assert!(full > 0, "connections reached the limit");
    assert!(
        goaways <= full && goaways + 10 >= full,
        "GOAWAYs counted: {goaways}; connections nginx ended at 50: {full}"
    );
}

#[test]
fn http2_with_prior_knowledge_over_plain_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        http2: true,
        ..Options::default()
    };
    let nginx = Nginx::start_with(dir.path(), None, options);
    let url = format!("http://127.0.0.1:{}/", nginx.port);
    // No max_streams: nginx's own limit (128) per connection.
    let s = every_stage_kind(dir.path(), &url, "http = \"2\"", (200, 20, 60));
    run_and_check(&nginx, dir.path(), &s, &[]);
}

#[test]
fn per_request_over_http2_opens_a_connection_for_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate();
    let ca = write(dir.path(), "ca.pem", &cert);
    let options = Options {
        http2: true,
        ..Options::default()
    };
    let nginx = Nginx::start_with(dir.path(), Some((&cert, &key)), options);
    let url = format!("https://127.0.0.1:{}/", nginx.port);
    let s = write(
        dir.path(),
        "per.toml",
        &format!(
            "[target]\nurl = \"{url}\"\nhttp = \"2\"\nconnections = \"per-request\"\n\
             [[stages]]\nkind = \"constant\"\nrate = 100\nduration = \"1s\"\n\
             [[stages]]\nkind = \"burst\"\nrequests = 30\n"
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "per.json",
        &[
            "run",
            s.to_str().unwrap(),
            "--quiet",
            "--ca-cert",
            ca.to_str().unwrap(),
        ],
        0,
    );
    let requests = u(&r["totals"]["requests"]);
    assert_eq!(u(&r["totals"]["ok"]), requests, "{}", r["totals"]);
    let log = nginx.log(requests as usize);
    assert_eq!(log.len() as u64, requests);
    assert!(log.iter().all(|l| l.server_protocol == "HTTP/2.0"));
    assert_eq!(
        by_connection(&log).len() as u64,
        requests,
        "one connection per request"
    );
}

#[test]
fn an_https_server_that_speaks_only_http1_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate();
    let ca = write(dir.path(), "ca.pem", &cert);
    let nginx = Nginx::start(dir.path(), Some((&cert, &key)));
    let url = format!("https://127.0.0.1:{}/", nginx.port);
    let (r, o) = run_results(
        dir.path(),
        "refused.json",
        &[
            "run",
            "--url",
            &url,
            "--http2",
            "--rate",
            "20",
            "--duration",
            "200ms",
            "--ca-cert",
            ca.to_str().unwrap(),
            "--quiet",
        ],
        1,
    );
    assert_eq!(u(&r["totals"]["ok"]), 0, "{}", r["totals"]);
    let text = format!("{}{}", stderr(&o), r["failures"]);
    assert!(
        text.contains("did not agree to HTTP/2"),
        "the reason is said: {text}"
    );
    assert!(nginx.log(0).is_empty(), "no request reached nginx");
}

#[test]
fn http2_to_the_emulator_counts_what_it_served() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "e.toml",
        "[target]\nurl = \"/orders\"\n\n\
         [[stages]]\nkind = \"constant\"\nrate = 300\nduration = \"1s\"\n\
         [[stages]]\nkind = \"concurrency\"\nworkers = 30\nduration = \"500ms\"\n\
         [[stages]]\nkind = \"burst\"\nrequests = 100\n\n\
         [emulator]\nduration = \"2ms\"\ncold_start = \"0ms\"\n",
    );
    let (r, o) = run_results(
        dir.path(),
        "e.json",
        &["run", file.to_str().unwrap(), "--http2", "--quiet"],
        0,
    );
    let sent = u(&r["attempts"]["sent"]);
    assert_eq!(
        u(&r["attempts"]["ok"]),
        sent,
        "{}: {}",
        r["attempts"],
        stderr(&o)
    );
    assert_eq!(u(&r["emulator"]["requests"]), sent, "{}", r["emulator"]);
    assert!(sent > 400, "{sent}");
    assert_eq!(r["target"]["http"], "2");
}

/// What the HTTP/2 test server saw of each request: its protocol, body and correlation id.
#[derive(Debug, Clone)]
struct Seen {
    version: http::Version,
    body: Vec<u8>,
    correlation: String,
}

/// hyper's HTTP/2 server (h2c), answering each body's first POST 429 and its second 200
/// `{"status":"OK"}`, and recording what came.
fn throttling_h2_server() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    use http_body_util::BodyExt;
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: http::Request<_>| {
                        let log = Arc::clone(&log);
                        async move {
                            let version = req.version();
                            let correlation = req
                                .headers()
                                .get("x-correlation-id")
                                .map(|v| v.to_str().unwrap().to_string())
                                .unwrap_or_default();
                            let body: hyper::body::Incoming = req.into_body();
                            let body = body.collect().await.unwrap().to_bytes().to_vec();
                            let mut seen = log.lock().unwrap();
                            let first = !seen.iter().any(|s: &Seen| s.body == body);
                            seen.push(Seen {
                                version,
                                body,
                                correlation,
                            });
                            let (status, text) = if first {
                                (429, "slow down")
                            } else {
                                (200, "{\"status\":\"OK\"}")
                            };
                            let answer = http::Response::builder()
                                .status(status)
                                .body(http_body_util::Full::new(bytes::Bytes::from(text)))
                                .unwrap();
                            Ok::<_, Infallible>(answer)
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http2::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(io, service)
                    .await;
                });
            }
        });
    });
    (addr, seen)
}

#[test]
fn a_templated_post_with_a_check_is_retried_over_http2_with_the_same_bytes_and_ids() {
    let (addr, seen) = throttling_h2_server();
    let dir = tempfile::tempdir().unwrap();
    let scenario = format!(
        r#"[target]
url = "http://{addr}"
http = "2"

[retry]
base = "10ms"

[[requests]]
name = "create order"
method = "POST"
path = "/orders"
body = '{{"n":{{{{seq}}}},"id":"{{{{uuid}}}}"}}'
expect = {{ status = [200], json = {{ "/status" = "OK" }} }}

[[stages]]
kind = "constant"
rate = 50
duration = "1s"
"#
    );
    let path = write(dir.path(), "mix.toml", &scenario);
    let (r, o) = run_results(
        dir.path(),
        "mix.json",
        &["run", path.to_str().unwrap(), "--quiet"],
        0,
    );
    let requests = u(&r["totals"]["requests"]);
    assert_eq!(
        u(&r["totals"]["ok"]),
        requests,
        "{}: {}",
        r["totals"],
        stderr(&o)
    );
    assert_eq!(u(&r["totals"]["retries"]), requests, "{}", r["totals"]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len() as u64, 2 * requests, "each sent twice");
    assert!(seen.iter().all(|s| s.version == http::Version::HTTP_2));
    let mut bodies: BTreeMap<Vec<u8>, Vec<&Seen>> = BTreeMap::new();
    for s in &seen {
        bodies.entry(s.body.clone()).or_default().push(s);
    }
    assert_eq!(
        bodies.len() as u64,
        requests,
        "one body per logical request"
    );
    let mut ids = BTreeSet::new();
    for (body, attempts) in &bodies {
        let text = String::from_utf8_lossy(body);
        assert!(text.starts_with("{\"n\":"), "rendered: {text}");
        assert_eq!(attempts.len(), 2, "{text}: a 429 and its retry");
        assert_eq!(
            attempts[0].correlation, attempts[1].correlation,
            "the same id on both attempts"
        );
        assert!(ids.insert(attempts[0].correlation.clone()));
    }
}

#[test]
fn an_unknown_http_version_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "bad.toml",
        "[target]\nurl = \"http://127.0.0.1:9/\"\nhttp = \"3\"\n\n[[stages]]\nkind = \"constant\"\nrate = 1\nduration = \"1s\"\n",
    );
    let o = stampede(&["run", path.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("bad.toml:3:8"), "located: {err}");
    assert!(err.contains("unknown http version `3`"), "{err}");
    assert!(err.contains("1.1, 2"), "the forms are named: {err}");

    let path = write(
        dir.path(),
        "streams.toml",
        "[target]\nurl = \"http://127.0.0.1:9/\"\nmax_streams = 10\n\n[[stages]]\nkind = \"constant\"\nrate = 1\nduration = \"1s\"\n",
    );
    let o = stampede(&["run", path.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("streams.toml:3:"), "{}", stderr(&o));
}
