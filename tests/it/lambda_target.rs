//! A Lambda function as the target (`kind = "lambda"`, `--lambda`): the Invoke API on the
//! load path, signed for `lambda`, against a stand-in written here (answers recorded from
//! AWS: headers, bodies, REPORT lines) and against the built-in emulator, whose counts
//! the client's must equal.

use crate::common;

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::{
    aws_command, read_json, run_bounded, stderr, stdout, write, TestServer, DEFAULT_LIMIT,
};

fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn log_result(report: &str) -> &'static str {
    let log = format!(
        "START RequestId: 6f7d5f44-2c5b-4d38-9d0f-4a0a8d0c1e11 Version: $LATEST\n\
         2026-11-28T03:00:00.000Z\t6f7d5f44-2c5b-4d38-9d0f-4a0a8d0c1e11\tINFO\torder accepted\n\
         END RequestId: 6f7d5f44-2c5b-4d38-9d0f-4a0a8d0c1e11\n{report}\n"
    );
    leak(base64::engine::general_purpose::STANDARD.encode(log))
}

/// The secret the tests sign with: it must appear nowhere stampede writes.
const SECRET: &str = "stand-in-secret-never-print-me";

/// Eight answers, as Lambda's Invoke API gives them, in a cycle: a cold start, two warm
/// invocations, an error with a type, a timeout (no type), two throttles, a service error.
fn recorded_answers() -> Vec<common::FullReply> {
    let ok = |report: &str| -> common::FullReply {
        (
            200,
            vec![
                ("content-type", "application/json"),
                ("x-amz-executed-version", "$LATEST"),
                ("x-amzn-remapped-content-length", "0"),
                ("x-amz-log-result", log_result(report)),
            ],
            r#"{"statusCode":200,"body":"{\"accepted\":true}"}"#,
        )
    };
    let failed = |report: &str, body: &'static str| -> common::FullReply {
        (
            200,
            vec![
                ("content-type", "application/json"),
                ("x-amz-executed-version", "$LATEST"),
                ("x-amz-function-error", "Unhandled"),
                ("x-amz-log-result", log_result(report)),
            ],
            body,
        )
    };
    let throttle = |reason: &str| -> common::FullReply {
        (
            429,
            vec![
                ("content-type", "application/json"),
                ("x-amzn-errortype", "TooManyRequestsException"),
                ("retry-after", "1"),
            ],
            leak(format!(
                r#"{{"Reason":"{reason}","Type":"User","message":"Rate Exceeded."}}"#
            )),
        )
    };
    vec![
        ok("REPORT RequestId: 0a61c5f4-1b1e-4b5e-9a7c-000000000001\tDuration: 102.25 ms\tBilled Duration: 400 ms\tMemory Size: 1769 MB\tMax Memory Used: 70 MB\tInit Duration: 297.02 ms\t"),
        ok("REPORT RequestId: 0a61c5f4-1b1e-4b5e-9a7c-000000000002\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 1769 MB\tMax Memory Used: 71 MB\t"),
        ok("REPORT RequestId: 0a61c5f4-1b1e-4b5e-9a7c-000000000003\tDuration: 0.87 ms\tBilled Duration: 1 ms\tMemory Size: 1769 MB\tMax Memory Used: 71 MB\t"),
        failed(
            "REPORT RequestId: 0a61c5f4-1b1e-4b5e-9a7c-000000000004\tDuration: 5.10 ms\tBilled Duration: 6 ms\tMemory Size: 1769 MB\tMax Memory Used: 72 MB\t",
            r#"{"errorType":"TypeError","errorMessage":"Cannot read properties of undefined (reading 'sku')","trace":["TypeError: Cannot read properties of undefined (reading 'sku')","    at Runtime.handler (file:///var/task/index.mjs:3:21)"]}"#,
        ),
        failed(
            "REPORT RequestId: 0a61c5f4-1b1e-4b5e-9a7c-000000000005\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 1769 MB\tMax Memory Used: 72 MB\tStatus: timeout",
            r#"{"errorMessage":"2026-11-28T03:00:03.000Z 0a61c5f4-1b1e-4b5e-9a7c-000000000005 Task timed out after 3.00 seconds"}"#,
        ),
        throttle("ReservedFunctionConcurrentInvocationLimitExceeded"),
        throttle("CallerRateLimitExceeded"),
        (
            500,
            vec![
                ("content-type", "application/json"),
                ("x-amzn-errortype", "ServiceException"),
            ],
            r#"{"Type":"Service","message":"An internal error occurred"}"#,
        ),
    ]
}

