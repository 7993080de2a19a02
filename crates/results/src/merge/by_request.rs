//! The merged `by_request`: each request's counts summed over the runs, its histograms
//! added (by request name, and by stage name within it), its percentiles recomputed from
//! the sums, and its rate taken over the merged stage's span.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::request_seconds::merge_request_seconds;
use super::sum::{
    add_attempts, add_encoded, add_map, add_opt, add_optional, add_timing, add_totals,
};
use super::Refusal;
use crate::timing::{new_phase_histograms, PhaseHistograms, Timing, TimingHistograms};
use crate::{
    encode, new_request_histogram, percentiles, NamedHistograms, RequestHistograms, RequestResult,
    Results, StageResult,
};

/// Adds `from`'s counts to `into` (its percentiles and rate are recomputed by the caller).
pub fn add_request(into: &mut RequestResult, from: &RequestResult) {
    add_totals(&mut into.totals, &from.totals);
    add_attempts(&mut into.attempts, &from.attempts);
    add_map(&mut into.throttles, &from.throttles);
    add_map(&mut into.status_codes, &from.status_codes);
    into.planned_requests = add_opt(into.planned_requests, from.planned_requests);
}

/// A request's rate in a stage: its share of the stage's requests at the stage's rate.
pub fn request_rate(stage: &StageResult, requests: u64) -> f64 {
    if stage.totals.requests == 0 {
        0.0
    } else {
        stage.achieved_rps * requests as f64 / stage.totals.requests as f64
    }
}

/// Latency, service time, the latency of ok requests and the phases (each of the last two
/// absent once a file lacks it).
type Pair = (
    Histogram<u64>,
    Histogram<u64>,
    Option<Histogram<u64>>,
    Option<PhaseHistograms>,
);

/// The merged run's `by_request` and its histograms.
type Merged = (
    Option<BTreeMap<String, RequestResult>>,
    Option<BTreeMap<String, RequestHistograms>>,
);

fn pair() -> Pair {
    (
        new_request_histogram(),
        new_request_histogram(),
        Some(new_request_histogram()),
        Some(new_phase_histograms()),
    )
}

/// The merged run's `by_request` and its histograms; `stages` (already merged) get
/// theirs. Nothing when no run has `by_request`.
/// `shifts`: each file's whole seconds on the merged wall clock, for the requests' seconds.
pub(super) fn merge_by_request(
    runs: &[Results],
    stages: &mut [StageResult],
    duration_s: f64,
    shifts: &[u64],
) -> Result<Merged, Refusal> {
    if runs.iter().all(|r| r.by_request.is_none()) {
        return Ok((None, None));
    }
    let mut run: BTreeMap<String, (RequestResult, Pair)> = BTreeMap::new();
    // Per stage (by position, the same list in every file), per request.
    let mut per_stage: Vec<BTreeMap<String, (RequestResult, Pair)>> =
        stages.iter().map(|_| BTreeMap::new()).collect();
    for (i, r) in runs.iter().enumerate() {
        let histograms = r.histograms.by_request.as_ref();
        for (name, req) in r.by_request.iter().flatten() {
            let (sum, h) = run
                .entry(name.clone())
                .or_insert_with(|| (RequestResult::default(), pair()));
            add_request(sum, req);
            if let Some(rh) = histograms.and_then(|m| m.get(name)) {
                let what = format!("request {name:?}");
                add_encoded(&mut h.0, &rh.latency, i, &format!("{what} latency"))?;
                add_encoded(&mut h.1, &rh.service, i, &format!("{what} service"))?;
                add_timing(&mut h.3, rh.timing.as_ref(), i, &format!("{what} timing"))?;
                let what = format!("{what} ok latency");
                add_optional(&mut h.2, rh.ok_latency.as_deref(), i, &what)?;
            }
        }
        for (k, stage) in r.stages.iter().enumerate().take(stages.len()) {
            for (name, req) in stage.by_request.iter().flatten() {
                let (sum, h) = per_stage[k]
                    .entry(name.clone())
                    .or_insert_with(|| (RequestResult::default(), pair()));
                add_request(sum, req);
                let found = histograms
                    .and_then(|m| m.get(name))
                    .and_then(|rh| rh.stages.iter().find(|n| n.name == stage.name));
                if let Some(n) = found {
                    let what = format!("request {name:?} in stage {:?}", stage.name);
                    add_encoded(&mut h.0, &n.latency, i, &format!("{what} latency"))?;
                    add_encoded(&mut h.1, &n.service, i, &format!("{what} service"))?;
                    add_timing(&mut h.3, n.timing.as_ref(), i, &format!("{what} timing"))?;
                    let what = format!("{what} ok latency");
                    add_optional(&mut h.2, n.ok_latency.as_deref(), i, &what)?;
                }
            }
        }
    }
    let mut out_h: BTreeMap<String, RequestHistograms> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (name, (mut req, h)) in run {
        req.latency_ms = percentiles(&h.0);
        req.ok_latency_ms = h.2.as_ref().map(percentiles);
        req.service_ms = percentiles(&h.1);
        req.timing = h.3.as_ref().map(Timing::of);
        req.achieved_rps = if duration_s > 0.0 {
            req.totals.requests as f64 / duration_s
        } else {
            0.0
        };
        let (timeline, seconds) = merge_request_seconds(runs, shifts, &name)?;
        req.timeline = timeline;
        out_h.insert(
            name.clone(),
            RequestHistograms {
                latency: encode(&h.0),
                service: encode(&h.1),
                ok_latency: h.2.as_ref().map(encode),
                timing: h.3.as_ref().map(TimingHistograms::encode),
                stages: Vec::new(),
                seconds,
            },
        );
        out.insert(name, req);
    }
    for (stage, requests) in stages.iter_mut().zip(per_stage) {
        let mut map = BTreeMap::new();
        for (name, (mut req, h)) in requests {
            req.latency_ms = percentiles(&h.0);
            req.ok_latency_ms = h.2.as_ref().map(percentiles);
            req.service_ms = percentiles(&h.1);
            req.timing = h.3.as_ref().map(Timing::of);
            req.achieved_rps = request_rate(stage, req.totals.requests);
            if let Some(rh) = out_h.get_mut(&name) {
                rh.stages.push(NamedHistograms {
                    name: stage.name.clone(),
                    latency: encode(&h.0),
                    service: encode(&h.1),
                    ok_latency: h.2.as_ref().map(encode),
                    timing: h.3.as_ref().map(TimingHistograms::encode),
                });
            }
            map.insert(name, req);
        }
        stage.by_request = Some(map);
    }
    Ok((Some(out), Some(out_h)))
}
