//! `stampede plan`: the preflight alone. Reads the quotas, checks every stage against
//! them, and sends nothing to the target. Exit 1 when the plan exceeds a limit.

use std::time::Duration;

use crate::cli::PlanArgs;
use crate::error::{exit, Result};
use crate::pipeline::load;
use crate::pipeline::preflight::{self as limits, shard_of_in_flight};
use crate::report::check;
use crate::transport::open_files;
use crate::verdict::{descriptors, split};

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
    let whole = descriptors::planned_in_flight(
        &scenario.stages,
        &plans,
        Duration::from_secs_f64(p.expect_latency_ms / 1000.0),
        &p.latency_basis,
        DEFAULT_MAX_IN_FLIGHT,
    );
    let whole_in_flight = whole.requests;
    // A shard's machine holds its share of what is in flight.
    let in_flight = descriptors::InFlight {
        requests: shard_of_in_flight(whole.requests, shard),
        ..whole
    };
    p.warnings.extend(descriptors::warning(
        &in_flight,
        open_files.hard,
        open_files.hard,
        scenario.target.timeout,
    ));
    let shards = match (args.shards, shard) {
        (Some(0), _) => {
            return Err(crate::error::Error::input(
                "--shards: 0\n  expected: a whole number of shards ≥ 1",
            ))
        }
        (Some(n), _) => Some(n),
        (None, Some((s, _))) => Some(s.count),
        (None, None) => None,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let split = shards.map(|n| {
        let (rate, burst) = split::peaks(&plans);
        split::split(rate, burst, whole_in_flight, n, cores, open_files.hard)
    });
    if args.json {
        let doc = serde_json::json!({ "quotas": limits.quotas, "preflight": p, "split": split });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("the preflight serialises")
        );
    } else {
        print!("{}", check::preflight(&p, &limits.quotas));
        print!("{}", check::mix(&scenario, &plans));
        if let Some(s) = &split {
            print!("{}", split_text(s, cores, open_files.hard));
        }
    }
    let split_fails = split.as_ref().is_some_and(|s| !s.problems.is_empty());
    Ok(if p.exceeded || split_fails {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

/// The split, for people.
fn split_text(s: &split::SplitPlan, cores: u64, hard_files: u64) -> String {
    let mut out = format!(
        "\nsplit into {} shard{}, each at most: {:.0} req/s on schedule,{} {} in flight ({} open files, {} core{} at half a core's measured rate)\n",
        s.shards,
        if s.shards == 1 { "" } else { "s" },
        s.peak_rate,
        if s.burst > 0 {
            format!(" a burst of {},", s.burst)
        } else {
            String::new()
        },
        s.in_flight,
        s.files_needed,
        s.cores_needed,
        if s.cores_needed == 1 { "" } else { "s" }
    );
    if s.problems.is_empty() {
        out.push_str(&format!(
            "  fits a machine like this one ({cores} cores, open files up to {hard_files})\n"
        ));
    }
    for p in &s.problems {
        out.push_str(&format!("  does not fit: {p}\n"));
    }
    if let Some(n) = s.at_least {
        out.push_str(&format!(
            "  split into at least {n} shards on machines like this one\n"
        ));
    }
    out
}
