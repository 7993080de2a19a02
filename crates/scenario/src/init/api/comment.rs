//! The comments on a drafted route: what it integrates with, and each of its limits with
//! the call that read it.

use stampede_results::quotas::{LimitKey, Quota};
use stampede_results::routes::{IntegrationKind, RouteLimits};

pub(super) fn integration(route: &RouteLimits) -> String {
    match (route.integration, route.function_label()) {
        (IntegrationKind::Lambda, Some(f)) => format!("{f} (Lambda)"),
        (IntegrationKind::Lambda, None) => "a Lambda function not named by its URI".into(),
        (IntegrationKind::Http, _) => {
            "an HTTP endpoint (no function: its limits are the backend's)".into()
        }
        (IntegrationKind::Aws, _) => "an AWS service integration (no function)".into(),
        (IntegrationKind::Mock, _) => "a mock integration (API Gateway answers itself)".into(),
        (IntegrationKind::None, _) => "no integration read".into(),
    }
}

/// The route's limits, one line each: its function's, its own throttle, usage plans',
/// and the function's configuration.
pub(super) fn limits(route: &RouteLimits) -> Vec<String> {
    let mut out: Vec<String> = [
        (
            LimitKey::FunctionReservedConcurrency,
            None,
            "reserved concurrency",
        ),
        (
            LimitKey::FunctionProvisionedConcurrency,
            None,
            "provisioned concurrency",
        ),
        (
            LimitKey::RouteThrottleRate,
            Some(LimitKey::RouteThrottleBurst),
            "route throttle",
        ),
        (
            LimitKey::UsagePlanRate,
            Some(LimitKey::UsagePlanBurst),
            "usage plan throttle",
        ),
    ]
    .into_iter()
    .filter_map(|(key, burst, title)| limit(&route.quotas, key, burst, title))
    .collect();
    if let Some(c) = &route.function_config {
        let timeout = c
            .timeout_s
            .map(|t| format!(", timeout {t} s"))
            .unwrap_or_default();
        out.push(format!(
            "memory {} MB, {}{timeout} ({})",
            c.memory_mb,
            c.architecture.key(),
            c.source.describe()
        ));
    }
    out
}

/// One limit (a rate with its burst, when `burst` is given) and its source: `route
/// throttle 100 req/s, burst 50 (apigateway:GetStage)`, `no reserved concurrency (…)`;
/// `None` when it was not read.
pub(super) fn limit(
    quotas: &[Quota],
    key: LimitKey,
    burst: Option<LimitKey>,
    title: &str,
) -> Option<String> {
    let find = |k: LimitKey| quotas.iter().find(|q| q.key == k);
    let main = find(key);
    let burst = burst.and_then(find);
    let source = main.or(burst)?.source.describe();
    let note = main
        .or(burst)
        .and_then(|q| q.note.as_deref())
        .map(|n| format!("; {n}"))
        .unwrap_or_default();
    let value = |q: Option<&Quota>| q.and_then(|q| q.value).map(number);
    let text = match (value(main), burst.map(|b| value(Some(b)))) {
        (None, None | Some(None)) => format!("no {title}"),
        (Some(v), None) => format!("{title} {v}"),
        (Some(v), Some(Some(b))) => format!("{title} {v} req/s, burst {b}"),
        (Some(v), Some(None)) => format!("{title} {v} req/s, no burst set"),
        (None, Some(Some(b))) => format!("{title} burst {b}, no rate set"),
    };
    Some(format!("{text} ({source}{note})"))
}

/// A whole number without its `.0`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
