//! `stampede report` and `run --markdown/--junit`: from a real run on the emulator that
//! throttles and trips a threshold, the summary, the Markdown, the JUnit XML (read back by
//! junitparser, a parser we did not write), GitHub's step summary, and bad input.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

use common::{run_bounded, stderr, write};

/// The ramp passes the emulated API Gateway's 100 req/s: throttles, and the stage's
/// throttle_rate threshold fails while p99 passes.
const SCENARIO: &str = r#"name = "report test"
seed = 3

[target]
url = "/orders"

[[stages]]
name = "ramp"
kind = "ramp"
from = 40
to = 240
duration = "4s"

[thresholds]
p99 = "5s"

[thresholds.stages."ramp"]
throttle_rate = "1%"

[emulator]
api = "rest"
rate = 100
burst = 20
duration = "5ms"
cold_start = "0ms"
"#;

/// One run for every test: its directory, the results file, and the run's output.
struct Shared {
    dir: tempfile::TempDir,
    results: PathBuf,
    step_summary: PathBuf,
    run: Output,
}

fn shared() -> &'static Shared {
    static RUN: OnceLock<Shared> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let scenario = write(dir.path(), "s.toml", SCENARIO);
        let results = dir.path().join("r.json");
        let step_summary = write(dir.path(), "summary.md", "earlier step\n");
        let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        let mut cmd = common::command(&[
            "run",
            scenario.to_str().unwrap(),
            "--quiet",
            "--out",
            results.to_str().unwrap(),
            "--markdown",
            &p("run.md"),
            "--junit",
            &p("run.xml"),
        ]);
        cmd.env("GITHUB_STEP_SUMMARY", &step_summary);
        let run = run_bounded(cmd, Duration::from_secs(60)).output;
        Shared {
            dir,
            results,
            step_summary,
            run,
        }
    })
}

