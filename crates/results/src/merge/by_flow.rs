//! The merged `by_flow`: each flow's counts summed over the runs (by flow name, and by
//! stage name within it), its latency histograms added and its percentiles recomputed
//! from the sums, its rate taken over the merged span.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::sum::add_encoded;
use super::Refusal;
use crate::flows::{FlowHistograms, FlowResult, NamedFlowHistogram};
use crate::{encode, new_request_histogram, percentiles, Results, StageResult};

/// The merged run's `by_flow` and its histograms.
type Merged = (
    Option<BTreeMap<String, FlowResult>>,
    Option<BTreeMap<String, FlowHistograms>>,
);

/// A flow's rate over `seconds`: the flows that ended in it.
pub fn flow_rate(flow: &FlowResult, seconds: f64) -> f64 {
    if seconds > 0.0 {
        flow.ended() as f64 / seconds
    } else {
        0.0
    }
}

/// The merged run's `by_flow` and its histograms; `stages` (already merged) get theirs.
/// Nothing when no run has `by_flow`.
pub(super) fn merge_by_flow(
    runs: &[Results],
    stages: &mut [StageResult],
    duration_s: f64,
) -> Result<Merged, Refusal> {
    if runs.iter().all(|r| r.by_flow.is_none()) {
        return Ok((None, None));
    }
    type Sum = (FlowResult, Histogram<u64>);
    let mut run: BTreeMap<String, Sum> = BTreeMap::new();
    let mut per_stage: Vec<BTreeMap<String, Sum>> =
        stages.iter().map(|_| BTreeMap::new()).collect();
    let new = || (FlowResult::default(), new_request_histogram());
    for (i, r) in runs.iter().enumerate() {
        let histograms = r.histograms.by_flow.as_ref();
        for (name, flow) in r.by_flow.iter().flatten() {
            let (sum, h) = run.entry(name.clone()).or_insert_with(new);
            sum.add(flow);
            if let Some(fh) = histograms.and_then(|m| m.get(name)) {
                add_encoded(h, &fh.latency, i, &format!("flow {name:?} latency"))?;
            }
        }
        for (k, stage) in r.stages.iter().enumerate().take(stages.len()) {
            for (name, flow) in stage.by_flow.iter().flatten() {
                let (sum, h) = per_stage[k].entry(name.clone()).or_insert_with(new);
                sum.add(flow);
                let found = histograms
                    .and_then(|m| m.get(name))
                    .and_then(|fh| fh.stages.iter().find(|n| n.name == stage.name));
                if let Some(n) = found {
                    let what = format!("flow {name:?} in stage {:?} latency", stage.name);
                    add_encoded(h, &n.latency, i, &what)?;
                }
            }
        }
    }
    let mut out_h: BTreeMap<String, FlowHistograms> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (name, (mut flow, h)) in run {
        flow.latency_ms = percentiles(&h);
        flow.achieved_fps = flow_rate(&flow, duration_s);
        out_h.insert(
            name.clone(),
            FlowHistograms {
                latency: encode(&h),
                stages: Vec::new(),
            },
        );
        out.insert(name, flow);
    }
    for (stage, flows) in stages.iter_mut().zip(per_stage) {
        let mut map = BTreeMap::new();
        // The stage's span, from its rate: requests / rate.
        let seconds = if stage.achieved_rps > 0.0 {
            stage.totals.requests as f64 / stage.achieved_rps
        } else {
            0.0
        };
        for (name, (mut flow, h)) in flows {
            flow.latency_ms = percentiles(&h);
            flow.achieved_fps = flow_rate(&flow, seconds);
            if let Some(fh) = out_h.get_mut(&name) {
                fh.stages.push(NamedFlowHistogram {
                    name: stage.name.clone(),
                    latency: encode(&h),
                });
            }
            map.insert(name, flow);
        }
        stage.by_flow = Some(map);
    }
    Ok((Some(out), Some(out_h)))
}
