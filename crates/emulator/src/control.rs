//! The emulator's control plane: the AWS API calls that read its quotas, in the wire
//! protocols the AWS SDKs speak — Service Quotas (awsJson1_1), Lambda and API Gateway
//! (restJson1) — serving the emulator's configured numbers.

use serde_json::{json, Value};

use crate::config::EmulatorConfig;
use crate::control_routes;

/// AWS's defaults: a quota left at one of these is "never changed", and GetServiceQuota
/// answers NoSuchResourceException for it.
pub const LAMBDA_CONCURRENCY_DEFAULT: f64 = 1000.0;
pub const APIGW_RATE_DEFAULT: f64 = 10_000.0;
pub const APIGW_BURST_DEFAULT: f64 = 5_000.0;
pub const REST_INTEGRATION_TIMEOUT_MS_DEFAULT: f64 = 29_000.0;

/// A control-plane answer.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    /// restJson1 errors name their type in `x-amzn-ErrorType`.
    pub error_type: Option<&'static str>,
    pub body: String,
}

/// The AWS service a request is for, from its SigV4 credential scope (or Service Quotas'
/// `X-Amz-Target`); `None` for data-plane traffic.
pub fn service_of(authorization: Option<&str>, amz_target: Option<&str>) -> Option<&'static str> {
    if amz_target.is_some_and(|t| t.starts_with("ServiceQuotasV20190624.")) {
        return Some("servicequotas");
    }
    let scope = authorization?.split("Credential=").nth(1)?;
    match scope.split('/').nth(3)? {
        "servicequotas" => Some("servicequotas"),
        "lambda" => Some("lambda"),
        "apigateway" => Some("apigateway"),
        "monitoring" => Some("monitoring"),
        _ => None,
    }
}

struct Quota {
    service: &'static str,
    code: &'static str,
    name: &'static str,
    value: f64,
    default: f64,
}

fn quotas(c: &EmulatorConfig) -> [Quota; 4] {
    [
        Quota {
            service: "lambda",
            code: "L-B99A9384",
            name: "Concurrent executions",
            value: c.account_concurrency as f64,
            default: LAMBDA_CONCURRENCY_DEFAULT,
        },
        Quota {
            service: "apigateway",
            code: "L-8A5B8E43",
            name: "Throttle rate",
            value: c.rate,
            default: APIGW_RATE_DEFAULT,
        },
        Quota {
            service: "apigateway",
            code: "L-CDF5615A",
            name: "Throttle burst rate",
            value: c.burst as f64,
            default: APIGW_BURST_DEFAULT,
        },
        Quota {
            service: "apigateway",
            code: "L-E5AE38E3",
            name: "Maximum integration timeout in milliseconds",
            value: c.integration_timeout.as_millis() as f64,
            default: REST_INTEGRATION_TIMEOUT_MS_DEFAULT,
        },
    ]
}

fn quota_json(c: &EmulatorConfig, q: &Quota, value: f64) -> Value {
    json!({
        "ServiceCode": q.service,
        "ServiceName": if q.service == "lambda" { "AWS Lambda" } else { "Amazon API Gateway" },
        "QuotaArn": format!("arn:aws:servicequotas:{}:123456789012:{}/{}", c.region, q.service, q.code),
        "QuotaCode": q.code,
        "QuotaName": q.name,
        "Value": value,
        "Unit": "None",
        "Adjustable": true,
        "GlobalQuota": false
    })
}

fn json_1_1(status: u16, body: Value) -> Reply {
    Reply {
        status,
        content_type: "application/x-amz-json-1.1",
        error_type: None,
        body: body.to_string(),
    }
}

fn rest_json(status: u16, body: Value) -> Reply {
    Reply {
        status,
        content_type: "application/json",
        error_type: None,
        body: body.to_string(),
    }
}

fn rest_error(status: u16, error_type: &'static str, body: Value) -> Reply {
    Reply {
        error_type: Some(error_type),
        ..rest_json(status, body)
    }
}

fn denied(c: &EmulatorConfig, action: &str) -> bool {
    c.deny.iter().any(|d| d == action)
}

/// Service Quotas: GetServiceQuota, GetAWSDefaultServiceQuota, ListServiceQuotas.
pub fn service_quotas(c: &EmulatorConfig, target: &str, body: &[u8]) -> Reply {
    let operation = target.rsplit('.').next().unwrap_or("");
    if denied(c, &format!("servicequotas:{operation}")) {
        return json_1_1(
            400,
            json!({"__type": "AccessDeniedException", "Message": format!("not authorized to perform: servicequotas:{operation}")}),
        );
    }
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let service = input["ServiceCode"].as_str().unwrap_or("");
    let code = input["QuotaCode"].as_str().unwrap_or("");
    let all = quotas(c);
    let found = all.iter().find(|q| q.service == service && q.code == code);
    let no_such = || {
        json_1_1(
            400,
            json!({"__type": "NoSuchResourceException", "Message": format!("The request failed because the specified quota {code} for service {service} does not exist or has its default value.")}),
        )
    };
    match operation {
        "GetServiceQuota" => match found {
            // Never changed: AWS has no applied value to show.
            Some(q) if q.value != q.default => {
                json_1_1(200, json!({ "Quota": quota_json(c, q, q.value) }))
            }
            _ => no_such(),
        },
        "GetAWSDefaultServiceQuota" => match found {
            Some(q) => json_1_1(200, json!({ "Quota": quota_json(c, q, q.default) })),
            None => no_such(),
        },
        "ListServiceQuotas" => {
            let listed: Vec<Value> = all
                .iter()
                .filter(|q| q.service == service)
                .map(|q| quota_json(c, q, q.value))
                .collect();
            json_1_1(200, json!({ "Quotas": listed }))
        }
        other => json_1_1(
            400,
            json!({"__type": "UnknownOperationException", "Message": format!("the emulator does not serve {other}")}),
        ),
    }
}

