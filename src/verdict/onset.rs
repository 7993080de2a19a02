//! Where throttling began and the limit that best explains it: the one the traffic
//! reached last before the throttles, within the time that limit allows; and 500s behind
//! API Gateway that began at a concurrency limit. Pure.

use std::collections::BTreeMap;

use super::buckets::{emptied_in_order, Bucket, Emptied};
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
        Throttle(T::ApiGateway) => &[
            K::RouteThrottleRate,
            K::UsagePlanRate,
            K::StageRate,
            K::ApigwRate,
            K::RouteThrottleBurst,
            K::UsagePlanBurst,
            K::StageBurst,
            K::ApigwBurst,
        ],
        SuspectedLambda => &[
            K::FunctionReservedConcurrency,
            K::LambdaUnreservedConcurrency,
            K::LambdaConcurrentExecutions,
            K::LambdaScalingRate,
        ],
        // Lambda answers so when new environments come faster than it creates them.
        Throttle(T::LambdaRate) => &[K::LambdaScalingRate],
        Throttle(T::UsagePlan | T::LambdaCaller) => &[],
        Throttle(T::Other) => &[
            K::FunctionReservedConcurrency,
            K::LambdaUnreservedConcurrency,
            K::LambdaConcurrentExecutions,
            K::LambdaScalingRate,
            K::RouteThrottleRate,
            K::UsagePlanRate,
            K::StageRate,
            K::ApigwRate,
            K::RouteThrottleBurst,
            K::UsagePlanBurst,
            K::StageBurst,
            K::ApigwBurst,
        ],
    };
    // API Gateway's buckets answer alike: the one that ran out first over the sends.
    let buckets = Bucket::of(quotas);
    let by_bucket = (seen.front.has_api_gateway()
        && buckets.iter().any(|b| allowed.contains(&b.rate_limit)))
    .then(|| bucket_cause(quotas, &buckets, series, seen, i))
    .flatten();
    let covered = |k: LimitKey| {
        buckets
            .iter()
            .any(|b| b.rate_limit == k || b.burst_limit() == k)
    };
    let best = applicable(quotas, seen.front)
        .into_iter()
        .filter(|c| allowed.contains(&c.limit) && !covered(c.limit))
        .filter_map(|c| {
            let reached = (0..=i).find(|&j| series.at(c.measure, j, seen) >= REACHED * c.value)?;
            (i - reached <= c.measure.slack() as usize).then_some((c, reached))
        })
        // The limit reached last before the onset explains it; of one measure, the lowest.
        .min_by(|(a, ra), (b, rb)| (i - ra).cmp(&(i - rb)).then(a.value.total_cmp(&b.value)));
    // A bucket that ran out explains the onset unless a concurrency limit was reached later.
    if let Some(cause) = by_bucket {
        if best
            .as_ref()
            .is_none_or(|(_, reached)| *reached <= cause.second)
        {
            evidence.extend(cause.evidence);
            return Some(OnsetExplained {
                t_s: p.t_s,
                rate: p.sent,
                in_flight: p.in_flight_max,
                kinds,
                limit: Some(cause.limit),
                reached: true,
                explanation: cause.explanation,
                evidence,
                too_close: cause.too_close,
            });
        }
    }
    if !buckets.is_empty() && seen.front.has_api_gateway() {
        evidence.extend(bucket_lines(quotas, &buckets, series));
    }

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
        too_close: Vec::new(),
    })
}

/// How far before the first throttled second a bucket may run out and still explain it
/// (a second's sends are not evenly spread; the client's and the server's seconds differ).
const BUCKET_EARLY_S: usize = 2;

/// The bucket that ran out first, and any that ran out in the same second.
struct BucketCause {
    limit: LimitKey,
    second: usize,
    too_close: Vec<LimitKey>,
    explanation: String,
    evidence: Vec<String>,
}

/// Simulates each bucket over the sends; the first to run out near the onset (`i`) is the
/// cause, and one that runs out in the same second is too close to tell apart from it.
fn bucket_cause(
    quotas: &Quotas,
    buckets: &[Bucket],
    series: &Series,
    seen: &RunSeen,
    i: usize,
) -> Option<BucketCause> {
    let sent = series.sends();
    let near: Vec<(Bucket, Emptied)> = emptied_in_order(buckets, sent)
        .into_iter()
        .filter(|(_, e)| e.second <= i + 1 && e.second + BUCKET_EARLY_S >= i)
        .collect();
    let (first, e) = *near.first()?;
    let same: Vec<&(Bucket, Emptied)> = near[1..]
        .iter()
        .filter(|(_, o)| o.second == e.second)
        .collect();
    let t = |s: usize| seen.timeline.get(s).map_or(s as u64, |p| p.t_s);
    let explanation = if same.is_empty() {
        let others: Vec<String> = buckets
            .iter()
            .filter(|b| **b != first)
            .map(|b| match b.simulate(sent) {
                Some(o) => format!("the {} runs out at {:.1} s", b.name(), o.at_s),
                None => format!("the {} never does", b.name()),
            })
            .collect();
        format!(
            "throttling began at {} s when the {} ({}) ran out: simulated over the sends, it empties at {:.1} s{}",
            t(i),
            first.name(),
            first.describe(),
            e.at_s,
            if others.is_empty() {
                String::new()
            } else {
                format!("; {}", others.join("; "))
            }
        )
    } else {
        let mut names = vec![format!(
            "the {} ({}) at {:.1} s",
            first.name(),
            first.describe(),
            e.at_s
        )];
        names.extend(
            same.iter()
                .map(|(b, o)| format!("the {} ({}) at {:.1} s", b.name(), b.describe(), o.at_s)),
        );
        format!(
            "throttling began at {} s when API Gateway's buckets ran out in the same second — too close to tell apart: simulated over the sends, {}",
            t(i),
            names.join(" and ")
        )
    };
    Some(BucketCause {
        limit: first.limit(&e),
        second: e.second,
        too_close: same.iter().map(|(b, o)| b.limit(o)).collect(),
        explanation,
        evidence: bucket_lines(quotas, buckets, series),
    })
}

/// One evidence line per bucket: when it runs out over the sends, and what it refuses.
fn bucket_lines(quotas: &Quotas, buckets: &[Bucket], series: &Series) -> Vec<String> {
    let sent = series.sends();
    buckets
        .iter()
        .map(|b| {
            let what = match b.simulate(sent) {
                Some(e) => format!(
                    "runs out at {:.1} s and refuses about {} of the sends alone",
                    e.at_s,
                    num(e.refused.round())
                ),
                None => "never runs out over the sends".into(),
            };
            format!(
                "{} ({}; {}): {what}",
                b.name(),
                b.describe(),
                source_of(quotas, b.rate_limit)
            )
        })
        .collect()
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
