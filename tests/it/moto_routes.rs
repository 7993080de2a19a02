//! `stampede quotas --url`'s map of an API against moto, an AWS stand-in we did not write:
//! a REST API of two routes to two functions (one with reserved concurrency, one through
//! a stage variable naming its alias; a method throttle; a usage plan) and an HTTP API (a
//! route throttle, a default route throttle, an HTTP integration), set up with the real
//! SDK. Each route, function and limit must come back exactly.
//!
//! Needs a running moto server (`STAMPEDE_MOTO_ENDPOINT`, as tests/it/moto.rs). moto
//! serves no `GetProvisionedConcurrencyConfig`: that call is named in `not_read`.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_apigateway as apigateway;
use aws_sdk_apigatewayv2 as apigatewayv2;
use aws_sdk_lambda as lambda;
use serde_json::{json, Value};

use crate::common::{stampede_aws, stderr, stdout, DUMMY_KEYS};
use crate::moto::{client, create_role, empty_zip, moto_endpoint};

const RESERVED: i32 = 7;

/// The names of one test's resources: moto is shared between runs.
struct Names {
    create: String,
    get: String,
}

async fn functions(endpoint: &str, n: &Names, role_arn: &str) -> String {
    let l = client!(lambda, endpoint);
    let mut get_arn = String::new();
    for name in [&n.create, &n.get] {
        let f = l
            .create_function()
            .function_name(name)
            .runtime(lambda::types::Runtime::Python312)
            .role(role_arn)
            .handler("index.handler")
            .code(
                lambda::types::FunctionCode::builder()
                    .zip_file(lambda::primitives::Blob::new(empty_zip()))
                    .build(),
            )
            .send()
            .await
            .expect("CreateFunction");
        get_arn = f.function_arn().unwrap().to_string();
    }
    l.put_function_concurrency()
        .function_name(&n.create)
        .reserved_concurrent_executions(RESERVED)
        .send()
        .await
        .expect("PutFunctionConcurrency");
    l.create_alias()
        .function_name(&n.get)
        .name("live")
        .function_version("$LATEST")
        .send()
        .await
        .expect("CreateAlias");
    get_arn
}

/// `POST /orders` → create (throttled 50/10, a usage plan's 5/2), `GET /orders/{id}` →
/// get on the alias its stage variable names; returns the API's id.
async fn rest_api(endpoint: &str, n: &Names) -> String {
    use apigateway::types::{ApiStage, Op, PatchOperation, ThrottleSettings};
    let a = client!(apigateway, endpoint);
    let id = a
        .create_rest_api()
        .name(format!("{}-api", n.create))
        .send()
        .await
        .expect("CreateRestApi")
        .id()
        .unwrap()
        .to_string();
    let root = a
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap()
        .items()[0]
        .id()
        .unwrap()
        .to_string();
    let orders = a
        .create_resource()
        .rest_api_id(&id)
        .parent_id(&root)
        .path_part("orders")
        .send()
        .await
        .expect("CreateResource")
        .id()
        .unwrap()
        .to_string();
    let order = a
        .create_resource()
        .rest_api_id(&id)
        .parent_id(&orders)
        .path_part("{id}")
        .send()
        .await
        .expect("CreateResource")
        .id()
        .unwrap()
        .to_string();
    let uri = |function: &str| {
        format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:{function}/invocations")
    };
    for (resource, method, function) in [
        (&orders, "POST", n.create.clone()),
        (
            &order,
            "GET",
            format!("{}:${{stageVariables.alias}}", n.get),
        ),
    ] {
        a.put_method()
            .rest_api_id(&id)
            .resource_id(resource)
            .http_method(method)
            .authorization_type("NONE")
            .send()
            .await
            .expect("PutMethod");
        a.put_integration()
            .rest_api_id(&id)
            .resource_id(resource)
            .http_method(method)
            .r#type(apigateway::types::IntegrationType::AwsProxy)
            .integration_http_method("POST")
            .uri(uri(&function))
            .send()
            .await
            .expect("PutIntegration");
    }
    a.create_deployment()
        .rest_api_id(&id)
        .stage_name("prod")
        .variables("alias", "live")
        .send()
        .await
        .expect("CreateDeployment");
    let replace = |path: &str, value: &str| {
        PatchOperation::builder()
            .op(Op::Replace)
            .path(path)
            .value(value)
            .build()
    };
    a.update_stage()
        .rest_api_id(&id)
        .stage_name("prod")
        .patch_operations(replace("/~1orders/POST/throttling/rateLimit", "50"))
        .patch_operations(replace("/~1orders/POST/throttling/burstLimit", "10"))
        .send()
        .await
        .expect("UpdateStage");
    let throttle = |rate: f64, burst: i32| {
        ThrottleSettings::builder()
            .rate_limit(rate)
            .burst_limit(burst)
            .build()
    };
    a.create_usage_plan()
        .name(format!("{}-plan", n.create))
        .api_stages(
            ApiStage::builder()
                .api_id(&id)
                .stage("prod")
                .throttle("/orders/POST", throttle(5.0, 2))
                .build(),
        )
        .throttle(throttle(20.0, 4))
        .send()
        .await
        .expect("CreateUsagePlan");
    id
}

