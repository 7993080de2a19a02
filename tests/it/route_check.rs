//! The quota check per route, against the emulator serving an API with three routes: only
//! the function whose reservation the traffic passes throttles, and the check says so on
//! that route and function alone — set against the emulator's own counts.

use crate::common;

use common::{run_results, stdout, write};

/// Three routes, three functions; only orders-create has a reservation, of 5. At 100
/// requests/s, 2 in 6 of them creates, each held 200 ms: about 7 in flight on
/// orders-create, past its 5; orders-get sees as many but has no reservation; `health`
/// selects no route.
fn three_routes() -> String {
    format!(
        "[target]\nurl = \"/prod\"\n{}{}{}",
        common::orders_api::emulator(""),
        common::orders_api::REQUESTS,
        r#"
[[requests]]
name = "health"
path = "/healthz"
weight = 1

[retry]
max_attempts = 1

[[stages]]
kind = "constant"
rate = 100
duration = "3s"
"#
    )
}

fn route<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["quota_check"]["by_route"]
        .as_array()
        .expect("quota_check.routes")
        .iter()
        .find(|c| c["route"] == name)
        .unwrap_or_else(|| panic!("no route {name}: {:#}", r["quota_check"]["by_route"]))
}

fn emulated<'a>(
    r: &'a serde_json::Value,
    list: &str,
    key: &str,
    name: &str,
) -> &'a serde_json::Value {
    r["emulator"][list]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f[key] == name)
        .unwrap_or_else(|| panic!("the emulator has no {list} {name}: {:#}", r["emulator"]))
}

#[test]
fn only_the_route_whose_function_passed_its_reservation_is_blamed() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(dir.path(), "three.toml", &three_routes());
    let (r, o) = run_results(dir.path(), "r.json", &["run", s.to_str().unwrap()], 1);

    // The emulator's own counts: orders-create refused, the others never.
    let create_fn = emulated(&r, "functions", "name", "orders-create");
    let refused = create_fn["throttled_reserved"].as_u64().unwrap();
    assert!(refused > 0, "{:#}", r["emulator"]);
    for other in ["orders-get", "orders-list"] {
        let f = emulated(&r, "functions", "name", other);
        assert_eq!(f["throttled_reserved"], 0, "{f:#}");
        assert_eq!(f["throttled_account"], 0, "{f:#}");
        assert!(f["invocations"].as_u64().unwrap() > 0, "{f:#}");
    }

    // The route's check: its throttles are exactly the ones Lambda refused (a REST API
    // answers them as 500s), its onset at the function's reservation.
    let create = route(&r, "POST /orders");
    assert_eq!(create["requests"], serde_json::json!(["create"]));
    assert_eq!(
        create["function"]
            .as_str()
            .map(|f| f.split(':').next().unwrap()),
        Some("orders-create")
    );
    let lambda_refused = emulated(&r, "routes", "route", "POST /orders")["throttled_lambda"]
        .as_u64()
        .unwrap();
    assert_eq!(
        create["throttled"].as_u64(),
        Some(lambda_refused),
        "{create:#}"
    );
    assert_eq!(create["pass"], false);
    let onset = create["onset"]
        .as_object()
        .or(create["suspected_lambda_throttles"].as_object());
    let limit = create["onset"]["limit"]
        .as_str()
        .or(create["suspected_lambda_throttles"]["at_limit"].as_str());
    assert!(onset.is_some(), "{create:#}");
    assert_eq!(limit, Some("function_reserved_concurrency"), "{create:#}");
    // The onset's in flight is at the reservation: never fewer than Lambda allowed.
    let in_flight = create["onset"]["in_flight"]
        .as_u64()
        .or(create["suspected_lambda_throttles"]["in_flight"].as_u64())
        .unwrap();
    assert!(in_flight >= 5, "{create:#}");
    assert!(
        create["next_steps"].as_array().unwrap().iter().any(|s| s
            .as_str()
            .unwrap()
            .contains("put-function-concurrency --function-name orders-create")),
        "{create:#}"
    );

    for clean in ["GET /orders/{id}", "GET /orders"] {
        let c = route(&r, clean);
        assert_eq!(c["throttled"], 0, "{c:#}");
        assert!(c["onset"].is_null(), "{c:#}");
        assert_eq!(c["pass"], true, "{c:#}");
        assert!(c["sent"].as_u64().unwrap() > 0);
    }
    assert_eq!(
        route(&r, "GET /orders/{id}")["requests"],
        serde_json::json!(["get"])
    );

    // Said per route, naming the clean ones; the request no route selects is warned of.
    let findings = r["quota_check"]["findings"].to_string();
    assert!(
        findings.contains("POST /orders on orders-create")
            && findings.contains("GET /orders/{id} on orders-get")
            && findings.contains("stayed clean"),
        "{findings}"
    );
    // Before traffic: orders-create's share of the stage (2 in 6 of 100 req/s × 200 ms) is
    // past its reservation; the functions without one fit the account's pool.
    let checks = r["quota_check"]["preflight"]["checks"].as_array().unwrap();
    let create_plan = checks
        .iter()
        .find(|c| c["function"] == "orders-create")
        .unwrap_or_else(|| panic!("{checks:#?}"));
    assert_eq!(create_plan["planned"], 7.0);
    assert_eq!(create_plan["exceeded"], true);
    let pool = checks
        .iter()
        .find(|c| c["function"] == "functions without reserved concurrency")
        .unwrap();
    assert_eq!(pool["exceeded"], false);
    let warnings = r["quota_check"]["preflight"]["warnings"].to_string();
    assert!(
        warnings.contains("request `health`") && warnings.contains("selects no route"),
        "{warnings}"
    );
    let out = stdout(&o);
    assert!(
        out.contains("routes:") && out.contains("POST /orders → orders-create"),
        "{out}"
    );

    // The reports read the same from the results file.
    let results = dir.path().join("r.json");
    let md = stdout(&common::stampede(&[
        "report",
        results.to_str().unwrap(),
        "--markdown",
        "-",
    ]));
    assert!(
        md.contains("| POST /orders | orders-create") && md.contains("| GET /orders | orders-list"),
        "{md}"
    );
    let html = stdout(&common::stampede(&[
        "report",
        results.to_str().unwrap(),
        "--html",
        "-",
    ]));
    assert!(
        html.contains("id=\"routes\"") && html.contains("quota check</h3>"),
        "no routes section"
    );
    // And what CloudWatch counted per function and route, beside the client's.
    assert!(
        html.contains("<h3>By function</h3>") && html.contains("<h3>By route</h3>"),
        "no CloudWatch tables per function and route"
    );
}

