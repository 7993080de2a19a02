//! The emulated Lambda: its execution environments ([`environments`]), the Invoke API in
//! front of it ([`invoke_api`]), and the one invocation sequence every way in takes — API
//! Gateway and function URLs wrap it (`api_gateway`), the Invoke API calls it:
//!
//! 1. admission: the function's concurrency (reserved, else the account's), a warm
//!    environment or a new one, and new ones within the scaling bucket;
//! 2. what the invocation does, drawn from the settings (`seed`): the cold start on a new
//!    environment (`cold_start` + `init_cpu_time` scaled by the version's memory), the
//!    handler time (`duration` + `cpu_time` scaled by memory, slowed by `slowdown`),
//!    whether it ends in a function error (`error_rate`), the memory it uses;
//! 3. the function runs (on a task of its own, to its end even if the caller goes away),
//!    then its environment stays warm;
//! 4. counted: the stats (`cold_starts`, `function_errors`, …) and CloudWatch's
//!    `Invocations`, `Throttles`, `Errors`, `Duration` and concurrency under the time the
//!    request came.
//!
//! Its `REPORT` line is [`Ran::report`]. What the caller answers (and whether that is an
//! `ok` in the stats) is the caller's.

pub mod environments;
pub mod invoke_api;
pub mod stream_api;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use stampede_lambda::report_line::billed_ms;
use stampede_lambda::ReportLine;

pub use environments::LambdaThrottle;

use super::Emulator;
use crate::answer_template::FunctionAnswer;
use crate::config::EmulatorConfig;
use crate::memory_model::phase_time;
use crate::versions::{FunctionVersions, Refused, Target, VersionConfig};
use environments::Environments;

/// One function: its settings, its answer, its versions and its execution environments.
/// The one-function emulator has one; an API with routes one per `[emulator.functions.NAME]`.
pub(crate) struct Function {
    pub config: EmulatorConfig,
    pub answer: FunctionAnswer,
    /// Locked before `environments` when both are.
    pub versions: std::sync::Mutex<FunctionVersions>,
    pub environments: std::sync::Mutex<Environments>,
    /// Invocations that ended in a function error.
    pub function_errors: std::sync::atomic::AtomicU64,
}

impl Function {
    /// `config`'s function, its environments sharing `pool` (in use, size) when given.
    pub fn new(
        config: EmulatorConfig,
        answer: FunctionAnswer,
        pool: Option<(Arc<std::sync::atomic::AtomicU64>, u64)>,
    ) -> Function {
        let mut environments = Environments::new(
            config.function_limit(),
            config.reserved_concurrency.is_some(),
            config.scaling_environments,
            config.scaling_per,
            config.idle_expiry,
        );
        if let Some((busy, size)) = pool {
            environments = environments.sharing(busy, size);
        }
        let now = (Instant::now(), SystemTime::now());
        environments.prewarm(config.warm, now.0, 0);
        let versions = FunctionVersions::new(
            invoke_api::function_arn(&config.region, &config.function, None),
            VersionConfig {
                memory_mb: config.memory_mb,
                timeout_s: 3,
            },
            &config.qualifier,
            config.provisioned_concurrency,
            config.update_delay,
            now,
        );
        Function {
            config,
            answer,
            versions: std::sync::Mutex::new(versions),
            environments: std::sync::Mutex::new(environments),
            function_errors: Default::default(),
        }
    }

    /// What an invocation of `qualifier` (none: `$LATEST`) runs.
    pub fn target(&self, qualifier: Option<&str>) -> Result<Target, Refused> {
        self.versions
            .lock()
            .expect("versions lock")
            .target(qualifier)
    }

    /// What API Gateway and a function URL invoke: the alias `qualifier` while it exists
    /// (the routes' integrations name it), else `$LATEST`.
    pub fn data_plane_target(&self) -> Target {
        let versions = self.versions.lock().expect("versions lock");
        versions
            .target(Some(&self.config.qualifier))
            .or_else(|_| versions.target(None))
            .expect("$LATEST always exists")
    }

    /// Changes the versions with `change`, then their environments to match (a version
    /// gone takes its environments with it; provisioned concurrency warms its own).
    pub fn change_versions<T>(&self, change: impl FnOnce(&mut FunctionVersions) -> T) -> T {
        let mut versions = self.versions.lock().expect("versions lock");
        let out = change(&mut versions);
        self.environments.lock().expect("environments lock").sync(
            &versions.pools(),
            &versions.kept_warm(),
            Instant::now(),
        );
        out
    }

