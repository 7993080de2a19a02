//! The reports and `compare` of a `[[requests]]` mix, end to end: real runs against a
//! loopback server that delays each path as the test says, then `run --markdown`,
//! `report --markdown --junit --html` and `compare --json --markdown` on the files.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{run_results, stampede, stderr, stdout, write, Reply, TestServer};
use serde_json::Value;

/// A 1:2 mix of "create order" (POST /orders) and "get order" (GET /orders/1): 300
/// requests at 100/s.
fn scenario(url: &str) -> String {
    format!(
        r#"name = "orders mix"
[target]
url = "{url}api"

[[requests]]
name = "create order"
method = "POST"
path = "/orders"
body = '{{"sku": "A-1"}}'

[[requests]]
name = "get order"
path = "/orders/1"
weight = 2

[[stages]]
name = "steady"
kind = "constant"
rate = 100
duration = "3s"
"#
    )
}

/// A loopback server whose answer to each path waits the delay the test set for it.
struct Delays {
    server: TestServer,
    by_path: Arc<Mutex<BTreeMap<String, Duration>>>,
}

impl Delays {
    fn start(every: Duration) -> Delays {
        let by_path: Arc<Mutex<BTreeMap<String, Duration>>> = Arc::default();
        let delays = Arc::clone(&by_path);
        let server = TestServer::start(move |a| Reply {
            status: 200,
            delay: delays
                .lock()
                .unwrap()
                .get(a.uri.path())
                .copied()
                .unwrap_or(every),
        });
        Delays { server, by_path }
    }

    fn set(&self, path: &str, delay: Duration) {
        self.by_path.lock().unwrap().insert(path.into(), delay);
    }
}

