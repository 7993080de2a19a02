//! `stampede init`: an API Gateway OpenAPI export and a browser's HAR become scenarios that
//! plan and run against a loopback server, every route requested, no recorded secret
//! written anywhere; bad input files are exit 2 with where in them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common::{
    self, command, read_json, run_bounded, stderr, stdout, write, Reply, TestServer,
};

/// An API Gateway export (`get-export --export-type oas30 --parameters extensions=integrations`):
/// four operations on two functions, path parameters, a body example, an API key.
const OPENAPI: &str = r##"{
  "openapi": "3.0.1",
  "info": {"title": "orders-api", "version": "2026-12-01T00:00:00Z"},
  "servers": [{"url": "https://abc123.execute-api.us-east-1.amazonaws.com/{basePath}",
               "variables": {"basePath": {"default": "/prod"}}}],
  "security": [{"api_key": []}],
  "paths": {
    "/orders": {
      "post": {
        "operationId": "createOrder",
        "requestBody": {"content": {"application/json": {
          "schema": {"$ref": "#/components/schemas/Order"},
          "example": {"sku": "A-1", "quantity": 2}}}},
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST",
          "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders-create/invocations"}
      },
      "get": {
        "operationId": "listOrders",
        "parameters": [{"name": "limit", "in": "query", "required": true, "schema": {"type": "integer", "example": 10}}],
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST",
          "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders-get/invocations"}
      }
    },
    "/orders/{orderId}": {
      "parameters": [{"name": "orderId", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {
        "operationId": "getOrder",
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST",
          "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders-get:live/invocations"}
      },
      "delete": {
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST",
          "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders-create/invocations"}
      }
    }
  },
  "components": {
    "securitySchemes": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header",
                                    "x-amazon-apigateway-api-key-source": "HEADER"}},
    "schemas": {"Order": {"type": "object", "properties": {
      "sku": {"type": "string"}, "quantity": {"type": "integer"}}}}
  }
}"##;

/// The secrets of the recording: none may appear in the scenario or a run's output.
const COOKIE: &str = "session=c00kie-v4lue-9f8e7d6c5b4a";
const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.s1gn4tur3";
const PASSWORD: &str = "hunter2-correct-horse";

/// A recorded shopping session: a login, three reads of order 123 and two of 456, images.
fn har() -> String {
    let auth = format!(
        r#"[{{"name": "Authorization", "value": "Bearer {BEARER}"}},
           {{"name": "Cookie", "value": "{COOKIE}"}},
           {{"name": "Accept", "value": "application/json"}},
           {{"name": "User-Agent", "value": "Mozilla/5.0"}}]"#
    );
    let get = |id: u32| {
        format!(
            r#"{{"_resourceType": "fetch", "request": {{"method": "GET", "url": "https://shop.example.com/orders/{id}", "headers": {auth}}},
               "response": {{"status": 200, "content": {{"mimeType": "application/json"}}}}}}"#
        )
    };
    let image = |name: &str| {
        format!(
            r#"{{"request": {{"method": "GET", "url": "https://shop.example.com/img/{name}", "headers": [{{"name": "Cookie", "value": "{COOKIE}"}}]}},
               "response": {{"status": 200, "content": {{"mimeType": "image/png"}}}}}}"#
        )
    };
    let login = format!(
        r#"{{"request": {{"method": "POST", "url": "https://shop.example.com/login", "headers": [{{"name": "Content-Type", "value": "application/json"}}],
             "postData": {{"mimeType": "application/json", "text": "{{\"user\": \"ann\", \"password\": \"{PASSWORD}\"}}"}}}},
           "response": {{"status": 200, "content": {{"mimeType": "application/json"}}}}}}"#
    );
    let entries = [
        login,
        get(123),
        image("logo.png"),
        get(123),
        get(456),
        image("banner"),
        get(123),
        get(456),
    ];
    format!(
        r#"{{"log": {{"version": "1.2", "creator": {{"name": "test", "version": "1"}}, "entries": [{}]}}}}"#,
        entries.join(",\n")
    )
}

/// stampede with `args` and `env`, bounded; the output.
fn stampede_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = command(args);
    c.envs(env.iter().copied());
    run_bounded(c, common::DEFAULT_LIMIT).output
}

/// The scenario with its stages replaced by one burst of `n` requests: the drafted stages
/// run for minutes.
fn with_burst(scenario: &str, n: u64) -> String {
    let start = scenario.find("[[stages]]").expect("stages drafted");
    let end = scenario.find("[thresholds]").expect("thresholds drafted");
    format!(
        "{}[[stages]]\nkind = \"burst\"\nrequests = {n}\n\n{}",
        &scenario[..start],
        &scenario[end..]
    )
}

