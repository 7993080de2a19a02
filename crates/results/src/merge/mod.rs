//! `stampede merge`: runs of one scenario, made on several machines (or processes) at once,
//! merged into the results of one run — exactly. Histograms are added and percentiles
//! recomputed from the sums (never averaged); counts are summed; seconds are aligned on
//! the wall clock. Thresholds and the quota check are judged again on the merged whole by
//! the caller (the CLI's verdict): the merged file has none until then. Pure: the caller
//! reads and writes the files (docs/merge-and-compare.md).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::failure::{pick_samples, FAILURE_SAMPLES};
use crate::histogram::ENCODING;
use crate::timing::{new_phase_histograms, PhaseHistograms, Timing, TimingHistograms};
use crate::{
    encode, new_histogram, percentiles, Attempts, HistogramPair, Histograms, NamedHistograms,
    Results, RetrySummary, SecondHistograms, ShardInfo, ThrottleOnset, TimelinePoint, Totals,
};

/// `merged` in the results: how many runs a merged file was made of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MergeInfo {
    /// Runs merged (a merged file merged again counts as the runs it holds).
    pub files: u64,
    /// True when every second's percentiles come from added histograms. False when a file
    /// had no per-second histograms (written by an older stampede): those seconds'
    /// p50/p90/p99 are then the highest of the files' (an upper bound), not exact.
    pub per_second_exact: bool,
    /// The shards merged, by index, when the runs were shards of one split test: each with
    /// how late it began and what it skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardInfo>,
    /// The `run_id` of every run merged (a merged file's own `merged.runs` included), so a
    /// run is never merged in twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<String>,
}

mod by_flow;
mod by_request;
mod refusal;
mod request_seconds;
mod seconds;
mod spans;

mod sum;

pub use by_flow::flow_rate;
pub use by_request::{add_request, request_rate};
pub use refusal::{check, check_files, Refusal};
use seconds::merge_seconds;
use spans::merge_stages;
use sum::{add_attempts, add_encoded, add_map, add_optional, add_timing, add_totals};

