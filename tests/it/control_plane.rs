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
            .http_client(stampede::aws::http_client())
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

/// An API with routes, as `[emulator]` settings: two functions, one route throttled.
const ROUTED: &str = r#"
account_concurrency = 100
stage_rate = 300
stage_burst = 150

[[routes]]
route = "POST /orders"
function = "orders-create"
rate = 100
burst = 20

[[routes]]
route = "GET /orders/{id}"
function = "orders-get"

[functions.orders-create]
reserved_concurrency = 50
provisioned_concurrency = 5

[functions.orders-get]
memory = 512
"#;

fn routed(api: &str) -> stampede_emulator::RunningEmulator {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(dir.path(), "e.toml", &format!("api = \"{api}\"\n{ROUTED}"));
    start_emulator(stampede_emulator::config::load(&path).unwrap())
}

#[test]
fn a_rest_apis_map_reads_through_the_sdk() {
    let em = routed("rest");
    let apigw = client!(apigateway, em);
    let lambda = client!(lambda, em);
    runtime().block_on(async {
        let resources = apigw
            .get_resources()
            .rest_api_id("emulated")
            .embed("methods")
            .send()
            .await
            .unwrap();
        let mut methods = Vec::new();
        for r in resources.items() {
            for (verb, m) in r.resource_methods().into_iter().flatten() {
                let i = m.method_integration().unwrap();
                methods.push((
                    format!("{verb} {}", r.path().unwrap()),
                    i.r#type().unwrap().as_str().to_string(),
                    i.uri().unwrap().to_string(),
                ));
            }
        }
        methods.sort();
        let uri = |f: &str| format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:{f}:live/invocations");
        assert_eq!(
            methods,
            [
                ("GET /orders/{id}".into(), "AWS_PROXY".into(), uri("orders-get")),
                ("POST /orders".into(), "AWS_PROXY".into(), uri("orders-create")),
            ]
        );
        let orders = resources
            .items()
            .iter()
            .find(|r| r.path() == Some("/orders"))
            .unwrap();
        let integration = apigw
            .get_integration()
            .rest_api_id("emulated")
            .resource_id(orders.id().unwrap())
            .http_method("POST")
            .send()
            .await
            .unwrap();
        assert_eq!(integration.uri(), Some(uri("orders-create").as_str()));
        let stage = apigw
            .get_stage()
            .rest_api_id("emulated")
            .stage_name("prod")
            .send()
            .await
            .unwrap();
        let settings = stage.method_settings().unwrap();
        let post = &settings["~1orders/POST"];
        assert_eq!((post.throttling_rate_limit(), post.throttling_burst_limit()), (100.0, 20));
        assert_eq!(settings["*/*"].throttling_rate_limit(), 300.0);
        let plans = apigw.get_usage_plans().send().await.unwrap();
        assert!(plans.items().is_empty());

        let reserved = lambda
            .get_function_concurrency()
            .function_name("orders-create")
            .send()
            .await
            .unwrap();
        assert_eq!(reserved.reserved_concurrent_executions(), Some(50));
        let none = lambda
            .get_function_concurrency()
            .function_name("orders-get")
            .send()
            .await
            .unwrap();
        assert_eq!(none.reserved_concurrent_executions(), None);
        let pc = lambda
            .get_provisioned_concurrency_config()
            .function_name("orders-create")
            .qualifier("live")
            .send()
            .await
            .unwrap();
        assert_eq!(pc.requested_provisioned_concurrent_executions(), Some(5));
        let get = lambda
            .get_function_configuration()
            .function_name("arn:aws:lambda:us-east-1:123456789012:function:orders-get:live")
            .send()
            .await
            .unwrap();
        assert_eq!((get.function_name(), get.memory_size()), (Some("orders-get"), Some(512)));
        let account = lambda.get_account_settings().send().await.unwrap();
        assert_eq!(
            account.account_limit().unwrap().unreserved_concurrent_executions(),
            Some(50)
        );
    });
}

/// apigatewayv2 is not a dependency: its paths, read as raw signed-looking requests.
#[test]
fn an_http_apis_map_reads_over_its_rest_paths() {
    use std::io::{Read, Write};
    let em = routed("http");
    let get = |path: &str| -> serde_json::Value {
        let mut s = std::net::TcpStream::connect(em.addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nhost: emulator\r\nconnection: close\r\nauthorization: AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=x\r\n\r\n"
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        serde_json::from_str(body).unwrap()
    };
    let routes = get("/v2/apis/emulated/routes");
    let keys: Vec<&str> = routes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["routeKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["POST /orders", "GET /orders/{id}"]);
    let integrations = get("/v2/apis/emulated/integrations");
    let target = routes["items"][0]["target"].as_str().unwrap();
    let first = &integrations["items"][0];
    assert_eq!(
        format!("integrations/{}", first["integrationId"].as_str().unwrap()),
        target
    );
    assert_eq!(
        first["integrationUri"],
        "arn:aws:lambda:us-east-1:123456789012:function:orders-create:live"
    );
    let stage = get("/v2/apis/emulated/stages/prod");
    assert_eq!(stage["defaultRouteSettings"]["throttlingRateLimit"], 300.0);
    assert_eq!(
        stage["routeSettings"]["POST /orders"]["throttlingBurstLimit"],
        20
    );
    assert_eq!(em.stats().requests, 0, "the control plane is not traffic");
}
