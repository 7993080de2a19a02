//! How a well-built client retries (as the AWS SDKs do): backoff with jitter, the retry
//! budget of the AWS SDKs' standard mode, and `Retry-After`. Pure: the caller passes the
//! random source and the clock.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::{Duration, SystemTime};

use crate::classify::Outcome;

/// The four backoff forms, with expo(n) = min(cap, base · 2ⁿ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackoffKind {
    /// uniform(0, expo(n)) — the SDKs' standard mode.
    FullJitter,
    /// expo(n)/2 + uniform(0, expo(n)/2).
    EqualJitter,
    /// min(cap, uniform(base, prev · 3)), prev starting at base.
    Decorrelated,
    /// expo(n).
    None,
}

pub const BACKOFF_NAMES: [&str; 4] = ["full-jitter", "equal-jitter", "decorrelated-jitter", "none"];

impl BackoffKind {
    pub fn from_name(name: &str) -> Option<BackoffKind> {
        Some(match name {
            "full-jitter" => BackoffKind::FullJitter,
            "equal-jitter" => BackoffKind::EqualJitter,
            "decorrelated-jitter" => BackoffKind::Decorrelated,
            "none" => BackoffKind::None,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub kind: BackoffKind,
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// min(cap, base · 2ⁿ).
    pub fn expo(&self, n: u32) -> Duration {
        let factor = 2f64.powi(n.min(62) as i32);
        Duration::from_secs_f64((self.base.as_secs_f64() * factor).min(self.cap.as_secs_f64()))
    }

    /// The sleep before retry `n` (0 = the first retry); `prev` is the last sleep (for
    /// decorrelated jitter; `None` before the first).
    pub fn delay(&self, n: u32, prev: Option<Duration>, rng: &mut fastrand::Rng) -> Duration {
        let uniform =
            |rng: &mut fastrand::Rng, lo: f64, hi: f64| lo + (hi - lo).max(0.0) * rng.f64();
        let secs = match self.kind {
            BackoffKind::FullJitter => uniform(rng, 0.0, self.expo(n).as_secs_f64()),
            BackoffKind::EqualJitter => {
                let half = self.expo(n).as_secs_f64() / 2.0;
                half + uniform(rng, 0.0, half)
            }
            BackoffKind::Decorrelated => {
                let base = self.base.as_secs_f64();
                let prev = prev.unwrap_or(self.base).as_secs_f64();
                uniform(rng, base, prev * 3.0).min(self.cap.as_secs_f64())
            }
            BackoffKind::None => self.expo(n).as_secs_f64(),
        };
        Duration::from_secs_f64(secs)
    }
}

/// Why an attempt is retried, for the budget's price and the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RetryCause {
    Throttle,
    ServerError,
    Timeout,
    Connect,
    /// An answer that failed its request's `expect`: retried only when `[retry] on` names
    /// it (never by default — the service answered, and asking again may act twice).
    Unexpected,
}

pub const CAUSE_NAMES: [&str; 5] = [
    "throttle",
    "server-error",
    "timeout",
    "connect",
    "unexpected",
];

impl RetryCause {
    pub fn from_name(name: &str) -> Option<RetryCause> {
        Some(match name {
            "throttle" => RetryCause::Throttle,
            "server-error" => RetryCause::ServerError,
            "timeout" => RetryCause::Timeout,
            "connect" => RetryCause::Connect,
            "unexpected" => RetryCause::Unexpected,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            RetryCause::Throttle => "throttle",
            RetryCause::ServerError => "server-error",
            RetryCause::Timeout => "timeout",
            RetryCause::Connect => "connect",
            RetryCause::Unexpected => "unexpected",
        }
    }
}

impl crate::classify::Counted for RetryCause {
    const ALL: &'static [Self] = &[
        RetryCause::Throttle,
        RetryCause::ServerError,
        RetryCause::Timeout,
        RetryCause::Connect,
        RetryCause::Unexpected,
    ];
    fn key(self) -> &'static str {
        self.name()
    }
}

/// The `[retry]` table: how a logical request retries.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// 1 = no retries.
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// Which failures are retried.
    pub on: Vec<RetryCause>,
    pub respect_retry_after: bool,
    /// Retry-budget tokens; `None` = unlimited.
    pub budget: Option<u32>,
    /// An overall deadline per logical request, from its scheduled instant.
    pub deadline: Option<Duration>,
    /// `mode = "adaptive"`: a client-side rate limiter slows sending when throttled.
    pub adaptive: bool,
}

