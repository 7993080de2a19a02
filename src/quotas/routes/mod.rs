//! An API's map: its routes, what each integrates with, the function and qualifier it
//! invokes, and the limits behind each route — the method's or route's own throttle, the
//! usage plans', the function's reserved and provisioned concurrency.
//!
//! The kind of API is asked when not given (REST's `GetRestApi` and v2's `GetApi` at
//! once: the one that answers decides); [`rest`] and [`http`] read the map; then Lambda
//! is asked about each distinct function, all at once. Every failed call is named, never
//! an error. The parsing is [`uri`]'s, pure.

mod http;
mod rest;
mod uri;

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use aws_sdk_apigateway as apigateway;
use aws_sdk_apigatewayv2 as apigatewayv2;
use aws_sdk_lambda as lambda;
use futures_util::future::join_all;

use super::failure::{of_sdk_error, Failure};
use super::function;
use super::precedence::{Failures, Read, StageRead, Throttle};
use super::{
    ApiKind, ApiMapped, FunctionConfig, IntegrationKind, LimitKey, Quota, QuotaSource, RouteLimits,
};
use uri::LambdaRef;

/// One route as the API defines it, before its function is read.
struct Route {
    /// `METHOD /path`, or an HTTP API's route key.
    route: String,
    integration: IntegrationKind,
    function: Option<LambdaRef>,
    /// Its throttle's and usage plans' readings.
    quotas: Vec<Quota>,
}

/// What [`rest`] or [`http`] read.
struct Map {
    routes: Vec<Route>,
    /// The stage's own throttle (rate, burst), and the call that read it.
    stage: StageRead,
    failures: Failures,
}

/// What reading an API's map gave.
pub(super) struct ApiRead {
    /// `None` when not even the kind of API could be read.
    pub(super) api: Option<ApiMapped>,
    pub(super) routes: Vec<RouteLimits>,
    /// The stage throttle, for the account-wide table; `None` when the kind was not read.
    pub(super) stage: Option<StageRead>,
    /// Every other call that failed.
    pub(super) failures: Failures,
}

/// Reads the map of API `api_id`, stage `stage` (a REST or HTTP API as `kind` says, else
/// as API Gateway answers).
pub(super) async fn read(
    config: &SdkConfig,
    api_id: &str,
    stage: &str,
    kind: Option<ApiKind>,
) -> ApiRead {
    let apigw = apigateway::Client::new(config);
    let v2 = apigatewayv2::Client::new(config);
    let mut failures = Failures::default();
    let kind = match kind {
        Some(k) => k,
        None => match probe(&apigw, &v2, api_id, &mut failures).await {
            Some(k) => k,
            None => {
                return ApiRead {
                    api: None,
                    routes: Vec::new(),
                    stage: None,
                    failures,
                }
            }
        },
    };
    let map = match kind {
        ApiKind::Rest => rest::read(&apigw, api_id, stage).await,
        ApiKind::Http => http::read(&v2, api_id, stage).await,
    };
    failures.extend(map.failures);
    let lambda = lambda::Client::new(config);
    let region = config.region().map(|r| r.to_string());
    let routes = with_functions(&lambda, region.as_deref(), map.routes, &mut failures).await;
    ApiRead {
        api: Some(ApiMapped {
            kind,
            id: api_id.to_string(),
            stage: stage.to_string(),
        }),
        routes,
        stage: Some(map.stage),
        failures,
    }
}

const GET_REST_API: &str = "apigateway:GetRestApi";
const GET_API: &str = "apigatewayv2:GetApi";

/// REST or HTTP API: both are asked at once, and the one that knows the id decides.
async fn probe(
    apigw: &apigateway::Client,
    v2: &apigatewayv2::Client,
    api_id: &str,
    failures: &mut Failures,
) -> Option<ApiKind> {
    let (rest, http) = tokio::join!(
        apigw.get_rest_api().rest_api_id(api_id).send(),
        v2.get_api().api_id(api_id).send()
    );
    let http = http.map(|out| out.protocol_type().map(|p| p.as_str().to_string()));
    match (rest, http) {
        (Ok(_), _) => Some(ApiKind::Rest),
        (_, Ok(Some(protocol))) if protocol == "WEBSOCKET" => {
            let why = Failure::Reason("a WebSocket API: it has no HTTP routes to read".into());
            failures.add_about(GET_API, &why, Some(api_id.to_string()));
            None
        }
        (_, Ok(_)) => Some(ApiKind::Http),
        (Err(rest), Err(http)) => {
            failures.add_about(GET_REST_API, &of_sdk_error(&rest, &[]), None);
            failures.add_about(GET_API, &of_sdk_error(&http, &[]), None);
            None
        }
    }
}

/// What Lambda said of one function (and qualifier).
struct FunctionRead {
    reserved: Read<Option<f64>>,
    provisioned: Option<Read<Option<f64>>>,
    configuration: Read<FunctionConfig>,
}

