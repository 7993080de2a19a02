//! `stampede quotas --url`'s map of an API against moto, an AWS stand-in we did not write:
//! a REST API of two routes to two functions (one with reserved concurrency, one through
//! a stage variable naming its alias; a method throttle; a usage plan) and an HTTP API (a
//! route throttle, a default route throttle, an HTTP integration), set up with the real
//! SDK. Each route, function and limit must come back exactly.
//!
//! Needs a running moto server (`STAMPEDE_MOTO_ENDPOINT`, as tests/it/moto.rs). moto
//! serves no `GetProvisionedConcurrencyConfig`: that call is named in `not_read`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::common::{stampede_aws, stderr, stdout, DUMMY_KEYS};
use crate::moto::{create_role, moto_endpoint};

mod setup;

use setup::{functions, http_api, rest_api, Names, RESERVED};

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
