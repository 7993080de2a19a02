//! The quota check after a run: how much of each limit the traffic used, where throttling
//! began and which limit best explains it (with the evidence), Lambda throttles hidden
//! behind API Gateway's 500s, and what to do next. Pure: fed the timeline and the quotas.

mod limits;
mod series;
#[cfg(test)]
mod tests;

use super::buckets::Bucket;
use super::next_steps::{next_steps, Peaks};
use super::num;
use super::onset::{explain_onset, suspected};
use super::preflight::{Preflight, NEAR};
use crate::aws::AwsNames;
use crate::quotas::{ApiKind, Front, LimitKey, Quotas};
use crate::record::TimelinePoint;
use limits::usage;
pub(super) use limits::{applicable, source_of};
pub(super) use series::{Measure, Series};
pub use stampede_results::quota_check::{
    Finding, LimitUsage, OnsetExplained, QuotaCheck, SuspectedLambdaThrottles,
};

/// What the run did, as the quota check needs it.
pub struct RunSeen<'a> {
    pub timeline: &'a [TimelinePoint],
    pub peak_in_flight: u64,
    /// Burst stages: (name, requests, the second they were released in).
    pub bursts: Vec<(String, u64, u64)>,
    pub front: Front,
    /// For the commands in the next steps: the function and qualifier, the API's id (a
    /// REST or an HTTP API) and stage.
    pub names: AwsNames,
    /// A REST or an HTTP API, when known: their commands differ.
    pub api: Option<ApiKind>,
    /// What Lambda itself counted, where something did.
    pub counted: LambdaCounted,
    /// The route (`POST /orders`) when this is one route's view of the run.
    pub route: Option<String>,
}

/// What Lambda (or the emulator standing in for it) counted, preferred to what the client's
/// requests in flight suggest.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LambdaCounted {
    /// The timeline's cold starts are every answer's (REPORT lines were read for all).
    pub cold_starts_per_second: bool,
    /// Environments created during the run (the emulator's count).
    pub environments_created: Option<u64>,
    /// The function's own peak concurrency (the emulator's count).
    pub peak_concurrency: Option<u64>,
}

/// The quota check of a run.
pub fn check(quotas: &Quotas, seen: &RunSeen, preflight: Option<Preflight>) -> QuotaCheck {
    let series = Series::of(quotas, seen);
    let usage = usage(quotas, seen, &series);
    let onset = explain_onset(quotas, seen, &series);
    let suspected = suspected(quotas, seen);
    let mut findings = Vec::new();
    for u in &usage {
        let level = if u.percent > 100.0 {
            "exceeded"
        } else if u.percent >= NEAR * 100.0 {
            "near"
        } else {
            continue;
        };
        let message = if u.value == 0.0 {
            format!(
                "{} {} against {} 0 ({}): a limit of 0 lets nothing through",
                u.measure,
                num(u.observed),
                u.limit.title(),
                u.source
            )
        } else {
            format!(
                "{} {} is {:.0}% of {} {} ({}){}",
                u.measure,
                num(u.observed),
                u.percent,
                u.limit.title(),
                num(u.value),
                u.source,
                if u.percent > 100.0 && absorbed(quotas, u.limit, &series) {
                    ": its burst absorbed it, the bucket never ran out over the sends (kept up longer, it would)"
                } else {
                    ""
                }
            )
        };
        findings.push(Finding {
            level: level.to_string(),
            limit: Some(u.limit),
            message,
        });
    }
    if let Some(o) = &onset {
        findings.push(Finding {
            level: "onset".into(),
            limit: o.limit,
            message: o.explanation.clone(),
        });
    }
    if let Some(s) = &suspected {
        findings.push(Finding {
            level: "suspected".into(),
            limit: s.at_limit,
            message: s.message.clone(),
        });
    }
    for n in &quotas.not_read {
        findings.push(Finding {
            level: "unread".into(),
            limit: None,
            message: format!("{} not read: {}", n.action, n.reason),
        });
    }
    let known = |k: LimitKey| quotas.quota(k).is_some_and(|q| q.source.is_known());
    // Limits from AWS's documentation alone, and limits only an answer's words name,
    // report; they never fail the run.
    let over_known = usage.iter().any(|u| u.percent > 100.0 && known(u.limit));
    let onset_at_limit = onset
        .as_ref()
        .is_some_and(|o| o.reached && o.limit.is_some_and(known));
    let mut limits_hit: Vec<LimitKey> = usage
        .iter()
        .filter(|u| u.percent > 100.0)
        .map(|u| u.limit)
        .collect();
    if let Some(o) = &onset {
        // The onset's limit first, then any too close to tell apart from it.
        for k in o.limit.iter().chain(&o.too_close).rev() {
            limits_hit.insert(0, *k);
        }
    }
    if let Some(k) = suspected.as_ref().and_then(|s| s.at_limit) {
        limits_hit.push(k);
    }
    QuotaCheck {
        next_steps: next_steps(
            quotas,
            seen,
            &Peaks {
                in_flight: series.peak(Measure::InFlight, seen),
                rate: series.peak(Measure::Rate, seen),
                concurrency: series.peak_concurrency(quotas, seen),
                burst: series.peak(Measure::Burst, seen),
            },
            &limits_hit,
        ),
        quotas: quotas.clone(),
        preflight,
        usage,
        onset,
        suspected_lambda_throttles: suspected,
        findings,
        pass: !over_known && !onset_at_limit,
        by_route: Vec::new(),
    }
}

/// An API Gateway rate limit whose bucket never ran out over the sends: its burst
/// absorbed every second the rate was passed (said, not excused: kept up, it would run out).
fn absorbed(quotas: &Quotas, limit: LimitKey, series: &Series) -> bool {
    Bucket::of(quotas)
        .iter()
        .any(|b| b.rate_limit == limit && b.simulate(series.sends()).is_none())
}
