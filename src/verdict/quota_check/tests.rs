//! The quota check of whole runs: which limit an onset is put down to, what is used, what
//! passes and what to do next.

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
        names: AwsNames {
            function: Some("orders".into()),
            api_id: Some("abc123".into()),
            stage: Some("prod".into()),
            ..AwsNames::default()
        },
        api: Some(ApiKind::Rest),
        counted: LambdaCounted::default(),
        route: None,
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

#[test]
fn an_onset_at_a_documented_limit_reports_and_passes() {
    // Throttles begin as in flight reaches the documented account limit (1,000).
    let t = timeline(
        "other_429",
        &[(100, 500, 0), (100, 990, 0), (100, 1000, 20)],
    );
    let c = check(&Quotas::documented(), &seen(&t, Front::Unknown), None);
    let o = c.onset.as_ref().unwrap();
    assert_eq!(o.limit, Some(LimitKey::LambdaConcurrentExecutions));
    assert!(o.reached);
    assert!(c.pass, "a documented default explains, it does not fail");
}

#[test]
fn a_lambda_reason_alone_names_the_limit_but_does_not_fail() {
    let q = quotas(&[(LimitKey::FunctionReservedConcurrency, Some(50.0))]);
    // Lambda says reserved concurrency while in flight never came near 50.
    let t = timeline("lambda_reserved_concurrency", &[(100, 5, 0), (100, 6, 10)]);
    let c = check(&q, &seen(&t, Front::FunctionUrl), None);
    let o = c.onset.as_ref().unwrap();
    assert_eq!(o.limit, Some(LimitKey::FunctionReservedConcurrency));
    assert!(!o.reached);
    assert!(c.pass, "{:?}", c.findings);
}

#[test]
fn a_limit_of_zero_is_reported_as_a_number_and_reads_back() {
    let q = quotas(&[(LimitKey::FunctionReservedConcurrency, Some(0.0))]);
    let t = timeline("suspected", &[(10, 3, 3)]);
    let c = check(&q, &seen(&t, Front::ApiGateway), None);
    let u = c
        .usage
        .iter()
        .find(|u| u.limit == LimitKey::FunctionReservedConcurrency)
        .unwrap();
    assert!(u.percent.is_finite() && u.percent > 100.0);
    assert!(!c.pass);
    assert!(c
        .findings
        .iter()
        .any(|f| f.message.contains("a limit of 0")));
    let json = serde_json::to_string(&c).unwrap();
    let back: QuotaCheck = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
}

/// Per-second sends of a ramp from `from` to `to` over `seconds`, throttled (as the
/// API Gateway kind) from second `onset` on.
fn ramp_timeline(from: f64, to: f64, seconds: usize, onset: usize) -> Vec<TimelinePoint> {
    let secs: Vec<(u64, u64, u64)> = (0..seconds)
        .map(|i| {
            let sent = (from + (to - from) * (i as f64 + 0.5) / seconds as f64) as u64;
            (sent, 10, if i >= onset { sent / 10 } else { 0 })
        })
        .collect();
    timeline("api_gateway", &secs)
}

#[test]
fn the_stage_bucket_under_the_account_is_named_not_the_account() {
    // Issue 24: stage 600/300 under account 800/400, ramped 50 → 900 req/s.
    let q = quotas(&[
        (LimitKey::StageRate, Some(600.0)),
        (LimitKey::StageBurst, Some(300.0)),
        (LimitKey::ApigwRate, Some(800.0)),
        (LimitKey::ApigwBurst, Some(400.0)),
    ]);
    let t = ramp_timeline(50.0, 900.0, 20, 16);
    let mut s = seen(&t, Front::ApiGateway);
    s.api = Some(ApiKind::Http);
    let c = check(&q, &s, None);
    let o = c.onset.as_ref().unwrap();
    assert_eq!(o.limit, Some(LimitKey::StageRate), "{}", o.explanation);
    assert!(o.too_close.is_empty() && o.reached);
    assert!(
        o.explanation.contains("stage throttle"),
        "{}",
        o.explanation
    );
    assert!(
        o.evidence
            .iter()
            .any(|e| e.contains("account throttle") && e.contains("never runs out")),
        "{:?}",
        o.evidence
    );
    let first = &c.next_steps[0];
    assert!(
        first.contains("aws apigatewayv2 update-stage --api-id abc123 --stage-name prod --default-route-settings ThrottlingRateLimit="),
        "{first}"
    );
    assert!(!first.contains("--rest-api-id"), "{first}");
    // Followed, the advice keeps the load under the stage's rate, not the account's.
    assert!(first.contains("keep the load under 540 req/s"), "{first}");
    assert!(!c.next_steps.iter().any(|s| s.contains("under 720")));
    // The account's rate was passed for a second or two, and its bucket never ran out.
    let account = c
        .findings
        .iter()
        .find(|f| f.limit == Some(LimitKey::ApigwRate))
        .unwrap();
    assert!(
        account.message.contains("never ran out"),
        "{}",
        account.message
    );
}

