//! `--metrics-listen` checked by the real Prometheus server and its linter: a 10 s run on
//! the built-in emulator, throttled on purpose, scraped every second; after it, PromQL's
//! answers equal the results file's counts (and the emulator's own), `promtool check
//! metrics` finds nothing in a scrape taken mid-run, and every expression of the Grafana
//! dashboard (deploy/grafana/stampede.json) names metrics the scrape has and is one
//! Prometheus accepts.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::prometheus::{free_addr, get, promtool_check_metrics, Prometheus};
use common::{command, spawn_watched, write};
use serde_json::Value;

/// Two stages, the second past the emulator's API Gateway throttle (120 req/s) and its
/// function's reserved concurrency (4): ok answers, API Gateway's 429s and Lambda's
/// throttles (REST: 500s, suspected Lambda throttles) all appear.
const SCENARIO: &str = r#"
name = "live-metrics"
seed = 3

[emulator]
rate = 120
burst = 40
reserved_concurrency = 4
cold_start = "50ms"
duration = "10ms..30ms"

[target]
url = "/prod/orders"

[[stages]]
name = "warm"
kind = "constant"
rate = 40
duration = "3s"

[[stages]]
name = "peak"
kind = "constant"
rate = 200
duration = "7s"
"#;

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// What a scraped run left: Prometheus (still up), the results, a scrape taken mid-run,
/// and the instant of a scrape taken once the results were written (final counts).
struct ScrapedRun {
    prometheus: Prometheus,
    results: Value,
    mid_run: String,
    after: f64,
    /// When stampede was started (Unix seconds).
    started: f64,
}

fn scraped_run(dir: &Path) -> ScrapedRun {
    let scenario = write(dir, "live.toml", SCENARIO);
    let out = dir.join("results.json");
    let metrics = free_addr();
    let prometheus = Prometheus::start(dir, &[metrics]);
    let started = unix_now();
    let mut run = spawn_watched(command(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--metrics-listen",
        &metrics.to_string(),
        // Long enough for two scrapes after the results are written.
        "--metrics-linger",
        "6s",
        "--no-cloudwatch",
        "--quiet",
    ]));

    // Mid-run, once the throttles have begun.
    let mut mid_run = String::new();
    run.wait_for("a scrape with throttles", Duration::from_secs(40), || {
        // A few scrapes a second, not a hundred: the run has the machine's cores.
        std::thread::sleep(Duration::from_millis(100));
        mid_run = get(metrics, "/metrics").map(|(_, b)| b).unwrap_or_default();
        mid_run.contains("stampede_throttles_total{") && mid_run.contains("stampede_running{")
    });

    // The results are renamed into place whole: once they parse, the counters are final.
    let mut results = Value::Null;
    run.wait_for("the results file", Duration::from_secs(40), || {
        results = std::fs::read(&out)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        !results.is_null()
    });
    let written = unix_now();
    // A scrape that began after that (a sample's timestamp is its scrape's start).
    let mut after = 0.0;
    run.wait_for("a scrape after the results", Duration::from_secs(6), || {
        let answer = prometheus.query("timestamp(stampede_running)", None);
        after = answer.first().map_or(0.0, common::prometheus::sample_value);
        after > written + 0.01
    });
    let ended = run.finish(Duration::from_secs(30));
    // The quota check fails (the throttles are on purpose): exit 1, never 2, 3 or 4.
    assert!(
        matches!(ended.output.status.code(), Some(0 | 1)),
        "{}",
        common::stderr(&ended.output)
    );
    ScrapedRun {
        prometheus,
        results,
        mid_run,
        after,
        started,
    }
}

