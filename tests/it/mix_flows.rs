//! `[[flows]]` end to end against a login server: a token issued per login, captured and
//! carried by the later steps (the server rejects any other); a failed login ends its flow
//! (no later step is sent for it); open, closed and burst stages run flows; shards merge
//! into the single run per flow; `[thresholds.flows]` trips; think time spaces the steps.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::common;
use common::login::LoginServer;

/// The requests of the login flow, against `url`, and a flow `buy` of them.
fn scenario(url: &str, stages: &str, extra: &str) -> String {
    format!(
        r#"name = "flows"
[target]
url = "{url}"

[[requests]]
name = "login"
method = "POST"
path = "/login"
body = '{{"user":"u{{{{seq}}}}"}}'
capture = {{ token = "json:/token" }}

[[requests]]
name = "create order"
method = "POST"
path = "/orders"
headers = {{ authorization = "Bearer {{{{captured.token}}}}" }}
body = '{{"sku":"A-1"}}'
capture = {{ id = "json:/id" }}

[[requests]]
name = "get order"
path = "/orders/{{{{captured.id}}}}"
headers = {{ authorization = "Bearer {{{{captured.token}}}}" }}

[[requests]]
name = "health"
path = "/health"

[[flows]]
name = "buy"
steps = ["login", "create order", "get order"]
{extra}
{stages}"#
    )
}

const OPEN_BURST_CLOSED: &str = r#"
[[stages]]
name = "open"
kind = "constant"
rate = 100
duration = "500ms"

[[stages]]
name = "burst"
kind = "burst"
requests = 30

[[stages]]
name = "closed"
kind = "concurrency"
workers = 3
duration = "300ms"
"#;

/// Requests per name, from a `by_request` object.
fn requests_of(by_request: &Value) -> BTreeMap<String, u64> {
    by_request
        .as_object()
        .expect("by_request")
        .iter()
        .map(|(n, r)| (n.clone(), r["totals"]["requests"].as_u64().unwrap()))
        .collect()
}

#[test]
fn a_login_flow_carries_its_token_in_every_later_step_in_open_burst_and_closed_stages() {
    let server = LoginServer::start(false);
    let dir = tempfile::tempdir().unwrap();
    let path = common::write(
        dir.path(),
        "flows.toml",
        &scenario(&server.url, OPEN_BURST_CLOSED, ""),
    );
    let (results, o) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "--threads", "2", "-q"],
        0,
    );
    let err = common::stderr(&o);
    assert!(
        err.contains("request `health` is a step of no [[flows]] entry: it is never sent"),
        "{err}"
    );
    let seen = server.counts();
    assert_eq!(seen.rejected, 0, "every later step carried a valid token");
    assert_eq!(seen.failed_logins, 0);
    assert_eq!(seen.logins, seen.created);
    assert_eq!(seen.created, seen.read);
    // Each token made one order and read it back: one flow per login.
    assert_eq!(seen.by_token.len() as u64, seen.logins);
    assert!(seen.by_token.values().all(|r| r.len() == 2));
    // by_request is what the server counted; the request no flow names was never sent.
    let expected: BTreeMap<String, u64> = [
        ("create order", seen.created),
        ("get order", seen.read),
        ("login", seen.logins),
    ]
    .map(|(n, c)| (n.to_string(), c))
    .into_iter()
    .collect();
    let mut got = requests_of(&results["by_request"]);
    assert_eq!(got.remove("health").unwrap_or(0), 0);
    assert_eq!(got, expected);
    let buy = &results["by_flow"]["buy"];
    assert_eq!(buy["started"], seen.logins);
    assert_eq!(buy["completed"], seen.logins);
    assert_eq!(buy["failed"], 0);
    assert!(buy.get("failed_by_step").is_none(), "{buy}");
    assert_eq!(
        buy["planned"], 80,
        "50 open + 30 burst; a closed stage plans none"
    );
    let stages = results["stages"].as_array().unwrap();
    let flow_in = |i: usize| &stages[i]["by_flow"]["buy"];
    assert_eq!(
        (
            flow_in(0)["planned"].as_u64(),
            flow_in(0)["started"].as_u64()
        ),
        (Some(50), Some(50))
    );
    // A burst of 30 flows: 30 logins released at once, then the rest as answers come.
    assert_eq!(flow_in(1)["completed"], 30);
    assert_eq!(
        stages[1]["released"], 90,
        "each step is a logical request released"
    );
    let closed = flow_in(2)["completed"].as_u64().unwrap();
    assert!(
        closed >= 3,
        "each closed worker ran flows back to back: {closed}"
    );
    assert!(flow_in(2).get("planned").is_none());
    // The stage's planned requests are its flows' steps.
    assert_eq!(stages[0]["planned_requests"], 150);
    assert_eq!(stages[0]["by_request"]["login"]["planned_requests"], 50);
    // End-to-end latency covers the three steps; its histogram counts the completed flows.
    let p50 = buy["latency_ms"]["p50"].as_f64().unwrap();
    let step_p50 = results["by_request"]["login"]["latency_ms"]["p50"]
        .as_f64()
        .unwrap();
    assert!(p50 >= step_p50, "{p50} < {step_p50}");
    assert!(buy["achieved_fps"].as_f64().unwrap() > 0.0);
    let h = &results["histograms"]["by_flow"]["buy"];
    assert_eq!(h["stages"].as_array().unwrap().len(), 3);
    let hist = stampede::record::decode(h["latency"].as_str().unwrap()).unwrap();
    assert_eq!(hist.len(), seen.logins);
}

