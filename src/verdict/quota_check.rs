//! The quota check after a run: how much of each limit the traffic used, where throttling
//! began and which limit best explains it (with the evidence), Lambda throttles hidden
//! behind API Gateway's 500s, and what to do next. Pure: fed the timeline and the quotas.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::preflight::{Preflight, NEAR};
use crate::quotas::{Front, LimitKey, Quotas};
use crate::record::TimelinePoint;

/// A limit counts as reached from this share of it (clocks and buckets are not exact).
const REACHED: f64 = 0.95;
/// Seconds of the timeline read as "the onset" when telling throttle kinds apart.
const ONSET_SPAN: usize = 3;

/// What the run did, as the quota check needs it.
pub struct RunSeen<'a> {
    pub timeline: &'a [TimelinePoint],
    pub peak_in_flight: u64,
    /// Burst stages: (name, requests, the second they were released in).
    pub bursts: Vec<(String, u64, u64)>,
    pub front: Front,
    /// For the commands in the next steps.
    pub function: Option<String>,
    pub qualifier: Option<String>,
    pub rest_api_id: Option<String>,
    pub stage: Option<String>,
}

/// How much of one limit the traffic used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LimitUsage {
    pub limit: LimitKey,
    pub value: f64,
    /// "peak in flight", "peak rate", "burst", "new environments in 10 s".
    pub measure: String,
    pub observed: f64,
    pub percent: f64,
    pub source: String,
}

/// Where throttling began and what explains it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnsetExplained {
    pub t_s: u64,
    /// Attempts sent in that second.
    pub rate: u64,
    pub in_flight: u64,
    /// Throttles by kind over the onset's first seconds (suspected Lambda throttles too).
    pub kinds: BTreeMap<String, u64>,
    /// The limit that best explains it; `None` when no known limit does.
    pub limit: Option<LimitKey>,
    pub explanation: String,
    pub evidence: Vec<String>,
}

/// 500s with API Gateway's body: Lambda throttles the client never sees as 429s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuspectedLambdaThrottles {
    pub count: u64,
    pub first_t_s: u64,
    pub in_flight: u64,
    /// The concurrency limit they began at, when they began at one.
    pub at_limit: Option<LimitKey>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// "exceeded", "near", "onset", "suspected", "unread".
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitKey>,
    pub message: String,
}

/// `quota_check` in the results.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QuotaCheck {
    #[serde(flatten)]
    pub quotas: Quotas,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preflight: Option<Preflight>,
    pub usage: Vec<LimitUsage>,
    pub onset: Option<OnsetExplained>,
    pub suspected_lambda_throttles: Option<SuspectedLambdaThrottles>,
    pub findings: Vec<Finding>,
    pub next_steps: Vec<String>,
    /// False when the traffic went past a limit read from the account (or file, or
    /// emulator), or throttling began at one.
    pub pass: bool,
}

/// A limit the onset could be explained by, with what the traffic did against it.
struct Candidate {
    limit: LimitKey,
    value: f64,
    measure: Measure,
}

#[derive(Clone, Copy, PartialEq)]
enum Measure {
    InFlight,
    Rate,
    Burst,
    NewEnvironments,
}

impl Measure {
    fn name(self) -> &'static str {
        match self {
            Measure::InFlight => "peak in flight",
            Measure::Rate => "peak rate",
            Measure::Burst => "burst",
            Measure::NewEnvironments => "new environments in 10 s",
        }
    }

    /// Seconds a limit may be past before throttles show: concurrency bites at once, a
    /// token bucket lasts `bucket / excess` seconds.
    fn slack(self, bucket_s: Option<f64>) -> u64 {
        match self {
            Measure::Rate => bucket_s.map_or(10, |s| s.ceil() as u64 + 2).min(60),
            _ => 2,
        }
    }
}

