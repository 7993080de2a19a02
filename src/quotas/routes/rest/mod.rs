//! A REST API's map: `GetResources` (methods and their integrations embedded; a method
//! without one is asked with `GetIntegration`), `GetStage` (its `methodSettings` and
//! variables) and `GetUsagePlans` (the plans on this stage), all at once. The calls are
//! [`calls`]'; what each route's limits are is here, pure.

mod calls;

use std::collections::HashMap;

use aws_sdk_apigateway as apigateway;

use super::super::failure::Failure;
use super::super::precedence::{Failures, Throttle};
use super::uri::{self, method_settings_keys, usage_plan_keys};
use super::{throttle_quotas, IntegrationKind, LimitKey, Map, Route};
use calls::{get_stage, methods, usage_plans, with_integrations};

const GET_RESOURCES: &str = "apigateway:GetResources";
const GET_INTEGRATION: &str = "apigateway:GetIntegration";
const GET_STAGE: &str = "apigateway:GetStage";
const GET_USAGE_PLANS: &str = "apigateway:GetUsagePlans";

/// What the routes need of the stage.
#[derive(Default)]
struct Stage {
    /// `methodSettings`' throttles, by key (`*/*`, `~1orders/POST`).
    throttles: HashMap<String, Throttle>,
    variables: HashMap<String, String>,
}

/// A usage plan's throttles on this API's stage: per method (`/orders/POST`) and its own.
struct Plan {
    name: String,
    per_method: HashMap<String, (f64, f64)>,
    whole: Option<(f64, f64)>,
}

/// One method of a resource, with its integration's type and URI once known.
struct Method {
    resource_id: String,
    method: String,
    path: String,
    integration: Option<(String, Option<String>)>,
}