#[test]
fn a_failed_login_ends_its_flow_and_is_counted_by_step_and_class() {
    let server = LoginServer::start(true);
    let dir = tempfile::tempdir().unwrap();
    let stages =
        "[[stages]]\nname = \"open\"\nkind = \"constant\"\nrate = 200\nduration = \"500ms\"\n";
    let path = common::write(dir.path(), "flows.toml", &scenario(&server.url, stages, ""));
    let (results, _) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "-q"],
        0,
    );
    let seen = server.counts();
    assert_eq!(seen.failed_logins, 10, "1 in 10 of 100 logins");
    assert_eq!(seen.rejected, 0, "no later step of a failed login was sent");
    assert_eq!((seen.created, seen.read), (90, 90));
    let buy = &results["by_flow"]["buy"];
    assert_eq!(
        (
            buy["started"].as_u64(),
            buy["completed"].as_u64(),
            buy["failed"].as_u64()
        ),
        (Some(100), Some(90), Some(10))
    );
    assert_eq!(buy["failed_by_step"]["login"]["server_errors"], 10, "{buy}");
    assert_eq!(results["by_request"]["login"]["totals"]["requests"], 100);
    assert_eq!(results["by_request"]["get order"]["totals"]["requests"], 90);
    // The summary has a row per flow and says where the failed ones ended, and why.
    let o = common::stampede(&["report", dir.path().join("r.json").to_str().unwrap()]);
    let summary = common::stdout(&o);
    let row: Vec<&str> = summary
        .lines()
        .find(|l| l.starts_with("buy "))
        .unwrap_or_else(|| panic!("no flow row in:\n{summary}"))
        .split_whitespace()
        .collect();
    assert_eq!(row[1..5], ["100", "90", "10", "0"], "{summary}");
    assert!(
        summary.contains("  buy: 10 ended at login (server_errors 10)"),
        "{summary}"
    );
    // The plan lists the flow, its steps and the flows each stage plans.
    let o = common::stampede(&["plan", path.to_str().unwrap()]);
    let plan = common::stdout(&o);
    assert!(
        plan.contains("steps: login → create order → get order"),
        "{plan}"
    );
    let flow_row: Vec<&str> = plan
        .lines()
        .find(|l| l.trim_start().starts_with("buy "))
        .unwrap_or_else(|| panic!("no flow row in:\n{plan}"))
        .split_whitespace()
        .collect();
    assert_eq!(flow_row.last(), Some(&"100"), "{plan}");
}

