//! Requests to routes, and each route's check on its own limits.

use std::collections::BTreeMap;

use super::*;
use crate::aws::AwsNames;
use crate::quotas::{
    ApiKind, ApiMapped, Front, IntegrationKind, LimitKey, Quota, QuotaSource, RouteLimits,
};
use crate::record::TimelinePoint;
use stampede_results::RequestSecond;

fn read(key: LimitKey, value: Option<f64>) -> Quota {
    Quota {
        key,
        value,
        source: QuotaSource::Api {
            action: "lambda:GetFunctionConcurrency".into(),
        },
        note: None,
    }
}

fn route(text: &str, function: &str, quotas: Vec<Quota>) -> RouteLimits {
    RouteLimits {
        route: text.into(),
        integration: IntegrationKind::Lambda,
        function: Some(function.into()),
        qualifier: None,
        quotas,
        function_config: None,
    }
}

/// The orders API: creating is reserved at 50, reading and listing are not.
fn orders_api() -> Quotas {
    let mut q = Quotas::documented();
    q.api = Some(ApiMapped {
        kind: ApiKind::Rest,
        id: "abc123".into(),
        stage: "prod".into(),
    });
    q.routes = vec![
        route(
            "POST /orders",
            "orders-create",
            vec![read(LimitKey::FunctionReservedConcurrency, Some(50.0))],
        ),
        route(
            "GET /orders/{id}",
            "orders-get",
            vec![read(LimitKey::FunctionReservedConcurrency, None)],
        ),
        route(
            "GET /orders",
            "orders-list",
            vec![read(LimitKey::FunctionReservedConcurrency, None)],
        ),
    ];
    q
}

fn mix<'a>(requests: &'a [(&'a str, &'a str, &'a str)]) -> Vec<MixRequest<'a>> {
    requests
        .iter()
        .map(|&(name, method, path)| MixRequest { name, method, path })
        .collect()
}

#[test]
fn requests_select_routes_by_precedence_past_the_stage_and_templates() {
    let q = orders_api();
    let requests = mix(&[
        ("create", "POST", "/prod/orders"),
        ("get", "GET", "/prod/orders/{{data.id}}?fields=all"),
        ("list", "GET", "/prod/orders"),
        ("again", "GET", "/orders/42"),
        ("health", "GET", "/prod/health"),
    ]);
    let (routed, unmatched) = map_requests(&q, &requests);
    let names = |i: usize| {
        routed
            .iter()
            .find(|g| g.route == i)
            .map(|g| g.requests.clone())
            .unwrap_or_default()
    };
    assert_eq!(names(0), vec!["create"]);
    assert_eq!(names(1), vec!["get", "again"]);
    assert_eq!(names(2), vec!["list"]);
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0].request, "health");
    assert_eq!(unmatched[0].closest.len(), 2);
    // A greedy route takes what nothing else does.
    let mut q = q;
    q.routes
        .push(route("ANY /{proxy+}", "fallback", Vec::new()));
    let (routed, unmatched) = map_requests(&q, &requests);
    assert!(unmatched.is_empty());
    assert_eq!(routed.last().unwrap().requests, vec!["health"]);
}

/// The whole run's timeline of `n` seconds: only its length is read per route.
fn quiet_seconds(n: u64) -> Vec<TimelinePoint> {
    (0..n)
        .map(|t_s| TimelinePoint {
            t_s,
            ..TimelinePoint::default()
        })
        .collect()
}

/// A run against the orders API's REST stage, of `timeline`'s length.
fn seen_of(timeline: &[TimelinePoint], peak_in_flight: u64) -> RunSeen<'_> {
    RunSeen {
        timeline,
        peak_in_flight,
        bursts: Vec::new(),
        front: Front::ApiGateway,
        names: AwsNames {
            api_id: Some("abc123".into()),
            stage: Some("prod".into()),
            ..AwsNames::default()
        },
        api: Some(ApiKind::Rest),
        counted: Default::default(),
        route: None,
    }
}

