//! Templates and data end to end: every request of a templated mix carries its own CSV row,
//! UUID and `{{seq}}`, exactly once each; `unique` rows are never read twice across shards
//! and their end is counted; retries resend the same rendered request.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::common;

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path_and_query: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// A loopback server keeping every request whole; it answers 429 to the first attempt of
/// every logical request when `throttle_first` (told apart by the correlation id).
struct BodyServer {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl BodyServer {
    fn start(throttle_first: bool) -> BodyServer {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&seen);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let keep = Arc::clone(&keep);
                    tokio::spawn(async move {
                        let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                            let keep = Arc::clone(&keep);
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = body.collect().await.unwrap().to_bytes();
                                let headers: BTreeMap<String, String> = parts
                                    .headers
                                    .iter()
                                    .map(|(n, v)| {
                                        (n.to_string(), v.to_str().unwrap_or("").to_string())
                                    })
                                    .collect();
                                let id = headers.get("x-correlation-id").cloned();
                                let mut seen = keep.lock().unwrap();
                                let first = !seen
                                    .iter()
                                    .any(|s| s.headers.get("x-correlation-id") == id.as_ref());
                                seen.push(Seen {
                                    method: parts.method.to_string(),
                                    path_and_query: parts.uri.to_string(),
                                    headers,
                                    body: String::from_utf8_lossy(&body).into_owned(),
                                });
                                let status = if throttle_first && first { 429 } else { 200 };
                                let mut resp =
                                    Response::new(Full::new(Bytes::from_static(br#"{"ok":true}"#)));
                                *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                                Ok::<_, Infallible>(resp)
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        let addr = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        BodyServer {
            url: format!("http://{addr}"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A CSV of `rows` orders: row r is `sku-r` with quantity r mod 7 + 1, and a name with a
/// comma and quotes (RFC 4180 quoting) that a JSON body carries.
fn orders_csv(rows: usize) -> String {
    let mut out = String::from("sku,qty,note\n");
    for r in 0..rows {
        out.push_str(&format!("sku-{r},{},\"row {r}, fine\"\n", r % 7 + 1));
    }
    out
}

/// The templated 3:6:1 mix over `data` with `pick`, every request saying its k.
fn templated_mix(url: &str, pick: &str, stage: &str) -> String {
    let text = r#"name = "templated mix"
seed = 7

[target]
url = "URL/api"

[data]
file = "orders.csv"
pick = "PICK"

[[requests]]
name = "create order"
method = "POST"
path = "/orders"
headers = { content-type = "application/json", x-seq = "{{seq}}" }
body = '{"id":"{{uuid}}","sku":"{{data.sku}}","qty":{{data.qty}},"n":{{seq}}}'
weight = 3

[[requests]]
name = "get order"
path = "/orders/{{data.sku}}"
headers = { x-seq = "{{seq}}" }
weight = 6

[[requests]]
name = "list orders"
path = "/orders?page={{random_int 1 50}}&note={{data.note}}"
headers = { x-seq = "{{seq}}" }
weight = 1

STAGE
"#;
    text.replace("URL", url)
        .replace("PICK", pick)
        .replace("STAGE", stage)
}

const OPEN_1000: &str =
    "[[stages]]\nname = \"open\"\nkind = \"constant\"\nrate = 2000\nduration = \"500ms\"\n";

fn seq_of(s: &Seen) -> u64 {
    s.headers["x-seq"].parse().unwrap()
}

#[test]
fn every_request_carries_its_row_its_uuid_and_its_seq_once() {
    let server = BodyServer::start(false);
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "orders.csv", &orders_csv(250));
    let path = common::write(
        dir.path(),
        "mix.toml",
        &templated_mix(&server.url, "sequential", OPEN_1000),
    );
    let (results, o) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "--threads", "2"],
        0,
    );
    let out = common::stdout(&o);
    assert!(
        out.contains("250 rows, 3 columns, pick sequential"),
        "the preflight says the source's rows: {out}"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1000);
    // {{seq}}: 0..999, once each.
    let seqs: BTreeSet<u64> = seen.iter().map(seq_of).collect();
    assert_eq!(seqs, (0..1000).collect::<BTreeSet<u64>>());
    let mut by_name: BTreeMap<&str, u64> = BTreeMap::new();
    let mut uuids = BTreeSet::new();
    for s in &seen {
        let k = seq_of(s);
        let row = k % 250;
        let name = match (s.method.as_str(), s.path_and_query.as_str()) {
            ("POST", "/api/orders") => {
                let body: Value = serde_json::from_str(&s.body).unwrap();
                assert_eq!(body["sku"], format!("sku-{row}"), "{body}");
                assert_eq!(body["qty"], row % 7 + 1, "{body}");
                assert_eq!(body["n"], k, "{body}");
                uuids.insert(body["id"].as_str().unwrap().to_string());
                "create order"
            }
            ("GET", p) if p.starts_with("/api/orders?") => {
                // The note's comma, space and quotes arrive percent-encoded in the query.
                assert!(p.contains(&format!("&note=row%20{row}%2C%20fine")), "{p}");
                let page: u64 = p["/api/orders?page=".len()..]
                    .split('&')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=50).contains(&page), "{p}");
                "list orders"
            }
            ("GET", p) => {
                assert_eq!(p, format!("/api/orders/sku-{row}"));
                "get order"
            }
            other => panic!("{other:?}"),
        };
        *by_name.entry(name).or_default() += 1;
    }
    assert_eq!(uuids.len(), 300, "a distinct UUID in every create order");
    assert_eq!(
        by_name,
        [
            ("create order", 300),
            ("get order", 600),
            ("list orders", 100)
        ]
        .into()
    );
    // by_request is what the server counted.
    for (name, count) in &by_name {
        assert_eq!(
            results["by_request"][name]["totals"]["requests"], *count,
            "{name}"
        );
    }
}

#[test]
fn unique_rows_are_read_once_across_shards_and_their_end_is_counted() {
    let server = BodyServer::start(false);
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "orders.csv", &orders_csv(100));
    // 150 planned, 100 rows: 50 are never sent.
    let stage =
        "[[stages]]\nname = \"open\"\nkind = \"constant\"\nrate = 300\nduration = \"500ms\"\n";
    let path = common::write(
        dir.path(),
        "mix.toml",
        &templated_mix(&server.url, "unique", stage),
    );
    let mut exhausted = 0;
    for shard in ["0/3", "1/3", "2/3"] {
        let name = format!("s{}.json", &shard[..1]);
        let (results, _) = common::run_results(
            dir.path(),
            &name,
            &["run", path.to_str().unwrap(), "--shard", shard],
            // Short of its plan: a stage that sent under 90% of what it planned fails.
            1,
        );
        exhausted += results["totals"]["data_exhausted"].as_u64().unwrap_or(0);
    }
    let seen = server.seen();
    assert_eq!(seen.len(), 100, "one request per row");
    assert_eq!(exhausted, 50, "the 50 requests past the last row");
    let rows: BTreeSet<u64> = seen.iter().map(seq_of).collect();
    assert_eq!(rows, (0..100).collect::<BTreeSet<u64>>(), "each row once");
}

#[test]
fn a_retried_templated_request_resends_the_same_uuid_body_and_key() {
    let server = BodyServer::start(true);
    let dir = tempfile::tempdir().unwrap();
    common::write(dir.path(), "orders.csv", &orders_csv(10));
    let stage = "[request]\nidempotency_header = \"idempotency-key\"\n[retry]\nmax_attempts = 2\nbase = \"1ms\"\n[[stages]]\nkind = \"burst\"\nrequests = 20\n";
    let path = common::write(
        dir.path(),
        "mix.toml",
        &templated_mix(&server.url, "sequential", stage),
    );
    common::run_results(dir.path(), "r.json", &["run", path.to_str().unwrap()], 0);
    let seen = server.seen();
    assert_eq!(
        seen.len(),
        40,
        "each of 20 requests throttled once, then ok"
    );
    let mut by_id: BTreeMap<String, Vec<&Seen>> = BTreeMap::new();
    for s in &seen {
        by_id
            .entry(s.headers["x-correlation-id"].clone())
            .or_default()
            .push(s);
    }
    assert_eq!(by_id.len(), 20);
    for (id, attempts) in by_id {
        let [first, second] = attempts[..] else {
            panic!("{id}: {} attempts", attempts.len())
        };
        assert_eq!(first.path_and_query, second.path_and_query, "{id}");
        assert_eq!(first.body, second.body, "{id}");
        assert_eq!(first.headers["x-seq"], second.headers["x-seq"], "{id}");
        assert_eq!(
            first.headers["idempotency-key"], second.headers["idempotency-key"],
            "{id}"
        );
    }
}
