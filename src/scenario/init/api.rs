//! A deployed API's map (`quotas::aws::fetch`'s `api` and `routes`) → a `Draft`: one
//! request per route, each commented with what it integrates with, the function (and
//! qualifier) it invokes and its limits, each with the call that read it. The map holds
//! no secret, so neither does the draft.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use super::{keep_at_most, tidy_url, unique_names, Draft, DraftRequest};
// The results format's types (the layer that fills them, `quotas`, is above this one).
use stampede_results::cloudwatch::ApiKind;
use stampede_results::quotas::{LimitKey, NotRead, Quota, Quotas};
use stampede_results::routes::{IntegrationKind, RouteLimits};

/// What a path parameter is sent as: the logical request's number, until a data file gives
/// real ids.
const ID_TEMPLATE: &str = "{{seq}}";
/// What a greedy `{proxy+}` segment is sent as.
const PROXY_SAMPLE: &str = "example";

/// Bytes a path segment may not hold as they are (RFC 3986's `pchar`, `%` included so a
/// name is sent as written).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The draft of the API `quotas` mapped, to be sent to `url` (the stage included). `Err`:
/// no route could be read, with why (the calls that failed, or an API without routes).
pub fn from_api(quotas: &Quotas, url: &str) -> Result<Draft, String> {
    let Some(api) = &quotas.api else {
        return Err(no_routes(
            "the API's kind could not be read",
            &quotas.not_read,
        ));
    };
    let kind = match api.kind {
        ApiKind::Rest => "REST API",
        ApiKind::Http => "HTTP API",
    };
    if quotas.routes.is_empty() {
        let what = format!(
            "no route of the {kind} {} (stage {}) was read",
            api.id, api.stage
        );
        return Err(no_routes(&what, &quotas.not_read));
    }
    let mut draft = Draft {
        url: Some(target_url(url)),
        ..Draft::default()
    };
    let n = quotas.routes.len();
    draft.about.push(format!(
        "{n} route{}, one request each, weight 1. Only the control plane was read: nothing was sent to the API.",
        if n == 1 { "" } else { "s" }
    ));
    // The account's and the stage's, as read (a documented default is no reading).
    let read: Vec<Quota> = quotas
        .quotas
        .iter()
        .filter(|q| q.source.is_known())
        .cloned()
        .collect();
    let shared: Vec<String> = [
        (
            LimitKey::StageRate,
            Some(LimitKey::StageBurst),
            "stage throttle",
        ),
        (
            LimitKey::ApigwRate,
            Some(LimitKey::ApigwBurst),
            "API Gateway account throttle",
        ),
        (
            LimitKey::LambdaConcurrentExecutions,
            None,
            "Lambda account concurrency",
        ),
        (
            LimitKey::LambdaUnreservedConcurrency,
            None,
            "Lambda unreserved concurrency",
        ),
    ]
    .into_iter()
    .filter_map(|(key, burst, title)| limit(&read, key, burst, title))
    .collect();
    if !shared.is_empty() {
        draft.about.push("Limits every route shares:".into());
        draft
            .about
            .extend(shared.into_iter().map(|l| format!("  {l}")));
    }
    if !quotas.not_read.is_empty() {
        draft
            .about
            .push("Not read (the limits they give are missing below):".into());
        for n in &quotas.not_read {
            draft.about.push(format!("  {}: {}", n.action, n.reason));
        }
    }
    draft.requests = quotas.routes.iter().map(request).collect();
    unique_names(&mut draft.requests);
    keep_at_most(&mut draft, "the map's first routes are kept");
    Ok(draft)
}

/// Where the draft came from, for the header's first line.
pub fn origin(quotas: &Quotas) -> String {
    let Some(api) = &quotas.api else {
        return "an API".into();
    };
    let kind = match api.kind {
        ApiKind::Rest => "REST API",
        ApiKind::Http => "HTTP API",
    };
    match &quotas.region {
        Some(region) => format!("the {kind} {} (stage {}, {region})", api.id, api.stage),
        None => format!("the {kind} {} (stage {})", api.id, api.stage),
    }
}

fn no_routes(what: &str, not_read: &[NotRead]) -> String {
    // The map's calls, when any failed; else whatever did (no credentials, say).
    let map: Vec<&NotRead> = not_read
        .iter()
        .filter(|n| n.action.starts_with("apigateway"))
        .collect();
    let failed: Vec<&NotRead> = if map.is_empty() {
        not_read.iter().collect()
    } else {
        map
    };
    let mut out = what.to_string();
    if failed.is_empty() {
        out.push_str(": the API has no routes");
    }
    for n in failed {
        out.push_str(&format!("\n  not read: {}: {}", n.action, n.reason));
    }
    out.push_str(
        "\n  expected: an API id and stage that exist in the region, read with credentials \
         allowed to (docs/quotas.md, \"IAM permissions\")",
    );
    out
}

