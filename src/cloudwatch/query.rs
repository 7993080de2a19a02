//! What to ask CloudWatch: the metrics, names and dimensions AWS publishes for the
//! function, the account and the API stage, over the run's window. Pure.

use super::ServerMinute;

pub use stampede_results::cloudwatch::{ApiKind, ApiRef};

/// Whose metrics: the function (name, not ARN) and its qualifier, the API stage.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricTarget {
    pub function: Option<String>,
    pub qualifier: Option<String>,
    pub api: Option<ApiRef>,
}

/// `[start, end)` in epoch seconds, whole periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
    pub period_s: u64,
}

impl Window {
    /// The run's span rounded out to whole periods; never empty.
    pub fn around(started: f64, duration_s: f64, period_s: u64) -> Window {
        let p = period_s.max(1) as i64;
        let start = (started.floor() as i64).div_euclid(p) * p;
        let end_s = (started + duration_s.max(0.0)).ceil() as i64;
        let end = (end_s + p - 1).div_euclid(p) * p;
        Window {
            start,
            end: end.max(start + p),
            period_s: p as u64,
        }
    }

    /// The periods' starts.
    pub fn minutes(&self) -> Vec<i64> {
        (self.start..self.end)
            .step_by(self.period_s as usize)
            .collect()
    }

    /// The period second `t_s` of a run that started at `started` (epoch seconds) belongs
    /// to: the one its middle falls in, clamped to the window (the last second of a run can
    /// have its middle past the window's end).
    pub fn period_of(&self, started: f64, t_s: u64) -> usize {
        let middle = started + t_s as f64 + 0.5;
        let i = ((middle - self.start as f64) / self.period_s as f64).floor();
        let last = (self.len_s() / self.period_s).saturating_sub(1) as usize;
        (i.max(0.0) as usize).min(last)
    }

    pub fn len_s(&self) -> u64 {
        (self.end - self.start) as u64
    }
}

/// One metric to read into one field of [`ServerMinute`].
#[derive(Clone, Debug, PartialEq)]
pub struct MetricQuery {
    /// CloudWatch's query id: lowercase first, letters, digits and `_`.
    pub id: String,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub dimensions: Vec<(String, String)>,
    pub stat: &'static str,
    pub field: Field,
    /// Over the whole window (the total), or per period.
    pub whole: bool,
}

impl MetricQuery {
    pub fn asked(&self) -> Asked<'_> {
        Asked {
            id: &self.id,
            namespace: self.namespace,
            metric: self.metric,
            dimensions: &self.dimensions,
            stat: self.stat,
            whole: self.whole,
        }
    }
}

/// One metric as GetMetricData is asked for it, whatever its answer is read into.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Asked<'a> {
    pub id: &'a str,
    pub namespace: &'a str,
    pub metric: &'a str,
    pub dimensions: &'a [(String, String)],
    pub stat: &'a str,
    /// One period as long as the window, or the window's periods.
    pub whole: bool,
}

/// A field of [`ServerMinute`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    ApiCount,
    Api4xx,
    Api5xx,
    ApiLatencyP99,
    ApiIntegrationLatencyP99,
    Invocations,
    Throttles,
    Errors,
    ConcurrentMax,
    DurationP50,
    DurationP99,
    DurationMax,
    ProvisionedSpillover,
    ProvisionedUtilization,
    AccountThrottles,
    AccountConcurrentMax,
    AccountUnreservedMax,
    AccountClaimedMax,
}

