//! What the user bounds: thresholds (exit 1 past them) and `[abort]` rules (stop early,
//! exit 3). Parsed here; checked by the verdict (thresholds) and the engine (abort rules).

use std::time::Duration;

pub use stampede_results::timing::Phase;

/// What a threshold bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
    Mean,
    /// Throttled attempts / attempts sent.
    ThrottleRate,
    /// Logical requests that ended in an error other than a throttle / logical requests.
    ErrorRate,
    /// Logical requests that did not end ok (throttled, failed or never ended) / logical requests.
    FailureRate,
    /// The latency percentiles, max and mean of the logical requests that ended ok alone
    /// (k6's `expected_response:true`): fast throttles cannot pull them down.
    OkP50,
    OkP90,
    OkP95,
    OkP99,
    OkP999,
    OkMax,
    OkMean,
    /// A statistic of one phase of the attempts (`ttfb_p99`, `tls_max`, …): where the
    /// time went (docs/connections.md).
    Phase(Phase, Stat),
    /// A floor on the streamed answers' throughput, bytes/s: their p1 must reach it
    /// (`min_throughput = "50KB/s"`).
    MinThroughput,
}

/// A latency statistic, as a phase's thresholds name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
    Mean,
}

impl Stat {
    pub const ALL: [Stat; 7] = [
        Stat::P50,
        Stat::P90,
        Stat::P95,
        Stat::P99,
        Stat::P999,
        Stat::Max,
        Stat::Mean,
    ];
}

/// The metrics before the phases', in [`METRIC_NAMES`]' order.
const PLAIN: [Metric; 17] = [
    Metric::P50,
    Metric::P90,
    Metric::P95,
    Metric::P99,
    Metric::P999,
    Metric::Max,
    Metric::Mean,
    Metric::ThrottleRate,
    Metric::ErrorRate,
    Metric::FailureRate,
    Metric::OkP50,
    Metric::OkP90,
    Metric::OkP95,
    Metric::OkP99,
    Metric::OkP999,
    Metric::OkMax,
    Metric::OkMean,
];

pub const METRIC_NAMES: [&str; 53] = [
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "max",
    "mean",
    "throttle_rate",
    "error_rate",
    "failure_rate",
    "ok_p50",
    "ok_p90",
    "ok_p95",
    "ok_p99",
    "ok_p999",
    "ok_max",
    "ok_mean",
    "dns_p50",
    "dns_p90",
    "dns_p95",
    "dns_p99",
    "dns_p999",
    "dns_max",
    "dns_mean",
    "connect_p50",
    "connect_p90",
    "connect_p95",
    "connect_p99",
    "connect_p999",
    "connect_max",
    "connect_mean",
    "tls_p50",
    "tls_p90",
    "tls_p95",
    "tls_p99",
    "tls_p999",
    "tls_max",
    "tls_mean",
    "ttfb_p50",
    "ttfb_p90",
    "ttfb_p95",
    "ttfb_p99",
    "ttfb_p999",
    "ttfb_max",
    "ttfb_mean",
    "receive_p50",
    "receive_p90",
    "receive_p95",
    "receive_p99",
    "receive_p999",
    "receive_max",
    "receive_mean",
    "min_throughput",
];

impl Metric {
    /// Every metric, in [`METRIC_NAMES`]' order.
    pub fn all() -> impl Iterator<Item = Metric> {
        let phases = Phase::ALL
            .into_iter()
            .flat_map(|p| Stat::ALL.map(move |s| Metric::Phase(p, s)));
        PLAIN
            .into_iter()
            .chain(phases)
            .chain([Metric::MinThroughput])
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::all()
            .zip(METRIC_NAMES)
            .find_map(|(m, n)| (n == name).then_some(m))
    }

    pub fn name(self) -> &'static str {
        Metric::all()
            .zip(METRIC_NAMES)
            .find_map(|(m, n)| (m == self).then_some(n))
            .expect("every metric has a name")
    }

    pub fn is_rate(self) -> bool {
        matches!(
            self,
            Metric::ThrottleRate | Metric::ErrorRate | Metric::FailureRate
        )
    }

    /// A floor (the value must reach the limit), not a bound.
    pub fn is_floor(self) -> bool {
        self == Metric::MinThroughput
    }

    /// The form a limit for this metric takes, for error messages.
    pub fn expected_form(self) -> &'static str {
        if self.is_floor() {
            super::byte_rate::BYTE_RATE_FORM
        } else if self.is_rate() {
            "a percentage such as \"1%\" or \"0.1%\""
        } else {
            "a duration such as \"800ms\" or \"2s\""
        }
    }
}

/// One bound: `metric` must stay at or below `limit` (milliseconds, or a fraction for
/// rates) — or, for a floor (`min_throughput`), reach it (bytes/s).
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub metric: Metric,
    pub limit: f64,
    /// The limit as the user wrote it, for reports.
    pub text: String,
}

impl Threshold {
    /// Parses `value` as a limit for `metric`; the error says what was expected.
    pub fn parse(metric: Metric, value: &str) -> Result<Threshold, String> {
        let limit = if metric.is_floor() {
            super::byte_rate::parse_byte_rate(value)
        } else if metric.is_rate() {
            parse_percent(value)
        } else {
            parse_millis(value)
        }
        .ok_or_else(|| {
            format!(
                "`{value}` is not a valid limit for {}: expected {}",
                metric.name(),
                metric.expected_form()
            )
        })?;
        Ok(Threshold {
            metric,
            limit,
            text: value.to_string(),
        })
    }
}

