//! `[[requests]]`: a weighted mix arrives exactly in its proportions, its results say what
//! each request did, shards merge into the single run per request, and bad entries are
//! exit 2 with file:line:col.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common;

use common::{stampede, stderr, write};

/// Runs `text` as a scenario with `plan`; returns stderr after checking the exit code is 2.
fn rejected(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "mix.toml", text);
    let o = stampede(&["plan", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

const HEAD: &str =
    "[target]\nurl = \"http://127.0.0.1:9/api\"\n[[stages]]\nkind = \"burst\"\nrequests = 10\n";

#[test]
fn bad_entries_are_exit_2_at_their_place() {
    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\npath = \"/a\"\n[[requests]]\nname = \"a\"\npath = \"/b\"\n"
    ));
    assert!(
        err.contains("mix.toml:10:8:") && err.contains("duplicate request name `a`"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\npath = \"/a\"\nweight = 0\n"
    ));
    assert!(
        err.contains("mix.toml:9:10:") && err.contains("at least 1"),
        "{err}"
    );

    let err = rejected(&format!("{HEAD}[[requests]]\nname = \"a\"\npath = \"a\"\n"));
    assert!(
        err.contains("mix.toml:8:9:") && err.contains("does not start with `/`"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\nurl = \"http://127.0.0.1:10/a\"\n"
    ));
    assert!(
        err.contains("mix.toml:8:7:") && err.contains("another origin"),
        "{err}"
    );

    // A placeholder the template compiler does not know: the column is inside the string.
    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\npath = \"/a/{{{{nope}}}}\"\n"
    ));
    assert!(err.contains("mix.toml:8:14:"), "{err}");

    let many: String = (0..101)
        .map(|i| format!("[[requests]]\nname = \"r{i}\"\npath = \"/{i}\"\n"))
        .collect();
    let err = rejected(&format!("{HEAD}{many}"));
    assert!(
        err.contains("101 [[requests]]") && err.contains("at most 100"),
        "{err}"
    );

    let err = rejected(
        "[target]\nurl = \"http://127.0.0.1:9/\"\nmethod = \"POST\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n[[requests]]\nname = \"a\"\npath = \"/a\"\n"
    );
    assert!(
        err.contains("mix.toml:3:10:") && err.contains("[target] method with [[requests]]"),
        "{err}"
    );

    // A header value's placeholder, placed inside the value.
    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\npath = \"/a\"\nheaders = {{ x-id = \"id-{{{{nope}}}}\" }}\n"
    ));
    assert!(err.contains("mix.toml:9:26:"), "{err}");

    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\npath = \"/a\"\nexpect = 1\n"
    ));
    assert!(
        err.contains("mix.toml:9:10:") && err.contains("an expect table such as"),
        "{err}"
    );
}

/// A loopback server that counts the requests it gets by method and path.
struct Recording {
    server: common::TestServer,
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl Recording {
    fn start() -> Recording {
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let seen = Arc::clone(&counts);
        let server = common::TestServer::start(move |a| {
            let key = format!("{} {}", a.method, a.uri.path());
            *seen.lock().unwrap().entry(key).or_insert(0) += 1;
            common::Reply::ok()
        });
        Recording { server, counts }
    }

    fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.lock().unwrap().clone()
    }
}

/// A 3:6:1 mix over 500 requests of an open stage and a burst of 500.
fn mix_scenario(url: &str) -> String {
    format!(
        r#"name = "mix"
[target]
url = "{url}api"
headers = {{ x-team = "t" }}

[[requests]]
name = "create order"
method = "POST"
path = "/orders"
body = '{{"sku": "A-1"}}'
weight = 3

[[requests]]
name = "get order"
path = "/orders/1"
weight = 6

[[requests]]
name = "list orders"
path = "/orders?page=2"
weight = 1

[[stages]]
name = "open"
kind = "constant"
rate = 1000
duration = "500ms"

[[stages]]
name = "burst"
kind = "burst"
requests = 500
"#
    )
}

fn expected() -> BTreeMap<String, u64> {
    [
        ("GET /api/orders".to_string(), 100),
        ("GET /api/orders/1".to_string(), 600),
        ("POST /api/orders".to_string(), 300),
    ]
    .into_iter()
    .collect()
}

