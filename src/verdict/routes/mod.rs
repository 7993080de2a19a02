//! The quota check per route: each `[[requests]]` entry matched to the API route its
//! method and path select (API Gateway's precedence), and each route's traffic weighed
//! against its own limits — its route and usage-plan throttles, and its function's
//! concurrency (what every route that reaches that function had in flight). The run's
//! check is made again on each route's view of the quotas, so an onset, a suspected Lambda
//! throttle and a next step are found per route exactly as for the whole run. Pure.

mod matching;
pub mod preflight;
#[cfg(test)]
mod tests;
mod view;

use std::collections::BTreeMap;

use super::quota_check::{check, QuotaCheck, RunSeen};
use crate::quotas::Quotas;
use stampede_results::quota_check::{Finding, RouteCheck};
use stampede_results::RequestResult;

pub use matching::{map_requests, MixRequest, Routed, Unmatched};

/// Each routed group's check, in route order.
pub fn check_routes(
    quotas: &Quotas,
    seen: &RunSeen,
    routed: &[Routed],
    by_request: &BTreeMap<String, RequestResult>,
) -> Vec<RouteCheck> {
    let in_flight = view::in_flight_by_function(quotas, routed, by_request, seen.timeline.len());
    routed
        .iter()
        .map(|group| {
            let route = &quotas.routes[group.route];
            let timeline =
                view::timeline(group, by_request, &in_flight, route, seen.timeline.len());
            let view_quotas = view::quotas(quotas, route);
            let route_seen = view::seen(seen, route, &timeline);
            let c = check(&view_quotas, &route_seen, None);
            RouteCheck {
                route: route.route.clone(),
                requests: group.requests.clone(),
                function: route.function_label(),
                sent: timeline.iter().map(|p| p.sent).sum(),
                throttled: timeline
                    .iter()
                    .map(|p| p.throttled + p.suspected_lambda_throttles)
                    .sum(),
                usage: c.usage,
                onset: c.onset,
                suspected_lambda_throttles: c.suspected_lambda_throttles,
                next_steps: c.next_steps,
                pass: c.pass,
            }
        })
        .collect()
}

/// Sets the routes' checks into the run's: a finding per route whose throttling began
/// (naming the routes that stayed clean), their next steps after the run's, and the pass.
pub fn add_routes(check: &mut QuotaCheck, mut routes: Vec<RouteCheck>) {
    for r in &mut routes {
        whole_runs_bucket(check, r);
    }
    let clean: Vec<String> = routes
        .iter()
        .filter(|r| r.throttled == 0 && r.sent > 0)
        .map(|r| match &r.function {
            Some(f) => format!("{} on {f}", r.route),
            None => r.route.clone(),
        })
        .collect();
    for r in &routes {
        let on = r
            .function
            .as_ref()
            .map_or(String::new(), |f| format!(" on {f}"));
        let others = if clean.is_empty() {
            String::new()
        } else {
            format!(" — while {} stayed clean", clean.join(", "))
        };
        if let Some(o) = &r.onset {
            check.findings.push(Finding {
                level: "onset".into(),
                limit: o.limit,
                message: format!("{}{on}: {}{others}", r.route, o.explanation),
            });
        }
        if let Some(s) = &r.suspected_lambda_throttles {
            check.findings.push(Finding {
                level: "suspected".into(),
                limit: s.at_limit,
                message: format!("{}{on}: {}", r.route, s.message),
            });
        }
        for u in r.usage.iter().filter(|u| u.percent > 100.0) {
            check.findings.push(Finding {
                level: "exceeded".into(),
                limit: Some(u.limit),
                message: format!(
                    "{}{on}: {} {} is {:.0}% of {} {} ({})",
                    r.route,
                    u.measure,
                    super::num(u.observed),
                    u.percent,
                    u.limit.title(),
                    super::num(u.value),
                    u.source
                ),
            });
        }
        for step in &r.next_steps {
            if !check.next_steps.contains(step) {
                check.next_steps.push(step.clone());
            }
        }
    }
    explain_by_route(check, &routes);
    check.pass &= routes.iter().all(|r| r.pass);
    check.by_route = routes;
}

/// A route whose 429s were API Gateway's and which no limit of its own explains, in a run
/// whose onset the stage's or the account's bucket explains: that bucket refused it too
/// (a route's view leaves the whole run's buckets to the whole run's check).
fn whole_runs_bucket(check: &QuotaCheck, r: &mut RouteCheck) {
    use crate::quotas::LimitKey as K;
    let Some(limit) = check.onset.as_ref().and_then(|o| o.limit) else {
        return;
    };
    if ![K::StageRate, K::StageBurst, K::ApigwRate, K::ApigwBurst].contains(&limit) {
        return;
    }
    let Some(o) = r.onset.as_mut().filter(|o| o.limit.is_none()) else {
        return;
    };
    if o.kinds
        .keys()
        .all(|k| k == crate::classify::ThrottleKind::ApiGateway.key())
    {
        o.limit = Some(limit);
        o.reached = true;
        o.explanation = format!(
            "throttling began at {} s: the {} the whole run met (its 429s, not a limit of this route's own)",
            o.t_s,
            limit.title()
        );
    }
}

/// The whole run's onset (or suspected throttles) that no limit of the whole explains, put
/// down to the route whose own limit does: its limit and words, the route named.
fn explain_by_route(check: &mut QuotaCheck, routes: &[RouteCheck]) {
    let named = |r: &RouteCheck| match &r.function {
        Some(f) => format!("{} on {f}", r.route),
        None => r.route.clone(),
    };
    if let Some(o) = check.onset.as_mut().filter(|o| o.limit.is_none()) {
        let by_route = routes
            .iter()
            .filter_map(|r| {
                r.onset
                    .as_ref()
                    .filter(|ro| ro.limit.is_some())
                    .map(|ro| (r, ro))
            })
            .min_by_key(|(_, ro)| ro.t_s);
        if let Some((r, ro)) = by_route {
            o.limit = ro.limit;
            o.reached = ro.reached;
            o.explanation = format!("{}: {}", named(r), ro.explanation);
        }
    }
    if let Some(s) = check
        .suspected_lambda_throttles
        .as_mut()
        .filter(|s| s.at_limit.is_none())
    {
        let by_route = routes.iter().find_map(|r| {
            let rs = r.suspected_lambda_throttles.as_ref()?;
            rs.at_limit.map(|_| (r, rs))
        });
        if let Some((r, rs)) = by_route {
            s.at_limit = rs.at_limit;
            s.message = format!("{}: {}", named(r), rs.message);
        }
    }
}