/// What the stand-in saw of each request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path_and_query: String,
    headers: Vec<(String, String)>,
}

/// `stampede run --lambda FUNCTION --url ENDPOINT` with `load` flags and the keys
/// `(id, secret)`; limits from a file and no CloudWatch (a stand-in answers only Invoke).
/// Returns the results, the output, and the results file's text.
fn run_lambda_flag(
    function: &str,
    endpoint: &str,
    load: &[&str],
    (key_id, secret): (&str, &str),
) -> (serde_json::Value, std::process::Output, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let quotas = write(dir, "quotas.toml", "lambda_concurrent_executions = 1000\n");
    let out = dir.join("results.json");
    let mut args = vec!["run", "--lambda", function, "--url", endpoint];
    args.extend(load);
    args.extend([
        "--quotas",
        quotas.to_str().unwrap(),
        "--no-cloudwatch",
        "--out",
        out.to_str().unwrap(),
    ]);
    let env = [
        ("AWS_ACCESS_KEY_ID", key_id),
        ("AWS_SECRET_ACCESS_KEY", secret),
    ];
    let o = run_bounded(aws_command(dir, &args, &env), DEFAULT_LIMIT).output;
    // Throttles and errors fail the run's checks (exit 1), never the run itself.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    (read_json(&out), o, std::fs::read_to_string(&out).unwrap())
}

#[test]
fn a_stand_in_lambdas_answers_are_read_as_aws_means_them() {
    let answers = recorded_answers();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = Arc::clone(&seen);
    let server = TestServer::start_full(move |a| {
        log.lock().unwrap().push(Seen {
            method: a.method.to_string(),
            path_and_query: a.uri.path_and_query().unwrap().to_string(),
            headers: a
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect(),
        });
        answers[a.index as usize % answers.len()].clone()
    });
    let arn = "arn:aws:lambda:us-west-2:123456789012:function:orders";
    let (r, o, written) = run_lambda_flag(
        &format!("{arn}:live"),
        &server.url(),
        &["--burst", "80"],
        ("AKIDSTANDIN", SECRET),
    );
    let a = &r["attempts"];
    assert_eq!(u(&a["sent"]), 80);
    assert_eq!(u(&a["ok"]), 30, "{a}");
    assert_eq!(u(&a["function_errors"]), 20);
    assert_eq!(u(&a["throttled"]), 20);
    assert_eq!(u(&a["server_errors"]), 10);
    assert_eq!(u(&r["throttles"]["lambda_reserved_concurrency"]), 10);
    assert_eq!(u(&r["throttles"]["lambda_caller_rate"]), 10);
    let l = &r["lambda"];
    assert_eq!(l["function"], arn);
    assert_eq!(l["qualifier"], "live");
    assert_eq!(l["region"], "us-west-2");
    assert_eq!(u(&l["invocations"]), 50, "ok + function errors ran");
    assert_eq!(u(&l["reports"]), 50);
    assert_eq!(u(&l["cold_starts"]), 10);
    assert_eq!(l["function_errors"]["TypeError"], 10);
    assert_eq!(
        l["function_errors"]["Unhandled"], 10,
        "no errorType: the header's"
    );
    // By hand: each cycle bills 400 + 13 + 1 + 6 + 3000 ms at 1769 MB.
    assert_eq!(u(&l["billed_ms_total"]), 10 * 3420);
    assert_eq!(u(&l["mb_ms"]), 10 * 3420 * 1769);
    let gb_s = 10.0 * 3420.0 * 1769.0 / 1024.0 / 1000.0;
    assert!((l["gb_seconds"].as_f64().unwrap() - gb_s).abs() < 1e-9);
    assert_eq!(u(&l["memory_mb"]), 1769);
    assert_eq!(u(&l["max_memory_used_mb"]), 72);
    assert!((l["init_ms"]["max"].as_f64().unwrap() - 297.02).abs() < 0.3);
    let cost = &l["cost"];
    assert_eq!(cost["architecture"], "x86_64");
    assert_eq!(l["architecture_source"], "assumed (not read)");
    let expected = 50.0 * 0.20 / 1e6 + gb_s * 0.000_016_666_7;
    assert!((cost["total_usd"].as_f64().unwrap() - expected).abs() < 1e-12);
    let cold = l["cold_start_requests"].as_array().unwrap();
    assert_eq!(cold.len(), 10);
    assert_eq!(
        cold[0]["request_id"],
        "0a61c5f4-1b1e-4b5e-9a7c-000000000001"
    );

    // Each request: POST of the SDK's path, signed for lambda in the ARN's region.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 80);
    for s in seen.iter() {
        assert_eq!(s.method, "POST");
        assert_eq!(
            s.path_and_query,
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A123456789012%3Afunction%3Aorders/invocations?Qualifier=live"
        );
        let h = |n: &str| {
            s.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {n} header"))
        };
        assert_eq!(h("x-amz-invocation-type"), "RequestResponse");
        assert_eq!(h("x-amz-log-type"), "Tail");
        let auth = h("authorization");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDSTANDIN/")
                && auth.contains("/us-west-2/lambda/aws4_request"),
            "{auth}"
        );
        assert!(
            auth.contains("x-amz-invocation-type;x-amz-log-type"),
            "{auth}"
        );
    }
    // The secret is nowhere: not in the output, not in the results.
    for text in [stdout(&o), stderr(&o), written] {
        assert!(!text.contains(SECRET));
    }
    // The summary says what happened.
    let summary = stdout(&o);
    assert!(summary.contains("cold starts 10 (20.0%)"), "{summary}");
    assert!(
        summary.contains("function errors: TypeError 10 · Unhandled 10"),
        "{summary}"
    );
}