impl Field {
    pub fn set(self, m: &mut ServerMinute, v: f64) {
        let slot = match self {
            Field::ApiCount => &mut m.api_count,
            Field::Api4xx => &mut m.api_4xx,
            Field::Api5xx => &mut m.api_5xx,
            Field::ApiLatencyP99 => &mut m.api_latency_p99_ms,
            Field::ApiIntegrationLatencyP99 => &mut m.api_integration_latency_p99_ms,
            Field::Invocations => &mut m.invocations,
            Field::Throttles => &mut m.throttles,
            Field::Errors => &mut m.errors,
            Field::ConcurrentMax => &mut m.concurrent_max,
            Field::DurationP50 => &mut m.duration_p50_ms,
            Field::DurationP99 => &mut m.duration_p99_ms,
            Field::DurationMax => &mut m.duration_max_ms,
            Field::ProvisionedSpillover => &mut m.provisioned_spillover,
            Field::ProvisionedUtilization => &mut m.provisioned_utilization,
            Field::AccountThrottles => &mut m.account_throttles,
            Field::AccountConcurrentMax => &mut m.account_concurrent_max,
            Field::AccountUnreservedMax => &mut m.account_unreserved_max,
            Field::AccountClaimedMax => &mut m.account_claimed_max,
        };
        *slot = Some(v);
    }
}

const API: [(Field, &str, &str, &str); 5] = [
    // (field, REST metric, HTTP API metric, statistic)
    (Field::ApiCount, "Count", "Count", "Sum"),
    (Field::Api4xx, "4XXError", "4xx", "Sum"),
    (Field::Api5xx, "5XXError", "5xx", "Sum"),
    (Field::ApiLatencyP99, "Latency", "Latency", "p99"),
    (
        Field::ApiIntegrationLatencyP99,
        "IntegrationLatency",
        "IntegrationLatency",
        "p99",
    ),
];

const FUNCTION: [(Field, &str, &str); 7] = [
    (Field::Invocations, "Invocations", "Sum"),
    (Field::Throttles, "Throttles", "Sum"),
    (Field::Errors, "Errors", "Sum"),
    (Field::ConcurrentMax, "ConcurrentExecutions", "Maximum"),
    (Field::DurationP50, "Duration", "p50"),
    (Field::DurationP99, "Duration", "p99"),
    (Field::DurationMax, "Duration", "Maximum"),
];

/// Published for an alias or version only.
const PROVISIONED: [(Field, &str, &str); 2] = [
    (
        Field::ProvisionedSpillover,
        "ProvisionedConcurrencySpilloverInvocations",
        "Sum",
    ),
    (
        Field::ProvisionedUtilization,
        "ProvisionedConcurrencyUtilization",
        "Maximum",
    ),
];

const ACCOUNT: [(Field, &str, &str); 4] = [
    (Field::AccountThrottles, "Throttles", "Sum"),
    (
        Field::AccountConcurrentMax,
        "ConcurrentExecutions",
        "Maximum",
    ),
    (
        Field::AccountUnreservedMax,
        "UnreservedConcurrentExecutions",
        "Maximum",
    ),
    (
        Field::AccountClaimedMax,
        "ClaimedAccountConcurrency",
        "Maximum",
    ),
];

/// A function named by its name, ARN or partial ARN (`name:qualifier` too): its name, and
/// the qualifier the ARN carried.
pub fn function_name(given: &str) -> (String, Option<String>) {
    let rest = match given.find(":function:") {
        Some(i) => &given[i + ":function:".len()..],
        None => given.strip_prefix("function:").unwrap_or(given),
    };
    match rest.split_once(':') {
        Some((name, q)) if !q.is_empty() => (name.to_string(), Some(q.to_string())),
        _ => (rest.trim_end_matches(':').to_string(), None),
    }
}

