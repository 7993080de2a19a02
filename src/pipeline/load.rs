//! What `run` and `plan` share: the scenario from a file or flags, and the in-process
//! emulator a scenario's `[emulator]` asks for.

use crate::cli::LoadArgs;
use crate::error::{Error, Result};
use crate::scenario::{self, AdHoc, LoadShape, Scenario, Shard, ShardSource};
use crate::transport::auth::Auth;
use stampede_emulator::{self as emulator, RunningEmulator};

pub fn load_scenario(args: &LoadArgs) -> Result<Scenario> {
    let shape = match (args.rate, args.concurrency, args.burst) {
        (Some(r), _, _) => Some(LoadShape::Rate(r)),
        (_, Some(c), _) => Some(LoadShape::Concurrency(c)),
        (_, _, Some(b)) => Some(LoadShape::Burst(b)),
        _ => None,
    };
    let flags = adhoc(args, shape);
    match &args.scenario {
        None => scenario::from_flags(&flags),
        Some(path) => {
            if shape.is_some() || args.duration.is_some() {
                return Err(Error::input(format!(
                    "{}: a scenario file sets the load itself\n  expected: either a scenario file or --rate/--concurrency/--burst with --duration",
                    path.display()
                )));
            }
            let mut s = scenario::load(path, flags.url()?.as_ref())?;
            flags.amend(&mut s)?;
            Ok(s)
        }
    }
}

/// The ad-hoc flags as given, with `shape` as the load.
fn adhoc(args: &LoadArgs, shape: Option<LoadShape>) -> AdHoc {
    AdHoc {
        url: args.url.clone(),
        lambda: args.lambda.clone(),
        invocation: args.invocation,
        shape,
        duration: args.duration,
        method: args.method.clone(),
        headers: args.headers.clone(),
        body: args.body.clone(),
        requests: args.requests.clone(),
        timeout: args.timeout,
        connect_timeout: args.connect_timeout,
        no_keepalive: args.no_keepalive,
        resolve: args.resolve.clone(),
        dns_refresh: args.dns_refresh.clone(),
        http2: args.http2,
        thresholds: args.thresholds.clone(),
        abort: args.abort.clone(),
    }
}

/// The target alone (`probe` sets the load): a scenario file's target, `[emulator]`,
/// `[aws]`, `[retry]`, `[request]` and `[abort]`, or the ad-hoc target flags. Load flags
/// are refused.
pub fn load_target(args: &LoadArgs) -> Result<Scenario> {
    if args.rate.is_some()
        || args.concurrency.is_some()
        || args.burst.is_some()
        || args.duration.is_some()
    {
        return Err(Error::input(
            "probe sets the load itself\n  expected: no --rate, --concurrency, --burst or --duration (use --by, --from, --max, --step)",
        ));
    }
    // A placeholder stage: probe puts its own in.
    let flags = adhoc(args, Some(LoadShape::Concurrency(1)));
    match &args.scenario {
        None => scenario::from_flags(&flags),
        Some(path) => {
            let mut s = scenario::load(path, flags.url()?.as_ref())?;
            flags.amend(&mut s)?;
            Ok(s)
        }
    }
}

/// `[emulator]` without `--url`: serves it in-process and aims the scenario at it.
pub fn start_emulator(scenario: &mut Scenario, args: &LoadArgs) -> Result<Option<RunningEmulator>> {
    let (Some(config), None) = (&scenario.emulator, &args.url) else {
        return Ok(None);
    };
    let running = emulator::start(
        config.clone(),
        "127.0.0.1:0".parse().expect("a loopback address"),
    )?;
    scenario.target.url = aim_at(&scenario.target.url, running.addr);
    scenario.target.emulated = true;
    Ok(Some(running))
}

/// `url`'s path and query on the emulator's address.
fn aim_at(url: &http::Uri, addr: std::net::SocketAddr) -> http::Uri {
    let path = url.path_and_query().map_or("/", |p| p.as_str());
    format!("http://{addr}{path}")
        .parse()
        .expect("an address and a valid path make a valid URI")
}

/// How each request is authenticated: placeholder SigV4 for a lambda target on the
/// in-process emulator (it checks no signature, so it never sees the user's keys), else what
/// `[target.auth]` names, resolved on the command's AWS context.
pub fn auth(scenario: &Scenario, emulator: Option<&RunningEmulator>) -> Result<Auth> {
    match (emulator, &scenario.target.lambda) {
        (Some(_), Some(l)) => Ok(Auth::placeholder("lambda", &l.region)),
        _ => crate::aws::target_auth(crate::aws::Aws::shared()?, &scenario.target),
    }
}

/// The shard this process runs (`--shard`, else the engines' variables); `None`: the whole.
pub fn shard(args: &LoadArgs) -> Result<Option<(Shard, ShardSource)>> {
    scenario::shard::resolve(args.shard, |name| std::env::var(name).ok()).map_err(|why| {
        Error::input(format!(
            "{why}\n  expected: {}",
            scenario::shard::SHARD_FORM
        ))
    })
}

/// `--threads` at most this many times the cores: each engine thread is a lane with its
/// own runtime and buffers (about 0.7 MB), and lanes past the cores only take turns on
/// them. 100,000 lanes would need 70 GB.
pub const THREADS_PER_CORE_MAX: usize = 4;

/// The engine's threads for `run` and `probe`: `--threads`, else one per core; 0 or more
/// than [`THREADS_PER_CORE_MAX`] per core is bad input (exit 2).
pub fn engine_threads(given: Option<usize>) -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = cores * THREADS_PER_CORE_MAX;
    match given {
        None => Ok(cores),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(Error::input(format!(
            "--threads: {n} threads{}\n  expected: a whole number from 1 to {max} ({THREADS_PER_CORE_MAX} per core on this machine's {cores}; the default is one per core)",
            if n == 0 { String::new() } else { format!(", more than the {max} this machine may run") }
        ))),
    }
}

/// How `run` and `probe` send, from their shared flags, checked.
pub struct Traffic {
    pub tls: rustls::ClientConfig,
    pub max_in_flight: u64,
    pub grace: std::time::Duration,
    pub insecure: bool,
}

/// `--max-in-flight`, `--grace`, `--ca-cert` and `--insecure` (said on stderr), checked:
/// bad input is exit 2, before any traffic.
pub fn traffic(a: &crate::cli::TrafficArgs) -> Result<Traffic> {
    let grace = a.grace;
    if a.max_in_flight == 0 {
        return Err(Error::input(
            "--max-in-flight: 0\n  expected: a whole number ≥ 1",
        ));
    }
    let mut tls = crate::transport::tls_config_with(a.ca_cert.as_deref())?;
    if a.insecure {
        tls = crate::transport::insecure(tls);
        eprintln!("warning: --insecure: TLS certificates are not checked");
    }
    Ok(Traffic {
        tls,
        max_in_flight: a.max_in_flight,
        grace,
        insecure: a.insecure,
    })
}