fn report(args: &[&str], step_summary: Option<&Path>) -> Output {
    let mut cmd = common::command(&[&["report"], args].concat());
    cmd.env_remove("GITHUB_STEP_SUMMARY");
    if let Some(p) = step_summary {
        cmd.env("GITHUB_STEP_SUMMARY", p);
    }
    run_bounded(cmd, Duration::from_secs(30)).output
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn run_writes_the_results_the_markdown_the_junit_and_the_step_summary() {
    let s = shared();
    assert_eq!(s.run.status.code(), Some(1), "{}", stderr(&s.run));
    assert!(s.results.is_file());
    let md = text(&s.dir.path().join("run.md"));
    assert!(md.starts_with("## report test — ❌ fail"), "{md}");
    assert!(md.contains("stage ramp: throttle_rate ≤ 1%"), "{md}");
    let xml = text(&s.dir.path().join("run.xml"));
    assert!(xml.contains("<testsuite name=\"report test\""), "{xml}");
    let summary = text(&s.step_summary);
    assert!(
        summary.starts_with("earlier step\n## report test — ❌ fail"),
        "appended, not overwritten: {summary}"
    );
}

#[test]
fn report_prints_the_summary_and_writes_the_same_markdown() {
    let s = shared();
    let r = s.results.to_str().unwrap();
    let o = report(&[r], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("report test: GET"), "{out}");
    assert!(out.contains("quota check (emulator): FAIL"), "{out}");

    let md = s.dir.path().join("again.md");
    let o = report(&[r, "--markdown", md.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "no summary with a format");
    let md = text(&md);
    assert_eq!(md, text(&s.dir.path().join("run.md")), "report = run");
    for part in [
        "**Why it failed:**",
        "the quota check failed",
        "| ❌ | throttle_rate | stage ramp | 1% |",
        "| ✅ | p99 | all | 5s |",
        "### Stages",
        "| ramp | ramp |",
        "api_gateway",
        "### Quota check — ❌ fail (limits: emulator)",
        "**Next steps:**",
    ] {
        assert!(md.contains(part), "{part:?} in\n{md}");
    }

    let o = report(&[r, "--markdown", "-"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), md, "- is stdout");
}

#[test]
fn the_step_summary_is_appended_to() {
    let s = shared();
    let summary = write(s.dir.path(), "step.md", "# before\n");
    let o = report(&[s.results.to_str().unwrap()], Some(&summary));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = report(&[s.results.to_str().unwrap()], Some(&summary));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = text(&summary);
    assert!(
        got.starts_with("# before\n## report test — ❌ fail"),
        "{got}"
    );
    assert_eq!(got.matches("## report test").count(), 2, "{got}");
}

use common::tool;

/// Reads the JUnit file with junitparser: one line per testcase, `name\tresult\tmessage`.
const READ_JUNIT: &str = r#"
import sys
from junitparser import JUnitXml, TestSuite
xml = JUnitXml.fromfile(sys.argv[1])
suites = [xml] if isinstance(xml, TestSuite) else list(xml)
assert len(suites) == 1, len(suites)
suite = suites[0]
print("suite\t%s\t%d\t%d\t%s" % (suite.name, suite.tests, suite.failures, suite.time))
for case in suite:
    results = list(case.result)
    kind = results[0]._tag if results else "pass"
    message = results[0].message if results else ""
    print("case\t%s\t%s\t%s\t%s" % (case.name, kind, message, case.time))
"#;

#[test]
fn junit_is_read_by_a_parser_we_did_not_write() {
    let Some(python) = tool("python3") else {
        return;
    };
    let s = shared();
    let xml = s.dir.path().join("report.xml");
    let o = report(
        &[
            s.results.to_str().unwrap(),
            "--junit",
            xml.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        text(&xml),
        text(&s.dir.path().join("run.xml")),
        "report = run"
    );
    let mut cmd = std::process::Command::new(python);
    cmd.args(["-c", READ_JUNIT, xml.to_str().unwrap()]);
    let o = run_bounded(cmd, Duration::from_secs(30)).output;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    let suite = &lines[0];
    assert_eq!(&suite[..4], ["suite", "report test", "5", "2"], "{out}");
    assert!(
        suite[4].parse::<f64>().unwrap() > 3.0,
        "the run's time: {out}"
    );
    let case = |name: &str| {
        lines
            .iter()
            .find(|l| l[0] == "case" && l[1] == name)
            .unwrap_or_else(|| panic!("no testcase {name:?} in\n{out}"))
    };
    assert_eq!(case("p99 ≤ 5s")[2], "pass", "{out}");
    let rate = case("stage ramp: throttle_rate ≤ 1%");
    assert_eq!(rate[2], "failure", "{out}");
    assert!(
        rate[3].starts_with("observed ") && rate[3].ends_with("%, limit 1%"),
        "{out}"
    );
    let quota = case("quota check (emulator limits)");
    assert_eq!(quota[2], "failure", "{out}");
    assert!(!quota[3].is_empty(), "{out}");
    assert_eq!(case("requests succeeded")[2], "pass", "{out}");
    assert_eq!(case("requests sent as planned")[2], "pass", "{out}");
}

#[test]
fn bad_input_is_exit_2_naming_the_file() {
    let s = shared();
    let dir = s.dir.path();
    let missing = dir.join("missing.json");
    let not_json = write(dir, "not.json", "results, but not JSON");
    let v2 = write(dir, "v2.json", "{\"schema\": \"stampede.results/2\"}");
    for (path, says) in [
        (&missing, "cannot read it"),
        (&not_json, "1:1"),
        (&v2, "format version 2"),
    ] {
        let o = report(&[path.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.starts_with("error: results file "), "{err}");
        assert!(
            err.contains(path.to_str().unwrap()) && err.contains(says),
            "{err}"
        );
    }
    let r = s.results.to_str().unwrap();
    // Several files are shards of one test, reported as their merge: the same run twice
    // would count its requests twice, so it is refused.
    let o = report(&[r, r], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("the same run"), "{}", stderr(&o));
    let o = report(&[r, "--markdown", "-", "--junit", "-"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = report(&[r, "--junit", "/no/such/dir/j.xml"], None);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--junit /no/such/dir/j.xml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_report_that_cannot_be_written_after_the_run_is_exit_4_and_the_results_stay() {
    // The step summary is only opened after the run: point it at a directory.
    let server = common::TestServer::start(|_| common::Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let md = dir.path().join("r.md");
    let mut cmd = common::command(&[
        "run",
        "--url",
        &server.url(),
        "--rate",
        "20",
        "--duration",
        "1s",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ]);
    cmd.env("GITHUB_STEP_SUMMARY", dir.path());
    let o = run_bounded(cmd, Duration::from_secs(60)).output;
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("GITHUB_STEP_SUMMARY") && stderr(&o).contains("cannot append to it"),
        "{}",
        stderr(&o)
    );
    let results = common::read_json(&out);
    assert_eq!(results["totals"]["ok"], 20, "the results are kept");
    assert!(text(&md).contains("✅ pass"), "the other reports too");
}
