//! `stampede init --from-api` against the emulator's control plane, through the real SDK
//! clients: the draft has one request per route, each commented with the function and
//! limits the emulator was given; it plans, and its run reaches every route — set against
//! the emulator's own per-route counts. An API whose map cannot be read is exit 2.

use crate::common;

use common::{read_json, stampede_aws, start_emulator, stderr, write, DUMMY_KEYS};
use stampede_emulator::RunningEmulator;

/// Three routes to three functions: one function with a reservation, one route with its
/// own throttle, one greedy `ANY` route; a stage throttle over them all.
const ROUTES: &str = r#"
cold_start = "0ms"
duration = "1ms"
stage_rate = 300
stage_burst = 150

[[routes]]
route = "POST /orders"
function = "orders-create"
rate = 100
burst = 50

[[routes]]
route = "GET /orders/{id}"
function = "orders-get"

[[routes]]
route = "ANY /files/{proxy+}"
function = "files"

[functions.orders-create]
reserved_concurrency = 5
provisioned_concurrency = 2

[functions.orders-get]
memory = 512

[functions.files]
memory = 256
"#;

/// The emulator as an API of `kind` ("rest" or "http").
fn emulator(dir: &std::path::Path, kind: &str) -> RunningEmulator {
    let path = write(dir, "emulator.toml", &format!("api = \"{kind}\"\n{ROUTES}"));
    start_emulator(stampede_emulator::config::load(&path).unwrap())
}

/// `stampede init --from-api` of the emulator's API; its exit code, scenario and output.
fn init(
    dir: &std::path::Path,
    em: &RunningEmulator,
    id_flag: &str,
    id: &str,
) -> (Option<i32>, String, String) {
    let endpoint = format!("http://{}", em.addr);
    let url = format!("{endpoint}/prod");
    let out = dir.join("s.toml");
    let o = stampede_aws(
        dir,
        &[
            "init",
            "--from-api",
            &url,
            id_flag,
            id,
            "--stage",
            "prod",
            "--region",
            "us-east-1",
            "--endpoint-url",
            &endpoint,
            "--out",
            out.to_str().unwrap(),
        ],
        &DUMMY_KEYS,
    );
    let output = format!("{}{}", common::stdout(&o), stderr(&o));
    let scenario = std::fs::read_to_string(&out).unwrap_or_default();
    (o.status.code(), scenario, output)
}

/// The scenario with its stages replaced by one burst of `n` requests.
fn with_burst(scenario: &str, n: u64) -> String {
    let start = scenario.find("[[stages]]").expect("stages drafted");
    let end = scenario.find("[thresholds]").expect("thresholds drafted");
    format!(
        "{}[[stages]]\nkind = \"burst\"\nrequests = {n}\n\n{}",
        &scenario[..start],
        &scenario[end..]
    )
}

