//! The emulator's Lambda Invoke API, called with the real AWS SDK for Rust: what the SDK
//! reads from its answers (status, log tail, REPORT line, function errors, throttles) and
//! what it sent (the recorded requests), against the emulator's own stats.

use std::time::{Duration, SystemTime};

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, InvocationType, LogType, ThrottleReason};
use stampede_emulator::{self as emulator, EmulatorConfig, HandlerTime, RunningEmulator};
use stampede_lambda::ReportLine;

const FUNCTION: &str = "emulated-function";
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:emulated-function";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn start(config: EmulatorConfig) -> RunningEmulator {
    emulator::start(config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

/// The SDK's own configuration, aimed at the emulator; no retries, so every throttle is
/// seen once.
fn sdk_config(em: &RunningEmulator) -> (String, Credentials) {
    (
        format!("http://{}", em.addr),
        Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"),
    )
}

fn lambda(em: &RunningEmulator) -> aws_sdk_lambda::Client {
    let (endpoint, credentials) = sdk_config(em);
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(stampede::aws::http_client())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

fn cloudwatch(em: &RunningEmulator) -> aws_sdk_cloudwatch::Client {
    let (endpoint, credentials) = sdk_config(em);
    let config = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
        .http_client(stampede::aws::http_client())
        .endpoint_url(endpoint)
        .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_cloudwatch::Client::from_conf(config)
}

fn report(out: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> ReportLine {
    let log = out.log_result().expect("a log tail was asked for");
    ReportLine::from_log_result(log.as_bytes()).expect("a REPORT line")
}

/// `n` invocations at once, each asking for the log tail.
async fn at_once(
    client: &aws_sdk_lambda::Client,
    n: usize,
) -> Vec<Result<aws_sdk_lambda::operation::invoke::InvokeOutput, InvokeError>> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let client = client.clone();
        tasks.spawn(async move {
            client
                .invoke()
                .function_name(FUNCTION)
                .log_type(LogType::Tail)
                .send()
                .await
                .map_err(|e| e.into_service_error())
        });
    }
    tasks.join_all().await
}

#[tokio::test]
async fn request_response_reports_a_cold_start_then_a_warm_one() {
    let em = start(EmulatorConfig {
        cold_start: HandlerTime::Uniform(ms(100), ms(200)),
        duration: HandlerTime::Fixed(ms(20)),
        memory_mb: 512,
        seed: Some(7),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    let call = || {
        client
            .invoke()
            .function_name(FUNCTION)
            .log_type(LogType::Tail)
            .payload(Blob::new(r#"{"order":1}"#))
            .send()
    };
    let first = call().await.unwrap();
    assert_eq!(first.status_code(), 200);
    assert_eq!(first.executed_version(), Some("$LATEST"));
    assert_eq!(first.function_error(), None);
    assert_eq!(
        first.payload().map(|p| p.as_ref()),
        Some(&br#"{"statusCode":200,"body":"ok"}"#[..])
    );
    let cold = report(&first);
    let init = cold.init_ms.expect("the first invocation is a cold start");
    // Measured: the drawn time plus the timer's lateness.
    assert!((100.0..260.0).contains(&init), "init {init}");
    assert!(cold.duration_ms >= 20.0, "{}", cold.duration_ms);
    assert_eq!(
        cold.billed_ms,
        stampede_lambda::report_line::billed_ms(cold.duration_ms, cold.init_ms)
    );
    assert_eq!(cold.memory_mb, 512);
    assert!((40..=512).contains(&cold.max_memory_used_mb));
    assert_eq!(Some(cold.request_id.as_str()), first.request_id());

    let second = call().await.unwrap();
    let warm = report(&second);
    assert_eq!(warm.init_ms, None, "the second reuses the environment");
    assert_ne!(warm.request_id, cold.request_id);
    assert_eq!(Some(warm.request_id.as_str()), second.request_id());

    let stats = em.stats();
    assert_eq!((stats.cold_starts, stats.invocations_direct), (1, 2));
    assert_eq!((stats.ok, stats.requests), (2, 2));
    assert!(stats.init_ms_min >= 100.0 && stats.init_ms_max <= 200.0);
    assert_eq!(stats.init_ms_min, stats.init_ms_max);
}

#[tokio::test]
async fn warm_environments_serve_without_cold_starts() {
    let em = start(EmulatorConfig {
        warm: 3,
        duration: HandlerTime::Fixed(ms(100)),
        ..EmulatorConfig::default()
    });
    let answers = at_once(&lambda(&em), 3).await;
    for out in answers {
        let out = out.unwrap();
        assert_eq!(report(&out).init_ms, None);
    }
    let stats = em.stats();
    assert_eq!((stats.cold_starts, stats.environments_created), (0, 0));
    assert_eq!((stats.init_ms_min, stats.init_ms_max), (0.0, 0.0));
    assert_eq!(stats.warm_environments, 3);
}

#[tokio::test]
async fn reserved_concurrency_throttles_as_lambda_does() {
    let em = start(EmulatorConfig {
        reserved_concurrency: Some(2),
        cold_start: HandlerTime::Fixed(Duration::ZERO),
        duration: HandlerTime::Fixed(ms(300)),
        ..EmulatorConfig::default()
    });
    let answers = at_once(&lambda(&em), 6).await;
    let mut throttled = 0;
    for a in answers {
        match a {
            Ok(out) => assert_eq!(out.status_code(), 200),
            Err(InvokeError::TooManyRequestsException(e)) => {
                assert_eq!(
                    e.reason(),
                    Some(&ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded)
                );
                assert_eq!(e.retry_after_seconds(), Some("1"));
                throttled += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    let stats = em.stats();
    assert_eq!(throttled, stats.throttled_lambda_reserved);
    assert_eq!(throttled, 4);
    assert_eq!(stats.peak_concurrency, 2);
}

/// The status of one `GET /orders` through the emulator's API Gateway (raw HTTP/1.1).
async fn through_api_gateway(em: &RunningEmulator) -> u16 {
    use std::io::{Read, Write};
    let addr = em.addr;
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /orders HTTP/1.1\r\nhost: em\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        raw.split(' ').nth(1).unwrap().parse().unwrap()
    })
    .await
    .unwrap()
}

/// The Invoke API and API Gateway take the one invocation path: one set of environments
/// and one concurrency (issue 25: the sequence was written twice, and the copies differed).
#[tokio::test]
async fn the_invoke_api_and_api_gateway_share_one_lambda() {
    let em = start(EmulatorConfig {
        reserved_concurrency: Some(1),
        cold_start: HandlerTime::Fixed(ms(10)),
        // Long enough that the request below comes while it runs, on a loaded machine too.
        duration: HandlerTime::Fixed(ms(1500)),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    let invoked = tokio::spawn(async move { client.invoke().function_name(FUNCTION).send().await });
    // While the Invoke API's invocation holds the one environment, API Gateway's request
    // is a Lambda throttle (a REST API's 500).
    while em.stats().in_flight == 0 {
        assert!(!invoked.is_finished(), "the invocation ended unseen");
        tokio::task::yield_now().await;
    }
    assert_eq!(through_api_gateway(&em).await, 500);
    assert_eq!(invoked.await.unwrap().unwrap().status_code(), 200);
    // Then API Gateway's request runs on the environment the Invoke API warmed.
    assert_eq!(through_api_gateway(&em).await, 200);
    let stats = em.stats();
    assert_eq!((stats.cold_starts, stats.environments_created), (1, 1));
    assert_eq!(stats.throttled_lambda_reserved, 1);
    assert_eq!(
        (stats.ok, stats.requests, stats.invocations_direct),
        (2, 3, 1)
    );
}

#[tokio::test]
async fn function_errors_are_answered_counted_and_in_cloudwatch() {
    let em = start(EmulatorConfig {
        error_rate: 1.0,
        duration: HandlerTime::Fixed(ms(5)),
        cold_start: HandlerTime::Fixed(ms(5)),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    let began = SystemTime::now();
    for _ in 0..3 {
        let out = client
            .invoke()
            .function_name(FUNCTION)
            .log_type(LogType::Tail)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status_code(), 200);
        assert_eq!(out.function_error(), Some("Unhandled"));
        let payload = out.payload().unwrap().as_ref();
        assert_eq!(
            stampede_lambda::report_line::error_type(payload).as_deref(),
            Some("EmulatedError")
        );
        report(&out);
    }
    let stats = em.stats();
    assert_eq!((stats.function_errors, stats.ok), (3, 0));

    // Lambda's metrics count them; API Gateway's never saw them.
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
    let query = |id: &str, namespace: &str, name: &str, dims: Vec<Dimension>| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(namespace)
                            .metric_name(name)
                            .set_dimensions(Some(dims))
                            .build(),
                    )
                    .period(60)
                    .stat("Sum")
                    .build(),
            )
            .build()
    };
    let function = || {
        vec![Dimension::builder()
            .name("FunctionName")
            .value(FUNCTION)
            .build()]
    };
    let api = vec![
        Dimension::builder()
            .name("ApiName")
            .value("emulated-function-api")
            .build(),
        Dimension::builder().name("Stage").value("prod").build(),
    ];
    let minute = Duration::from_secs(60);
    let data = cloudwatch(&em)
        .get_metric_data()
        .metric_data_queries(query("errors", "AWS/Lambda", "Errors", function()))
        .metric_data_queries(query(
            "invocations",
            "AWS/Lambda",
            "Invocations",
            function(),
        ))
        .metric_data_queries(query("count", "AWS/ApiGateway", "Count", api))
        .start_time((began - 2 * minute).into())
        .end_time((SystemTime::now() + minute).into())
        .send()
        .await
        .unwrap();
    let sum = |id: &str| -> f64 {
        data.metric_data_results()
            .iter()
            .find(|r| r.id() == Some(id))
            .unwrap()
            .values()
            .iter()
            .sum()
    };
    assert_eq!(sum("errors"), 3.0);
    assert_eq!(sum("invocations"), 3.0);
    assert_eq!(sum("count"), 0.0);
}

#[tokio::test]
async fn events_are_accepted_and_dry_runs_invoke_nothing() {
    let em = start(EmulatorConfig {
        duration: HandlerTime::Fixed(ms(50)),
        cold_start: HandlerTime::Fixed(Duration::ZERO),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    let event = client
        .invoke()
        .function_name(FUNCTION)
        .invocation_type(InvocationType::Event)
        .log_type(LogType::Tail)
        .send()
        .await
        .unwrap();
    assert_eq!(event.status_code(), 202);
    assert_eq!(event.log_result(), None);
    assert_eq!(event.executed_version(), None);
    assert_eq!(event.payload(), None);
    let dry = client
        .invoke()
        .function_name(FUNCTION)
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap();
    assert_eq!(dry.status_code(), 204);
    // The event runs after its answer.
    for _ in 0..100 {
        if em.stats().ok == 1 {
            break;
        }
        tokio::time::sleep(ms(10)).await;
    }
    let stats = em.stats();
    assert_eq!(stats.ok, 1, "{stats:?}");
    assert_eq!((stats.invocations_direct, stats.cold_starts), (2, 1));
}

#[tokio::test]
async fn another_function_is_not_found() {
    let em = start(EmulatorConfig::default());
    let err = lambda(&em)
        .invoke()
        .function_name("payments")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let InvokeError::ResourceNotFoundException(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        e.message(),
        Some("Function not found: arn:aws:lambda:us-east-1:123456789012:function:payments")
    );
    assert_eq!(em.stats().cold_starts, 0);
}

#[tokio::test]
async fn an_arn_with_a_qualifier_is_recorded_as_the_sdk_sent_it() {
    let em = start(EmulatorConfig {
        duration: HandlerTime::Fixed(ms(1)),
        cold_start: HandlerTime::Fixed(Duration::ZERO),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    let out = client
        .invoke()
        .function_name(ARN)
        .qualifier("live")
        .payload(Blob::new(r#"{"n":1}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.executed_version(), Some("1"), "an alias of version 1");
    let version = client
        .invoke()
        .function_name(format!("{ARN}:1"))
        .send()
        .await
        .unwrap();
    assert_eq!(version.executed_version(), Some("1"));
    // A version the function does not have is not found (emulator_versions.rs publishes).
    let missing = client
        .invoke()
        .function_name(format!("{ARN}:7"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception(), "{missing:?}");

    let kept = em.invoke_requests();
    assert_eq!(kept.len(), 3);
    let r = &kept[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        format!("{}?{}", r.path, r.query),
        stampede_lambda::function::invoke_path(ARN, Some("live"))
    );
    assert_eq!(
        r.path,
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aemulated-function/invocations"
    );
    assert_eq!(r.body, br#"{"n":1}"#);
    let auth = r.header("authorization").unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
    assert!(auth.contains("/us-east-1/lambda/aws4_request"), "{auth}");
    assert!(r.header("x-amz-date").is_some());
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "host",
        "content-type",
        "content-length",
        "amz-sdk-invocation-id",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(
        !format!("{r:?}").contains("Signature="),
        "Debug hides values"
    );
    assert_eq!(kept[1].query, "");
}

#[tokio::test]
async fn get_function_configuration_says_memory_and_architecture() {
    let em = start(EmulatorConfig {
        memory_mb: 1769,
        architecture: stampede_lambda::Architecture::Arm64,
        ..EmulatorConfig::default()
    });
    let c = lambda(&em)
        .get_function_configuration()
        .function_name(ARN)
        .send()
        .await
        .unwrap();
    assert_eq!(c.memory_size(), Some(1769));
    assert_eq!(c.architectures(), &[Architecture::Arm64]);
    assert_eq!(c.function_name(), Some(FUNCTION));
    assert_eq!(c.function_arn(), Some(ARN));
    assert_eq!(c.version(), Some("$LATEST"));
    assert_eq!(c.timeout(), Some(3));
    assert_eq!(c.state(), Some(&aws_sdk_lambda::types::State::Active));
}