impl Default for RetryPolicy {
    /// No retries; the rest as the AWS SDKs' standard mode, for when `[retry]` turns them on.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 1,
            backoff: Backoff {
                kind: BackoffKind::FullJitter,
                base: Duration::from_millis(100),
                cap: Duration::from_secs(20),
            },
            on: vec![
                RetryCause::Throttle,
                RetryCause::ServerError,
                RetryCause::Timeout,
                RetryCause::Connect,
            ],
            respect_retry_after: true,
            budget: Some(500),
            deadline: None,
            adaptive: false,
        }
    }
}

impl RetryPolicy {
    /// Whether a failed attempt with `outcome` may be retried, and for which cause.
    pub fn retryable(&self, outcome: Outcome) -> Option<RetryCause> {
        let cause = match outcome {
            Outcome::Throttled(_) => RetryCause::Throttle,
            // A malformed answer came from the server, as a 5xx does: retried as one.
            Outcome::ServerError
            | Outcome::SuspectedIntegrationThrottle
            | Outcome::ProtocolError => RetryCause::ServerError,
            Outcome::Timeout => RetryCause::Timeout,
            Outcome::ConnectError | Outcome::TlsError => RetryCause::Connect,
            Outcome::Unexpected => RetryCause::Unexpected,
            // Retrying cannot free a descriptor or renew credentials: it would only hide the cause.
            // The SDKs do not retry a function's own failure: it ran, and may have acted.
            // A redirect answers the same again (it is not followed either).
            Outcome::Ok
            | Outcome::Redirect
            | Outcome::ClientError
            | Outcome::FunctionError
            | Outcome::LocalError(_) => return None,
        };
        self.on.contains(&cause).then_some(cause)
    }
}

/// The SDKs' standard-mode retry quota: a bucket of tokens; a retry costs 5, or 10 after
/// a timeout or connection error; a success on the first attempt refunds 1; an empty
/// bucket means no more retries. `None` capacity: unlimited.
///
/// One bucket per run, shared by every engine lane without a lock (an atomic count), so a
/// run retries the same whatever its thread count. A full bucket refunds with a read only.
#[derive(Debug)]
pub struct RetryBudget {
    capacity: Option<u32>,
    tokens: AtomicU32,
}

pub const RETRY_COST: u32 = 5;
pub const TIMEOUT_RETRY_COST: u32 = 10;
pub const FIRST_TRY_REFUND: u32 = 1;

impl RetryBudget {
    pub fn new(capacity: Option<u32>) -> RetryBudget {
        RetryBudget {
            capacity,
            tokens: AtomicU32::new(capacity.unwrap_or(0)),
        }
    }

    pub fn tokens(&self) -> Option<u32> {
        self.capacity.map(|_| self.tokens.load(Relaxed))
    }

    /// Takes the price of a retry for `cause`; false (nothing taken) when it cannot pay.
    pub fn try_spend(&self, cause: RetryCause) -> bool {
        if self.capacity.is_none() {
            return true;
        }
        let cost = match cause {
            RetryCause::Timeout | RetryCause::Connect => TIMEOUT_RETRY_COST,
            _ => RETRY_COST,
        };
        self.tokens
            .fetch_update(Relaxed, Relaxed, |t| t.checked_sub(cost))
            .is_ok()
    }

    /// A logical request succeeded on its first attempt.
    pub fn refund_first_try(&self) {
        if let Some(cap) = self.capacity {
            let _ = self.tokens.fetch_update(Relaxed, Relaxed, |t| {
                (t < cap).then(|| (t + FIRST_TRY_REFUND).min(cap))
            });
        }
    }
}

/// The sleep before retry `n`: the server's `Retry-After` when it gave one and we honour
/// it (never longer than `cap`: a server must not hold a run for an hour), else the
/// backoff formula.
pub fn retry_delay(
    backoff: &Backoff,
    n: u32,
    prev: Option<Duration>,
    retry_after: Option<Duration>,
    respect_retry_after: bool,
    rng: &mut fastrand::Rng,
) -> Duration {
    match retry_after {
        Some(server_says) if respect_retry_after => server_says.min(backoff.cap),
        _ => backoff.delay(n, prev, rng),
    }
}

