//! The emulator's CloudWatch: what it did, counted per period under the names and
//! dimensions AWS publishes (`AWS/ApiGateway`, `AWS/Lambda`), for GetMetricData. Pure: the
//! caller passes the wall-clock time, so tests drive it.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::config::{ApiMode, EmulatorConfig};

/// Periods kept: a day of 1-minute periods, as much as any test or demo asks about.
const KEPT: usize = 1440;

/// One metric as a query names it.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricName<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub dimensions: Vec<(&'a str, &'a str)>,
}

/// Counts of one period.
#[derive(Default)]
struct Period {
    /// When its last request came (plus the delay: when its datapoints appear).
    last_update: Option<SystemTime>,
    api_count: u64,
    api_4xx: u64,
    api_5xx: u64,
    latency: Option<Histogram<u32>>,
    integration_latency: Option<Histogram<u32>>,
    invocations: u64,
    throttles: u64,
    errors: u64,
    concurrent_max: u64,
    duration: Option<Histogram<u32>>,
    spillover: u64,
    pc_utilization_max: f64,
    unreserved_max: u64,
    claimed_max: u64,
}

/// Which series a metric name reads, and how.
#[derive(Clone, Copy)]
enum Series {
    Count(fn(&Period) -> u64, Denominator),
    Gauge(fn(&Period) -> f64),
    Time(fn(&Period) -> Option<&Histogram<u32>>),
}

/// What a per-request count's Average divides by.
#[derive(Clone, Copy)]
enum Denominator {
    ApiRequests,
    /// Lambda's Errors: one datapoint (0 or 1) per invocation.
    Invocations,
    /// Lambda's Throttles: one per invocation request, admitted or not.
    InvocationRequests,
    Itself,
}

pub struct Metrics {
    period_s: u64,
    delay: Duration,
    api: ApiMode,
    api_name: String,
    api_id: String,
    stage: String,
    function: String,
    qualifier: String,
    /// The stage publishes each method's series (detailed metrics on).
    detailed: bool,
    reserved: Option<u64>,
    provisioned: Option<u64>,
    periods: Periods,
    /// An API with routes: each function's own series (`FunctionName`), and each REST
    /// method's (`Resource`, `Method`), beside the totals above.
    functions: BTreeMap<String, Periods>,
    methods: BTreeMap<(String, String), Periods>,
}

type Periods = BTreeMap<u64, Period>;

/// The period of `periods` that `t` falls in (the oldest dropped past [`KEPT`]).
fn period_at(periods: &mut Periods, period_s: u64, t: SystemTime) -> &mut Period {
    let index = epoch_s(t) as u64 / period_s;
    if periods.len() >= KEPT && !periods.contains_key(&index) {
        periods.pop_first();
    }
    let p = periods.entry(index).or_default();
    p.last_update = Some(p.last_update.map_or(t, |u| u.max(t)));
    p
}

fn histogram() -> Histogram<u32> {
    // Microseconds up to an hour, 2 significant digits: ~8 KB each.
    Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("valid bounds")
}

fn record(h: &mut Option<Histogram<u32>>, d: Duration) {
    let us = (d.as_micros() as u64).clamp(1, 3_600_000_000);
    let _ = h.get_or_insert_with(histogram).record(us);
}

