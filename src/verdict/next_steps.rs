//! What to do about each limit a run hit: the quota code to raise and the command,
//! reserved or provisioned concurrency, or a gentler ramp. Pure.

use super::num;
use super::quota_check::RunSeen;
use crate::quotas::{LimitKey, Quotas};

/// What to do about each limit hit, most important first, without repeats.
pub(super) fn next_steps(
    quotas: &Quotas,
    seen: &RunSeen,
    peak_flight: f64,
    peak_rate: f64,
    hit: &[LimitKey],
) -> Vec<String> {
    let function = seen.function.as_deref().unwrap_or("FUNCTION");
    let want = |observed: f64| (observed * 1.2).ceil() as u64;
    let mut steps: Vec<String> = Vec::new();
    for k in hit {
        let v = quotas.get(*k).map_or("unknown".into(), num);
        let step = match k {
            LimitKey::LambdaConcurrentExecutions => format!(
                "Raise the account's Lambda concurrency (now {v}) in Service Quotas, AWS Lambda, Concurrent executions (L-B99A9384), to at least {}: aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value {}",
                want(peak_flight), want(peak_flight)
            ),
            LimitKey::LambdaUnreservedConcurrency => format!(
                "Only {v} of the account's concurrency is unreserved: lower other functions' reserved concurrency, give {function} reserved concurrency of its own, or raise L-B99A9384"
            ),
            LimitKey::FunctionReservedConcurrency => {
                let mut step = format!(
                    "Raise {function}'s reserved concurrency (now {v}) to at least {}: aws lambda put-function-concurrency --function-name {function} --reserved-concurrent-executions {}",
                    want(peak_flight), want(peak_flight)
                );
                // Lambda keeps 100 of the account's concurrency unreserved.
                match quotas.get(LimitKey::LambdaConcurrentExecutions) {
                    Some(a) if want(peak_flight) as f64 > a - 100.0 => step.push_str(&format!(
                        "; the account's {} leaves at most {} to reserve, so raise L-B99A9384 first",
                        num(a),
                        num((a - 100.0).max(0.0))
                    )),
                    _ => step.push_str(" (it needs that much unreserved account concurrency)"),
                }
                step
            }
            LimitKey::FunctionProvisionedConcurrency => format!(
                "Requests beyond the {v} provisioned environments met cold starts: raise provisioned concurrency to {}: aws lambda put-provisioned-concurrency-config --function-name {function} --qualifier {} --provisioned-concurrent-executions {}",
                peak_flight.ceil() as u64, seen.qualifier.as_deref().unwrap_or("ALIAS"), peak_flight.ceil() as u64
            ),
            LimitKey::LambdaScalingRate => format!(
                "Lambda adds at most {v} environments per 10 s per function: pre-warm with provisioned concurrency (aws lambda put-provisioned-concurrency-config --function-name {function} --qualifier {} --provisioned-concurrent-executions {}), or ramp to {} in flight over at least {} s",
                seen.qualifier.as_deref().unwrap_or("ALIAS"), peak_flight.ceil() as u64, peak_flight.ceil() as u64,
                ((peak_flight / quotas.get(*k).unwrap_or(1000.0)).ceil() * 10.0) as u64
            ),
            LimitKey::ApigwRate | LimitKey::ApigwBurst => format!(
                "Raise API Gateway's account throttle (rate {} req/s, burst {}) in Service Quotas, Amazon API Gateway, Throttle rate (L-8A5B8E43) and Throttle burst rate (L-CDF5615A); or keep the load under {} req/s",
                quotas.get(LimitKey::ApigwRate).map_or("?".into(), num),
                quotas.get(LimitKey::ApigwBurst).map_or("?".into(), num),
                quotas.get(LimitKey::ApigwRate).map_or("?".into(), |r| num(r * 0.9))
            ),
            LimitKey::StageRate | LimitKey::StageBurst => format!(
                "Raise the stage's throttle (rate {} req/s, burst {}) to at least {} req/s: aws apigateway update-stage --rest-api-id {} --stage-name {} --patch-operations op=replace,path=/*/*/throttling/rateLimit,value={}",
                quotas.get(LimitKey::StageRate).map_or("?".into(), num),
                quotas.get(LimitKey::StageBurst).map_or("?".into(), num),
                want(peak_rate),
                seen.rest_api_id.as_deref().unwrap_or("API_ID"),
                seen.stage.as_deref().unwrap_or("STAGE"),
                want(peak_rate)
            ),
            LimitKey::RestIntegrationTimeoutMs => continue,
        };
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    if let Some(first) = hit.first() {
        let ramp = match first {
            LimitKey::StageRate | LimitKey::ApigwRate | LimitKey::StageBurst | LimitKey::ApigwBurst => None,
            _ => Some("or send less: a gentler ramp that stops below the limit shows the latency the limit allows"),
        };
        if let Some(r) = ramp {
            steps.push(format!("Until then, {r}."));
        }
    }
    steps
}