/// Runs a scenario on the in-process emulator (`emulator` keys) with a lambda target
/// (`target` keys) and `stages`; returns the results and the summary.
pub fn run_emulated(emulator: &str, target: &str, stages: &str) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "lambda.toml",
        &format!("[emulator]\n{emulator}\n[target]\nkind = \"lambda\"\n{target}\n{stages}"),
    );
    let out = dir.path().join("results.json");
    let run = run_bounded(
        aws_command(
            dir.path(),
            &[
                "run",
                scenario.to_str().unwrap(),
                "--no-cloudwatch",
                "--out",
                out.to_str().unwrap(),
            ],
            &[],
        ),
        DEFAULT_LIMIT,
    );
    let o = run.output;
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    (read_json(&out), stdout(&o))
}

#[test]
fn cold_starts_and_init_times_equal_the_emulators() {
    let (r, summary) = run_emulated(
        "warm = 20\ncold_start = \"120ms..240ms\"\nduration = \"20ms..40ms\"\nmemory = 1769\nseed = 3",
        "function = \"emulated-function\"",
        "[[stages]]\nname = \"warm\"\nkind = \"concurrency\"\nworkers = 10\nduration = \"300ms\"\n\
         [[stages]]\nname = \"burst\"\nkind = \"burst\"\nrequests = 200\n",
    );
    let e = &r["emulator"];
    let l = &r["lambda"];
    assert_eq!(u(&l["cold_starts"]), u(&e["cold_starts"]), "{l}");
    assert!(u(&l["cold_starts"]) >= 150, "200 released on 20 warm: {l}");
    assert_eq!(u(&l["reports"]), u(&r["attempts"]["ok"]));
    assert_eq!(u(&l["reports"]), u(&e["invocations_direct"]));
    // Per stage and per second, the same cold starts.
    let by_stage: u64 = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| u(&s["lambda"]["cold_starts"]))
        .sum();
    assert_eq!(by_stage, u(&l["cold_starts"]));
    let by_second: u64 = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["cold_starts"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(by_second, u(&l["cold_starts"]));
    // Init within the configured range (the histogram keeps 3 significant digits).
    let init = stampede::record::decode(l["histograms"]["init"].as_str().unwrap()).unwrap();
    assert!(init.min() as f64 >= 119_000.0, "{}", init.min());
    assert!(init.max() as f64 <= 241_000.0, "{}", init.max());
    assert!(e["init_ms_min"].as_f64().unwrap() >= 120.0);
    // Billed time includes init on cold starts, rounded up: at least the sum of both.
    assert_eq!(u(&l["memory_mb"]), 1769);
    let billed = u(&l["billed_ms_total"]) as f64;
    let floor = l["duration_ms"]["mean"].as_f64().unwrap() * u(&l["reports"]) as f64
        + l["init_ms"]["mean"].as_f64().unwrap() * u(&l["cold_starts"]) as f64;
    assert!(billed >= floor * 0.99 && billed <= floor + 2.0 * u(&l["reports"]) as f64);
    assert!(summary.contains("Lambda emulated-function"), "{summary}");
}