fn p(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The compare JSON's section of request `name`.
fn request_section<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["requests"]
        .as_array()
        .unwrap_or_else(|| panic!("no requests: {c}"))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no request {name}: {c}"))
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
fn every_report_shows_the_mix_and_compare_finds_the_one_slower_request() {
    // 20 ms for every path; then "get order" takes 80 ms. Loopback jitter on a busy
    // machine is a few ms, well inside the 10 ms noise floor given below.
    let server = Delays::start(Duration::from_millis(20));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let toml = write(d, "mix.toml", &scenario(&server.server.url()));
    let md = d.join("run.md");
    let (base, _) = run_results(
        d,
        "base.json",
        &[
            "run",
            toml.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
            "--quiet",
        ],
        0,
    );
    assert_eq!(
        base["by_request"]["create order"]["totals"]["requests"],
        100
    );
    assert_eq!(base["by_request"]["get order"]["totals"]["requests"], 200);

    // run --markdown: the requests table after the stages, a row each, as by_request says.
    let run_md = read(&md);
    let (stages, requests) = (
        run_md.find("### Stages").expect(&run_md),
        run_md.find("### Requests\n").expect(&run_md),
    );
    assert!(stages < requests, "{run_md}");
    assert!(
        run_md.contains("| create order | 100 | 100 | 0 | 0 | 0.0% |"),
        "{run_md}"
    );
    assert!(
        run_md.contains("| get order | 200 | 200 | 0 | 0 | 0.0% |"),
        "{run_md}"
    );
    assert!(
        !run_md.contains("### Requests by stage"),
        "one stage: {run_md}"
    );

    // report: Markdown, JUnit and HTML from the file.
    let (rmd, junit, html) = (d.join("r.md"), d.join("j.xml"), d.join("r.html"));
    let o = common::command(&[
        "report",
        &p(d, "base.json"),
        "--markdown",
        rmd.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ])
    .env_remove("GITHUB_STEP_SUMMARY")
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(read(&rmd), run_md, "report writes what run wrote");
    let xml = read(&junit);
    for name in ["create order", "get order"] {
        assert!(
            xml.contains(&format!(
                "<testcase name=\"{name}\" classname=\"stampede.requests\""
            )),
            "{xml}"
        );
    }
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert!(
        xml.contains("100 requests: 100 ok, 0 throttled, 0 errors; p50 "),
        "{xml}"
    );
    let page = read(&html);
    assert!(page.contains("<section id=\"requests\"><h2>Requests</h2>"));
    assert!(page.contains("<tr><td>create order</td><td>100</td><td>100</td><td>100</td>"));
    assert!(page.contains("<summary>By stage (2 rows)</summary>"));

    // The head: only "get order" is slower.
    server.set("/api/orders/1", Duration::from_millis(80));
    run_results(
        d,
        "head.json",
        &["run", toml.to_str().unwrap(), "--quiet"],
        0,
    );
    let cmd = |extra: &[&str]| {
        let mut args = vec![
            "compare".to_string(),
            p(d, "base.json"),
            p(d, "head.json"),
            "--noise-floor".into(),
            "10ms".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        stampede(&args)
    };
    let cmd_md = d.join("c.md");
    let o = cmd(&["--json", "-", "--markdown", cmd_md.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o_json = o.stdout.clone();
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    let slower = request_section(&c, "get order");
    let same = request_section(&c, "create order");
    assert_eq!(regressed(slower), ["p50", "p90", "p99"], "{slower}");
    assert_eq!(regressed(same), Vec::<String>::new(), "{same}");
    assert!(same.get("kind").is_none());
    assert!(c.get("requests_only_in_base").is_none(), "{c}");
    let md = read(&cmd_md);
    assert!(md.contains("### request get order\n"), "{md}");
    assert!(md.contains("### request create order\n"), "{md}");
    assert!(
        md.contains("request get order p50 +"),
        "the verdict names it: {md}"
    );
    assert!(!md.contains("request create order p"), "{md}");

    // The text names each request's section and the one that regressed.
    let o = cmd(&[]);
    let text = stdout(&o);
    assert!(text.contains("\nrequest create order\n"), "{text}");
    assert!(text.contains("request get order p99 +"), "{text}");

    // The files match their JSON Schemas (with the test tools' Python, when installed).
    if let Some(python) = crate::schema::python_with_jsonschema() {
        let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        std::fs::write(d.join("c.json"), &o_json).unwrap();
        for (schema, files) in [
            ("results", vec![d.join("base.json"), d.join("head.json")]),
            ("compare", vec![d.join("c.json")]),
        ] {
            let at = schemas.join(format!("{schema}.schema.json"));
            let errors = crate::schema::jsonschema_errors(&python, &at, &files);
            assert!(errors.is_empty(), "{schema}: {}", errors.join("\n"));
        }
    }
}

#[test]
fn request_names_only_on_one_side_are_listed_not_compared() {
    let server = Delays::start(Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let toml = write(d, "mix.toml", &scenario(&server.server.url()));
    run_results(d, "base.json", &["run", toml.to_str().unwrap(), "-q"], 0);
    let renamed = scenario(&server.server.url()).replace("\"get order\"", "\"read order\"");
    let toml = write(d, "renamed.toml", &renamed);
    run_results(d, "head.json", &["run", toml.to_str().unwrap(), "-q"], 0);
    let o = stampede(&[
        "compare",
        &p(d, "base.json"),
        &p(d, "head.json"),
        "--json",
        "-",
        "--noise-floor",
        "50ms",
        "--max-regress",
        "rate=off,throttle_rate=off,failure_rate=off",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let c: Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = c["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["create order"], "{c}");
    assert_eq!(c["requests_only_in_base"], serde_json::json!(["get order"]));
    assert_eq!(
        c["requests_only_in_head"],
        serde_json::json!(["read order"])
    );
}

/// Request `name`'s seconds in a results file: t_s → (sent, requests, histogram count).
fn seconds_of(r: &Value, name: &str) -> BTreeMap<u64, (u64, u64, u64)> {
    let hists: BTreeMap<u64, u64> = r["histograms"]["by_request"][name]["seconds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let n = stampede_results::decode(h["latency"].as_str().unwrap())
                .unwrap()
                .len();
            (h["t_s"].as_u64().unwrap(), n)
        })
        .collect();
    r["by_request"][name]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let t = p["t_s"].as_u64().unwrap();
            let n = |k: &str| p[k].as_u64().unwrap();
            (
                t,
                (
                    n("sent"),
                    n("requests"),
                    hists.get(&t).copied().unwrap_or(0),
                ),
            )
        })
        .collect()
}

#[test]
fn two_shards_merged_add_each_requests_seconds_exactly() {
    let server = Delays::start(Duration::from_millis(2));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let toml = write(d, "mix.toml", &scenario(&server.server.url()));
    let start = std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + 1.5;
    let shards: Vec<_> = (0..2)
        .map(|i| {
            let args: Vec<String> = [
                "run",
                toml.to_str().unwrap(),
                "-q",
                "--shard",
                &format!("{i}/2"),
                "--start-at",
                &format!("{start:.3}"),
                "--out",
                &p(d, &format!("shard{i}.json")),
            ]
            .map(String::from)
            .to_vec();
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let o = stampede(&args);
                assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            })
        })
        .collect();
    for s in shards {
        s.join().unwrap();
    }
    let o = stampede(&[
        "merge",
        &p(d, "shard0.json"),
        &p(d, "shard1.json"),
        "--out",
        &p(d, "merged.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let read = |name: &str| common::read_json(&d.join(name));
    let (a, b, m) = (
        read("shard0.json"),
        read("shard1.json"),
        read("merged.json"),
    );
    // Both shards started at --start-at: their seconds line up as they are.
    assert_eq!(a["started_at"], b["started_at"]);
    for name in ["create order", "get order"] {
        let (sa, sb, sm) = (
            seconds_of(&a, name),
            seconds_of(&b, name),
            seconds_of(&m, name),
        );
        let mut sum = sa.clone();
        for (t, (sent, ended, n)) in sb {
            let s = sum.entry(t).or_default();
            *s = (s.0 + sent, s.1 + ended, s.2 + n);
        }
        assert_eq!(sm, sum, "{name}: the merged seconds are the shards' added");
        let ended: u64 = sm.values().map(|s| s.1).sum();
        assert_eq!(
            ended,
            m["by_request"][name]["totals"]["requests"]
                .as_u64()
                .unwrap()
        );
        assert!(
            sm.values().all(|s| s.1 == s.2),
            "{name}: a histogram per second"
        );
    }
    let ended: u64 = seconds_of(&m, "get order").values().map(|s| s.1).sum();
    assert_eq!(ended, 200);
}
