//! Watching a run while it goes: Prometheus metrics at `/metrics` (`--metrics-listen`),
//! remote write (`--prometheus-remote-write`) and the live page (`--live`). All of it reads
//! what the engine already keeps — the lanes' live counters (`record::live`) and the
//! coordinator's state — on threads of its own: nothing here makes a lane wait.

pub mod exposition;
pub mod metrics;
pub mod remote_write;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use crate::cli::LiveArgs;
use crate::error::Result;
use crate::record::live::LiveRun;
use crate::scenario::Shard;
use crate::schedule::StagePlan;
use metrics::{About, Family};
use remote_write::Pusher;
use server::{Routes, Server};

/// What the servers and the pusher share: the run's names and its live record.
pub struct Watched {
    pub about: About,
    pub run: Arc<LiveRun>,
    /// The schedule, for the rate it planned in each second, and this run's part of it.
    pub plans: Vec<StagePlan>,
    pub shard: Shard,
}

impl Watched {
    /// Every family as it is now.
    pub fn families(&self) -> Vec<Family> {
        let cells = self.run.counters.read();
        let state = self.run.state();
        let planned = state.points.last().and_then(|p| {
            crate::results::planned_in_second(&self.plans, &state.stage_starts_s, self.shard, p.t_s)
        });
        metrics::gather(&self.about, &cells, &state, planned)
    }
}

/// The live side of one run, started before its traffic and finished after its results.
pub struct Watch {
    watched: Arc<Watched>,
    servers: Vec<Server>,
    pusher: Option<Pusher>,
    linger: Duration,
}

impl Watch {
    /// Starts what `args` ask for (`None`: nothing); addresses are bound now, so a bad one
    /// is exit 2 before any traffic. `lanes`, `entries`: the engine's lanes and the mix's
    /// requests recorded apart; `local`, what remote write needs besides the flags.
    pub fn start(
        args: &LiveArgs,
        about: About,
        (plans, shard): (&[StagePlan], Shard),
        (lanes, entries): (usize, usize),
        local: remote_write::Local,
    ) -> Result<Option<Watch>> {
        if !args.any() {
            return Ok(None);
        }
        let watched = Arc::new(Watched {
            about,
            run: Arc::new(LiveRun::new(lanes, plans.len(), entries)),
            plans: plans.to_vec(),
            shard,
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
        let pusher = Pusher::start(args, local, Arc::clone(&watched))?;
        Ok(Some(Watch {
            watched,
            servers,
            pusher,
            linger: args.metrics_linger,
        }))
    }

    /// The live record the engine fills.
    pub fn live_run(&self) -> Arc<LiveRun> {
        Arc::clone(&self.watched.run)
    }

    /// Where each server listens (its port chosen when the flag said 0).
    pub fn addrs(&self) -> Vec<std::net::SocketAddr> {
        self.servers.iter().map(|s| s.addr).collect()
    }

    /// The run is over and its results written: the last push, then keeps serving for
    /// the linger, then stops.
    pub fn finish(self) {
        {
            let mut state = self.watched.run.state();
            state.stopping = true;
            state.ended = true;
            state.in_flight = 0;
        }
        if let Some(pusher) = self.pusher {
            pusher.finish();
        }
        if !self.servers.is_empty() && !self.linger.is_zero() {
            std::thread::sleep(self.linger);
        }
        drop(self.servers);
    }
}
