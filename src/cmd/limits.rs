//! The preflight `plan` and `run` share: the limits (from their source), the stage plans,
//! and every stage checked against the limits.

use crate::cli::LoadArgs;
use crate::emulator::RunningEmulator;
use crate::error::Result;
use crate::quotas::sources::{self, Limits};
use crate::scenario::Scenario;
use crate::schedule::StagePlan;
use crate::verdict::preflight::{self, Preflight};

/// The limits, the stage plans and the preflight of `scenario`, as `plan` and `run`
/// check them; `emulator` is the in-process one, when it was started.
pub fn preflight(
    scenario: &Scenario,
    args: &LoadArgs,
    emulator: Option<&RunningEmulator>,
) -> Result<(Limits, Vec<StagePlan>, Preflight)> {
    let in_process = emulator.and(scenario.emulator.as_ref());
    let (latency, basis) = preflight::expected_latency(args.expect_latency.as_deref(), in_process)?;
    let limits = sources::resolve(
        scenario,
        args.quotas.as_ref(),
        emulator.map(|e| format!("http://{}", e.addr)),
    )?;
    let plans: Vec<StagePlan> = scenario.stages.iter().map(StagePlan::for_stage).collect();
    let checked = preflight::check(
        &scenario.stages,
        &plans,
        &limits.quotas,
        limits.front,
        latency,
        &basis,
    );
    Ok((limits, plans, checked))
}
