//! The preflight: what a plan asks of the account before anything is sent. Per stage, the
//! peak planned rate, the concurrency it needs (rate × expected latency), the new execution
//! environments it needs per 10 s, each checked against the limits that apply. Pure.

use std::time::Duration;

use crate::quotas::{Front, LimitKey, Quotas};
use crate::scenario::Stage;
use crate::schedule::StagePlan;
use stampede_emulator::EmulatorConfig;

pub use stampede_results::quota_check::{LimitCheck, Preflight, StageForecast, NEAR};
/// Lambda scales each function by so many environments per this window.
const SCALING_WINDOW_S: f64 = 10.0;

/// Expected latency when nothing says otherwise.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(100);

/// `--expect-latency`, else the emulator's mean handler time, else 100 ms; and why.
pub fn expected_latency(
    flag: Option<Duration>,
    emulator: Option<&EmulatorConfig>,
) -> (Duration, String) {
    if let Some(d) = flag {
        return (d, "--expect-latency".into());
    }
    match emulator {
        Some(e) => (e.duration.mean(), "the emulator's handler time".into()),
        None => (
            DEFAULT_LATENCY,
            "default; set --expect-latency to your p50".into(),
        ),
    }
}

/// Checks `stages` (with their plans) against `quotas`, assuming each request is in
/// flight for `latency`.
pub fn check(
    stages: &[Stage],
    plans: &[StagePlan],
    quotas: &Quotas,
    front: Front,
    latency: Duration,
    latency_basis: &str,
) -> Preflight {
    let l = latency.as_secs_f64().max(1e-6);
    // Lambda runs the function at most at its ceiling: no environment is made past it.
    let ceiling = quotas.function_ceiling().map(|(_, v)| v);
    let profile = concurrency_profile(plans, l, ceiling);
    let provisioned = quotas
        .get(LimitKey::FunctionProvisionedConcurrency)
        .unwrap_or(0.0);
    let rises = worst_rise_per_stage(&profile, plans.len(), provisioned);
    let mut out = Preflight {
        expect_latency_ms: l * 1000.0,
        latency_basis: latency_basis.to_string(),
        front,
        stages: Vec::new(),
        checks: Vec::new(),
        exceeded: false,
        warnings: Vec::new(),
        cost: None,
    };
    for (i, (stage, plan)) in stages.iter().zip(plans).enumerate() {
        let (peak_rate, burst, concurrency) = match plan {
            StagePlan::Open(p) => (Some(p.peak_rate()), None, whole(p.peak_rate() * l)),
            StagePlan::Burst { requests } => (None, Some(*requests), *requests as f64),
            StagePlan::Closed { workers, .. } => (Some(*workers as f64 / l), None, *workers as f64),
            StagePlan::Pause { .. } => (None, None, 0.0),
        };
        // Shown to a tenth, in every table: the one number, not 500.00000000000006.
        let peak_rate = peak_rate.map(|r| (r * 10.0).round() / 10.0);
        let forecast = StageForecast {
            name: stage.name.clone(),
            kind: stage.kind.kind(),
            peak_rate,
            burst,
            expected_concurrency: concurrency,
            new_environments_per_10s: whole(rises[i]),
        };
        let mut add = |limit: LimitKey, measure: &'static str, planned: f64| {
            if let Some(q) = quotas.quota(limit) {
                if let Some(value) = q.value.filter(|_| planned > 0.0) {
                    out.checks.push(LimitCheck {
                        stage: stage.name.clone(),
                        limit,
                        measure: measure.to_string(),
                        planned,
                        value,
                        headroom: value - planned,
                        percent: super::percent(planned, value),
                        exceeded: planned > value,
                        source: q.source.describe(),
                        route: None,
                        function: None,
                    });
                }
            }
        };
        // Reserved concurrency is the function's own pool: the account's is then not its limit.
        if let Some((ceiling, _)) = quotas.function_ceiling() {
            add(ceiling, "concurrency", concurrency);
        }
        add(
            LimitKey::LambdaScalingRate,
            "new environments",
            whole(rises[i]),
        );
        if front.has_api_gateway() {
            if let Some(rate) = peak_rate {
                add(LimitKey::StageRate, "rate", rate);
                add(LimitKey::ApigwRate, "rate", rate);
            }
            if let Some(n) = burst {
                add(LimitKey::StageBurst, "burst", n as f64);
                add(LimitKey::ApigwBurst, "burst", n as f64);
            }
        }
        out.stages.push(forecast);
    }
    out.exceeded = out.checks.iter().any(|c| c.exceeded);
    out
}

