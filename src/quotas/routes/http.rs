//! An HTTP API's map: `GetRoutes`, `GetIntegrations` (a route's target `integrations/ID`)
//! and `GetStage` (its `RouteSettings` per route key, `DefaultRouteSettings` for the
//! stage, and its variables), all at once. HTTP APIs have no usage plans.

use std::collections::HashMap;

use aws_sdk_apigatewayv2 as apigatewayv2;

use super::super::failure::{of_sdk_error, Failure};
use super::super::precedence::{Failures, Read, Throttle};
use super::uri;
use super::{throttle_quotas, IntegrationKind, LimitKey, Map, Route};

const GET_ROUTES: &str = "apigatewayv2:GetRoutes";
const GET_INTEGRATIONS: &str = "apigatewayv2:GetIntegrations";
const GET_STAGE: &str = "apigatewayv2:GetStage";

/// Pages asked at most of a listing.
const MAX_PAGES: usize = 100;

/// What the routes need of the stage.
#[derive(Default)]
struct Stage {
    default: Throttle,
    /// `RouteSettings`' throttles, by route key.
    routes: HashMap<String, Throttle>,
    variables: HashMap<String, String>,
}

/// A route: its key and the integration its target names.
struct RouteKey {
    key: String,
    integration_id: Option<String>,
}

/// An integration: its kind, and the URI (a Lambda ARN, a URL) when it has one.
struct Integration {
    kind: IntegrationKind,
    uri: Option<String>,
}

pub(super) async fn read(v2: &apigatewayv2::Client, api_id: &str, stage: &str) -> Map {
    let (stage_read, routes, integrations) = tokio::join!(
        get_stage(v2, api_id, stage),
        get_routes(v2, api_id),
        get_integrations(v2, api_id)
    );
    let mut failures = Failures::default();
    let mut routes = routes
        .map_err(|e| failures.add_about(GET_ROUTES, &e, None))
        .unwrap_or_default();
    // `$default` catches what no other route does: last.
    routes.sort_by(|a, b| (a.key == "$default", &a.key).cmp(&(b.key == "$default", &b.key)));
    let integrations = integrations
        .map_err(|e| failures.add_about(GET_INTEGRATIONS, &e, None))
        .ok();
    let routes = routes
        .into_iter()
        .map(|r| {
            route(
                r,
                stage_read.as_ref().ok(),
                integrations.as_ref(),
                &mut failures,
            )
        })
        .collect();
    Map {
        routes,
        stage: (GET_STAGE, stage_read.map(|s| s.default)),
        failures,
    }
}

/// One route and its own throttle. Without the integrations (their call failed, named
/// once elsewhere) a route's integration is unknown: `none`.
fn route(
    r: RouteKey,
    stage: Option<&Stage>,
    integrations: Option<&HashMap<String, Integration>>,
    failures: &mut Failures,
) -> Route {
    let integration = r
        .integration_id
        .as_ref()
        .and_then(|id| integrations?.get(id));
    let kind = integration.map_or(IntegrationKind::None, |i| i.kind);
    let function = match (kind, integration.and_then(|i| i.uri.as_deref())) {
        (IntegrationKind::Lambda, Some(u)) => {
            let no_variables = HashMap::new();
            match uri::substitute(u, stage.map_or(&no_variables, |s| &s.variables)) {
                Ok(u) => uri::lambda_function(&u),
                Err(name) => {
                    if stage.is_some() {
                        let why = format!("stage variable {name} is not set on the stage");
                        failures.add_about(GET_STAGE, &Failure::Reason(why), Some(r.key.clone()));
                    }
                    None
                }
            }
        }
        _ => None,
    };
    let quotas = match stage {
        Some(s) => throttle_quotas(
            (LimitKey::RouteThrottleRate, LimitKey::RouteThrottleBurst),
            s.routes.get(&r.key).copied().unwrap_or_default(),
            GET_STAGE,
            None,
        )
        .to_vec(),
        None => Vec::new(),
    };
    Route {
        route: r.key,
        integration: kind,
        function,
        quotas,
    }
}

