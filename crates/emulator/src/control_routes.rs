//! The control plane of an API with routes: the calls that read its map, in AWS's shapes.
//! REST (`apigateway`): GetResources (methods embedded), GetIntegration, GetUsagePlans,
//! and GetStage's per-method `methodSettings`; HTTP API (`apigatewayv2`): GetApi,
//! GetRoutes, GetIntegrations and GetStage with `routeSettings`. Lambda's per-function
//! calls take the function's own settings (`lambda_settings`). Pure.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::api_map::{self, RouteConfig};
use crate::config::EmulatorConfig;
use crate::invoke_api::function_arn;
use crate::routes::RoutePattern;

/// The settings Lambda's calls about function `encoded` (a name, a qualified name or an
/// ARN, percent-encoded) answer from: that function's, when it is one of the routes'.
pub fn lambda_settings(c: &EmulatorConfig, encoded: &str) -> Option<EmulatorConfig> {
    let f = &c.functions[routes_function(c, encoded)?];
    Some(api_map::function_settings(c, f))
}

/// The index of the function of `[emulator.functions]` that `encoded` names (a name, a
/// qualified name or an ARN, percent-encoded), if any.
pub fn routes_function(c: &EmulatorConfig, encoded: &str) -> Option<usize> {
    let name = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
    let name = match name.strip_prefix("arn:") {
        Some(arn) => arn.split(':').nth(5)?.to_string(),
        None => name.split(':').next()?.to_string(),
    };
    c.functions.iter().position(|f| f.name == name)
}

/// One REST resource: a path and the routes (methods) on it.
struct Resource<'a> {
    id: String,
    parent: Option<String>,
    path: String,
    methods: Vec<&'a RouteConfig>,
}

/// Every resource the routes need, parents included, root first; ids stable.
fn resources(c: &EmulatorConfig) -> Vec<Resource<'_>> {
    let mut by_path: BTreeMap<String, Vec<&RouteConfig>> = BTreeMap::new();
    by_path.insert("/".into(), Vec::new());
    for r in &c.routes {
        let path = r.pattern.path();
        let mut prefix = String::new();
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            prefix.push('/');
            prefix.push_str(segment);
            by_path.entry(prefix.clone()).or_default();
        }
        by_path.entry(path).or_default().push(r);
    }
    let ids: BTreeMap<String, String> = by_path
        .keys()
        .enumerate()
        .map(|(i, p)| (p.clone(), resource_id(i)))
        .collect();
    by_path
        .into_iter()
        .map(|(path, methods)| {
            let parent = (path != "/").then(|| {
                let up = &path[..path.rfind('/').unwrap_or(0)];
                ids[if up.is_empty() { "/" } else { up }].clone()
            });
            Resource {
                id: ids[&path].clone(),
                parent,
                path,
                methods,
            }
        })
        .collect()
}

/// API Gateway's ids are ten lower-case letters and digits.
fn resource_id(i: usize) -> String {
    format!("res{i:07}")
}

fn route_id(i: usize) -> String {
    format!("rt{i:05}")
}

fn integration_id(i: usize) -> String {
    format!("in{i:05}")
}

/// The ARN a route's integration invokes: its function's, on the alias `qualifier`.
fn target_arn(c: &EmulatorConfig, r: &RouteConfig) -> String {
    function_arn(&c.region, &c.functions[r.function].name, Some(&c.qualifier))
}

/// A REST method's Lambda proxy integration.
fn integration(c: &EmulatorConfig, r: &RouteConfig) -> Value {
    json!({
        "type": "AWS_PROXY",
        "httpMethod": "POST",
        "uri": format!(
            "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/invocations",
            c.region,
            target_arn(c, r)
        ),
        "passthroughBehavior": "WHEN_NO_MATCH",
        "timeoutInMillis": c.integration_timeout.as_millis().min(29_000) as u64,
        "cacheNamespace": "emulated",
        "cacheKeyParameters": []
    })
}

fn method(c: &EmulatorConfig, r: &RouteConfig) -> Value {
    json!({
        "httpMethod": r.pattern.method_name(),
        "authorizationType": "NONE",
        "apiKeyRequired": false,
        "methodIntegration": integration(c, r)
    })
}

