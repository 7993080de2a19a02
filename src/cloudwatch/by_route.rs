//! Per function and per route: for the quota check's routes, what to ask CloudWatch over
//! the whole window — each distinct function's `Invocations`, `Throttles` and
//! `ConcurrentExecutions`, each route's own `Count` and 4XX/5XX (published only with the
//! stage's detailed metrics on) — and the answers beside what the client saw. Pure.

use super::minutes::Datapoints;
use super::query::{function_name, ApiKind, ApiRef, Asked};
use stampede_results::cloudwatch::{FunctionCounted, RouteCounted};
use stampede_results::quota_check::RouteCheck;

/// What one query's answer is read into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Invocations(usize),
    Throttles(usize),
    Concurrent(usize),
    Count(usize),
    Errors4xx(usize),
    Errors5xx(usize),
}

/// One metric over the whole window.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteQuery {
    pub id: String,
    namespace: &'static str,
    metric: &'static str,
    dimensions: Vec<(String, String)>,
    stat: &'static str,
    into: Slot,
}

impl RouteQuery {
    pub fn asked(&self) -> Asked<'_> {
        Asked {
            id: &self.id,
            namespace: self.namespace,
            metric: self.metric,
            dimensions: &self.dimensions,
            stat: self.stat,
            whole: true,
        }
    }
}

/// The queries, and the rows they fill (the answers not yet in).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub queries: Vec<RouteQuery>,
    pub functions: Vec<FunctionCounted>,
    pub routes: Vec<RouteCounted>,
    /// Routes whose own API metrics were not asked for, and why.
    pub not_asked: Vec<String>,
}

/// `POST /orders/{id}` as API Gateway's `Method` and `Resource` dimensions; `None` for an
/// HTTP API's `$default` (no method or path to name it by).
fn method_and_resource(route: &str) -> Option<(&str, &str)> {
    let (method, path) = route.split_once(' ')?;
    path.starts_with('/').then_some((method, path))
}

/// What to ask for `checks` (the quota check's routes); `api`: the stage read, if known.
pub fn plan(api: Option<&ApiRef>, checks: &[RouteCheck]) -> Plan {
    let mut p = Plan::default();
    let add = |queries: &mut Vec<RouteQuery>,
               namespace,
               metric,
               dims: &[(String, String)],
               stat,
               into| {
        queries.push(RouteQuery {
            id: format!("r{}", queries.len()),
            namespace,
            metric,
            dimensions: dims.to_vec(),
            stat,
            into,
        });
    };
    for check in checks {
        let Some(label) = &check.function else {
            continue;
        };
        if let Some(f) = p.functions.iter_mut().find(|f| &f.function == label) {
            f.routes.push(check.route.clone());
            f.client_sent += check.sent;
            f.client_throttled += check.throttled;
            continue;
        }
        let i = p.functions.len();
        p.functions.push(FunctionCounted {
            function: label.clone(),
            routes: vec![check.route.clone()],
            client_sent: check.sent,
            client_throttled: check.throttled,
            ..FunctionCounted::default()
        });
        let (name, qualifier) = function_name(label);
        let mut dims = vec![("FunctionName".to_string(), name.clone())];
        if let Some(q) = qualifier.filter(|q| q != "$LATEST") {
            dims.push(("Resource".to_string(), format!("{name}:{q}")));
        }
        add(
            &mut p.queries,
            "AWS/Lambda",
            "Invocations",
            &dims,
            "Sum",
            Slot::Invocations(i),
        );
        add(
            &mut p.queries,
            "AWS/Lambda",
            "Throttles",
            &dims,
            "Sum",
            Slot::Throttles(i),
        );
        add(
            &mut p.queries,
            "AWS/Lambda",
            "ConcurrentExecutions",
            &dims,
            "Maximum",
            Slot::Concurrent(i),
        );
    }
    for check in checks {
        let i = p.routes.len();
        p.routes.push(RouteCounted {
            route: check.route.clone(),
            function: check.function.clone(),
            client_sent: check.sent,
            client_throttled: check.throttled,
            ..RouteCounted::default()
        });
        let Some(api) = api else { continue };
        let Some((method, resource)) = method_and_resource(&check.route) else {
            p.not_asked.push(format!(
                "{}'s own API metrics: API Gateway names a route's by its method and path",
                check.route
            ));
            continue;
        };
        let (key, value, e4, e5) = match api.kind {
            ApiKind::Rest => (
                "ApiName",
                api.name.clone().unwrap_or_default(),
                "4XXError",
                "5XXError",
            ),
            ApiKind::Http => ("ApiId", api.id.clone(), "4xx", "5xx"),
        };
        let dims = [
            (key.to_string(), value),
            ("Stage".to_string(), api.stage.clone()),
            ("Resource".to_string(), resource.to_string()),
            ("Method".to_string(), method.to_string()),
        ];
        let api_gateway = "AWS/ApiGateway";
        add(
            &mut p.queries,
            api_gateway,
            "Count",
            &dims,
            "Sum",
            Slot::Count(i),
        );
        add(
            &mut p.queries,
            api_gateway,
            e4,
            &dims,
            "Sum",
            Slot::Errors4xx(i),
        );
        add(
            &mut p.queries,
            api_gateway,
            e5,
            &dims,
            "Sum",
            Slot::Errors5xx(i),
        );
    }
    p
}