    pub fn stats(&self) -> crate::FunctionStats {
        let e = self.environments.lock().expect("environments lock");
        let s = e.stats;
        crate::FunctionStats {
            name: self.config.function.clone(),
            invocations: s.invocations,
            cold_starts: s.cold_starts,
            peak_concurrency: s.peak_concurrency,
            in_flight: e.busy,
            throttled_reserved: s.throttled_reserved,
            throttled_account: s.throttled_account,
            throttled_scaling: s.throttled_scaling,
            function_errors: self.function_errors.load(Relaxed),
        }
    }
}

/// Whether an invocation fails, for a `draw` uniform in [0, 1).
pub fn fails(error_rate: f64, draw: f64) -> bool {
    draw < error_rate
}

/// A plausible `Max Memory Used`: 40 MB plus `extra`, within the function's memory.
pub fn max_memory_used(memory_mb: u64, extra: u64) -> u64 {
    (40 + extra).min(memory_mb)
}

/// What an admitted invocation does, as drawn when it was admitted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ran {
    /// The cold start's init, as drawn; `None` on a warm environment.
    pub init: Option<Duration>,
    /// The handler's time, as drawn.
    pub handler: Duration,
    /// It ends in a function error (`error_rate`).
    pub error: bool,
    pub max_memory_used_mb: u64,
    /// Its answer streams this long after the handler ends (`stream`): the environment
    /// is held until the last piece. Zero for answers that come whole.
    pub stream: Duration,
}

impl Ran {
    /// How long it holds its environment: the cold start, the handler, and its stream.
    pub fn busy_for(&self) -> Duration {
        self.answered_after() + self.stream
    }

    /// Its Duration: the handler and its stream (the cold start is the Init Duration).
    pub fn ran_for(&self) -> Duration {
        self.handler + self.stream
    }

    /// When its answer's head is ready: the cold start, then the handler.
    pub fn answered_after(&self) -> Duration {
        self.init.unwrap_or(Duration::ZERO) + self.handler
    }

    /// Its `REPORT` line: the times drawn (not the sleeps', which the emulator's own
    /// scheduling stretches), billed time including init, as Lambda bills it.
    pub fn report(&self, request_id: &str, memory_mb: u64) -> ReportLine {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        // A streaming function's Duration runs to its stream's end, as Lambda bills it.
        let (duration_ms, init_ms) = (ms(self.ran_for()), self.init.map(ms));
        ReportLine {
            request_id: request_id.to_string(),
            duration_ms,
            billed_ms: billed_ms(duration_ms, init_ms),
            memory_mb,
            max_memory_used_mb: self.max_memory_used_mb,
            init_ms,
            restore_ms: None,
        }
    }
}

/// An invocation Lambda admitted: what it will do, and its end.
pub struct Invoked {
    pub ran: Ran,
    /// When it was admitted.
    pub began: Instant,
    /// Finishes when the function has ended and been counted.
    pub done: tokio::task::JoinHandle<()>,
}

impl Invoked {
    /// Waits for the function to end.
    pub async fn finished(self) -> Ran {
        // The task only sleeps and counts: it cannot fail but by the runtime going away.
        let _ = self.done.await;
        self.ran
    }

    /// Waits for its answer's head: the function's end, or, when it streams its answer,
    /// the handler's end (the function runs on, busy, until its last piece).
    pub async fn answered(self) -> Ran {
        if self.ran.stream.is_zero() {
            return self.finished().await;
        }
        tokio::time::sleep_until((self.began + self.ran.answered_after()).into()).await;
        self.ran
    }
}