#[test]
fn buckets_running_out_in_one_second_are_too_close_to_tell_apart() {
    let q = quotas(&[
        (LimitKey::StageRate, Some(100.0)),
        (LimitKey::StageBurst, Some(100.0)),
        (LimitKey::ApigwRate, Some(120.0)),
        (LimitKey::ApigwBurst, Some(80.0)),
    ]);
    let t = timeline("api_gateway", &[(50, 5, 0), (400, 40, 200), (400, 40, 280)]);
    let mut s = seen(&t, Front::ApiGateway);
    s.api = None;
    let c = check(&q, &s, None);
    let o = c.onset.as_ref().unwrap();
    assert!(
        o.explanation.contains("too close to tell apart"),
        "{}",
        o.explanation
    );
    let mut both: Vec<LimitKey> = o.limit.into_iter().chain(o.too_close.clone()).collect();
    both.sort();
    assert_eq!(both, vec![LimitKey::ApigwRate, LimitKey::StageRate]);
    // Both are acted on: the stage's command and the account's quota codes.
    assert!(c.next_steps.iter().any(|s| s.contains("update-stage")));
    assert!(c.next_steps.iter().any(|s| s.contains("L-8A5B8E43")));
    // Neither REST nor HTTP is known here: both commands are given.
    assert!(c
        .next_steps
        .iter()
        .any(|s| s.contains("aws apigateway update-stage")
            && s.contains("aws apigatewayv2 update-stage")));
}

#[test]
fn new_environments_are_modelled_not_read_off_requests_in_flight() {
    // 300 in flight at once against a ceiling of 200 and 50 new environments per 10 s:
    // Lambda makes 50, whatever the client holds.
    let q = quotas(&[
        (LimitKey::LambdaConcurrentExecutions, Some(200.0)),
        (LimitKey::LambdaScalingRate, Some(50.0)),
    ]);
    let t = timeline("suspected", &[(300, 300, 250), (0, 0, 0)]);
    let c = check(&q, &seen(&t, Front::ApiGateway), None);
    let u = c
        .usage
        .iter()
        .find(|u| u.limit == LimitKey::LambdaScalingRate)
        .unwrap();
    assert_eq!(u.observed, 50.0);
    assert!(u.basis.as_deref().unwrap().contains("modelled"));
    // Counted cold starts win over the model.
    let mut counted = timeline("suspected", &[(300, 300, 250), (0, 0, 0)]);
    counted[0].cold_starts = 37;
    let mut s = seen(&counted, Front::ApiGateway);
    s.counted.cold_starts_per_second = true;
    let c = check(&q, &s, None);
    let u = c
        .usage
        .iter()
        .find(|u| u.limit == LimitKey::LambdaScalingRate)
        .unwrap();
    assert_eq!(u.observed, 37.0);
    assert!(u.basis.as_deref().unwrap().contains("REPORT"));
}

#[test]
fn the_emulators_count_caps_the_model_and_advice_stays_within_peak_concurrency() {
    let q = quotas(&[
        (LimitKey::LambdaConcurrentExecutions, Some(1000.0)),
        (LimitKey::LambdaScalingRate, Some(100.0)),
        (LimitKey::FunctionProvisionedConcurrency, Some(10.0)),
    ]);
    let t = timeline("suspected", &[(250, 250, 100), (250, 250, 100)]);
    let mut s = seen(&t, Front::ApiGateway);
    s.counted.environments_created = Some(70);
    s.counted.peak_concurrency = Some(70);
    let c = check(&q, &s, None);
    let u = c
        .usage
        .iter()
        .find(|u| u.limit == LimitKey::LambdaScalingRate)
        .unwrap();
    assert_eq!(u.observed, 70.0);
    assert!(u.percent <= 100.0);
    for step in c.next_steps.iter().filter(|s| s.contains("provisioned")) {
        assert!(
            step.contains("--provisioned-concurrent-executions 70"),
            "{step}"
        );
    }
    let p = c
        .usage
        .iter()
        .find(|u| u.limit == LimitKey::FunctionProvisionedConcurrency)
        .unwrap();
    assert_eq!((p.observed, p.measure.as_str()), (70.0, "peak concurrency"));
}