/// Lambda: GetAccountSettings, GetFunctionConcurrency (the calls on versions, aliases and
/// provisioned concurrency change state: `versions::api`).
pub fn lambda(c: &EmulatorConfig, path: &str) -> Reply {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    // A function of an API with routes answers with its own settings.
    if let ["2015-03-31" | "2019-09-30", "functions", name, _] = parts.as_slice() {
        if let Some(own) = control_routes::lambda_settings(c, name) {
            return lambda(&own, path);
        }
    }
    let operation = match parts.as_slice() {
        ["2016-08-19", "account-settings"] => "GetAccountSettings",
        ["2019-09-30", "functions", _, "concurrency"] => "GetFunctionConcurrency",
        _ => {
            return rest_error(
                404,
                "UnknownOperationException",
                json!({"Type": "User", "Message": format!("the emulator does not serve {path}")}),
            )
        }
    };
    if denied(c, &format!("lambda:{operation}")) {
        return rest_error(
            403,
            "AccessDeniedException",
            json!({"Type": "User", "Message": format!("not authorized to perform: lambda:{operation}")}),
        );
    }
    if operation == "GetAccountSettings" {
        let reserved = c.reserved_concurrency.unwrap_or(0)
            + c.functions
                .iter()
                .filter_map(|f| f.reserved_concurrency)
                .sum::<u64>();
        return rest_json(
            200,
            json!({
                "AccountLimit": {
                    "TotalCodeSize": 80530636800u64,
                    "CodeSizeUnzipped": 262144000u64,
                    "CodeSizeZipped": 52428800u64,
                    "ConcurrentExecutions": c.account_concurrency,
                    "UnreservedConcurrentExecutions": c.account_concurrency.saturating_sub(reserved)
                },
                "AccountUsage": { "TotalCodeSize": 0, "FunctionCount": 1 + c.functions.len() }
            }),
        );
    }
    // The SDKs percent-encode an ARN's colons.
    let name = percent_encoding::percent_decode_str(parts[2]).decode_utf8_lossy();
    let name = name.as_ref();
    // A function may be named by its name or its ARN.
    if name != c.function && !name.ends_with(&format!(":function:{}", c.function)) {
        return rest_error(
            404,
            "ResourceNotFoundException",
            json!({"Type": "User", "Message": format!("Function not found: {name}")}),
        );
    }
    rest_json(
        200,
        match c.reserved_concurrency {
            Some(r) => json!({ "ReservedConcurrentExecutions": r }),
            None => json!({}),
        },
    )
}

