//! `by_flow` in the results, from the flows' records: per stage and over the run, keyed by
//! the flow's name, with each flow's latency histograms (see `stampede_results::flows`).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::{encode, percentiles, Results};
use crate::record::{FlowRecord, StageRecord};
use crate::scenario::{Flows, Requests, Scenario};
use crate::verdict::thresholds::{self, Observed, ThresholdResult};
use stampede_results::flows::{FlowHistograms, FlowResult, NamedFlowHistogram};
use stampede_results::merge::flow_rate;

/// A stage as `by_flow` needs it: its record, its flows planned (open and burst stages,
/// by flow) and the seconds its rate is taken over.
pub struct FlowStage<'a> {
    pub record: &'a StageRecord,
    pub planned: Option<Vec<u64>>,
    pub seconds: f64,
}

/// Adds `by_flow` (run and stages) and its histograms to `results`.
pub fn add_by_flow(
    results: &mut Results,
    mix: &Requests,
    flows: &Flows,
    stages: &[FlowStage],
    overall: &StageRecord,
) {
    let mut histograms: BTreeMap<String, FlowHistograms> = BTreeMap::new();
    for (result, stage) in results.stages.iter_mut().zip(stages) {
        let mut map = BTreeMap::new();
        for (index, flow) in flows.entries.iter().enumerate() {
            let planned = stage.planned.as_ref().map(|p| p[index]);
            let cell = stage.record.by_flow.get(index).and_then(|c| c.as_deref());
            let Some(cell) = cell.or((planned > Some(0)).then_some(&EMPTY)) else {
                continue;
            };
            let mut r = flow_result(cell, planned, mix, &flow.steps);
            r.achieved_fps = flow_rate(&r, stage.seconds);
            histograms
                .entry(flow.name.clone())
                .or_default()
                .stages
                .push(NamedFlowHistogram {
                    name: result.name.clone(),
                    latency: encode(&cell.latency),
                });
            map.insert(flow.name.clone(), r);
        }
        result.by_flow = Some(map);
    }
    let mut map = BTreeMap::new();
    for (index, flow) in flows.entries.iter().enumerate() {
        let cell = overall.by_flow.get(index).and_then(|c| c.as_deref());
        let cell = cell.unwrap_or(&EMPTY);
        let planned = stages
            .iter()
            .filter_map(|s| s.planned.as_ref().map(|p| p[index]))
            .reduce(|a, b| a + b);
        let mut r = flow_result(cell, planned, mix, &flow.steps);
        r.achieved_fps = flow_rate(&r, results.duration_s);
        histograms.entry(flow.name.clone()).or_default().latency = encode(&cell.latency);
        map.insert(flow.name.clone(), r);
    }
    results.by_flow = Some(map);
    results.histograms.by_flow = Some(histograms);
}

/// What a flow's thresholds compare against: its end-to-end latency and failed / started.
pub fn flow_observed(latency: &Histogram<u64>, started: u64, failed: u64) -> Observed {
    let p = percentiles(latency);
    Observed {
        p50: p.p50,
        p90: p.p90,
        p95: p.p95,
        p99: p.p99,
        p999: p.p999,
        max: p.max,
        mean: p.mean,
        failure_rate: if started == 0 {
            0.0
        } else {
            failed as f64 / started as f64
        },
        ..Observed::default()
    }
}

/// `[thresholds.flows."NAME"]`, each on its flow's record (in the run, or a stage). A flow
/// that recorded nothing is judged on an empty record.
pub fn flow_thresholds(
    scenario: &Scenario,
    overall: &StageRecord,
    stages: &[StageRecord],
) -> Vec<ThresholdResult> {
    let Some(flows) = scenario.requests.as_ref().and_then(|m| m.flows.as_ref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in &scenario.thresholds.flows {
        let Some(index) = flows.entries.iter().position(|f| f.name == t.flow) else {
            continue;
        };
        let record = match &t.stage {
            None => Some(overall),
            Some(stage) => scenario
                .stages
                .iter()
                .position(|s| &s.name == stage)
                .map(|i| &stages[i]),
        };
        let Some(record) = record else { continue };
        let cell = record.by_flow.get(index).and_then(|c| c.as_deref());
        let cell = cell.unwrap_or(&EMPTY);
        let seen = flow_observed(&cell.latency, cell.started, cell.failed);
        out.extend(thresholds::evaluate_flow(
            &t.limits,
            &seen,
            t.stage.as_deref(),
            &t.flow,
        ));
    }
    out
}

/// A flow that planned flows in a stage but recorded none.
static EMPTY: std::sync::LazyLock<FlowRecord> = std::sync::LazyLock::new(FlowRecord::new);

/// One flow's figures from its record (its rate is the caller's).
fn flow_result(
    r: &FlowRecord,
    planned: Option<u64>,
    mix: &Requests,
    steps: &[usize],
) -> FlowResult {
    let mut failed_by_step: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (step, reason, n) in &r.failed_by_step {
        let name = steps
            .get(*step)
            .and_then(|e| mix.entries.get(*e))
            .map_or("?", |e| e.name.as_str());
        *failed_by_step
            .entry(name.to_string())
            .or_default()
            .entry(reason.to_string())
            .or_default() += n;
    }
    FlowResult {
        planned,
        started: r.started,
        completed: r.completed,
        failed: r.failed,
        abandoned: r.abandoned,
        failed_by_step,
        latency_ms: percentiles(&r.latency),
        achieved_fps: 0.0,
    }
}