/// `GET /restapis/{id}/resources`: every resource with its methods embedded.
pub fn get_resources(c: &EmulatorConfig) -> Value {
    let items: Vec<Value> = resources(c)
        .iter()
        .map(|res| {
            let mut item = json!({ "id": res.id, "path": res.path });
            if let Some(parent) = &res.parent {
                item["parentId"] = json!(parent);
                item["pathPart"] = json!(res.path.rsplit('/').next().unwrap_or(""));
            }
            if !res.methods.is_empty() {
                let methods: Map<String, Value> = res
                    .methods
                    .iter()
                    .map(|r| (r.pattern.method_name().to_string(), method(c, r)))
                    .collect();
                item["resourceMethods"] = Value::Object(methods);
            }
            item
        })
        .collect();
    json!({ "item": items })
}

/// `GET /restapis/{id}/resources/{rid}/methods/{method}/integration`.
pub fn get_integration(c: &EmulatorConfig, resource: &str, http_method: &str) -> Option<Value> {
    let all = resources(c);
    let res = all.iter().find(|r| r.id == resource)?;
    let r = res
        .methods
        .iter()
        .find(|r| r.pattern.method_name().eq_ignore_ascii_case(http_method))?;
    Some(integration(c, r))
}

/// GetStage's `methodSettings` key of a route: `~1orders~1{id}/GET` (`*` for ANY).
pub fn method_settings_key(p: &RoutePattern) -> String {
    let method = p.method.as_deref().unwrap_or("*");
    format!("{}/{method}", p.path().replace('/', "~1"))
}

/// GetStage's per-method throttles, beside `*/*`.
pub fn method_settings(c: &EmulatorConfig, settings: &mut Map<String, Value>) {
    for r in &c.routes {
        if let Some((rate, burst)) = r.throttle {
            settings.insert(
                method_settings_key(&r.pattern),
                json!({
                    "metricsEnabled": c.publishes_route_metrics(),
                    "throttlingBurstLimit": burst,
                    "throttlingRateLimit": rate,
                    "cachingEnabled": false
                }),
            );
        }
    }
}

/// `GET /usageplans`: the emulator has none.
pub fn get_usage_plans() -> Value {
    json!({ "items": [] })
}

/// `GET /v2/apis/{id}` of an HTTP API.
pub fn get_api(c: &EmulatorConfig) -> Value {
    json!({
        "apiId": c.rest_api_id,
        "name": crate::metrics::api_name(c),
        "protocolType": "HTTP",
        "apiEndpoint": format!("https://{}.execute-api.{}.amazonaws.com", c.rest_api_id, c.region),
        "routeSelectionExpression": "$request.method $request.path",
        "apiKeySelectionExpression": "$request.header.x-api-key",
        "disableExecuteApiEndpoint": false
    })
}

/// `GET /v2/apis/{id}/routes`.
pub fn get_routes(c: &EmulatorConfig) -> Value {
    let items: Vec<Value> = c
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "routeId": route_id(i),
                "routeKey": r.pattern.to_string(),
                "target": format!("integrations/{}", integration_id(i)),
                "authorizationType": "NONE",
                "apiKeyRequired": false
            })
        })
        .collect();
    json!({ "items": items })
}

/// `GET /v2/apis/{id}/integrations`: one Lambda proxy integration per route.
pub fn get_integrations(c: &EmulatorConfig) -> Value {
    let items: Vec<Value> = c
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "integrationId": integration_id(i),
                "integrationType": "AWS_PROXY",
                "integrationMethod": "POST",
                "integrationUri": target_arn(c, r),
                "payloadFormatVersion": "2.0",
                "timeoutInMillis": c.integration_timeout.as_millis().min(30_000) as u64,
                "connectionType": "INTERNET"
            })
        })
        .collect();
    json!({ "items": items })
}

