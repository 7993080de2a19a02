//! `invocation = "stream"`: Lambda's InvokeWithResponseStream. The emulator's event stream
//! read by the real AWS SDK for Rust (so the emulator speaks the format AWS does), then
//! stampede's runs against it: requests, REPORT lines, throttles and function errors equal
//! to the emulator's counts, and the time to first byte the first payload's.
//! (moto has no InvokeWithResponseStream — no `response-streaming-invocations` route in
//! moto 5.2.5 — so there is no moto test here.)

use crate::common;

use std::time::Duration;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::operation::invoke_with_response_stream::InvokeWithResponseStreamError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvokeWithResponseStreamResponseEvent as Event, LogType};
use common::{aws_command, read_json, run_bounded, stderr, stdout, write, DEFAULT_LIMIT};
use stampede_emulator::invoke_api::{ERROR_PAYLOAD, OK_PAYLOAD};
use stampede_emulator::{EmulatorConfig, HandlerTime, RunningEmulator};
use stampede_lambda::ReportLine;

const FUNCTION: &str = "emulated-function";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The SDK aimed at the emulator, no retries (every throttle seen once).
fn lambda(em: &RunningEmulator) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(stampede::aws::http_client())
        .endpoint_url(format!("http://{}", em.addr))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDEXAMPLE", "secret", None, None, "t"))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// What the SDK read of one stream: the payload chunks joined, and InvokeComplete's
/// (error code, error details, log result).
type Read = (Vec<u8>, (Option<String>, Option<String>, Option<String>));

