//! Lambda's execution environments: concurrency limits, warm environments reused while
//! warm, cold starts for new ones, and the scaling rate. Each version of the function has
//! its own environments (a [`Pool`]); the limits and the scaling rate are the function's.
//! Pure: the caller passes the clock, so tests drive time.

use schemars::JsonSchema;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::versions::Pool;

/// Why Lambda refused an invocation; the `Reason` a function URL reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LambdaThrottle {
    /// The function's reserved concurrency is all in use.
    Reserved,
    /// The account's concurrency is all in use.
    Account,
    /// New environments are coming faster than the scaling rate allows.
    Scaling,
}

impl LambdaThrottle {
    pub fn reason(self) -> &'static str {
        match self {
            LambdaThrottle::Reserved => "ReservedFunctionConcurrentInvocationLimitExceeded",
            LambdaThrottle::Account => "ConcurrentInvocationLimitExceeded",
            LambdaThrottle::Scaling => "FunctionInvocationRateLimitExceeded",
        }
    }
}

/// An invocation admitted: on a warm environment, or a new one that pays the cold start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub cold: bool,
}

pub struct Environments {
    limit: u64,
    reserved: bool,
    idle_expiry: Duration,
    /// New environments: a bucket of `scaling_environments`, refilled over `scaling_per`.
    scaling_tokens: f64,
    scaling_capacity: f64,
    scaling_refill_per_s: f64,
    scaling_at: Option<Instant>,
    /// Idle warm environments of each live pool: when each was last used, oldest first.
    warm: BTreeMap<Pool, VecDeque<Instant>>,
    /// Environments of a pool that never expire (provisioned concurrency).
    kept: BTreeMap<Pool, u64>,
    pub busy: u64,
    pub stats: LambdaStats,
    /// An unreserved function of an API with several shares the account's unreserved
    /// pool with the others: the environments in use from it, and its size.
    pool: Option<(Arc<AtomicU64>, u64)>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, JsonSchema)]
pub struct LambdaStats {
    pub invocations: u64,
    pub cold_starts: u64,
    pub environments_created: u64,
    pub environments_expired: u64,
    pub peak_concurrency: u64,
    pub throttled_reserved: u64,
    pub throttled_account: u64,
    pub throttled_scaling: u64,
}

impl Environments {
    pub fn new(
        limit: u64,
        reserved: bool,
        scaling_environments: u64,
        scaling_per: Duration,
        idle_expiry: Duration,
    ) -> Environments {
        let capacity = scaling_environments as f64;
        Environments {
            limit,
            reserved,
            idle_expiry,
            scaling_tokens: capacity,
            scaling_capacity: capacity,
            scaling_refill_per_s: capacity / scaling_per.as_secs_f64(),
            scaling_at: None,
            warm: BTreeMap::new(),
            kept: BTreeMap::new(),
            busy: 0,
            stats: LambdaStats::default(),
            pool: None,
        }
    }

    /// Shares `pool` (environments in use, of at most `size`) with other functions.
    pub fn sharing(mut self, pool: Arc<AtomicU64>, size: u64) -> Environments {
        self.pool = Some((pool, size));
        self
    }

    /// Takes a place in the shared pool, if there is one; false when it is full.
    fn take_pool(&self) -> bool {
        self.pool.as_ref().is_none_or(|(busy, size)| {
            busy.fetch_update(Relaxed, Relaxed, |b| (b < *size).then_some(b + 1))
                .is_ok()
        })
    }

    fn release_pool(&self) {
        if let Some((busy, _)) = &self.pool {
            busy.fetch_sub(1, Relaxed);
        }
    }

    /// Admits an invocation of the version running in `pool` at `now`, or says why not.
    /// Never exceeds the limit.
    pub fn invoke(&mut self, now: Instant, pool: Pool) -> Result<Invocation, LambdaThrottle> {
        if self.busy >= self.limit {
            return Err(self.throttle(if self.reserved {
                LambdaThrottle::Reserved
            } else {
                LambdaThrottle::Account
            }));
        }
        if !self.take_pool() {
            return Err(self.throttle(LambdaThrottle::Account));
        }
        self.expire(now, pool);
        let cold = match self.warm.entry(pool).or_default().pop_back() {
            // The most recently used environment, as Lambda reuses the warmest.
            Some(_) => false,
            None => {
                self.refill_scaling(now);
                if self.scaling_tokens < 1.0 {
                    self.release_pool();
                    return Err(self.throttle(LambdaThrottle::Scaling));
                }
                self.scaling_tokens -= 1.0;
                self.stats.environments_created += 1;
                self.stats.cold_starts += 1;
                true
            }
        };
        self.busy += 1;
        self.stats.invocations += 1;
        self.stats.peak_concurrency = self.stats.peak_concurrency.max(self.busy);
        Ok(Invocation { cold })
    }

