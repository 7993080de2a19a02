//! The reports and `compare` of `[[flows]]`, end to end: a real login flow against the
//! login server of common/login.rs (1 login in 10 failing), then `report --markdown -` and
//! `--junit -` (read by junitparser) each showing the flow with the figures of the results
//! file; and `compare` of a run against one whose logins are slower finding the flow
//! regressed. The HTML report of the same run is opened in Chromium in html_report.rs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::common;
use common::login::LoginServer;
use common::{run_bounded, stampede, stderr, stdout, tool};

/// A login flow `buy` (login → create order → get order) in two open stages of 50 flows
/// each, with `extra` appended (thresholds).
pub fn scenario(url: &str, extra: &str) -> String {
    format!(
        r#"name = "flow reports"
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

[[flows]]
name = "buy"
steps = ["login", "create order", "get order"]

[[stages]]
name = "warm"
kind = "constant"
rate = 100
duration = "500ms"

[[stages]]
name = "peak"
kind = "constant"
rate = 200
duration = "250ms"
{extra}"#
    )
}

/// The failure-rate threshold the failing logins trip.
pub const FAILURE_RATE_1_PERCENT: &str = "\n[thresholds.flows.buy]\nfailure_rate = \"1%\"\n";

/// Runs the flow scenario against `server` into DIR/NAME; the results file's path and
/// JSON. `code`: the exit expected.
pub fn run_flows(
    dir: &Path,
    server: &LoginServer,
    extra: &str,
    name: &str,
    code: i32,
) -> (PathBuf, Value) {
    let toml = common::write(dir, &format!("{name}.toml"), &scenario(&server.url, extra));
    let (results, _) = common::run_results(
        dir,
        &format!("{name}.json"),
        &["run", toml.to_str().unwrap(), "-q"],
        code,
    );
    (dir.join(format!("{name}.json")), results)
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn ms(v: &Value) -> String {
    stampede::verdict::ms(f(v))
}

/// `stampede report FILE ARGS` with its one report on stdout.
fn report(file: &Path, args: &[&str]) -> String {
    let mut all = vec!["report", file.to_str().unwrap()];
    all.extend(args);
    let mut cmd = common::command(&all);
    cmd.env_remove("GITHUB_STEP_SUMMARY");
    let o = run_bounded(cmd, Duration::from_secs(60)).output;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o)
}

/// Reads JUnit with junitparser: a JSON object per testcase (name, classname, result,
/// message, system_out).
const READ_JUNIT: &str = r#"
import json, sys
from junitparser import JUnitXml, TestSuite
xml = JUnitXml.fromfile(sys.argv[1])
suites = [xml] if isinstance(xml, TestSuite) else list(xml)
for case in suites[0]:
    results = list(case.result)
    print(json.dumps({
        "name": case.name,
        "classname": case.classname,
        "result": results[0]._tag if results else "pass",
        "message": results[0].message if results else "",
        "system_out": case.system_out,
    }))
"#;

#[test]
fn markdown_and_junit_show_each_flow_with_the_figures_of_the_results() {
    let server = LoginServer::start(true);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 1 login in 10 fails: the flow's 10% failure rate trips its 1% threshold (exit 1).
    let (file, r) = run_flows(d, &server, FAILURE_RATE_1_PERCENT, "r", 1);
    let seen = server.counts();
    let buy = &r["by_flow"]["buy"];
    assert_eq!(n(&buy["started"]), 100);
    assert_eq!(n(&buy["failed"]), seen.failed_logins);
    assert_eq!(seen.failed_logins, 10);
    assert_eq!(n(&buy["completed"]), seen.read);
    assert_eq!(buy["failed_by_step"]["login"]["server_errors"], 10);

    // Markdown: the flow's row after the requests, where its failed flows ended, and each
    // stage's flows.
    let md = report(&file, &["--markdown", "-"]);
    let (requests, flows) = (
        md.find("### Requests\n").expect(&md),
        md.find("### Flows\n").expect(&md),
    );
    assert!(requests < flows, "{md}");
    let failure = format!(
        "{:.1}%",
        n(&buy["failed"]) as f64 * 100.0 / n(&buy["started"]) as f64
    );
    let row = format!(
        "| buy | {} | {} | {} | {} | {failure} | {} | {} | {:.1} |",
        n(&buy["started"]),
        n(&buy["completed"]),
        n(&buy["failed"]),
        n(&buy["abandoned"]),
        ms(&buy["latency_ms"]["p50"]),
        ms(&buy["latency_ms"]["p99"]),
        f(&buy["achieved_fps"]),
    );
    assert!(md.contains(&row), "{row} in\n{md}");
    assert!(
        md.contains("- buy: 10 ended at login (server_errors 10)\n"),
        "{md}"
    );
    for s in r["stages"].as_array().unwrap() {
        let b = &s["by_flow"]["buy"];
        let row = format!(
            "| {} | buy | {} | {} | {} | {} | {} |",
            s["name"].as_str().unwrap(),
            n(&b["started"]),
            n(&b["completed"]),
            n(&b["failed"]),
            n(&b["abandoned"]),
            ms(&b["latency_ms"]["p99"]),
        );
        assert!(md.contains(&row), "{row} in\n{md}");
    }

    // JUnit, read by junitparser: the flow's testcase, failed by its threshold, its
    // figures as system-out.
    let Some(python) = tool("python3") else {
        return;
    };
    let xml = common::write(d, "j.xml", &report(&file, &["--junit", "-"]));
    let mut cmd = std::process::Command::new(python);
    cmd.args(["-c", READ_JUNIT, xml.to_str().unwrap()]);
    let o = run_bounded(cmd, Duration::from_secs(30)).output;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cases: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flow_cases: Vec<&Value> = cases
        .iter()
        .filter(|c| c["classname"] == "stampede.flows")
        .collect();
    assert_eq!(flow_cases.len(), 1, "{cases:?}");
    let case = flow_cases[0];
    assert_eq!(case["name"], "buy");
    assert_eq!(case["result"], "failure", "{case}");
    assert_eq!(
        case["message"], "flow \"buy\": failure_rate ≤ 1%: observed 10.0%, limit 1%",
        "{case}"
    );
    let out = case["system_out"].as_str().unwrap();
    let figures = format!(
        "started {}, completed {}, failed {} ({failure}), abandoned {}, p50 {}, p99 {}, {:.1} flows/s\nbuy: 10 ended at login (server_errors 10)",
        n(&buy["started"]),
        n(&buy["completed"]),
        n(&buy["failed"]),
        n(&buy["abandoned"]),
        ms(&buy["latency_ms"]["p50"]),
        ms(&buy["latency_ms"]["p99"]),
        f(&buy["achieved_fps"]),
    );
    assert_eq!(out.trim(), figures, "{case}");
    // The requests keep theirs.
    let steps = cases
        .iter()
        .filter(|c| c["classname"] == "stampede.requests")
        .count();
    assert_eq!(steps, 3, "{cases:?}");
}

