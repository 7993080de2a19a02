//! The preflight `plan` and `run` share: the limits (from their source), the stage plans,
//! and every stage checked against the limits.

use crate::cli::LoadArgs;
use crate::error::Result;
use crate::quotas::sources::{self, Limits};
use crate::report::check as check_report;
use crate::scenario::{Scenario, Shard, ShardSource, Stage, StageKind};
use crate::schedule::StagePlan;
use crate::transport::open_files::{self, OpenFiles};
use crate::verdict::cost;
use crate::verdict::descriptors;
use crate::verdict::preflight::{self, Preflight};
use stampede_emulator::EmulatorConfig;
use stampede_emulator::RunningEmulator;
use stampede_results::quotas::LimitKey;
use std::time::Duration;

/// The limits, the stage plans and the preflight of `scenario`, as `plan` and `run`
/// check them; `emulator` is the in-process one, when it was started.
pub fn preflight(
    scenario: &Scenario,
    args: &LoadArgs,
    emulator: Option<&RunningEmulator>,
) -> Result<(Limits, Vec<StagePlan>, Preflight)> {
    let in_process = emulator.and(scenario.emulator.as_ref());
    let (latency, basis) = preflight::expected_latency(args.expect_latency, in_process);
    let limits = sources::resolve(
        crate::aws::Aws::shared()?,
        scenario,
        args.quotas.as_ref(),
        emulator.map(|e| format!("http://{}", e.addr)),
    )?;
    let plans: Vec<StagePlan> = scenario.stages.iter().map(StagePlan::for_stage).collect();
    let per_flow = scenario
        .requests
        .as_ref()
        .and_then(|m| m.flows.as_ref())
        .map(|f| f.steps_per_flow());
    // The limits count requests; with flows an open stage's rate is of flows.
    let (stages, checked_plans) = match per_flow {
        Some(steps) => in_requests(&scenario.stages, steps),
        None => (scenario.stages.clone(), plans.clone()),
    };
    let mut checked = preflight::check(
        &stages,
        &checked_plans,
        &limits.quotas,
        limits.front,
        latency,
        &basis,
    );
    if let Some(mix) = &scenario.requests {
        if let Some(flows) = &mix.flows {
            for &unused in &flows.unused {
                checked.warnings.push(format!(
                    "request `{}` is a step of no [[flows]] entry: it is never sent",
                    mix.entries[unused].name
                ));
            }
        }
    }
    let (routed, unmatched) = super::map_to_routes(scenario, &limits.quotas);
    if let Some(mix) = &scenario.requests {
        let shares = mix.shares();
        crate::verdict::routes::preflight::check_routes(
            &mut checked,
            &limits.quotas,
            &routed,
            &shares,
        );
    }
    for u in unmatched {
        checked.warnings.push(format!(
            "request `{}` ({} {}) selects no route of the API, so no route's limits are checked for it: the closest are {}",
            u.request,
            u.method,
            u.path,
            u.closest
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(l) = &scenario.target.lambda {
        let basis = cost_basis(scenario, &limits, in_process, (latency, basis));
        checked.cost = Some(cost::estimate(&plans, latency, basis));
        let function_timeout = limits
            .quotas
            .function_config
            .as_ref()
            .and_then(|c| c.timeout_s);
        checked.warnings.extend(crate::verdict::lambda::warnings(
            scenario.target.body.len(),
            l.invocation,
            scenario.target.timeout,
            function_timeout,
        ));
    }
    Ok((limits, plans, checked))
}

/// The stages as the requests they send when each unit is a flow of `steps` requests on
/// average: open stages' rates multiplied (a burst releases one first step per flow at
/// once, and a closed worker sends one request at a time, so both stay as they are).
fn in_requests(stages: &[Stage], steps: f64) -> (Vec<Stage>, Vec<StagePlan>) {
    let stages: Vec<Stage> = stages
        .iter()
        .map(|s| {
            let kind = match s.kind.clone() {
                StageKind::Constant { rate, duration } => StageKind::Constant {
                    rate: rate * steps,
                    duration,
                },
                StageKind::Ramp { from, to, duration } => StageKind::Ramp {
                    from: from * steps,
                    to: to * steps,
                    duration,
                },
                StageKind::Steps {
                    from,
                    to,
                    step,
                    hold,
                } => StageKind::Steps {
                    from: from * steps,
                    to: to * steps,
                    step: step * steps,
                    hold,
                },
                other => other,
            };
            Stage {
                name: s.name.clone(),
                kind,
            }
        })
        .collect();
    let plans = stages.iter().map(StagePlan::for_stage).collect();
    (stages, plans)
}

/// What a Lambda target's cost estimate rests on: `[aws]` first, then what was read from
/// the function (or the emulator's settings), then Lambda's defaults.
fn cost_basis(
    scenario: &Scenario,
    limits: &Limits,
    emulator: Option<&EmulatorConfig>,
    latency: (Duration, String),
) -> cost::Basis {
    let aws = scenario.aws.as_ref();
    let expected = match (aws.and_then(|a| a.expected_duration), emulator) {
        (Some(d), _) => (d, "[aws] expected_duration".into()),
        (None, Some(e)) => (e.duration.mean(), "the emulator's handler time".into()),
        (None, None) => (latency.0, format!("the expected latency: {}", latency.1)),
    };
    let memory = match (
        aws.and_then(|a| a.memory_mb),
        &limits.quotas.function_config,
    ) {
        (Some(m), _) => (m, "[aws] memory".into()),
        (None, Some(c)) => (c.memory_mb, c.source.describe()),
        (None, None) => (128, "assumed: Lambda's default, not read".into()),
    };
    let provisioned = match limits
        .quotas
        .quota(LimitKey::FunctionProvisionedConcurrency)
    {
        Some(q) => (q.value.unwrap_or(0.0) as u64, q.source.describe()),
        None => (0, "not read: taken as none".into()),
    };
    cost::Basis {
        expected,
        memory,
        architecture: crate::results::lambda::architecture_of(aws, &limits.quotas),
        prices: aws.map(|a| a.prices).unwrap_or_default(),
        provisioned,
        init: emulator.map(|e| e.cold_start.mean()),
    }
}

/// What one machine holds in flight: a shard's share (every N-th request) of the whole.
pub fn shard_of_in_flight(whole: u64, shard: Option<(Shard, ShardSource)>) -> u64 {
    shard.map_or(whole, |(s, _)| whole.div_ceil(s.count))
}

/// `run`'s preflight: [`preflight`], with the open-files limit raised to the hard one and
/// a warning when what this machine holds in flight would not fit it. Also the
/// open-files limit now.
pub fn for_run(
    scenario: &Scenario,
    args: &LoadArgs,
    emulator: Option<&RunningEmulator>,
    max_in_flight: u64,
    shard: Option<(Shard, ShardSource)>,
) -> Result<(Limits, Vec<StagePlan>, Preflight, OpenFiles)> {
    let (limits, plans, mut checked) = preflight(scenario, args, emulator)?;
    let open_files = open_files::raise_to_hard();
    if let Some(why) = &open_files.raise_failed {
        checked.warnings.push(format!(
            "could not raise the open-files limit from {} to {}: {why}",
            open_files.soft, open_files.hard
        ));
    }
    let latency = Duration::from_secs_f64(checked.expect_latency_ms / 1000.0);
    // A flow holds its connection through its steps and the think time between them.
    let flows = scenario.requests.as_ref().and_then(|m| m.flows.as_ref());
    let (held, why) = match flows {
        Some(f) => (
            latency.mul_f64(f.steps_per_flow()) + f.think_per_flow(),
            format!(
                "a flow: {:.1} steps at the expected latency ({}) and its think time",
                f.steps_per_flow(),
                checked.latency_basis
            ),
        ),
        None => (latency, checked.latency_basis.clone()),
    };
    let whole = descriptors::planned_in_flight(&scenario.stages, &plans, held, &why, max_in_flight);
    // A shard's machine holds its share of what is in flight.
    let in_flight = descriptors::InFlight {
        requests: shard_of_in_flight(whole.requests, shard),
        ..whole
    };
    checked.warnings.extend(descriptors::warning(
        &in_flight,
        open_files.soft,
        open_files.hard,
        scenario.target.timeout,
    ));
    Ok((limits, plans, checked, open_files))
}

/// The preflight on stdout, or only its warnings on stderr when `quiet`.
pub fn print(checked: &Preflight, limits: &Limits, quiet: bool) {
    if quiet {
        eprint!("{}", check_report::preflight_warnings(checked));
    } else {
        super::print_out(&check_report::preflight(checked, &limits.quotas));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_flows_open_rates_are_checked_in_requests_and_bursts_as_they_are() {
        let s = |kind| Stage {
            name: "s".into(),
            kind,
        };
        let second = Duration::from_secs(1);
        let stages = [
            s(StageKind::Constant {
                rate: 100.0,
                duration: second,
            }),
            s(StageKind::Burst { requests: 50 }),
        ];
        let (stages, plans) = in_requests(&stages, 2.5);
        assert_eq!(
            stages[0].kind,
            StageKind::Constant {
                rate: 250.0,
                duration: second
            }
        );
        assert_eq!(plans[0].planned_requests(), Some(250));
        assert_eq!(plans[1].planned_requests(), Some(50));
    }
}
