//! The results of a run, assembled from the engine's record: per stage and overall, with
//! the thresholds checked. (The quota check is added by the caller, which holds the limits.)

use std::time::Duration;

use super::flows::{add_by_flow, flow_thresholds, FlowStage};
use super::lambda::{lambda_results, lambda_seen};
use super::{build, observed, Results, RunInput, StageInput, TargetInfo};
use crate::engine::{numbering, RunRecord};
use crate::record::{RequestSeconds, StageRecord};
use crate::scenario::{ConnectionPolicy, HttpVersion, Scenario, Shard, Target};
use crate::schedule::StagePlan;
use crate::verdict::thresholds::{self, ThresholdResult};

/// `target.method` of a `[[requests]]` mix (each request's own is in the scenario).
pub const MIX_METHOD: &str = "MIX";

/// The results of `scenario` run as `plans`, from what the engine recorded.
pub fn assemble(scenario: &Scenario, plans: &[StagePlan], record: RunRecord) -> Results {
    let shard = record.shard;
    let mut overall = StageRecord::new();
    for s in &record.stages {
        overall.merge(s);
    }
    let mut checked = thresholds::evaluate(&scenario.thresholds.overall, &observed(&overall), None);
    for (name, limits) in &scenario.thresholds.stages {
        if let Some(i) = scenario.stages.iter().position(|s| &s.name == name) {
            let observed = observed(&record.stages[i]);
            checked.extend(thresholds::evaluate(limits, &observed, Some(name)));
        }
    }
    let mix = scenario.requests.as_ref();
    checked.extend(request_thresholds(scenario, &overall, &record.stages));
    checked.extend(flow_thresholds(scenario, &overall, &record.stages));
    let bases = numbering::stage_bases(plans);
    let stages = scenario
        .stages
        .iter()
        .zip(plans)
        .zip(&record.stages)
        .zip(&bases)
        .map(|(((stage, plan), rec), base)| StageInput {
            name: &stage.name,
            kind: stage.kind.kind(),
            record: rec,
            planned_s: plan.duration().map(|d: Duration| d.as_secs_f64()),
            planned_requests: match (mix, plan.planned_requests()) {
                // With flows a stage plans flows; its requests are their steps.
                (Some(m), Some(n)) if m.flows.is_some() => Some(
                    numbering::planned_by_request(m, *base, n, shard.index, shard.count)
                        .iter()
                        .sum(),
                ),
                (_, planned) => planned.map(|n| shard.share(n)),
            },
            planned_by_request: mix
                .zip(plan.planned_requests())
                .map(|(m, n)| numbering::planned_by_request(m, *base, n, shard.index, shard.count)),
        })
        .collect();
    let mut results = build(RunInput {
        name: scenario.name.as_deref(),
        // A mix has no one method: each request has its own.
        target: target_info(
            &scenario.target,
            match mix {
                Some(_) => MIX_METHOD.to_string(),
                None => scenario.target.method.to_string(),
            },
        ),
        started_at: record.started_at,
        interrupted: record.interrupted,
        stages,
        overall: &overall,
        faults: record.faults,
        open_files_limit: None,
        failures: record.failures,
        timeline: record.timeline,
        seconds: record.seconds,
        thresholds: checked,
        request_names: mix.map_or(Vec::new(), |m| m.names()),
    });
    add_request_seconds(
        &mut results,
        &mix.map_or(Vec::new(), |m| m.names()),
        record.request_seconds,
    );
    if let Some(target) = &scenario.target.lambda {
        for (stage, rec) in results.stages.iter_mut().zip(&record.stages) {
            stage.lambda = Some(lambda_seen(rec.lambda.as_deref(), &rec.counts));
        }
        results.lambda = Some(lambda_results(
            target,
            overall.lambda.as_deref(),
            &overall.counts,
        ));
    }
    if let Some((m, flows)) = mix.and_then(|m| m.flows.as_ref().map(|f| (m, f))) {
        let stages: Vec<FlowStage> = plans
            .iter()
            .zip(&record.stages)
            .zip(&bases)
            .map(|((plan, rec), base)| FlowStage {
                record: rec,
                planned: plan.planned_requests().map(|n| {
                    numbering::planned_by_entry(&flows.rotation, *base, n, shard.index, shard.count)
                }),
                seconds: plan
                    .duration()
                    .map_or_else(|| super::stage_span_s(rec), |d| d.as_secs_f64()),
            })
            .collect();
        add_by_flow(&mut results, m, flows, &stages, &overall);
    }
    results.addresses = record.addresses;
    results.scenario_id = Some(scenario_id(scenario));
    pause_starts(plans, &mut results);
    planned_per_second(plans, shard, &mut results);
    results
}