/// The routes with their functions' limits: each distinct function asked once, all at
/// once.
async fn with_functions(
    lambda: &lambda::Client,
    region: Option<&str>,
    routes: Vec<Route>,
    failures: &mut Failures,
) -> Vec<RouteLimits> {
    let targets: BTreeSet<(String, Option<String>)> = routes
        .iter()
        .filter_map(|r| r.function.as_ref())
        .map(|f| (f.call_name(region).to_string(), f.qualifier.clone()))
        .collect();
    let functions: BTreeSet<&str> = targets.iter().map(|(f, _)| f.as_str()).collect();
    let (reserved, per_target) = tokio::join!(
        join_all(
            functions
                .iter()
                .map(|f| function::reserved_concurrency(lambda, f))
        ),
        join_all(targets.iter().map(|(f, q)| async move {
            let provisioned = async {
                match q {
                    Some(q) => Some(function::provisioned_concurrency(lambda, f, q).await),
                    None => None,
                }
            };
            tokio::join!(
                provisioned,
                function::configuration(lambda, f, q.as_deref())
            )
        }))
    );
    let reserved: Vec<(&str, Read<Option<f64>>)> = functions.into_iter().zip(reserved).collect();
    let read: Vec<(&(String, Option<String>), FunctionRead)> = targets
        .iter()
        .zip(per_target)
        .map(|(target, (provisioned, configuration))| {
            let reserved = reserved
                .iter()
                .find(|(f, _)| *f == target.0)
                .map(|(_, r)| r.clone())
                .expect("every target's function was asked");
            (
                target,
                FunctionRead {
                    reserved,
                    provisioned,
                    configuration,
                },
            )
        })
        .collect();
    for ((function, qualifier), f) in &read {
        let label = match qualifier {
            Some(q) => format!("{function}:{q}"),
            None => function.clone(),
        };
        if let Err(e) = &f.reserved {
            failures.add_about(function::RESERVED, e, Some(function.clone()));
        }
        if let Some(Err(e)) = &f.provisioned {
            failures.add_about(function::PROVISIONED, e, Some(label.clone()));
        }
        if let Err(e) = &f.configuration {
            failures.add_about(function::CONFIGURATION, e, Some(label));
        }
    }
    routes
        .into_iter()
        .map(|r| {
            let target = r
                .function
                .as_ref()
                .map(|f| (f.call_name(region).to_string(), f.qualifier.clone()));
            let f = target.and_then(|t| read.iter().find(|(k, _)| **k == t).map(|(_, f)| f));
            limits(r, f)
        })
        .collect()
}

fn api(action: &str) -> QuotaSource {
    QuotaSource::Api {
        action: action.into(),
    }
}

/// A route's limits: its own, then its function's. Pure.
fn limits(r: Route, f: Option<&FunctionRead>) -> RouteLimits {
    let mut quotas = r.quotas;
    let mut function_config = None;
    if let Some(f) = f {
        if let Ok(v) = &f.reserved {
            quotas.push(Quota {
                key: LimitKey::FunctionReservedConcurrency,
                value: *v,
                source: api(function::RESERVED),
                note: None,
            });
        }
        if let Some(Ok(v)) = &f.provisioned {
            quotas.push(Quota {
                key: LimitKey::FunctionProvisionedConcurrency,
                value: *v,
                source: api(function::PROVISIONED),
                note: None,
            });
        }
        function_config = f.configuration.as_ref().ok().cloned();
    }
    quotas.sort_by_key(|q| q.key);
    RouteLimits {
        route: r.route,
        integration: r.integration,
        function: r.function.as_ref().map(|f| f.name.clone()),
        qualifier: r.function.and_then(|f| f.qualifier),
        quotas,
        function_config,
    }
}

/// A throttle reading: rate and burst, each `None` when read and not set.
fn throttle_quotas(
    keys: (LimitKey, LimitKey),
    throttle: Throttle,
    action: &str,
    note: Option<String>,
) -> [Quota; 2] {
    [(keys.0, throttle.0), (keys.1, throttle.1)].map(|(key, value)| Quota {
        key,
        value,
        source: api(action),
        note: note.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_takes_its_functions_readings_and_only_those_read() {
        let route = Route {
            route: "GET /orders/{id}".into(),
            integration: IntegrationKind::Lambda,
            function: uri::lambda_function("arn:aws:lambda:us-east-1:1:function:orders-get:live"),
            quotas: throttle_quotas(
                (LimitKey::RouteThrottleRate, LimitKey::RouteThrottleBurst),
                (Some(50.0), None),
                "apigateway:GetStage",
                None,
            )
            .to_vec(),
        };
        let read = FunctionRead {
            reserved: Ok(Some(5.0)),
            provisioned: Some(Err(Failure::Reason("access denied".into()))),
            configuration: Err(Failure::Reason("access denied".into())),
        };
        let r = limits(route, Some(&read));
        assert_eq!(r.function_label().as_deref(), Some("orders-get:live"));
        let keys: Vec<(LimitKey, Option<f64>)> =
            r.quotas.iter().map(|q| (q.key, q.value)).collect();
        assert_eq!(
            keys,
            [
                (LimitKey::FunctionReservedConcurrency, Some(5.0)),
                (LimitKey::RouteThrottleRate, Some(50.0)),
                (LimitKey::RouteThrottleBurst, None),
            ]
        );
        assert_eq!(r.function_config, None);
    }
}