/// Requests in flight and environments come whole: 379.2 needs 380. Computed once here,
/// so every table shows the one number (a float's last bit does not make 20 into 21).
fn whole(v: f64) -> f64 {
    // `+ 0.0` turns the -0.0 that `ceil` gives for 0 into 0, which JSON would print as `-0.0`.
    (v - 1e-9).ceil().max(0.0) + 0.0
}

/// The run's planned concurrency over time, one sample per step: (stage, seconds, concurrency).
fn concurrency_profile(
    plans: &[StagePlan],
    latency_s: f64,
    ceiling: Option<f64>,
) -> Vec<(usize, f64, f64)> {
    let cap = |c: f64| ceiling.map_or(c, |m| c.min(m));
    let total: f64 = plans
        .iter()
        .map(|p| p.duration().map_or(latency_s, |d| d.as_secs_f64()))
        .sum();
    // Fine enough to see a 10 s window, bounded however long the run.
    let step = (total / 100_000.0).max(0.05);
    let mut samples = Vec::new();
    let mut start = 0.0;
    for (i, plan) in plans.iter().enumerate() {
        match plan {
            StagePlan::Open(p) => {
                let d = p.duration().as_secs_f64();
                let mut t = 0.0;
                while t < d {
                    samples.push((i, start + t, cap(whole(p.rate_at(t) * latency_s))));
                    t += step;
                }
                start += d;
            }
            StagePlan::Burst { requests } => {
                samples.push((i, start, cap(*requests as f64)));
                start += latency_s;
            }
            StagePlan::Closed { workers, duration } => {
                samples.push((i, start, cap(*workers as f64)));
                start += duration.as_secs_f64();
            }
            StagePlan::Pause { duration } => start += duration.as_secs_f64(),
        }
    }
    samples
}

