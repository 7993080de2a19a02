//! `stampede merge`: the exact merge is the results crate's; here the merged whole is
//! judged again — the first file's thresholds against the added histograms, and the quota
//! check with the first file's quotas on the merged timeline.

use hdrhistogram::Histogram;

use crate::aws::AwsNames;
use crate::quotas::Front;
use crate::results::timing::{PhaseHistograms, TimingHistograms};
use crate::results::{decode, new_histogram, Results};
use crate::scenario::{Metric, Threshold};
use crate::verdict::quota_check::{self, RunSeen};
use crate::verdict::routes::{self, Routed};
use crate::verdict::thresholds::{self, Observed, ThresholdResult};
pub use stampede_results::merge::{align, check, check_files, MergeInfo, Refusal, WallClock};

/// Merges runs of one scenario into the results of one run (the results crate's exact
/// merge), with the thresholds and the quota check judged again on the merged whole.
pub fn merge(runs: Vec<Results>) -> Result<Results, Refusal> {
    // What the first file judged: its thresholds and its quota check's readings.
    let (checked, quota_check) = runs
        .first()
        .map(|r| (r.thresholds.clone(), r.quota_check.clone()))
        .unwrap_or_default();
    let mut merged = stampede_results::merge::merge(runs)?;
    let histogram = |text: &str| decode(text).unwrap_or_else(new_histogram);
    let overall = Latencies {
        all: histogram(&merged.histograms.overall.latency),
        ok: merged
            .histograms
            .overall
            .ok_latency
            .as_deref()
            .map(histogram),
        timing: phases(merged.histograms.overall.timing.as_ref()),
    };
    let stages: Vec<Latencies> = merged
        .stages
        .iter()
        .map(|s| {
            let named = merged.histograms.stages.iter().find(|n| n.name == s.name);
            Latencies {
                all: named.map_or_else(new_histogram, |n| histogram(&n.latency)),
                ok: named.and_then(|n| n.ok_latency.as_deref()).map(histogram),
                timing: phases(named.and_then(|n| n.timing.as_ref())),
            }
        })
        .collect();
    merged.thresholds = rethreshold(&checked, &merged, &overall, &stages)
        .map_err(|why| Refusal::Unreadable { file: 0, why })?;
    merged.quota_check = requota(&quota_check, &merged);
    Ok(merged)
}

/// The latencies of a merged stage or run: all of them, those of ok requests and the
/// phases (each absent when a file merged did not record them).
struct Latencies {
    all: Histogram<u64>,
    ok: Option<Histogram<u64>>,
    timing: Option<PhaseHistograms>,
}

/// Merged phase histograms, decoded (the merge itself checked that they decode).
fn phases(encoded: Option<&TimingHistograms>) -> Option<PhaseHistograms> {
    encoded.and_then(|t| t.decode().ok())
}

impl Latencies {
    fn observed(
        &self,
        totals: &crate::results::Totals,
        attempts: &crate::results::Attempts,
    ) -> Observed {
        crate::results::observed_from(
            &self.all,
            self.ok.as_ref(),
            self.timing.as_ref(),
            totals,
            attempts,
        )
    }
}

/// The thresholds of the first file, checked again against the merged whole.
fn rethreshold(
    checked: &[ThresholdResult],
    merged: &Results,
    overall: &Latencies,
    stages: &[Latencies],
) -> Result<Vec<ThresholdResult>, String> {
    let mut out = Vec::new();
    for t in checked {
        let metric = Metric::from_name(&t.name)
            .ok_or_else(|| format!("threshold {:?}: not a metric stampede knows", t.name))?;
        let limit = Threshold::parse(metric, &t.limit)
            .map_err(|e| format!("threshold {} = {:?}: {e}", t.name, t.limit))?;
        let seen =
            match (&t.stage, &t.request) {
                (stage, _) if t.flow.is_some() => {
                    let flow = t.flow.as_deref().expect("checked");
                    flow_seen(merged, stage.as_deref(), flow).ok_or_else(|| {
                        format!(
                            "threshold {} names flow {flow:?}, which the merged file has not{}",
                            t.name,
                            stage
                                .as_ref()
                                .map_or(String::new(), |s| format!(" in stage {s:?}"))
                        )
                    })?
                }
                (stage, Some(request)) => request_seen(merged, stage.as_deref(), request)
                    .ok_or_else(|| {
                        format!(
                        "threshold {} names request {request:?}, which the merged file has not{}",
                        t.name,
                        stage.as_ref().map_or(String::new(), |s| format!(" in stage {s:?}"))
                    )
                    })?,
                (None, None) => overall.observed(&merged.totals, &merged.attempts),
                (Some(name), None) => {
                    let k = merged
                        .stages
                        .iter()
                        .position(|s| &s.name == name)
                        .ok_or_else(|| {
                            format!(
                                "threshold {} names stage {name:?}, which it has not",
                                t.name
                            )
                        })?;
                    let s = &merged.stages[k];
                    stages[k].observed(&s.totals, &s.attempts)
                }
            };
        if seen.get(metric).is_nan() {
            let what = match metric {
                Metric::Phase(..) => "phases (where the time went)",
                _ => "latencies of ok requests",
            };
            return Err(format!(
                "threshold {}: a file merged has no {what} (written by an older stampede)",
                t.name
            ));
        }
        let mut judged = thresholds::evaluate(&[limit], &seen, t.stage.as_deref());
        for j in &mut judged {
            j.request.clone_from(&t.request);
            j.flow.clone_from(&t.flow);
        }
        out.extend(judged);
    }
    Ok(out)
}

