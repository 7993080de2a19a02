//! A split test's part in `run`: which shard this process is, the instant every shard
//! starts at, the stop they share through the store, this machine's clock against the
//! target's, and what the results say of the shard.

use std::time::SystemTime;

use crate::cli::LoadArgs;
use crate::engine::abort::AbortTrip;
use crate::engine::{self, RunRecord, SharedStop};
use crate::error::Result;
use crate::results::ShardInfo;
use crate::scenario::{Scenario, Shard, ShardSource};
use crate::store::{watch, Destination};
use crate::transport::auth::Auth;

/// The shard this process runs (`None`: the whole test) and `--start-at`.
#[derive(Clone, Copy)]
pub struct Split {
    pub shard: Option<(Shard, ShardSource)>,
    pub start_at: Option<SystemTime>,
}

impl Split {
    /// `--shard` (else the engines' variables) and `--start-at`, checked (exit 2).
    pub fn from_flags(load: &LoadArgs, start_at: Option<SystemTime>) -> Result<Split> {
        let shard = super::load::shard(load)?;
        Ok(Split { shard, start_at })
    }

    /// The engine's part of the whole: every request, or this shard's.
    pub fn part(&self) -> Shard {
        self.shard.map_or(Shard::WHOLE, |s| s.0)
    }

    fn start_text(&self) -> Option<String> {
        self.start_at
            .map(|at| humantime::format_rfc3339_millis(at).to_string())
    }

    /// Shards of one test (one store, one start instant) stop together.
    pub fn shared_stop(&self, out: Option<&Destination>) -> Option<SharedStop> {
        match (
            out.and_then(Destination::store),
            self.shard,
            self.start_text(),
        ) {
            (Some(store), Some((s, _)), Some(at)) => {
                Some(watch::shared_stop(store.clone(), at, s.index))
            }
            _ => None,
        }
    }

    /// Which shard this is and when it starts, on stderr.
    pub fn announce(&self) {
        if let Some((s, source)) = self.shard {
            eprintln!(
                "shard {s} (from {}): request, worker and burst member number k of every stage where k mod {} = {}",
                source.describe(),
                s.count,
                s.index
            );
        }
        if let Some(at) = self.start_at {
            eprintln!("{}", start_line(at));
        }
    }

    /// Shards start on one wall-clock instant: how far is this machine's clock from the
    /// target's? Asked in the wait before the start, when there is time.
    pub fn clock(
        &self,
        scenario: &Scenario,
        tls: &rustls::ClientConfig,
        auth: &Auth,
    ) -> Option<engine::clock::ClockOffset> {
        match (self.shard, self.start_at) {
            (Some(_), Some(at)) => clock_offset(scenario, tls, auth, at),
            _ => None,
        }
    }

    /// The results' `shard`, and a warning when the shard began late.
    pub fn info(
        &self,
        record: &RunRecord,
        clock: Option<engine::clock::ClockOffset>,
    ) -> Option<ShardInfo> {
        if !record.late.is_zero() && self.start_at.is_some() {
            eprintln!(
                "warning: began {:.3} s after --start-at: {} requests due before then were skipped, not sent late",
                record.late.as_secs_f64(),
                record.skipped
            );
        }
        self.shard.map(|(s, source)| ShardInfo {
            index: s.index,
            count: s.count,
            source: source.describe().to_string(),
            start_at: self.start_text(),
            late_s: record.late.as_secs_f64(),
            skipped_requests: record.skipped,
            clock_offset_ms: clock.map(|c| c.offset_ms),
            clock_within_ms: clock.map(|c| c.within_ms),
        })
    }

    /// This shard's own abort: make sure the others see it even when the run ended before
    /// the watcher wrote the marker.
    pub fn publish_abort(&self, out: Option<&Destination>, aborted: Option<&AbortTrip>) {
        if let (Some(trip), Some(store), Some((s, _)), Some(at)) = (
            aborted.filter(|t| t.by_shard.is_none()),
            out.and_then(Destination::store),
            self.shard,
            self.start_text(),
        ) {
            watch::publish_marker(store, &at, s.index, trip.clone());
        }
    }
}

/// Above this, a clock off from the target's is worth a warning: shards start that far apart.
const CLOCK_WARN_MS: f64 = 100.0;

/// The target's clock against ours (engine::clock), in at most 8 s and ending 1 s before
/// `start_at`; said on stderr, and warned about past [`CLOCK_WARN_MS`].
fn clock_offset(
    scenario: &Scenario,
    tls: &rustls::ClientConfig,
    auth: &Auth,
    start_at: std::time::SystemTime,
) -> Option<engine::clock::ClockOffset> {
    use std::time::{Duration, Instant, SystemTime};
    let ahead = start_at.duration_since(SystemTime::now()).ok()?;
    let budget = ahead
        .checked_sub(Duration::from_secs(1))?
        .min(Duration::from_secs(8));
    if budget < Duration::from_millis(500) {
        return None;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    // Connections drive themselves on local tasks, as in the lanes.
    let local = tokio::task::LocalSet::new();
    let found = local.block_on(&runtime, async {
        let transport = crate::transport::Transport::new(
            &scenario.target,
            &scenario.mix(),
            tls.clone(),
            auth.clone(),
        );
        engine::clock::probe(&transport, Instant::now() + budget).await
    });
    match found {
        Some(c) if c.offset_ms.abs() - c.within_ms > CLOCK_WARN_MS => eprintln!(
            "warning: this machine's clock is {:.0} ms {} the target's (± {:.0} ms): shards start that far apart; run NTP (chrony, the Amazon Time Sync Service)",
            c.offset_ms.abs(),
            if c.offset_ms > 0.0 { "behind" } else { "ahead of" },
            c.within_ms
        ),
        Some(c) => eprintln!(
            "clock: the target's is {:+.0} ms from this machine's (± {:.0} ms, {} requests)",
            c.offset_ms, c.within_ms, c.probes
        ),
        None => eprintln!("clock: the target's Date headers could not be read; offset unknown"),
    }
    found
}

/// "starting at T (in 12.3 s)", or how late it already is.
fn start_line(at: std::time::SystemTime) -> String {
    let when = humantime::format_rfc3339_millis(at);
    match at.duration_since(std::time::SystemTime::now()) {
        Ok(ahead) => format!("starting at {when} (in {:.1} s)", ahead.as_secs_f64()),
        Err(past) => format!(
            "starting at {when}: {:.1} s ago, so what was due before now is skipped",
            past.duration().as_secs_f64()
        ),
    }
}
