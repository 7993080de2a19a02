//! Remote write (`--prometheus-remote-write`): every `--push-interval` and once at the end,
//! the run's families ([`super::Watched::families`]) pushed as Prometheus remote write 1.0,
//! so a shard that lives minutes needs no scraper. On a thread of its own with its own
//! small runtime: a slow or dead receiver never slows the load. Failures are counted and
//! warned about once, never fatal; the last push is bounded in time so it cannot hold the
//! exit.

pub mod send;
pub mod target;
pub mod wire;

use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use http::Uri;
use tokio::sync::oneshot;

use super::Watched;
use crate::cli::LiveArgs;
use crate::error::{Error, Result};
use crate::transport::auth::Auth;
use send::{Failure, HttpClient};

/// A push that has not been answered in this long has failed (and the last one is given
/// up: the run's exit does not wait longer).
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// What the command knows that the flags of [`LiveArgs`] do not say.
#[derive(Clone, Copy, Debug, Default)]
pub struct Local<'a> {
    /// `--ca-cert`: CA certificates to trust besides Mozilla's.
    pub ca_cert: Option<&'a Path>,
    /// `--quiet`: no closing line.
    pub quiet: bool,
}

/// Pushes made and failed, and the last failure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub pushes: u64,
    pub failed: u64,
    pub last_failure: Option<String>,
}

impl Tally {
    /// The line said at the end: how many pushes, how many failed.
    pub fn line(&self, shown: &str) -> String {
        let plural = if self.pushes == 1 { "" } else { "es" };
        match &self.last_failure {
            Some(why) if self.failed > 0 => format!(
                "remote write: {} of {} push{plural} to {shown} failed (last: {why})",
                self.failed, self.pushes
            ),
            _ => format!(
                "remote write: {} push{plural} to {shown}, none failed",
                self.pushes
            ),
        }
    }
}

/// The pusher of one run.
pub struct Pusher {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<Tally>,
    shown: String,
    quiet: bool,
}

impl Pusher {
    /// Checks the URL and the credentials (bad input, exit 2, before any traffic) and
    /// starts pushing; `None` without `--prometheus-remote-write`.
    pub fn start(args: &LiveArgs, local: Local, watched: Arc<Watched>) -> Result<Option<Pusher>> {
        let Some(url) = args.prometheus_remote_write.as_deref() else {
            return Ok(None);
        };
        let at = target::endpoint(url).map_err(Error::input)?;
        let method = target::method(&at, args.remote_write_sigv4, |n| std::env::var(n).ok())
            .map_err(Error::input)?;
        let auth = target::resolve(&at, method)?;
        let tls = crate::transport::tls_config_with(local.ca_cert)?;
        let (stop, stopped) = oneshot::channel();
        let interval = args.push_interval;
        let uri = at.uri.clone();
        let shown = at.shown.clone();
        let thread = std::thread::Builder::new()
            .name("remote-write".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let why = format!("cannot start its runtime: {e}");
                        tracing::warn!("remote write to {shown}: {why}");
                        return Tally {
                            last_failure: Some(why),
                            ..Tally::default()
                        };
                    }
                };
                let pushing = Pushing {
                    watched,
                    client: send::client(tls),
                    auth,
                    uri,
                    shown,
                    tally: Tally::default(),
                    pending: None,
                };
                runtime.block_on(pushing.run(interval, stopped))
            })
            .map_err(|e| Error::internal(format!("cannot start the remote-write thread: {e}")))?;
        tracing::info!("remote write to {} every {:?}", at.shown, interval);
        Ok(Some(Pusher {
            stop,
            thread,
            shown: at.shown,
            quiet: local.quiet,
        }))
    }

    /// The run is over and its results written: the last push (final counts), then the
    /// closing line unless `--quiet`.
    pub fn finish(self) {
        let _ = self.stop.send(());
        let tally = self.thread.join().unwrap_or_else(|_| Tally {
            last_failure: Some("the pushing thread failed".into()),
            ..Tally::default()
        });
        if !self.quiet {
            eprintln!("{}", tally.line(&self.shown));
        }
    }
}

/// The pushing thread's state.
struct Pushing {
    watched: Arc<Watched>,
    client: HttpClient,
    auth: Auth,
    uri: Uri,
    shown: String,
    tally: Tally,
    /// The samples of the last push, when it failed in a way worth sending again.
    pending: Option<Vec<wire::TimeSeries>>,
}

impl Pushing {
    /// Pushes every `interval` until `stopped`, then once more.
    async fn run(mut self, interval: Duration, mut stopped: oneshot::Receiver<()>) -> Tally {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = &mut stopped => break,
            }
            // A push under way when the run ends is dropped for the last one.
            tokio::select! {
                _ = self.push() => {}
                _ = &mut stopped => break,
            }
        }
        self.push().await;
        self.tally
    }

    /// One push of the families as they are now, with the last failed push's samples if
    /// it is to be sent again.
    async fn push(&mut self) {
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let fresh = wire::series(&self.watched.families(), now_ms);
        let series = match self.pending.take() {
            Some(older) => wire::merge(older, fresh.clone()),
            None => fresh.clone(),
        };
        let sent = tokio::time::timeout(
            PUSH_TIMEOUT,
            send::push(&self.client, &self.auth, &self.uri, wire::body(series)),
        )
        .await
        .unwrap_or_else(|_| {
            Err(Failure {
                why: format!("no answer within {} s", PUSH_TIMEOUT.as_secs()),
                retry: true,
            })
        });
        self.tally.pushes += 1;
        let Err(failure) = sent else { return };
        self.tally.failed += 1;
        if self.tally.failed == 1 {
            let then = if failure.retry {
                "its samples go again with the next push"
            } else {
                "refused: not sent again"
            };
            tracing::warn!(
                "remote write to {}: a push failed ({}); {then}. The run goes on; failures are counted and said at the end",
                self.shown,
                failure.why
            );
        }
        if failure.retry {
            self.pending = Some(fresh);
        }
        self.tally.last_failure = Some(failure.why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closing_line_counts_pushes_and_failures() {
        let mut tally = Tally {
            pushes: 1,
            ..Tally::default()
        };
        assert_eq!(
            tally.line("http://h/w"),
            "remote write: 1 push to http://h/w, none failed"
        );
        tally.pushes = 4;
        tally.failed = 2;
        tally.last_failure = Some("HTTP 503".into());
        assert_eq!(
            tally.line("http://h/w"),
            "remote write: 2 of 4 pushes to http://h/w failed (last: HTTP 503)"
        );
    }
}