    /// The invocation of `pool` ended at `now`; its environment stays warm, unless its
    /// version is gone.
    pub fn finish(&mut self, now: Instant, pool: Pool) {
        self.busy -= 1;
        self.release_pool();
        if let Some(warm) = self.warm.get_mut(&pool) {
            warm.push_back(now);
        }
    }

    /// `n` environments of `pool` (at most the limit) warm at `now`, as if just used: the
    /// next `n` invocations at once pay no cold start. They were not created by traffic,
    /// so are not counted in `environments_created`.
    pub fn prewarm(&mut self, n: u64, now: Instant, pool: Pool) {
        let warm = self.warm.entry(pool).or_default();
        for _ in 0..n.min(self.limit) {
            warm.push_back(now);
        }
    }

    /// After a change of versions: only `live` pools keep their environments, and each
    /// pool of `kept` has that many warm for good (provisioned concurrency), those it
    /// gains made warm at `now`.
    pub fn sync(&mut self, live: &[Pool], kept: &BTreeMap<Pool, u64>, now: Instant) {
        self.warm.retain(|pool, _| live.contains(pool));
        for (&pool, &n) in kept {
            let had = self.kept.get(&pool).copied().unwrap_or(0);
            if n > had && live.contains(&pool) {
                self.prewarm(n - had, now, pool);
            }
        }
        self.kept = kept.clone();
    }

    pub fn warm_environments(&self) -> usize {
        self.warm.values().map(VecDeque::len).sum()
    }

    fn expire(&mut self, now: Instant, pool: Pool) {
        let kept = self.kept.get(&pool).copied().unwrap_or(0) as usize;
        let Some(warm) = self.warm.get_mut(&pool) else {
            return;
        };
        while let Some(&oldest) = warm.front() {
            if warm.len() <= kept || now.saturating_duration_since(oldest) < self.idle_expiry {
                break;
            }
            warm.pop_front();
            self.stats.environments_expired += 1;
        }
    }

    fn refill_scaling(&mut self, now: Instant) {
        if let Some(at) = self.scaling_at {
            let gained =
                now.saturating_duration_since(at).as_secs_f64() * self.scaling_refill_per_s;
            self.scaling_tokens = (self.scaling_tokens + gained).min(self.scaling_capacity);
        }
        self.scaling_at = Some(now);
    }