impl Emulator {
    /// One invocation of the function, for a request that `came` then: admitted or
    /// throttled (counted either way), drawn, and started. Every way in calls this.
    pub(crate) fn invoke_function(
        self: &Arc<Self>,
        f: &Arc<Function>,
        target: &Target,
        came: SystemTime,
    ) -> Result<Invoked, LambdaThrottle> {
        // A function of an API with routes has its own CloudWatch series too.
        let own = (!Arc::ptr_eq(f, &self.function)).then_some(f.config.function.as_str());
        let (admitted, busy) = {
            let mut environments = f.environments.lock().expect("environments lock");
            (
                environments.invoke(Instant::now(), target.pool),
                environments.busy,
            )
        };
        let admitted = match admitted {
            Ok(a) => a,
            Err(why) => {
                let mut metrics = self.metrics.lock().expect("metrics lock");
                metrics.throttled(came);
                if let Some(name) = own {
                    metrics.function_throttled(name, came);
                }
                return Err(why);
            }
        };
        let account = self.account_busy.fetch_add(1, Relaxed) + 1;
        self.account_peak.fetch_max(account, Relaxed);
        {
            let mut metrics = self.metrics.lock().expect("metrics lock");
            // The account's concurrency: every function's in flight.
            metrics.invoked(came, if own.is_some() { account } else { busy });
            if let Some(name) = own {
                metrics.function_invoked(name, came, busy);
            }
        }
        let c = &f.config;
        let ran = {
            let mut rng = self.rng.lock().expect("rng lock");
            let memory = target.memory_mb;
            let init = admitted.cold.then(|| {
                let wait = c.cold_start.sample(&mut rng);
                phase_time(wait, c.init_cpu_time.sample(&mut rng), memory)
            });
            let wait = c.duration.sample(&mut rng);
            let cpu = c.cpu_time.sample(&mut rng);
            let handler = c.handler_time(phase_time(wait, cpu, memory), busy);
            let error = fails(c.error_rate, rng.f64());
            Ran {
                init,
                handler,
                error,
                max_memory_used_mb: max_memory_used(memory, rng.u64(0..=12)),
                // A function that fails answers whole: it has nothing to stream.
                stream: match c.stream {
                    Some(s) if !error => s.duration(),
                    _ => Duration::ZERO,
                },
            }
        };
        let began = Instant::now();
        if let Some(d) = ran.init {
            self.took_cold_start(d);
        }
        let me = Arc::clone(self);
        let f = Arc::clone(f);
        let pool = target.pool;
        let done = tokio::spawn(async move {
            tokio::time::sleep(ran.busy_for()).await;
            f.environments
                .lock()
                .expect("environments lock")
                .finish(Instant::now(), pool);
            me.account_busy.fetch_sub(1, Relaxed);
            {
                // Lambda's Duration leaves the cold start (its Init Duration) out.
                let mut metrics = me.metrics.lock().expect("metrics lock");
                metrics.ran(came, ran.ran_for());
                if ran.error {
                    metrics.errored(came);
                }
                if !Arc::ptr_eq(&f, &me.function) {
                    let name = f.config.function.as_str();
                    metrics.function_ran(name, came, ran.ran_for());
                    if ran.error {
                        metrics.function_errored(name, came);
                    }
                }
            }
            if ran.error {
                me.function_errors.fetch_add(1, Relaxed);
                f.function_errors.fetch_add(1, Relaxed);
            }
        });
        Ok(Invoked { ran, began, done })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_rate_decides_by_the_draw() {
        assert!(!fails(0.0, 0.0));
        assert!(fails(1.0, 0.999_999));
        assert!(fails(0.05, 0.049) && !fails(0.05, 0.05));
        assert_eq!(max_memory_used(128, 5), 45);
        assert_eq!(max_memory_used(128, 500), 128);
    }

    #[test]
    fn the_report_line_bills_init_too() {
        let ran = Ran {
            init: Some(Duration::from_micros(231_456)),
            handler: Duration::from_micros(40_123),
            error: false,
            max_memory_used_mb: 44,
            stream: Duration::ZERO,
        };
        assert_eq!(ran.busy_for(), Duration::from_micros(271_579));
        // A streamed answer holds the environment until its last piece.
        let streaming = Ran {
            stream: Duration::from_millis(1900),
            ..ran
        };
        assert_eq!(streaming.answered_after(), Duration::from_micros(271_579));
        assert_eq!(streaming.busy_for(), Duration::from_micros(2_171_579));
        let r = ran.report("abc-1", 512);
        assert_eq!(r.billed_ms, 272, "40.123 + 231.456 rounded up");
        assert_eq!(r.init_ms, Some(231.456));
        let warm = Ran { init: None, ..ran }.report("abc-2", 128);
        assert_eq!((warm.billed_ms, warm.init_ms), (41, None));
    }
}
