//! The emulator as an API with routes: each route to its own function, API Gateway's
//! precedence, answers that echo the request, and each function's limits its own.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::{read_json, run_results, stampede, stderr, write};
use stampede_emulator::{self as emulator, config};

/// One raw HTTP/1.1 exchange: (status, body).
fn exchange(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: emulator\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// The emulator of settings file `text`, started in this process.
fn start(dir: &std::path::Path, text: &str) -> emulator::RunningEmulator {
    let path = write(dir, "emulator.toml", text);
    let c = config::load(&path).unwrap();
    emulator::start(c, "127.0.0.1:0".parse().unwrap()).unwrap()
}

const PRECEDENCE: &str = r#"
api = "API"
cold_start = "0ms"
duration = "1ms"

[[routes]]
route = "GET /orders/{id}"
function = "by-id"

[[routes]]
route = "GET /orders/special"
function = "special"

[[routes]]
route = "ANY /{proxy+}"
function = "proxy"

[functions.by-id]
answer = { body = 'id {{request.path.id}}' }

[functions.special]
answer = { status = 202, body = 'special' }

[functions.proxy]
answer = { body = 'proxy {{request.path.proxy}} {{request.json./n}}' }
"#;

#[test]
fn a_request_goes_to_the_most_specific_route() {
    let dir = tempfile::tempdir().unwrap();
    for (api, unmatched) in [
        (
            "rest",
            (403, r#"{"message":"Missing Authentication Token"}"#),
        ),
        ("http", (404, r#"{"message":"Not Found"}"#)),
    ] {
        let em = start(dir.path(), &PRECEDENCE.replace("API", api));
        let get = |path: &str| exchange(em.addr, "GET", path, "");
        assert_eq!(get("/orders/42"), (200, "id 42".into()));
        assert_eq!(get("/orders/special"), (202, "special".into()));
        assert_eq!(
            get("/orders/42/items"),
            (200, "proxy orders/42/items ".into())
        );
        assert_eq!(
            exchange(em.addr, "POST", "/orders/special", r#"{"n":7}"#),
            (200, "proxy orders/special 7".into()),
            "the method decides before the path's proxy"
        );
        // The Lambda Invoke API reaches a route's function by its name.
        let invoke = "/2015-03-31/functions/special/invocations";
        assert_eq!(exchange(em.addr, "POST", invoke, "{}").0, 200);
        let special = em
            .stats()
            .functions
            .into_iter()
            .find(|f| f.name == "special");
        assert_eq!(special.unwrap().invocations, 2, "{api}");
        // The stage's name in front, as in an execute-api URL.
        assert_eq!(get("/prod/orders/7"), (200, "id 7".into()));
        let (status, body) = get("/");
        assert_eq!((status, body.as_str()), unmatched, "{api}");
        let s = em.stats();
        assert_eq!((s.requests, s.unmatched, s.invocations_direct), (7, 1, 1));
        let by_route: Vec<(String, u64)> =
            s.routes.iter().map(|r| (r.route.clone(), r.ok)).collect();
        assert_eq!(
            by_route,
            [
                ("GET /orders/{id}".to_string(), 2),
                ("GET /orders/special".to_string(), 1),
                ("ANY /{proxy+}".to_string(), 2)
            ]
        );
    }
}

#[test]
fn only_the_function_past_its_reservation_throttles() {
    let dir = tempfile::tempdir().unwrap();
    let em = start(
        dir.path(),
        r#"
account_concurrency = 200
cold_start = "0ms"
duration = "2ms"

[[routes]]
route = "POST /login"
function = "login"

[[routes]]
route = "POST /orders"
function = "orders-create"

[[routes]]
route = "GET /orders/{id}"
function = "orders-get"

[functions.login]

[functions.orders-create]
reserved_concurrency = 3
duration = "150ms"

[functions.orders-get]
reserved_concurrency = 50
"#,
    );
    let scenario = write(
        dir.path(),
        "s.toml",
        r#"
[target]
url = "http://127.0.0.1/"

[[requests]]
name = "login"
method = "POST"
path = "/login"

[[requests]]
name = "create"
method = "POST"
path = "/orders"

[[requests]]
name = "get"
path = "/orders/{{seq}}"

[[stages]]
kind = "constant"
rate = 150
duration = "2s"
"#,
    );
    let url = format!("http://{}", em.addr);
    let out = dir.path().join("r.json");
    let o = stampede(&[
        "run",
        scenario.to_str().unwrap(),
        "--url",
        &url,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let r = read_json(&out);
    let s = em.stats();
    assert_eq!(s.requests, r["totals"]["requests"].as_u64().unwrap());
    let function = |name: &str| s.functions.iter().find(|f| f.name == name).unwrap();
    let route = |name: &str| s.routes.iter().find(|r| r.route == name).unwrap();
    // 50/s × 150 ms is 7.5 in flight against a reservation of 3.
    let create = function("orders-create");
    assert!(create.throttled_reserved > 0, "{create:?}");
    assert!(create.peak_concurrency <= 3);
    assert_eq!(
        route("POST /orders").throttled_lambda,
        create.throttled_reserved
    );
    for (name, path) in [("login", "POST /login"), ("orders-get", "GET /orders/{id}")] {
        let f = function(name);
        assert_eq!(
            (
                f.throttled_reserved,
                f.throttled_account,
                f.throttled_scaling
            ),
            (0, 0, 0),
            "{f:?}"
        );
        let rt = route(path);
        assert_eq!((rt.throttled_lambda, rt.ok), (0, rt.requests), "{rt:?}");
        assert!(rt.requests > 50, "{rt:?}");
    }
    assert_eq!(s.throttled_lambda_reserved, create.throttled_reserved);
    let peaks: u64 = s.functions.iter().map(|f| f.peak_concurrency).sum();
    assert!(s.peak_concurrency >= create.peak_concurrency && s.peak_concurrency <= peaks);
    assert_eq!(
        r["attempts"]["suspected_lambda_throttles"]
            .as_u64()
            .unwrap(),
        create.throttled_reserved
    );
}

#[test]
fn a_login_and_order_flow_runs_offline() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "orders.toml",
        r#"
name = "orders offline"
seed = 7

[emulator]
cold_start = "0ms"
duration = "2ms"

[[emulator.routes]]
route = "POST /login"
function = "login"

[[emulator.routes]]
route = "POST /orders"
function = "orders-create"

[[emulator.routes]]
route = "GET /orders/{id}"
function = "orders-get"

[emulator.functions.login]
answer = { body = '{"token":"{{request.id}}"}' }

[emulator.functions.orders-create]
answer = { status = 201, body = '{"id":"{{request.json./orderId}}"}' }

[emulator.functions.orders-get]
answer = { body = '{"id":"{{request.path.id}}"}' }

[target]
url = "/"
headers = { content-type = "application/json" }

[[requests]]
name = "login"
method = "POST"
path = "/login"
body = '{"user":"user-{{seq}}@example.com"}'
expect = { status = [200] }
capture = { token = "json:/token" }

[[requests]]
name = "create order"
method = "POST"
path = "/orders"
headers = { authorization = "Bearer {{captured.token}}" }
body = '{"orderId":"{{uuid}}","qty":{{random_int 1 5}}}'
expect = { status = [201] }
capture = { id = "json:/id" }

[[requests]]
name = "get order"
path = "/orders/{{captured.id}}"
headers = { authorization = "Bearer {{captured.token}}" }
expect = { status = [200], body = "\"id\":\"" }

[[flows]]
name = "buy"
steps = ["login", "create order", "get order"]

[[stages]]
kind = "constant"
rate = 20
duration = "1s"
"#,
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &["run", scenario.to_str().unwrap(), "--quiet"],
        0,
    );
    let buy = &r["by_flow"]["buy"];
    assert_eq!(buy["failed"], 0, "{buy}");
    assert!(buy["completed"].as_u64().unwrap() >= 15, "{buy}");
}

#[test]
fn a_bad_route_is_exit_2_at_its_place_with_the_functions_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.toml",
        "[[routes]]\nroute = \"POST /orders\"\nfunction = \"orders-craete\"\n\n[functions.orders-create]\n[functions.orders-get]\n",
    );
    let o = stampede(&["emulate", "--config", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("bad.toml:3:12: unknown function `orders-craete`"),
        "{e}"
    );
    assert!(e.contains("orders-create, orders-get"), "{e}");
}
