//! The emulator's control plane, read with the real AWS SDK clients through an endpoint
//! override, as `stampede quotas` will read a real account.

use crate::common;

use aws_sdk_apigateway as apigateway;
use aws_sdk_lambda as lambda;
use aws_sdk_servicequotas as servicequotas;
use common::{small_account, start_emulator};
use stampede_emulator::EmulatorConfig;

macro_rules! client {
    ($krate:ident, $em:expr) => {{
        let config = $krate::Config::builder()
            .behavior_version($krate::config::BehaviorVersion::latest())
            .http_client(stampede::transport::aws_http_client())
            .region($krate::config::Region::new("us-east-1"))
            .credentials_provider($krate::config::Credentials::new(
                "AKIDEXAMPLE",
                "emulator-secret",
                None,
                None,
                "test",
            ))
            .endpoint_url(format!("http://{}", $em.addr))
            .build();
        $krate::Client::from_conf(config)
    }};
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn service_quotas_serves_applied_values_and_defaults() {
    let em = start_emulator(small_account());
    let sq = client!(servicequotas, em);
    runtime().block_on(async {
        let q = sq
            .get_service_quota()
            .service_code("lambda")
            .quota_code("L-B99A9384")
            .send()
            .await
            .unwrap();
        assert_eq!(q.quota().unwrap().value(), Some(100.0));
        let q = sq
            .get_service_quota()
            .service_code("apigateway")
            .quota_code("L-8A5B8E43")
            .send()
            .await
            .unwrap();
        assert_eq!(q.quota().unwrap().value(), Some(500.0));
        let d = sq
            .get_aws_default_service_quota()
            .service_code("lambda")
            .quota_code("L-B99A9384")
            .send()
            .await
            .unwrap();
        assert_eq!(d.quota().unwrap().value(), Some(1000.0));
        let list = sq
            .list_service_quotas()
            .service_code("apigateway")
            .send()
            .await
            .unwrap();
        let codes: Vec<&str> = list
            .quotas()
            .iter()
            .filter_map(|q| q.quota_code())
            .collect();
        assert_eq!(codes, ["L-8A5B8E43", "L-CDF5615A", "L-E5AE38E3"]);
    });
}

#[test]
fn a_quota_never_changed_is_no_such_resource_and_the_default_answers() {
    // AWS's own defaults: nothing applied.
    let em = start_emulator(EmulatorConfig::default());
    let sq = client!(servicequotas, em);
    runtime().block_on(async {
        let err = sq
            .get_service_quota()
            .service_code("lambda")
            .quota_code("L-B99A9384")
            .send()
            .await
            .unwrap_err();
        let err = err.into_service_error();
        assert!(err.is_no_such_resource_exception(), "{err:?}");
        let d = sq
            .get_aws_default_service_quota()
            .service_code("lambda")
            .quota_code("L-B99A9384")
            .send()
            .await
            .unwrap();
        assert_eq!(d.quota().unwrap().value(), Some(1000.0));
        let d = sq
            .get_aws_default_service_quota()
            .service_code("apigateway")
            .quota_code("L-CDF5615A")
            .send()
            .await
            .unwrap();
        assert_eq!(d.quota().unwrap().value(), Some(5000.0));
    });
}

#[test]
fn lambda_account_reserved_and_provisioned_concurrency() {
    let em = start_emulator(small_account());
    let l = client!(lambda, em);
    runtime().block_on(async {
        let settings = l.get_account_settings().send().await.unwrap();
        let limit = settings.account_limit().unwrap();
        assert_eq!(limit.concurrent_executions(), 100);
        assert_eq!(limit.unreserved_concurrent_executions(), Some(50));
        let reserved = l
            .get_function_concurrency()
            .function_name("orders-handler")
            .send()
            .await
            .unwrap();
        assert_eq!(reserved.reserved_concurrent_executions(), Some(50));
        let provisioned = l
            .get_provisioned_concurrency_config()
            .function_name("orders-handler")
            .qualifier("live")
            .send()
            .await
            .unwrap();
        assert_eq!(
            provisioned.allocated_provisioned_concurrent_executions(),
            Some(10)
        );
        let none = l
            .get_provisioned_concurrency_config()
            .function_name("orders-handler")
            .qualifier("v1")
            .send()
            .await;
        assert!(none
            .unwrap_err()
            .into_service_error()
            .is_provisioned_concurrency_config_not_found_exception());
        let missing = l
            .get_function_concurrency()
            .function_name("nope")
            .send()
            .await;
        assert!(missing
            .unwrap_err()
            .into_service_error()
            .is_resource_not_found_exception());
    });
    // No reservation: the answer has none.
    let em = start_emulator(EmulatorConfig {
        reserved_concurrency: None,
        ..small_account()
    });
    let l = client!(lambda, em);
    runtime().block_on(async {
        let reserved = l
            .get_function_concurrency()
            .function_name("orders-handler")
            .send()
            .await
            .unwrap();
        assert_eq!(reserved.reserved_concurrent_executions(), None);
    });
}

#[test]
fn api_gateway_account_and_stage_throttling() {
    let em = start_emulator(small_account());
    let a = client!(apigateway, em);
    runtime().block_on(async {
        let account = a.get_account().send().await.unwrap();
        let t = account.throttle_settings().unwrap();
        assert_eq!((t.rate_limit(), t.burst_limit()), (500.0, 250));
        let stage = a
            .get_stage()
            .rest_api_id("abc123")
            .stage_name("prod")
            .send()
            .await
            .unwrap();
        let all = &stage.method_settings().unwrap()["*/*"];
        assert_eq!(
            (all.throttling_rate_limit(), all.throttling_burst_limit()),
            (400.0, 200)
        );
        let missing = a
            .get_stage()
            .rest_api_id("abc123")
            .stage_name("dev")
            .send()
            .await;
        assert!(missing
            .unwrap_err()
            .into_service_error()
            .is_not_found_exception());
    });
}

#[test]
fn denied_calls_are_access_denied() {
    let em = start_emulator(EmulatorConfig {
        deny: vec![
            "lambda:GetAccountSettings".into(),
            "servicequotas:GetServiceQuota".into(),
            "apigateway:GetAccount".into(),
        ],
        ..small_account()
    });
    let (l, sq, a) = (
        client!(lambda, em),
        client!(servicequotas, em),
        client!(apigateway, em),
    );
    runtime().block_on(async {
        let e = l.get_account_settings().send().await.unwrap_err();
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
        let e = sq
            .get_service_quota()
            .service_code("lambda")
            .quota_code("L-B99A9384")
            .send()
            .await
            .unwrap_err();
        assert!(e.into_service_error().is_access_denied_exception());
        let e = a.get_account().send().await.unwrap_err();
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
        // What is not denied still answers.
        assert!(l
            .get_function_concurrency()
            .function_name("orders-handler")
            .send()
            .await
            .is_ok());
    });
    // The control plane never counts as traffic.
    assert_eq!(em.stats().requests, 0);
}