/// The emulator outside the run: stampede sees only a URL and a quotas file whose
/// `[[routes]]` say what the API is, so the route check is had from the file — and still
/// lands on the one route whose function the emulator throttled.
#[test]
fn a_quotas_files_routes_are_checked_against_an_api_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let settings = write(
        dir.path(),
        "emulator.toml",
        r#"
api = "rest"
cold_start = "0ms"
duration = "200ms"

[[routes]]
route = "POST /orders"
function = "orders-create"

[[routes]]
route = "GET /orders/{id}"
function = "orders-get"

[functions.orders-create]
reserved_concurrency = 5

[functions.orders-get]
memory = 256
"#,
    );
    let config = stampede_emulator::config::load(&settings).unwrap();
    let emulator = common::start_emulator(config);
    let quotas = write(
        dir.path(),
        "quotas.toml",
        "lambda_concurrent_executions = 1000\n\n[[routes]]\nroute = \"POST /orders\"\nfunction = \"orders-create\"\nfunction_reserved_concurrency = 5\n\n[[routes]]\nroute = \"GET /orders/{id}\"\nfunction = \"orders-get\"\n",
    );
    let s = write(
        dir.path(),
        "mix.toml",
        &format!(
            "[target]\nurl = \"http://{}/prod\"\n\n[[requests]]\nname = \"create\"\nmethod = \"POST\"\npath = \"/orders\"\nbody = \"{{}}\"\n\n[[requests]]\nname = \"get\"\npath = \"/orders/{{{{seq}}}}\"\n\n[retry]\nmax_attempts = 1\n\n[[stages]]\nkind = \"constant\"\nrate = 80\nduration = \"2s\"\n",
            emulator.addr
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            s.to_str().unwrap(),
            "--quotas",
            quotas.to_str().unwrap(),
        ],
        1,
    );
    let stats = emulator.stats();
    let refused = |name: &str| {
        let f = stats.functions.iter().find(|f| f.name == name).unwrap();
        f.throttled_reserved + f.throttled_account + f.throttled_scaling
    };
    assert!(refused("orders-create") > 0, "{stats:?}");
    assert_eq!(refused("orders-get"), 0, "{stats:?}");
    let create = route(&r, "POST /orders");
    assert_eq!(
        create["throttled"].as_u64(),
        Some(refused("orders-create")),
        "{create:#}"
    );
    assert_eq!(create["pass"], false);
    let get = route(&r, "GET /orders/{id}");
    assert_eq!(get["throttled"], 0);
    assert_eq!(get["pass"], true);
    assert_eq!(get["requests"], serde_json::json!(["get"]));
}