fn throttle_of(s: &apigatewayv2::types::RouteSettings) -> Throttle {
    (
        s.throttling_rate_limit().and_then(uri::throttle),
        s.throttling_burst_limit()
            .and_then(|b| uri::throttle(f64::from(b))),
    )
}

async fn get_stage(v2: &apigatewayv2::Client, api_id: &str, stage: &str) -> Read<Stage> {
    let out = v2
        .get_stage()
        .api_id(api_id)
        .stage_name(stage)
        .send()
        .await
        .map_err(|e| of_sdk_error(&e, &[]))?;
    Ok(Stage {
        default: out
            .default_route_settings()
            .map(throttle_of)
            .unwrap_or_default(),
        routes: out
            .route_settings()
            .into_iter()
            .flatten()
            .map(|(key, s)| (key.clone(), throttle_of(s)))
            .collect(),
        variables: out.stage_variables().cloned().unwrap_or_default(),
    })
}

async fn get_routes(v2: &apigatewayv2::Client, api_id: &str) -> Read<Vec<RouteKey>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = v2
            .get_routes()
            .api_id(api_id)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| of_sdk_error(&e, &[]))?;
        out.extend(page.items().iter().map(|r| {
            RouteKey {
                key: r.route_key().unwrap_or_default().to_string(),
                integration_id: r
                    .target()
                    .and_then(|t| t.strip_prefix("integrations/"))
                    .map(str::to_string),
            }
        }));
        match page.next_token() {
            Some(t) if !t.is_empty() && Some(t) != token.as_deref() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

async fn get_integrations(
    v2: &apigatewayv2::Client,
    api_id: &str,
) -> Read<HashMap<String, Integration>> {
    let mut out = HashMap::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = v2
            .get_integrations()
            .api_id(api_id)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| of_sdk_error(&e, &[]))?;
        for i in page.items() {
            let kind = uri::http_kind(
                i.integration_type().map_or("", |t| t.as_str()),
                i.integration_subtype(),
            );
            out.insert(
                i.integration_id().unwrap_or_default().to_string(),
                Integration {
                    kind,
                    uri: i.integration_uri().map(str::to_string),
                },
            );
        }
        match page.next_token() {
            Some(t) if !t.is_empty() && Some(t) != token.as_deref() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_take_their_integration_and_route_settings() {
        let stage = Stage {
            default: (Some(100.0), Some(50.0)),
            routes: [("GET /orders/{id}".to_string(), (Some(30.0), Some(6.0)))].into(),
            variables: HashMap::new(),
        };
        let integrations: HashMap<String, Integration> = [
            (
                "a".to_string(),
                Integration {
                    kind: IntegrationKind::Lambda,
                    uri: Some("arn:aws:lambda:us-east-1:1:function:orders-get".into()),
                },
            ),
            (
                "b".to_string(),
                Integration {
                    kind: IntegrationKind::Http,
                    uri: Some("https://example.com".into()),
                },
            ),
        ]
        .into();
        let key = |k: &str, id: Option<&str>| RouteKey {
            key: k.into(),
            integration_id: id.map(str::to_string),
        };
        let mut failures = Failures::default();
        let get = route(
            key("GET /orders/{id}", Some("a")),
            Some(&stage),
            Some(&integrations),
            &mut failures,
        );
        assert_eq!(get.function.unwrap().name, "orders-get");
        let values: Vec<Option<f64>> = get.quotas.iter().map(|q| q.value).collect();
        assert_eq!(values, [Some(30.0), Some(6.0)]);
        let other = route(
            key("ANY /other", Some("b")),
            Some(&stage),
            Some(&integrations),
            &mut failures,
        );
        assert_eq!(
            (other.integration, other.function),
            (IntegrationKind::Http, None)
        );
        assert_eq!(
            other.quotas[0].value, None,
            "the default route settings are the stage's"
        );
        let bare = route(
            key("$default", None),
            None,
            Some(&integrations),
            &mut failures,
        );
        assert_eq!(
            (bare.integration, bare.quotas.len()),
            (IntegrationKind::None, 0)
        );
    }
}
