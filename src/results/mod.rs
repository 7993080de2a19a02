//! The results file, as the CLI makes it: `assemble` builds it from the engine's record
//! with the thresholds checked (the caller adds the quota check), `merge` judges a merged
//! file again, `file` writes it (tried before traffic, beside and renamed, a fallback when
//! the write fails) and reads it back. The file's own types, its version check, its JSON
//! Schema, the exact merge and compare are the `stampede_results` crate's, re-exported here.

use std::collections::BTreeMap;
use std::time::SystemTime;

use hdrhistogram::Histogram;

use crate::record::{Counts, StageRecord};
use crate::verdict::quota_check::QuotaCheck;
use crate::verdict::thresholds::{Observed, ThresholdResult};
use stampede_results::histogram::ENCODING;
use stampede_results::timing::{Timing, TimingHistograms};
pub use stampede_results::*;

mod assemble;
pub mod file;
pub mod flows;
pub mod lambda;
pub mod merge;

pub use assemble::{assemble, planned_in_second, scenario_id, target_info, MIX_METHOD};

/// A stage as the results need it: its record and how long it ran.
pub struct StageInput<'a> {
    pub name: &'a str,
    pub kind: StageKind,
    pub record: &'a StageRecord,
    /// The planned length in seconds; `None` for a burst.
    pub planned_s: Option<f64>,
    pub planned_requests: Option<u64>,
    /// Per entry of the mix, what the schedule planned for it (open and burst stages).
    pub planned_by_request: Option<Vec<u64>>,
}

pub fn totals(c: &Counts) -> Totals {
    Totals {
        requests: c.requests,
        ok: c.ok,
        throttled: c.throttled,
        errors: c.errors,
        retries: c.retries,
        gave_up: c.gave_up,
        late: c.late,
        held_back: c.held_back,
        abandoned: c.abandoned_requests,
        stale_connection_resends: c.stale_connection_resends,
        goaways: c.goaways,
        data_exhausted: c.data_exhausted,
        bytes_received: c.bytes_received,
    }
}

pub fn attempts(c: &Counts) -> Attempts {
    c.attempts
}

/// What thresholds compare against, for one stage or the run.
pub fn observed(r: &StageRecord) -> Observed {
    observed_from(
        &r.latency,
        Some(&r.ok_latency),
        Some(&r.timing),
        &totals(&r.counts),
        &attempts(&r.counts),
    )
}

/// What thresholds compare against, from the latency histograms (all requests; those that
/// ended ok, when known) and the counts (a run's record, or results read back and merged).
pub fn observed_from(
    latency: &Histogram<u64>,
    ok_latency: Option<&Histogram<u64>>,
    timing: Option<&timing::PhaseHistograms>,
    totals: &Totals,
    attempts: &Attempts,
) -> Observed {
    let p = percentiles(latency);
    let ok = ok_latency.map_or(
        Percentiles {
            p50: f64::NAN,
            p90: f64::NAN,
            p95: f64::NAN,
            p99: f64::NAN,
            p999: f64::NAN,
            max: f64::NAN,
            mean: f64::NAN,
        },
        percentiles,
    );
    let ratio = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    // Requests that never ended did not end ok either.
    let ended = totals.requests + totals.abandoned;
    Observed {
        p50: p.p50,
        p90: p.p90,
        p95: p.p95,
        p99: p.p99,
        p999: p.p999,
        max: p.max,
        mean: p.mean,
        throttle_rate: ratio(attempts.throttled, attempts.sent),
        error_rate: ratio(totals.errors, totals.requests),
        failure_rate: ratio(ended.saturating_sub(totals.ok), ended),
        ok_p50: ok.p50,
        ok_p90: ok.p90,
        ok_p95: ok.p95,
        ok_p99: ok.p99,
        ok_p999: ok.p999,
        ok_max: ok.max,
        ok_mean: ok.mean,
        timing: timing.map(Timing::of),
    }
}

pub(super) fn stage_span_s(r: &StageRecord) -> f64 {
    match (r.first_scheduled_us, r.last_done_us) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e6,
        _ => 0.0,
    }
}

pub struct RunInput<'a> {
    pub name: Option<&'a str>,
    pub target: TargetInfo,
    pub started_at: SystemTime,
    pub interrupted: bool,
    pub stages: Vec<StageInput<'a>>,
    pub overall: &'a StageRecord,
    pub faults: Vec<String>,
    pub open_files_limit: Option<u64>,
    pub failures: Vec<FailureSample>,
    pub timeline: Vec<TimelinePoint>,
    pub seconds: Vec<SecondHistograms>,
    pub thresholds: Vec<ThresholdResult>,
    /// The `[[requests]]` entries' names, by entry; empty without `[[requests]]` (the
    /// results then have no `by_request`).
    pub request_names: Vec<&'a str>,
}

