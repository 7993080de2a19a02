//! A route's view of the run and of the quotas: its requests' seconds added, with its
//! function's in flight (every route's requests that reach it), and the limits that are
//! the route's own beside the account's.

use std::collections::BTreeMap;

use super::Routed;
use crate::quotas::{IntegrationKind, LimitKey, Quotas, RouteLimits};
use crate::record::TimelinePoint;
use crate::verdict::quota_check::{LambdaCounted, RunSeen};
use stampede_results::RequestResult;

/// What a route's concurrency is counted under: its function, else the route alone.
fn concurrency_key(route: &RouteLimits) -> String {
    route
        .function_label()
        .unwrap_or_else(|| format!("route {}", route.route))
}

/// Per function (or route without one), its requests' in flight at their most each
/// second, added over every request that reaches it. A bound from above: each request's
/// peak need not fall at the same instant.
pub(super) fn in_flight_by_function(
    quotas: &Quotas,
    routed: &[Routed],
    by_request: &BTreeMap<String, RequestResult>,
    seconds: usize,
) -> BTreeMap<String, Vec<u64>> {
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for group in routed {
        let per_second = out
            .entry(concurrency_key(&quotas.routes[group.route]))
            .or_insert_with(|| vec![0; seconds]);
        for name in &group.requests {
            for s in by_request.get(name).map_or(&[][..], |r| &r.timeline[..]) {
                if let Some(n) = per_second.get_mut(s.t_s as usize) {
                    *n += s.in_flight_max;
                }
            }
        }
    }
    out
}

/// The route's seconds, one per second of the run: its requests' sends, answers and
/// throttles, and its function's in flight.
pub(super) fn timeline(
    group: &Routed,
    by_request: &BTreeMap<String, RequestResult>,
    in_flight: &BTreeMap<String, Vec<u64>>,
    route: &RouteLimits,
    seconds: usize,
) -> Vec<TimelinePoint> {
    let mut points: Vec<TimelinePoint> = (0..seconds as u64)
        .map(|t_s| TimelinePoint {
            t_s,
            ..TimelinePoint::default()
        })
        .collect();
    for name in &group.requests {
        for s in by_request.get(name).map_or(&[][..], |r| &r.timeline[..]) {
            let Some(p) = points.get_mut(s.t_s as usize) else {
                continue;
            };
            p.sent += s.sent;
            p.ok += s.ok;
            p.throttled += s.throttled;
            p.errors += s.errors;
            p.requests += s.requests;
            p.suspected_lambda_throttles += s.suspected_lambda_throttles;
            for (kind, n) in &s.throttles {
                *p.throttles.entry(kind.clone()).or_default() += n;
            }
        }
    }
    if let Some(counts) = in_flight.get(&concurrency_key(route)) {
        for (p, n) in points.iter_mut().zip(counts) {
            p.in_flight_max = *n;
        }
    }
    points
}

/// The limits that bind the route: its own throttles and its function's concurrency,
/// beside the account's concurrency and scaling rate (the stage's and the account's
/// throttles are the whole run's, checked there).
pub(super) fn quotas(quotas: &Quotas, route: &RouteLimits) -> Quotas {
    let lambda = route.integration == IntegrationKind::Lambda;
    let account = [
        LimitKey::LambdaConcurrentExecutions,
        LimitKey::LambdaUnreservedConcurrency,
        LimitKey::LambdaScalingRate,
    ];
    let mut view = Quotas {
        origin: quotas.origin.clone(),
        region: quotas.region.clone(),
        function: route.function.clone(),
        quotas: quotas
            .quotas
            .iter()
            .filter(|q| lambda && account.contains(&q.key))
            .cloned()
            .collect(),
        function_config: route.function_config.clone(),
        ..Quotas::default()
    };
    view.quotas.extend(route.quotas.iter().cloned());
    view.quotas.sort_by_key(|q| q.key);
    view
}

/// The run as the route saw it: its seconds, its function's names for the next steps.
pub(super) fn seen<'a>(
    run: &RunSeen,
    route: &RouteLimits,
    timeline: &'a [TimelinePoint],
) -> RunSeen<'a> {
    let mut names = run.names.clone();
    names.function = route.function.clone();
    names.qualifier = route.qualifier.clone();
    RunSeen {
        timeline,
        peak_in_flight: timeline.iter().map(|p| p.in_flight_max).max().unwrap_or(0),
        // A burst stage's size is the whole mix's; each route's share shows in its sends.
        bursts: Vec::new(),
        front: run.front,
        names,
        api: run.api,
        // The emulator's counts are the whole run's, not one function's.
        counted: LambdaCounted::default(),
        route: Some(route.route.clone()),
    }
}