#[test]
fn a_3_6_1_mix_of_1000_requests_arrives_exactly_300_600_100() {
    let server = Recording::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "mix.toml", &mix_scenario(&server.server.url()));
    let (results, o) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "--threads", "2"],
        0,
    );
    assert_eq!(server.counts(), expected());
    // The preflight lists the mix with each stage's plan; the summary a row per request.
    let out = common::stdout(&o);
    assert!(
        out.contains("requests: a mix of 3 (weights add up to 10)"),
        "{out}"
    );
    // No one method: the title says how many requests, under which base URL.
    assert_eq!(results["target"]["method"], "MIX");
    assert!(
        out.contains(": 3 requests under http://127.0.0.1:"),
        "{out}"
    );
    // The preflight's row comes first, the summary's last.
    let line = |start: &str, last: bool| {
        let mut found = out.lines().filter(|l| l.trim_start().starts_with(start));
        let found = if last {
            found.next_back()
        } else {
            found.next()
        };
        found
            .unwrap_or_else(|| panic!("no line `{start}` in:\n{out}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        line("create order       ", false)[2..],
        ["POST", "/api/orders", "3", "30.0%", "150", "150"],
        "{out}"
    );
    let row = line("get order          ", true);
    assert_eq!(row[2..5], ["600", "600", "0"], "{out}");
    assert_eq!(results["totals"]["requests"], 1000);
    // by_request says what the server counted, by name, in the run and in each stage.
    eprintln!(
        "server counted {:?}; by_request {:?}",
        server.counts(),
        requests_by_name(&results["by_request"])
    );
    assert_eq!(
        requests_by_name(&results["by_request"]),
        by_name(&server.counts())
    );
    for stage in results["stages"].as_array().unwrap() {
        let per = &stage["by_request"];
        assert_eq!(
            requests_by_name(per),
            [
                ("create order", 150),
                ("get order", 300),
                ("list orders", 50)
            ]
            .map(|(n, c)| (n.to_string(), c))
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
            "{stage}"
        );
        for (_, r) in per.as_object().unwrap() {
            assert_eq!(r["planned_requests"], r["totals"]["requests"], "{stage}");
            assert_eq!(r["totals"]["ok"], r["totals"]["requests"]);
            // Its latencies are the stage's: none above the stage's longest (within the
            // 1% of two significant digits), and not clamped near zero either.
            let max = r["latency_ms"]["max"].as_f64().unwrap();
            let stage_max = stage["latency_ms"]["max"].as_f64().unwrap();
            assert!(
                max <= stage_max * 1.01 + 0.01,
                "{max} > {stage_max}: {stage}"
            );
            assert!(r["latency_ms"]["p99"].as_f64().unwrap() > 0.01, "{stage}");
        }
    }
    let h = results["histograms"]["by_request"].as_object().unwrap();
    assert_eq!(h.len(), 3);
    assert!(h
        .values()
        .all(|r| r["stages"].as_array().unwrap().len() == 2));
    let longest = results["by_request"]
        .as_object()
        .unwrap()
        .values()
        .map(|r| r["latency_ms"]["max"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let run_max = results["latency_ms"]["max"].as_f64().unwrap();
    assert!(
        (longest - run_max).abs() <= run_max / 100.0 + 0.01,
        "the longest request's max {longest} is the run's {run_max}"
    );
    // A scenario without [[requests]] has no by_request at all.
    let plain = write(
        dir.path(),
        "plain.toml",
        &format!(
            "[target]\nurl = \"{}\"\n[[stages]]\nkind = \"burst\"\nrequests = 5\n",
            server.server.url()
        ),
    );
    let (results, _) = common::run_results(
        dir.path(),
        "p.json",
        &["run", plain.to_str().unwrap(), "-q"],
        0,
    );
    assert!(results.get("by_request").is_none(), "{results}");
    assert!(results["stages"][0].get("by_request").is_none());
    assert!(results["histograms"].get("by_request").is_none());
}

/// Requests per request name, from a `by_request` object.
fn requests_by_name(by_request: &serde_json::Value) -> BTreeMap<String, u64> {
    by_request
        .as_object()
        .expect("by_request")
        .iter()
        .map(|(n, r)| (n.clone(), r["totals"]["requests"].as_u64().unwrap()))
        .collect()
}

/// The server's counts under the requests' names.
fn by_name(counts: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let name = |k: &str| match k {
        "POST /api/orders" => "create order",
        "GET /api/orders/1" => "get order",
        _ => "list orders",
    };
    counts
        .iter()
        .map(|(k, n)| (name(k).to_string(), *n))
        .collect()
}

#[test]
fn three_shards_merged_equal_the_single_run_per_request() {
    let server = Recording::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = write(d, "mix.toml", &mix_scenario(&server.server.url()));
    let start = std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + 1.5;
    let shards: Vec<_> = (0..3)
        .map(|i| {
            let out = d.join(format!("shard{i}.json"));
            let args: Vec<String> = [
                "run",
                path.to_str().unwrap(),
                "-q",
                "--threads",
                "1",
                "--shard",
                &format!("{i}/3"),
                "--start-at",
                &format!("{start:.3}"),
                "--out",
                out.to_str().unwrap(),
            ]
            .map(String::from)
            .to_vec();
            let run = std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let o = stampede(&args);
                assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            });
            (out, run)
        })
        .collect();
    let mut files = Vec::new();
    for (out, run) in shards {
        run.join().unwrap();
        files.push(out);
    }
    assert_eq!(
        server.counts(),
        expected(),
        "the shards together sent the mix"
    );
    let merged = d.join("merged.json");
    let mut args = vec!["merge"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args.extend(["--out", merged.to_str().unwrap()]);
    let o = stampede(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = common::read_json(&merged);
    eprintln!(
        "3 shards: server counted {:?}; merged by_request {:?}",
        server.counts(),
        requests_by_name(&m["by_request"])
    );
    assert_eq!(requests_by_name(&m["by_request"]), by_name(&expected()));
    for stage in m["stages"].as_array().unwrap() {
        for (_, r) in stage["by_request"].as_object().unwrap() {
            assert_eq!(r["planned_requests"], r["totals"]["requests"], "{stage}");
        }
    }
    // Each shard planned its own share of each request; the shares add up to the whole.
    let shard0 = common::read_json(&files[0]);
    let planned: u64 = shard0["by_request"]
        .as_object()
        .unwrap()
        .values()
        .map(|r| r["planned_requests"].as_u64().unwrap())
        .sum();
    assert_eq!(
        planned, 334,
        "shard 0 of 3 has every third of 1,000 requests"
    );
    // The histograms were added: the merged p50 comes from all 1,000 latencies.
    let h = m["histograms"]["by_request"]["get order"]["latency"]
        .as_str()
        .unwrap();
    let h = stampede_results::decode(h).unwrap();
    assert_eq!(h.len(), 600);
}

#[test]
fn a_retried_request_sends_the_same_request_again() {
    // The first attempt of every request is throttled; the retry must be the same request.
    let firsts: Arc<Mutex<BTreeMap<String, String>>> = Default::default();
    let same = Arc::new(Mutex::new((0u64, 0u64)));
    let (seen, tally) = (Arc::clone(&firsts), Arc::clone(&same));
    let server = common::TestServer::start(move |a| {
        let id = a.headers["x-correlation-id"].to_str().unwrap().to_string();
        let request = format!(
            "{} {} {:?} {:?}",
            a.method,
            a.uri,
            a.headers.get("content-length"),
            a.headers.get("x-team")
        );
        let mut firsts = seen.lock().unwrap();
        match firsts.get(&id) {
            None => {
                firsts.insert(id, request);
                common::Reply {
                    status: 429,
                    delay: Duration::ZERO,
                }
            }
            Some(first) => {
                let mut t = tally.lock().unwrap();
                t.0 += 1;
                t.1 += u64::from(*first == request);
                common::Reply::ok()
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let text = mix_scenario(&server.url())
        .replace("rate = 1000", "rate = 100")
        .replace("requests = 500", "requests = 50")
        + "[retry]\nbase = \"1ms\"\ncap = \"2ms\"\nbudget = 0\n";
    let path = write(dir.path(), "mix.toml", &text);
    let o = stampede(&["run", path.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (retries, identical) = *same.lock().unwrap();
    assert_eq!(retries, 100, "every request retried once");
    assert_eq!(
        identical, retries,
        "each retry is its first attempt's request"
    );
}

#[test]
fn a_hundred_requests_over_ten_stages_keep_memory_bounded() {
    // Every request of the mix in every stage: the recorder's worst case.
    let server = Recording::start();
    let dir = tempfile::tempdir().unwrap();
    let stages: String = (0..10)
        .map(|i| format!("[[stages]]\nname = \"s{i}\"\nkind = \"burst\"\nrequests = 200\n"))
        .collect();
    let requests: String = (0..100)
        .map(|i| format!("[[requests]]\nname = \"request {i}\"\npath = \"/r/{i}\"\n"))
        .collect();
    let head = format!("[target]\nurl = \"{}\"\n", server.server.url());
    let mixed = write(
        dir.path(),
        "mixed.toml",
        &format!("{head}{stages}{requests}"),
    );
    let plain = write(dir.path(), "plain.toml", &format!("{head}{stages}"));
    let measure = |path: &std::path::Path, out: &str| {
        let out = dir.path().join(out);
        let run = common::stampede_timed(
            &[
                "run",
                path.to_str().unwrap(),
                "-q",
                "--threads",
                "2",
                "--out",
                out.to_str().unwrap(),
            ],
            Duration::from_secs(60),
        );
        assert_eq!(run.output.status.code(), Some(0), "{}", stderr(&run.output));
        let size = std::fs::metadata(&out).unwrap().len();
        (run.max_rss, size, common::read_json(&out))
    };
    let (plain_rss, plain_size, _) = measure(&plain, "plain.json");
    let (mixed_rss, mixed_size, results) = measure(&mixed, "mixed.json");
    assert_eq!(results["by_request"].as_object().unwrap().len(), 100);
    assert!(results["stages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["by_request"].as_object().unwrap().len() == 100));
    eprintln!(
        "100 requests × 10 stages, 2 threads: max RSS {:.1} MB (one request: {:.1} MB), results {:.1} MB (one request: {:.2} MB)",
        mixed_rss as f64 / 1e6,
        plain_rss as f64 / 1e6,
        mixed_size as f64 / 1e6,
        plain_size as f64 / 1e6
    );
    // Each (stage, request) cell holds its histograms on each engine thread: latency,
    // service and ok latency, and since the timing split ttfb and receive (and the
    // connect phases of the requests that opened a connection) — about 45 KB a cell in a
    // debug build, measured: 1,000 cells × 2 threads, 88 MB over one request alone. On a
    // loaded machine (eight tests at once) the coordinator lags and a few more seconds of
    // every cell wait in its channel: 101 MB seen. It grows with the names, never with the
    // requests (scripts/bench-mix measures that).
    assert!(
        mixed_rss < plain_rss + 125_000_000,
        "a 100 × 10 mix costs {} MB more than one request",
        (mixed_rss - plain_rss) / 1_000_000
    );
}

#[test]
fn requests_from_a_file_mix_an_ad_hoc_run() {
    let server = Recording::start();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "requests.toml",
        "[[requests]]\nname = \"a\"\npath = \"/a\"\nweight = 3\n[[requests]]\nname = \"b\"\nmethod = \"PUT\"\npath = \"/b\"\nbody_file = \"b.json\"\n",
    );
    write(dir.path(), "b.json", "{}");
    let url = format!("{}v1", server.server.url());
    let (results, _) = common::run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            "--url",
            &url,
            "--burst",
            "40",
            "--requests",
            file.to_str().unwrap(),
            "-q",
        ],
        0,
    );
    let want: BTreeMap<String, u64> =
        [("GET /v1/a".to_string(), 30), ("PUT /v1/b".to_string(), 10)]
            .into_iter()
            .collect();
    assert_eq!(server.counts(), want);
    assert_eq!(results["by_request"]["a"]["totals"]["requests"], 30);
    assert_eq!(results["by_request"]["b"]["totals"]["requests"], 10);

    // A scenario's [[requests]] take no --body either.
    let scenario = write(
        dir.path(),
        "s.toml",
        &format!("{HEAD}[[requests]]\nname = \"a\"\npath = \"/a\"\n"),
    );
    let o = stampede(&["plan", scenario.to_str().unwrap(), "--body", "x"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--body: the scenario has [[requests]]"),
        "{}",
        stderr(&o)
    );

    // Not with --method or --body: each entry says its own.
    let o = stampede(&[
        "run",
        "--url",
        &url,
        "--burst",
        "1",
        "-X",
        "POST",
        "--requests",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--requests"), "{}", stderr(&o));
}

#[test]
fn a_closed_stage_sends_the_mix_and_by_request_adds_up_to_it() {
    let server = Recording::start();
    let dir = tempfile::tempdir().unwrap();
    let text = mix_scenario(&server.server.url())
        .replace(
            "kind = \"constant\"\nrate = 1000\nduration = \"500ms\"",
            "kind = \"concurrency\"\nworkers = 10\nduration = \"300ms\"",
        )
        .replace("requests = 500", "requests = 10");
    let path = write(dir.path(), "mix.toml", &text);
    let (results, _) = common::run_results(
        dir.path(),
        "r.json",
        &["run", path.to_str().unwrap(), "-q", "--threads", "2"],
        0,
    );
    assert_eq!(
        requests_by_name(&results["by_request"]),
        by_name(&server.counts())
    );
    let closed = &results["stages"][0];
    let sum: u64 = requests_by_name(&closed["by_request"]).values().sum();
    assert_eq!(sum, closed["totals"]["requests"].as_u64().unwrap());
    // Ten workers: worker w's j-th request is number w + 10 j, so each round of ten is
    // one period of the 3:6:1 rotation and every request is sent.
    assert_eq!(
        closed["by_request"].as_object().unwrap().len(),
        3,
        "{closed}"
    );
    assert!(closed["by_request"]["create order"]
        .get("planned_requests")
        .is_none());
}