    fn throttle(&mut self, why: LambdaThrottle) -> LambdaThrottle {
        match why {
            LambdaThrottle::Reserved => self.stats.throttled_reserved += 1,
            LambdaThrottle::Account => self.stats.throttled_account += 1,
            LambdaThrottle::Scaling => self.stats.throttled_scaling += 1,
        }
        why
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn lambda(limit: u64, reserved: bool) -> Environments {
        Environments::new(
            limit,
            reserved,
            1000,
            Duration::from_secs(10),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn concurrency_never_exceeds_the_limit_under_a_burst() {
        let t0 = Instant::now();
        let mut l = lambda(50, true);
        let admitted = (0..5000).filter(|_| l.invoke(t0, 0).is_ok()).count();
        assert_eq!(admitted, 50);
        assert_eq!(l.stats.peak_concurrency, 50);
        assert_eq!(l.stats.throttled_reserved, 4950);
        assert_eq!(l.invoke(t0, 0), Err(LambdaThrottle::Reserved));
        l.finish(t0 + MS, 0);
        assert_eq!(l.invoke(t0 + 2 * MS, 0), Ok(Invocation { cold: false }));
        assert_eq!(l.invoke(t0 + 2 * MS, 0), Err(LambdaThrottle::Reserved));

        let mut account = lambda(3, false);
        for _ in 0..3 {
            account.invoke(t0, 0).unwrap();
        }
        assert_eq!(account.invoke(t0, 0), Err(LambdaThrottle::Account));
    }

    #[test]
    fn unreserved_functions_share_the_pool() {
        let t0 = Instant::now();
        let pool = Arc::new(AtomicU64::new(0));
        let mut a = lambda(5, false).sharing(Arc::clone(&pool), 5);
        let mut b = lambda(5, false).sharing(Arc::clone(&pool), 5);
        for _ in 0..3 {
            a.invoke(t0, 0).unwrap();
        }
        assert_eq!((0..5).filter(|_| b.invoke(t0, 0).is_ok()).count(), 2);
        assert_eq!(b.invoke(t0, 0), Err(LambdaThrottle::Account));
        assert_eq!(b.stats.throttled_account, 4);
        a.finish(t0 + MS, 0);
        assert!(b.invoke(t0 + MS, 0).is_ok(), "a place came free");
        assert_eq!(pool.load(Relaxed), 5);
    }

    #[test]
    fn cold_starts_only_for_new_environments() {
        let t0 = Instant::now();
        let mut l = lambda(100, false);
        // Two at once: two environments, both cold.
        assert!(l.invoke(t0, 0).unwrap().cold);
        assert!(l.invoke(t0, 0).unwrap().cold);
        l.finish(t0 + MS, 0);
        l.finish(t0 + MS, 0);
        // Sequential reuse: warm, however many.
        for i in 0..10 {
            let at = t0 + MS * (10 + i);
            assert!(!l.invoke(at, 0).unwrap().cold);
            l.finish(at, 0);
        }
        assert_eq!(l.stats.cold_starts, 2);
        assert_eq!(l.stats.environments_created, 2);
        assert_eq!(l.warm_environments(), 2);
    }

    #[test]
    fn prewarmed_environments_are_warm_and_not_created() {
        let t0 = Instant::now();
        let mut l = lambda(5, true);
        l.prewarm(3, t0, 0);
        assert_eq!(l.warm_environments(), 3);
        for _ in 0..3 {
            assert!(!l.invoke(t0 + MS, 0).unwrap().cold);
        }
        assert!(
            l.invoke(t0 + MS, 0).unwrap().cold,
            "the fourth needs a new one"
        );
        assert_eq!((l.stats.cold_starts, l.stats.environments_created), (1, 1));
        let mut capped = lambda(2, true);
        capped.prewarm(10, t0, 0);
        assert_eq!(capped.warm_environments(), 2);
        // As if used at t0: they expire after idle_expiry like any other.
        let mut idle = lambda(5, true);
        idle.prewarm(1, t0, 0);
        assert!(idle.invoke(t0 + Duration::from_secs(61), 0).unwrap().cold);
    }

    #[test]
    fn idle_environments_expire() {
        let t0 = Instant::now();
        let mut l = lambda(10, false);
        l.invoke(t0, 0).unwrap();
        l.finish(t0, 0);
        let later = t0 + Duration::from_secs(61);
        assert!(
            l.invoke(later, 0).unwrap().cold,
            "the idle environment expired"
        );
        assert_eq!(l.stats.environments_expired, 1);
    }

    #[test]
    fn the_scaling_rate_limits_new_environments() {
        let t0 = Instant::now();
        // 100 new environments per second, 1,000 concurrency.
        let mut l = Environments::new(
            1000,
            false,
            100,
            Duration::from_secs(1),
            Duration::from_secs(60),
        );
        let first = (0..500).filter(|_| l.invoke(t0, 0).is_ok()).count();
        assert_eq!(first, 100);
        assert_eq!(l.stats.throttled_scaling, 400);
        // Half a second later, 50 more may be created.
        let half = t0 + Duration::from_millis(500);
        let more = (0..500).filter(|_| l.invoke(half, 0).is_ok()).count();
        assert_eq!(more, 50);
        // Warm environments are not limited by the scaling rate.
        for _ in 0..150 {
            l.finish(half, 0);
        }
        let warm = (0..150).filter(|_| l.invoke(half, 0).is_ok()).count();
        assert_eq!(warm, 150);
        assert_eq!(l.stats.environments_created, 150);
    }

    #[test]
    fn each_version_has_its_own_environments() {
        let t0 = Instant::now();
        let mut l = lambda(100, false);
        assert!(l.invoke(t0, 0).unwrap().cold);
        l.finish(t0 + MS, 0);
        // Another version's first invocation is cold though version 0 has one warm.
        assert!(l.invoke(t0 + 2 * MS, 1).unwrap().cold);
        assert!(!l.invoke(t0 + 2 * MS, 0).unwrap().cold);
        // Version 1 deleted while it runs: its environment is not kept.
        l.sync(&[0], &BTreeMap::new(), t0 + 3 * MS);
        l.finish(t0 + 4 * MS, 1);
        l.finish(t0 + 4 * MS, 0);
        assert_eq!(l.warm_environments(), 1);
    }

    #[test]
    fn provisioned_environments_are_warm_and_never_expire() {
        let t0 = Instant::now();
        let mut l = lambda(100, false);
        l.sync(&[0, 2], &BTreeMap::from([(2, 50)]), t0);
        assert_eq!(l.warm_environments(), 50);
        let cold = (0..50)
            .filter(|_| l.invoke(t0 + MS, 2).unwrap().cold)
            .count();
        assert_eq!(cold, 0, "a burst of 50 on 50 provisioned");
        assert!(l.invoke(t0 + MS, 2).unwrap().cold, "the 51st");
        for _ in 0..51 {
            l.finish(t0 + 2 * MS, 2);
        }
        // Long idle: all but the provisioned 50 expire.
        let later = t0 + Duration::from_secs(3600);
        assert!(!l.invoke(later, 2).unwrap().cold);
        assert_eq!(l.stats.environments_expired, 1);
        // Syncing again with the same config warms nothing more.
        l.sync(&[0, 2], &BTreeMap::from([(2, 50)]), later);
        assert_eq!(l.warm_environments(), 49);
    }
}