/// `GET /orders/{id}` → get (its ARN; throttled 30/6), `ANY /legacy` → an HTTP endpoint;
/// the stage's default route throttle 100/50. Returns the API's id.
async fn http_api(endpoint: &str, get_arn: &str) -> String {
    use apigatewayv2::types::{IntegrationType, ProtocolType, RouteSettings};
    let v2 = client!(apigatewayv2, endpoint);
    let id = v2
        .create_api()
        .name("stampede-http")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .expect("CreateApi")
        .api_id()
        .unwrap()
        .to_string();
    let integration = |kind: IntegrationType, uri: &str| {
        let v2 = v2.clone();
        let (id, uri) = (id.clone(), uri.to_string());
        async move {
            let method = if kind == IntegrationType::HttpProxy {
                "ANY"
            } else {
                "POST"
            };
            v2.create_integration()
                .api_id(id)
                .integration_type(kind)
                .integration_uri(uri)
                .integration_method(method)
                .payload_format_version("1.0")
                .send()
                .await
                .expect("CreateIntegration")
                .integration_id()
                .unwrap()
                .to_string()
        }
    };
    let function = integration(IntegrationType::AwsProxy, get_arn).await;
    let legacy = integration(IntegrationType::HttpProxy, "https://example.com").await;
    for (key, target) in [("GET /orders/{id}", &function), ("ANY /legacy", &legacy)] {
        v2.create_route()
            .api_id(&id)
            .route_key(key)
            .target(format!("integrations/{target}"))
            .send()
            .await
            .expect("CreateRoute");
    }
    let settings = |rate: f64, burst: i32| {
        RouteSettings::builder()
            .throttling_rate_limit(rate)
            .throttling_burst_limit(burst)
            .build()
    };
    v2.create_stage()
        .api_id(&id)
        .stage_name("prod")
        .route_settings("GET /orders/{id}", settings(30.0, 6))
        .default_route_settings(settings(100.0, 50))
        .send()
        .await
        .expect("CreateStage");
    id
}