/// `[thresholds.requests."NAME"]`, each on its request's record (in the run, or a stage).
/// A request that recorded nothing is judged on an empty record: its rates and latencies are 0.
fn request_thresholds(
    scenario: &Scenario,
    overall: &StageRecord,
    stages: &[StageRecord],
) -> Vec<ThresholdResult> {
    let Some(mix) = &scenario.requests else {
        return Vec::new();
    };
    let names = mix.names();
    let mut out = Vec::new();
    for t in &scenario.thresholds.requests {
        let Some(entry) = names.iter().position(|n| *n == t.request) else {
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
        let empty = StageRecord::for_request();
        let cell = record.by_request.get(entry).and_then(|c| c.as_deref());
        let seen = observed(cell.unwrap_or(&empty));
        out.extend(thresholds::evaluate_request(
            &t.limits,
            &seen,
            t.stage.as_deref(),
            &t.request,
        ));
    }
    out
}

/// What makes two runs the same scenario (see [`Results::scenario_id`]): FNV-1a, 64 bits,
/// over its name, method, target and each stage's name and kind.
pub fn scenario_id(scenario: &Scenario) -> String {
    let mut text = format!(
        "{}\n{} {}\n",
        scenario.name.as_deref().unwrap_or(""),
        scenario.target.method,
        scenario.target.display_url()
    );
    for s in &scenario.stages {
        text.push_str(&format!("{}\t{}\n", s.name, s.kind.label()));
    }
    // HTTP/2 multiplexes: not the same load as HTTP/1.1 (an HTTP/1.1 run hashes as before).
    if scenario.target.http == HttpVersion::Http2 {
        text.push_str("http\t2\n");
    }
    // A mix is part of what ran (a scenario without one hashes as it always did).
    for e in scenario.requests.iter().flat_map(|m| &m.entries) {
        text.push_str(&format!(
            "request\t{}\t{}\t{}\n",
            e.name, e.method, e.weight
        ));
    }
    // So are flows: which steps, in what proportions.
    let flows = scenario.requests.iter().filter_map(|m| m.flows.as_ref());
    for f in flows.flat_map(|f| &f.entries) {
        let steps: Vec<String> = f.steps.iter().map(usize::to_string).collect();
        text.push_str(&format!(
            "flow\t{}\t{}\t{}\n",
            f.name,
            f.weight,
            steps.join(",")
        ));
    }
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// A pause sends nothing, so it has no first send: it starts where the stage before it
/// ended by plan (the engine starts each stage at the previous one's planned end), or at 0.
fn pause_starts(plans: &[StagePlan], results: &mut Results) {
    for i in 0..results.stages.len().min(plans.len()) {
        if !matches!(plans[i], StagePlan::Pause { .. }) || results.stages[i].started_s.is_some() {
            continue;
        }
        results.stages[i].started_s = if i == 0 {
            Some(0.0)
        } else {
            let before = results.stages[i - 1].started_s;
            before
                .zip(plans[i - 1].duration())
                .map(|(at, d)| at + d.as_secs_f64())
        };
    }
}

/// Fills each timeline point's `planned`: the sends the schedule put in that second, from
/// each open stage's pacing and each burst, laid from the stage's first scheduled send.
/// Seconds no open stage or burst covers (closed-model stages, pauses) have none. A shard
/// planned its share: the global requests ≡ its index.
fn planned_per_second(plans: &[StagePlan], shard: Shard, results: &mut Results) {
    let starts: Vec<Option<f64>> = results.stages.iter().map(|s| s.started_s).collect();
    for point in &mut results.timeline {
        point.planned = planned_in_second(plans, &starts, shard, point.t_s);
    }
}

/// The sends the schedule put in second `t_s` of the run, given when each stage started
/// (s from time zero; `None`: not begun): what [`planned_per_second`] fills, and what the
/// live metrics say of the last complete second.
pub fn planned_in_second(
    plans: &[StagePlan],
    starts: &[Option<f64>],
    shard: Shard,
    t_s: u64,
) -> Option<u64> {
    let (from, to) = (t_s as f64, t_s as f64 + 1.0);
    plans
        .iter()
        .zip(starts)
        .filter_map(|(plan, start)| {
            let start = (*start)?;
            match plan {
                StagePlan::Open(p) => {
                    let end = start + p.duration().as_secs_f64();
                    (start < to && end > from).then(|| {
                        shard.share(p.due_before(to - start))
                            - shard.share(p.due_before(from - start))
                    })
                }
                StagePlan::Burst { requests } => {
                    (from..to).contains(&start).then(|| shard.share(*requests))
                }
                _ => None,
            }
        })
        .reduce(|a, b| a + b)
}

/// Each request's seconds into its `by_request` entry (the run level) and its histograms:
/// the engine keeps them by entry of the mix, `names` says whose each is.
fn add_request_seconds(results: &mut Results, names: &[&str], seconds: RequestSeconds) {
    let (Some(requests), Some(histograms)) = (
        results.by_request.as_mut(),
        results.histograms.by_request.as_mut(),
    ) else {
        return;
    };
    let RequestSeconds {
        points,
        histograms: second_histograms,
    } = seconds;
    for ((name, points), seconds) in names.iter().zip(points).zip(second_histograms) {
        if let Some(r) = requests.get_mut(*name) {
            r.timeline = points;
        }
        if let Some(h) = histograms.get_mut(*name) {
            h.seconds = seconds;
        }
    }
}

/// What the results say of the target: where it is, the method, and how connections were
/// made when that is not the default (a per-request run's latencies include connecting, as
/// a per-flow run's first steps' do).
pub fn target_info(target: &Target, method: String) -> TargetInfo {
    let own = target.connections != ConnectionPolicy::KeepAlive;
    let https = target.url.scheme_str() == Some("https");
    TargetInfo {
        url: target.display_url(),
        method,
        connections: own.then(|| target.connections.name().to_string()),
        tls_resume: (https && !target.tls_resume).then_some(false),
        http: (target.http == HttpVersion::Http2).then(|| target.http.name().to_string()),
    }
}
