//! What to do about each limit a run hit: the quota code to raise and the command,
//! reserved or provisioned concurrency, or a gentler ramp. Pure.

use super::num;
use super::quota_check::RunSeen;
use crate::quotas::{ApiKind, LimitKey, Quotas};

/// What the run reached, as the next steps size their numbers.
pub(super) struct Peaks {
    /// Requests in flight at the client's busiest.
    pub in_flight: f64,
    /// Attempts sent in the busiest second.
    pub rate: f64,
    /// The function's own concurrency at its busiest (Lambda's count, or in flight up to
    /// the function's ceiling): provisioned concurrency past it would sit idle.
    pub concurrency: f64,
    /// The largest burst stage, if any.
    pub burst: f64,
}

/// A load that stays under every known API Gateway rate on the way in: 90% of the lowest.
pub(super) fn safe_rate(quotas: &Quotas) -> Option<f64> {
    [LimitKey::StageRate, LimitKey::ApigwRate]
        .into_iter()
        .filter_map(|k| quotas.get(k))
        .reduce(f64::min)
        .map(|r| (r * 0.9).floor())
}

/// What to do about each limit hit, most important first, without repeats.
pub(super) fn next_steps(
    quotas: &Quotas,
    seen: &RunSeen,
    peaks: &Peaks,
    hit: &[LimitKey],
) -> Vec<String> {
    let function = seen.names.function.as_deref().unwrap_or("FUNCTION");
    let want = |observed: f64| (observed * 1.2).ceil() as u64;
    let provisioned = peaks.concurrency.ceil() as u64;
    let under = safe_rate(quotas).map_or(String::new(), |r| {
        format!("; or keep the load under {} req/s", num(r))
    });
    let mut steps: Vec<String> = Vec::new();
    for k in hit {
        let v = quotas.get(*k).map_or("unknown".into(), num);
        let step = match k {
            LimitKey::LambdaConcurrentExecutions => format!(
                "Raise the account's Lambda concurrency (now {v}) in Service Quotas, AWS Lambda, Concurrent executions (L-B99A9384), to at least {}: aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value {}",
                want(peaks.in_flight), want(peaks.in_flight)
            ),
            LimitKey::LambdaUnreservedConcurrency => format!(
                "Only {v} of the account's concurrency is unreserved: lower other functions' reserved concurrency, give {function} reserved concurrency of its own, or raise L-B99A9384"
            ),
            LimitKey::FunctionReservedConcurrency => {
                let mut step = format!(
                    "Raise {function}'s reserved concurrency (now {v}) to at least {}: aws lambda put-function-concurrency --function-name {function} --reserved-concurrent-executions {}",
                    want(peaks.in_flight), want(peaks.in_flight)
                );
                // Lambda keeps 100 of the account's concurrency unreserved.
                match quotas.get(LimitKey::LambdaConcurrentExecutions) {
                    Some(a) if want(peaks.in_flight) as f64 > a - 100.0 => step.push_str(&format!(
                        "; the account's {} leaves at most {} to reserve, so raise L-B99A9384 first",
                        num(a),
                        num((a - 100.0).max(0.0))
                    )),
                    _ => step.push_str(" (it needs that much unreserved account concurrency)"),
                }
                step
            }
            LimitKey::FunctionProvisionedConcurrency => {
                if quotas.get(*k).is_some_and(|p| p >= peaks.concurrency) {
                    continue;
                }
                format!(
                    "Requests beyond the {v} provisioned environments met cold starts: raise provisioned concurrency to {provisioned} (the function's peak concurrency): aws lambda put-provisioned-concurrency-config --function-name {function} --qualifier {} --provisioned-concurrent-executions {provisioned}",
                    seen.names.qualifier.as_deref().unwrap_or("ALIAS")
                )
            }
            LimitKey::LambdaScalingRate => format!(
                "Lambda adds at most {v} environments per 10 s per function: pre-warm with provisioned concurrency up to the function's peak concurrency of {provisioned} (aws lambda put-provisioned-concurrency-config --function-name {function} --qualifier {} --provisioned-concurrent-executions {provisioned}), or ramp to {provisioned} over at least {} s",
                seen.names.qualifier.as_deref().unwrap_or("ALIAS"),
                ((peaks.concurrency / quotas.get(*k).unwrap_or(1000.0)).ceil() * 10.0) as u64
            ),
            LimitKey::ApigwRate | LimitKey::ApigwBurst => format!(
                "Raise API Gateway's account throttle (rate {} req/s, burst {}) in Service Quotas, Amazon API Gateway, Throttle rate (L-8A5B8E43) and Throttle burst rate (L-CDF5615A){under}",
                quotas.get(LimitKey::ApigwRate).map_or("?".into(), num),
                quotas.get(LimitKey::ApigwBurst).map_or("?".into(), num),
            ),
            LimitKey::StageRate | LimitKey::StageBurst => {
                let rate = want(peaks.rate);
                let burst = [
                    quotas.get(LimitKey::StageBurst).unwrap_or(0.0),
                    (rate as f64 / 2.0).ceil(),
                    want(peaks.burst) as f64,
                ]
                .into_iter()
                .fold(0.0, f64::max) as u64;
                let mut step = format!(
                    "Raise the stage's throttle (rate {} req/s, burst {}) to at least {rate} req/s, burst {burst}: {}",
                    quotas.get(LimitKey::StageRate).map_or("?".into(), num),
                    quotas.get(LimitKey::StageBurst).map_or("?".into(), num),
                    update_stage(seen, rate, burst)
                );
                if let Some(a) = quotas.get(LimitKey::ApigwRate).filter(|a| *a < rate as f64) {
                    step.push_str(&format!(
                        " (past the account's {} req/s, raise that too: L-8A5B8E43)",
                        num(a)
                    ));
                }
                step.push_str(&under);
                step
            }
            LimitKey::RouteThrottleRate | LimitKey::RouteThrottleBurst => {
                let (rate, burst) = raised(quotas, peaks, LimitKey::RouteThrottleBurst);
                format!(
                    "Raise {}'s throttle (rate {} req/s, burst {}) to at least {rate} req/s, burst {burst}: {}{under}",
                    seen.route.as_deref().unwrap_or("the route"),
                    quotas.get(LimitKey::RouteThrottleRate).map_or("?".into(), num),
                    quotas.get(LimitKey::RouteThrottleBurst).map_or("?".into(), num),
                    update_route(seen, rate, burst)
                )
            }
            LimitKey::UsagePlanRate | LimitKey::UsagePlanBurst => {
                let (rate, burst) = raised(quotas, peaks, LimitKey::UsagePlanBurst);
                let (api, stage) = api_and_stage(seen);
                let method = method_path(seen.route.as_deref().unwrap_or("ANY /"), "/");
                format!(
                    "Raise the usage plan's throttle on {} (rate {} req/s, burst {}) to at least {rate} req/s, burst {burst}: aws apigateway update-usage-plan --usage-plan-id PLAN_ID --patch-operations op=replace,path=/apiStages/{api}:{stage}/throttle/{method}/rateLimit,value={rate} op=replace,path=/apiStages/{api}:{stage}/throttle/{method}/burstLimit,value={burst}; or send with more API keys",
                    seen.route.as_deref().unwrap_or("the route"),
                    quotas.get(LimitKey::UsagePlanRate).map_or("?".into(), num),
                    quotas.get(LimitKey::UsagePlanBurst).map_or("?".into(), num),
                )
            }
            LimitKey::RestIntegrationTimeoutMs => continue,
        };
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    if let Some(first) = hit.first() {
        let ramp = match first {
            LimitKey::StageRate
            | LimitKey::ApigwRate
            | LimitKey::StageBurst
            | LimitKey::ApigwBurst
            | LimitKey::RouteThrottleRate
            | LimitKey::RouteThrottleBurst
            | LimitKey::UsagePlanRate
            | LimitKey::UsagePlanBurst => None,
            _ => Some("or send less: a gentler ramp that stops below the limit shows the latency the limit allows"),
        };
        if let Some(r) = ramp {
            steps.push(format!("Until then, {r}."));
        }
    }
    steps
}

/// A throttle that would have let the run's peak through: 1.2 × its peak rate, and a
/// burst of at least half of that, the largest burst stage, or the burst set now.
fn raised(quotas: &Quotas, peaks: &Peaks, burst_key: LimitKey) -> (u64, u64) {
    let rate = (peaks.rate * 1.2).ceil() as u64;
    let burst = [
        quotas.get(burst_key).unwrap_or(0.0),
        (rate as f64 / 2.0).ceil(),
        (peaks.burst * 1.2).ceil(),
    ]
    .into_iter()
    .fold(0.0, f64::max) as u64;
    (rate, burst)
}

fn api_and_stage<'s>(seen: &'s RunSeen) -> (&'s str, &'s str) {
    (
        seen.names.api_id.as_deref().unwrap_or("API_ID"),
        seen.names.stage.as_deref().unwrap_or("STAGE"),
    )
}

