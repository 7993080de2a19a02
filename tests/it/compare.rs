//! `stampede compare` end to end: real runs against one loopback server, then the same
//! server made slower; the verdicts, exit codes and the three outputs.

use crate::common;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{run_results, stampede, stderr, stdout, write, Reply, TestServer};
use serde_json::Value;

/// 150 requests at 50 req/s against `url`, written to DIR/NAME.
fn run(dir: &Path, name: &str, url: &str) {
    run_results(
        dir,
        name,
        &[
            "run",
            "--url",
            url,
            "--rate",
            "50",
            "--duration",
            "3s",
            "--quiet",
        ],
        0,
    );
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

fn line<'a>(c: &'a Value, section: &str, metric: &str) -> &'a Value {
    let s = c["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == section)
        .unwrap_or_else(|| panic!("no section {section}: {c}"));
    s["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["metric"] == metric)
        .unwrap()
}

/// The phase `name` of a section of `compare --json`.
fn phase<'a>(section: &'a Value, name: &str) -> &'a Value {
    section["phases"]
        .as_array()
        .unwrap_or_else(|| panic!("no phases: {section}"))
        .iter()
        .find(|p| p["phase"] == name)
        .unwrap_or_else(|| panic!("no phase {name}: {section}"))
}

#[test]
fn a_slower_server_regresses_and_the_same_server_does_not() {
    // 100 ms of handler time, then 200 ms: a loaded 2-core CI machine delays some answers
    // by tens of ms, which at 30 ms read as a regression of the same server's p99.
    let delay_ms = Arc::new(AtomicU64::new(100));
    let delay = Arc::clone(&delay_ms);
    let server = TestServer::start(move |_| Reply {
        status: 200,
        delay: Duration::from_millis(delay.load(Ordering::Relaxed)),
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(d, "base.json", &server.url());
    run(d, "again.json", &server.url());
    delay_ms.store(200, Ordering::Relaxed);
    run(d, "slower.json", &server.url());

    // Two runs of one server: no regression, exit 0; the text shows each line.
    let o = stampede(&["compare", &p(d, "base.json"), &p(d, "again.json")]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}\n{}", stderr(&o));
    assert!(
        text.contains("whole run") && text.contains("stage constant (constant)"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("no regression"), "{text}");

    // The slower server: p50, p90, p99 regressed in the whole run and the stage; exit 1.
    let md = d.join("cmp.md");
    let o = stampede(&[
        "compare",
        &p(d, "base.json"),
        &p(d, "slower.json"),
        "--json",
        "-",
        "--markdown",
        md.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let c: Value = serde_json::from_slice(&o.stdout).expect("--json - is JSON on stdout");
    assert_eq!(c["schema"], "stampede.compare/1");
    for section in ["whole run", "constant"] {
        for metric in ["p50", "p90", "p99"] {
            let l = line(&c, section, metric);
            assert_eq!(l["verdict"], "regressed", "{section} {metric}: {l}");
            assert!(l["change"].as_f64().unwrap() > 0.5, "{l}");
        }
        assert_eq!(line(&c, section, "throttle_rate")["verdict"], "ok");
    }
    // The handler's time is the answer's wait: ttfb's p50 and p99 regress with latency's,
    // by the same bounds.
    for section in c["sections"].as_array().unwrap() {
        let ttfb = phase(section, "ttfb");
        for l in ttfb["lines"].as_array().unwrap() {
            assert_eq!(l["verdict"], "regressed", "{ttfb}");
        }
    }
    assert_eq!(c["regressions"], 10, "{c}");
    assert!(
        stderr(&o).contains("10 regressions: whole run p50 +")
            && stderr(&o).contains("; whole run ttfb p50 +"),
        "{}",
        stderr(&o)
    );
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.starts_with("## ❌ stampede compare: 10 regressions"),
        "{md}"
    );
    assert!(md.contains("| ttfb p99 |"), "{md}");
    assert!(
        md.contains("| p50 |") && md.contains("❌ regressed"),
        "{md}"
    );

    // A looser bound on latency lets the same pair through.
    let o = stampede(&[
        "compare",
        &p(d, "base.json"),
        &p(d, "slower.json"),
        "--max-regress",
        "p50=+200%,p90=+200%",
        "--max-regress",
        "p99=off",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "--quiet prints only the verdict, on stderr");
    assert!(stderr(&o).contains("no regression"), "{}", stderr(&o));
}

#[test]
fn other_stages_are_refused_unless_forced_and_bad_bounds_are_bad_input() {
    let server = TestServer::start(|_| Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(d, "base.json", &server.url());
    let ramp = write(
        d,
        "ramp.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[[stages]]\nname = \"warm\"\nkind = \"ramp\"\nfrom = 10\nto = 20\nduration = \"1s\"\n",
            server.url()
        ),
    );
    run_results(
        d,
        "ramp.json",
        &["run", ramp.to_str().unwrap(), "--quiet"],
        0,
    );

    let o = stampede(&["compare", &p(d, "base.json"), &p(d, "ramp.json")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "the stages differ: [constant (constant)] in the base, [warm (ramp)] in the head"
        ) && err.contains("expected: two runs of the same target and stages (or --force"),
        "{err}"
    );

    let o = stampede(&[
        "compare",
        &p(d, "base.json"),
        &p(d, "ramp.json"),
        "--force",
        "--json",
        "-",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["forced"], true);
    assert_eq!(c["only_in_base"], serde_json::json!(["constant"]));
    assert_eq!(c["only_in_head"], serde_json::json!(["warm"]));

    for (bound, says) in [
        ("p99=10", "no unit we know"),
        ("throttle_rate=1%", "percentage points"),
        ("p98=5%", "did you mean `p99`?"),
    ] {
        let o = stampede(&[
            "compare",
            &p(d, "base.json"),
            &p(d, "base.json"),
            "--max-regress",
            bound,
        ]);
        assert_eq!(o.status.code(), Some(2), "{bound}");
        let err = stderr(&o);
        assert!(
            err.contains(says) && err.contains("expected: NAME=BOUND"),
            "{bound}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let o = stampede(&["compare", &p(d, "base.json"), &p(d, "missing.json")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("missing.json"), "{}", stderr(&o));
}

#[test]
fn a_slower_request_of_a_mix_regresses_its_own_ttfb() {
    // /slow's handler takes 60 ms in the base and 150 ms in the head; /fast answers at once.
    let slow_ms = Arc::new(AtomicU64::new(60));
    let slow = Arc::clone(&slow_ms);
    let server = TestServer::start(move |a| Reply {
        status: 200,
        delay: if a.uri.path() == "/slow" {
            Duration::from_millis(slow.load(Ordering::Relaxed))
        } else {
            Duration::ZERO
        },
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scenario = write(
        d,
        "mix.toml",
        &format!(
            "[target]\nurl = \"http://{}\"\n\n[[requests]]\nname = \"fast\"\npath = \"/fast\"\n\n\
             [[requests]]\nname = \"slow\"\npath = \"/slow\"\n\n\
             [[stages]]\nkind = \"constant\"\nrate = 60\nduration = \"3s\"\n",
            server.addr
        ),
    );
    let s = scenario.to_str().unwrap();
    run_results(d, "base.json", &["run", s, "--quiet"], 0);
    slow_ms.store(150, Ordering::Relaxed);
    run_results(d, "head.json", &["run", s, "--quiet"], 0);

    let o = stampede(&[
        "compare",
        &p(d, "base.json"),
        &p(d, "head.json"),
        "--json",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    let request = |name: &str| {
        c["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no request {name}: {c}"))
            .clone()
    };
    let verdicts = |section: &Value, phase_name: &str| -> Vec<String> {
        phase(section, phase_name)["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| format!("{} {}", l["metric"], l["verdict"]).replace('"', ""))
            .collect()
    };
    assert_eq!(
        verdicts(&request("slow"), "ttfb"),
        ["p50 regressed", "p99 regressed"]
    );
    let slow = request("slow");
    let ttfb = &phase(&slow, "ttfb")["lines"][0];
    assert!(
        (ttfb["base"].as_f64().unwrap() - 60.0).abs() < 15.0
            && (ttfb["head"].as_f64().unwrap() - 150.0).abs() < 20.0,
        "{ttfb}"
    );
    // Its tail on a busy machine may move by a stall; its middle does not.
    assert_ne!(verdicts(&request("fast"), "ttfb")[0], "p50 regressed");
    // A phase only one run had is not compared: no tls over plain HTTP, in any section.
    for s in c["sections"]
        .as_array()
        .unwrap()
        .iter()
        .chain(c["requests"].as_array().unwrap())
    {
        let names: Vec<&str> = s["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["phase"].as_str().unwrap())
            .collect();
        assert!(!names.contains(&"tls"), "{names:?}");
        assert!(
            names.contains(&"ttfb") && names.contains(&"receive"),
            "{names:?}"
        );
    }
    // The text names the phase's lines after their phase.
    let o = stampede(&["compare", &p(d, "base.json"), &p(d, "head.json")]);
    let text = stdout(&o);
    assert!(
        text.contains("request slow") && text.contains("  ttfb p99 "),
        "{text}"
    );
}
