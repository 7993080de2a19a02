//! API Gateway in front of the function (or a function URL, which has none of this): the
//! account and stage token buckets (and, for an API with routes, the route selected and its
//! own bucket), then the invocation path (`lambda`) of its function, wrapped — a
//! Lambda throttle, a function error and an integration timeout answered as API Gateway
//! answers them — and counted for CloudWatch's `AWS/ApiGateway` by the time it came.

use std::num::NonZeroU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use std::borrow::Cow;
use std::sync::atomic::AtomicU64;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::answer_template::{Echo, FunctionAnswer};
use crate::answers::{self, Answer};
use crate::api_map::RouteConfig;
use crate::config::ApiMode;
use crate::lambda::Function;
use crate::routes::{self, RoutePattern};
use crate::{Emulator, RouteStats};

/// An API Gateway bucket: `rate` tokens a second, `burst` at most.
pub fn bucket_quota(rate: f64, burst: u64) -> Quota {
    let period = Duration::from_secs_f64(1.0 / rate.max(1e-9));
    let burst = NonZeroU32::new(burst.clamp(1, u32::MAX as u64) as u32).expect("clamped ≥ 1");
    Quota::with_period(period.max(Duration::from_nanos(1)))
        .expect("period > 0")
        .allow_burst(burst)
}

/// A route of an API with routes: its settings, its own throttle, what it did.
pub(crate) struct Route {
    pub config: RouteConfig,
    bucket: Option<DefaultDirectRateLimiter>,
    requests: AtomicU64,
    ok: AtomicU64,
    throttled_route: AtomicU64,
    throttled_api_gateway: AtomicU64,
    throttled_lambda: AtomicU64,
    function_errors: AtomicU64,
    timeouts: AtomicU64,
}

impl Route {
    pub fn new(config: &RouteConfig) -> Route {
        Route {
            config: config.clone(),
            bucket: config
                .throttle
                .map(|(rate, burst)| RateLimiter::direct(bucket_quota(rate, burst))),
            requests: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            throttled_route: AtomicU64::new(0),
            throttled_api_gateway: AtomicU64::new(0),
            throttled_lambda: AtomicU64::new(0),
            function_errors: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
        }
    }

    pub fn stats(&self, function: &str) -> RouteStats {
        RouteStats {
            route: self.config.pattern.to_string(),
            function: function.to_string(),
            requests: self.requests.load(Relaxed),
            ok: self.ok.load(Relaxed),
            throttled_route: self.throttled_route.load(Relaxed),
            throttled_api_gateway: self.throttled_api_gateway.load(Relaxed),
            throttled_lambda: self.throttled_lambda.load(Relaxed),
            function_errors: self.function_errors.load(Relaxed),
            integration_timeouts: self.timeouts.load(Relaxed),
        }
    }
}

/// The route a request selected, and what its function's answer may echo.
pub(crate) struct Selected<'a> {
    route: &'a Route,
    function: &'a Arc<Function>,
    echo: Echo<'a>,
}

/// No route selected the request: API Gateway's own answer.
pub fn no_route(mode: ApiMode) -> Answer {
    match mode {
        ApiMode::Http => Answer {
            status: 404,
            headers: vec![answers::JSON],
            body: r#"{"message":"Not Found"}"#.into(),
        },
        _ => Answer {
            status: 403,
            headers: vec![
                answers::JSON,
                answers::fixed("x-amzn-ErrorType", "MissingAuthenticationTokenException"),
            ],
            body: r#"{"message":"Missing Authentication Token"}"#.into(),
        },
    }
}