/// `Retry-After`: delay-seconds or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT", and the two obsolete forms HTTP asks
/// recipients to read), as `Retry-After` and `Date` carry it.
pub fn http_date(value: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(value.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn policy(kind: BackoffKind) -> Backoff {
        Backoff {
            kind,
            base: 100 * MS,
            cap: Duration::from_secs(20),
        }
    }

    /// Mean of `n` samples of retry `k`'s delay, in seconds, and whether all were in bounds.
    fn sample(kind: BackoffKind, k: u32, lo: f64, hi: f64) -> f64 {
        let mut rng = fastrand::Rng::with_seed(42);
        let p = policy(kind);
        let n = 20_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let d = p.delay(k, None, &mut rng).as_secs_f64();
            assert!(
                d >= lo - 1e-9 && d <= hi + 1e-9,
                "{kind:?} retry {k}: {d} outside {lo}..{hi}"
            );
            sum += d;
        }
        sum / n as f64
    }

    #[test]
    fn expo_doubles_up_to_the_cap() {
        let p = policy(BackoffKind::None);
        assert_eq!(p.expo(0), 100 * MS);
        assert_eq!(p.expo(3), 800 * MS);
        assert_eq!(p.expo(10), Duration::from_secs(20));
        assert_eq!(p.expo(500), Duration::from_secs(20));
    }

    #[test]
    fn full_jitter_is_uniform_below_expo() {
        for k in [0, 2, 5] {
            let e = policy(BackoffKind::FullJitter).expo(k).as_secs_f64();
            let mean = sample(BackoffKind::FullJitter, k, 0.0, e);
            assert!(
                (mean - e / 2.0).abs() < e * 0.02,
                "k={k}: mean {mean}, expected {}",
                e / 2.0
            );
        }
    }

    #[test]
    fn equal_jitter_keeps_half() {
        for k in [0, 3] {
            let e = policy(BackoffKind::EqualJitter).expo(k).as_secs_f64();
            let mean = sample(BackoffKind::EqualJitter, k, e / 2.0, e);
            assert!((mean - 0.75 * e).abs() < e * 0.02, "k={k}: mean {mean}");
        }
    }

    #[test]
    fn no_jitter_is_exactly_expo() {
        let e = policy(BackoffKind::None).expo(4).as_secs_f64();
        let mean = sample(BackoffKind::None, 4, e, e);
        assert!((mean - e).abs() < 1e-9);
    }

    #[test]
    fn decorrelated_jitter_grows_from_the_last_sleep_and_never_passes_the_cap() {
        let p = Backoff {
            kind: BackoffKind::Decorrelated,
            base: 100 * MS,
            cap: Duration::from_secs(2),
        };
        let mut rng = fastrand::Rng::with_seed(7);
        // From base: uniform(base, 3·base), mean 2·base.
        let n = 20_000;
        let mean: f64 = (0..n)
            .map(|_| p.delay(0, None, &mut rng).as_secs_f64())
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.2).abs() < 0.004, "mean {mean}");
        // A chain of sleeps: each in [base, min(cap, 3·prev)], never above the cap.
        for _ in 0..200 {
            let mut prev = None;
            for k in 0..30 {
                let d = p.delay(k, prev, &mut rng);
                let upper = prev.map_or(0.3, |p: Duration| (p.as_secs_f64() * 3.0).min(2.0));
                assert!(d <= p.cap && d >= p.base.min(p.cap), "{d:?}");
                assert!(d.as_secs_f64() <= upper + 1e-9, "{d:?} > {upper}");
                prev = Some(d);
            }
        }
    }

    #[test]
    fn gaps_are_not_all_equal_with_jitter() {
        let mut rng = fastrand::Rng::with_seed(1);
        let p = policy(BackoffKind::FullJitter);
        let a = p.delay(1, None, &mut rng);
        assert!((0..10).any(|_| p.delay(1, None, &mut rng) != a));
    }

    #[test]
    fn the_budget_empties_and_refills_as_the_sdks_do() {
        let b = RetryBudget::new(Some(500));
        // 100 throttle retries at 5 each empty it.
        for _ in 0..100 {
            assert!(b.try_spend(RetryCause::Throttle));
        }
        assert_eq!(b.tokens(), Some(0));
        assert!(!b.try_spend(RetryCause::Throttle));
        // First-try successes refund one token each, up to the capacity.
        for _ in 0..9 {
            b.refund_first_try();
        }
        assert!(
            !b.try_spend(RetryCause::Timeout),
            "a timeout retry costs 10"
        );
        assert!(b.try_spend(RetryCause::ServerError));
        assert_eq!(b.tokens(), Some(4));
        let full = RetryBudget::new(Some(500));
        full.refund_first_try();
        assert_eq!(full.tokens(), Some(500));
        // Timeouts and connection errors cost 10.
        let t = RetryBudget::new(Some(20));
        assert!(t.try_spend(RetryCause::Connect));
        assert!(t.try_spend(RetryCause::Timeout));
        assert!(!t.try_spend(RetryCause::Throttle));
        // Unlimited.
        let u = RetryBudget::new(None);
        assert!((0..10_000).all(|_| u.try_spend(RetryCause::Timeout)));
    }

    #[test]
    fn lanes_share_one_budget_and_never_overdraw_it() {
        let b = RetryBudget::new(Some(500));
        let spent: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..100)
                            .filter(|_| b.try_spend(RetryCause::Throttle))
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(
            spent, 100,
            "500 tokens pay for exactly 100 retries, whoever asks"
        );
        assert_eq!(b.tokens(), Some(0));
    }

    #[test]
    fn retry_after_is_capped_by_the_cap() {
        let mut rng = fastrand::Rng::with_seed(3);
        let p = Backoff {
            cap: Duration::from_secs(1),
            ..policy(BackoffKind::FullJitter)
        };
        let d = retry_delay(&p, 0, None, Some(Duration::from_secs(3600)), true, &mut rng);
        assert_eq!(
            d,
            Duration::from_secs(1),
            "a server cannot hold a run for an hour"
        );
    }

    #[test]
    fn only_the_listed_failures_are_retried() {
        use crate::classify::ThrottleKind;
        let mut p = RetryPolicy::default();
        assert_eq!(
            p.retryable(Outcome::Throttled(ThrottleKind::Other)),
            Some(RetryCause::Throttle)
        );
        assert_eq!(
            p.retryable(Outcome::SuspectedIntegrationThrottle),
            Some(RetryCause::ServerError)
        );
        assert_eq!(p.retryable(Outcome::ClientError), None);
        assert_eq!(p.retryable(Outcome::Redirect), None);
        assert_eq!(
            p.retryable(Outcome::ProtocolError),
            Some(RetryCause::ServerError),
            "a malformed answer is not the network"
        );
        assert_eq!(
            p.retryable(Outcome::LocalError(
                crate::classify::LocalReason::FileDescriptors
            )),
            None
        );
        assert_eq!(p.retryable(Outcome::Ok), None);
        assert_eq!(
            p.retryable(Outcome::Unexpected),
            None,
            "a failed expect is not retried by default"
        );
        p.on = vec![RetryCause::Throttle];
        assert_eq!(p.retryable(Outcome::Timeout), None);
        p.on = vec![RetryCause::from_name("unexpected").unwrap()];
        assert_eq!(
            p.retryable(Outcome::Unexpected),
            Some(RetryCause::Unexpected)
        );
        assert!(CAUSE_NAMES
            .iter()
            .all(|n| RetryCause::from_name(n).is_some_and(|c| c.name() == *n)));
    }

    #[test]
    fn retry_after_wins_over_the_backoff() {
        let mut rng = fastrand::Rng::with_seed(3);
        let p = policy(BackoffKind::FullJitter);
        let d = retry_delay(&p, 0, None, Some(Duration::from_secs(2)), true, &mut rng);
        assert_eq!(d, Duration::from_secs(2));
        let d = retry_delay(&p, 0, None, Some(Duration::from_secs(2)), false, &mut rng);
        assert!(d <= 100 * MS);
        assert!(retry_delay(&p, 0, None, None, true, &mut rng) <= 100 * MS);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = humantime::parse_rfc3339("2026-11-27T10:00:00Z").unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Fri, 27 Nov 2026 10:00:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Fri, 27 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
