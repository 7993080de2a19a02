//! What the user sees: the live view while running, the summary at the end, and the
//! reports written from a results file (Markdown, JUnit XML, HTML).

pub mod addresses;
pub mod check;
pub mod cloudwatch;
pub mod cloudwatch_routes;
pub mod compare;
pub mod flows;
pub mod html;
pub mod junit;
pub mod lambda;
pub mod live;
pub mod markdown;
pub mod outcome;
pub mod probe;
pub mod quotas;
pub mod routes;
pub mod summary;
pub mod timing;
pub mod tune;

/// Results to render in the reports' unit tests.
#[cfg(test)]
pub(crate) mod fixture {
    use std::collections::BTreeMap;
    use std::time::{Duration, SystemTime};

    use crate::engine::abort::AbortTrip;
    use crate::quotas::NotRead;
    use crate::record::StageRecord;
    use crate::results::{build, Results, RunInput, StageInput, StageKind, TargetInfo};
    use crate::verdict::thresholds::ThresholdResult;

    /// A run that passed: 100 requests, all ok, one threshold met.
    pub fn passed() -> Results {
        let mut rec = StageRecord::new();
        rec.counts.requests = 100;
        rec.counts.ok = 100;
        rec.counts.attempts.sent = 100;
        rec.counts.attempts.ok = 100;
        rec.first_scheduled_us = Some(0);
        rec.last_done_us = Some(10_000_000);
        for v in [20_000u64, 40_000, 120_000] {
            rec.latency.record(v).unwrap();
        }
        let mut r = build(RunInput {
            request_names: Vec::new(),
            name: Some("smoke"),
            target: TargetInfo {
                url: "http://127.0.0.1:1/orders".into(),
                method: "GET".into(),
                ..Default::default()
            },
            started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            interrupted: false,
            stages: vec![StageInput {
                planned_by_request: None,
                name: "steady",
                kind: StageKind::Constant,
                record: &rec,
                planned_s: Some(10.0),
                planned_requests: Some(100),
            }],
            overall: &rec,
            faults: vec![],
            open_files_limit: None,
            failures: vec![],
            timeline: vec![],
            seconds: vec![],
            thresholds: vec![],
        });
        r.thresholds = vec![ThresholdResult {
            name: "p99".into(),
            stage: None,
            request: None,
            flow: None,
            limit: "800ms".into(),
            observed: 120.0,
            pass: true,
            not_judged: false,
        }];
        r.quota_check.pass = true;
        r.quota_check.quotas.origin = "emulator".into();
        r
    }

    /// `passed()` as a mix of two requests, "get order" (70, 60 ok, 10 throttled) and
    /// "create order" (30, 25 ok, 5 errors), in the run and in its one stage.
    pub fn mixed() -> Results {
        use crate::results::{Percentiles, RequestResult, Totals};
        let mut r = passed();
        let request = |requests, ok, throttled, errors, p99| RequestResult {
            totals: Totals {
                requests,
                ok,
                throttled,
                errors,
                ..Totals::default()
            },
            latency_ms: Percentiles {
                p50: p99 / 4.0,
                p99,
                ..Percentiles::default()
            },
            achieved_rps: requests as f64 / 10.0,
            ..RequestResult::default()
        };
        let by_request = BTreeMap::from([
            ("get order".to_string(), request(70, 60, 10, 0, 40.0)),
            ("create order".to_string(), request(30, 25, 0, 5, 120.0)),
        ]);
        r.stages[0].by_request = Some(by_request.clone());
        r.by_request = Some(by_request);
        r
    }