/// A request's seconds: (sent, in flight, throttled as `kind`).
fn seconds(kind: &str, s: &[(u64, u64, u64)]) -> RequestResult {
    RequestResult {
        timeline: s
            .iter()
            .enumerate()
            .map(|(t, &(sent, in_flight, throttled))| {
                let mut p = RequestSecond {
                    t_s: t as u64,
                    sent,
                    in_flight_max: in_flight,
                    ok: sent - throttled,
                    throttled,
                    ..RequestSecond::default()
                };
                if throttled > 0 {
                    p.throttles.insert(kind.into(), throttled);
                }
                p
            })
            .collect(),
        ..RequestResult::default()
    }
}

#[test]
fn only_the_route_whose_function_reached_its_reservation_has_an_onset() {
    let q = orders_api();
    let reserved = "lambda_reserved_concurrency";
    let by_request: BTreeMap<String, RequestResult> = [
        (
            "create",
            seconds(
                reserved,
                &[(20, 20, 0), (40, 40, 0), (80, 51, 29), (80, 51, 30)],
            ),
        ),
        (
            "get",
            seconds(
                reserved,
                &[(60, 30, 0), (120, 60, 0), (180, 90, 0), (180, 90, 0)],
            ),
        ),
        (
            "list",
            seconds(reserved, &[(5, 2, 0), (5, 2, 0), (5, 2, 0), (5, 2, 0)]),
        ),
    ]
    .into_iter()
    .map(|(n, r)| (n.to_string(), r))
    .collect();
    let timeline = quiet_seconds(4);
    let seen = seen_of(&timeline, 143);
    let (routed, _) = map_requests(
        &q,
        &mix(&[
            ("create", "POST", "/prod/orders"),
            ("get", "GET", "/prod/orders/{{data.id}}"),
            ("list", "GET", "/prod/orders"),
        ]),
    );
    let checks = check_routes(&q, &seen, &routed, &by_request);
    let create = &checks[0];
    assert_eq!(create.route, "POST /orders");
    let onset = create.onset.as_ref().expect("an onset on POST /orders");
    assert_eq!(onset.limit, Some(LimitKey::FunctionReservedConcurrency));
    assert_eq!((onset.t_s, onset.in_flight), (2, 51));
    assert!(!create.pass);
    assert_eq!(create.throttled, 59);
    assert!(
        create
            .next_steps
            .iter()
            .any(|s| s.contains("put-function-concurrency --function-name orders-create")),
        "{:?}",
        create.next_steps
    );
    for clean in &checks[1..] {
        assert!(clean.onset.is_none() && clean.pass, "{clean:?}");
        assert_eq!(clean.throttled, 0);
    }
    let mut whole = check(&q, &seen, None);
    assert!(whole.pass);
    add_routes(&mut whole, checks);
    assert!(!whole.pass, "a route that failed fails the run");
    let finding = whole.findings.iter().find(|f| f.level == "onset").unwrap();
    assert!(
        finding
            .message
            .starts_with("POST /orders on orders-create: throttling began at 2 s")
            && finding.message.contains("51")
            && finding.message.contains(
                "while GET /orders/{id} on orders-get, GET /orders on orders-list stayed clean"
            ),
        "{}",
        finding.message
    );
}

#[test]
fn a_route_throttle_is_the_routes_bucket_and_its_step_names_the_method() {
    let mut q = orders_api();
    q.routes[2].quotas.extend([
        read(LimitKey::RouteThrottleRate, Some(10.0)),
        read(LimitKey::RouteThrottleBurst, Some(5.0)),
    ]);
    let api = "api_gateway";
    let by_request: BTreeMap<String, RequestResult> = [(
        "list".to_string(),
        seconds(api, &[(8, 1, 0), (30, 2, 12), (30, 2, 20)]),
    )]
    .into_iter()
    .collect();
    let timeline = quiet_seconds(3);
    let seen = seen_of(&timeline, 2);
    let routed = vec![Routed {
        route: 2,
        requests: vec!["list".into()],
    }];
    let c = &check_routes(&q, &seen, &routed, &by_request)[0];
    let onset = c.onset.as_ref().unwrap();
    assert_eq!(onset.limit, Some(LimitKey::RouteThrottleRate), "{onset:#?}");
    assert!(
        onset.explanation.contains("route throttle"),
        "{}",
        onset.explanation
    );
    assert!(
        c.next_steps
            .iter()
            .any(|s| s.contains("path=/~1orders/GET/throttling/rateLimit,value=36")),
        "{:?}",
        c.next_steps
    );
}

