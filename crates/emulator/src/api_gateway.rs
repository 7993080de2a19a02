//! API Gateway in front of the function (or a function URL, which has none of this): the
//! account and stage token buckets, then the one invocation path (`lambda`), wrapped — a
//! Lambda throttle, a function error and an integration timeout answered as API Gateway
//! answers them — and counted for CloudWatch's `AWS/ApiGateway` by the time it came.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use governor::Quota;

use crate::answers::{self, Answer};
use crate::config::ApiMode;
use crate::Emulator;

/// An API Gateway bucket: `rate` tokens a second, `burst` at most.
pub fn bucket_quota(rate: f64, burst: u64) -> Quota {
    let period = Duration::from_secs_f64(1.0 / rate.max(1e-9));
    let burst = NonZeroU32::new(burst.clamp(1, u32::MAX as u64) as u32).expect("clamped ≥ 1");
    Quota::with_period(period.max(Duration::from_nanos(1)))
        .expect("period > 0")
        .allow_burst(burst)
}

impl Emulator {
    /// One data-plane request: API Gateway's buckets, then Lambda; counted for CloudWatch
    /// by the time it came.
    pub(crate) async fn through_api_gateway(self: &Arc<Self>) -> Answer {
        let (came, began) = (SystemTime::now(), Instant::now());
        let (answer, integration) = self.api_answer(came).await;
        self.metrics.lock().expect("metrics lock").api_request(
            came,
            answer.status,
            began.elapsed(),
            integration,
        );
        answer
    }

    /// The answer, and how long the integration (Lambda) took when it was called.
    async fn api_answer(self: &Arc<Self>, came: SystemTime) -> (Answer, Option<Duration>) {
        self.requests.fetch_add(1, Relaxed);
        let mode = self.config.api;
        if mode != ApiMode::FunctionUrl {
            if self.account_bucket.check().is_err() {
                self.throttled_account.fetch_add(1, Relaxed);
                return (answers::api_gateway_throttle(mode), None);
            }
            if let Some(stage) = &self.stage_bucket {
                if stage.check().is_err() {
                    self.throttled_stage.fetch_add(1, Relaxed);
                    return (answers::api_gateway_throttle(mode), None);
                }
            }
        }
        let called = Instant::now();
        let invoked = match self.invoke_function(came) {
            Ok(invoked) => invoked,
            Err(why) => return (answers::lambda_throttle(mode, why), Some(called.elapsed())),
        };
        let timeout = self.config.integration_timeout;
        if mode != ApiMode::FunctionUrl && invoked.ran.busy_for() > timeout {
            // API Gateway gives up; the function runs on and holds its environment.
            tokio::time::sleep(timeout).await;
            self.timeouts.fetch_add(1, Relaxed);
            return (answers::integration_timeout(mode), Some(called.elapsed()));
        }
        let ran = invoked.finished().await;
        if ran.error {
            return (answers::function_error(mode), Some(called.elapsed()));
        }
        self.ok.fetch_add(1, Relaxed);
        (answers::ok(), Some(called.elapsed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use governor::RateLimiter;

    /// Tries a request every millisecond for `seconds` against a fresh bucket.
    fn admitted(rate: f64, burst: u64, seconds: u64) -> u64 {
        let clock = FakeRelativeClock::default();
        let bucket = RateLimiter::direct_with_clock(bucket_quota(rate, burst), clock.clone());
        let mut admitted = 0;
        for _ in 0..seconds * 1000 {
            // Far more than the rate: 20 tries each millisecond.
            admitted += (0..20).filter(|_| bucket.check().is_ok()).count() as u64;
            clock.advance(Duration::from_millis(1));
        }
        admitted
    }

    #[test]
    fn the_bucket_admits_rate_times_t_plus_burst() {
        for (rate, burst, seconds) in [(500.0, 250, 10), (10_000.0, 5_000, 5), (37.5, 10, 20)] {
            let expected = rate * seconds as f64 + burst as f64;
            let got = admitted(rate, burst, seconds) as f64;
            assert!(
                (got - expected).abs() <= expected * 0.01,
                "rate {rate} burst {burst}: {got} vs {expected}"
            );
        }
    }
}