pub fn build(input: RunInput) -> Results {
    let overall = input.overall;
    let stages = input
        .stages
        .iter()
        .map(|s| {
            let r = s.record;
            let seconds = s.planned_s.unwrap_or_else(|| stage_span_s(r));
            StageResult {
                name: s.name.to_string(),
                kind: s.kind,
                released: r.counts.first_sent,
                totals: totals(&r.counts),
                attempts: attempts(&r.counts),
                throttles: r.counts.throttles_by_kind.by_key(),
                status_codes: r.statuses.by_code(),
                achieved_rps: if seconds > 0.0 {
                    r.counts.requests as f64 / seconds
                } else {
                    0.0
                },
                planned_requests: s.planned_requests,
                latency_ms: percentiles(&r.latency),
                ok_latency_ms: Some(percentiles(&r.ok_latency)),
                service_ms: percentiles(&r.service),
                timing: Some(Timing::of(&r.timing)),
                peak_in_flight: r.peak_in_flight,
                started_s: r.first_scheduled_us.map(|us| us as f64 / 1e6),
                dispatch_spread_ms: if s.planned_s.is_none() {
                    r.send_spread_ms()
                } else {
                    None
                },
                lambda: None,
                by_request: None,
                by_flow: None,
            }
        })
        .collect::<Vec<_>>();
    let mut stages = stages;
    let names = &input.request_names;
    let mut request_histograms: BTreeMap<String, RequestHistograms> = BTreeMap::new();
    if !names.is_empty() {
        for (result, s) in stages.iter_mut().zip(&input.stages) {
            let mut map = BTreeMap::new();
            for (entry, name) in names.iter().enumerate() {
                let planned = s.planned_by_request.as_ref().map(|p| p[entry]);
                let cell = s.record.by_request.get(entry).and_then(|c| c.as_deref());
                let Some(cell) = cell.or((planned > Some(0)).then_some(&EMPTY_CELL)) else {
                    continue;
                };
                let mut req = request_result(cell, planned);
                req.achieved_rps =
                    stampede_results::merge::request_rate(result, req.totals.requests);
                map.insert(name.to_string(), req);
                request_histograms
                    .entry(name.to_string())
                    .or_default()
                    .stages
                    .push(NamedHistograms {
                        name: result.name.clone(),
                        latency: encode(&cell.latency),
                        service: encode(&cell.service),
                        ok_latency: Some(encode(&cell.ok_latency)),
                        timing: Some(TimingHistograms::encode(&cell.timing)),
                    });
            }
            result.by_request = Some(map);
        }
    }
    let throttle_onset = ThrottleOnset::first_in(&input.timeline);
    let c = &overall.counts;
    let throttles = c.throttles_by_kind.by_key();
    let retry = RetrySummary {
        first_try_success_rate: if c.requests == 0 {
            0.0
        } else {
            c.first_try_ok as f64 / c.requests as f64
        },
        attempts: c
            .attempts_used
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| ((k + 1).to_string(), *n))
            .collect(),
        by_cause: c.retries_by_cause.by_key(),
        gave_up: c.gave_up,
        gave_up_budget: c.gave_up_budget,
        backoff_s: c.backoff_us as f64 / 1e6,
    };
    let totals = totals(&overall.counts);
    let duration_s = stage_span_s(overall);
    let by_request = (!names.is_empty()).then(|| {
        let mut map = BTreeMap::new();
        for (entry, name) in names.iter().enumerate() {
            let cell = overall.by_request.get(entry).and_then(|c| c.as_deref());
            let cell = cell.unwrap_or(&EMPTY_CELL);
            let planned = input
                .stages
                .iter()
                .filter_map(|s| s.planned_by_request.as_ref().map(|p| p[entry]))
                .reduce(|a, b| a + b);
            let mut req = request_result(cell, planned);
            req.achieved_rps = if duration_s > 0.0 {
                req.totals.requests as f64 / duration_s
            } else {
                0.0
            };
            let h = request_histograms.entry(name.to_string()).or_default();
            h.latency = encode(&cell.latency);
            h.service = encode(&cell.service);
            h.ok_latency = Some(encode(&cell.ok_latency));
            h.timing = Some(TimingHistograms::encode(&cell.timing));
            map.insert(name.to_string(), req);
        }
        map
    });
    Results {
        by_request,
        by_flow: None,
        schema: SCHEMA.to_string(),
        name: input.name.map(str::to_string),
        scenario_id: None,
        run_id: None,
        started_at: humantime::format_rfc3339_millis(input.started_at).to_string(),
        duration_s,
        interrupted: input.interrupted,
        insecure: false,
        target: input.target,
        totals,
        attempts: attempts(&overall.counts),
        throttles,
        status_codes: overall.statuses.by_code(),
        local_errors: c.local_by_reason.by_key(),
        open_files_limit: input.open_files_limit,
        // The engine's own, added by the caller.
        addresses: BTreeMap::new(),
        faults: input.faults,
        retry,
        failures: input.failures,
        latency_ms: percentiles(&overall.latency),
        ok_latency_ms: Some(percentiles(&overall.ok_latency)),
        service_ms: percentiles(&overall.service),
        timing: Some(Timing::of(&overall.timing)),
        peak_in_flight: overall.peak_in_flight,
        throttle_onset,
        stages,
        timeline: input.timeline,
        histograms: Histograms {
            encoding: ENCODING.to_string(),
            unit: "us".to_string(),
            overall: HistogramPair {
                latency: encode(&overall.latency),
                service: encode(&overall.service),
                ok_latency: Some(encode(&overall.ok_latency)),
                timing: Some(TimingHistograms::encode(&overall.timing)),
            },
            stages: input
                .stages
                .iter()
                .map(|s| NamedHistograms {
                    name: s.name.to_string(),
                    latency: encode(&s.record.latency),
                    service: encode(&s.record.service),
                    ok_latency: Some(encode(&s.record.ok_latency)),
                    timing: Some(TimingHistograms::encode(&s.record.timing)),
                })
                .collect(),
            seconds: input.seconds,
            by_request: (!names.is_empty()).then_some(request_histograms),
            by_flow: None,
        },
        quota_check: QuotaCheck::default(),
        aborted: None,
        thresholds: input.thresholds,
        emulator: None,
        merged: None,
        shard: None,
        aws: None,
        cloudwatch: None,
        lambda: None,
        probe: None,
        tune: None,
    }
}