#[test]
fn throttles_by_reason_and_function_errors_equal_the_emulators() {
    let (r, _) = run_emulated(
        "reserved_concurrency = 30\nduration = \"150ms\"\ncold_start = \"50ms\"\nerror_rate = 0.2\nseed = 11",
        "function = \"emulated-function\"\npayload = '{\"sku\":\"A-1\"}'",
        "[[stages]]\nname = \"burst\"\nkind = \"burst\"\nrequests = 120\n",
    );
    let e = &r["emulator"];
    assert_eq!(
        u(&r["throttles"]["lambda_reserved_concurrency"]),
        u(&e["throttled_lambda_reserved"])
    );
    assert!(u(&e["throttled_lambda_reserved"]) >= 60, "{e}");
    assert_eq!(
        u(&r["attempts"]["function_errors"]),
        u(&e["function_errors"])
    );
    assert!(u(&e["function_errors"]) > 0);
    assert_eq!(
        r["lambda"]["function_errors"]["EmulatedError"],
        e["function_errors"]
    );
    // Throttled invocations are not billed: invocations = ok + function errors.
    assert_eq!(
        u(&r["lambda"]["invocations"]),
        u(&r["attempts"]["ok"]) + u(&r["attempts"]["function_errors"])
    );
    assert_eq!(r["quota_check"]["preflight"]["front"], "lambda-invoke");
}

#[test]
fn the_scaling_rate_throttles_with_its_own_reason() {
    let (r, _) = run_emulated(
        "scaling = { environments = 40, per = \"10s\" }\nduration = \"100ms\"\ncold_start = \"20ms\"",
        "function = \"emulated-function\"",
        "[[stages]]\nname = \"burst\"\nkind = \"burst\"\nrequests = 100\n",
    );
    let e = &r["emulator"];
    assert_eq!(u(&e["throttled_lambda_scaling"]), 60);
    assert_eq!(u(&r["throttles"]["lambda_invocation_rate"]), 60);
    assert_eq!(u(&r["lambda"]["cold_starts"]), 40);
}

#[test]
fn event_invocations_count_202s_and_bill_no_report() {
    let (r, summary) = run_emulated(
        "duration = \"10ms\"",
        "function = \"emulated-function\"\ninvocation = \"event\"",
        "[[stages]]\nname = \"events\"\nkind = \"constant\"\nrate = 100\nduration = \"500ms\"\n",
    );
    assert_eq!(u(&r["attempts"]["ok"]), 50);
    let l = &r["lambda"];
    assert_eq!(l["invocation"], "event");
    assert_eq!(l["log_tail"], false);
    assert_eq!(u(&l["reports"]), 0);
    assert_eq!(u(&l["invocations"]), 50);
    assert!(l["cost_note"].as_str().unwrap().contains("0 of 50"), "{l}");
    assert!(summary.contains("event"), "{summary}");
}