fn epoch_s(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

impl Metrics {
    pub fn new(c: &EmulatorConfig) -> Metrics {
        Metrics {
            period_s: c.metrics_period.as_secs().max(1),
            delay: c.metrics_delay,
            api: c.api,
            api_name: api_name(c),
            api_id: c.rest_api_id.clone(),
            stage: c.stage.clone(),
            function: c.function.clone(),
            qualifier: c.qualifier.clone(),
            detailed: c.detailed_metrics,
            reserved: c.reserved_concurrency,
            provisioned: c.provisioned_concurrency,
            periods: BTreeMap::new(),
            functions: BTreeMap::new(),
            methods: BTreeMap::new(),
        }
    }

    pub fn period_s(&self) -> u64 {
        self.period_s
    }

    fn at(&mut self, t: SystemTime) -> &mut Period {
        period_at(&mut self.periods, self.period_s, t)
    }

    /// The period `t` falls in of function `name`'s own series (an API with routes).
    fn function_at(&mut self, name: &str, t: SystemTime) -> &mut Period {
        let periods = self.functions.entry(name.to_string()).or_default();
        period_at(periods, self.period_s, t)
    }

    /// Function `name` of an API with routes admitted an invocation; `busy`: its own.
    pub fn function_invoked(&mut self, name: &str, t: SystemTime, busy: u64) {
        let p = self.function_at(name, t);
        p.invocations += 1;
        p.concurrent_max = p.concurrent_max.max(busy);
    }

    pub fn function_throttled(&mut self, name: &str, t: SystemTime) {
        self.function_at(name, t).throttles += 1;
    }

    pub fn function_errored(&mut self, name: &str, t: SystemTime) {
        self.function_at(name, t).errors += 1;
    }

    pub fn function_ran(&mut self, name: &str, t: SystemTime, d: Duration) {
        record(&mut self.function_at(name, t).duration, d);
    }

    /// A request to method `method` on `resource` (`/orders/{id}`), as
    /// [`Metrics::api_request`] counts the API's, for its per-method series.
    pub fn method_request(
        &mut self,
        (resource, method): (&str, &str),
        t: SystemTime,
        status: u16,
        latency: Duration,
        integration: Option<Duration>,
    ) {
        // Without detailed metrics, API Gateway publishes no per-method series.
        if self.api == ApiMode::FunctionUrl || !self.detailed {
            return;
        }
        let periods = self
            .methods
            .entry((resource.to_string(), method.to_string()))
            .or_default();
        let p = period_at(periods, self.period_s, t);
        p.api_count += 1;
        match status {
            400..=499 => p.api_4xx += 1,
            500..=599 => p.api_5xx += 1,
            _ => {}
        }
        record(&mut p.latency, latency);
        if let Some(i) = integration {
            record(&mut p.integration_latency, i);
        }
    }

    /// A request through API Gateway that came at `t` and was answered `status` after
    /// `latency`; `integration`: how long the function took, when it was called.
    pub fn api_request(
        &mut self,
        t: SystemTime,
        status: u16,
        latency: Duration,
        integration: Option<Duration>,
    ) {
        if self.api == ApiMode::FunctionUrl {
            return;
        }
        let p = self.at(t);
        p.api_count += 1;
        match status {
            400..=499 => p.api_4xx += 1,
            500..=599 => p.api_5xx += 1,
            _ => {}
        }
        record(&mut p.latency, latency);
        if let Some(i) = integration {
            record(&mut p.integration_latency, i);
        }
    }

    /// Lambda admitted an invocation of a request that came at `t`; `busy` are the
    /// environments in use with it.
    pub fn invoked(&mut self, t: SystemTime, busy: u64) {
        let (reserved, provisioned) = (self.reserved, self.provisioned);
        let p = self.at(t);
        p.invocations += 1;
        p.concurrent_max = p.concurrent_max.max(busy);
        // One function in the account: it is the account's concurrency. A function with
        // reserved concurrency does not use the unreserved pool, and its reservation is
        // claimed whether used or not.
        if reserved.is_none() {
            p.unreserved_max = p.unreserved_max.max(busy);
        }
        p.claimed_max = p.claimed_max.max(reserved.unwrap_or(0).max(busy));
        if let Some(pc) = provisioned.filter(|&pc| pc > 0) {
            if busy > pc {
                p.spillover += 1;
            }
            p.pc_utilization_max = p.pc_utilization_max.max(busy.min(pc) as f64 / pc as f64);
        }
    }

    pub fn throttled(&mut self, t: SystemTime) {
        self.at(t).throttles += 1;
    }

    /// An invocation that came at `t` ended in a function error (Lambda's `Errors`).
    pub fn errored(&mut self, t: SystemTime) {
        self.at(t).errors += 1;
    }

    /// The function ran for `d` (cold start excluded, as Lambda's Duration does).
    pub fn ran(&mut self, t: SystemTime, d: Duration) {
        record(&mut self.at(t).duration, d);
    }

    fn series(&self, m: &MetricName) -> Option<(Series, &Periods)> {
        use Denominator::*;
        let dims = |want: &[(&str, &str)]| {
            m.dimensions.len() == want.len() && want.iter().all(|w| m.dimensions.contains(w))
        };
        let dim = |key: &str| {
            m.dimensions
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
        };
        if let Some(own) = self.own_series(m, dims(&[]), dim) {
            return Some(own);
        }
        let series = match m.namespace {
            "AWS/ApiGateway" if self.api != ApiMode::FunctionUrl => {
                let (key, value) = match self.api {
                    ApiMode::Http => ("ApiId", self.api_id.as_str()),
                    _ => ("ApiName", self.api_name.as_str()),
                };
                if !dims(&[(key, value), ("Stage", &self.stage)]) && !dims(&[(key, value)]) {
                    return None;
                }
                let (e4, e5) = match self.api {
                    ApiMode::Http => ("4xx", "5xx"),
                    _ => ("4XXError", "5XXError"),
                };
                Some(match m.name {
                    "Count" => Series::Count(|p| p.api_count, Itself),
                    n if n == e4 => Series::Count(|p| p.api_4xx, ApiRequests),
                    n if n == e5 => Series::Count(|p| p.api_5xx, ApiRequests),
                    "Latency" => Series::Time(|p| p.latency.as_ref()),
                    "IntegrationLatency" => Series::Time(|p| p.integration_latency.as_ref()),
                    _ => return None,
                })
            }
            "AWS/Lambda" if m.dimensions.is_empty() => Some(match m.name {
                "ConcurrentExecutions" => Series::Gauge(|p| p.concurrent_max as f64),
                "UnreservedConcurrentExecutions" => Series::Gauge(|p| p.unreserved_max as f64),
                "ClaimedAccountConcurrency" => Series::Gauge(|p| p.claimed_max as f64),
                "Invocations" => Series::Count(|p| p.invocations, Itself),
                "Throttles" => Series::Count(|p| p.throttles, InvocationRequests),
                _ => return None,
            }),
            "AWS/Lambda" => {
                let resource = format!("{}:{}", self.function, self.qualifier);
                let whole = dims(&[("FunctionName", &self.function)]);
                let alias = dims(&[("FunctionName", &self.function), ("Resource", &resource)]);
                if !whole && !alias {
                    return None;
                }
                Some(match m.name {
                    "Invocations" => Series::Count(|p| p.invocations, Itself),
                    "Throttles" => Series::Count(|p| p.throttles, InvocationRequests),
                    "Errors" => Series::Count(|p| p.errors, Invocations),
                    "ConcurrentExecutions" => Series::Gauge(|p| p.concurrent_max as f64),
                    "Duration" => Series::Time(|p| p.duration.as_ref()),
                    "ProvisionedConcurrencySpilloverInvocations" if alias => {
                        Series::Count(|p| p.spillover, Itself)
                    }
                    "ProvisionedConcurrencyUtilization" if alias => {
                        Series::Gauge(|p| p.pc_utilization_max)
                    }
                    _ => return None,
                })
            }
            _ => None,
        };
        series.map(|s| (s, &self.periods))
    }

    /// A series of one function of an API with routes (`FunctionName`, or with `Resource` =
    /// `name:qualifier`: the routes invoke the alias), or of one method (`ApiName` (REST)
    /// or `ApiId` (HTTP API), `Stage`, `Resource`, `Method`).
    fn own_series<'d>(
        &self,
        m: &MetricName,
        undimensioned: bool,
        dim: impl Fn(&str) -> Option<&'d str>,
    ) -> Option<(Series, &Periods)> {
        use Denominator::*;
        if undimensioned {
            return None;
        }
        match m.namespace {
            "AWS/Lambda" if matches!(m.dimensions.len(), 1 | 2) => {
                let name = dim("FunctionName")?;
                if m.dimensions.len() == 2
                    && dim("Resource")? != format!("{name}:{}", self.qualifier)
                {
                    return None;
                }
                let periods = self.functions.get(name)?;
                let series = match m.name {
                    "Invocations" => Series::Count(|p| p.invocations, Itself),
                    "Throttles" => Series::Count(|p| p.throttles, InvocationRequests),
                    "Errors" => Series::Count(|p| p.errors, Invocations),
                    "ConcurrentExecutions" => Series::Gauge(|p| p.concurrent_max as f64),
                    "Duration" => Series::Time(|p| p.duration.as_ref()),
                    _ => return None,
                };
                Some((series, periods))
            }
            "AWS/ApiGateway" if self.api != ApiMode::FunctionUrl && m.dimensions.len() == 4 => {
                let (api, e4, e5) = match self.api {
                    ApiMode::Http => (dim("ApiId")?, "4xx", "5xx"),
                    _ => (dim("ApiName")?, "4XXError", "5XXError"),
                };
                let own = if self.api == ApiMode::Http {
                    &self.api_id
                } else {
                    &self.api_name
                };
                if api != own || dim("Stage")? != self.stage {
                    return None;
                }
                let key = (dim("Resource")?.to_string(), dim("Method")?.to_string());
                let periods = self.methods.get(&key)?;
                let series = match m.name {
                    "Count" => Series::Count(|p| p.api_count, Itself),
                    n if n == e4 => Series::Count(|p| p.api_4xx, ApiRequests),
                    n if n == e5 => Series::Count(|p| p.api_5xx, ApiRequests),
                    "Latency" => Series::Time(|p| p.latency.as_ref()),
                    "IntegrationLatency" => Series::Time(|p| p.integration_latency.as_ref()),
                    _ => return None,
                };
                Some((series, periods))
            }
            _ => None,
        }
    }

    /// GetMetricData for one metric: a datapoint per `period_s` from `start` to `end` (epoch
    /// seconds) that had data and whose data has appeared by `now`. Newest first unless
    /// `ascending`. `Err`: a parameter AWS would refuse.
    pub fn datapoints(
        &self,
        metric: &MetricName,
        stat: &str,
        (start, end, period_s): (f64, f64, u64),
        now: SystemTime,
        ascending: bool,
    ) -> Result<Vec<(f64, f64)>, String> {
        if period_s == 0 || period_s % self.period_s != 0 {
            return Err(format!(
                "The parameter Period must be a multiple of {} (the emulator's metrics_period).",
                self.period_s
            ));
        }
        let Some((series, of)) = self.series(metric) else {
            return Ok(Vec::new());
        };
        // Periods run from the start (on the emulator's own period boundaries), as
        // CloudWatch's do from StartTime.
        let first = (start.max(0.0) as u64).div_ceil(self.period_s) * self.period_s;
        let mut out = Vec::new();
        let mut from = first;
        while (from as f64) < end {
            let periods: Vec<&Period> = of
                .range(from / self.period_s..(from + period_s) / self.period_s)
                .map(|(_, p)| p)
                .filter(|p| p.last_update.is_some_and(|u| u + self.delay <= now))
                .collect();
            if let Some(v) = statistic(series, stat, &periods) {
                out.push((from as f64, v));
            }
            from += period_s;
        }
        if !ascending {
            out.reverse();
        }
        Ok(out)
    }
}