/// Every query for `target`: per period and over the whole window. The account's are
/// always asked; the function's and the API's when they are known.
pub fn queries(target: &MetricTarget) -> Vec<MetricQuery> {
    let mut out = Vec::new();
    for whole in [false, true] {
        let mut add = |namespace, metric, dimensions: &[(String, String)], stat, field| {
            out.push(MetricQuery {
                id: format!("{}{}", if whole { "t" } else { "m" }, out.len()),
                namespace,
                metric,
                dimensions: dimensions.to_vec(),
                stat,
                field,
                whole,
            });
        };
        if let Some(api) = &target.api {
            let (key, value) = match api.kind {
                ApiKind::Rest => ("ApiName", api.name.clone().unwrap_or_default()),
                ApiKind::Http => ("ApiId", api.id.clone()),
            };
            let dims = [
                (key.to_string(), value),
                ("Stage".to_string(), api.stage.clone()),
            ];
            for (field, rest, http, stat) in API {
                let metric = if api.kind == ApiKind::Rest {
                    rest
                } else {
                    http
                };
                add("AWS/ApiGateway", metric, &dims, stat, field);
            }
        }
        if let Some(function) = &target.function {
            let qualifier = target.qualifier.as_deref().filter(|q| *q != "$LATEST");
            let mut dims = vec![("FunctionName".to_string(), function.clone())];
            if let Some(q) = qualifier {
                dims.push(("Resource".to_string(), format!("{function}:{q}")));
            }
            for (field, metric, stat) in FUNCTION {
                add("AWS/Lambda", metric, &dims, stat, field);
            }
            if qualifier.is_some() {
                for (field, metric, stat) in PROVISIONED {
                    add("AWS/Lambda", metric, &dims, stat, field);
                }
            }
        }
        for (field, metric, stat) in ACCOUNT {
            add("AWS/Lambda", metric, &[], stat, field);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_rounded_out_to_whole_periods() {
        let w = Window::around(1_000_010.4, 65.0, 60);
        assert_eq!((w.start, w.end), (999_960, 1_000_080));
        assert_eq!(w.minutes(), vec![999_960, 1_000_020]);
        // Shorter than a minute, within one: one period.
        let w = Window::around(120.0, 0.2, 60);
        assert_eq!((w.start, w.end), (120, 180));
        let w = Window::around(100.5, 2.0, 1);
        assert_eq!((w.start, w.end), (100, 103));
    }

    #[test]
    fn functions_are_named_by_name_or_arn() {
        assert_eq!(function_name("orders"), ("orders".into(), None));
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:orders:live"),
            ("orders".into(), Some("live".into()))
        );
        assert_eq!(
            function_name("123456789012:function:orders"),
            ("orders".into(), None)
        );
        assert_eq!(
            function_name("orders:7"),
            ("orders".into(), Some("7".into()))
        );
    }

    #[test]
    fn queries_use_the_dimensions_aws_publishes() {
        let rest = MetricTarget {
            function: Some("orders".into()),
            qualifier: Some("live".into()),
            api: Some(ApiRef {
                kind: ApiKind::Rest,
                id: "a1b2".into(),
                name: Some("shop".into()),
                stage: "prod".into(),
            }),
        };
        let q = queries(&rest);
        assert_eq!(q.len(), 2 * (5 + 7 + 2 + 4));
        let e4 = q.iter().find(|q| q.field == Field::Api4xx).unwrap();
        assert_eq!(e4.metric, "4XXError");
        assert_eq!(
            e4.dimensions,
            vec![
                ("ApiName".to_string(), "shop".to_string()),
                ("Stage".into(), "prod".into())
            ]
        );
        let inv = q.iter().find(|q| q.field == Field::Invocations).unwrap();
        assert_eq!(inv.dimensions[1], ("Resource".into(), "orders:live".into()));
        let account = q
            .iter()
            .find(|q| q.field == Field::AccountConcurrentMax)
            .unwrap();
        assert!(account.dimensions.is_empty());
        // Ids are unique and start with a lowercase letter.
        let mut ids: Vec<_> = q.iter().map(|q| q.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), q.len());

        let http = MetricTarget {
            api: Some(ApiRef {
                kind: ApiKind::Http,
                id: "xyz".into(),
                name: None,
                stage: "$default".into(),
            }),
            ..MetricTarget::default()
        };
        let q = queries(&http);
        assert_eq!(q.len(), 2 * (5 + 4));
        assert!(q
            .iter()
            .any(|q| q.metric == "5xx"
                && q.dimensions[0] == ("ApiId".to_string(), "xyz".to_string())));
        // Without a qualifier, no provisioned-concurrency metrics.
        let plain = MetricTarget {
            function: Some("orders".into()),
            ..MetricTarget::default()
        };
        assert!(!queries(&plain)
            .iter()
            .any(|q| q.metric.starts_with("Provisioned")));
    }
}