/// What a flow's thresholds compare against in the merged file: its `by_flow` figures and
/// its added latency histogram (the run's, or stage `stage`'s).
fn flow_seen(merged: &Results, stage: Option<&str>, flow: &str) -> Option<Observed> {
    let histograms = merged.histograms.by_flow.as_ref()?.get(flow)?;
    let (figures, latency) = match stage {
        None => (merged.by_flow.as_ref()?.get(flow)?, &histograms.latency),
        Some(stage) => {
            let s = merged.stages.iter().find(|s| s.name == stage)?;
            let named = histograms.stages.iter().find(|n| n.name == stage)?;
            (s.by_flow.as_ref()?.get(flow)?, &named.latency)
        }
    };
    let latency = decode(latency).unwrap_or_else(stampede_results::new_request_histogram);
    Some(super::flows::flow_observed(
        &latency,
        figures.started,
        figures.failed,
    ))
}

/// What a request's thresholds compare against in the merged file: its `by_request`
/// figures and its added histogram (the run's, or stage `stage`'s).
fn request_seen(merged: &Results, stage: Option<&str>, request: &str) -> Option<Observed> {
    let histograms = merged.histograms.by_request.as_ref()?.get(request)?;
    let (figures, latency, ok, timing) = match stage {
        None => (
            merged.by_request.as_ref()?.get(request)?,
            &histograms.latency,
            &histograms.ok_latency,
            &histograms.timing,
        ),
        Some(stage) => {
            let s = merged.stages.iter().find(|s| s.name == stage)?;
            let named = histograms.stages.iter().find(|n| n.name == stage)?;
            (
                s.by_request.as_ref()?.get(request)?,
                &named.latency,
                &named.ok_latency,
                &named.timing,
            )
        }
    };
    let histogram = |text: &str| decode(text).unwrap_or_else(new_histogram);
    let seen = Latencies {
        all: histogram(latency),
        ok: ok.as_deref().map(histogram),
        timing: phases(timing.as_ref()),
    };
    Some(seen.observed(&figures.totals, &figures.attempts))
}

/// The quota check again, with the first file's quotas, on the merged timeline. Each file's
/// preflight forecast was of its own share: the merged check has none.
fn requota(first: &quota_check::QuotaCheck, merged: &Results) -> quota_check::QuotaCheck {
    let quotas = &first.quotas;
    let front = match &first.preflight {
        Some(p) => p.front,
        None => {
            let host = merged
                .target
                .url
                .parse::<http::Uri>()
                .ok()
                .and_then(|u| u.host().map(str::to_string))
                .unwrap_or_default();
            Front::from_host(&host)
        }
    };
    let seen = RunSeen {
        timeline: &merged.timeline,
        peak_in_flight: merged.peak_in_flight,
        bursts: merged.bursts(),
        front,
        // The API its map was read from names the commands of the next steps.
        names: AwsNames {
            function: quotas.function.clone(),
            region: quotas.region.clone(),
            api_id: quotas.api.as_ref().map(|a| a.id.clone()),
            stage: quotas.api.as_ref().map(|a| a.stage.clone()),
            ..AwsNames::default()
        },
        api: quotas.api.as_ref().map(|a| a.kind),
        counted: Default::default(),
        route: None,
    };
    let mut check = quota_check::check(quotas, &seen, None);
    // Each route again, on the merged requests, as the first file mapped them.
    let routed: Vec<Routed> = first
        .by_route
        .iter()
        .filter_map(|c| {
            let route = quotas.routes.iter().position(|r| r.route == c.route)?;
            Some(Routed {
                route,
                requests: c.requests.clone(),
            })
        })
        .collect();
    if let (Some(by_request), false) = (&merged.by_request, routed.is_empty()) {
        let checks = routes::check_routes(quotas, &seen, &routed, by_request);
        routes::add_routes(&mut check, checks);
    }
    check
}

#[cfg(test)]
mod tests;