/// Two shards against one API (the emulator outside the runs, as AWS would be), merged:
/// each route's throttles on the merged whole are exactly what the emulator's functions
/// refused, and the merged check is still made route by route.
#[test]
fn shards_merge_into_each_routes_check_of_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let settings = write(
        dir.path(),
        "emulator.toml",
        &common::orders_api::emulator("")
            .replace("[emulator.", "[")
            .replace("[[emulator.", "[[")
            .replace("\n[emulator]\n", "\n"),
    );
    let config = stampede_emulator::config::load(&settings).unwrap();
    let emulator = common::start_emulator(config);
    let quotas = write(
        dir.path(),
        "quotas.toml",
        "lambda_concurrent_executions = 1000\n\n[[routes]]\nroute = \"POST /orders\"\nfunction = \"orders-create\"\nfunction_reserved_concurrency = 5\n\n[[routes]]\nroute = \"GET /orders/{id}\"\nfunction = \"orders-get\"\n\n[[routes]]\nroute = \"GET /orders\"\nfunction = \"orders-list\"\n",
    );
    let s = write(
        dir.path(),
        "mix.toml",
        &format!(
            "name = \"orders\"\n[target]\nurl = \"http://{}/prod\"\n{}\n[retry]\nmax_attempts = 1\n\n[[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = 100\nduration = \"2s\"\n",
            emulator.addr,
            common::orders_api::REQUESTS
        ),
    );
    let store = dir.path().join("store");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start_at = format!("{:.3}", now + 1.5);
    let shards: Vec<std::process::Child> = (0..2)
        .map(|i| {
            let mut cmd = common::command(&[
                "run",
                s.to_str().unwrap(),
                "--quotas",
                quotas.to_str().unwrap(),
                "--quiet",
                "--start-at",
                &start_at,
                "--out",
                &format!("{}/", store.display()),
                "--shard",
                &format!("{i}/2"),
            ]);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for c in shards {
        common::wait_bounded(c, "shard", std::time::Duration::from_secs(60));
    }
    let (r, _) = run_results(
        dir.path(),
        "merged.json",
        &["merge", &format!("{}/", store.display()), "-q"],
        1,
    );
    let stats = emulator.stats();
    let refused = |name: &str| {
        let f = stats.functions.iter().find(|f| f.name == name).unwrap();
        f.throttled_reserved + f.throttled_account + f.throttled_scaling
    };
    assert!(refused("orders-create") > 0, "{stats:?}");
    let create = route(&r, "POST /orders");
    assert_eq!(
        create["throttled"].as_u64(),
        Some(refused("orders-create")),
        "{create:#}"
    );
    // 2 in 5 of the 200 requests the shards sent together, as the emulator served them.
    let served = stats
        .routes
        .iter()
        .find(|r| r.route == "POST /orders")
        .unwrap()
        .requests;
    assert_eq!((create["sent"].as_u64(), served), (Some(80), 80));
    assert_eq!(create["pass"], false);
    for clean in ["GET /orders/{id}", "GET /orders"] {
        let c = route(&r, clean);
        assert_eq!(c["throttled"], 0, "{c:#}");
        assert_eq!(c["pass"], true);
    }
}
