//! Watching a run while it goes: Prometheus metrics at `/metrics` (`--metrics-listen`),
//! remote write (`--prometheus-remote-write`) and the live page (`--live`). All of it reads
//! what the engine already keeps — the lanes' live counters (`record::live`) and the
//! coordinator's state — on threads of its own: nothing here makes a lane wait.

pub mod emulator_metrics;
pub mod exposition;
pub mod metrics;
pub mod page;
pub mod remote_write;
pub mod server;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::cli::LiveArgs;
use crate::error::Result;
use crate::record::live::LiveRun;
use crate::scenario::Shard;
use crate::schedule::StagePlan;
use metrics::{About, Family};
use remote_write::Pusher;
use server::{Routes, Server};

/// Families read at each scrape from beside the run (the in-process emulator's series).
pub type Beside = Box<dyn Fn() -> Vec<Family> + Send + Sync>;

/// What the servers and the pusher share: the run's names and its live record.
pub struct Watched {
    pub about: About,
    pub run: Arc<LiveRun>,
    /// The schedule, for the rate it planned in each second, and this run's part of it.
    pub plans: Vec<StagePlan>,
    pub shard: Shard,
    /// Whether there is a run to show (`emulate` serves only what is beside).
    pub has_run: bool,
    /// Set once, before traffic ([`Watch::include`]).
    pub beside: OnceLock<Beside>,
    /// The live page's part: its limits, its abort switch, the report at the end.
    pub page: page::Page,
}

impl Watched {
    /// Every family as it is now.
    pub fn families(&self) -> Vec<Family> {
        let mut families = if self.has_run {
            let cells = self.run.counters.read();
            let flows = self.run.counters.read_flows();
            let state = self.run.state();
            let planned = state.points.last().and_then(|p| {
                crate::results::planned_in_second(
                    &self.plans,
                    &state.stage_starts_s,
                    self.shard,
                    p.t_s,
                )
            });
            metrics::gather(&self.about, (&cells, &flows), &state, planned)
        } else {
            Vec::new()
        };
        if let Some(beside) = self.beside.get() {
            families.extend(beside());
        }
        families
    }
}

/// `/metrics` at `addr` serving `beside`'s families alone, until dropped: `stampede
/// emulate --metrics-listen`.
pub fn serve_beside(flag: &str, addr: SocketAddr, beside: Beside) -> Result<Server> {
    let watched = Watched {
        about: About::default(),
        run: Arc::new(LiveRun::new(0, 0, (0, 0))),
        plans: Vec::new(),
        shard: Shard::WHOLE,
        has_run: false,
        beside: OnceLock::from(beside),
        page: page::Page::new(false),
    };
    let routes = Routes {
        metrics: true,
        page: false,
    };
    Server::start(flag, addr, routes, Arc::new(watched))
}

/// The live side of one run, started before its traffic and finished after its results.
pub struct Watch {
    watched: Arc<Watched>,
    servers: Vec<Server>,
    pusher: Option<Pusher>,
    linger: Duration,
    /// `--quiet`: the linger is not announced.
    quiet: bool,
}

