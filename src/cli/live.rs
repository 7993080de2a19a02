//! The flags that watch a run while it goes: `/metrics`, remote write, the live page
//! (docs/live.md).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::values::{duration, positive_duration};

#[derive(Args, Debug, Clone, Default)]
pub struct LiveArgs {
    /// Serve Prometheus metrics at http://ADDR/metrics while the run goes (docs/live.md),
    /// e.g. 127.0.0.1:9464; 0.0.0.0:9464 for a scraper on another machine.
    #[arg(long, env = "STAMPEDE_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// Keep /metrics (and the live page) up this long after the run, so the last scrape
    /// sees the final counts (cut short by Ctrl-C or SIGTERM; none after an interrupted run).
    #[arg(long, default_value = "0s", value_name = "DURATION", value_parser = duration)]
    pub metrics_linger: Duration,

    /// Push the metrics to this Prometheus remote-write URL every --push-interval and once
    /// at the end (Prometheus, Mimir, Amazon Managed Service for Prometheus).
    #[arg(long, env = "STAMPEDE_PROMETHEUS_REMOTE_WRITE", value_name = "URL")]
    pub prometheus_remote_write: Option<String>,

    /// Sign the remote-write pushes with SigV4 (service aps) for Amazon Managed Service for
    /// Prometheus: credentials from the AWS chain, the region from the workspace URL.
    /// Basic or bearer auth instead come from the environment (docs/live.md).
    #[arg(long, requires = "prometheus_remote_write")]
    pub remote_write_sigv4: bool,

    /// How often remote write pushes.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = positive_duration)]
    pub push_interval: Duration,

    /// Serve a live page at http://ADDR/ (e.g. 127.0.0.1:8089): the HTML report's charts,
    /// fed each second while the run goes, ending as the run's report. Anyone who can
    /// reach ADDR sees it: a warning when it is not loopback.
    #[arg(long, value_name = "ADDR")]
    pub live: Option<SocketAddr>,

    /// Give the live page an abort button: it stops the run as an abort rule would (exit 3,
    /// results written, aborted.rule "live_control"). Off unless given.
    #[arg(long, requires = "live")]
    pub live_control: bool,
}

impl LiveArgs {
    /// Whether anything watches the run.
    pub fn any(&self) -> bool {
        self.metrics_listen.is_some()
            || self.prometheus_remote_write.is_some()
            || self.live.is_some()
    }
}