impl Method {
    fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

pub(super) async fn read(apigw: &apigateway::Client, api_id: &str, stage: &str) -> Map {
    let (stage_read, methods, plans) = tokio::join!(
        get_stage(apigw, api_id, stage),
        methods(apigw, api_id),
        usage_plans(apigw, api_id, stage)
    );
    let mut failures = Failures::default();
    let mut methods = match methods {
        Ok(m) => with_integrations(apigw, api_id, m, &mut failures).await,
        Err(e) => {
            failures.add_about(GET_RESOURCES, &e, None);
            Vec::new()
        }
    };
    methods.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    let plans = plans
        .map_err(|e| failures.add_about(GET_USAGE_PLANS, &e, None))
        .ok();
    let routes = methods
        .into_iter()
        .map(|m| route(m, stage_read.as_ref().ok(), plans.as_deref(), &mut failures))
        .collect();
    let stage_throttle = stage_read.map(|s| s.throttles.get("*/*").copied().unwrap_or_default());
    Map {
        routes,
        stage: (GET_STAGE, stage_throttle),
        failures,
    }
}

/// One route and the limits the stage and the usage plans put on it. A call that failed
/// leaves its limits out (unknown); it is named once, elsewhere.
fn route(
    m: Method,
    stage: Option<&Stage>,
    plans: Option<&[Plan]>,
    failures: &mut Failures,
) -> Route {
    let (kind, uri) = match &m.integration {
        Some((t, uri)) => (uri::rest_kind(t, uri.as_deref()), uri.as_deref()),
        None => (IntegrationKind::None, None),
    };
    let function = match (kind, uri) {
        (IntegrationKind::Lambda, Some(uri)) => {
            let no_variables = HashMap::new();
            let variables = stage.map_or(&no_variables, |s| &s.variables);
            match uri::substitute(uri, variables) {
                Ok(uri) => uri::lambda_function(&uri),
                Err(name) => {
                    // Without the stage, its failure says it all.
                    if stage.is_some() {
                        let why = format!("stage variable {name} is not set on the stage");
                        failures.add_about(GET_STAGE, &Failure::Reason(why), Some(m.route()));
                    }
                    None
                }
            }
        }
        _ => None,
    };
    let mut quotas = Vec::new();
    if let Some(s) = stage {
        let own = method_settings_keys(&m.method, &m.path)
            .iter()
            .find_map(|k| s.throttles.get(k).copied())
            .unwrap_or_default();
        quotas.extend(throttle_quotas(
            (LimitKey::RouteThrottleRate, LimitKey::RouteThrottleBurst),
            own,
            GET_STAGE,
            None,
        ));
    }
    if let Some(plans) = plans {
        let (throttle, note) = usage_plan_throttle(plans, &m.method, &m.path);
        quotas.extend(throttle_quotas(
            (LimitKey::UsagePlanRate, LimitKey::UsagePlanBurst),
            throttle,
            GET_USAGE_PLANS,
            note,
        ));
    }
    Route {
        route: m.route(),
        integration: kind,
        function,
        quotas,
    }
}

/// The usage plans' throttle on a method: each plan's for the method, else its own; the
/// strictest (lowest rate) when several plans set one, with a note naming them. Pure.
fn usage_plan_throttle(plans: &[Plan], method: &str, path: &str) -> (Throttle, Option<String>) {
    let keys = usage_plan_keys(method, path);
    let mut set: Vec<(&str, (f64, f64))> = plans
        .iter()
        .filter_map(|p| {
            let t = keys.iter().find_map(|k| p.per_method.get(k)).copied();
            Some((p.name.as_str(), t.or(p.whole)?))
        })
        .collect();
    set.sort_by(|a, b| a.1 .0.total_cmp(&b.1 .0));
    let note = (set.len() > 1).then(|| {
        let names: Vec<&str> = set.iter().map(|(n, _)| *n).collect();
        format!(
            "the strictest of {} usage plans ({}); each API key has one",
            set.len(),
            names.join(", ")
        )
    });
    match set.first() {
        Some((_, (rate, burst))) => ((uri::throttle(*rate), uri::throttle(*burst)), note),
        None => ((None, None), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, per_method: &[(&str, (f64, f64))], whole: Option<(f64, f64)>) -> Plan {
        Plan {
            name: name.into(),
            per_method: per_method
                .iter()
                .map(|(k, t)| (k.to_string(), *t))
                .collect(),
            whole,
        }
    }

    #[test]
    fn a_plans_method_throttle_wins_over_its_own_and_the_strictest_plan_is_taken() {
        let gold = plan(
            "gold",
            &[("/orders/POST", (50.0, 10.0))],
            Some((500.0, 100.0)),
        );
        assert_eq!(
            usage_plan_throttle(std::slice::from_ref(&gold), "POST", "/orders"),
            ((Some(50.0), Some(10.0)), None)
        );
        assert_eq!(
            usage_plan_throttle(std::slice::from_ref(&gold), "GET", "/orders/{id}"),
            ((Some(500.0), Some(100.0)), None),
            "the plan-wide throttle is the fallback"
        );
        let free = plan("free", &[], Some((5.0, 2.0)));
        let (t, note) = usage_plan_throttle(&[gold, free], "POST", "/orders");
        assert_eq!(t, (Some(5.0), Some(2.0)));
        assert!(note.unwrap().contains("2 usage plans (free, gold)"));
        assert_eq!(usage_plan_throttle(&[], "GET", "/"), ((None, None), None));
        let unthrottled = plan("open", &[], None);
        assert_eq!(
            usage_plan_throttle(&[unthrottled], "GET", "/"),
            ((None, None), None)
        );
    }

    #[test]
    fn a_route_reads_its_method_settings_and_stage_variables() {
        let stage = Stage {
            throttles: [
                ("*/*".to_string(), (Some(400.0), Some(200.0))),
                ("~1orders/POST".to_string(), (Some(50.0), Some(10.0))),
            ]
            .into(),
            variables: [("alias".to_string(), "live".to_string())].into(),
        };
        let method = |method: &str, path: &str, uri: &str| Method {
            resource_id: "r".into(),
            method: method.into(),
            path: path.into(),
            integration: Some(("AWS_PROXY".into(), Some(uri.into()))),
        };
        let uri = |f: &str| {
            format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:{f}/invocations")
        };
        let mut failures = Failures::default();
        let post = route(
            method("POST", "/orders", &uri("orders-create")),
            Some(&stage),
            Some(&[]),
            &mut failures,
        );
        assert_eq!(post.route, "POST /orders");
        assert_eq!(post.function.as_ref().unwrap().name, "orders-create");
        let values: Vec<(LimitKey, Option<f64>)> =
            post.quotas.iter().map(|q| (q.key, q.value)).collect();
        assert_eq!(
            values,
            [
                (LimitKey::RouteThrottleRate, Some(50.0)),
                (LimitKey::RouteThrottleBurst, Some(10.0)),
                (LimitKey::UsagePlanRate, None),
                (LimitKey::UsagePlanBurst, None),
            ]
        );
        let get = route(
            method(
                "GET",
                "/orders/{id}",
                &uri("orders-get:${stageVariables.alias}"),
            ),
            Some(&stage),
            None,
            &mut failures,
        );
        assert_eq!(
            get.function.as_ref().unwrap().qualifier.as_deref(),
            Some("live")
        );
        assert_eq!(
            get.quotas[0].value, None,
            "the stage's */* is not the method's own"
        );
        assert_eq!(get.quotas.len(), 2, "no usage plans read: none listed");
        let unset = route(
            method("GET", "/x", &uri("x:${stageVariables.version}")),
            Some(&stage),
            None,
            &mut failures,
        );
        assert_eq!(unset.function, None);
        let not_read = failures.into_not_read();
        assert_eq!(not_read.len(), 1);
        assert_eq!(
            not_read[0].reason,
            "stage variable version is not set on the stage (GET /x)"
        );
        let mock = Method {
            integration: Some(("MOCK".into(), None)),
            ..method("GET", "/", "")
        };
        let mock = route(mock, None, None, &mut Failures::default());
        assert_eq!(
            (mock.integration, mock.function, mock.quotas.len()),
            (IntegrationKind::Mock, None, 0)
        );
    }
}