#[test]
fn bad_lambda_targets_are_told_where_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "kind = \"lambda\"\nurl = \"https://x\"\nfunction = \"f\"",
            "`url` is not a key of a lambda target",
        ),
        ("kind = \"lambda\"", "a lambda target without function"),
        (
            "kind = \"lambda\"\nfunction = \"bad/name\"",
            "is not a function name",
        ),
        (
            "kind = \"lambda\"\nfunction = \"f\"\ninvocation = \"async\"",
            "invocation",
        ),
        (
            "kind = \"lambda\"\nfunction = \"f\"\ninvocation = \"event\"\nlog_tail = true",
            "no log tail for event",
        ),
        (
            "url = \"https://x\"\nfunction = \"f\"",
            "`function` is a key of a lambda target",
        ),
        ("kind = \"grpc\"\nurl = \"https://x\"", "target kind"),
    ];
    for (target, expected) in cases {
        let path = write(
            dir.path(),
            "bad.toml",
            &format!("[target]\n{target}\n[[stages]]\nkind = \"burst\"\nrequests = 1\n"),
        );
        let o = run_bounded(
            aws_command(
                dir.path(),
                &["plan", path.to_str().unwrap()],
                &[("AWS_REGION", "us-east-1")],
            ),
            DEFAULT_LIMIT,
        )
        .output;
        assert_eq!(o.status.code(), Some(2), "{target}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(expected), "{target}: {err}");
        assert!(
            err.contains("bad.toml:"),
            "{target}: names the file and line: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // No region anywhere: said, with the ways to give one.
    let path = write(
        dir.path(),
        "noregion.toml",
        "[target]\nkind = \"lambda\"\nfunction = \"f\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n",
    );
    let o = run_bounded(
        aws_command(dir.path(), &["plan", path.to_str().unwrap()], &[]),
        DEFAULT_LIMIT,
    )
    .output;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no region for the function"),
        "{}",
        stderr(&o)
    );
}

/// The SigV4 signature a request should carry, recomputed from what the server received
/// (the headers its `SignedHeaders` names, its time, its body) with the known secret.
fn expected_signature(r: &stampede_emulator::RecordedRequest, secret: &str) -> (String, String) {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let auth = r.header("authorization").expect("signed");
    let field = |name: &str| {
        auth.split([',', ' '])
            .find_map(|p| p.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {auth}"))
            .to_string()
    };
    let credential = field("Credential=");
    let scope: Vec<&str> = credential.split('/').collect();
    let (key_id, region, service) = (scope[0], scope[2], scope[3]);
    let signed = field("SignedHeaders=");
    let date = r.header("x-amz-date").unwrap();
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[0..4],
        &date[4..6],
        &date[6..8],
        &date[9..11],
        &date[11..13],
        &date[13..15]
    );
    let time = humantime::parse_rfc3339(&rfc3339).unwrap();
    let identity =
        aws_credential_types::Credentials::new(key_id, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers: Vec<(&str, &str)> = signed
        .split(';')
        .map(|n| (n, r.header(n).unwrap_or_else(|| panic!("no {n}"))))
        .collect();
    let url = format!(
        "http://{}{}{}{}",
        r.header("host").unwrap(),
        r.path,
        if r.query.is_empty() { "" } else { "?" },
        r.query
    );
    let signable = SignableRequest::new(
        &r.method,
        url,
        headers.into_iter(),
        SignableBody::Bytes(&r.body),
    )
    .unwrap();
    let (_, signature) = sign(signable, &params).unwrap().into_parts();
    (signature, field("Signature="))
}

/// Over HTTP/2 (h2c to the emulator) an Invoke is signed as over HTTP/1.1 (`host` from
/// `:authority`), and its answers' function errors and REPORT lines are read the same way.
#[test]
fn an_invoke_over_http2_is_signed_and_its_answers_read_as_over_http1() {
    const SECRET2: &str = "h2-secret-never-print-me";
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:emulated-function";
    let em = common::start_emulator(stampede_emulator::EmulatorConfig {
        error_rate: 0.5,
        ..stampede_emulator::EmulatorConfig::default()
    });
    let endpoint = format!("http://{}", em.addr);
    let (r, o, written) = run_lambda_flag(
        arn,
        &endpoint,
        &["--http2", "--burst", "20", "--body", r#"{"sku":"A-1"}"#],
        ("AKIDH2", SECRET2),
    );
    assert_eq!(r["target"]["http"], "2", "{}", r["target"]);
    let sent = em.invoke_requests();
    assert_eq!(sent.len(), 20, "{}", stderr(&o));
    for req in &sent {
        assert!(
            req.headers.iter().all(|(n, _)| n != "connection"),
            "no connection-specific header over HTTP/2"
        );
        let (expected, carried) = expected_signature(req, SECRET2);
        assert_eq!(carried, expected, "stampede's signature over HTTP/2");
        assert_eq!(req.body, br#"{"sku":"A-1"}"#);
    }
    let a = &r["attempts"];
    assert_eq!(u(&a["ok"]) + u(&a["function_errors"]), 20, "{a}");
    assert!(u(&a["function_errors"]) > 0, "{a}");
    assert_eq!(u(&r["lambda"]["reports"]), 20, "every REPORT line read");
    assert!(!written.contains(SECRET2));
}

#[test]
fn the_aws_sdk_and_stampede_sign_the_same_invoke_and_read_the_same_answer() {
    use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{InvocationType, LogType};
    use stampede_lambda::ReportLine;

    const SECRET2: &str = "agreement-secret-never-print-me";
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:emulated-function";
    let payload = r#"{"sku":"A-1","qty":2}"#;
    for error_rate in [0.0, 1.0] {
        let em = common::start_emulator(stampede_emulator::EmulatorConfig {
            memory_mb: 1769,
            error_rate,
            ..stampede_emulator::EmulatorConfig::default()
        });
        let endpoint = format!("http://{}", em.addr);
        // The SDK's Invoke, as a user of it would call it.
        let sdk = tokio::runtime::Runtime::new().unwrap().block_on(async {
            let config = aws_sdk_lambda::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .http_client(stampede::aws::http_client())
                .endpoint_url(&endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("AKIDAGREE", SECRET2, None, None, "test"))
                .build();
            aws_sdk_lambda::Client::from_conf(config)
                .invoke()
                .function_name(arn)
                .qualifier("live")
                .invocation_type(InvocationType::RequestResponse)
                .log_type(LogType::Tail)
                .payload(Blob::new(payload))
                .send()
                .await
                .unwrap()
        });
        // stampede's, one request on its load path.
        let (r, o, written) = run_lambda_flag(
            &format!("{arn}:live"),
            &endpoint,
            &["--burst", "1", "--body", payload],
            ("AKIDAGREE", SECRET2),
        );

        // The same request on the wire.
        let sent = em.invoke_requests();
        assert_eq!(sent.len(), 2, "the SDK's and stampede's");
        let (theirs, ours) = (&sent[0], &sent[1]);
        assert_eq!(ours.method, theirs.method);
        assert_eq!(
            ours.path, theirs.path,
            "the ARN encoded as the SDK encodes it"
        );
        assert!(ours.path.contains("%3A"), "{}", ours.path);
        assert_eq!(ours.query, theirs.query);
        assert_eq!(ours.body, theirs.body);
        for name in [
            "host",
            "content-type",
            "x-amz-invocation-type",
            "x-amz-log-type",
        ] {
            assert_eq!(ours.header(name), theirs.header(name), "{name}");
        }
        // Each signature is what SigV4 gives for what arrived: the SDK's proves the check
        // right, stampede's then proves stampede right.
        for (who, req) in [("the SDK", theirs), ("stampede", ours)] {
            let (expected, carried) = expected_signature(req, SECRET2);
            assert_eq!(carried, expected, "{who}'s signature");
        }
        let scope = |req: &stampede_emulator::RecordedRequest| {
            let a = req.header("authorization").unwrap();
            let c = a
                .split("Credential=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap();
            let parts: Vec<&str> = c.split('/').collect();
            (
                parts[0].to_string(),
                parts[2].to_string(),
                parts[3].to_string(),
            )
        };
        assert_eq!(scope(ours), scope(theirs));

        // The same answer read: status, function error, REPORT line.
        assert_eq!(sdk.status_code(), 200);
        let report = ReportLine::from_log_result(sdk.log_result().unwrap().as_bytes()).unwrap();
        let l = &r["lambda"];
        assert_eq!(u(&l["memory_mb"]), report.memory_mb);
        assert_eq!(u(&l["reports"]), 1);
        // The SDK's call found no environment; stampede's found the one it left warm.
        assert!(report.cold());
        assert_eq!(u(&l["cold_starts"]), 0);
        assert_eq!(em.stats().cold_starts, 1);
        if error_rate > 0.0 {
            assert_eq!(sdk.function_error(), Some("Unhandled"));
            let body = sdk.payload().unwrap().as_ref();
            let error_type = stampede_lambda::report_line::error_type(body).unwrap();
            assert_eq!(l["function_errors"][&error_type], 1);
            assert_eq!(u(&r["attempts"]["function_errors"]), 1);
        } else {
            assert_eq!(sdk.function_error(), None);
            assert_eq!(u(&r["attempts"]["ok"]), 1);
        }
        assert!(!written.contains(SECRET2) && !stdout(&o).contains(SECRET2));
    }
}

#[test]
fn a_slowdown_grows_the_handler_time_with_what_is_in_flight() {
    // 40 workers on a handler of 20 ms that slows 5 ms for each invocation past 10.
    let (r, _) = run_emulated(
        "duration = \"20ms\"\ncold_start = \"0ms\"\nslowdown = { past = 10, add = \"5ms\" }",
        "function = \"emulated-function\"",
        "[[stages]]\nname = \"closed\"\nkind = \"concurrency\"\nworkers = 40\nduration = \"1s\"\n",
    );
    let d = &r["lambda"]["duration_ms"];
    let (p50, max) = (d["p50"].as_f64().unwrap(), d["max"].as_f64().unwrap());
    // At most 40 in flight: at most 20 + 5 × 30 ms; mostly near it.
    assert!(max <= 170.2, "{d}");
    assert!(p50 >= 100.0, "{d}");
    let (calm, _) = run_emulated(
        "duration = \"20ms\"\ncold_start = \"0ms\"",
        "function = \"emulated-function\"",
        "[[stages]]\nname = \"closed\"\nkind = \"concurrency\"\nworkers = 40\nduration = \"1s\"\n",
    );
    assert!((calm["lambda"]["duration_ms"]["max"].as_f64().unwrap() - 20.0).abs() < 0.1);
}
