//! A deployed API's map (`quotas::aws::fetch`'s `api` and `routes`) → a `Draft`: one
//! request per route, each commented with what it integrates with, the function (and
//! qualifier) it invokes and its limits, each with the call that read it. The map holds
//! no secret, so neither does the draft.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

mod comment;

use super::{keep_at_most, tidy_url, unique_names, Draft, DraftRequest};
use comment::{integration, limit, limits};
// The results format's types (the layer that fills them, `quotas`, is above this one).
use stampede_results::cloudwatch::ApiKind;
use stampede_results::quotas::{LimitKey, NotRead, Quota, Quotas};
use stampede_results::routes::RouteLimits;

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

#[cfg(test)]
mod tests;