/// A loopback server that notes each request's method, path (digits as `{id}`) and headers.
/// Each request the server saw: its route and headers.
type Seen = Arc<Mutex<Vec<(String, http::HeaderMap)>>>;

fn recording_server() -> (TestServer, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = TestServer::start(move |a| {
        let path: Vec<String> = a
            .uri
            .path()
            .split('/')
            .map(|s| {
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    "{id}".to_string()
                } else {
                    s.to_string()
                }
            })
            .collect();
        let route = format!("{} {}", a.method, path.join("/"));
        log.lock().unwrap().push((route, a.headers.clone()));
        Reply::ok()
    });
    (server, seen)
}

fn plans(path: &Path, env: &[(&str, &str)]) {
    let o = stampede_env(&["plan", path.to_str().unwrap()], env);
    let code = o.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "plan exit {code:?}: {}",
        stderr(&o)
    );
}

#[test]
fn an_api_gateway_export_drafts_a_scenario_that_plans_and_requests_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let api = write(dir.path(), "openapi.json", OPENAPI);
    let (server, seen) = recording_server();
    let base = format!("http://{}/prod", server.addr);
    let out = dir.path().join("api.toml");
    let o = stampede_env(
        &[
            "init",
            "--from-openapi",
            api.to_str().unwrap(),
            "--url",
            &base,
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let scenario = std::fs::read_to_string(&out).unwrap();
    for expected in [
        "from openapi.json",
        "name = \"createOrder\"",
        "name = \"DELETE /orders/{orderId}\"",
        "path = \"/orders/{{random_int 1 1000}}\"",
        "path = \"/orders?limit=10\"",
        "body = '{\"quantity\":2,\"sku\":\"A-1\"}'",
        "x-api-key = \"{{env.API_TOKEN}}\"",
        "Lambda function orders-create",
        "Lambda function orders-get:live",
        "[thresholds]",
    ] {
        assert!(scenario.contains(expected), "{expected} in:\n{scenario}");
    }
    // Without --url the document's server is the target.
    let o = stampede_env(&["init", "--from-openapi", api.to_str().unwrap()], &[]);
    assert!(
        stdout(&o).contains("url = \"https://abc123.execute-api.us-east-1.amazonaws.com/prod\""),
        "{}",
        stdout(&o)
    );

    let token = [("API_TOKEN", "test-api-key-value")];
    // That draft runs against the emulator as it stands in for the API: `[emulator]` appended.
    let emulated = write(
        dir.path(),
        "emulated.toml",
        &format!("{}\n[emulator]\n", with_burst(&stdout(&o), 8)),
    );
    let emulated_results = dir.path().join("emulated.json");
    let run = stampede_env(
        &[
            "run",
            emulated.to_str().unwrap(),
            "--out",
            emulated_results.to_str().unwrap(),
        ],
        &token,
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let by_request = &read_json(&emulated_results)["by_request"];
    for name in [
        "createOrder",
        "listOrders",
        "getOrder",
        "DELETE /orders/{orderId}",
    ] {
        assert_eq!(by_request[name]["totals"]["ok"], 2, "{name}: {by_request}");
    }
    plans(&out, &token);
    let short = write(dir.path(), "short.toml", &with_burst(&scenario, 8));
    let results = dir.path().join("results.json");
    let o = stampede_env(
        &[
            "run",
            short.to_str().unwrap(),
            "--out",
            results.to_str().unwrap(),
        ],
        &token,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let seen = seen.lock().unwrap();
    let routes: BTreeMap<&str, usize> = seen.iter().fold(BTreeMap::new(), |mut m, (r, _)| {
        *m.entry(r.as_str()).or_default() += 1;
        m
    });
    assert_eq!(
        routes,
        BTreeMap::from([
            ("DELETE /prod/orders/{id}", 2),
            ("GET /prod/orders", 2),
            ("GET /prod/orders/{id}", 2),
            ("POST /prod/orders", 2),
        ])
    );
    assert!(seen
        .iter()
        .all(|(_, h)| h.get("x-api-key").map(|v| v.as_bytes()) == Some(b"test-api-key-value")));
    let results = read_json(&results);
    let names: BTreeSet<&str> = results["by_request"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "createOrder",
            "listOrders",
            "getOrder",
            "DELETE /orders/{orderId}"
        ])
    );
}

#[test]
fn a_recording_drafts_weighted_routes_without_its_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let recording = write(dir.path(), "shop.har", &har());
    let o = stampede_env(&["init", "--from-har", recording.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let scenario = stdout(&o);
    for secret in [COOKIE, "c00kie", BEARER, "s1gn4tur3", PASSWORD] {
        assert!(!scenario.contains(secret), "{secret} written:\n{scenario}");
    }
    let get = scenario
        .split("[[requests]]")
        .find(|r| r.contains("name = \"GET /orders/{id}\""))
        .unwrap_or_else(|| panic!("one GET /orders/{{id}}:\n{scenario}"));
    assert!(get.contains("weight = 5"), "{get}");
    assert!(
        get.contains("path = \"/orders/{{random_int 123 456}}\""),
        "{get}"
    );
    assert!(
        get.contains("authorization = \"Bearer {{env.API_TOKEN}}\""),
        "{get}"
    );
    assert!(get.contains("cookie = \"{{env.COOKIE}}\""), "{get}");
    assert!(!get.contains("user-agent"), "{get}");
    assert_eq!(scenario.matches("[[requests]]").count(), 2, "{scenario}");
    assert!(scenario.contains("2 static assets"), "{scenario}");
    assert!(scenario.contains("{{env.BODY_PASSWORD}}"), "{scenario}");
    assert!(
        scenario.contains("url = \"https://shop.example.com\""),
        "{scenario}"
    );

    let (server, seen) = recording_server();
    // --url sends it to the loopback server instead of the recorded host.
    let full = dir.path().join("shop.toml");
    let o = stampede_env(
        &[
            "init",
            "--from-har",
            recording.to_str().unwrap(),
            "--url",
            &server.url(),
            "--out",
            full.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let local = std::fs::read_to_string(&full).unwrap();
    assert!(
        local.contains(&format!("url = \"http://{}\"", server.addr)),
        "{local}"
    );
    let env = [
        ("API_TOKEN", "run-token"),
        ("COOKIE", "run=cookie"),
        ("BODY_PASSWORD", "run-password"),
    ];
    plans(&full, &env);
    let short = write(dir.path(), "short.toml", &with_burst(&local, 12));
    let results = dir.path().join("results.json");
    let o = stampede_env(
        &[
            "run",
            short.to_str().unwrap(),
            "--out",
            results.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(&results).unwrap();
    let printed = format!("{}{}", stdout(&o), stderr(&o));
    for secret in ["run-token", "run=cookie", "run-password", BEARER, COOKIE] {
        assert!(!written.contains(secret), "{secret} in the results");
        assert!(!printed.contains(secret), "{secret} printed: {printed}");
    }
    let seen = seen.lock().unwrap();
    let count = |route: &str| seen.iter().filter(|(r, _)| r == route).count();
    // Weights 5 and 1 over 12 requests: two periods.
    assert_eq!(count("GET /orders/{id}"), 10);
    assert_eq!(count("POST /login"), 2);
    let gets = seen.iter().filter(|(r, _)| r == "GET /orders/{id}");
    for (_, h) in gets {
        assert_eq!(h["authorization"], "Bearer run-token");
        assert_eq!(h["cookie"], "run=cookie");
    }
}

/// Inputs a scenario could choke on — a path with a space, non-ASCII and `|`, a name with a
/// newline, `{{` in a body, a header name HTTP refuses, a control character in a value, a
/// server with a variable and no default — still give a scenario that plans.
#[test]
fn odd_inputs_still_draft_scenarios_that_plan() {
    let dir = tempfile::tempdir().unwrap();
    let api = write(
        dir.path(),
        "odd.yaml",
        r#"openapi: 3.1.0
servers: [{url: 'https://{region}.example.com/v1'}]
components:
  securitySchemes:
    k: {type: apiKey, in: query, name: 'api key'}
paths:
  '/café menu/{id}|x':
    get:
      operationId: "two\nlines"
      security: [{k: []}]
      responses: {200: {description: ok}}
  /things:
    put:
      requestBody: {content: {text/plain: {example: 'hello {{ world'}}}
"#,
    );
    let recording = write(
        dir.path(),
        "odd.har",
        r#"{"log": {"entries": [
          {"request": {"method": "GET", "url": "https://a.example/u/3f2c8a8e-1b2c-4d5e-8f90-123456789abc?sort=asc&token=abcdef1234567890abcdef",
            "headers": [{"name": "X-Weird Name", "value": "v"}, {"name": ":authority", "value": "a.example"},
                        {"name": "X-Ctl", "value": "a\u0001b"}, {"name": "X-Csrf-Token", "value": "t0k3n-aaaaaaaaaaaaaaaaaaaa"}]}},
          {"request": {"method": "POST", "url": "https://user:pw@a.example/form",
            "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "user=ann&password=hunter2"}}},
          {"request": {"method": "GET", "url": "data:image/png;base64,AAAA"}}
        ]}}"#,
    );
    let env = [
        ("API_TOKEN", "x"),
        ("QUERY_TOKEN", "x"),
        ("HEADER_X_CSRF_TOKEN", "x"),
        ("BODY_PASSWORD", "x"),
    ];
    for (flag, input, name) in [
        ("--from-openapi", &api, "odd-api.toml"),
        ("--from-har", &recording, "odd-har.toml"),
    ] {
        let out = dir.path().join(name);
        let o = stampede_env(
            &[
                "init",
                flag,
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        for secret in ["hunter2", "pw@", "abcdef1234567890", "t0k3n"] {
            assert!(!text.contains(secret), "{secret} in:\n{text}");
        }
        plans(&out, &env);
    }
}

/// `init` with `args`: exit 2, and stderr.
fn refused(args: &[&str]) -> String {
    let o = stampede_env(args, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn bad_input_files_are_exit_2_with_where_in_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |name: &str, text: &str| write(d, name, text).to_str().unwrap().to_string();

    let broken = path(
        "broken.json",
        "{\n  \"openapi\": \"3.0.0\",\n  paths: {}\n}",
    );
    let err = refused(&["init", "--from-openapi", &broken]);
    assert!(err.contains("broken.json:3:3: not JSON"), "{err}");

    let yaml = path("broken.yaml", "openapi: 3.0.0\npaths:\n  /a: [1, 2\n");
    let err = refused(&["init", "--from-openapi", &yaml]);
    assert!(
        err.contains("broken.yaml:") && err.contains("not YAML"),
        "{err}"
    );

    let neither = path("neither.yaml", "info:\n  title: x\n");
    let err = refused(&["init", "--from-openapi", &neither]);
    assert!(
        err.contains("neither.yaml: at $: neither `openapi` nor `swagger`")
            && err.contains("expected: an OpenAPI 3.x document"),
        "{err}"
    );

    let bad_op = path("op.yaml", "swagger: '2.0'\npaths:\n  /a:\n    get: 3\n");
    let err = refused(&["init", "--from-openapi", &bad_op]);
    assert!(err.contains("at $.paths./a.get: not an operation"), "{err}");

    let no_entries = path("empty.har", "{\"log\": {\"version\": \"1.2\"}}");
    let err = refused(&["init", "--from-har", &no_entries]);
    assert!(
        err.contains("empty.har: at $.log.entries: missing") && err.contains("a HAR file"),
        "{err}"
    );

    let only_images = path(
        "images.har",
        r#"{"log": {"entries": [{"request": {"method": "GET", "url": "https://a.example/x.png"}}]}}"#,
    );
    let err = refused(&["init", "--from-har", &only_images]);
    assert!(err.contains("1 static asset,"), "{err}");

    let yaml_har = path("yaml.har", "log:\n  entries: []\n");
    let err = refused(&["init", "--from-har", &yaml_har]);
    assert!(err.contains("yaml.har:1:1: not JSON"), "{err}");

    let err = refused(&["init", "--from-har", &path_missing(d)]);
    assert!(err.contains("no such file"), "{err}");

    // An existing --out is kept unless --force.
    let good = path("good.yaml", "openapi: 3.0.0\npaths:\n  /a:\n    get: {}\n");
    let out = path("taken.toml", "keep me");
    let err = refused(&["init", "--from-openapi", &good, "--out", &out]);
    assert!(err.contains("exists") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    let o = stampede_env(
        &["init", "--from-openapi", &good, "--out", &out, "--force"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("name = \"GET /a\""));

    // A URL that names no API, and no flag that does: refused before any call.
    let err = refused(&["init", "--from-api", "https://api.example.com/prod"]);
    assert!(
        err.contains("not an API Gateway URL")
            && err.contains("--rest-api-id or --http-api-id with --stage"),
        "{err}"
    );
    let err = refused(&["init", "--from-openapi", &good, "--rest-api-id", "a1"]);
    assert!(
        err.contains("--from-api"),
        "the API's flags go with it: {err}"
    );
    refused(&["init"]);
}

fn path_missing(d: &Path) -> String {
    d.join("missing.har").to_str().unwrap().to_string()
}
