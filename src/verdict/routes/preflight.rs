//! The preflight per route and per function: each route's share of a stage's planned rate
//! and burst against its route and usage-plan throttles; each function's planned
//! concurrency — its routes' shares of the stage's (rate × expected latency) — against its
//! reserved concurrency; and the functions without a reservation together against the
//! account's unreserved pool.

use std::collections::BTreeMap;

use super::Routed;
use crate::quotas::{IntegrationKind, LimitKey, Quota, Quotas};
use crate::verdict::percent;
use stampede_results::quota_check::{LimitCheck, Preflight};

/// The unreserved pool's checks are of these, together.
pub const UNRESERVED: &str = "functions without reserved concurrency";

/// One planned figure against one limit's reading, for a route or a function.
fn against(stage: &str, q: &Quota, measure: &str, planned: f64, of: Of) -> Option<LimitCheck> {
    let value = q.value.filter(|_| planned > 0.0)?;
    let (route, function) = match of {
        Of::Route(r) => (Some(r.to_string()), None),
        Of::Function(f) => (None, Some(f.to_string())),
    };
    Some(LimitCheck {
        stage: stage.to_string(),
        limit: q.key,
        measure: measure.into(),
        planned,
        value,
        headroom: value - planned,
        percent: percent(planned, value),
        exceeded: planned > value,
        source: q.source.describe(),
        route,
        function,
    })
}

/// Whose share a check is of.
#[derive(Clone, Copy)]
enum Of<'a> {
    Route(&'a str),
    Function(&'a str),
}

/// Adds the routes' and functions' checks to `preflight`; `shares`: each request's share
/// of the logical requests, by name.
pub fn check_routes(
    preflight: &mut Preflight,
    quotas: &Quotas,
    routed: &[Routed],
    shares: &BTreeMap<String, f64>,
) {
    let share = |g: &Routed| -> f64 { g.requests.iter().filter_map(|n| shares.get(n)).sum() };
    let mut checks = Vec::new();
    for stage in &preflight.stages {
        // Per function: its share, and its reservation (None: it draws on the pool).
        let mut functions: BTreeMap<String, (f64, Option<&Quota>)> = BTreeMap::new();
        for g in routed {
            let route = &quotas.routes[g.route];
            let s = share(g);
            let check = |limit: LimitKey, measure: &str, planned: f64| {
                let q = route.quotas.iter().find(|q| q.key == limit)?;
                against(&stage.name, q, measure, planned, Of::Route(&route.route))
            };
            if let Some(rate) = stage.peak_rate {
                let rate = (rate * s * 10.0).round() / 10.0;
                checks.extend(check(LimitKey::RouteThrottleRate, "rate", rate));
                checks.extend(check(LimitKey::UsagePlanRate, "rate", rate));
            }
            if let Some(n) = stage.burst {
                let burst = (n as f64 * s).ceil();
                checks.extend(check(LimitKey::RouteThrottleBurst, "burst", burst));
                checks.extend(check(LimitKey::UsagePlanBurst, "burst", burst));
            }
            if let (IntegrationKind::Lambda, Some(f)) = (route.integration, &route.function) {
                let reserved = route
                    .quotas
                    .iter()
                    .find(|q| q.key == LimitKey::FunctionReservedConcurrency && q.value.is_some());
                let entry = functions.entry(f.clone()).or_insert((0.0, reserved));
                entry.0 += s;
            }
        }
        let concurrency = |s: f64| (stage.expected_concurrency * s - 1e-9).ceil().max(0.0);
        let mut pooled = 0.0;
        for (name, (s, reserved)) in &functions {
            match reserved {
                Some(q) => checks.extend(against(
                    &stage.name,
                    q,
                    "concurrency",
                    concurrency(*s),
                    Of::Function(name),
                )),
                None => pooled += s,
            }
        }
        let pool = quotas
            .quota(LimitKey::LambdaUnreservedConcurrency)
            .or_else(|| quotas.quota(LimitKey::LambdaConcurrentExecutions));
        if let Some(q) = pool {
            checks.extend(against(
                &stage.name,
                q,
                "concurrency",
                concurrency(pooled),
                Of::Function(UNRESERVED),
            ));
        }
    }
    preflight.exceeded |= checks.iter().any(|c| c.exceeded);
    preflight.checks.extend(checks);
}