/// The rows of `plan` with the answers in `points` (one datapoint each: the window).
pub fn read(plan: &Plan, points: &Datapoints) -> (Vec<FunctionCounted>, Vec<RouteCounted>) {
    let (mut functions, mut routes) = (plan.functions.clone(), plan.routes.clone());
    for q in &plan.queries {
        let Some(v) = points
            .get(&q.id)
            .map(|series| series.iter().map(|p| p.1))
            .and_then(|values| {
                values.reduce(|a, b| if q.stat == "Maximum" { a.max(b) } else { a + b })
            })
        else {
            continue;
        };
        let slot = match q.into {
            Slot::Invocations(i) => &mut functions[i].invocations,
            Slot::Throttles(i) => &mut functions[i].throttles,
            Slot::Concurrent(i) => &mut functions[i].concurrent_max,
            Slot::Count(i) => &mut routes[i].count,
            Slot::Errors4xx(i) => &mut routes[i].errors_4xx,
            Slot::Errors5xx(i) => &mut routes[i].errors_5xx,
        };
        *slot = Some(v);
    }
    (functions, routes)
}

/// When the stage's own metrics came back but no route's did though the client sent on
/// them: the stage's detailed metrics look off, and how to turn them on.
pub fn detailed_metrics_off(
    api: &ApiRef,
    routes: &[RouteCounted],
    stage_counted: bool,
) -> Option<String> {
    let sent = routes.iter().any(|r| r.client_sent > 0);
    let none = routes
        .iter()
        .all(|r| r.count.is_none() && r.errors_4xx.is_none() && r.errors_5xx.is_none());
    if !(stage_counted && sent && none) {
        return None;
    }
    let how = match api.kind {
        ApiKind::Rest => format!(
            "aws apigateway update-stage --rest-api-id {} --stage-name {} --patch-operations op=replace,path=/*/*/metrics/enabled,value=true",
            api.id, api.stage
        ),
        ApiKind::Http => format!(
            "aws apigatewayv2 update-stage --api-id {} --stage-name {} --default-route-settings DetailedMetricsEnabled=true (or per route: --route-settings)",
            api.id, api.stage
        ),
    };
    Some(format!(
        "each route's API metrics: CloudWatch has none for the stage's routes though it counted the stage, so the stage's detailed metrics look off (AWS's default); the per-function numbers stand. Turn them on (they are charged as custom metrics): {how}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(route: &str, function: &str, sent: u64, throttled: u64) -> RouteCheck {
        RouteCheck {
            route: route.into(),
            requests: vec![],
            function: Some(function.into()),
            sent,
            throttled,
            usage: vec![],
            onset: None,
            suspected_lambda_throttles: None,
            next_steps: vec![],
            pass: throttled == 0,
        }
    }

    fn rest() -> ApiRef {
        ApiRef {
            kind: ApiKind::Rest,
            id: "a1b2".into(),
            name: Some("shop".into()),
            stage: "prod".into(),
        }
    }

    #[test]
    fn each_function_is_asked_once_and_each_route_by_method_and_resource() {
        let checks = [
            check("POST /orders", "orders-create:live", 100, 30),
            check("PUT /orders/{id}", "orders-create:live", 10, 2),
            check("GET /orders/{id}", "orders-get", 50, 0),
        ];
        let p = plan(Some(&rest()), &checks);
        assert_eq!(p.functions.len(), 2);
        assert_eq!(
            p.functions[0].routes,
            vec!["POST /orders", "PUT /orders/{id}"]
        );
        assert_eq!(
            (p.functions[0].client_sent, p.functions[0].client_throttled),
            (110, 32)
        );
        assert_eq!(p.queries.len(), 2 * 3 + 3 * 3);
        let throttles = &p.queries[1];
        assert_eq!(throttles.metric, "Throttles");
        assert_eq!(
            throttles.dimensions,
            vec![
                ("FunctionName".to_string(), "orders-create".to_string()),
                ("Resource".into(), "orders-create:live".into())
            ]
        );
        // No qualifier: FunctionName alone.
        assert_eq!(p.queries[3].dimensions.len(), 1);
        let e4 = p.queries.iter().find(|q| q.metric == "4XXError").unwrap();
        assert_eq!(
            e4.dimensions,
            vec![
                ("ApiName".to_string(), "shop".to_string()),
                ("Stage".into(), "prod".into()),
                ("Resource".into(), "/orders".into()),
                ("Method".into(), "POST".into())
            ]
        );
        let mut ids: Vec<&str> = p.queries.iter().map(|q| q.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), p.queries.len());
        // An HTTP API: by id, 4xx/5xx; its $default route is not asked.
        let http = ApiRef {
            kind: ApiKind::Http,
            id: "xyz".into(),
            name: None,
            stage: "$default".into(),
        };
        let p = plan(
            Some(&http),
            &[check("$default", "f", 1, 0), check("GET /a", "f", 1, 0)],
        );
        assert!(p
            .queries
            .iter()
            .any(|q| q.metric == "5xx"
                && q.dimensions[0] == ("ApiId".to_string(), "xyz".to_string())));
        assert_eq!(p.routes.len(), 2);
        assert_eq!(p.not_asked.len(), 1);
        // No API known: the functions alone.
        assert_eq!(plan(None, &checks).queries.len(), 6);
    }

    #[test]
    fn answers_fill_their_rows_and_off_detailed_metrics_are_said() {
        let checks = [
            check("POST /orders", "orders-create:live", 100, 30),
            check("GET /orders", "orders-list:live", 50, 0),
        ];
        let p = plan(Some(&rest()), &checks);
        let id = |metric: &str, nth: usize| {
            p.queries
                .iter()
                .filter(|q| q.metric == metric)
                .nth(nth)
                .unwrap()
                .id
                .clone()
        };
        let mut points = Datapoints::new();
        points.insert(id("Throttles", 0), vec![(0, 30.0)]);
        points.insert(id("Throttles", 1), vec![(0, 0.0)]);
        points.insert(id("ConcurrentExecutions", 0), vec![(0, 5.0)]);
        let (functions, routes) = read(&p, &points);
        assert_eq!(functions[0].throttles, Some(30.0));
        assert_eq!(functions[0].concurrent_max, Some(5.0));
        assert_eq!(functions[0].invocations, None);
        assert_eq!(functions[1].throttles, Some(0.0));
        let off = detailed_metrics_off(&rest(), &routes, true).unwrap();
        assert!(
            off.contains("path=/*/*/metrics/enabled,value=true"),
            "{off}"
        );
        assert!(
            off.contains("--rest-api-id a1b2 --stage-name prod"),
            "{off}"
        );
        // Nothing from the stage either: not the detailed metrics' doing.
        assert_eq!(detailed_metrics_off(&rest(), &routes, false), None);
        points.insert(id("Count", 0), vec![(0, 100.0)]);
        let (_, routes) = read(&p, &points);
        assert_eq!(routes[0].count, Some(100.0));
        assert_eq!(detailed_metrics_off(&rest(), &routes, true), None);
    }
}