impl Emulator {
    /// One data-plane request to an API with routes: the route it selects (API Gateway's
    /// precedence; after the stage's name as the first segment, as in an execute-api URL, or
    /// without it), then as
    /// [`Emulator::through_api_gateway`].
    pub(crate) async fn through_routes(
        self: &Arc<Self>,
        method: &str,
        path: &str,
        body: &[u8],
        id: &str,
    ) -> Answer {
        let patterns: Vec<RoutePattern> = self
            .routes
            .iter()
            .map(|r| r.config.pattern.clone())
            .collect();
        let staged = path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(self.config.stage.as_str()))
            .filter(|rest| rest.is_empty() || rest.starts_with('/'));
        let selected = staged
            .and_then(|rest| routes::select(&patterns, method, rest))
            .or_else(|| routes::select(&patterns, method, path));
        let Some((index, params)) = selected else {
            let came = SystemTime::now();
            self.requests.fetch_add(1, Relaxed);
            self.unmatched.fetch_add(1, Relaxed);
            let answer = no_route(self.config.api);
            self.metrics.lock().expect("metrics lock").api_request(
                came,
                answer.status,
                Duration::ZERO,
                None,
            );
            return answer;
        };
        let route = &self.routes[index];
        let uuid = || self.uuid();
        let selected = Selected {
            route,
            function: &self.functions[route.config.function],
            echo: Echo {
                request_id: id,
                uuid: &uuid,
                path: &params,
                body,
            },
        };
        self.through_api_gateway(Some(selected)).await
    }

    /// One data-plane request: API Gateway's buckets, then Lambda; counted for CloudWatch
    /// by the time it came. `selected`: the route of an API with routes.
    pub(crate) async fn through_api_gateway(
        self: &Arc<Self>,
        selected: Option<Selected<'_>>,
    ) -> Answer {
        let (came, began) = (SystemTime::now(), Instant::now());
        let (answer, integration) = self.api_answer(came, selected.as_ref()).await;
        let latency = began.elapsed();
        let mut metrics = self.metrics.lock().expect("metrics lock");
        metrics.api_request(came, answer.status, latency, integration);
        if let Some(s) = &selected {
            let p = &s.route.config.pattern;
            let method = (p.path(), p.method_name());
            metrics.method_request(
                (&method.0, method.1),
                came,
                answer.status,
                latency,
                integration,
            );
        }
        drop(metrics);
        answer
    }

    /// The answer, and how long the integration (Lambda) took when it was called.
    async fn api_answer(
        self: &Arc<Self>,
        came: SystemTime,
        selected: Option<&Selected<'_>>,
    ) -> (Answer, Option<Duration>) {
        let count = |of: fn(&Route) -> &AtomicU64| {
            if let Some(s) = selected {
                of(s.route).fetch_add(1, Relaxed);
            }
        };
        self.requests.fetch_add(1, Relaxed);
        count(|r| &r.requests);
        let mode = self.config.api;
        if mode != ApiMode::FunctionUrl {
            if self.account_bucket.check().is_err() {
                self.throttled_account.fetch_add(1, Relaxed);
                count(|r| &r.throttled_api_gateway);
                return (answers::api_gateway_throttle(mode), None);
            }
            if let Some(stage) = &self.stage_bucket {
                if stage.check().is_err() {
                    self.throttled_stage.fetch_add(1, Relaxed);
                    count(|r| &r.throttled_api_gateway);
                    return (answers::api_gateway_throttle(mode), None);
                }
            }
            if let Some(bucket) = selected.and_then(|s| s.route.bucket.as_ref()) {
                if bucket.check().is_err() {
                    self.throttled_route.fetch_add(1, Relaxed);
                    count(|r| &r.throttled_route);
                    return (answers::api_gateway_throttle(mode), None);
                }
            }
        }
        let called = Instant::now();
        let function = selected.map_or(&self.function, |s| s.function);
        let target = function.data_plane_target();
        let invoked = match self.invoke_function(function, &target, came) {
            Ok(invoked) => invoked,
            Err(why) => {
                count(|r| &r.throttled_lambda);
                return (answers::lambda_throttle(mode, why), Some(called.elapsed()));
            }
        };
        let timeout = self.config.integration_timeout;
        if mode != ApiMode::FunctionUrl && invoked.ran.answered_after() > timeout {
            // API Gateway gives up; the function runs on and holds its environment.
            tokio::time::sleep(timeout).await;
            self.timeouts.fetch_add(1, Relaxed);
            count(|r| &r.timeouts);
            return (answers::integration_timeout(mode), Some(called.elapsed()));
        }
        let ran = invoked.answered().await;
        if ran.error {
            count(|r| &r.function_errors);
            return (answers::function_error(mode), Some(called.elapsed()));
        }
        self.ok.fetch_add(1, Relaxed);
        count(|r| &r.ok);
        let answer = match selected {
            Some(s) => render(&s.function.answer, &s.echo),
            None => answers::ok(),
        };
        (answer, Some(called.elapsed()))
    }
}

/// A function's answer to one request.
pub fn render(a: &FunctionAnswer, echo: &Echo) -> Answer {
    Answer {
        status: a.status,
        headers: a
            .headers
            .iter()
            .map(|(n, v)| (Cow::Owned(n.clone()), Cow::Owned(v.render(echo))))
            .collect(),
        body: a.body.render(echo),
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