/// Merges runs of one scenario into the results of one run, its thresholds and quota check
/// left for the caller to judge again. See the module's docs.
pub fn merge(runs: Vec<Results>) -> Result<Results, Refusal> {
    check(&runs)?;
    // Shards ran at once: the peaks in flight of one second add up.
    let clock = align(&runs, true)?;
    let (start, offsets) = (clock.start, &clock.offsets);
    let first = &runs[0];

    // Whole-run and per-stage histograms, added.
    let mut overall = (new_histogram(), new_histogram());
    let mut stage_h: Vec<(Histogram<u64>, Histogram<u64>)> = first
        .stages
        .iter()
        .map(|_| (new_histogram(), new_histogram()))
        .collect();
    // Latencies of ok requests: absent from older files, and then from the merge.
    let mut overall_ok = Some(new_histogram());
    let mut stage_ok: Vec<Option<Histogram<u64>>> =
        first.stages.iter().map(|_| Some(new_histogram())).collect();
    // The phases' histograms: absent from older files, and then from the merge.
    let mut overall_timing = Some(new_phase_histograms());
    let mut stage_timing: Vec<Option<PhaseHistograms>> = first
        .stages
        .iter()
        .map(|_| Some(new_phase_histograms()))
        .collect();
    for (i, r) in runs.iter().enumerate() {
        let timing = r.histograms.overall.timing.as_ref();
        add_timing(&mut overall_timing, timing, i, "overall timing")?;
        add_optional(
            &mut overall_ok,
            r.histograms.overall.ok_latency.as_deref(),
            i,
            "overall ok latency",
        )?;
        add_encoded(
            &mut overall.0,
            &r.histograms.overall.latency,
            i,
            "overall latency",
        )?;
        add_encoded(
            &mut overall.1,
            &r.histograms.overall.service,
            i,
            "overall service",
        )?;
        let stage_parts = first.stages.iter().zip(&mut stage_h).zip(&mut stage_ok);
        for (((s, h), ok), timing) in stage_parts.zip(&mut stage_timing) {
            // Stages are the same list in every file (checked); histograms go by name.
            if let Some(n) = r.histograms.stages.iter().find(|n| n.name == s.name) {
                let what = format!("stage {:?}", s.name);
                add_encoded(&mut h.0, &n.latency, i, &format!("{what} latency"))?;
                add_encoded(&mut h.1, &n.service, i, &format!("{what} service"))?;
                add_timing(timing, n.timing.as_ref(), i, &format!("{what} timing"))?;
                let what = format!("{what} ok latency");
                add_optional(ok, n.ok_latency.as_deref(), i, &what)?;
            }
        }
    }

    // Counts.
    let mut totals = Totals::default();
    let mut attempts = Attempts::default();
    let mut throttles = BTreeMap::new();
    let mut status_codes = BTreeMap::new();
    let mut local_errors = BTreeMap::new();
    let mut addresses = BTreeMap::new();
    let mut retry = RetrySummary::default();
    let mut first_try_ok = 0u64;
    let mut faults = Vec::new();
    let mut failures = Vec::new();
    let mut files = 0u64;
    for (i, r) in runs.iter().enumerate() {
        add_totals(&mut totals, &r.totals);
        add_attempts(&mut attempts, &r.attempts);
        add_map(&mut throttles, &r.throttles);
        add_map(&mut status_codes, &r.status_codes);
        add_map(&mut local_errors, &r.local_errors);
        crate::addresses::add_addresses(&mut addresses, &r.addresses);
        add_map(&mut retry.attempts, &r.retry.attempts);
        add_map(&mut retry.by_cause, &r.retry.by_cause);
        retry.gave_up += r.retry.gave_up;
        retry.gave_up_budget += r.retry.gave_up_budget;
        retry.backoff_s += r.retry.backoff_s;
        // The rate is first-try successes / requests, both whole numbers: the count
        // comes back exactly by rounding.
        first_try_ok += (r.retry.first_try_success_rate * r.totals.requests as f64).round() as u64;
        faults.extend(r.faults.iter().cloned());
        failures.extend(r.failures.iter().cloned().map(|mut f| {
            f.t_s += offsets[i];
            f
        }));
        files += r.merged.as_ref().map_or(1, |m| m.files);
    }
    retry.first_try_success_rate = if totals.requests == 0 {
        0.0
    } else {
        first_try_ok as f64 / totals.requests as f64
    };
    let failures = pick_samples(failures, FAILURE_SAMPLES);

    // Stages.
    let mut stages = merge_stages(&runs, offsets, &stage_h);
    for ((st, ok), timing) in stages.iter_mut().zip(&stage_ok).zip(&stage_timing) {
        st.ok_latency_ms = ok.as_ref().map(percentiles);
        st.timing = timing.as_ref().map(Timing::of);
    }

    // Seconds.
    let shifts = clock.shifts();
    let WallClock {
        timeline,
        seconds: second_histograms,
        per_second_exact,
        duration_s,
        ..
    } = clock;

    let throttle_onset = ThrottleOnset::first_in(&timeline);
    let aborted = runs.iter().find_map(|r| r.aborted.clone());
    let (by_request, by_request_h) =
        by_request::merge_by_request(&runs, &mut stages, duration_s, &shifts)?;
    let (by_flow, by_flow_h) = by_flow::merge_by_flow(&runs, &mut stages, duration_s)?;

    let mut merged = Results {
        schema: crate::SCHEMA.to_string(),
        name: first.name.clone(),
        scenario_id: first.scenario_id.clone(),
        run_id: None,
        started_at: humantime::format_rfc3339_millis(start).to_string(),
        duration_s,
        interrupted: runs.iter().any(|r| r.interrupted),
        insecure: runs.iter().any(|r| r.insecure),
        target: first.target.clone(),
        totals,
        attempts,
        throttles,
        status_codes,
        local_errors,
        open_files_limit: runs.iter().filter_map(|r| r.open_files_limit).min(),
        addresses,
        faults,
        latency_ms: percentiles(&overall.0),
        ok_latency_ms: overall_ok.as_ref().map(percentiles),
        service_ms: percentiles(&overall.1),
        timing: overall_timing.as_ref().map(Timing::of),
        // Each run's peak: their sum bounds the merged run's.
        peak_in_flight: runs.iter().map(|r| r.peak_in_flight).sum(),
        throttle_onset,
        retry,
        failures,
        stages,
        by_request,
        by_flow,
        timeline,
        histograms: Histograms {
            encoding: ENCODING.to_string(),
            unit: "us".to_string(),
            overall: HistogramPair {
                latency: encode(&overall.0),
                service: encode(&overall.1),
                ok_latency: overall_ok.as_ref().map(encode),
                timing: overall_timing.as_ref().map(TimingHistograms::encode),
            },
            stages: first
                .stages
                .iter()
                .zip(&stage_h)
                .zip(&stage_ok)
                .zip(&stage_timing)
                .map(|(((s, h), ok), timing)| NamedHistograms {
                    name: s.name.clone(),
                    latency: encode(&h.0),
                    service: encode(&h.1),
                    ok_latency: ok.as_ref().map(encode),
                    timing: timing.as_ref().map(TimingHistograms::encode),
                })
                .collect(),
            seconds: second_histograms,
            by_request: by_request_h,
            by_flow: by_flow_h,
        },
        quota_check: Default::default(),
        thresholds: Vec::new(),
        aborted,
        // Each run's emulator was its own: their counters do not describe one.
        emulator: None,
        // A probe's steps were chosen one after another: shards of one do not add up.
        probe: None,
        // A tune's sizes ran one after another on one machine: shards of one do not add up.
        tune: None,
        lambda: runs
            .iter()
            .filter_map(|r| r.lambda.as_ref())
            .fold(None, |acc, l| {
                Some(match acc {
                    None => l.clone(),
                    Some(mut m) => {
                        m.merge(l);
                        m
                    }
                })
            }),
        merged: Some(MergeInfo {
            files,
            per_second_exact,
            shards: {
                let mut shards: Vec<ShardInfo> =
                    runs.iter().filter_map(|r| r.shard.clone()).collect();
                shards.sort_by_key(|s| s.index);
                shards
            },
            runs: {
                let mut ids: Vec<String> = runs
                    .iter()
                    .flat_map(|r| match (&r.run_id, &r.merged) {
                        (Some(id), _) => vec![id.clone()],
                        (None, Some(m)) => m.runs.clone(),
                        (None, None) => Vec::new(),
                    })
                    .collect();
                ids.sort();
                ids
            },
        }),
        shard: None,
        // The shards ran against the same endpoint: any one's names will do.
        aws: runs.iter().find_map(|r| r.aws.clone()),
        // Read again for the whole (`stampede cloudwatch`): a shard's side was its share.
        cloudwatch: None,
    };
    // The shards side by side were one load: advised on the merged seconds.
    if let Some(l) = merged.lambda.as_mut() {
        l.advise_provisioned(&merged.timeline, None);
    }
    Ok(merged)
}