/// The comment lines right above request `name`.
fn notes_of<'a>(scenario: &'a str, name: &str) -> Vec<&'a str> {
    let at = scenario
        .find(&format!("name = \"{name}\""))
        .unwrap_or_else(|| panic!("no request {name}:\n{scenario}"));
    let head = &scenario[..at];
    let block = &head[..head.rfind("[[requests]]").unwrap()];
    block
        .lines()
        .rev()
        .take_while(|l| l.starts_with('#'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

fn drafts_plans_and_reaches_every_route(kind: &str, id_flag: &str, stage_call: &str) {
    let dir = tempfile::tempdir().unwrap();
    let em = emulator(dir.path(), kind);
    let (code, scenario, output) = init(dir.path(), &em, id_flag, "emulated");
    assert_eq!(code, Some(0), "{output}");
    // Only the control plane was asked.
    assert_eq!(em.stats().requests, 0);
    assert!(!scenario.contains(DUMMY_KEYS[1].1) && !output.contains(DUMMY_KEYS[1].1));
    assert!(!scenario.contains(DUMMY_KEYS[0].1) && !output.contains(DUMMY_KEYS[0].1));
    let api = if kind == "rest" {
        "REST API"
    } else {
        "HTTP API"
    };
    assert!(
        scenario.starts_with(&format!(
            "# Drafted by `stampede init` from the {api} emulated (stage prod, us-east-1)."
        )),
        "{scenario}"
    );
    assert!(
        scenario.contains(&format!(
            "#   stage throttle 300 req/s, burst 150 ({stage_call})"
        )),
        "{scenario}"
    );
    assert!(scenario.contains(&format!("url = \"http://{}/prod\"", em.addr)));
    assert_eq!(scenario.matches("[[requests]]").count(), 3, "{scenario}");
    let create = notes_of(&scenario, "post-orders");
    assert_eq!(
        create[..5],
        [
            "# POST /orders → orders-create:live (Lambda)",
            "#   reserved concurrency 5 (lambda:GetFunctionConcurrency)",
            "#   provisioned concurrency 2 (lambda:GetProvisionedConcurrencyConfig)",
            &format!("#   route throttle 100 req/s, burst 50 ({stage_call})"),
            if kind == "rest" {
                "#   no usage plan throttle (apigateway:GetUsagePlans)"
            } else {
                "#   memory 128 MB, x86_64, timeout 3 s (lambda:GetFunctionConfiguration)"
            },
        ],
        "{scenario}"
    );
    let get = notes_of(&scenario, "get-orders-id").join("\n");
    for expected in [
        "# GET /orders/{id} → orders-get:live (Lambda)",
        "#   no reserved concurrency (lambda:GetFunctionConcurrency)",
        &format!("#   no route throttle ({stage_call})"),
        "#   memory 512 MB, x86_64",
        "{id} is sent as {{seq}}",
    ] {
        assert!(get.contains(expected), "{expected} in:\n{get}");
    }
    let files = notes_of(&scenario, "any-files-proxy").join("\n");
    for expected in [
        "# ANY /files/{proxy+} → files:live (Lambda)",
        "#   memory 256 MB",
        "ANY: API Gateway sends every method here; drafted as GET",
        "{proxy+} takes any path below it",
    ] {
        assert!(files.contains(expected), "{expected} in:\n{files}");
    }
    for expected in [
        "path = \"/orders/{{seq}}\"",
        "path = \"/files/example\"",
        "body = \"{}\"",
    ] {
        assert!(scenario.contains(expected), "{expected} in:\n{scenario}");
    }

    let drafted = dir.path().join("s.toml");
    let plan = stampede_aws(dir.path(), &["plan", drafted.to_str().unwrap()], &[]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));

    let short = write(dir.path(), "short.toml", &with_burst(&scenario, 9));
    let results = dir.path().join("r.json");
    let url = format!("http://{}/prod", em.addr);
    let run = stampede_aws(
        dir.path(),
        &[
            "run",
            short.to_str().unwrap(),
            "--url",
            &url,
            "--quiet",
            "--out",
            results.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let r = read_json(&results);
    let s = em.stats();
    assert_eq!(s.unmatched, 0, "{s:?}");
    assert_eq!(s.requests, 9);
    for (route, request) in [
        ("POST /orders", "post-orders"),
        ("GET /orders/{id}", "get-orders-id"),
        ("ANY /files/{proxy+}", "any-files-proxy"),
    ] {
        let counted = s.routes.iter().find(|c| c.route == route).unwrap();
        assert_eq!(
            (counted.requests, counted.ok),
            (3, 3),
            "{route}: {counted:?}"
        );
        assert_eq!(
            counted.ok,
            r["by_request"][request]["totals"]["ok"].as_u64().unwrap(),
            "{route}: {counted:?}, {:#}",
            r["by_request"]
        );
    }
}

#[test]
fn a_rest_apis_map_drafts_a_scenario_that_plans_and_reaches_every_route() {
    drafts_plans_and_reaches_every_route("rest", "--rest-api-id", "apigateway:GetStage");
}

#[test]
fn an_http_apis_map_drafts_one_too() {
    drafts_plans_and_reaches_every_route("http", "--http-api-id", "apigatewayv2:GetStage");
}

#[test]
fn an_api_whose_map_cannot_be_read_is_exit_2_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let em = emulator(dir.path(), "rest");
    let (code, scenario, output) = init(dir.path(), &em, "--rest-api-id", "no-such-api");
    assert_eq!(code, Some(2), "{output}");
    assert!(scenario.is_empty(), "nothing written: {scenario}");
    for expected in [
        "no route of the REST API no-such-api (stage prod) was read",
        "not read: apigateway:GetResources: not found: Invalid API identifier specified",
        "expected: an API id and stage that exist",
    ] {
        assert!(output.contains(expected), "{expected} in:\n{output}");
    }
    assert!(!output.contains(DUMMY_KEYS[1].1));
}