fn parse_percent(value: &str) -> Option<f64> {
    let number: f64 = value.trim().strip_suffix('%')?.trim().parse().ok()?;
    (number.is_finite() && (0.0..=100.0).contains(&number)).then_some(number / 100.0)
}

fn parse_millis(value: &str) -> Option<f64> {
    let d = humantime::parse_duration(value.trim()).ok()?;
    Some(d.as_secs_f64() * 1000.0)
}

#[derive(Clone, Debug, PartialEq)]
pub struct AbortRules {
    /// Throttled attempts / attempts answered, over the window.
    pub throttle_rate: Option<f64>,
    /// Logical requests that ended in an error other than a throttle / requests ended, over the window.
    pub error_rate: Option<f64>,
    /// Logical requests that did not end ok (throttled included) / requests ended, over the window.
    pub failure_rate: Option<f64>,
    pub window: Duration,
    /// Too few attempts say nothing: no rule trips on fewer in the window.
    pub min_attempts: u64,
    /// `[abort.requests."NAME"]`: rules judged on one request's own seconds, with the same
    /// window and minimum.
    pub requests: Vec<RequestAbort>,
}

/// The abort rates of one `[[requests]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestAbort {
    pub request: String,
    /// Its position in the mix.
    pub entry: usize,
    pub throttle_rate: Option<f64>,
    pub error_rate: Option<f64>,
    pub failure_rate: Option<f64>,
}

impl AbortRules {
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(5);
    pub const DEFAULT_MIN_ATTEMPTS: u64 = 20;

    /// The rates an abort rule may bound, as they are named in `[abort]` and `--abort`.
    pub const RATES: [Metric; 3] = [Metric::ThrottleRate, Metric::ErrorRate, Metric::FailureRate];

    /// No rule yet, the default window and minimum.
    pub fn none() -> AbortRules {
        AbortRules {
            throttle_rate: None,
            error_rate: None,
            failure_rate: None,
            window: AbortRules::DEFAULT_WINDOW,
            min_attempts: AbortRules::DEFAULT_MIN_ATTEMPTS,
            requests: Vec::new(),
        }
    }

    /// The rules of request `r`, over this window and minimum.
    pub fn of_request(&self, r: &RequestAbort) -> AbortRules {
        AbortRules {
            throttle_rate: r.throttle_rate,
            error_rate: r.error_rate,
            failure_rate: r.failure_rate,
            requests: Vec::new(),
            ..self.clone_bounds()
        }
    }

    /// The window and minimum alone.
    fn clone_bounds(&self) -> AbortRules {
        AbortRules {
            window: self.window,
            min_attempts: self.min_attempts,
            ..AbortRules::none()
        }
    }

    /// The bound of one of [`AbortRules::RATES`].
    pub fn rate_mut(&mut self, metric: Metric) -> Option<&mut Option<f64>> {
        match metric {
            Metric::ThrottleRate => Some(&mut self.throttle_rate),
            Metric::ErrorRate => Some(&mut self.error_rate),
            Metric::FailureRate => Some(&mut self.failure_rate),
            _ => None,
        }
    }

    /// Whether any rate is bounded (an `[abort]` without one is a mistake).
    pub fn has_rule(&self) -> bool {
        self.throttle_rate.is_some()
            || self.error_rate.is_some()
            || self.failure_rate.is_some()
            || !self.requests.is_empty()
    }

    pub fn window_seconds(&self) -> usize {
        self.window.as_secs().max(1) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_latency_and_rate_limits() {
        let t = Threshold::parse(Metric::P99, "800ms").unwrap();
        assert_eq!(t.limit, 800.0);
        let t = Threshold::parse(Metric::P99, "2s").unwrap();
        assert_eq!(t.limit, 2000.0);
        let t = Threshold::parse(Metric::ErrorRate, "0.1%").unwrap();
        assert!((t.limit - 0.001).abs() < 1e-12);
    }

    #[test]
    fn every_metric_is_named_by_its_own_name() {
        for name in METRIC_NAMES {
            assert_eq!(Metric::from_name(name).map(Metric::name), Some(name));
        }
        let t = Threshold::parse(Metric::OkP99, "300ms").unwrap();
        assert_eq!((t.limit, t.metric.is_rate()), (300.0, false));
    }

    #[test]
    fn rejects_wrong_forms() {
        assert!(Threshold::parse(Metric::P99, "800").is_err());
        assert!(Threshold::parse(Metric::P99, "1%").is_err());
        assert!(Threshold::parse(Metric::ThrottleRate, "1").is_err());
        assert!(Threshold::parse(Metric::ThrottleRate, "150%").is_err());
        let e = Threshold::parse(Metric::ThrottleRate, "lots").unwrap_err();
        assert!(e.contains("percentage"), "{e}");
        let e = Threshold::parse(Metric::MinThroughput, "50KB").unwrap_err();
        assert!(e.contains("\"50KB/s\""), "{e}");
        let t = Threshold::parse(Metric::MinThroughput, "50KB/s").unwrap();
        assert_eq!((t.limit, t.metric.is_floor()), (50_000.0, true));
    }
}