/// API Gateway: GetAccount, GetStage, GetRestApi, apigatewayv2's GetApi; for an API with
/// routes, its map (`control_routes`): GetResources, GetIntegration, GetUsagePlans, and
/// apigatewayv2's GetRoutes, GetIntegrations and GetStage.
pub fn api_gateway(c: &EmulatorConfig, path: &str) -> Reply {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let operation = match parts.as_slice() {
        ["account"] => "GetAccount",
        ["restapis", _, "stages", _] => "GetStage",
        ["restapis", _] => "GetRestApi",
        ["restapis", _, "resources"] => "GetResources",
        ["restapis", _, "resources", _, "methods", _, "integration"] => "GetIntegration",
        ["usageplans"] => "GetUsagePlans",
        ["v2", "apis", _] => "GetApi",
        ["v2", "apis", _, "routes"] => "GetRoutes",
        ["v2", "apis", _, "integrations"] => "GetIntegrations",
        ["v2", "apis", _, "stages", _] => "GetStageV2",
        _ => {
            return rest_error(
                404,
                "NotFoundException",
                json!({"message": format!("the emulator does not serve {path}")}),
            )
        }
    };
    // apigatewayv2's GetStage is denied as REST's is.
    if denied(
        c,
        &format!("apigateway:{}", operation.trim_end_matches("V2")),
    ) {
        return rest_error(
            403,
            "AccessDeniedException",
            json!({"message": format!("User is not authorized to perform: apigateway:GET on resource {path}")}),
        );
    }
    if operation == "GetAccount" {
        return rest_json(
            200,
            json!({
                "throttleSettings": { "burstLimit": c.burst, "rateLimit": c.rate },
                "features": [],
                "apiKeyVersion": "4"
            }),
        );
    }
    if operation == "GetRestApi" {
        // An HTTP API is not a REST API: API Gateway's v1 API does not know it.
        return if parts[1] == c.rest_api_id && c.api == crate::config::ApiMode::Rest {
            rest_json(
                200,
                json!({"id": c.rest_api_id, "name": crate::metrics::api_name(c), "apiKeySource": "HEADER"}),
            )
        } else {
            rest_error(
                404,
                "NotFoundException",
                json!({"message": "Invalid API identifier specified"}),
            )
        };
    }
    if operation == "GetApi" {
        // Only an HTTP API is one of apigatewayv2's: how a client tells the kinds apart.
        return if parts[2] == c.rest_api_id && c.api == crate::config::ApiMode::Http {
            rest_json(200, control_routes::get_api(c))
        } else {
            rest_error(
                404,
                "NotFoundException",
                json!({"message": format!("Invalid API identifier specified {}", parts[2])}),
            )
        };
    }
    if let Some(reply) = api_map_call(c, operation, &parts) {
        return reply;
    }
    if parts[1] != c.rest_api_id || parts[3] != c.stage {
        return rest_error(
            404,
            "NotFoundException",
            json!({"message": "Invalid stage identifier specified"}),
        );
    }
    let mut method_settings = match (c.stage_rate, c.stage_burst) {
        (Some(rate), Some(burst)) => json!({
            "*/*": {
                "metricsEnabled": c.publishes_route_metrics(),
                "throttlingBurstLimit": burst,
                "throttlingRateLimit": rate,
                "cachingEnabled": false,
                "requireAuthorizationForCacheControl": true,
                "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER"
            }
        }),
        _ => json!({}),
    };
    if let Value::Object(settings) = &mut method_settings {
        control_routes::method_settings(c, settings);
    }
    rest_json(
        200,
        json!({
            "deploymentId": "emulated",
            "stageName": c.stage,
            "methodSettings": method_settings,
            "tracingEnabled": false
        }),
    )
}

/// The calls that read an API's map; `None` for the others.
fn api_map_call(c: &EmulatorConfig, operation: &str, parts: &[&str]) -> Option<Reply> {
    let not_found = |what: &str| {
        rest_error(
            404,
            "NotFoundException",
            json!({"message": format!("Invalid {what} identifier specified")}),
        )
    };
    let api_known =
        parts.get(if parts[0] == "v2" { 2 } else { 1 }) == Some(&c.rest_api_id.as_str());
    let answer = match operation {
        "GetUsagePlans" => control_routes::get_usage_plans(),
        _ if !api_known => return Some(not_found("API")),
        "GetResources" => control_routes::get_resources(c),
        "GetIntegration" => match control_routes::get_integration(c, parts[3], parts[5]) {
            Some(i) => i,
            None => return Some(not_found("Method")),
        },
        "GetRoutes" => control_routes::get_routes(c),
        "GetIntegrations" => control_routes::get_integrations(c),
        "GetStageV2" if parts[4] != c.stage => return Some(not_found("stage")),
        "GetStageV2" => control_routes::get_stage_v2(c),
        _ => return None,
    };
    Some(rest_json(200, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_routed_by_their_signing_scope() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x";
        assert_eq!(service_of(Some(auth), None), Some("lambda"));
        assert_eq!(
            service_of(None, Some("ServiceQuotasV20190624.GetServiceQuota")),
            Some("servicequotas")
        );
        assert_eq!(service_of(Some("Bearer abc"), None), None);
        assert_eq!(service_of(None, None), None);
    }

    #[test]
    fn get_api_knows_only_an_http_api() {
        let http = EmulatorConfig {
            api: crate::config::ApiMode::Http,
            ..EmulatorConfig::default()
        };
        let r = api_gateway(&http, "/v2/apis/emulated");
        assert_eq!(r.status, 200);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            (v["apiId"].as_str(), v["protocolType"].as_str()),
            (Some("emulated"), Some("HTTP"))
        );
        assert_eq!(api_gateway(&http, "/v2/apis/other").status, 404);
        assert_eq!(api_gateway(&http, "/restapis/emulated").status, 404);
        let rest = EmulatorConfig::default();
        assert_eq!(api_gateway(&rest, "/v2/apis/emulated").status, 404);
        assert_eq!(api_gateway(&rest, "/restapis/emulated").status, 200);
    }

    #[test]
    fn a_quota_at_its_default_is_not_applied() {
        let c = EmulatorConfig::default();
        let r = service_quotas(
            &c,
            "ServiceQuotasV20190624.GetServiceQuota",
            br#"{"ServiceCode":"lambda","QuotaCode":"L-B99A9384"}"#,
        );
        assert_eq!(r.status, 400);
        assert!(r.body.contains("NoSuchResourceException"));
        let changed = EmulatorConfig {
            account_concurrency: 100,
            ..EmulatorConfig::default()
        };
        let r = service_quotas(
            &changed,
            "ServiceQuotasV20190624.GetServiceQuota",
            br#"{"ServiceCode":"lambda","QuotaCode":"L-B99A9384"}"#,
        );
        assert_eq!(r.status, 200);
        assert!(r.body.contains(r#""Value":100.0"#), "{}", r.body);
    }
}
