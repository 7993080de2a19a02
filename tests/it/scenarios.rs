//! Every shipped scenario parses and plans, the shipped quotas file reads, and the demo
//! runs to the outcome the README documents.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::stampede_aws;

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn quotas_file() -> PathBuf {
    scenarios_dir().join("quotas.toml")
}

/// Every `scenarios/*.toml` but the quotas file: a new file is covered without a new test.
fn shipped_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| p.file_name().is_some_and(|n| n != "quotas.toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "scenarios found: {files:?}");
    files
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[test]
fn every_shipped_scenario_parses_and_plans() {
    let aws = tempfile::tempdir().unwrap();
    for file in shipped_scenarios() {
        let text = std::fs::read_to_string(&file).unwrap();
        let scenario = stampede::scenario::parse_str(&file, &text, None)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
        let quotas = quotas_file();
        let mut args = vec![
            "plan",
            file.to_str().unwrap(),
            "--quotas",
            quotas.to_str().unwrap(),
        ];
        // plan sends nothing; still, nothing here is aimed off the machine.
        let host = scenario.target.url.host().unwrap_or("").to_string();
        if scenario.emulator.is_none() && !is_loopback(&host) {
            args.extend(["--url", "http://127.0.0.1:9/"]);
        }
        let o = stampede_aws(aws.path(), &args, &[]);
        let code = o.status.code();
        println!("{}: plan exits {code:?}", file.display());
        assert!(
            matches!(code, Some(0 | 1)),
            "{}: plan exits 0 or 1 (1: a limit would be exceeded), got {code:?}\n{}",
            file.display(),
            common::stderr(&o)
        );
        assert!(
            !common::stdout(&o).trim().is_empty(),
            "{}: plan printed nothing",
            file.display()
        );
        assert!(
            !common::stderr(&o).contains("panicked"),
            "{}",
            common::stderr(&o)
        );
    }
}

#[test]
fn the_shipped_quotas_file_reads() {
    let aws = tempfile::tempdir().unwrap();
    let quotas = quotas_file();
    let o = stampede_aws(
        aws.path(),
        &["quotas", "--quotas", quotas.to_str().unwrap(), "--json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let shown: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert_eq!(shown["origin"], "file");
    // Every number in the file is shown, with the file as its source.
    let file: toml::Table = std::fs::read_to_string(&quotas).unwrap().parse().unwrap();
    assert!(!file.is_empty());
    for (key, value) in &file {
        let entry = shown["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["key"] == key.as_str())
            .unwrap_or_else(|| panic!("{key} not shown: {shown}"));
        assert_eq!(
            entry["value"].as_f64(),
            value.as_integer().map(|n| n as f64),
            "{entry}"
        );
        assert_eq!(entry["source"]["kind"], "file", "{entry}");
    }
}

/// README: the demo exits 1 because its quota check fails on one route: the closing
/// burst takes POST /orders past orders-create's reservation while the other routes stay
/// clean — each route's throttles exactly what the emulator's functions refused.
#[test]
fn the_demo_runs_to_its_documented_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let demo = scenarios_dir().join("demo.toml");
    let out = dir.path().join("demo.json");
    let run = common::stampede_timed(
        &[
            "run",
            demo.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(90),
    );
    println!(
        "demo: exit {:?} in {:.2?}",
        run.output.status.code(),
        run.elapsed
    );
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "{}",
        common::stderr(&run.output)
    );
    let r = common::read_json(&out);
    let q = &r["quota_check"];
    assert_eq!(q["pass"], false);
    assert_eq!(
        q["onset"]["limit"], "function_reserved_concurrency",
        "{}",
        q["onset"]
    );
    let functions = r["emulator"]["functions"].as_array().unwrap();
    let refused = |name: &str| {
        let f = functions.iter().find(|f| f["name"] == name).unwrap();
        f["throttled_reserved"].as_u64().unwrap()
            + f["throttled_account"].as_u64().unwrap()
            + f["throttled_scaling"].as_u64().unwrap()
    };
    for route in q["by_route"].as_array().unwrap() {
        let function = route["function"].as_str().unwrap();
        let function = function.split(':').next().unwrap();
        assert_eq!(
            route["throttled"].as_u64(),
            Some(refused(function)),
            "{route:#}"
        );
        if route["route"] == "POST /orders" {
            assert!(refused(function) > 0, "{route:#}");
            assert_eq!(route["pass"], false);
            assert_eq!(
                route["suspected_lambda_throttles"]["at_limit"],
                "function_reserved_concurrency"
            );
        } else {
            assert_eq!(route["pass"], true, "{route:#}");
            assert!(route["onset"].is_null());
        }
    }
    assert_eq!(q["by_route"].as_array().unwrap().len(), 3);
    serde_json::from_slice::<stampede::results::Results>(&std::fs::read(&out).unwrap())
        .expect("the demo's results read back as Results");
}