/// A request of the mix that planned requests in a stage but recorded none.
static EMPTY_CELL: std::sync::LazyLock<StageRecord> =
    std::sync::LazyLock::new(StageRecord::for_request);

/// One request's figures from its record (its rate is the caller's: it depends on the span).
fn request_result(r: &StageRecord, planned: Option<u64>) -> RequestResult {
    RequestResult {
        totals: totals(&r.counts),
        attempts: attempts(&r.counts),
        throttles: r.counts.throttles_by_kind.by_key(),
        status_codes: r.statuses.by_code(),
        latency_ms: percentiles(&r.latency),
        ok_latency_ms: Some(percentiles(&r.ok_latency)),
        service_ms: percentiles(&r.service),
        timing: Some(Timing::of(&r.timing)),
        achieved_rps: 0.0,
        planned_requests: planned,
        timeline: Vec::new(),
    }
}

/// The emulator's counters as the results file has them.
pub fn emulator_stats(s: stampede_emulator::Stats) -> emulator::Stats {
    emulator::Stats {
        requests: s.requests,
        ok: s.ok,
        throttled_api_gateway_account: s.throttled_api_gateway_account,
        throttled_api_gateway_stage: s.throttled_api_gateway_stage,
        throttled_lambda_reserved: s.throttled_lambda_reserved,
        throttled_lambda_account: s.throttled_lambda_account,
        throttled_lambda_scaling: s.throttled_lambda_scaling,
        integration_timeouts: s.integration_timeouts,
        cold_starts: s.cold_starts,
        environments_created: s.environments_created,
        environments_expired: s.environments_expired,
        warm_environments: s.warm_environments,
        peak_concurrency: s.peak_concurrency,
        in_flight: s.in_flight,
        function_errors: s.function_errors,
        invocations_direct: s.invocations_direct,
        init_ms_min: s.init_ms_min,
        init_ms_max: s.init_ms_max,
        routes: s
            .routes
            .into_iter()
            .map(|r| emulator::RouteStats {
                route: r.route,
                function: r.function,
                requests: r.requests,
                ok: r.ok,
                throttled_route: r.throttled_route,
                throttled_api_gateway: r.throttled_api_gateway,
                throttled_lambda: r.throttled_lambda,
                function_errors: r.function_errors,
                integration_timeouts: r.integration_timeouts,
            })
            .collect(),
        functions: s
            .functions
            .into_iter()
            .map(|f| emulator::FunctionStats {
                name: f.name,
                invocations: f.invocations,
                cold_starts: f.cold_starts,
                peak_concurrency: f.peak_concurrency,
                in_flight: f.in_flight,
                throttled_reserved: f.throttled_reserved,
                throttled_account: f.throttled_account,
                throttled_scaling: f.throttled_scaling,
                function_errors: f.function_errors,
            })
            .collect(),
        throttled_api_gateway_route: s.throttled_api_gateway_route,
        unmatched: s.unmatched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attempt_lands_in_exactly_one_class() {
        use crate::classify::{LocalReason, Outcome, ThrottleKind};
        use crate::record::{AttemptEnded, LaneRecorder};
        let outcomes = [
            Outcome::Ok,
            Outcome::Redirect,
            Outcome::Throttled(ThrottleKind::UsagePlan),
            Outcome::SuspectedIntegrationThrottle,
            Outcome::FunctionError,
            Outcome::Unexpected,
            Outcome::ClientError,
            Outcome::ServerError,
            Outcome::Timeout,
            Outcome::ConnectError,
            Outcome::TlsError,
            Outcome::ProtocolError,
            Outcome::LocalError(LocalReason::EphemeralPorts),
        ];
        let origin = std::time::Instant::now();
        let mut r = LaneRecorder::new(origin, 0, 1, None);
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..1000 {
            r.on_dispatch((0, 0), origin, (1, 1), true);
            if rng.u8(..20) == 0 {
                r.on_abandoned_attempt((0, 0));
                continue;
            }
            r.on_attempt(&AttemptEnded {
                stage: 0,
                scheduled: origin,
                sent: Some(origin),
                done: origin,
                outcome: outcomes[rng.usize(..outcomes.len())],
                status: None,
                paced: false,
                first: true,
                entry: 0,
                phases: Default::default(),
            });
        }
        let a = attempts(&r.stages[0].counts);
        assert_eq!(a.sent, 1000);
        assert_eq!(a.classes().iter().map(|(n, _)| n).sum::<u64>(), a.sent);
        assert_eq!(r.stages[0].counts.attempt_classes(), a.sent);
        assert!(a.classes().iter().filter(|(n, _)| *n > 0).count() >= 13);
    }

    #[test]
    fn a_stage_under_90_percent_of_its_plan_or_a_closed_one_that_sent_nothing_is_short() {
        let rec = |requests: u64, abandoned: u64| {
            let mut r = StageRecord::new();
            r.counts.requests = requests;
            r.counts.ok = requests;
            r.counts.abandoned_requests = abandoned;
            r
        };
        let (steady, edge, burst, soak) = (rec(80, 9), rec(90, 0), rec(10, 0), rec(0, 0));
        let overall = rec(180, 9);
        let stage = |name, kind, record, planned_requests| StageInput {
            name,
            kind,
            record,
            planned_s: None,
            planned_requests,
            planned_by_request: None,
        };
        let r = build(RunInput {
            request_names: Vec::new(),
            name: None,
            target: TargetInfo {
                url: "http://127.0.0.1:9/".into(),
                method: "GET".into(),
                ..Default::default()
            },
            started_at: SystemTime::UNIX_EPOCH,
            interrupted: false,
            stages: vec![
                stage("steady", StageKind::Constant, &steady, Some(100)),
                stage("edge", StageKind::Constant, &edge, Some(100)),
                stage("spike", StageKind::Burst, &burst, Some(10)),
                stage("soak", StageKind::Concurrency, &soak, None),
            ],
            overall: &overall,
            faults: Vec::new(),
            open_files_limit: None,
            failures: Vec::new(),
            timeline: Vec::new(),
            seconds: Vec::new(),
            thresholds: Vec::new(),
        });
        let why = r.short_of_plan().expect("two stages are short");
        assert_eq!(
            why,
            "sent well below the plan (under 90% of the requests planned): stage \"steady\" started 89 of 100 planned requests (89%); stage \"soak\" started no request in its duration (concurrency)"
        );
        assert_eq!(r.traffic_failures(), vec![why], "some requests succeeded");
        // A shard's share of a small closed stage may be no worker.
        let mut shard = r.clone();
        shard.shard = Some(ShardInfo {
            index: 2,
            count: 3,
            source: "--shard".into(),
            start_at: None,
            late_s: 0.0,
            skipped_requests: 0,
            clock_offset_ms: None,
            clock_within_ms: None,
        });
        assert!(!shard.short_of_plan().unwrap().contains("soak"));
        // Stopped on purpose: the stop is the news.
        let mut stopped = r;
        stopped.interrupted = true;
        assert_eq!(stopped.short_of_plan(), None);
    }

    #[test]
    fn observed_rates_use_the_right_denominators() {
        let mut r = StageRecord::new();
        r.counts.attempts.sent = 200;
        r.counts.attempts.throttled = 10;
        r.counts.requests = 100;
        r.counts.errors = 1;
        r.counts.ok = 90;
        r.counts.throttled = 9;
        let o = observed(&r);
        assert_eq!(o.throttle_rate, 0.05);
        assert_eq!(o.error_rate, 0.01);
        assert_eq!(o.failure_rate, 0.1, "throttled and failed requests alike");
        r.counts.abandoned_requests = 10;
        assert_eq!(observed(&r).failure_rate, 20.0 / 110.0);
    }
}
