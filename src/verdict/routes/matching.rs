//! Which route of the API each request of the mix selects, by API Gateway's precedence;
//! the requests none selects, each with the routes closest to it.

use stampede_routes::{select, RoutePattern};

use crate::quotas::Quotas;

/// A request of the mix as the routes see it.
#[derive(Clone, Copy, Debug)]
pub struct MixRequest<'a> {
    pub name: &'a str,
    pub method: &'a str,
    /// As written: the target's path prefix included, templates unrendered.
    pub path: &'a str,
}

/// The requests one route selects: `route` indexes `quotas.routes`.
#[derive(Clone, Debug, PartialEq)]
pub struct Routed {
    pub route: usize,
    pub requests: Vec<String>,
}

/// A request no route selects, and the routes closest to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Unmatched {
    pub request: String,
    pub method: String,
    pub path: String,
    pub closest: Vec<String>,
}

/// The routes the requests select (in the API's order) and the requests none does. The
/// stage's name, first in an execute-api path, is not part of a route: tried without it
/// first, as API Gateway does.
pub fn map_requests(quotas: &Quotas, requests: &[MixRequest]) -> (Vec<Routed>, Vec<Unmatched>) {
    // A route API Gateway would not accept (`$default`, an odd path) selects nothing.
    let patterns: Vec<Option<RoutePattern>> = quotas
        .routes
        .iter()
        .map(|r| RoutePattern::parse(&r.route).ok())
        .collect();
    let parsed: Vec<(usize, RoutePattern)> = patterns
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.clone().map(|p| (i, p)))
        .collect();
    let only: Vec<RoutePattern> = parsed.iter().map(|(_, p)| p.clone()).collect();
    let default_route = quotas.routes.iter().position(|r| r.route == "$default");
    let stage = quotas.api.as_ref().map(|a| a.stage.as_str());
    let mut routed: Vec<Routed> = Vec::new();
    let mut unmatched = Vec::new();
    for r in requests {
        let path = concrete_path(r.path);
        let staged = stage.and_then(|s| {
            path.strip_prefix('/')
                .and_then(|p| p.strip_prefix(s))
                .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                .map(|rest| if rest.is_empty() { "/" } else { rest })
        });
        let chosen = staged
            .and_then(|p| select(&only, r.method, p))
            .or_else(|| select(&only, r.method, &path))
            .map(|(i, _)| parsed[i].0)
            .or(default_route);
        match chosen {
            Some(route) => match routed.iter_mut().find(|g| g.route == route) {
                Some(g) => g.requests.push(r.name.to_string()),
                None => routed.push(Routed {
                    route,
                    requests: vec![r.name.to_string()],
                }),
            },
            None => unmatched.push(Unmatched {
                request: r.name.to_string(),
                method: r.method.to_string(),
                path: r.path.to_string(),
                closest: closest(quotas, r.method, staged.unwrap_or(&path)),
            }),
        }
    }
    routed.sort_by_key(|g| g.route);
    (routed, unmatched)
}

/// The path a request's template sends: the query left out, and each `{{…}}` as a value a
/// path parameter takes (never a literal segment, so `/orders/{{data.id}}` selects
/// `/orders/{id}`, not `/orders/new`).
fn concrete_path(written: &str) -> String {
    let mut out = String::new();
    let mut rest = written.split(['?', '#']).next().unwrap_or("");
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        out.push_str("\u{1}value");
        rest = match rest[open..].find("}}") {
            Some(close) => &rest[open + close + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    out
}

/// The two routes nearest `METHOD path`, by edit distance over the route's text.
fn closest(quotas: &Quotas, method: &str, path: &str) -> Vec<String> {
    let wanted = format!("{method} {}", path.replace('\u{1}', ""));
    let mut scored: Vec<(usize, &str)> = quotas
        .routes
        .iter()
        .map(|r| (strsim::levenshtein(&wanted, &r.route), r.route.as_str()))
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(2)
        .map(|(_, r)| r.to_string())
        .collect()
}
