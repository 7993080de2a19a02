//! `stampede quotas --url`'s route table against the emulator's control plane: an API of
//! three routes to three functions, read through the real SDK clients as a REST API and
//! as an HTTP API, must give back exactly the emulator's settings per route.

use crate::common;

use common::{stampede_aws, start_emulator, stderr, stdout, DUMMY_KEYS};
use serde_json::{json, Value};

const ROUTES: &str = r#"
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

[[routes]]
route = "POST /login"
function = "login"
rate = 5
burst = 2

[functions.orders-create]
reserved_concurrency = 50
provisioned_concurrency = 5
memory = 1024

[functions.orders-get]
memory = 512

[functions.login]
reserved_concurrency = 10
"#;

/// `stampede quotas --url … --json` against an emulator of `api`'s kind.
fn quotas(api: &str, format: &[&str]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = common::write(dir.path(), "e.toml", &format!("api = \"{api}\"\n{ROUTES}"));
    let em = start_emulator(stampede_emulator::config::load(&config).unwrap());
    let endpoint = format!("http://{}", em.addr);
    let mut args = vec![
        "quotas",
        "--url",
        "https://emulated.execute-api.us-east-1.amazonaws.com/prod/orders",
        "--endpoint-url",
        &endpoint,
    ];
    args.extend(format);
    let o = stampede_aws(dir.path(), &args, &DUMMY_KEYS);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The control plane is no traffic.
    assert_eq!(em.stats().requests, 0);
    let json = if format.contains(&"--json") {
        serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)))
    } else {
        Value::Null
    };
    (json, stdout(&o))
}

fn api(action: &str) -> Value {
    json!({ "kind": "api", "action": action })
}

/// A route's expected `quotas`: the function's, then the route's own throttle, then (REST
/// only) the usage plans' — the emulator has none.
fn limits(
    reserved: Option<f64>,
    provisioned: Option<f64>,
    throttle: (Option<f64>, Option<f64>),
    stage_action: &str,
    usage_plans: bool,
) -> Value {
    let mut q = vec![
        json!({"key": "function_reserved_concurrency", "value": reserved, "source": api("lambda:GetFunctionConcurrency")}),
        json!({"key": "function_provisioned_concurrency", "value": provisioned, "source": api("lambda:GetProvisionedConcurrencyConfig")}),
        json!({"key": "route_throttle_rate", "value": throttle.0, "source": api(stage_action)}),
        json!({"key": "route_throttle_burst", "value": throttle.1, "source": api(stage_action)}),
    ];
    if usage_plans {
        for key in ["usage_plan_rate", "usage_plan_burst"] {
            q.push(json!({"key": key, "value": null, "source": api("apigateway:GetUsagePlans")}));
        }
    }
    Value::Array(q)
}

fn route(name: &str, function: &str, memory: u64, quotas: Value) -> Value {
    json!({
        "route": name,
        "integration": "lambda",
        "function": function,
        "qualifier": "live",
        "quotas": quotas,
        "function_config": {
            "memory_mb": memory,
            "architecture": "x86_64",
            "timeout_s": 3,
            "source": api("lambda:GetFunctionConfiguration")
        }
    })
}

fn stage_reading(q: &Value, key: &str) -> (Value, Value) {
    let entry = q["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {q:#}"));
    (entry["value"].clone(), entry["source"]["action"].clone())
}

#[test]
fn a_rest_apis_routes_are_read_with_each_functions_limits() {
    let (q, _) = quotas("rest", &["--json"]);
    assert_eq!(q["not_read"], Value::Null, "every call answered: {q:#}");
    assert_eq!(
        q["api"],
        json!({"kind": "rest", "id": "emulated", "stage": "prod"})
    );
    let stage = "apigateway:GetStage";
    // GetResources' order: by path.
    let expected = json!([
        route(
            "POST /login",
            "login",
            128,
            limits(Some(10.0), None, (Some(5.0), Some(2.0)), stage, true)
        ),
        route(
            "POST /orders",
            "orders-create",
            1024,
            limits(
                Some(50.0),
                Some(5.0),
                (Some(100.0), Some(20.0)),
                stage,
                true
            )
        ),
        route(
            "GET /orders/{id}",
            "orders-get",
            512,
            limits(None, None, (None, None), stage, true)
        ),
    ]);
    assert_eq!(q["routes"], expected, "{:#}", q["routes"]);
    assert_eq!(
        stage_reading(&q, "stage_rate"),
        (json!(300.0), json!("apigateway:GetStage"))
    );
}

#[test]
fn an_http_apis_routes_and_stage_throttle_are_read_with_apigatewayv2() {
    let (q, _) = quotas("http", &["--json"]);
    assert_eq!(q["not_read"], Value::Null, "every call answered: {q:#}");
    assert_eq!(q["api"]["kind"], "http");
    let stage = "apigatewayv2:GetStage";
    // Route keys in order; no usage plans on an HTTP API.
    let expected = json!([
        route(
            "GET /orders/{id}",
            "orders-get",
            512,
            limits(None, None, (None, None), stage, false)
        ),
        route(
            "POST /login",
            "login",
            128,
            limits(Some(10.0), None, (Some(5.0), Some(2.0)), stage, false)
        ),
        route(
            "POST /orders",
            "orders-create",
            1024,
            limits(
                Some(50.0),
                Some(5.0),
                (Some(100.0), Some(20.0)),
                stage,
                false
            )
        ),
    ]);
    assert_eq!(q["routes"], expected, "{:#}", q["routes"]);
    // An HTTP API's stage throttle is its default route settings, not REST's GetStage.
    assert_eq!(
        stage_reading(&q, "stage_rate"),
        (json!(300.0), json!(stage))
    );
    assert_eq!(
        stage_reading(&q, "stage_burst"),
        (json!(150.0), json!(stage))
    );
}

#[test]
fn the_table_lists_each_route_after_the_account_wide_one() {
    let (_, text) = quotas("rest", &[]);
    let account = text.find("API Gateway throttle rate (account)").unwrap();
    let routes = text
        .find("routes (REST API emulated · stage prod)")
        .unwrap_or_else(|| panic!("{text}"));
    assert!(account < routes, "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("POST /orders "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("lambda"), "{row}");
    assert!(row.contains("orders-create:live"), "{row}");
    assert!(row.contains("function reserved concurrency"), "{row}");
    assert!(
        row.ends_with("50 concurrent  lambda:GetFunctionConcurrency"),
        "{row}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("route throttle rate")
                && l.ends_with(" 100 req/s  apigateway:GetStage")),
        "{text}"
    );
}

#[test]
fn a_url_that_names_no_api_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = stampede_aws(
        dir.path(),
        &["quotas", "--url", "https://api.example.com/prod/"],
        &DUMMY_KEYS,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--rest-api-id or --http-api-id with --stage"));
}
