//! `stampede emulate --metrics-listen`: the emulator's own series, scraped, equal its stats
//! (`/__stampede/stats`) and lint clean with `promtool check metrics`.

use crate::common;

use std::time::Duration;

use common::prometheus::{free_addr, get, promtool_check_metrics};
use common::{command, spawn_watched, write};
use serde_json::Value;

/// With routes, so the per-route and per-function series are there too.
const EMULATOR: &str = r#"
rate = 50
burst = 5
cold_start = "20ms"
duration = "5ms"

[[routes]]
route = "GET /orders"
function = "orders-list"

[[routes]]
route = "GET /orders/{id}"
function = "orders-get"

[functions.orders-list]

[functions.orders-get]
reserved_concurrency = 1
"#;

/// One value of a text scrape: the line starting with `series` (name and labels).
fn scraped_value(scrape: &str, series: &str) -> f64 {
    let line = scrape
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{scrape}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn emulate_serves_its_own_series_equal_to_its_stats() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "emulator.toml", EMULATOR);
    let (listen, metrics) = (free_addr(), free_addr());
    let mut emulate = spawn_watched(command(&[
        "emulate",
        "--config",
        config.to_str().unwrap(),
        "--listen",
        &listen.to_string(),
        "--metrics-listen",
        &metrics.to_string(),
    ]));
    emulate.wait_for_stderr("Ctrl-C stops", Duration::from_secs(20));
    // A burst past the bucket (5): some answered, some throttled.
    for i in 0..30 {
        let path = if i % 2 == 0 {
            "/prod/orders"
        } else {
            "/prod/orders/7"
        };
        assert!(get(listen, path).is_some(), "the emulator answers");
    }
    assert!(get(listen, "/prod/nowhere").is_some());
    let (_, stats) = get(listen, "/__stampede/stats").unwrap();
    let stats: Value = serde_json::from_str(&stats).unwrap();
    let (status, scrape) = get(metrics, "/metrics").unwrap();
    assert_eq!(status, 200);
    emulate.signal(libc::SIGTERM);
    let ended = emulate.finish(Duration::from_secs(20));
    assert_eq!(ended.output.status.code(), Some(0));

    // Nothing of a run: only the emulator's own.
    assert!(!scrape.contains("stampede_requests_total"), "{scrape}");
    for (series, key) in [
        ("stampede_emulator_requests_total", "requests"),
        ("stampede_emulator_ok_total", "ok"),
        ("stampede_emulator_cold_starts_total", "cold_starts"),
        ("stampede_emulator_unmatched_total", "unmatched"),
        ("stampede_emulator_peak_concurrency", "peak_concurrency"),
    ] {
        assert_eq!(
            scraped_value(&scrape, series),
            stats[key].as_f64().unwrap_or(0.0),
            "{series}"
        );
    }
    assert_eq!(stats["requests"], 31);
    let account = stats["throttled_api_gateway_account"].as_f64().unwrap();
    assert!(account > 0.0, "{stats}");
    assert_eq!(
        scraped_value(
            &scrape,
            "stampede_emulator_throttles_total{where=\"api_gateway_account\"}"
        ),
        account
    );
    for route in stats["routes"].as_array().unwrap() {
        let labels = format!(
            "{{route=\"{}\",function=\"{}\"}}",
            route["route"].as_str().unwrap(),
            route["function"].as_str().unwrap()
        );
        for (family, key) in [
            ("stampede_emulator_route_requests_total", "requests"),
            ("stampede_emulator_route_ok_total", "ok"),
        ] {
            assert_eq!(
                scraped_value(&scrape, &format!("{family}{labels}")),
                route[key].as_f64().unwrap(),
                "{family}{labels}"
            );
        }
    }
    for function in stats["functions"].as_array().unwrap() {
        let series = format!(
            "stampede_emulator_function_invocations_total{{function=\"{}\"}}",
            function["name"].as_str().unwrap()
        );
        assert_eq!(
            scraped_value(&scrape, &series),
            function["invocations"].as_f64().unwrap()
        );
    }

    let (ok, said) = promtool_check_metrics(&scrape);
    assert!(ok && said.trim().is_empty(), "promtool: {said}");
}