#[test]
fn the_preflight_checks_each_routes_share_and_each_functions_concurrency() {
    use stampede_results::quota_check::{Preflight, StageForecast};
    let mut q = orders_api();
    q.routes[0].quotas = vec![read(LimitKey::FunctionReservedConcurrency, Some(5.0))];
    q.routes[2]
        .quotas
        .push(read(LimitKey::RouteThrottleRate, Some(10.0)));
    let mut p = Preflight {
        expect_latency_ms: 200.0,
        latency_basis: "test".into(),
        front: Front::ApiGateway,
        stages: vec![StageForecast {
            name: "steady".into(),
            kind: stampede_results::StageKind::Constant,
            peak_rate: Some(100.0),
            burst: None,
            expected_concurrency: 20.0,
            new_environments_per_10s: 20.0,
        }],
        checks: Vec::new(),
        exceeded: false,
        warnings: Vec::new(),
        cost: None,
    };
    let routed: Vec<Routed> = (0..3)
        .map(|route| Routed {
            route,
            requests: vec![["create", "get", "list"][route].to_string()],
        })
        .collect();
    let shares: BTreeMap<String, f64> = [
        ("create", 2.0 / 6.0),
        ("get", 3.0 / 6.0),
        ("list", 1.0 / 6.0),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_string(), s))
    .collect();
    preflight::check_routes(&mut p, &q, &routed, &shares);
    let find = |f: &dyn Fn(&stampede_results::quota_check::LimitCheck) -> bool| {
        p.checks.iter().find(|c| f(c)).cloned().unwrap()
    };
    let create = find(&|c| c.function.as_deref() == Some("orders-create"));
    assert_eq!(
        (create.planned, create.value, create.exceeded),
        (7.0, 5.0, true)
    );
    let list = find(&|c| c.route.as_deref() == Some("GET /orders"));
    assert_eq!(list.limit, LimitKey::RouteThrottleRate);
    assert_eq!((list.planned, list.exceeded), (16.7, true));
    // orders-get and orders-list draw on the account's pool together: 2/3 of 20.
    let pool = find(&|c| c.function.as_deref() == Some(preflight::UNRESERVED));
    assert_eq!(
        (pool.limit, pool.planned),
        (LimitKey::LambdaConcurrentExecutions, 14.0)
    );
    assert!(p.exceeded);
}

#[test]
fn a_routes_429s_from_the_stages_bucket_are_put_on_it_not_on_the_route() {
    let q = orders_api();
    let api = "api_gateway";
    let by_request: BTreeMap<String, RequestResult> = [(
        "get".to_string(),
        seconds(api, &[(100, 5, 0), (300, 5, 40), (300, 5, 60)]),
    )]
    .into_iter()
    .collect();
    let timeline = quiet_seconds(3);
    let seen = seen_of(&timeline, 5);
    let routed = vec![Routed {
        route: 1,
        requests: vec!["get".into()],
    }];
    let checks = check_routes(&q, &seen, &routed, &by_request);
    assert!(checks[0].onset.as_ref().unwrap().limit.is_none());
    // The whole run's onset was the stage's bucket.
    let mut whole = check(&q, &seen, None);
    whole.onset = Some(stampede_results::quota_check::OnsetExplained {
        t_s: 1,
        rate: 300,
        in_flight: 5,
        kinds: [(api.to_string(), 100)].into_iter().collect(),
        limit: Some(LimitKey::StageRate),
        reached: true,
        explanation: "the stage's bucket".into(),
        evidence: Vec::new(),
        too_close: Vec::new(),
    });
    add_routes(&mut whole, checks);
    let o = whole.by_route[0].onset.as_ref().unwrap();
    assert_eq!(o.limit, Some(LimitKey::StageRate));
    assert!(
        o.explanation.contains("the whole run met"),
        "{}",
        o.explanation
    );
    assert!(whole.by_route[0].pass);
}
