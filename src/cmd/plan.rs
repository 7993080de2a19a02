//! `stampede plan`: the preflight alone. Reads the quotas, checks every stage against
//! them, and sends nothing to the target. Exit 1 when the plan exceeds a limit.

use super::{limits, load};
use crate::cli::PlanArgs;
use crate::error::{exit, Result};
use crate::report::check;
use crate::scenario::{Shard, ShardSource};
use crate::transport::open_files;
use crate::verdict::descriptors;

/// `run`'s `--max-in-flight` default.
const DEFAULT_MAX_IN_FLIGHT: u64 = 20_000;

pub fn plan(args: &PlanArgs) -> Result<i32> {
    let mut scenario = load::load_scenario(&args.load)?;
    // The emulator runs only to answer the quota calls, as it would for `run`.
    let emulator = load::start_emulator(&mut scenario, &args.load)?;
    let shard = load::shard(&args.load)?;
    let (limits, plans, mut p) = limits::preflight(&scenario, &args.load, emulator.as_ref())?;
    if let Some((s, source)) = shard {
        eprintln!(
            "shard {s} (from {}): the limits are checked for the whole test; the open files for this machine's share",
            source.describe()
        );
    }
    // `run` raises the soft open-files limit to the hard one: judge against that.
    let open_files = open_files::current();
    let (whole_in_flight, basis) = descriptors::planned_in_flight(
        &scenario.stages,
        &plans,
        scenario.target.timeout,
        DEFAULT_MAX_IN_FLIGHT,
    );
    // A shard's machine holds its share of what is in flight.
    let in_flight = shard_of_in_flight(whole_in_flight, shard);
    p.warnings.extend(descriptors::warning(
        in_flight,
        &basis,
        open_files.hard,
        open_files.hard,
    ));
    if args.json {
        let doc = serde_json::json!({ "quotas": limits.quotas, "preflight": p });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("the preflight serialises")
        );
    } else {
        print!("{}", check::preflight(&p, &limits.quotas));
    }
    Ok(if p.exceeded {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

/// What one machine holds in flight: a shard's share (every N-th request) of the whole.
pub fn shard_of_in_flight(whole: u64, shard: Option<(Shard, ShardSource)>) -> u64 {
    shard.map_or(whole, |(s, _)| whole.div_ceil(s.count))
}
