//! The REST API calls of the map: GetStage, GetResources (every page), GetIntegration for
//! the methods it did not embed, GetUsagePlans (every page).

use aws_sdk_apigateway as apigateway;
use futures_util::future::join_all;

use super::super::super::failure::{of_sdk_error, Failure};
use super::super::super::precedence::{Failures, Read};
use super::super::uri;
use super::{Method, Plan, Stage, GET_INTEGRATION};

/// Pages asked at most of a listing, 500 items each.
const MAX_PAGES: usize = 100;

pub(super) async fn get_stage(
    apigw: &apigateway::Client,
    api_id: &str,
    stage: &str,
) -> Read<Stage> {
    let out = apigw
        .get_stage()
        .rest_api_id(api_id)
        .stage_name(stage)
        .send()
        .await
        .map_err(|e| of_sdk_error(&e, &[]))?;
    let throttles = out
        .method_settings()
        .into_iter()
        .flatten()
        .map(|(key, m)| {
            (
                key.clone(),
                (
                    uri::throttle(m.throttling_rate_limit()),
                    uri::throttle(f64::from(m.throttling_burst_limit())),
                ),
            )
        })
        .collect();
    Ok(Stage {
        throttles,
        variables: out.variables().cloned().unwrap_or_default(),
    })
}

/// Every method of every resource, page after page.
pub(super) async fn methods(apigw: &apigateway::Client, api_id: &str) -> Read<Vec<Method>> {
    let mut out = Vec::new();
    let mut position: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = apigw
            .get_resources()
            .rest_api_id(api_id)
            .embed("methods")
            .limit(500)
            .set_position(position.clone())
            .send()
            .await
            .map_err(|e| of_sdk_error(&e, &[]))?;
        for resource in page.items() {
            for (method, m) in resource.resource_methods().into_iter().flatten() {
                out.push(Method {
                    resource_id: resource.id().unwrap_or_default().to_string(),
                    method: method.clone(),
                    path: resource.path().unwrap_or("/").to_string(),
                    integration: m.method_integration().map(|i| {
                        let kind = i.r#type().map(|t| t.as_str().to_string());
                        (kind.unwrap_or_default(), i.uri().map(str::to_string))
                    }),
                });
            }
        }
        match page.position() {
            Some(p) if !p.is_empty() && Some(p) != position.as_deref() => {
                position = Some(p.to_string())
            }
            _ => break,
        }
    }
    Ok(out)
}

/// The methods whose integration was not embedded, asked with `GetIntegration`, at once.
pub(super) async fn with_integrations(
    apigw: &apigateway::Client,
    api_id: &str,
    mut methods: Vec<Method>,
    failures: &mut Failures,
) -> Vec<Method> {
    const NONE_SET: &str = "NotFoundException";
    let asked = join_all(
        methods
            .iter()
            .enumerate()
            .filter(|(_, m)| m.integration.is_none())
            .map(|(i, m)| async move {
                let answer = apigw
                    .get_integration()
                    .rest_api_id(api_id)
                    .resource_id(&m.resource_id)
                    .http_method(&m.method)
                    .send()
                    .await;
                (i, answer)
            }),
    )
    .await;
    for (i, answer) in asked {
        match answer {
            Ok(out) => {
                let kind = out.r#type().map(|t| t.as_str().to_string());
                methods[i].integration =
                    Some((kind.unwrap_or_default(), out.uri().map(str::to_string)));
            }
            Err(e) => match of_sdk_error(&e, &[NONE_SET]) {
                Failure::Code(_) => {}
                other => failures.add_about(GET_INTEGRATION, &other, Some(methods[i].route())),
            },
        }
    }
    methods
}

/// The usage plans on this API's stage, with their throttles.
pub(super) async fn usage_plans(
    apigw: &apigateway::Client,
    api_id: &str,
    stage: &str,
) -> Read<Vec<Plan>> {
    let mut out = Vec::new();
    let mut position: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = apigw
            .get_usage_plans()
            .limit(500)
            .set_position(position.clone())
            .send()
            .await
            .map_err(|e| of_sdk_error(&e, &[]))?;
        for plan in page.items() {
            let on_stage = plan
                .api_stages()
                .iter()
                .find(|s| s.api_id() == Some(api_id) && s.stage() == Some(stage));
            let Some(on_stage) = on_stage else { continue };
            out.push(Plan {
                name: plan.name().or(plan.id()).unwrap_or("?").to_string(),
                per_method: on_stage
                    .throttle()
                    .into_iter()
                    .flatten()
                    .map(|(k, t)| (k.clone(), (t.rate_limit(), f64::from(t.burst_limit()))))
                    .collect(),
                whole: plan
                    .throttle()
                    .map(|t| (t.rate_limit(), f64::from(t.burst_limit()))),
            });
        }
        match page.position() {
            Some(p) if !p.is_empty() && Some(p) != position.as_deref() => {
                position = Some(p.to_string())
            }
            _ => break,
        }
    }
    Ok(out)
}
