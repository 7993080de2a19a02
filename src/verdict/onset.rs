//! Where throttling began and the limit that best explains it: the one the traffic
//! reached last before the throttles, within the time that limit allows; and 500s behind
//! API Gateway that began at a concurrency limit. Pure.

use std::collections::BTreeMap;

use super::num;
use super::quota_check::{
    applicable, source_of, Measure, OnsetExplained, RunSeen, Series, SuspectedLambdaThrottles,
};
use crate::classify::{ThrottleKind, THROTTLE_KINDS};
use crate::quotas::{LimitKey, Quotas};

/// A limit counts as reached from this share of it (clocks and buckets are not exact).
const REACHED: f64 = 0.95;
/// The key suspected Lambda throttles have among the onset's kinds.
const SUSPECTED_KEY: &str = "suspected_lambda_throttle";

/// What most of the onset's throttles were: matched as an enum, so renaming a kind's key
/// cannot silently change which limit gets blamed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Dominant {
    Throttle(ThrottleKind),
    SuspectedLambda,
}

impl Dominant {
    fn of_key(key: &str) -> Dominant {
        if key == SUSPECTED_KEY {
            return Dominant::SuspectedLambda;
        }
        let kind = THROTTLE_KINDS.iter().find(|k| k.key() == key);
        Dominant::Throttle(kind.copied().unwrap_or(ThrottleKind::Other))
    }
}

/// Seconds of the timeline read as "the onset" when telling throttle kinds apart.
const ONSET_SPAN: usize = 3;

pub(super) fn explain_onset(
    quotas: &Quotas,
    seen: &RunSeen,
    series: &Series,
) -> Option<OnsetExplained> {
    let t = seen.timeline;
    let i = t
        .iter()
        .position(|p| p.throttled > 0 || p.suspected_lambda_throttles > 0)?;
    let p = &t[i];
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for q in &t[i..(i + ONSET_SPAN).min(t.len())] {
        for (k, n) in &q.throttles {
            *kinds.entry(k.clone()).or_default() += n;
        }
        if q.suspected_lambda_throttles > 0 {
            *kinds.entry(SUSPECTED_KEY.into()).or_default() += q.suspected_lambda_throttles;
        }
    }
    let dominant = kinds
        .iter()
        .max_by_key(|(_, n)| **n)
        .map_or(Dominant::Throttle(ThrottleKind::Other), |(k, _)| {
            Dominant::of_key(k)
        });
    let mut evidence = vec![format!(
        "first throttled second: {} s, {} attempts sent, {} in flight",
        p.t_s, p.sent, p.in_flight_max
    )];
    evidence.push(format!(
        "throttles in {}–{} s: {}",
        p.t_s,
        p.t_s + ONSET_SPAN as u64 - 1,
        kinds
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));

    use Dominant::{SuspectedLambda, Throttle};
    use LimitKey as K;
    use ThrottleKind as T;
    let allowed: &[LimitKey] = match dominant {
        Throttle(T::LambdaReserved) => &[K::FunctionReservedConcurrency],
        Throttle(T::LambdaAccount) => &[
            K::LambdaUnreservedConcurrency,
            K::LambdaConcurrentExecutions,
        ],
        Throttle(T::ApiGateway) => &[K::StageRate, K::ApigwRate, K::StageBurst, K::ApigwBurst],
        SuspectedLambda => &[
            K::FunctionReservedConcurrency,
            K::LambdaUnreservedConcurrency,
            K::LambdaConcurrentExecutions,
            K::LambdaScalingRate,
        ],
        Throttle(T::UsagePlan | T::LambdaRate | T::LambdaCaller) => &[],
        Throttle(T::Other) => &[
            K::FunctionReservedConcurrency,
            K::LambdaUnreservedConcurrency,
            K::LambdaConcurrentExecutions,
            K::LambdaScalingRate,
            K::StageRate,
            K::ApigwRate,
            K::StageBurst,
            K::ApigwBurst,
        ],
    };
    let best = applicable(quotas, seen.front)
        .into_iter()
        .filter(|c| allowed.contains(&c.limit))
        .filter_map(|c| {
            let reached = (0..=i).find(|&j| series.at(c.measure, j, seen) >= REACHED * c.value)?;
            let bucket_s = (c.measure == Measure::Rate)
                .then(|| bucket_seconds(quotas, c.limit, series.at(c.measure, i, seen)));
            (i - reached <= c.measure.slack(bucket_s.flatten()) as usize).then_some((c, reached))
        })
        // The limit reached last before the onset explains it; of one measure, the lowest.
        .min_by(|(a, ra), (b, rb)| (i - ra).cmp(&(i - rb)).then(a.value.total_cmp(&b.value)));

    let reached = best.is_some();
    let (limit, explanation) = match best {
        Some((c, reached)) => {
            let observed = series.at(c.measure, i, seen);
            evidence.push(format!(
                "{} {} ({}) reached at {} s; at the onset {}: {}",
                c.limit.title(),
                num(c.value),
                source_of(quotas, c.limit),
                t[reached].t_s,
                c.measure.name().trim_start_matches("peak "),
                num(observed)
            ));
            (
                Some(c.limit),
                format!(
                    "throttling began at {} s when {} reached {} — the {} of {}",
                    p.t_s,
                    c.measure.name().trim_start_matches("peak "),
                    num(observed),
                    c.limit.title(),
                    num(c.value)
                ),
            )
        }
        None => match dominant {
            Throttle(T::LambdaReserved) => (
                Some(K::FunctionReservedConcurrency),
                format!("throttling began at {} s: Lambda says the function's reserved concurrency is used up (ReservedFunctionConcurrentInvocationLimitExceeded)", p.t_s),
            ),
            Throttle(T::LambdaAccount) => (
                Some(K::LambdaConcurrentExecutions),
                format!("throttling began at {} s: Lambda says the account's concurrency is used up (ConcurrentInvocationLimitExceeded)", p.t_s),
            ),
            Throttle(T::UsagePlan) => (None, format!("throttling began at {} s: an API Gateway usage plan's quota for the API key (Limit Exceeded)", p.t_s)),
            Throttle(T::LambdaRate) => (None, format!("throttling began at {} s: the function's invocation rate limit (FunctionInvocationRateLimitExceeded)", p.t_s)),
            Throttle(T::LambdaCaller) => (None, format!("throttling began at {} s: the caller's rate limit (CallerRateLimitExceeded)", p.t_s)),
            Throttle(T::ApiGateway | T::Other) | SuspectedLambda => (None, format!(
                "throttling began at {} s ({} sent, {} in flight) below every known limit: a limit stampede was not told of (a method or usage-plan throttle, a downstream limiter)",
                p.t_s, p.sent, p.in_flight_max
            )),
        },
    };
    Some(OnsetExplained {
        t_s: p.t_s,
        rate: p.sent,
        in_flight: p.in_flight_max,
        kinds,
        limit,
        reached,
        explanation,
        evidence,
    })
}