/// Runs laid on one wall clock: the earliest start, each run's start after it, and their
/// seconds added where they fall. The one alignment of runs in time: `merge` lays shards
/// with it, `probe` its steps, which ran one after another.
pub struct WallClock {
    pub start: SystemTime,
    /// Each run's start, seconds after `start`.
    pub offsets: Vec<f64>,
    pub timeline: Vec<TimelinePoint>,
    /// Each merged second's histograms (none unless every second is exact).
    pub seconds: Vec<SecondHistograms>,
    pub per_second_exact: bool,
    /// `start` to the end of the run that ended last.
    pub duration_s: f64,
}

impl WallClock {
    /// Each run's whole seconds after `start`: where its second 0 lands.
    pub fn shifts(&self) -> Vec<u64> {
        whole_seconds(&self.offsets)
    }
}

fn whole_seconds(offsets: &[f64]) -> Vec<u64> {
    offsets.iter().map(|o| o.round() as u64).collect()
}

/// Lays `runs` on the wall clock. Second k of a run began at its start + k: it lands in the
/// second that holds its middle (whole seconds to add: the offset rounded). `concurrent`:
/// the runs ran at once (shards), so the peaks in flight of one second add up; else one
/// ran after another and a second's peak is the higher one.
pub fn align(runs: &[Results], concurrent: bool) -> Result<WallClock, Refusal> {
    let starts: Vec<SystemTime> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            humantime::parse_rfc3339(&r.started_at).map_err(|e| Refusal::Unreadable {
                file: i,
                why: format!("started_at {:?}: {e}", r.started_at),
            })
        })
        .collect::<Result<_, _>>()?;
    let Some(start) = starts.iter().min().copied() else {
        return Err(Refusal::TooFew(0));
    };
    let offsets: Vec<f64> = starts
        .iter()
        .map(|s| {
            s.duration_since(start)
                .unwrap_or(Duration::ZERO)
                .as_secs_f64()
        })
        .collect();
    let shifts = whole_seconds(&offsets);
    let (timeline, seconds, per_second_exact) = merge_seconds(runs, &shifts, concurrent)?;
    let duration_s = runs
        .iter()
        .zip(&offsets)
        .map(|(r, o)| o + r.duration_s)
        .fold(0.0, f64::max);
    Ok(WallClock {
        start,
        offsets,
        timeline,
        seconds,
        per_second_exact,
        duration_s,
    })
}