/// Per stage, the most environments added in any 10 s that ends in it, when the stage
/// itself adds some (a burst's rise is not the quieter stage's after it). Environments
/// outlive the requests that made them, so only a new high needs new ones; provisioned
/// ones exist from the start.
fn worst_rise_per_stage(
    profile: &[(usize, f64, f64)],
    stages: usize,
    provisioned: f64,
) -> Vec<f64> {
    let mut worst = vec![0.0f64; stages];
    // (time, environments in existence then), a running maximum.
    let mut highs: Vec<(f64, f64)> = Vec::with_capacity(profile.len());
    let mut high = provisioned;
    let mut back = 0;
    // The stage being sampled, and the environments there were when it began.
    let mut current: Option<(usize, f64)> = None;
    for &(stage, t, c) in profile {
        if current.is_none_or(|(s, _)| s != stage) {
            current = Some((stage, high));
        }
        let at_start = current.map_or(high, |(_, h)| h);
        high = high.max(c);
        highs.push((t, high));
        while highs[back].0 <= t - SCALING_WINDOW_S {
            back += 1;
        }
        // Environments that existed 10 s before this sample (or at the start).
        let before = if back == 0 {
            provisioned
        } else {
            highs[back - 1].1
        };
        if high > at_start {
            worst[stage] = worst[stage].max(high - before);
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quotas::QuotaSource;
    use crate::scenario::StageKind;

    fn stage(name: &str, kind: StageKind) -> Stage {
        Stage {
            name: name.into(),
            kind,
        }
    }

    fn run(stages: &[Stage], quotas: &Quotas, front: Front, latency_ms: u64) -> Preflight {
        let plans: Vec<StagePlan> = stages.iter().map(StagePlan::for_stage).collect();
        check(
            stages,
            &plans,
            quotas,
            front,
            Duration::from_millis(latency_ms),
            "test",
        )
    }

    fn file(pairs: &[(LimitKey, f64)]) -> Quotas {
        let mut q = Quotas::default();
        for (k, v) in pairs {
            q.offer(
                *k,
                Some(*v),
                QuotaSource::File {
                    path: "q.toml".into(),
                },
            );
        }
        q
    }

    #[test]
    fn a_burst_of_3000_exceeds_1000_concurrent_executions_and_the_scaling_rate() {
        let stages = [stage("launch", StageKind::Burst { requests: 3000 })];
        let p = run(&stages, &Quotas::documented(), Front::Unknown, 100);
        assert!(p.exceeded);
        let over: Vec<_> = p.exceeded_checks().map(|c| (c.limit, c.planned)).collect();
        assert!(
            over.contains(&(LimitKey::LambdaConcurrentExecutions, 3000.0)),
            "{over:?}"
        );
        // Lambda never runs it past the 1,000: it makes 1,000 environments, not 3,000.
        assert!(
            !over.iter().any(|(k, _)| *k == LimitKey::LambdaScalingRate),
            "{over:?}"
        );
        assert_eq!(p.stages[0].new_environments_per_10s, 1000.0);
        let c = p.exceeded_checks().next().unwrap();
        assert_eq!(c.headroom, c.value - c.planned);
        // 3000 < the documented 5000 bucket: API Gateway's burst is not exceeded.
        assert!(!over.iter().any(|(k, _)| *k == LimitKey::ApigwBurst));
    }

    #[test]
    fn nothing_planned_is_a_plain_zero() {
        // A stage that needs no new environment said `-0.0` in `plan --json`.
        assert!(whole(0.0).is_sign_positive());
        assert!(whole(-3.0).is_sign_positive());
        assert_eq!(whole(0.0).to_string(), "0");
    }

    #[test]
    fn every_table_shows_one_planned_concurrency() {
        // 3,791 req/s × 100 ms = 379.1 in flight: 380 environments, in the forecast and in
        // the check alike (a float's last bit must not make 400 × 50 ms into 21).
        let q = file(&[
            (LimitKey::FunctionReservedConcurrency, 1000.0),
            (LimitKey::LambdaScalingRate, 1000.0),
        ]);
        let constant = |rate: f64| {
            [stage(
                "steady",
                StageKind::Constant {
                    rate,
                    duration: Duration::from_secs(30),
                },
            )]
        };
        let p = run(&constant(3791.0), &q, Front::FunctionUrl, 100);
        assert_eq!(p.stages[0].expected_concurrency, 380.0);
        let c = p
            .checks
            .iter()
            .find(|c| c.measure == "concurrency")
            .unwrap();
        assert_eq!(c.planned, 380.0);
        let p = run(&constant(400.0), &q, Front::FunctionUrl, 50);
        assert_eq!(p.stages[0].expected_concurrency, 20.0);
        // 6 req/s × 100 ms holds 1 environment; a burst of 380 then needs 379 more, in
        // the forecast and in the scaling check alike.
        let mut stages = constant(6.0).to_vec();
        stages.push(stage("launch", StageKind::Burst { requests: 380 }));
        let p = run(&stages, &q, Front::FunctionUrl, 100);
        assert_eq!(p.stages[1].expected_concurrency, 380.0);
        assert_eq!(p.stages[1].new_environments_per_10s, 379.0);
        let scaling = p
            .checks
            .iter()
            .find(|c| c.stage == "launch" && c.measure == "new environments")
            .unwrap();
        assert_eq!(scaling.planned, 379.0);
    }

    #[test]
    fn concurrency_is_rate_times_latency_against_the_reserved_ceiling() {
        let q = file(&[
            (LimitKey::LambdaConcurrentExecutions, 1000.0),
            (LimitKey::FunctionReservedConcurrency, 50.0),
        ]);
        let ok = run(
            &[stage(
                "steady",
                StageKind::Constant {
                    rate: 400.0,
                    duration: Duration::from_secs(30),
                },
            )],
            &q,
            Front::FunctionUrl,
            100,
        );
        assert_eq!(ok.stages[0].expected_concurrency, 40.0);
        assert!(!ok.exceeded, "{:?}", ok.checks);
        assert_eq!(ok.near_checks().count(), 1, "40 of 50 is 80%");
        let over = run(
            &[stage(
                "steady",
                StageKind::Constant {
                    rate: 600.0,
                    duration: Duration::from_secs(30),
                },
            )],
            &q,
            Front::FunctionUrl,
            100,
        );
        let c: Vec<_> = over.exceeded_checks().collect();
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].limit, c[0].headroom),
            (LimitKey::FunctionReservedConcurrency, -10.0)
        );
    }

    #[test]
    fn rates_meet_api_gateway_only_behind_it() {
        let q = file(&[
            (LimitKey::StageRate, 400.0),
            (LimitKey::ApigwRate, 10_000.0),
        ]);
        let ramp = [stage(
            "ramp",
            StageKind::Ramp {
                from: 100.0,
                to: 500.0,
                duration: Duration::from_secs(60),
            },
        )];
        let p = run(&ramp, &q, Front::ApiGateway, 50);
        let over: Vec<_> = p.exceeded_checks().map(|c| c.limit).collect();
        assert_eq!(over, vec![LimitKey::StageRate]);
        assert!(!run(&ramp, &q, Front::FunctionUrl, 50).exceeded);
    }

    #[test]
    fn environments_persist_so_only_new_highs_need_scaling() {
        let q = file(&[(LimitKey::LambdaScalingRate, 1000.0)]);
        let warm_then_burst = [
            stage(
                "warm",
                StageKind::Concurrency {
                    workers: 900,
                    duration: Duration::from_secs(20),
                },
            ),
            stage(
                "rest",
                StageKind::Pause {
                    duration: Duration::from_secs(30),
                },
            ),
            stage("burst", StageKind::Burst { requests: 1500 }),
        ];
        let p = run(&warm_then_burst, &q, Front::Unknown, 100);
        assert_eq!(p.stages[0].new_environments_per_10s, 900.0);
        assert_eq!(p.stages[2].new_environments_per_10s, 600.0, "900 are warm");
        assert!(!p.exceeded);
        // A fast ramp: 0 → 30,000 req/s in 10 s at 100 ms is 3,000 new environments.
        let fast = [stage(
            "fast",
            StageKind::Ramp {
                from: 1.0,
                to: 30_000.0,
                duration: Duration::from_secs(10),
            },
        )];
        let p = run(&fast, &q, Front::Unknown, 100);
        assert!(
            p.stages[0].new_environments_per_10s > 2900.0,
            "{:?}",
            p.stages[0]
        );
        assert!(p.exceeded);
    }

    #[test]
    fn a_burst_does_not_leak_into_the_next_stages_window() {
        let q = file(&[(LimitKey::LambdaScalingRate, 1000.0)]);
        let stages = [
            stage(
                "warm-up",
                StageKind::Constant {
                    rate: 50.0,
                    duration: Duration::from_secs(10),
                },
            ),
            stage("launch", StageKind::Burst { requests: 3000 }),
            stage(
                "after",
                StageKind::Constant {
                    rate: 50.0,
                    duration: Duration::from_secs(10),
                },
            ),
        ];
        let p = run(&stages, &q, Front::Unknown, 100);
        let envs: Vec<f64> = p
            .stages
            .iter()
            .map(|s| s.new_environments_per_10s)
            .collect();
        assert_eq!(envs[1], 3000.0 - 5.0, "{envs:?}");
        assert_eq!(
            envs[2], 0.0,
            "the burst's environments serve the stage after it"
        );
        let over: Vec<_> = p.exceeded_checks().map(|c| c.stage.as_str()).collect();
        assert_eq!(over, vec!["launch"]);
    }
}
