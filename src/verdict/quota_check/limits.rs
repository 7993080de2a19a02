//! Which limits apply to the run's front, and how much of each the traffic used.

use super::{LimitUsage, Measure, RunSeen, Series};
use crate::quotas::{Front, LimitKey, Quotas};
use crate::verdict::percent;

/// A limit the onset could be explained by, with what the traffic did against it.
pub(in crate::verdict) struct Candidate {
    pub limit: LimitKey,
    pub value: f64,
    pub measure: Measure,
}

/// Every limit that applies to this front, with the measure that uses it.
pub(in crate::verdict) fn applicable(quotas: &Quotas, front: Front) -> Vec<Candidate> {
    let mut keys: Vec<(LimitKey, Measure)> = quotas
        .concurrency_limits()
        .into_iter()
        .map(|k| (k, Measure::InFlight))
        .collect();
    keys.push((LimitKey::LambdaScalingRate, Measure::NewEnvironments));
    if front.has_api_gateway() {
        keys.extend([
            (LimitKey::RouteThrottleRate, Measure::Rate),
            (LimitKey::UsagePlanRate, Measure::Rate),
            (LimitKey::RouteThrottleBurst, Measure::Burst),
            (LimitKey::UsagePlanBurst, Measure::Burst),
            (LimitKey::StageRate, Measure::Rate),
            (LimitKey::ApigwRate, Measure::Rate),
            (LimitKey::StageBurst, Measure::Burst),
            (LimitKey::ApigwBurst, Measure::Burst),
        ]);
    }
    keys.into_iter()
        .filter_map(|(limit, measure)| {
            quotas.get(limit).map(|value| Candidate {
                limit,
                value,
                measure,
            })
        })
        .collect()
}

pub(super) fn usage(quotas: &Quotas, seen: &RunSeen, series: &Series) -> Vec<LimitUsage> {
    let mut out: Vec<LimitUsage> = applicable(quotas, seen.front)
        .into_iter()
        .filter(|c| c.measure != Measure::Burst || !seen.bursts.is_empty())
        .map(|c| {
            let observed = series.peak(c.measure, seen);
            LimitUsage {
                limit: c.limit,
                value: c.value,
                measure: c.measure.name().into(),
                observed,
                percent: percent(observed, c.value),
                source: source_of(quotas, c.limit),
                basis: (c.measure == Measure::NewEnvironments)
                    .then(|| series.new_environments_basis.clone()),
            }
        })
        .collect();
    // Provisioned concurrency is no ceiling, but past it requests meet cold starts.
    if let Some(v) = quotas.get(LimitKey::FunctionProvisionedConcurrency) {
        let observed = series.peak_concurrency(quotas, seen);
        out.push(LimitUsage {
            limit: LimitKey::FunctionProvisionedConcurrency,
            value: v,
            measure: "peak concurrency".into(),
            observed,
            percent: percent(observed, v),
            source: source_of(quotas, LimitKey::FunctionProvisionedConcurrency),
            basis: Some(match seen.counted.peak_concurrency {
                Some(_) => "the emulator's count".into(),
                None => "peak in flight, up to the function's ceiling".into(),
            }),
        });
    }
    out
}

pub(in crate::verdict) fn source_of(quotas: &Quotas, k: LimitKey) -> String {
    quotas
        .quota(k)
        .map_or(String::new(), |q| q.source.describe())
}