#[test]
fn prometheus_scraping_a_run_counts_what_its_results_count() {
    let dir = tempfile::tempdir().unwrap();
    let run = scraped_run(dir.path());
    let (p, r, at) = (&run.prometheus, &run.results, Some(run.after));

    // Requests by outcome: the results' totals, exactly.
    let outcomes: BTreeMap<String, f64> = p
        .by_label("sum by (outcome) (stampede_requests_total)", "outcome", at)
        .into_iter()
        .collect();
    let totals = &r["totals"];
    eprintln!("PromQL sum by (outcome) (stampede_requests_total): {outcomes:?}");
    eprintln!("results totals: {totals}");
    for (outcome, key) in [
        ("ok", "ok"),
        ("throttled", "throttled"),
        ("error", "errors"),
        ("abandoned", "abandoned"),
    ] {
        assert_eq!(
            outcomes[outcome],
            totals[key].as_f64().unwrap(),
            "outcome {outcome}"
        );
    }
    assert!(
        outcomes["ok"] > 0.0 && outcomes["throttled"] > 0.0,
        "{outcomes:?}"
    );

    // Attempts by class: the results' attempts, every class (zeros included).
    let classes: BTreeMap<String, f64> = p
        .by_label("sum by (class) (stampede_attempts_total)", "class", at)
        .into_iter()
        .collect();
    eprintln!("PromQL sum by (class) (stampede_attempts_total): {classes:?}");
    eprintln!("results attempts: {}", r["attempts"]);
    let attempts = r["attempts"].as_object().unwrap();
    for (class, n) in attempts.iter().filter(|(k, _)| *k != "sent") {
        assert_eq!(classes.get(class), n.as_f64().as_ref(), "class {class}");
    }
    assert_eq!(classes.len(), attempts.len() - 1, "{classes:?}");
    let nonzero = classes.values().filter(|n| **n > 0.0).count();
    assert!(
        nonzero >= 3,
        "ok, throttled and Lambda's throttles: {classes:?}"
    );

    // Throttles by kind: the results' throttles.
    let kinds = p.by_label("sum by (kind) (stampede_throttles_total)", "kind", at);
    let expected: Vec<(String, f64)> = r["throttles"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, n)| n.as_f64() != Some(0.0))
        .map(|(k, n)| (k.clone(), n.as_f64().unwrap()))
        .collect();
    assert_eq!(kinds, expected);

    p99_within_one_bucket(&run);
    the_emulators_series_agree(&run);
    the_dashboard_asks_for_what_is_scraped(&run);

    // And the lint, mid-run, throttles and the emulator's series in the scrape.
    assert!(run.mid_run.contains("stampede_emulator_throttles_total{"));
    // The lint can fail: a counter without `_total`.
    let (ok, said) = promtool_check_metrics("# HELP a x\n# TYPE a counter\na 1\n");
    assert!(
        !ok || !said.trim().is_empty(),
        "promtool found nothing in a bad scrape"
    );
    let (ok, said) = promtool_check_metrics(&run.mid_run);
    eprintln!("promtool check metrics (mid-run scrape): exit ok={ok}, output {said:?}");
    assert!(ok && said.trim().is_empty(), "promtool: {said}");
}

/// The histogram's bucket bounds, seconds, as the scrape says them (`le`, +Inf left out).
fn bucket_bounds(scrape: &str) -> Vec<f64> {
    let mut bounds: Vec<f64> = scrape
        .lines()
        .filter(|l| l.starts_with("stampede_latency_seconds_bucket{"))
        .filter_map(|l| l.split("le=\"").nth(1)?.split('"').next()?.parse().ok())
        .filter(|b: &f64| b.is_finite())
        .collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    bounds
}

/// The bucket `seconds` falls in: 0 up to the first bound (inclusive, as `le`), i from
/// bound i-1 (exclusive) to bound i; `bounds.len()` past the last.
fn bucket_of(bounds: &[f64], seconds: f64) -> usize {
    bounds.partition_point(|b| *b < seconds)
}

/// `histogram_quantile`'s p99 is within one bucket of the results' (exact, HdrHistogram)
/// p99: the results' lies in the estimate's bucket or one next to it.
fn p99_within_one_bucket(run: &ScrapedRun) {
    let bounds = bucket_bounds(&run.mid_run);
    assert!(bounds.len() >= 10, "{bounds:?}");
    let estimate = run.prometheus.scalar(
        "histogram_quantile(0.99, sum by (le) (stampede_latency_seconds_bucket))",
        Some(run.after),
    );
    let exact = run.results["latency_ms"]["p99"].as_f64().unwrap() / 1000.0;
    let (b_estimate, b_exact) = (bucket_of(&bounds, estimate), bucket_of(&bounds, exact));
    eprintln!(
        "PromQL p99 {estimate:.4} s (bucket {b_estimate}), results p99 {exact:.4} s (bucket {b_exact}); bounds {bounds:?}"
    );
    assert!(
        b_estimate.abs_diff(b_exact) <= 1,
        "p99: Prometheus {estimate} s in bucket {b_estimate}, results {exact} s in bucket {b_exact}"
    );
}