/// The REST API's name the emulator's GetRestApi gives, and its metrics' `ApiName`.
pub fn api_name(c: &EmulatorConfig) -> String {
    format!("{}-api", c.function)
}

/// One statistic over the periods that fall in a requested one; `None`: no datapoint.
fn statistic(series: Series, stat: &str, periods: &[&Period]) -> Option<f64> {
    if periods.is_empty() {
        return None;
    }
    match series {
        Series::Count(of, denominator) => {
            let sum: u64 = periods.iter().map(|p| of(p)).sum();
            let samples: u64 = match denominator {
                Denominator::ApiRequests => periods.iter().map(|p| p.api_count).sum(),
                Denominator::Invocations => periods.iter().map(|p| p.invocations).sum(),
                Denominator::InvocationRequests => {
                    periods.iter().map(|p| p.invocations + p.throttles).sum()
                }
                Denominator::Itself => sum,
            };
            if samples == 0 {
                return None;
            }
            match stat {
                "Sum" => Some(sum as f64),
                "SampleCount" => Some(samples as f64),
                "Average" => Some(sum as f64 / samples as f64),
                // Each request counts 1 (or 0 for a 4XXError that was not one).
                "Maximum" => Some(if sum > 0 { 1.0 } else { 0.0 }),
                "Minimum" => Some(if sum == samples { 1.0 } else { 0.0 }),
                _ => None,
            }
        }
        Series::Gauge(of) => {
            // Published while something runs.
            let values = periods.iter().filter(|p| p.invocations > 0).map(|p| of(p));
            match stat {
                "Maximum" => values.reduce(f64::max),
                _ => None,
            }
        }
        Series::Time(of) => {
            let mut all = histogram();
            for h in periods.iter().filter_map(|p| of(p)) {
                all.add(h).ok()?;
            }
            if all.is_empty() {
                return None;
            }
            let ms = |us: u64| us as f64 / 1000.0;
            match stat {
                "Maximum" => Some(ms(all.max())),
                "Minimum" => Some(ms(all.min())),
                "Average" => Some(all.mean() / 1000.0),
                "SampleCount" => Some(all.len() as f64),
                "Sum" => Some(
                    all.iter_recorded()
                        .map(|v| v.value_iterated_to() as f64 * v.count_at_value() as f64)
                        .sum::<f64>()
                        / 1000.0,
                ),
                p => {
                    let q: f64 = p.strip_prefix('p')?.parse().ok()?;
                    (0.0..=100.0)
                        .contains(&q)
                        .then(|| ms(all.value_at_quantile(q / 100.0)))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    fn lambda(name: &str, dims: Vec<(&'static str, &'static str)>) -> MetricName<'static> {
        MetricName {
            namespace: "AWS/Lambda",
            name: Box::leak(name.to_string().into_boxed_str()),
            dimensions: dims,
        }
    }

    #[test]
    fn each_function_and_method_of_an_api_with_routes_has_its_own_series() {
        let c = EmulatorConfig::default();
        let mut m = Metrics::new(&c);
        for i in 0..3 {
            m.function_invoked("orders-get", at(600 + i), i + 1);
            m.method_request(
                ("/orders/{id}", "GET"),
                at(600 + i),
                200,
                Duration::from_millis(5),
                None,
            );
        }
        m.function_throttled("orders-create", at(601));
        m.function_throttled("orders-create", at(602));
        m.method_request(
            ("/orders", "POST"),
            at(601),
            500,
            Duration::from_millis(1),
            None,
        );
        let now = at(10_000);
        let sum = |name: &'static str, f: &'static str| {
            m.datapoints(
                &lambda(name, vec![("FunctionName", f)]),
                "Sum",
                (600.0, 660.0, 60),
                now,
                true,
            )
            .unwrap()
        };
        assert_eq!(sum("Throttles", "orders-create"), vec![(600.0, 2.0)]);
        assert_eq!(sum("Throttles", "orders-get"), vec![(600.0, 0.0)]);
        assert_eq!(sum("Invocations", "orders-get"), vec![(600.0, 3.0)]);
        assert_eq!(sum("Invocations", "nobody"), vec![]);
        let name = api_name(&c);
        let method = |r: &'static str, verb: &'static str, metric: &'static str| MetricName {
            namespace: "AWS/ApiGateway",
            name: metric,
            dimensions: vec![
                ("ApiName", name.as_str()),
                ("Stage", "prod"),
                ("Resource", r),
                ("Method", verb),
            ],
        };
        let get = |mn: MetricName| {
            m.datapoints(&mn, "Sum", (600.0, 660.0, 60), now, true)
                .unwrap()
        };
        assert_eq!(
            get(method("/orders/{id}", "GET", "Count")),
            vec![(600.0, 3.0)]
        );
        assert_eq!(
            get(method("/orders", "POST", "5XXError")),
            vec![(600.0, 1.0)]
        );
        assert_eq!(get(method("/orders", "GET", "Count")), vec![]);
    }

    #[test]
    fn a_route_functions_alias_has_its_series_and_methods_need_detailed_metrics() {
        let c = EmulatorConfig {
            detailed_metrics: false,
            ..EmulatorConfig::default()
        };
        let mut m = Metrics::new(&c);
        m.function_throttled("orders-create", at(600));
        m.method_request(
            ("/orders", "POST"),
            at(600),
            500,
            Duration::from_millis(1),
            None,
        );
        let now = at(10_000);
        let throttles = |resource: &'static str| {
            m.datapoints(
                &lambda(
                    "Throttles",
                    vec![("FunctionName", "orders-create"), ("Resource", resource)],
                ),
                "Sum",
                (600.0, 660.0, 60),
                now,
                true,
            )
            .unwrap()
        };
        // The routes invoke the alias `qualifier`: its series is the function's.
        assert_eq!(throttles("orders-create:live"), vec![(600.0, 1.0)]);
        assert_eq!(throttles("orders-create:7"), vec![]);
        let name = api_name(&c);
        let count = MetricName {
            namespace: "AWS/ApiGateway",
            name: "Count",
            dimensions: vec![
                ("ApiName", name.as_str()),
                ("Stage", "prod"),
                ("Resource", "/orders"),
                ("Method", "POST"),
            ],
        };
        assert_eq!(
            m.datapoints(&count, "Sum", (600.0, 660.0, 60), now, true)
                .unwrap(),
            vec![],
            "no per-method series without detailed metrics"
        );
    }

    #[test]
    fn periods_count_what_happened_in_them() {
        let c = EmulatorConfig {
            metrics_period: Duration::from_secs(60),
            ..EmulatorConfig::default()
        };
        let mut m = Metrics::new(&c);
        for i in 0..5 {
            m.api_request(at(600 + i), 200, Duration::from_millis(40), None);
            m.invoked(at(600 + i), i + 1);
        }
        m.api_request(at(660), 429, Duration::from_millis(1), None);
        m.throttled(at(661));
        let name = api_name(&c);
        let count = MetricName {
            namespace: "AWS/ApiGateway",
            name: "Count",
            dimensions: vec![("ApiName", name.as_str()), ("Stage", "prod")],
        };
        let now = at(10_000);
        let got = m
            .datapoints(&count, "Sum", (600.0, 720.0, 60), now, true)
            .unwrap();
        assert_eq!(got, vec![(600.0, 5.0), (660.0, 1.0)]);
        // Two minutes in one period.
        let got = m
            .datapoints(&count, "Sum", (600.0, 720.0, 120), now, true)
            .unwrap();
        assert_eq!(got, vec![(600.0, 6.0)]);
        let conc = lambda(
            "ConcurrentExecutions",
            vec![("FunctionName", "emulated-function")],
        );
        let got = m
            .datapoints(&conc, "Maximum", (600.0, 720.0, 60), now, false)
            .unwrap();
        assert_eq!(
            got,
            vec![(600.0, 5.0)],
            "newest first; no invocation at 660"
        );
        let throttles = lambda("Throttles", vec![]);
        let got = m
            .datapoints(&throttles, "Sum", (600.0, 720.0, 60), now, true)
            .unwrap();
        // Published with each invocation request: 0 where none was throttled.
        assert_eq!(got, vec![(600.0, 0.0), (660.0, 1.0)]);
        // Another function, another API: nothing.
        let other = lambda("Invocations", vec![("FunctionName", "other")]);
        assert!(m
            .datapoints(&other, "Sum", (600.0, 720.0, 60), now, true)
            .unwrap()
            .is_empty());
        assert!(m
            .datapoints(&count, "Sum", (600.0, 720.0, 30), now, true)
            .is_err());
    }

    #[test]
    fn function_errors_are_lambdas_errors_per_invocation() {
        let mut m = Metrics::new(&EmulatorConfig::default());
        for _ in 0..4 {
            m.invoked(at(60), 1);
        }
        m.errored(at(60));
        let errors = lambda("Errors", vec![("FunctionName", "emulated-function")]);
        let q = (60.0, 120.0, 60);
        let read = |stat| m.datapoints(&errors, stat, q, at(1000), true).unwrap();
        assert_eq!(read("Sum"), vec![(60.0, 1.0)]);
        assert_eq!(read("Average"), vec![(60.0, 0.25)]);
        assert_eq!(read("SampleCount"), vec![(60.0, 4.0)]);
    }

    #[test]
    fn datapoints_appear_after_the_delay() {
        let c = EmulatorConfig {
            metrics_period: Duration::from_secs(1),
            metrics_delay: Duration::from_secs(5),
            ..EmulatorConfig::default()
        };
        let mut m = Metrics::new(&c);
        m.invoked(at(100), 1);
        m.invoked(at(101), 1);
        let inv = lambda("Invocations", vec![]);
        let read = |now| {
            m.datapoints(&inv, "Sum", (100.0, 102.0, 1), at(now), true)
                .unwrap()
        };
        assert_eq!(read(105), vec![(100.0, 1.0)]);
        assert_eq!(read(106), vec![(100.0, 1.0), (101.0, 1.0)]);
    }

    #[test]
    fn latency_percentiles_come_from_the_histogram() {
        let mut m = Metrics::new(&EmulatorConfig::default());
        for ms in 1..=100 {
            m.ran(at(60), Duration::from_millis(ms));
        }
        let d = lambda("Duration", vec![("FunctionName", "emulated-function")]);
        let one = |stat| {
            m.datapoints(&d, stat, (60.0, 120.0, 60), at(1000), true)
                .unwrap()[0]
                .1
        };
        assert!((one("p50") - 50.0).abs() < 1.0, "{}", one("p50"));
        assert!((one("p99") - 99.0).abs() < 1.0, "{}", one("p99"));
        assert!((one("Maximum") - 100.0).abs() < 1.0);
        assert_eq!(one("SampleCount"), 100.0);
    }

    #[test]
    fn provisioned_concurrency_spills_over_past_its_size() {
        let c = EmulatorConfig {
            provisioned_concurrency: Some(2),
            ..EmulatorConfig::default()
        };
        let mut m = Metrics::new(&c);
        for busy in 1..=4 {
            m.invoked(at(0), busy);
        }
        let alias = vec![
            ("FunctionName", "emulated-function"),
            ("Resource", "emulated-function:live"),
        ];
        let spill = lambda("ProvisionedConcurrencySpilloverInvocations", alias.clone());
        let util = lambda("ProvisionedConcurrencyUtilization", alias);
        let q = (0.0, 60.0, 60);
        assert_eq!(
            m.datapoints(&spill, "Sum", q, at(100), true).unwrap(),
            vec![(0.0, 2.0)]
        );
        assert_eq!(
            m.datapoints(&util, "Maximum", q, at(100), true).unwrap(),
            vec![(0.0, 1.0)]
        );
    }
}
