//! The emulator's own series (`stampede_emulator_*`): what it did as the server saw it, from
//! its [`Stats`], served by `stampede emulate --metrics-listen` and, beside the client's,
//! by a run whose emulator is in-process. Pure: stats in, families out. Names are a
//! contract (docs/live.md); counters end in `_total`, the rest are gauges.

use stampede_emulator::Stats;

use super::metrics::{Family, Kind, Sample};

type Labels = Vec<(&'static str, String)>;

/// The families of `stats`, each series carrying `labels` (a run's `scenario`, `run_id`;
/// none for `emulate`). Per-route and per-function families only with routes.
pub fn gather(stats: &Stats, labels: &[(&'static str, String)]) -> Vec<Family> {
    let base = labels.to_vec();
    let one = |value: u64| vec![sample(base.clone(), value as f64)];
    let mut families = vec![
        counter(
            "stampede_emulator_requests_total",
            "Data-plane requests received, Invoke API ones included.",
            one(stats.requests),
        ),
        counter(
            "stampede_emulator_ok_total",
            "Requests answered 200 without a function error.",
            one(stats.ok),
        ),
        counter(
            "stampede_emulator_throttles_total",
            "Requests refused by a throttle, by where: API Gateway's account, stage or route bucket, Lambda's reserved or account concurrency or scaling rate.",
            [
                ("api_gateway_account", stats.throttled_api_gateway_account),
                ("api_gateway_stage", stats.throttled_api_gateway_stage),
                ("api_gateway_route", stats.throttled_api_gateway_route),
                ("lambda_reserved", stats.throttled_lambda_reserved),
                ("lambda_account", stats.throttled_lambda_account),
                ("lambda_scaling", stats.throttled_lambda_scaling),
            ]
            .into_iter()
            .map(|(place, n)| sample(with(&base, "where", place), n as f64))
            .collect(),
        ),
        counter(
            "stampede_emulator_integration_timeouts_total",
            "Requests answered with the integration timeout (504 or 503).",
            one(stats.integration_timeouts),
        ),
        counter(
            "stampede_emulator_function_errors_total",
            "Invocations that ended in a function error.",
            one(stats.function_errors),
        ),
        counter(
            "stampede_emulator_cold_starts_total",
            "Invocations that paid a cold start.",
            one(stats.cold_starts),
        ),
        counter(
            "stampede_emulator_environments_created_total",
            "Execution environments created.",
            one(stats.environments_created),
        ),
        counter(
            "stampede_emulator_environments_expired_total",
            "Execution environments dropped after their idle expiry.",
            one(stats.environments_expired),
        ),
        counter(
            "stampede_emulator_invoke_api_requests_total",
            "Lambda Invoke API requests, whatever their answer.",
            one(stats.invocations_direct),
        ),
        counter(
            "stampede_emulator_unmatched_total",
            "Requests no route selected (REST 403, HTTP API 404).",
            one(stats.unmatched),
        ),
        gauge(
            "stampede_emulator_in_flight",
            "Invocations running now.",
            one(stats.in_flight),
        ),
        gauge(
            "stampede_emulator_warm_environments",
            "Idle warm execution environments now.",
            one(stats.warm_environments),
        ),
        gauge(
            "stampede_emulator_peak_concurrency",
            "Most invocations running at once so far.",
            one(stats.peak_concurrency),
        ),
        gauge(
            "stampede_emulator_init_min_seconds",
            "The shortest cold start taken so far, seconds (0: none yet).",
            vec![sample(base.clone(), stats.init_ms_min / 1000.0)],
        ),
        gauge(
            "stampede_emulator_init_max_seconds",
            "The longest cold start taken so far, seconds (0: none yet).",
            vec![sample(base.clone(), stats.init_ms_max / 1000.0)],
        ),
    ];
    families.extend(routes(stats, &base));
    families.extend(functions(stats, &base));
    families
}

/// One family per route counter, a series per route (none without routes).
fn routes(stats: &Stats, base: &Labels) -> Vec<Family> {
    let of = |pick: fn(&stampede_emulator::RouteStats) -> u64| -> Vec<Sample> {
        stats
            .routes
            .iter()
            .map(|r| {
                let labels = with(&with(base, "route", &r.route), "function", &r.function);
                sample(labels, pick(r) as f64)
            })
            .collect()
    };
    let throttles = stats
        .routes
        .iter()
        .flat_map(|r| {
            let labels = with(&with(base, "route", &r.route), "function", &r.function);
            [
                ("route", r.throttled_route),
                ("api_gateway", r.throttled_api_gateway),
                ("lambda", r.throttled_lambda),
            ]
            .map(|(place, n)| sample(with(&labels, "where", place), n as f64))
        })
        .collect();
    vec![
        counter(
            "stampede_emulator_route_requests_total",
            "Requests a route selected.",
            of(|r| r.requests),
        ),
        counter(
            "stampede_emulator_route_ok_total",
            "A route's requests answered 200 without a function error.",
            of(|r| r.ok),
        ),
        counter(
            "stampede_emulator_route_throttles_total",
            "A route's requests refused, by where: its own bucket, API Gateway's account or stage, its function's Lambda limits.",
            throttles,
        ),
        counter(
            "stampede_emulator_route_function_errors_total",
            "A route's invocations that ended in a function error.",
            of(|r| r.function_errors),
        ),
        counter(
            "stampede_emulator_route_integration_timeouts_total",
            "A route's requests answered with the integration timeout.",
            of(|r| r.integration_timeouts),
        ),
    ]
}

/// One family per function counter or gauge, a series per function (none without routes).
fn functions(stats: &Stats, base: &Labels) -> Vec<Family> {
    let of = |pick: fn(&stampede_emulator::FunctionStats) -> u64| -> Vec<Sample> {
        stats
            .functions
            .iter()
            .map(|f| sample(with(base, "function", &f.name), pick(f) as f64))
            .collect()
    };
    let throttles = stats
        .functions
        .iter()
        .flat_map(|f| {
            let labels = with(base, "function", &f.name);
            [
                ("lambda_reserved", f.throttled_reserved),
                ("lambda_account", f.throttled_account),
                ("lambda_scaling", f.throttled_scaling),
            ]
            .map(|(place, n)| sample(with(&labels, "where", place), n as f64))
        })
        .collect();
    vec![
        counter(
            "stampede_emulator_function_invocations_total",
            "A function's invocations.",
            of(|f| f.invocations),
        ),
        counter(
            "stampede_emulator_function_cold_starts_total",
            "A function's invocations that paid a cold start.",
            of(|f| f.cold_starts),
        ),
        counter(
            "stampede_emulator_function_throttles_total",
            "A function's invocations Lambda refused, by where: reserved or account concurrency, scaling rate.",
            throttles,
        ),
        gauge(
            "stampede_emulator_function_in_flight",
            "A function's invocations running now.",
            of(|f| f.in_flight),
        ),
        gauge(
            "stampede_emulator_function_peak_concurrency",
            "A function's most invocations running at once so far.",
            of(|f| f.peak_concurrency),
        ),
    ]
}

fn with(labels: &Labels, name: &'static str, value: &str) -> Labels {
    let mut labels = labels.clone();
    labels.push((name, value.to_string()));
    labels
}

fn sample(labels: Labels, value: f64) -> Sample {
    Sample {
        suffix: "",
        labels,
        value,
    }
}

fn counter(name: &'static str, help: &'static str, samples: Vec<Sample>) -> Family {
    Family {
        name,
        help,
        kind: Kind::Counter,
        samples,
    }
}

fn gauge(name: &'static str, help: &'static str, samples: Vec<Sample>) -> Family {
    Family {
        name,
        help,
        kind: Kind::Gauge,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stampede_emulator::{FunctionStats, RouteStats};

    fn value(all: &[Family], name: &str, label: Option<(&str, &str)>) -> f64 {
        let f = all.iter().find(|f| f.name == name).unwrap();
        f.samples
            .iter()
            .find(|s| label.is_none_or(|(k, v)| s.labels.iter().any(|(n, x)| *n == k && x == v)))
            .unwrap()
            .value
    }

    #[test]
    fn every_total_is_a_series_labelled_as_asked() {
        let stats = Stats {
            requests: 10,
            ok: 6,
            throttled_api_gateway_stage: 3,
            init_ms_max: 250.0,
            ..Stats::default()
        };
        let all = gather(&stats, &[("run_id", "0000abcd".into())]);
        assert_eq!(value(&all, "stampede_emulator_requests_total", None), 10.0);
        assert_eq!(
            value(
                &all,
                "stampede_emulator_throttles_total",
                Some(("where", "api_gateway_stage"))
            ),
            3.0
        );
        assert_eq!(
            value(&all, "stampede_emulator_init_max_seconds", None),
            0.25
        );
        assert!(all
            .iter()
            .flat_map(|f| &f.samples)
            .all(|s| s.labels[0] == ("run_id", "0000abcd".into())));
        // Without routes the per-route and per-function families have no series.
        let route = all
            .iter()
            .find(|f| f.name == "stampede_emulator_route_requests_total")
            .unwrap();
        assert!(route.samples.is_empty());
    }

    #[test]
    fn routes_and_functions_have_a_series_each() {
        let stats = Stats {
            routes: vec![RouteStats {
                route: "GET /orders".into(),
                function: "orders".into(),
                requests: 5,
                throttled_lambda: 2,
                ..RouteStats::default()
            }],
            functions: vec![FunctionStats {
                name: "orders".into(),
                invocations: 3,
                throttled_reserved: 2,
                ..FunctionStats::default()
            }],
            ..Stats::default()
        };
        let all = gather(&stats, &[]);
        assert_eq!(
            value(
                &all,
                "stampede_emulator_route_requests_total",
                Some(("route", "GET /orders"))
            ),
            5.0
        );
        assert_eq!(
            value(
                &all,
                "stampede_emulator_route_throttles_total",
                Some(("where", "lambda"))
            ),
            2.0
        );
        assert_eq!(
            value(
                &all,
                "stampede_emulator_function_throttles_total",
                Some(("where", "lambda_reserved"))
            ),
            2.0
        );
    }
}
