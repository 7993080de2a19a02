//! The emulator's Lambda control plane changing its function, driven by the real AWS SDK
//! for Rust (an endpoint override), as `stampede tune` drives it: update the memory, wait
//! for `Successful` (the SDK's own waiter), publish, invoke the version — whose REPORT
//! lines and times follow the memory model — then delete it; aliases and provisioned
//! concurrency as qualifiers.

use std::time::{Duration, Instant};

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_sdk_lambda::types::{LastUpdateStatus, LogType, ProvisionedConcurrencyStatusEnum};
use stampede_emulator::{self as emulator, EmulatorConfig, HandlerTime, RunningEmulator};
use stampede_lambda::ReportLine;

const FUNCTION: &str = "emulated-function";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn start(config: EmulatorConfig) -> RunningEmulator {
    emulator::start(config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

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

/// The model's handler time: 20 ms of waiting, 80 ms of CPU at 1,769 MB (one vCPU).
fn model_ms(wait: f64, cpu: f64, memory: u64) -> f64 {
    wait + cpu * (1769.0 / memory as f64).max(1.0)
}

fn report(out: &InvokeOutput) -> ReportLine {
    ReportLine::from_log_result(out.log_result().expect("a log tail").as_bytes())
        .expect("a REPORT line")
}

async fn invoke(client: &aws_sdk_lambda::Client, qualifier: &str) -> (InvokeOutput, Duration) {
    let began = Instant::now();
    let out = client
        .invoke()
        .function_name(FUNCTION)
        .qualifier(qualifier)
        .log_type(LogType::Tail)
        .send()
        .await
        .unwrap();
    (out, began.elapsed())
}

fn within(got: f64, want: f64, share: f64) -> bool {
    (got - want).abs() <= want * share
}

/// Sets `$LATEST`'s memory and waits (the SDK's waiter) until the update is Successful.
async fn set_memory(client: &aws_sdk_lambda::Client, memory: i32) {
    let out = client
        .update_function_configuration()
        .function_name(FUNCTION)
        .memory_size(memory)
        .send()
        .await
        .unwrap();
    assert_eq!(out.memory_size(), Some(memory));
    assert_eq!(
        out.last_update_status(),
        Some(&LastUpdateStatus::InProgress)
    );
    client
        .wait_until_function_updated_v2()
        .function_name(FUNCTION)
        .wait(Duration::from_secs(15))
        .await
        .expect("Successful within 15 s");
}

#[tokio::test]
async fn each_published_memory_runs_as_the_model_says() {
    let em = start(EmulatorConfig {
        duration: HandlerTime::Fixed(ms(20)),
        cpu_time: HandlerTime::Fixed(ms(80)),
        cold_start: HandlerTime::Fixed(ms(50)),
        init_cpu_time: HandlerTime::Fixed(ms(100)),
        update_delay: ms(200),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    let original = client
        .get_function_configuration()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert_eq!(original.memory_size(), Some(128));
    let mut measured = Vec::new();
    for memory in [512, 1024, 1769] {
        set_memory(&client, memory).await;
        let published = client
            .publish_version()
            .function_name(FUNCTION)
            .send()
            .await
            .unwrap();
        let version = published.version().unwrap().to_string();
        assert_eq!(published.memory_size(), Some(memory));

        // A fresh version starts cold, its init scaled like its handler.
        let (first, _) = invoke(&client, &version).await;
        assert_eq!(first.executed_version(), Some(version.as_str()));
        let cold = report(&first);
        assert_eq!(cold.memory_mb, memory as u64);
        let init = cold
            .init_ms
            .expect("the first invocation of a version is cold");
        let init_model = model_ms(50.0, 100.0, memory as u64);
        assert!(
            within(init, init_model, 0.10),
            "{memory} MB: init {init} vs {init_model}"
        );

        let want = model_ms(20.0, 80.0, memory as u64);
        let (second, took) = invoke(&client, &version).await;
        let warm = report(&second);
        assert_eq!(warm.init_ms, None, "{memory} MB: the second is warm");
        assert_eq!(warm.memory_mb, memory as u64);
        assert!(
            within(warm.duration_ms, want, 0.10),
            "{memory} MB: {} vs {want}",
            warm.duration_ms
        );
        // The time the client waited: the model's, and not much more (loopback, timers).
        let took = took.as_secs_f64() * 1000.0;
        assert!(
            took >= want - 1.0 && took <= want * 1.10 + 10.0,
            "{memory} MB: waited {took} ms vs {want}"
        );
        measured.push((memory, warm.duration_ms, took, want, init));

        client
            .delete_function()
            .function_name(FUNCTION)
            .qualifier(&version)
            .send()
            .await
            .unwrap();
        let gone = client
            .invoke()
            .function_name(FUNCTION)
            .qualifier(&version)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(gone.is_resource_not_found_exception(), "{gone:?}");
    }
    eprintln!(
        "memory, REPORT Duration ms, client-measured ms, model ms, Init Duration ms: {measured:?}"
    );
    // Restored, as a tune leaves it.
    set_memory(&client, 128).await;
    let after = client
        .list_versions_by_function()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = after
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(left, ["$LATEST", "1"]);
    assert_eq!(after.versions()[0].memory_size(), Some(128));
}

#[tokio::test]
async fn an_update_in_progress_refuses_another_and_a_publish() {
    let em = start(EmulatorConfig {
        update_delay: Duration::from_secs(30),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    let first = client
        .update_function_configuration()
        .function_name(FUNCTION)
        .memory_size(256)
        .timeout(10)
        .send()
        .await
        .unwrap();
    assert_eq!(first.timeout(), Some(10));
    assert_ne!(
        first.revision_id(),
        Some("00000000-0000-4000-8000-000000000001")
    );
    let again = client
        .update_function_configuration()
        .function_name(FUNCTION)
        .memory_size(512)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(again.is_resource_conflict_exception(), "{again:?}");
    let publish = client
        .publish_version()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(publish.is_resource_conflict_exception(), "{publish:?}");
    let got = client
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    let c = got.configuration().unwrap();
    assert_eq!(
        (c.memory_size(), c.last_update_status()),
        (Some(256), Some(&LastUpdateStatus::InProgress))
    );
    // An alias on a version the function never had is refused as Lambda refuses it.
    let missing = client
        .create_alias()
        .function_name(FUNCTION)
        .name("beta")
        .function_version("9")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception(), "{missing:?}");
    // Version 1 (behind `live`) cannot be deleted.
    let named = client
        .delete_function()
        .function_name(FUNCTION)
        .qualifier("1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(named.is_resource_conflict_exception(), "{named:?}");
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

#[tokio::test]
async fn aliases_are_qualifiers_everywhere() {
    let em = start(EmulatorConfig {
        duration: HandlerTime::Fixed(ms(5)),
        cold_start: HandlerTime::Fixed(ms(5)),
        update_delay: ms(50),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    // API Gateway invokes the alias `live` (version 1): one cold start, then warm.
    assert_eq!(through_api_gateway(&em).await, 200);
    assert_eq!(through_api_gateway(&em).await, 200);
    assert_eq!(em.stats().cold_starts, 1);

    set_memory(&client, 1024).await;
    let v2 = client
        .publish_version()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.version(), Some("2"));
    let beta = client
        .create_alias()
        .function_name(FUNCTION)
        .name("beta")
        .function_version("2")
        .description("tuned")
        .send()
        .await
        .unwrap();
    assert_eq!(
        beta.alias_arn(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:emulated-function:beta")
    );
    let (out, _) = invoke(&client, "beta").await;
    assert_eq!(out.executed_version(), Some("2"));
    assert_eq!(report(&out).memory_mb, 1024);
    let got = client
        .get_alias()
        .function_name(FUNCTION)
        .name("beta")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (got.function_version(), got.description()),
        (Some("2"), Some("tuned"))
    );
    let listed = client
        .list_aliases()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = listed.aliases().iter().filter_map(|a| a.name()).collect();
    assert_eq!(names, ["beta", "live"]);

    // Moving `live` to a fresh version moves API Gateway's traffic there: cold again.
    let moved = client
        .update_alias()
        .function_name(FUNCTION)
        .name("live")
        .function_version("2")
        .revision_id(got.revision_id().unwrap())
        .send()
        .await;
    assert!(
        moved
            .unwrap_err()
            .into_service_error()
            .is_precondition_failed_exception(),
        "beta's RevisionId is not live's"
    );
    set_memory(&client, 2048).await;
    let v3 = client
        .publish_version()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert_eq!(v3.version(), Some("3"));
    client
        .update_alias()
        .function_name(FUNCTION)
        .name("live")
        .function_version("3")
        .send()
        .await
        .unwrap();
    let cold_before = em.stats().cold_starts;
    assert_eq!(through_api_gateway(&em).await, 200);
    assert_eq!(
        em.stats().cold_starts,
        cold_before + 1,
        "version 3 was cold through API Gateway"
    );
    assert_eq!(through_api_gateway(&em).await, 200);
    assert_eq!(em.stats().cold_starts, cold_before + 1, "then warm");
    let config = client
        .get_function_configuration()
        .function_name(FUNCTION)
        .qualifier("live")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (config.version(), config.memory_size()),
        (Some("3"), Some(2048))
    );

    client
        .delete_alias()
        .function_name(FUNCTION)
        .name("beta")
        .send()
        .await
        .unwrap();
    let gone = client
        .invoke()
        .function_name(format!("{FUNCTION}:beta"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(gone.is_resource_not_found_exception(), "{gone:?}");
}

#[tokio::test]
async fn provisioned_concurrency_on_a_version_keeps_a_burst_warm() {
    let em = start(EmulatorConfig {
        duration: HandlerTime::Fixed(ms(200)),
        cold_start: HandlerTime::Fixed(ms(100)),
        update_delay: ms(50),
        ..EmulatorConfig::default()
    });
    let client = lambda(&em);
    set_memory(&client, 512).await;
    let version = client
        .publish_version()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap()
        .version()
        .unwrap()
        .to_string();
    let put = client
        .put_provisioned_concurrency_config()
        .function_name(FUNCTION)
        .qualifier(&version)
        .provisioned_concurrent_executions(50)
        .send()
        .await
        .unwrap();
    assert_eq!(put.requested_provisioned_concurrent_executions(), Some(50));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = client
            .get_provisioned_concurrency_config()
            .function_name(FUNCTION)
            .qualifier(&version)
            .send()
            .await
            .unwrap();
        if got.status() == Some(&ProvisionedConcurrencyStatusEnum::Ready) {
            assert_eq!(got.allocated_provisioned_concurrent_executions(), Some(50));
            break;
        }
        assert!(Instant::now() < deadline, "READY within 10 s");
        tokio::time::sleep(ms(20)).await;
    }
    // A burst of 50 at once: all on provisioned environments.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (client, version) = (client.clone(), version.clone());
        tasks.spawn(async move { report(&invoke(&client, &version).await.0) });
    }
    let reports = tasks.join_all().await;
    assert_eq!(reports.len(), 50);
    assert!(reports
        .iter()
        .all(|r| r.init_ms.is_none() && r.memory_mb == 512));
    assert_eq!(em.stats().cold_starts, 0);
    assert_eq!(em.stats().peak_concurrency, 50);
    // $LATEST has none: its first invocation is cold.
    let (latest, _) = invoke(&client, "$LATEST").await;
    assert!(report(&latest).init_ms.is_some());

    client
        .delete_provisioned_concurrency_config()
        .function_name(FUNCTION)
        .qualifier(&version)
        .send()
        .await
        .unwrap();
    let none = client
        .get_provisioned_concurrency_config()
        .function_name(FUNCTION)
        .qualifier(&version)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(none.is_provisioned_concurrency_config_not_found_exception());
}
