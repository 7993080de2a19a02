//! The emulator on the wire: its answers, its limits, and what it says it did compared
//! with what stampede saw.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::{run_results, stampede, stderr, write};
use stampede_emulator::{self as emulator, ApiMode, EmulatorConfig, HandlerTime};

/// One raw HTTP/1.1 exchange: (status, headers lower-cased, body).
fn exchange(addr: SocketAddr, path: &str) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: emulator\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    (status, headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn tiny(api: ApiMode) -> EmulatorConfig {
    EmulatorConfig {
        api,
        account_concurrency: 10,
        reserved_concurrency: Some(1),
        rate: 1000.0,
        burst: 2,
        cold_start: HandlerTime::Fixed(Duration::ZERO),
        duration: HandlerTime::Fixed(Duration::from_millis(300)),
        ..EmulatorConfig::default()
    }
}

/// Holds the one reserved environment busy, then asks again: a Lambda throttle.
fn lambda_throttled(api: ApiMode) -> (u16, Vec<(String, String)>, String) {
    let em = emulator::start(tiny(api), "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = em.addr;
    let busy = std::thread::spawn(move || exchange(addr, "/orders"));
    // Asked again while the one environment is busy with the first (300 ms).
    while em.stats().in_flight == 0 && !busy.is_finished() {
        std::thread::yield_now();
    }
    let answer = exchange(addr, "/orders");
    assert_eq!(busy.join().unwrap().0, 200);
    answer
}

#[test]
fn rest_throttles_are_the_documented_shapes() {
    let (status, headers, body) = lambda_throttled(ApiMode::Rest);
    assert_eq!(status, 500);
    assert_eq!(body, r#"{"message": "Internal server error"}"#);
    assert!(header(&headers, "x-amzn-requestid").is_some());

    // API Gateway's bucket holds 2: the third request at once is throttled with a 429.
    let em = emulator::start(
        EmulatorConfig {
            rate: 0.5,
            burst: 2,
            duration: HandlerTime::Fixed(Duration::ZERO),
            ..tiny(ApiMode::Rest)
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(exchange(em.addr, "/").0, 200);
    assert_eq!(exchange(em.addr, "/").0, 200);
    let (status, headers, body) = exchange(em.addr, "/");
    assert_eq!(status, 429);
    assert_eq!(body, r#"{"message":"Too Many Requests"}"#);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("TooManyRequestsException")
    );
    assert!(header(&headers, "x-amzn-requestid").is_some());
    let stats = em.stats();
    assert_eq!(
        (
            stats.requests,
            stats.ok,
            stats.throttled_api_gateway_account
        ),
        (3, 2, 1)
    );
}

#[test]
fn http_api_and_function_url_throttles() {
    let (status, headers, body) = lambda_throttled(ApiMode::Http);
    assert_eq!(status, 500);
    assert_eq!(body, r#"{"message":"Internal Server Error"}"#);
    assert!(header(&headers, "apigw-requestid").is_some());

    let (status, headers, body) = lambda_throttled(ApiMode::FunctionUrl);
    assert_eq!(status, 429);
    assert_eq!(
        body,
        r#"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#
    );
    assert_eq!(header(&headers, "retry-after"), Some("1"));
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("TooManyRequestsException")
    );
}

#[test]
fn integration_timeouts() {
    let config = EmulatorConfig {
        integration_timeout: Duration::from_millis(100),
        duration: HandlerTime::Fixed(Duration::from_millis(300)),
        ..tiny(ApiMode::Rest)
    };
    let em = emulator::start(config.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let (status, _, body) = exchange(em.addr, "/");
    assert_eq!(
        (status, body.as_str()),
        (504, r#"{"message": "Endpoint request timed out"}"#)
    );
    // The function still runs: its one environment is busy, so the next request is throttled.
    assert_eq!(exchange(em.addr, "/").0, 500);
    assert_eq!(em.stats().integration_timeouts, 1);

    let em = emulator::start(
        EmulatorConfig {
            api: ApiMode::Http,
            ..config
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let (status, _, body) = exchange(em.addr, "/");
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"message":"Service Unavailable"}"#)
    );
}

/// `error_rate` is the function's, whichever way it is invoked: API Gateway answers a
/// function error as it does on AWS (issue 25: the API Gateway path ignored it).
#[test]
fn function_errors_behind_api_gateway_are_its_answers() {
    let failing = |api| EmulatorConfig {
        error_rate: 1.0,
        duration: HandlerTime::Fixed(Duration::from_millis(1)),
        ..tiny(api)
    };
    let em = emulator::start(failing(ApiMode::Rest), "127.0.0.1:0".parse().unwrap()).unwrap();
    let (status, headers, body) = exchange(em.addr, "/orders");
    assert_eq!(
        (status, body.as_str()),
        (502, r#"{"message": "Internal server error"}"#)
    );
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("InternalServerErrorException")
    );
    let stats = em.stats();
    assert_eq!((stats.function_errors, stats.ok), (1, 0), "{stats:?}");
    let em = emulator::start(failing(ApiMode::Http), "127.0.0.1:0".parse().unwrap()).unwrap();
    let (status, _, body) = exchange(em.addr, "/orders");
    assert_eq!(
        (status, body.as_str()),
        (500, r#"{"message":"Internal Server Error"}"#)
    );
    let em = emulator::start(
        failing(ApiMode::FunctionUrl),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let (status, _, body) = exchange(em.addr, "/orders");
    assert_eq!((status, body.as_str()), (502, "Internal Server Error"));
    assert_eq!(em.stats().function_errors, 1);
}

#[test]
fn what_stampede_saw_is_what_the_emulator_did() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "s.toml",
        r#"
[emulator]
api = "rest"
account_concurrency = 40
reserved_concurrency = 20
rate = 200
burst = 50
cold_start = "100ms"
duration = "20ms..40ms"
seed = 1

[target]
url = "/checkout"

[[stages]]
name = "over the rate"
kind = "constant"
rate = 400
duration = "2s"

[[stages]]
kind = "pause"
duration = "1s"

[[stages]]
name = "over the reservation"
kind = "burst"
requests = 60
"#,
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &["run", scenario.to_str().unwrap(), "--quiet"],
        1,
    );
    // The traffic went past limits the emulator's control plane reported: the check fails.
    assert_eq!(r["quota_check"]["pass"], false);
    let e = &r["emulator"];
    let n = |v: &serde_json::Value| v.as_u64().unwrap();
    assert_eq!(n(&e["requests"]), n(&r["totals"]["requests"]));
    assert_eq!(n(&e["requests"]), 800 + 60);
    // Every 429 the client counted, API Gateway sent; every 500, Lambda's reservation caused.
    assert_eq!(
        n(&e["throttled_api_gateway_account"]),
        n(&r["attempts"]["throttled"])
    );
    assert_eq!(
        n(&e["throttled_lambda_reserved"]),
        n(&r["attempts"]["suspected_lambda_throttles"])
    );
    assert_eq!(
        n(&r["attempts"]["server_errors"]),
        0,
        "each attempt in one class"
    );
    assert_eq!(n(&e["ok"]), n(&r["totals"]["ok"]));
    // The bucket: ~200/s over 2 s plus the burst of 50 got through the first stage.
    let first_ok = n(&r["stages"][0]["totals"]["ok"]) + n(&r["stages"][0]["totals"]["errors"]);
    assert!((420..=470).contains(&first_ok), "admitted {first_ok}");
    // The burst of 60: the bucket (50, refilled by the pause) then the reservation of 20.
    assert_eq!(n(&r["stages"][2]["totals"]["ok"]), 20);
    assert!(n(&e["peak_concurrency"]) <= 20);
    assert!(n(&e["cold_starts"]) <= 20 && n(&e["cold_starts"]) >= 1);
    assert!(r["throttle_onset"]["t_s"].as_u64().is_some());
    // Throttles by kind, per stage and per second, add up to the whole.
    assert_eq!(
        n(&r["throttles"]["api_gateway"]),
        n(&r["attempts"]["throttled"])
    );
    assert_eq!(
        n(&r["attempts"]["suspected_lambda_throttles"]),
        n(&e["throttled_lambda_reserved"])
    );
    let per_stage: u64 = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["throttles"]["api_gateway"].as_u64())
        .sum();
    let per_second: u64 = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["throttles"]["api_gateway"].as_u64())
        .sum();
    assert_eq!(per_stage, n(&r["attempts"]["throttled"]));
    assert_eq!(per_second, n(&r["attempts"]["throttled"]));
}

#[cfg(unix)]
#[test]
fn stampede_emulate_serves_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "e.toml",
        "api = \"function-url\"\nreserved_concurrency = 5\nduration = \"1ms\"\n",
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = common::spawn_watched(common::command(&[
        "emulate",
        "--config",
        config.to_str().unwrap(),
        "--listen",
        &listen,
    ]));
    let addr: SocketAddr = listen.parse().unwrap();
    // It says so once it listens and stops on Ctrl-C.
    child.wait_for_stderr("Ctrl-C stops", Duration::from_secs(30));
    assert_eq!(exchange(addr, "/").0, 200);
    let (status, _, body) = exchange(addr, emulator::STATS_PATH);
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["requests"], 1);
    assert_eq!(stats["cold_starts"], 1);
    child.signal(libc::SIGINT);
    let run = child.finish(Duration::from_secs(30));
    assert_eq!(run.output.status.code(), Some(0));
    let said = String::from_utf8_lossy(&run.output.stderr);
    assert!(
        !said.contains("warning"),
        "loopback is not warned about: {said}"
    );

    let bad = write(dir.path(), "bad.toml", "api = \"rst\"\n");
    let o = stampede(&["emulate", "--config", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.toml:1:7:") && stderr(&o).contains("did you mean `rest`?"),
        "{}",
        stderr(&o)
    );
}

/// `--listen` on an address other machines reach is warned about before it is tried.
/// (192.0.2.1 is TEST-NET-1: never this machine's, so nothing listens and it exits 2.)
#[test]
fn emulate_on_a_non_loopback_address_warns() {
    let o = common::stampede_within(
        &["emulate", "--listen", "192.0.2.1:0"],
        Duration::from_secs(30),
    );
    let e = stderr(&o);
    assert!(
        e.contains("warning: --listen 192.0.2.1:0 is not a loopback address"),
        "{e}"
    );
    assert_eq!(o.status.code(), Some(2), "{e}");
}