/// Per flow and per request: planned, started, completed and the histogram's count.
fn flow_figures(r: &Value) -> Vec<(String, u64)> {
    let buy = &r["by_flow"]["buy"];
    let hist = stampede::record::decode(
        r["histograms"]["by_flow"]["buy"]["latency"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut out = vec![
        ("planned".to_string(), buy["planned"].as_u64().unwrap()),
        ("started".to_string(), buy["started"].as_u64().unwrap()),
        ("completed".to_string(), buy["completed"].as_u64().unwrap()),
        ("failed".to_string(), buy["failed"].as_u64().unwrap()),
        ("histogram".to_string(), hist.len()),
    ];
    for (name, n) in requests_of(&r["by_request"]) {
        out.push((format!("requests {name}"), n));
    }
    for (name, q) in r["by_request"].as_object().unwrap() {
        out.push((
            format!("planned {name}"),
            q["planned_requests"].as_u64().unwrap_or(0),
        ));
    }
    out
}

#[test]
fn three_shards_merged_equal_the_single_run_per_flow_and_per_request() {
    let server = LoginServer::start(false);
    let dir = tempfile::tempdir().unwrap();
    let stages =
        "[[stages]]\nname = \"open\"\nkind = \"constant\"\nrate = 120\nduration = \"500ms\"\n\
                  [[stages]]\nname = \"burst\"\nkind = \"burst\"\nrequests = 20\n";
    let text = format!(
        "{}\n[thresholds.flows.buy]\nfailure_rate = \"1%\"\n",
        scenario(&server.url, stages, "")
    );
    let path = common::write(dir.path(), "flows.toml", &text);
    let p = path.to_str().unwrap();
    let (single, _) = common::run_results(dir.path(), "single.json", &["run", p, "-q"], 0);
    let mut files = Vec::new();
    for i in 0..3 {
        let name = format!("s{i}.json");
        let shard = format!("{i}/3");
        common::run_results(dir.path(), &name, &["run", p, "-q", "--shard", &shard], 0);
        files.push(dir.path().join(name).to_str().unwrap().to_string());
    }
    let merged = dir.path().join("merged.json");
    let mut args = vec!["merge"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap()]);
    let o = common::stampede(&args);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let merged = common::read_json(&merged);
    assert_eq!(flow_figures(&merged), flow_figures(&single));
    // The flow's threshold, judged again on the merged whole.
    let judged: Vec<&Value> = merged["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["flow"] == "buy")
        .collect();
    assert_eq!(judged.len(), 1, "{}", merged["thresholds"]);
    assert_eq!(judged[0]["pass"], true);
    for (m, s) in merged["stages"]
        .as_array()
        .unwrap()
        .iter()
        .zip(single["stages"].as_array().unwrap())
    {
        assert_eq!(
            m["by_flow"]["buy"]["started"],
            s["by_flow"]["buy"]["started"]
        );
        assert_eq!(
            m["by_flow"]["buy"]["planned"],
            s["by_flow"]["buy"]["planned"]
        );
    }
    assert_eq!(server.counts().rejected, 0);
}

#[test]
fn a_flow_failure_rate_threshold_trips_with_the_failed_logins_and_passes_without() {
    let stages =
        "[[stages]]\nname = \"open\"\nkind = \"constant\"\nrate = 100\nduration = \"500ms\"\n";
    let limit = "\n[thresholds.flows.buy]\nfailure_rate = \"1%\"\np99 = \"10s\"\n";
    for (fail, code) in [(true, 1), (false, 0)] {
        let server = LoginServer::start(fail);
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{}{limit}", scenario(&server.url, stages, ""));
        let path = common::write(dir.path(), "flows.toml", &text);
        let (results, _) = common::run_results(
            dir.path(),
            "r.json",
            &["run", path.to_str().unwrap(), "-q"],
            code,
        );
        let entries: Vec<&Value> = results["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["flow"] == "buy")
            .collect();
        assert_eq!(entries.len(), 2, "{}", results["thresholds"]);
        let rate = entries
            .iter()
            .find(|t| t["name"] == "failure_rate")
            .unwrap();
        assert_eq!(rate["pass"], !fail, "{rate}");
        let observed = rate["observed"].as_f64().unwrap();
        assert_eq!(observed, if fail { 0.1 } else { 0.0 });
    }
}

#[test]
fn bad_flows_are_exit_2_inside_the_string_and_nothing_is_sent() {
    let server = LoginServer::start(false);
    let dir = tempfile::tempdir().unwrap();
    let stages = "[[stages]]\nkind = \"burst\"\nrequests = 5\n";
    let base = scenario(&server.url, stages, "");
    let cases = [
        (
            base.replace(r#""create order", "get order""#, r#""create ordr", "get order""#),
            "create ordr",
            "did you mean `create order`",
        ),
        (
            base.replace(r#"["login", "create order", "get order"]"#, r#"["login", "get order"]"#),
            "captured.id",
            "no earlier step captures \"id\" (in flow `buy`, step 2 `get order`; captured before it: token)",
        ),
        (
            scenario(&server.url, stages, "think = \"1s..soon\""),
            "soon",
            "bad duration `soon` in think",
        ),
    ];
    for (text, at, says) in cases {
        let path = common::write(dir.path(), "bad.toml", &text);
        let o = common::stampede(&["run", path.to_str().unwrap(), "-q"]);
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
        // file:line:col at the text inside the string.
        let offset = text.find(at).unwrap() + if at == "captured.id" { 9 } else { 0 };
        let line = text[..offset].matches('\n').count() + 1;
        let col = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
        assert!(
            err.contains(&format!("bad.toml:{line}:{col}:")),
            "{line}:{col} {err}"
        );
    }
    let seen = server.counts();
    assert_eq!(seen.logins + seen.rejected, 0, "nothing was sent");
}

#[test]
fn think_time_spaces_a_flows_steps() {
    let server = LoginServer::start(false);
    let dir = tempfile::tempdir().unwrap();
    let stages = "[[stages]]\nkind = \"burst\"\nrequests = 4\n";
    let text = scenario(&server.url, stages, "think = \"200ms\"");
    let path = common::write(dir.path(), "flows.toml", &text);
    let (results, _) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "-q"],
        0,
    );
    let seen = server.counts();
    assert_eq!(seen.logins, 4);
    // The token's two later steps: 200 ms after the login's answer, then 200 ms apart.
    for requests in seen.by_token.values() {
        assert_eq!(requests.len(), 2);
        let gap = requests[1].1 - requests[0].1;
        assert!(gap >= Duration::from_millis(200), "{gap:?}");
    }
    let buy = &results["by_flow"]["buy"];
    assert_eq!(buy["completed"], 4);
    assert!(
        buy["latency_ms"]["p50"].as_f64().unwrap() >= 400.0,
        "two think pauses: {buy}"
    );
}

#[test]
fn a_concurrency_stage_think_spaces_each_workers_requests() {
    let server = common::TestServer::start(|_| common::Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[target]\nurl = \"{}\"\n[[stages]]\nkind = \"concurrency\"\nworkers = 2\nduration = \"600ms\"\nthink = \"100ms\"\n",
        server.url()
    );
    let path = common::write(dir.path(), "think.toml", &text);
    let (results, _) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "-q"],
        0,
    );
    let requests = results["totals"]["requests"].as_u64().unwrap();
    // Each worker: a request, 100 ms of think, the next; 600 ms hold at most 7 each.
    assert!((2..=14).contains(&requests), "{requests}");
    assert_eq!(server.hits(), requests);
    // Only a concurrency stage takes think, and a bad one is placed inside its string.
    let bad = text.replace("think = \"100ms\"", "think = \"1s..x\"");
    let path = common::write(dir.path(), "bad.toml", &bad);
    let o = common::stampede(&["plan", path.to_str().unwrap()]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml:7:14:"), "{err}");
    let open = format!(
        "[target]\nurl = \"{}\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\nthink = \"1s\"\n",
        server.url()
    );
    let path = common::write(dir.path(), "open.toml", &open);
    let o = common::stampede(&["plan", path.to_str().unwrap()]);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`think` does not apply to a burst stage"),
        "{err}"
    );
}

#[test]
fn the_shipped_orders_scenario_runs_its_flow_against_a_login_api() {
    let server = LoginServer::start(false);
    let dir = tempfile::tempdir().unwrap();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/orders.toml");
    let (results, _) = common::run_results(
        dir.path(),
        "r.json",
        &["run", file.to_str().unwrap(), "--url", &server.url, "-q"],
        0,
    );
    let seen = server.counts();
    assert_eq!(seen.rejected, 0);
    let buy = &results["by_flow"]["buy"];
    assert_eq!(buy["started"], seen.logins);
    assert_eq!(buy["completed"], seen.logins);
    assert_eq!(buy["planned"], 80, "60 arrivals and a burst of 20");
    assert!(
        seen.logins > 80,
        "the regulars ran flows too: {}",
        seen.logins
    );
    assert_eq!(seen.read, seen.logins);
    let judged: Vec<&Value> = results["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["flow"] == "buy")
        .collect();
    assert_eq!(judged.len(), 2);
}

/// The shipped `scenarios/orders.toml` runs offline as it is: its emulator's routes answer
/// each login with a token and each order with its id, so every flow completes, and the
/// emulator counted every step stampede sent (3 per flow), each answered ok.
#[test]
fn the_shipped_orders_scenario_runs_offline_on_its_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/orders.toml");
    let (results, _) = common::run_results(
        dir.path(),
        "r.json",
        &["run", file.to_str().unwrap(), "-q"],
        0,
    );
    let buy = &results["by_flow"]["buy"];
    let started = buy["started"].as_u64().unwrap();
    assert!(started > 80, "arrivals, the burst and the regulars: {buy}");
    assert_eq!(buy["completed"].as_u64(), Some(started), "{buy}");
    let emulator = &results["emulator"];
    assert_eq!(
        emulator["requests"].as_u64(),
        Some(3 * started),
        "{emulator}"
    );
    assert_eq!(emulator["ok"], emulator["requests"]);
    for name in ["login", "create order", "get order"] {
        assert_eq!(
            results["by_request"][name]["totals"]["ok"].as_u64(),
            Some(started),
            "{name}"
        );
    }
}

#[test]
fn every_step_of_a_flow_reads_its_flows_data_row_and_unique_rows_go_once_across_shards() {
    let server = LoginServer::start(false);
    let dir = tempfile::tempdir().unwrap();
    let users: String = (0..200).map(|i| format!("user-{i}\n")).collect();
    common::write(dir.path(), "users.csv", &format!("user\n{users}"));
    let stages =
        "[[stages]]\nname = \"open\"\nkind = \"constant\"\nrate = 100\nduration = \"500ms\"\n\
                  [[stages]]\nname = \"burst\"\nkind = \"burst\"\nrequests = 30\n";
    let text = scenario(&server.url, stages, "")
        .replace(
            "name = \"flows\"\n",
            "name = \"flows\"\n[data]\nfile = \"users.csv\"\npick = \"unique\"\n",
        )
        .replace(r#"body = '{"user":"u{{seq}}"}'"#, r#"body = '{"user":"{{data.user}}","seq":{{seq}}}'"#)
        .replace(
            r#"headers = { authorization = "Bearer {{captured.token}}" }"#,
            r#"headers = { authorization = "Bearer {{captured.token}}", x-user = "{{data.user}}" }"#,
        );
    assert!(text.contains("x-user"), "{text}");
    let path = common::write(dir.path(), "flows.toml", &text);
    let p = path.to_str().unwrap();
    for i in 0..3 {
        let name = format!("s{i}.json");
        let shard = format!("{i}/3");
        common::run_results(dir.path(), &name, &["run", p, "-q", "--shard", &shard], 0);
    }
    let seen = server.counts();
    assert_eq!(seen.logins, 80);
    assert_eq!(seen.rejected, 0);
    // A flow's later steps carry the user its login did: one row per flow.
    assert_eq!(seen.user_mismatches, 0);
    assert_eq!(seen.created, 80);
    // unique: each row once across the three shards, rows 0..80 (one per flow number).
    let mut users = seen.users.clone();
    users.sort();
    users.dedup();
    assert_eq!(users.len(), 80, "{:?}", seen.users);
    let mut expected: Vec<String> = (0..80).map(|i| format!("user-{i}")).collect();
    expected.sort();
    assert_eq!(users, expected);
}

#[test]
fn flows_in_flight_when_the_run_is_interrupted_count_as_abandoned() {
    let server = LoginServer::start_with(false, true);
    let dir = tempfile::tempdir().unwrap();
    let stages = "[[stages]]\nkind = \"burst\"\nrequests = 4\n";
    let path = common::write(dir.path(), "flows.toml", &scenario(&server.url, stages, ""));
    let out = dir.path().join("r.json");
    let mut child = common::spawn_watched(common::command(&[
        "run",
        path.to_str().unwrap(),
        "-q",
        "--grace",
        "100ms",
        "--out",
        out.to_str().unwrap(),
    ]));
    // Every flow is at its last step, which the server holds.
    child.wait_for("4 reads", Duration::from_secs(20), || {
        server.counts().read == 4
    });
    child.signal(libc::SIGINT);
    let run = child.finish(Duration::from_secs(20));
    let err = common::stderr(&run.output);
    assert_eq!(run.output.status.code(), Some(130), "{err}");
    let results = common::read_json(&out);
    let buy = &results["by_flow"]["buy"];
    assert_eq!(
        (
            buy["started"].as_u64(),
            buy["completed"].as_u64(),
            buy["failed"].as_u64(),
            buy["abandoned"].as_u64()
        ),
        (Some(4), Some(0), Some(0), Some(4)),
        "{buy}"
    );
    assert_eq!(results["by_request"]["get order"]["totals"]["abandoned"], 4);
}

#[test]
fn a_capture_that_finds_nothing_ends_the_flow_as_capture_missing_and_is_sampled() {
    let server = LoginServer::start(false);
    let dir = tempfile::tempdir().unwrap();
    let stages = "[[stages]]\nkind = \"burst\"\nrequests = 5\n";
    let text = scenario(&server.url, stages, "").replace(
        r#"capture = { token = "json:/token" }"#,
        r#"capture = { token = "json:/token", who = "json:/nobody" }"#,
    );
    assert!(text.contains("nobody"));
    let path = common::write(dir.path(), "flows.toml", &text);
    let (results, _) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "-q"],
        0,
    );
    let seen = server.counts();
    assert_eq!((seen.logins, seen.created, seen.rejected), (5, 0, 0));
    let buy = &results["by_flow"]["buy"];
    assert_eq!(buy["failed"], 5);
    assert_eq!(
        buy["failed_by_step"]["login"]["capture_missing"], 5,
        "{buy}"
    );
    // The login itself was ok: its answer passed its status.
    assert_eq!(results["by_request"]["login"]["totals"]["ok"], 5);
    let sample = results["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "capture_missing")
        .expect("a capture_missing sample");
    assert_eq!(sample["body_excerpt"], "capture who: /nobody is missing");
    assert_eq!(sample["request"], "login");
    assert!(
        !results.to_string().contains("tok"),
        "no token in the results"
    );
}

/// The preflight's open-files check counts what flows hold: each its connection through
/// its steps and the think time between them (100 flows/s × (3 × 100 ms + 2 × 1 s) ≈ 230
/// connections, where 100 req/s of single requests would hold 10).
#[test]
fn the_open_files_check_counts_a_flows_connection_through_its_think_time() {
    let dir = tempfile::tempdir().unwrap();
    let stages =
        "[[stages]]\nname = \"open\"\nkind = \"constant\"\nrate = 100\nduration = \"200ms\"\n";
    // Nothing listens on the discard port: every flow ends at its first step, at once.
    let text = scenario("http://127.0.0.1:9", stages, "think = \"1s\"");
    let path = common::write(dir.path(), "flows.toml", &text);
    let run = common::stampede_nofile(
        &["run", path.to_str().unwrap()],
        64,
        Duration::from_secs(60),
    );
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&run.output.stdout),
        String::from_utf8_lossy(&run.output.stderr)
    );
    assert!(
        out.contains("a flow: 3.0 steps at the expected latency"),
        "the warning weighs the flows: {out}"
    );
    assert!(out.contains("ulimit -n"), "{out}");
}