    /// A run that failed a stage's threshold and the quota check, and was aborted; its
    /// name and a stage's name hold a `|`.
    pub fn failed() -> Results {
        let mut r = passed();
        r.name = Some("checkout | api".into());
        r.stages[0].name = "ramp | fast".into();
        r.stages[0].kind = StageKind::Ramp;
        r.totals.ok = 60;
        r.totals.throttled = 30;
        r.totals.errors = 10;
        r.attempts.ok = 60;
        r.attempts.throttled = 30;
        r.attempts.suspected_lambda_throttles = 4;
        r.attempts.server_errors = 5;
        r.attempts.timeouts = 1;
        r.attempts.sent = 100;
        r.throttles = BTreeMap::from([("api_gateway".to_string(), 30)]);
        r.thresholds.push(ThresholdResult {
            name: "throttle_rate".into(),
            stage: Some("ramp".into()),
            request: None,
            flow: None,
            limit: "1%".into(),
            observed: 0.125,
            pass: false,
            not_judged: false,
        });
        r.quota_check.pass = false;
        r.quota_check.next_steps = vec!["raise it".into()];
        r.quota_check.quotas.not_read.push(NotRead {
            action: "lambda:GetFunctionConcurrency".into(),
            reason: "access denied".into(),
        });
        r.aborted = Some(AbortTrip {
            request: None,
            rule: "throttle_rate".into(),
            limit: 0.2,
            observed: 0.3,
            t_s: 7,
            window_s: 5,
            attempts: 80,
            by_shard: None,
        });
        r
    }
    /// `mixed()` with two flows in the run and its one stage: "buy" (100 started, 86
    /// completed, 12 failed — 10 at login, 7 server errors and 3 timeouts, 2 at get order
    /// with a capture missing —, 2 abandoned) and "browse" (50, all completed).
    pub fn flowed() -> Results {
        use crate::results::Percentiles;
        use stampede_results::flows::FlowResult;
        let mut r = mixed();
        let flow = |started, completed, failed, abandoned, p99| FlowResult {
            planned: Some(started),
            started,
            completed,
            failed,
            abandoned,
            latency_ms: Percentiles {
                p50: p99 / 4.0,
                p99,
                ..Percentiles::default()
            },
            achieved_fps: (completed + failed) as f64 / 10.0,
            ..FlowResult::default()
        };
        let mut buy = flow(100, 86, 12, 2, 320.0);
        buy.failed_by_step = BTreeMap::from([
            (
                "login".to_string(),
                BTreeMap::from([
                    ("server_errors".to_string(), 7),
                    ("timeouts".to_string(), 3),
                ]),
            ),
            (
                "get order".to_string(),
                BTreeMap::from([("capture_missing".to_string(), 2)]),
            ),
        ]);
        let by_flow = BTreeMap::from([
            ("buy".to_string(), buy),
            ("browse".to_string(), flow(50, 50, 0, 0, 40.0)),
        ]);
        r.stages[0].by_flow = Some(by_flow.clone());
        r.by_flow = Some(by_flow);
        r
    }

    /// `passed()` as a tune of "orders-fn" (found at 512 MB) over the emulator's model at
    /// 128–3,008 MB (docs/tune.md): durations 20 + 80 × max(1769/m, 1) ms, cost per million
    /// $0.20 + billed s × GB × $16.6667, init 300 ms at 1,769 MB scaled likewise for 10
    /// cold starts of 1,000 invocations; strategy balanced at 0.5; restored.
    pub fn tuned() -> Results {
        use stampede_results::tune::{Spread, Strategy, Tune, TuneMemory, TuneOriginal};
        let spread = |v: f64| Spread {
            p50: v,
            p90: v,
            p99: v,
            max: v,
        };
        let memories: Vec<TuneMemory> = [128u64, 256, 512, 1024, 1769, 3008]
            .iter()
            .map(|&m| {
                let share = (1769.0 / m as f64).max(1.0);
                let duration = 20.0 + 80.0 * share;
                let init = 300.0 * share;
                let gb_s = |ms: f64| ms.ceil() / 1000.0 * m as f64 / 1024.0;
                let per_million = |ms: f64| 0.20 + gb_s(ms) * 0.000_016_666_7 * 1e6;
                let without = per_million(duration);
                TuneMemory {
                    memory: m,
                    version: Some(format!("{}", m / 128)),
                    invocations: 1000,
                    duration_ms: spread(duration),
                    init_ms: Some(spread(init)),
                    cold_starts: 10,
                    // 10 of 1,000 invocations also bill their init.
                    cost_per_million: without + gb_s(init) * 0.000_016_666_7 * 1e6 / 100.0,
                    cost_per_million_without_init: without,
                    latency_ms: spread(duration + 15.0),
                    throttles: 0,
                    errors: 0,
                }
            })
            .collect();
        let mut r = passed();
        r.tune = Some(Tune {
            original: TuneOriginal {
                function: "orders-fn".into(),
                region: Some("us-east-1".into()),
                memory: 512,
                ..TuneOriginal::default()
            },
            strategy: Strategy::Balanced,
            balance: 0.5,
            picks: crate::tune::pick::picks(&memories, 0.5),
            memories,
            restored: Some(stampede_results::tune::TuneRestore {
                memory_restored: true,
                deleted: (1..=6).map(|v| v.to_string()).collect(),
                ..Default::default()
            }),
            applied: None,
        });
        r
    }
}
