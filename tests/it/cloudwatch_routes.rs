//! CloudWatch per function and per route, beside the quota check per route: the real
//! aws-sdk-cloudwatch client against the emulator serving three routes, one of whose
//! functions is pushed past its reservation — each function's `Throttles` equal the
//! emulator's own per-function counts and the route's client-side throttles; with the
//! stage's detailed metrics off, the per-route API metrics are said to be off.

use crate::common;

use common::{run_results, stdout, write};
use serde_json::Value;

/// tests/it/route_check.rs's three routes (orders-create reserved at 5, about 8 in flight
/// asked of it), counted in 1-second periods so the run reads them back at once.
fn three_routes(detailed_metrics: bool, rate: u32) -> String {
    format!(
        "[target]\nurl = \"/prod\"\n{}{}\n[retry]\nmax_attempts = 1\n\n[[stages]]\nkind = \"constant\"\nrate = {rate}\nduration = \"2s\"\n",
        common::orders_api::emulator(&format!(
            "metrics_period = \"1s\"\ndetailed_metrics = {detailed_metrics}"
        )),
        common::orders_api::REQUESTS,
    )
}

/// A number, whether written as an integer or as a float.
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn named<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list:#}"))
        .iter()
        .find(|x| {
            x[key]
                .as_str()
                .is_some_and(|v| v == name || v.starts_with(&format!("{name}:")))
        })
        .unwrap_or_else(|| panic!("no {name} in {list:#}"))
}

#[test]
fn each_functions_throttles_are_the_emulators_and_the_routes() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(dir.path(), "three.toml", &three_routes(true, 100));
    let (r, o) = run_results(dir.path(), "r.json", &["run", s.to_str().unwrap()], 1);
    let cw = &r["cloudwatch"];
    assert_eq!(cw["status"], "read", "{cw:#}");
    let e = &r["emulator"];

    // orders-create: Lambda's Throttles are exactly what the emulator refused it, and what
    // the client saw on POST /orders; its concurrency stopped at the reservation.
    let create = named(&cw["by_function"], "function", "orders-create");
    let create_e = named(&e["functions"], "name", "orders-create");
    let refused = [
        "throttled_reserved",
        "throttled_account",
        "throttled_scaling",
    ]
    .iter()
    .map(|k| create_e[k].as_u64().unwrap())
    .sum::<u64>();
    assert!(
        create_e["throttled_reserved"].as_u64().unwrap() > 0,
        "{e:#}"
    );
    assert_eq!(num(&create["throttles"]), refused as f64, "{create:#}");
    let route_check = named(&r["quota_check"]["by_route"], "route", "POST /orders");
    assert_eq!(create["client_throttled"], route_check["throttled"]);
    assert_eq!(create["client_throttled"].as_u64(), Some(refused));
    assert_eq!(
        num(&create["invocations"]),
        num(&create_e["invocations"]),
        "{create:#}"
    );
    assert_eq!(num(&create["concurrent_max"]), 5.0, "{create:#}");
    assert_eq!(create["routes"], serde_json::json!(["POST /orders"]));

    // The other functions: counted, never throttled.
    for other in ["orders-get", "orders-list"] {
        let f = named(&cw["by_function"], "function", other);
        assert_eq!(num(&f["throttles"]), 0.0, "{f:#}");
        assert_eq!(f["client_throttled"], 0, "{f:#}");
        let f_e = named(&e["functions"], "name", other);
        assert_eq!(num(&f["invocations"]), num(&f_e["invocations"]), "{f:#}");
        assert!(num(&f["invocations"]) > 0.0);
    }

    // Each route's own Count is what the emulator served on it; POST /orders's refusals are
    // its 5XXs (a REST API answers a Lambda throttle with 500).
    for route in ["POST /orders", "GET /orders/{id}", "GET /orders"] {
        let got = named(&cw["by_route"], "route", route);
        let served = named(&e["routes"], "route", route);
        assert_eq!(num(&got["count"]), num(&served["requests"]), "{got:#}");
        assert_eq!(got["client_sent"], served["requests"], "{got:#}");
    }
    let post = named(&cw["by_route"], "route", "POST /orders");
    assert_eq!(num(&post["errors_5xx"]), refused as f64, "{post:#}");
    assert_eq!(post["client_throttled"].as_u64(), Some(refused));
    let text = cw["not_read"].to_string();
    assert!(!text.contains("detailed metrics"), "{text}");

    // The finding says it per route.
    let confirmed = cw["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "route_confirmed")
        .unwrap_or_else(|| panic!("{:#}", cw["findings"]));
    let message = confirmed["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "counted {refused} throttles over the run, the client saw {refused} on POST /orders"
        )),
        "{message}"
    );
    let out = stdout(&o);
    assert!(
        out.contains("By function and route (CloudWatch over the run)"),
        "{out}"
    );
    assert!(out.contains("CloudWatch: orders-create"), "{out}");
}

#[test]
fn without_detailed_metrics_the_routes_api_metrics_are_said_to_be_off() {
    let dir = tempfile::tempdir().unwrap();
    // Gently: nothing throttles, and the run passes.
    let s = write(dir.path(), "off.toml", &three_routes(false, 10));
    let (r, o) = run_results(dir.path(), "r.json", &["run", s.to_str().unwrap()], 0);
    let cw = &r["cloudwatch"];
    assert_eq!(cw["status"], "read", "{cw:#}");
    // The stage and the functions are counted; no route's own metrics are.
    assert_eq!(
        num(&cw["total"]["server"]["api_count"]),
        num(&r["attempts"]["sent"])
    );
    for route in cw["by_route"].as_array().unwrap() {
        assert!(
            route["count"].is_null() && route["errors_5xx"].is_null(),
            "{route:#}"
        );
        assert!(route["client_sent"].as_u64().unwrap() > 0);
    }
    assert_eq!(cw["by_route"].as_array().unwrap().len(), 3);
    let create = named(&cw["by_function"], "function", "orders-create");
    assert_eq!(num(&create["throttles"]), 0.0, "{create:#}");
    let off = cw["not_read"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|n| n.contains("detailed metrics look off"))
        .unwrap_or_else(|| panic!("{:#}", cw["not_read"]));
    assert!(
        off.contains("aws apigateway update-stage --rest-api-id emulated --stage-name prod --patch-operations op=replace,path=/*/*/metrics/enabled,value=true"),
        "{off}"
    );
    assert!(
        stdout(&o).contains("not read: each route's API metrics"),
        "{}",
        stdout(&o)
    );
    assert!(
        !cw["findings"].to_string().contains("route_"),
        "nothing throttled, nothing to confirm: {:#}",
        cw["findings"]
    );
}