/// The emulator's series equal its stats in the results, and agree with what the client
/// counted where the two see the same thing.
fn the_emulators_series_agree(run: &ScrapedRun) {
    let (p, at) = (&run.prometheus, Some(run.after));
    let stats = &run.results["emulator"];
    let scalar = |q: &str| p.scalar(q, at);
    for (series, key) in [
        ("stampede_emulator_requests_total", "requests"),
        ("stampede_emulator_ok_total", "ok"),
        (
            "stampede_emulator_integration_timeouts_total",
            "integration_timeouts",
        ),
        ("stampede_emulator_function_errors_total", "function_errors"),
        ("stampede_emulator_cold_starts_total", "cold_starts"),
        (
            "stampede_emulator_environments_created_total",
            "environments_created",
        ),
        (
            "stampede_emulator_invoke_api_requests_total",
            "invocations_direct",
        ),
        ("stampede_emulator_in_flight", "in_flight"),
        ("stampede_emulator_peak_concurrency", "peak_concurrency"),
        ("stampede_emulator_warm_environments", "warm_environments"),
    ] {
        assert_eq!(scalar(series), stats[key].as_f64().unwrap(), "{series}");
    }
    let wheres: BTreeMap<String, f64> = p
        .by_label(
            "sum by (where) (stampede_emulator_throttles_total)",
            "where",
            at,
        )
        .into_iter()
        .collect();
    eprintln!("PromQL emulator throttles by where: {wheres:?}; results emulator: {stats}");
    for place in [
        "api_gateway_account",
        "api_gateway_stage",
        "lambda_reserved",
        "lambda_account",
        "lambda_scaling",
    ] {
        assert_eq!(
            wheres[place],
            stats[format!("throttled_{place}")].as_f64().unwrap(),
            "{place}"
        );
    }
    // What the server did is what the client saw: every attempt reached it, its ok
    // answers are the client's, its API Gateway 429s the client's api_gateway
    // throttles, and its Lambda throttles (a REST API's 500s) the suspected ones.
    let client = |q: &str| scalar(q);
    assert_eq!(
        scalar("stampede_emulator_requests_total"),
        client("sum(stampede_attempts_total)")
    );
    assert_eq!(
        scalar("stampede_emulator_ok_total"),
        client("sum(stampede_requests_total{outcome=\"ok\"})")
    );
    assert_eq!(
        wheres["api_gateway_account"] + wheres["api_gateway_stage"],
        client("sum(stampede_throttles_total{kind=\"api_gateway\"})")
    );
    assert!(wheres["lambda_reserved"] > 0.0, "{wheres:?}");
    assert_eq!(
        wheres["lambda_reserved"],
        client("sum(stampede_attempts_total{class=\"suspected_lambda_throttles\"})")
    );
}

/// The metric names a PromQL expression uses: identifiers starting `stampede_`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(i) = rest.find("stampede_") {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.insert(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    names
}

/// Every `expr` of the dashboard (its panels' targets and its variables' queries).
fn dashboard_exprs(dashboard: &Value) -> Vec<String> {
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            exprs.push(target["expr"].as_str().unwrap().to_string());
        }
    }
    exprs
}

/// The dashboard names only metrics a real scrape has, and Prometheus answers every one of
/// its expressions (Grafana's variables filled in) with data.
fn the_dashboard_asks_for_what_is_scraped(run: &ScrapedRun) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana/stampede.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .expect("the dashboard is JSON");
    let scraped: BTreeSet<&str> = run
        .mid_run
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let exprs = dashboard_exprs(&dashboard);
    assert!(exprs.len() >= 10, "{exprs:?}");
    let mut variables = Vec::new();
    for v in dashboard["templating"]["list"].as_array().unwrap() {
        if let Some(q) = v["query"]["query"].as_str() {
            variables.push(q.to_string());
        }
    }
    for expr in exprs.iter().chain(&variables) {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{expr}");
        for name in names {
            assert!(
                scraped.contains(name.as_str()),
                "{name} (in {expr}) is not scraped"
            );
        }
    }
    // Both checks can fail: a misspelt name is not scraped, a broken expression refused.
    assert!(!scraped.contains("stampede_request_total"));
    let broken = run.prometheus.query_answer("sum by (le (x)", None);
    assert_eq!(broken["status"], "error", "{broken}");

    let run_id = run.results["run_id"].as_str().unwrap();
    for expr in &exprs {
        let filled = expr
            .replace("$scenario", "live-metrics")
            .replace("$run_id", run_id)
            .replace("$__rate_interval", "30s");
        // Over the whole run: some have data only while it sends (the planned rate).
        let answer = run
            .prometheus
            .query_range_answer(&filled, (run.started, run.after));
        assert_eq!(answer["status"], "success", "{filled}: {answer}");
        let result = &answer["data"]["result"];
        assert!(
            result.as_array().is_some_and(|r| !r.is_empty()),
            "{filled}: no data: {answer}"
        );
    }
}

#[test]
fn a_metric_name_is_found_whole() {
    assert_eq!(
        metric_names("sum(rate(stampede_a_total{x=\"stampede_no\"}[1m])) / my_stampede_b"),
        ["stampede_a_total", "stampede_no"]
            .into_iter()
            .map(String::from)
            .collect()
    );
}