async fn invoke(client: &aws_sdk_lambda::Client) -> Result<Read, InvokeWithResponseStreamError> {
    let mut out = client
        .invoke_with_response_stream()
        .function_name(FUNCTION)
        .log_type(LogType::Tail)
        .payload(Blob::new(r#"{"order":1}"#))
        .send()
        .await
        .map_err(|e| e.into_service_error())?;
    assert_eq!(out.status_code(), 200);
    assert_eq!(
        out.response_stream_content_type(),
        Some("application/vnd.amazon.eventstream")
    );
    assert_eq!(out.executed_version(), Some("$LATEST"));
    let (mut payload, mut complete) = (Vec::new(), None);
    while let Some(event) = out.event_stream.recv().await.expect("a valid event stream") {
        match event {
            Event::PayloadChunk(chunk) => {
                assert!(complete.is_none(), "no chunk after InvokeComplete");
                payload.extend_from_slice(chunk.payload().expect("bytes").as_ref());
            }
            Event::InvokeComplete(c) => {
                assert!(complete.is_none(), "one InvokeComplete");
                complete = Some((
                    c.error_code().map(str::to_string),
                    c.error_details().map(str::to_string),
                    c.log_result().map(str::to_string),
                ));
            }
            other => panic!("an event the emulator does not send: {other:?}"),
        }
    }
    Ok((
        payload,
        complete.expect("the stream ends with InvokeComplete"),
    ))
}

#[tokio::test]
async fn the_aws_sdk_reads_the_emulators_stream() {
    let em = common::start_emulator(EmulatorConfig {
        cold_start: HandlerTime::Fixed(ms(60)),
        duration: HandlerTime::Fixed(ms(20)),
        memory_mb: 512,
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    let (payload, (code, details, log)) = invoke(&client).await.unwrap();
    assert_eq!(payload, OK_PAYLOAD.as_bytes(), "the function's answer");
    assert_eq!((code, details), (None, None));
    let report = ReportLine::from_log_result(log.expect("Tail asked").as_bytes()).unwrap();
    assert!(report.cold(), "the first invocation starts cold");
    assert!(report.duration_ms >= 20.0, "{}", report.duration_ms);
    assert_eq!(report.memory_mb, 512);
    let warm = invoke(&client).await.unwrap();
    let report = ReportLine::from_log_result(warm.1 .2.unwrap().as_bytes()).unwrap();
    assert!(!report.cold());
    let s = em.stats();
    assert_eq!((s.invocations_direct, s.ok, s.cold_starts), (2, 2, 1));
    // What the SDK sent: the stream's path, RequestResponse, the tail asked for.
    let sent = em.invoke_requests();
    assert_eq!(
        sent[0].path,
        "/2021-11-15/functions/emulated-function/response-streaming-invocations"
    );
    assert_eq!(sent[0].header("x-amz-log-type"), Some("Tail"));
}

#[tokio::test]
async fn the_aws_sdk_reads_a_function_error_and_a_throttle() {
    let em = common::start_emulator(EmulatorConfig {
        duration: HandlerTime::Fixed(ms(300)),
        error_rate: 1.0,
        reserved_concurrency: Some(1),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    let (first, second) = tokio::join!(invoke(&client), async {
        // The first holds the one environment until its stream ends.
        tokio::time::sleep(ms(100)).await;
        invoke(&client).await
    });
    let (payload, (code, details, log)) = first.unwrap();
    assert!(payload.is_empty(), "a failed function streams no answer");
    assert_eq!(code.as_deref(), Some("Unhandled"));
    assert_eq!(details.as_deref(), Some(ERROR_PAYLOAD));
    assert!(log.is_some());
    match second {
        Err(InvokeWithResponseStreamError::TooManyRequestsException(e)) => {
            assert_eq!(
                e.reason().map(|r| r.as_str()),
                Some("ReservedFunctionConcurrentInvocationLimitExceeded")
            );
        }
        other => panic!("a throttle, not {other:?}"),
    }
    let s = em.stats();
    assert_eq!(
        (
            s.invocations_direct,
            s.function_errors,
            s.throttled_lambda_reserved
        ),
        (2, 1, 1)
    );
}

/// `stampede run` of a scenario whose lambda target streams (`target` keys added), on the
/// in-process emulator (`emulator` keys); the results and the summary.
fn run_streamed(emulator: &str, target: &str, stages: &str) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "stream.toml",
        &format!(
            "[emulator]\n{emulator}\n[target]\nkind = \"lambda\"\nfunction = \"{FUNCTION}\"\n\
             invocation = \"stream\"\n{target}\n{stages}"
        ),
    );
    let out = dir.path().join("results.json");
    let args = [
        "run",
        scenario.to_str().unwrap(),
        "--no-cloudwatch",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = run_bounded(aws_command(dir.path(), &args, &[]), DEFAULT_LIMIT).output;
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    (read_json(&out), stdout(&o))
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn a_streamed_run_counts_what_the_emulator_counts() {
    for http in ["1.1", "2"] {
        let (r, summary) = run_streamed(
            "reserved_concurrency = 30\nduration = \"150ms\"\ncold_start = \"50ms\"\nerror_rate = 0.2\nseed = 11",
            &format!("http = \"{http}\""),
            "[[stages]]\nname = \"burst\"\nkind = \"burst\"\nrequests = 120\n",
        );
        let (a, e, l) = (&r["attempts"], &r["emulator"], &r["lambda"]);
        assert_eq!(u(&a["sent"]), 120, "{http}: {a}");
        assert_eq!(u(&a["sent"]), u(&e["invocations_direct"]), "{http}");
        assert_eq!(
            u(&r["throttles"]["lambda_reserved_concurrency"]),
            u(&e["throttled_lambda_reserved"]),
            "{http}"
        );
        assert!(u(&e["throttled_lambda_reserved"]) >= 60, "{http}: {e}");
        assert_eq!(u(&a["function_errors"]), u(&e["function_errors"]), "{http}");
        assert!(u(&e["function_errors"]) > 0, "{http}: {e}");
        assert_eq!(l["function_errors"]["EmulatedError"], e["function_errors"]);
        assert_eq!(u(&a["ok"]), u(&e["ok"]), "{http}");
        assert_eq!(
            u(&a["ok"]) + u(&a["function_errors"]) + u(&a["throttled"]),
            120
        );
        // Every invocation that ran sent its REPORT line in InvokeComplete's LogResult.
        assert_eq!(l["invocation"], "stream");
        assert_eq!(l["log_tail"], true);
        assert_eq!(u(&l["reports"]), u(&a["ok"]) + u(&a["function_errors"]));
        assert_eq!(u(&l["cold_starts"]), u(&e["cold_starts"]), "{http}");
        let duration = f(&l["duration_ms"]["mean"]);
        assert!((145.0..400.0).contains(&duration), "{http}: {duration}");
        assert!(
            summary.contains("(us-east-1, stream, log tail)"),
            "{summary}"
        );
        // The time to first byte is the payload's (or, with none, the stream's end): at the
        // function's end, not at the head's, which the emulator sends at once. The
        // throttles' answers come at once.
        let t = &r["timing"];
        assert!(f(&t["ttfb"]["max"]) >= 140.0, "{http}: {t}");
        assert!(f(&t["receive"]["max"]) < 60.0, "{http}: {t}");
    }
}

#[test]
fn a_misspelt_invocation_lists_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "bad.toml",
        "[target]\nkind = \"lambda\"\nfunction = \"f\"\ninvocation = \"streaming\"\n\
         [[stages]]\nkind = \"burst\"\nrequests = 1\n",
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
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("bad.toml:4"), "{err}");
    assert!(err.contains("did you mean `stream`?"), "{err}");
    assert!(
        err.contains("one of request-response, event, stream"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_lambda_flag_streams_with_invocation_stream() {
    let em = common::start_emulator(EmulatorConfig {
        duration: HandlerTime::Fixed(ms(30)),
        ..EmulatorConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.json");
    let quotas = write(
        dir.path(),
        "quotas.toml",
        "lambda_concurrent_executions = 1000\n",
    );
    let endpoint = format!("http://{}", em.addr);
    let args = [
        "run",
        "--lambda",
        FUNCTION,
        "--url",
        &endpoint,
        "--invocation",
        "stream",
        "--burst",
        "20",
        "--quotas",
        quotas.to_str().unwrap(),
        "--no-cloudwatch",
        "--out",
        out.to_str().unwrap(),
    ];
    let env = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];
    let o = run_bounded(aws_command(dir.path(), &args, &env), DEFAULT_LIMIT).output;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_json(&out);
    assert_eq!(r["lambda"]["invocation"], "stream");
    assert_eq!(r["lambda"]["log_tail"], true);
    let s = em.stats();
    assert_eq!(
        (u(&r["attempts"]["ok"]), s.invocations_direct, s.ok),
        (20, 20, 20)
    );
    assert_eq!(u(&r["lambda"]["reports"]), 20);
    // Every call was the streaming one.
    assert!(em
        .invoke_requests()
        .iter()
        .all(|q| q.path.ends_with("/response-streaming-invocations")));

    // A mode it does not know, and the flag without --lambda: bad input, the forms named.
    for (bad, says) in [
        (
            vec![
                "run",
                "--lambda",
                FUNCTION,
                "--invocation",
                "streaming",
                "--burst",
                "1",
            ],
            "one of request-response, event, stream",
        ),
        (
            vec![
                "run",
                "--url",
                "http://127.0.0.1:9/",
                "--invocation",
                "stream",
                "--burst",
                "1",
            ],
            "--lambda",
        ),
    ] {
        let o = run_bounded(aws_command(dir.path(), &bad, &env), DEFAULT_LIMIT).output;
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
    }
}