/// An execute-api URL up to its stage (the routes' paths follow it); any other as given.
fn target_url(url: &str) -> String {
    let tidy = tidy_url(url);
    let Some((scheme, rest)) = tidy.split_once("://") else {
        return tidy;
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    match path.split('/').next() {
        Some(stage) if host.contains(".execute-api.") && !stage.is_empty() => {
            format!("{scheme}://{host}/{stage}")
        }
        _ => tidy,
    }
}

fn request(route: &RouteLimits) -> DraftRequest {
    let mut r = DraftRequest {
        weight: 1,
        ..DraftRequest::default()
    };
    r.notes
        .push(format!("{} → {}", route.route, integration(route)));
    r.notes
        .extend(limits(route).into_iter().map(|l| format!("  {l}")));
    let (method, path) = match route.route.split_once(' ') {
        Some((m, p)) => (m.to_ascii_uppercase(), p),
        None => (String::new(), route.route.as_str()),
    };
    r.name = slug(&route.route);
    if route.route == "$default" {
        r.method = "GET".into();
        r.path = "/".into();
        r.notes.push(
            "$default: the HTTP API's catch-all, for every method and path no other route takes; drafted as GET / — put a path your clients use."
                .into(),
        );
        return r;
    }
    r.method = if method == "ANY" || method.is_empty() {
        r.notes.push(
            "ANY: API Gateway sends every method here; drafted as GET — set the method your clients use."
                .into(),
        );
        "GET".into()
    } else {
        method
    };
    r.path = templated_path(path, &mut r.notes);
    if matches!(r.method.as_str(), "POST" | "PUT" | "PATCH") {
        r.headers
            .push(("content-type".into(), "application/json".into()));
        r.body = Some("{}".into());
        r.notes
            .push("EDIT body: the map does not say what the route takes; `{}` stands in.".into());
    }
    r
}

/// `{param}` → an id template, `{proxy+}` → a sample path, each with a note.
fn templated_path(path: &str, notes: &mut Vec<String>) -> String {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) if name.ends_with('+') => {
                notes.push(format!(
                    "{{{name}}} takes any path below it: `{PROXY_SAMPLE}` stands in — put one your clients send."
                ));
                PROXY_SAMPLE.to_string()
            }
            Some(name) => {
                notes.push(format!(
                    "{{{name}}} is sent as {ID_TEMPLATE} (0, 1, 2, …), ids that may not exist — put real ones from a [data] file (docs/scenario.md)."
                ));
                ID_TEMPLATE.to_string()
            }
            // Braces are encoded, so no template can start.
            None => utf8_percent_encode(s, SEGMENT).to_string(),
        })
        .collect();
    format!("/{}", segments.join("/"))
}

/// `POST /orders/{id}` → `post-orders-id`.
fn slug(route: &str) -> String {
    let mut out = String::new();
    for c in route.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn integration(route: &RouteLimits) -> String {
    match (route.integration, route.function_label()) {
        (IntegrationKind::Lambda, Some(f)) => format!("{f} (Lambda)"),
        (IntegrationKind::Lambda, None) => "a Lambda function not named by its URI".into(),
        (IntegrationKind::Http, _) => {
            "an HTTP endpoint (no function: its limits are the backend's)".into()
        }
        (IntegrationKind::Aws, _) => "an AWS service integration (no function)".into(),
        (IntegrationKind::Mock, _) => "a mock integration (API Gateway answers itself)".into(),
        (IntegrationKind::None, _) => "no integration read".into(),
    }
}

/// The route's limits, one line each: its function's, its own throttle, usage plans',
/// and the function's configuration.
fn limits(route: &RouteLimits) -> Vec<String> {
    let mut out: Vec<String> = [
        (
            LimitKey::FunctionReservedConcurrency,
            None,
            "reserved concurrency",
        ),
        (
            LimitKey::FunctionProvisionedConcurrency,
            None,
            "provisioned concurrency",
        ),
        (
            LimitKey::RouteThrottleRate,
            Some(LimitKey::RouteThrottleBurst),
            "route throttle",
        ),
        (
            LimitKey::UsagePlanRate,
            Some(LimitKey::UsagePlanBurst),
            "usage plan throttle",
        ),
    ]
    .into_iter()
    .filter_map(|(key, burst, title)| limit(&route.quotas, key, burst, title))
    .collect();
    if let Some(c) = &route.function_config {
        let timeout = c
            .timeout_s
            .map(|t| format!(", timeout {t} s"))
            .unwrap_or_default();
        out.push(format!(
            "memory {} MB, {}{timeout} ({})",
            c.memory_mb,
            c.architecture.key(),
            c.source.describe()
        ));
    }
    out
}

/// One limit (a rate with its burst, when `burst` is given) and its source: `route
/// throttle 100 req/s, burst 50 (apigateway:GetStage)`, `no reserved concurrency (…)`;
/// `None` when it was not read.
fn limit(quotas: &[Quota], key: LimitKey, burst: Option<LimitKey>, title: &str) -> Option<String> {
    let find = |k: LimitKey| quotas.iter().find(|q| q.key == k);
    let main = find(key);
    let burst = burst.and_then(find);
    let source = main.or(burst)?.source.describe();
    let note = main
        .or(burst)
        .and_then(|q| q.note.as_deref())
        .map(|n| format!("; {n}"))
        .unwrap_or_default();
    let value = |q: Option<&Quota>| q.and_then(|q| q.value).map(number);
    let text = match (value(main), burst.map(|b| value(Some(b)))) {
        (None, None | Some(None)) => format!("no {title}"),
        (Some(v), None) => format!("{title} {v}"),
        (Some(v), Some(Some(b))) => format!("{title} {v} req/s, burst {b}"),
        (Some(v), Some(None)) => format!("{title} {v} req/s, no burst set"),
        (None, Some(Some(b))) => format!("{title} burst {b}, no rate set"),
    };
    Some(format!("{text} ({source}{note})"))
}

/// A whole number without its `.0`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stampede_results::quotas::QuotaSource;
    use stampede_results::routes::ApiMapped;

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
}