/// The quota check of a run.
pub fn check(quotas: &Quotas, seen: &RunSeen, preflight: Option<Preflight>) -> QuotaCheck {
    let series = Series::of(seen);
    let usage = usage(quotas, seen, &series);
    let onset = explain_onset(quotas, seen, &series);
    let suspected = suspected(quotas, seen, &series);
    let mut findings = Vec::new();
    for u in &usage {
        let level = if u.percent > 100.0 {
            "exceeded"
        } else if u.percent >= NEAR * 100.0 {
            "near"
        } else {
            continue;
        };
        findings.push(Finding {
            level: level.to_string(),
            limit: Some(u.limit),
            message: format!(
                "{} {} is {:.0}% of {} {} ({})",
                u.measure,
                num(u.observed),
                u.percent,
                u.limit.title(),
                num(u.value),
                u.source
            ),
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
    let over_known = usage.iter().any(|u| u.percent > 100.0 && known(u.limit));
    let onset_at_limit = onset.as_ref().is_some_and(|o| o.limit.is_some());
    let mut limits_hit: Vec<LimitKey> = usage
        .iter()
        .filter(|u| u.percent > 100.0)
        .map(|u| u.limit)
        .collect();
    if let Some(k) = onset.as_ref().and_then(|o| o.limit) {
        limits_hit.insert(0, k);
    }
    if let Some(k) = suspected.as_ref().and_then(|s| s.at_limit) {
        limits_hit.push(k);
    }
    QuotaCheck {
        next_steps: next_steps(quotas, seen, &series, &limits_hit),
        quotas: quotas.clone(),
        preflight,
        usage,
        onset,
        suspected_lambda_throttles: suspected,
        findings,
        pass: !over_known && !onset_at_limit,
    }
}

/// Per-second measures of the run, from the timeline.
struct Series {
    in_flight: Vec<f64>,
    rate: Vec<f64>,
    /// Environments needed beyond those that existed 10 s before (running maxima).
    new_environments: Vec<f64>,
}

impl Series {
    fn of(seen: &RunSeen) -> Series {
        let in_flight: Vec<f64> = seen
            .timeline
            .iter()
            .map(|p| p.in_flight_max as f64)
            .collect();
        let rate = seen.timeline.iter().map(|p| p.sent as f64).collect();
        let mut high = Vec::with_capacity(in_flight.len());
        let mut m = 0.0f64;
        for f in &in_flight {
            m = m.max(*f);
            high.push(m);
        }
        let new_environments = (0..high.len())
            .map(|i| high[i] - if i >= 10 { high[i - 10] } else { 0.0 })
            .collect();
        Series {
            in_flight,
            rate,
            new_environments,
        }
    }

    fn at(&self, m: Measure, i: usize, seen: &RunSeen) -> f64 {
        match m {
            Measure::InFlight => self.in_flight[i],
            Measure::Rate => self.rate[i],
            Measure::NewEnvironments => self.new_environments[i],
            Measure::Burst => burst_in(seen, i).map_or(0.0, |(_, n)| n as f64),
        }
    }

    fn peak(&self, m: Measure, seen: &RunSeen) -> f64 {
        match m {
            Measure::Burst => seen.bursts.iter().map(|b| b.1 as f64).fold(0.0, f64::max),
            // The run's own peak in flight is exact; the timeline's is per second.
            Measure::InFlight => self
                .in_flight
                .iter()
                .copied()
                .fold(seen.peak_in_flight as f64, f64::max),
            _ => (0..self.rate.len())
                .map(|i| self.at(m, i, seen))
                .fold(0.0, f64::max),
        }
    }
}

/// The burst stage released in second `i`, if any.
fn burst_in<'s>(seen: &'s RunSeen, i: usize) -> Option<(&'s str, u64)> {
    seen.bursts
        .iter()
        .find(|b| b.2 as usize == i)
        .map(|b| (b.0.as_str(), b.1))
}

/// Every limit that applies to this front, with the measure that uses it.
fn applicable(quotas: &Quotas, front: Front) -> Vec<Candidate> {
    let mut keys = vec![
        (LimitKey::FunctionReservedConcurrency, Measure::InFlight),
        (LimitKey::LambdaUnreservedConcurrency, Measure::InFlight),
        (LimitKey::LambdaConcurrentExecutions, Measure::InFlight),
        (LimitKey::LambdaScalingRate, Measure::NewEnvironments),
    ];
    if front.has_api_gateway() {
        keys.extend([
            (LimitKey::StageRate, Measure::Rate),
            (LimitKey::ApigwRate, Measure::Rate),
            (LimitKey::StageBurst, Measure::Burst),
            (LimitKey::ApigwBurst, Measure::Burst),
        ]);
    }
    // A function with reserved concurrency draws on nothing else; an unreserved pool as
    // large as the account's is the account limit, and is named so.
    let reserved = quotas.get(LimitKey::FunctionReservedConcurrency).is_some();
    let account = quotas.get(LimitKey::LambdaConcurrentExecutions);
    let unreserved = quotas.get(LimitKey::LambdaUnreservedConcurrency);
    let whole_pool = matches!((unreserved, account), (Some(u), Some(a)) if u >= a);
    keys.into_iter()
        .filter(|(k, _)| {
            let pooled = matches!(
                k,
                LimitKey::LambdaUnreservedConcurrency | LimitKey::LambdaConcurrentExecutions
            );
            !(reserved && pooled || whole_pool && *k == LimitKey::LambdaUnreservedConcurrency)
        })
        .filter_map(|(limit, measure)| {
            quotas.get(limit).map(|value| Candidate {
                limit,
                value,
                measure,
            })
        })
        .collect()
}

fn usage(quotas: &Quotas, seen: &RunSeen, series: &Series) -> Vec<LimitUsage> {
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
            }
        })
        .collect();
    // Provisioned concurrency is no ceiling, but past it requests meet cold starts.
    if let Some(v) = quotas.get(LimitKey::FunctionProvisionedConcurrency) {
        let observed = seen.peak_in_flight as f64;
        out.push(LimitUsage {
            limit: LimitKey::FunctionProvisionedConcurrency,
            value: v,
            measure: "peak in flight".into(),
            observed,
            percent: percent(observed, v),
            source: source_of(quotas, LimitKey::FunctionProvisionedConcurrency),
        });
    }
    out
}