/// How long a rate limit's bucket lasts at `rate`: burst ÷ (rate − limit).
fn bucket_seconds(quotas: &Quotas, rate_limit: LimitKey, rate: f64) -> Option<f64> {
    let bucket = match rate_limit {
        LimitKey::StageRate => LimitKey::StageBurst,
        LimitKey::ApigwRate => LimitKey::ApigwBurst,
        _ => return None,
    };
    let (b, r) = (quotas.get(bucket)?, quotas.get(rate_limit)?);
    (rate > r).then(|| b / (rate - r))
}

pub(super) fn suspected(quotas: &Quotas, seen: &RunSeen) -> Option<SuspectedLambdaThrottles> {
    let t = seen.timeline;
    let i = t.iter().position(|p| p.suspected_lambda_throttles > 0)?;
    let count = t.iter().map(|p| p.suspected_lambda_throttles).sum();
    let in_flight = t[i].in_flight_max;
    let at_limit = applicable(quotas, seen.front)
        .into_iter()
        .filter(|c| c.measure == Measure::InFlight)
        .filter(|c| in_flight as f64 >= REACHED * c.value)
        .min_by(|a, b| a.value.total_cmp(&b.value));
    let message = match &at_limit {
        Some(c) => format!(
            "{count} 500s with API Gateway's body began at {} s when {in_flight} requests were in flight — at the {} of {}: Lambda throttles behind API Gateway, most likely (it answers a Lambda throttle with 500)",
            t[i].t_s, c.limit.title(), num(c.value)
        ),
        None => format!(
            "{count} 500s with API Gateway's body began at {} s with {in_flight} in flight, below every known concurrency limit: function errors or a limit not known here; look the failures' correlation ids up in the function's logs",
            t[i].t_s
        ),
    };
    Some(SuspectedLambdaThrottles {
        count,
        first_t_s: t[i].t_s,
        in_flight,
        at_limit: at_limit.map(|c| c.limit),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_key_maps_back_to_its_kind() {
        for kind in THROTTLE_KINDS {
            assert_eq!(Dominant::of_key(kind.key()), Dominant::Throttle(kind));
        }
        assert_eq!(Dominant::of_key(SUSPECTED_KEY), Dominant::SuspectedLambda);
    }
}