/// `GET /v2/apis/{id}/stages/{stage}`: the stage throttle as `defaultRouteSettings`,
/// each route's as `routeSettings`.
pub fn get_stage_v2(c: &EmulatorConfig) -> Value {
    let mut default = json!({ "detailedMetricsEnabled": c.publishes_route_metrics() });
    if let (Some(rate), Some(burst)) = (c.stage_rate, c.stage_burst) {
        default["throttlingRateLimit"] = json!(rate);
        default["throttlingBurstLimit"] = json!(burst);
    }
    let route_settings: Map<String, Value> = c
        .routes
        .iter()
        .filter_map(|r| {
            let (rate, burst) = r.throttle?;
            Some((
                r.pattern.to_string(),
                json!({
                    "detailedMetricsEnabled": c.publishes_route_metrics(),
                    "throttlingRateLimit": rate,
                    "throttlingBurstLimit": burst
                }),
            ))
        })
        .collect();
    json!({
        "stageName": c.stage,
        "autoDeploy": true,
        "defaultRouteSettings": default,
        "routeSettings": route_settings,
        "stageVariables": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer_template::FunctionAnswer;
    use crate::api_map::FunctionConfig;

    fn api() -> EmulatorConfig {
        let base = EmulatorConfig::default();
        let function = |name: &str, reserved| FunctionConfig {
            name: name.into(),
            reserved_concurrency: reserved,
            provisioned_concurrency: None,
            cold_start: base.cold_start,
            duration: base.duration,
            cpu_time: base.cpu_time,
            init_cpu_time: base.init_cpu_time,
            memory_mb: 256,
            error_rate: 0.0,
            answer: FunctionAnswer::default(),
        };
        let route = |text: &str, function, throttle| RouteConfig {
            pattern: RoutePattern::parse(text).unwrap(),
            function,
            throttle,
        };
        EmulatorConfig {
            functions: vec![
                function("orders-create", Some(50)),
                function("orders-get", None),
            ],
            routes: vec![
                route("POST /orders", 0, Some((100.0, 20))),
                route("GET /orders/{id}", 1, None),
            ],
            ..base
        }
    }

    #[test]
    fn resources_are_a_tree_with_their_methods() {
        let r = get_resources(&api());
        let items = r["item"].as_array().unwrap();
        let paths: Vec<&str> = items.iter().map(|i| i["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["/", "/orders", "/orders/{id}"]);
        assert_eq!(items[2]["parentId"], items[1]["id"]);
        assert_eq!(items[2]["pathPart"], "{id}");
        let post = &items[1]["resourceMethods"]["POST"];
        assert_eq!(
            post["methodIntegration"]["uri"],
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders-create:live/invocations"
        );
        let id = items[2]["id"].as_str().unwrap();
        assert_eq!(
            get_integration(&api(), id, "GET").unwrap()["type"],
            "AWS_PROXY"
        );
        assert!(get_integration(&api(), id, "POST").is_none());
    }

    #[test]
    fn stage_settings_key_each_method() {
        let c = api();
        assert_eq!(method_settings_key(&c.routes[0].pattern), "~1orders/POST");
        assert_eq!(
            method_settings_key(&c.routes[1].pattern),
            "~1orders~1{id}/GET"
        );
        let mut m = Map::new();
        method_settings(&c, &mut m);
        assert_eq!(m["~1orders/POST"]["throttlingRateLimit"], 100.0);
        assert_eq!(m.len(), 1);
        let v2 = get_stage_v2(&c);
        assert_eq!(
            v2["routeSettings"]["POST /orders"]["throttlingBurstLimit"],
            20
        );
        let routes = get_routes(&c);
        assert_eq!(routes["items"][1]["routeKey"], "GET /orders/{id}");
        let integrations = get_integrations(&c);
        assert_eq!(
            integrations["items"][1]["integrationUri"],
            "arn:aws:lambda:us-east-1:123456789012:function:orders-get:live"
        );
    }

    #[test]
    fn lambda_calls_name_a_routes_function() {
        let c = api();
        let s = lambda_settings(&c, "orders-create").unwrap();
        assert_eq!(
            (s.function.as_str(), s.reserved_concurrency),
            ("orders-create", Some(50))
        );
        let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders-get%3Alive";
        assert_eq!(lambda_settings(&c, arn).unwrap().memory_mb, 256);
        assert!(lambda_settings(&c, "emulated-function").is_none());
    }
}