/// `POST /orders/{id}` as a REST method's settings path: `~1orders~1{id}/POST` (`/` is
/// `~1`; `ANY` is `*`), with `sep` between the resource and the method.
fn method_path(route: &str, sep: &str) -> String {
    let (method, path) = route.split_once(' ').unwrap_or(("ANY", route));
    let method = if method == "ANY" { "*" } else { method };
    format!("{}{sep}{method}", path.replace('/', "~1"))
}

/// The command that sets one route's throttle: a REST method's settings, or an HTTP
/// API's route settings; both when which is not known.
fn update_route(seen: &RunSeen, rate: u64, burst: u64) -> String {
    let (api, stage) = api_and_stage(seen);
    let route = seen.route.as_deref().unwrap_or("ANY /");
    let key = method_path(route, "/");
    let rest = format!(
        "aws apigateway update-stage --rest-api-id {api} --stage-name {stage} --patch-operations op=replace,path=/{key}/throttling/rateLimit,value={rate} op=replace,path=/{key}/throttling/burstLimit,value={burst}"
    );
    let http = format!(
        "aws apigatewayv2 update-stage --api-id {api} --stage-name {stage} --route-settings '{{\"{route}\":{{\"ThrottlingRateLimit\":{rate},\"ThrottlingBurstLimit\":{burst}}}}}'"
    );
    match seen.api {
        Some(ApiKind::Rest) => rest,
        Some(ApiKind::Http) => http,
        None => format!("for a REST API, {rest}; for an HTTP API, {http}"),
    }
}

/// The command that sets a stage's default throttle: a REST API's (`apigateway`) or an
/// HTTP API's (`apigatewayv2`); both when which is not known.
fn update_stage(seen: &RunSeen, rate: u64, burst: u64) -> String {
    let api = seen.names.api_id.as_deref().unwrap_or("API_ID");
    let stage = seen.names.stage.as_deref().unwrap_or("STAGE");
    let rest = format!(
        "aws apigateway update-stage --rest-api-id {api} --stage-name {stage} --patch-operations op=replace,path=/*/*/throttling/rateLimit,value={rate} op=replace,path=/*/*/throttling/burstLimit,value={burst}"
    );
    let http = format!(
        "aws apigatewayv2 update-stage --api-id {api} --stage-name {stage} --default-route-settings ThrottlingRateLimit={rate},ThrottlingBurstLimit={burst} (a route with a throttle of its own: --route-settings)"
    );
    match seen.api {
        Some(ApiKind::Rest) => rest,
        Some(ApiKind::Http) => http,
        None => format!("for a REST API, {rest}; for an HTTP API, {http}"),
    }
}