fn quotas_of(endpoint: &str, api_id: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://{api_id}.execute-api.us-east-1.amazonaws.com/prod/");
    let o = stampede_aws(
        dir.path(),
        &[
            "quotas",
            "--url",
            &url,
            "--endpoint-url",
            endpoint,
            "--json",
        ],
        &DUMMY_KEYS,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn api(action: &str) -> Value {
    json!({ "kind": "api", "action": action })
}

fn limit(key: &str, value: Option<f64>, action: &str) -> Value {
    json!({ "key": key, "value": value, "source": api(action) })
}

fn config() -> Value {
    json!({"memory_mb": 128, "architecture": "x86_64", "timeout_s": 3, "source": api("lambda:GetFunctionConfiguration")})
}

fn stage_reading(q: &Value, key: &str) -> (Value, Value) {
    let e = q["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {q:#}"));
    (e["value"].clone(), e["source"]["action"].clone())
}

#[test]
fn moto_apis_are_mapped_route_by_route() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let unique = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let base = format!("stampede-{}-{unique}", std::process::id());
    let n = Names {
        create: format!("{base}-create"),
        get: format!("{base}-get"),
    };
    let role_arn = create_role(&endpoint, &format!("{base}-role"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (rest_id, http_id) = runtime.block_on(async {
        let get_arn = functions(&endpoint, &n, &role_arn).await;
        (
            rest_api(&endpoint, &n).await,
            http_api(&endpoint, &get_arn).await,
        )
    });

    let rest = quotas_of(&endpoint, &rest_id);
    assert_eq!(
        rest["api"],
        json!({"kind": "rest", "id": rest_id, "stage": "prod"})
    );
    let (stage, plans) = ("apigateway:GetStage", "apigateway:GetUsagePlans");
    let reserved = "lambda:GetFunctionConcurrency";
    assert_eq!(
        rest["routes"],
        json!([
            {
                "route": "POST /orders",
                "integration": "lambda",
                "function": n.create,
                "quotas": [
                    limit("function_reserved_concurrency", Some(f64::from(RESERVED)), reserved),
                    limit("route_throttle_rate", Some(50.0), stage),
                    limit("route_throttle_burst", Some(10.0), stage),
                    limit("usage_plan_rate", Some(5.0), plans),
                    limit("usage_plan_burst", Some(2.0), plans),
                ],
                "function_config": config(),
            },
            {
                "route": "GET /orders/{id}",
                "integration": "lambda",
                "function": n.get,
                "qualifier": "live",
                "quotas": [
                    limit("function_reserved_concurrency", None, reserved),
                    limit("route_throttle_rate", None, stage),
                    limit("route_throttle_burst", None, stage),
                    // The plan's own throttle: it sets none for this method.
                    limit("usage_plan_rate", Some(20.0), plans),
                    limit("usage_plan_burst", Some(4.0), plans),
                ],
                "function_config": config(),
            },
        ]),
        "{:#}",
        rest["routes"]
    );
    // No `*/*` on the stage: read, and none set.
    assert_eq!(
        stage_reading(&rest, "stage_rate"),
        (Value::Null, json!(stage))
    );
    let unsupported: Vec<&Value> = rest["not_read"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["action"] == "lambda:GetProvisionedConcurrencyConfig")
        .collect();
    assert_eq!(
        unsupported,
        [&json!({
            "action": "lambda:GetProvisionedConcurrencyConfig",
            "reason": format!("not supported by this endpoint ({}:live)", n.get)
        })],
        "{:#}",
        rest["not_read"]
    );

    let http = quotas_of(&endpoint, &http_id);
    assert_eq!(
        http["api"],
        json!({"kind": "http", "id": http_id, "stage": "prod"})
    );
    let stage = "apigatewayv2:GetStage";
    assert_eq!(
        http["routes"],
        json!([
            {
                "route": "ANY /legacy",
                "integration": "http",
                "quotas": [
                    limit("route_throttle_rate", None, stage),
                    limit("route_throttle_burst", None, stage),
                ],
            },
            {
                "route": "GET /orders/{id}",
                "integration": "lambda",
                "function": n.get,
                "quotas": [
                    limit("function_reserved_concurrency", None, reserved),
                    limit("route_throttle_rate", Some(30.0), stage),
                    limit("route_throttle_burst", Some(6.0), stage),
                ],
                "function_config": config(),
            },
        ]),
        "{:#}",
        http["routes"]
    );
    // The HTTP API's stage throttle: its default route settings, through apigatewayv2.
    assert_eq!(
        stage_reading(&http, "stage_rate"),
        (json!(100.0), json!(stage))
    );
    assert_eq!(
        stage_reading(&http, "stage_burst"),
        (json!(50.0), json!(stage))
    );
    let map_calls_failed: Vec<&Value> = http["not_read"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["action"].as_str().unwrap().starts_with("apigateway"))
        .collect();
    assert!(map_calls_failed.is_empty(), "{map_calls_failed:?}");
}