fn explain_onset(quotas: &Quotas, seen: &RunSeen, series: &Series) -> Option<OnsetExplained> {
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
            *kinds.entry("suspected_lambda_throttle".into()).or_default() +=
                q.suspected_lambda_throttles;
        }
    }
    let dominant = kinds
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, _)| k.as_str())
        .unwrap_or("other_429");
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

    use LimitKey as K;
    let allowed: &[LimitKey] = match dominant {
        "lambda_reserved_concurrency" => &[K::FunctionReservedConcurrency],
        "lambda_account_concurrency" => &[
            K::LambdaUnreservedConcurrency,
            K::LambdaConcurrentExecutions,
        ],
        "api_gateway" => &[K::StageRate, K::ApigwRate, K::StageBurst, K::ApigwBurst],
        "suspected_lambda_throttle" => &[
            K::FunctionReservedConcurrency,
            K::LambdaUnreservedConcurrency,
            K::LambdaConcurrentExecutions,
            K::LambdaScalingRate,
        ],
        "usage_plan" | "lambda_invocation_rate" | "lambda_caller_rate" => &[],
        _ => &[
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
            "lambda_reserved_concurrency" => (
                Some(K::FunctionReservedConcurrency),
                format!("throttling began at {} s: Lambda says the function's reserved concurrency is used up (ReservedFunctionConcurrentInvocationLimitExceeded)", p.t_s),
            ),
            "lambda_account_concurrency" => (
                Some(K::LambdaConcurrentExecutions),
                format!("throttling began at {} s: Lambda says the account's concurrency is used up (ConcurrentInvocationLimitExceeded)", p.t_s),
            ),
            "usage_plan" => (None, format!("throttling began at {} s: an API Gateway usage plan's quota for the API key (Limit Exceeded)", p.t_s)),
            "lambda_invocation_rate" => (None, format!("throttling began at {} s: the function's invocation rate limit (FunctionInvocationRateLimitExceeded)", p.t_s)),
            "lambda_caller_rate" => (None, format!("throttling began at {} s: the caller's rate limit (CallerRateLimitExceeded)", p.t_s)),
            _ => (None, format!(
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

fn suspected(quotas: &Quotas, seen: &RunSeen, series: &Series) -> Option<SuspectedLambdaThrottles> {
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
    let _ = series;
    Some(SuspectedLambdaThrottles {
        count,
        first_t_s: t[i].t_s,
        in_flight,
        at_limit: at_limit.map(|c| c.limit),
        message,
    })
}

/// What to do about each limit hit, most important first, without repeats.
fn next_steps(quotas: &Quotas, seen: &RunSeen, series: &Series, hit: &[LimitKey]) -> Vec<String> {
    let function = seen.function.as_deref().unwrap_or("FUNCTION");
    let peak_flight = series.peak(Measure::InFlight, seen);
    let peak_rate = series.peak(Measure::Rate, seen);
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

fn source_of(quotas: &Quotas, k: LimitKey) -> String {
    quotas
        .quota(k)
        .map_or(String::new(), |q| q.source.describe())
}

fn percent(observed: f64, value: f64) -> f64 {
    if value > 0.0 {
        observed / value * 100.0
    } else {
        f64::INFINITY
    }
}

/// A number as people write it: whole when whole.
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quotas::QuotaSource;

    fn quotas(pairs: &[(LimitKey, Option<f64>)]) -> Quotas {
        let mut q = Quotas::default();
        for (k, v) in pairs {
            q.offer(
                *k,
                *v,
                QuotaSource::File {
                    path: "q.toml".into(),
                },
            );
        }
        q
    }

    /// Seconds of (sent, in flight, throttles of `kind`).
    fn timeline(kind: &str, seconds: &[(u64, u64, u64)]) -> Vec<TimelinePoint> {
        seconds
            .iter()
            .enumerate()
            .map(|(t, &(sent, in_flight, throttled))| {
                let mut p = TimelinePoint {
                    t_s: t as u64,
                    sent,
                    in_flight_max: in_flight,
                    ok: sent - throttled,
                    ..TimelinePoint::default()
                };
                if kind == "suspected" {
                    p.suspected_lambda_throttles = throttled;
                    p.errors = throttled;
                } else if throttled > 0 {
                    p.throttled = throttled;
                    p.throttles.insert(kind.into(), throttled);
                }
                p
            })
            .collect()
    }

    fn seen(t: &[TimelinePoint], front: Front) -> RunSeen<'_> {
        RunSeen {
            timeline: t,
            peak_in_flight: t.iter().map(|p| p.in_flight_max).max().unwrap_or(0),
            bursts: Vec::new(),
            front,
            function: Some("orders".into()),
            qualifier: None,
            rest_api_id: Some("abc123".into()),
            stage: Some("prod".into()),
        }
    }

    #[test]
    fn api_gateway_429s_on_a_ramp_are_the_stage_rate() {
        let q = quotas(&[
            (LimitKey::StageRate, Some(200.0)),
            (LimitKey::StageBurst, Some(50.0)),
            (LimitKey::ApigwRate, Some(10_000.0)),
            (LimitKey::LambdaConcurrentExecutions, Some(1000.0)),
        ]);
        let t = timeline(
            "api_gateway",
            &[
                (100, 5, 0),
                (150, 8, 0),
                (210, 10, 0),
                (250, 12, 30),
                (300, 14, 90),
            ],
        );
        let c = check(&q, &seen(&t, Front::ApiGateway), None);
        let o = c.onset.as_ref().unwrap();
        assert_eq!(
            (o.t_s, o.rate, o.limit),
            (3, 250, Some(LimitKey::StageRate))
        );
        assert!(!c.pass);
        assert!(
            c.next_steps[0].contains("update-stage --rest-api-id abc123"),
            "{:?}",
            c.next_steps
        );
        let stage = c
            .usage
            .iter()
            .find(|u| u.limit == LimitKey::StageRate)
            .unwrap();
        assert_eq!((stage.observed, stage.percent), (300.0, 150.0));
    }

    #[test]
    fn suspected_500s_at_reserved_concurrency_are_the_reserved_limit() {
        let q = quotas(&[
            (LimitKey::FunctionReservedConcurrency, Some(20.0)),
            (LimitKey::LambdaConcurrentExecutions, Some(100.0)),
        ]);
        let t = timeline(
            "suspected",
            &[(100, 5, 0), (200, 10, 0), (300, 19, 0), (400, 24, 40)],
        );
        let c = check(&q, &seen(&t, Front::ApiGateway), None);
        assert_eq!(
            c.onset.as_ref().unwrap().limit,
            Some(LimitKey::FunctionReservedConcurrency)
        );
        let s = c.suspected_lambda_throttles.as_ref().unwrap();
        assert_eq!(
            (s.count, s.first_t_s, s.at_limit),
            (40, 3, Some(LimitKey::FunctionReservedConcurrency))
        );
        assert!(c.next_steps[0].contains("put-function-concurrency --function-name orders"));
        // The account limit does not bind a function with reserved concurrency.
        assert!(c
            .usage
            .iter()
            .all(|u| u.limit != LimitKey::LambdaConcurrentExecutions));
    }

    #[test]
    fn lambda_account_throttles_without_reserved_are_the_account_limit() {
        let q = quotas(&[
            (LimitKey::FunctionReservedConcurrency, None),
            (LimitKey::LambdaConcurrentExecutions, Some(30.0)),
        ]);
        let t = timeline(
            "lambda_account_concurrency",
            &[(100, 10, 0), (200, 20, 0), (300, 31, 12)],
        );
        let c = check(&q, &seen(&t, Front::FunctionUrl), None);
        let o = c.onset.unwrap();
        assert_eq!(o.limit, Some(LimitKey::LambdaConcurrentExecutions));
        assert!(
            o.evidence.iter().any(|e| e.contains("reached at 2 s")),
            "{:?}",
            o.evidence
        );
        assert!(c.next_steps[0].contains("L-B99A9384"));
    }

    #[test]
    fn a_limit_passed_long_before_the_throttles_does_not_explain_them() {
        let q = quotas(&[(LimitKey::FunctionReservedConcurrency, Some(20.0))]);
        let mut secs = vec![(100, 25, 0); 8];
        secs.push((100, 25, 10));
        let t = timeline("other_429", &secs);
        let c = check(&q, &seen(&t, Front::Unknown), None);
        let o = c.onset.unwrap();
        assert_eq!(o.limit, None, "{}", o.explanation);
        assert!(o.explanation.contains("below every known limit"));
        // Still, the traffic went past a known limit: the check fails.
        assert!(!c.pass);
        assert!(c.findings.iter().any(|f| f.level == "exceeded"));
    }

    #[test]
    fn quiet_runs_pass_and_documented_limits_do_not_fail_them() {
        let t = timeline("api_gateway", &[(100, 5, 0), (100, 1500, 0)]);
        let c = check(&Quotas::documented(), &seen(&t, Front::Unknown), None);
        assert!(c.onset.is_none() && c.suspected_lambda_throttles.is_none());
        assert!(
            c.findings.iter().any(|f| f.level == "exceeded"),
            "{:?}",
            c.findings
        );
        assert!(c.pass, "documented defaults are not the account's");
    }
}