/// The compare JSON's section of flow `name`.
fn flow_section<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["flows"]
        .as_array()
        .unwrap_or_else(|| panic!("no flows: {c}"))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no flow {name}: {c}"))
}

fn regressed(section: &Value) -> Vec<String> {
    section["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["verdict"] == "regressed")
        .map(|l| l["metric"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn compare_finds_the_flow_regressed_when_its_login_is_slower() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fast = LoginServer::start_slow_logins(Duration::from_millis(5));
    let (base, _) = run_flows(d, &fast, "", "base", 0);
    let slow = LoginServer::start_slow_logins(Duration::from_millis(80));
    let (head, _) = run_flows(d, &slow, "", "head", 0);
    let o = stampede(&[
        "compare",
        base.to_str().unwrap(),
        head.to_str().unwrap(),
        "--force", // two servers, two ports: the same scenario otherwise
        "--noise-floor",
        "20ms",
        "--json",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    let buy = flow_section(&c, "buy");
    assert!(buy.get("kind").is_none());
    let metrics: Vec<&str> = buy["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["metric"].as_str().unwrap())
        .collect();
    assert!(metrics.contains(&"failure_rate"), "{metrics:?}");
    assert!(!metrics.contains(&"throttle_rate"), "{metrics:?}");
    // The median and p90 move by the login's 75 ms whatever the machine's load; p99, with
    // 100 flows, is judged by the last few and may be within noise on a busy machine.
    let worse = regressed(buy);
    for m in ["p50", "p90"] {
        assert!(worse.contains(&m.to_string()), "{m}: {buy}");
    }
    assert!(!worse.contains(&"failure_rate".to_string()), "{buy}");
    assert!(c.get("flows_only_in_base").is_none(), "{c}");

    // The text and the Markdown name the flow's section and its regression.
    let o = stampede(&[
        "compare",
        base.to_str().unwrap(),
        head.to_str().unwrap(),
        "--force",
        "--noise-floor",
        "20ms",
    ]);
    let text = stdout(&o);
    assert!(text.contains("\nflow buy\n"), "{text}");
    assert!(text.contains("rate (flows/s)"), "{text}");
    assert!(text.contains("flow buy p50 +"), "{text}");
    let md_path = d.join("c.md");
    let o = stampede(&[
        "compare",
        base.to_str().unwrap(),
        head.to_str().unwrap(),
        "--force",
        "--noise-floor",
        "20ms",
        "--markdown",
        md_path.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let md = std::fs::read_to_string(&md_path).unwrap();
    assert!(md.contains("### flow buy\n"), "{md}");

    // A flow renamed in the head is listed, not compared.
    let toml = common::write(
        d,
        "renamed.toml",
        &scenario(&fast.url, "").replace("name = \"buy\"", "name = \"checkout\""),
    );
    common::run_results(d, "renamed.json", &["run", toml.to_str().unwrap(), "-q"], 0);
    let renamed = d.join("renamed.json");
    let o = stampede(&[
        "compare",
        base.to_str().unwrap(),
        renamed.to_str().unwrap(),
        "--json",
        "-",
        "--noise-floor",
        "50ms",
        "--max-regress",
        "rate=off,throttle_rate=off,failure_rate=off",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(c.get("flows").is_none(), "{c}");
    assert_eq!(c["flows_only_in_base"], serde_json::json!(["buy"]));
    assert_eq!(c["flows_only_in_head"], serde_json::json!(["checkout"]));
}