impl Watch {
    /// Starts what `args` ask for (`None`: nothing); addresses are bound now, so a bad one
    /// is exit 2 before any traffic. `lanes`, `mix`: the engine's lanes, and the mix's
    /// requests and flows recorded apart; `local`, what remote write needs besides the flags.
    pub fn start(
        args: &LiveArgs,
        about: About,
        (plans, shard): (&[StagePlan], Shard),
        (lanes, mix): (usize, (usize, usize)),
        local: remote_write::Local,
    ) -> Result<Option<Watch>> {
        if !args.any() {
            return Ok(None);
        }
        let watched = Arc::new(Watched {
            about,
            run: Arc::new(LiveRun::new(lanes, plans.len(), mix)),
            plans: plans.to_vec(),
            shard,
            has_run: true,
            beside: OnceLock::new(),
            page: page::Page::new(args.live_control),
        });
        let mut servers = Vec::new();
        if let Some(addr) = args.metrics_listen {
            let routes = Routes {
                metrics: true,
                page: args.live == Some(addr),
            };
            let server = Server::start("--metrics-listen", addr, routes, Arc::clone(&watched))?;
            tracing::info!("metrics at http://{}/metrics", server.addr);
            servers.push(server);
        }
        if let Some(addr) = args.live.filter(|a| Some(*a) != args.metrics_listen) {
            let routes = Routes {
                metrics: false,
                page: true,
            };
            servers.push(Server::start("--live", addr, routes, Arc::clone(&watched))?);
        }
        if let Some(addr) = args.live.filter(|a| !a.ip().is_loopback()) {
            eprintln!("{}", page_warning(addr, args.live_control));
        }
        let quiet = local.quiet;
        let pusher = Pusher::start(args, local, Arc::clone(&watched))?;
        Ok(Some(Watch {
            watched,
            servers,
            pusher,
            linger: args.metrics_linger,
            quiet,
        }))
    }

    /// Serves `beside`'s families with the run's from now on (once; later calls are ignored).
    pub fn include(&self, beside: Beside) {
        let _ = self.watched.beside.set(beside);
    }

    /// The live record the engine fills.
    pub fn live_run(&self) -> Arc<LiveRun> {
        Arc::clone(&self.watched.run)
    }

    /// Where each server listens (its port chosen when the flag said 0).
    pub fn addrs(&self) -> Vec<std::net::SocketAddr> {
        self.servers.iter().map(|s| s.addr).collect()
    }

    /// The live page's address, when it is served.
    pub fn page_url(&self) -> Option<String> {
        let s = self.servers.iter().find(|s| s.routes.page)?;
        Some(format!("http://{}/", s.addr))
    }

    /// The limits the live page draws, from the quotas the preflight read.
    pub fn show_limits(&self, quotas: &crate::quotas::Quotas) {
        self.watched.page.show_limits(quotas);
    }

    /// The run is over and its results written: the live page becomes their HTML report
    /// (open pages load it), remote write makes its last push, then everything keeps
    /// serving for the linger, then stops.
    pub fn finish(mut self, results: &crate::results::Results) {
        {
            let mut state = self.watched.run.state();
            state.stopping = true;
            state.ended = true;
            state.in_flight = 0;
        }
        if self.page_url().is_some() {
            self.watched.page.end(crate::report::html::render(results));
        }
        if let Some(pusher) = self.pusher.take() {
            pusher.finish();
        }
        // A run stopped by a signal does not linger: whoever sent it wants the process gone
        // (Kubernetes kills a pod that outlives its grace period).
        if !self.servers.is_empty() && !results.interrupted && !self.linger.is_zero() {
            if !self.quiet {
                let addrs: Vec<String> = self
                    .addrs()
                    .iter()
                    .map(|a| format!("http://{a}/"))
                    .collect();
                eprintln!(
                    "serving {} for {} more (--metrics-linger; Ctrl-C ends it)",
                    addrs.join(" and "),
                    humantime::format_duration(self.linger)
                );
            }
            linger(self.linger);
        }
        drop(self.servers);
    }
}

/// What `--live` on a non-loopback address says.
fn page_warning(addr: std::net::SocketAddr, control: bool) -> String {
    let mut text = format!(
        "warning: --live {addr}: not a loopback address: anyone who can reach {addr} sees the run"
    );
    if control {
        text.push_str(" and, with --live-control, can stop it");
    }
    text
}

/// Waits `for_` — less when a stop signal (Ctrl-C, SIGTERM, SIGHUP) comes meanwhile.
fn linger(for_: Duration) {
    let signals = crate::signals::Signals::listen().ok();
    let before = signals.as_ref().map_or(0, |s| s.heard());
    let until = std::time::Instant::now() + for_;
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || signals.as_ref().is_some_and(|s| s.heard() > before) {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}
