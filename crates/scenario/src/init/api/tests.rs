//! The draft of a mapped API: names, paths, comments, and the errors when nothing was read.

use super::*;
use stampede_results::quotas::QuotaSource;
use stampede_results::routes::{ApiMapped, IntegrationKind};

fn quota(key: LimitKey, value: Option<f64>, action: &str) -> Quota {
    Quota {
        key,
        value,
        source: QuotaSource::Api {
            action: action.into(),
        },
        note: None,
    }
}

fn route(route: &str, integration: IntegrationKind, function: Option<&str>) -> RouteLimits {
    RouteLimits {
        route: route.into(),
        integration,
        function: function.map(str::to_string),
        qualifier: None,
        quotas: Vec::new(),
        function_config: None,
    }
}

fn mapped(routes: Vec<RouteLimits>) -> Quotas {
    Quotas {
        api: Some(ApiMapped {
            kind: ApiKind::Http,
            id: "a1b2c3".into(),
            stage: "$default".into(),
        }),
        region: Some("eu-west-1".into()),
        routes,
        not_read: vec![NotRead {
            action: "apigateway:GetUsagePlans".into(),
            reason: "access denied".into(),
        }],
        ..Quotas::default()
    }
}

#[test]
fn each_route_is_a_request_named_for_it_with_its_function_and_limits() {
    let mut create = route(
        "POST /orders",
        IntegrationKind::Lambda,
        Some("orders-create"),
    );
    create.qualifier = Some("live".into());
    create.quotas = vec![
        quota(
            LimitKey::FunctionReservedConcurrency,
            Some(50.0),
            "lambda:GetFunctionConcurrency",
        ),
        quota(
            LimitKey::RouteThrottleRate,
            Some(100.0),
            "apigatewayv2:GetStage",
        ),
        quota(
            LimitKey::RouteThrottleBurst,
            Some(50.0),
            "apigatewayv2:GetStage",
        ),
    ];
    let q = mapped(vec![
        create,
        route(
            "GET /orders/{id}/items/{item}",
            IntegrationKind::Lambda,
            Some("get"),
        ),
        route("ANY /files/{proxy+}", IntegrationKind::Http, None),
        route("$default", IntegrationKind::Mock, None),
        route("GET /orders-id", IntegrationKind::Aws, None),
        route("GET /orders/{id}", IntegrationKind::None, None),
    ]);
    let d = from_api(
        &q,
        "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/x/",
    )
    .unwrap();
    assert_eq!(
        d.url.as_deref(),
        Some("https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod")
    );
    let r: Vec<(&str, &str, &str)> = d
        .requests
        .iter()
        .map(|r| (r.name.as_str(), r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        r,
        [
            ("post-orders", "POST", "/orders"),
            (
                "get-orders-id-items-item",
                "GET",
                "/orders/{{seq}}/items/{{seq}}"
            ),
            ("any-files-proxy", "GET", "/files/example"),
            ("default", "GET", "/"),
            ("get-orders-id", "GET", "/orders-id"),
            ("get-orders-id (2)", "GET", "/orders/{{seq}}"),
        ]
    );
    assert_eq!(
        d.requests[0].notes[..3],
        [
            "POST /orders → orders-create:live (Lambda)",
            "  reserved concurrency 50 (lambda:GetFunctionConcurrency)",
            "  route throttle 100 req/s, burst 50 (apigatewayv2:GetStage)",
        ]
    );
    assert_eq!(d.requests[0].body.as_deref(), Some("{}"));
    let notes = |i: usize| d.requests[i].notes.join("\n");
    assert!(
        notes(2).contains("an HTTP endpoint (no function"),
        "{}",
        notes(2)
    );
    assert!(notes(2).contains("ANY: "), "{}", notes(2));
    assert!(notes(2).contains("{proxy+} takes any path"), "{}", notes(2));
    assert!(notes(3).contains("$default: "), "{}", notes(3));
    assert!(
        notes(1).contains("{item} is sent as {{seq}}"),
        "{}",
        notes(1)
    );
    let about = d.about.join("\n");
    assert!(
        about.contains("  apigateway:GetUsagePlans: access denied"),
        "{about}"
    );
    assert_eq!(
        origin(&q),
        "the HTTP API a1b2c3 (stage $default, eu-west-1)"
    );
    let text = super::super::render(&d, &origin(&q));
    toml::from_str::<toml::Value>(&text).unwrap();
}

#[test]
fn no_route_read_is_an_error_naming_the_calls_and_why() {
    let mut q = mapped(Vec::new());
    q.not_read.push(NotRead {
        action: "apigateway:GetRoutes".into(),
        reason: "not found: Invalid API identifier specified".into(),
    });
    q.not_read.push(NotRead {
        action: "servicequotas:GetServiceQuota".into(),
        reason: "access denied".into(),
    });
    let e = from_api(&q, "https://x.example/").unwrap_err();
    assert!(e.starts_with("no route of the HTTP API a1b2c3"), "{e}");
    assert!(
        e.contains("not read: apigateway:GetRoutes: not found: Invalid API identifier"),
        "{e}"
    );
    assert!(!e.contains("servicequotas"), "only the map's calls: {e}");
    q.not_read.clear();
    let e = from_api(&q, "https://x.example/").unwrap_err();
    assert!(e.contains("the API has no routes"), "{e}");
    q.api = None;
    q.not_read.push(NotRead {
        action: "credentials".into(),
        reason: "none found".into(),
    });
    let e = from_api(&q, "https://x.example/").unwrap_err();
    assert!(e.contains("not read: credentials: none found"), "{e}");
}

#[test]
fn odd_segments_are_sent_as_written() {
    let mut notes = Vec::new();
    assert_eq!(
        templated_path("/a b/{{x}}%/caf\u{e9}", &mut notes),
        "/a%20b/%7B%7Bx%7D%7D%25/caf%C3%A9"
    );
}
