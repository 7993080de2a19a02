//! `stampede merge` end to end: real runs against one loopback server, merged, and checked
//! against the histograms and counts of the files themselves.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use common::{read_json, stampede, stderr, write, Reply, TestServer};
use serde_json::Value;
use stampede::record::{decode, new_histogram, percentiles};

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn started(r: &Value) -> SystemTime {
    humantime::parse_rfc3339(r["started_at"].as_str().unwrap()).unwrap()
}

/// One scenario: the same text whatever the rate (`scenario_id` ignores rates).
fn scenario(dir: &Path, file: &str, url: &str, rate: u64) -> PathBuf {
    write(
        dir,
        file,
        &format!(
            "name = \"sharded\"\n[target]\nurl = \"{url}\"\n[[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = {rate}\nduration = \"2s\"\n"
        ),
    )
}

/// Runs stampede with `args`, expecting `code`.
fn expect(args: &[&str], code: i32) -> std::process::Output {
    let o = stampede(args);
    assert_eq!(o.status.code(), Some(code), "{args:?}\n{}", stderr(&o));
    o
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// The gate each shard passes and the whole fails. A latency or rate threshold cannot be
// one: the union's p-quantile is never above the highest shard's (each shard has at least
// a fraction p of its requests at or below its own p-quantile, so the union does too at or
// below the highest of them), and a rate (failure_rate, throttle_rate) of the union is the
// shards' rates weighted by their requests, never above the highest. Shards at p99 = 40,
// 45 and 60 ms under a 100 ms limit cannot make a union above 60 ms; 1 %, 1 % and 3 %
// failures under a 5 % limit cannot make more than 3 %. Such a threshold fails on the
// whole only when a shard fails it too; what merging must get right there is the value
// (the union's, not the mean of the shards' p99s: the unit tests in results/merge.rs
// show the mean passing where the union fails).
//
// What adds up is load: each second's sends and the in-flight counts. So the gate here is
// the quota check, against a quotas file with an API Gateway stage rate of 50 req/s.
// Three shards at 20 req/s each use 40 % of it (pass, exit 0); the whole sends 60 req/s,
// 120 % of the limit: the merged file fails the check (exit 1), as one run at 60 req/s does.
#[test]
fn three_shards_merge_to_the_exact_sum_and_fail_the_gate_the_whole_fails() {
    let server = TestServer::start(|_| Reply {
        status: 200,
        delay: Duration::from_millis(5),
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let quotas = write(
        d,
        "q.toml",
        "lambda_concurrent_executions = 1000\nstage_rate = 50\nstage_burst = 1000\n",
    );
    let shard_toml = scenario(d, "shard.toml", &server.url(), 20);
    let whole_toml = scenario(d, "whole.toml", &server.url(), 60);
    // The shards run at once, as on three machines.
    let shards: Vec<PathBuf> = (0..3).map(|i| d.join(format!("shard{i}.json"))).collect();
    let handles: Vec<_> = shards
        .iter()
        .map(|out| {
            let args: Vec<String> = [
                "run",
                s(&shard_toml),
                "--quotas",
                s(&quotas),
                "-q",
                "--out",
                s(out),
            ]
            .map(String::from)
            .to_vec();
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                expect(&args, 0);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let whole = d.join("whole.json");
    expect(
        &[
            "run",
            s(&whole_toml),
            "--quotas",
            s(&quotas),
            "-q",
            "--out",
            s(&whole),
        ],
        1,
    );
    let merged_path = d.join("merged.json");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|p| s(p)));
    args.extend(["--out", s(&merged_path), "--expect", "3", "-q"]);
    let o = expect(&args, 1);
    let m = read_json(&merged_path);
    let files: Vec<Value> = shards.iter().map(|p| read_json(p)).collect();
    let whole = read_json(&whole);

    assert_eq!(m["merged"]["files"], 3);
    assert_eq!(m["merged"]["per_second_exact"], true);
    assert_eq!(m["scenario_id"], whole["scenario_id"]);
    // The gate: each shard passed it, the whole and the merge did not.
    for f in &files {
        assert_eq!(f["quota_check"]["pass"], true, "{:#}", f["quota_check"]);
    }
    assert_eq!(whole["quota_check"]["pass"], false);
    assert_eq!(m["quota_check"]["pass"], false, "{:#}", m["quota_check"]);
    let usage = m["quota_check"]["usage"].as_array().unwrap();
    let rate = usage.iter().find(|u| u["limit"] == "stage_rate").unwrap();
    assert!(rate["percent"].as_f64().unwrap() > 100.0, "{rate:#}");
    assert!(stderr(&o).contains("stage"), "{}", stderr(&o));

    // Counts: the exact sum; and as many requests as the whole run sent.
    for key in [
        "requests",
        "ok",
        "throttled",
        "errors",
        "retries",
        "late",
        "abandoned",
    ] {
        let sum: u64 = files.iter().map(|f| u(&f["totals"][key])).sum();
        assert_eq!(u(&m["totals"][key]), sum, "totals.{key}");
    }
    for key in ["sent", "ok", "throttled", "server_errors", "timeouts"] {
        let sum: u64 = files.iter().map(|f| u(&f["attempts"][key])).sum();
        assert_eq!(u(&m["attempts"][key]), sum, "attempts.{key}");
    }
    let stage_sum: u64 = files
        .iter()
        .map(|f| u(&f["stages"][0]["totals"]["requests"]))
        .sum();
    assert_eq!(u(&m["stages"][0]["totals"]["requests"]), stage_sum);
    assert_eq!(u(&m["stages"][0]["planned_requests"]), 120);
    assert_eq!(u(&m["totals"]["requests"]), u(&whole["totals"]["requests"]));

    // Percentiles: those of the added histograms, whole run and stage.
    let added = |pick: &dyn Fn(&Value) -> &Value| {
        let mut h = new_histogram();
        for f in &files {
            h.add(decode(pick(f).as_str().unwrap()).unwrap()).unwrap();
        }
        h
    };
    let overall = percentiles(&added(&|f| &f["histograms"]["overall"]["latency"]));
    let stage = percentiles(&added(&|f| &f["histograms"]["stages"][0]["latency"]));
    let ms = |v: &Value, k: &str| v[k].as_f64().unwrap();
    for k in ["p50", "p90", "p99", "max"] {
        let want = serde_json::to_value(overall).unwrap();
        assert_eq!(ms(&m["latency_ms"], k), ms(&want, k), "latency_ms.{k}");
        let want = serde_json::to_value(stage).unwrap();
        assert_eq!(
            ms(&m["stages"][0]["latency_ms"], k),
            ms(&want, k),
            "stage {k}"
        );
    }

    // Seconds: second k of a file is its start + k, in the merged second holding its middle.
    let t0 = files.iter().map(started).min().unwrap();
    assert_eq!(started(&m), t0);
    let mut sent = std::collections::BTreeMap::<u64, u64>::new();
    let mut ended = std::collections::BTreeMap::<u64, u64>::new();
    let mut hist = std::collections::BTreeMap::new();
    for f in &files {
        let shift = started(f).duration_since(t0).unwrap().as_secs_f64().round() as u64;
        for p in f["timeline"].as_array().unwrap() {
            *sent.entry(u(&p["t_s"]) + shift).or_default() += u(&p["sent"]);
            *ended.entry(u(&p["t_s"]) + shift).or_default() += u(&p["requests"]);
        }
        for h in f["histograms"]["seconds"].as_array().unwrap() {
            hist.entry(u(&h["t_s"]) + shift)
                .or_insert_with(new_histogram)
                .add(decode(h["latency"].as_str().unwrap()).unwrap())
                .unwrap();
        }
    }
    let timeline = m["timeline"].as_array().unwrap();
    for p in timeline {
        let t = u(&p["t_s"]);
        assert_eq!(
            u(&p["sent"]),
            sent.get(&t).copied().unwrap_or(0),
            "second {t}"
        );
        assert_eq!(
            u(&p["requests"]),
            ended.get(&t).copied().unwrap_or(0),
            "second {t}"
        );
        if let Some(h) = hist.get(&t) {
            let want = percentiles(h);
            assert_eq!(p["p99_ms"].as_f64().unwrap(), want.p99, "second {t}");
            assert_eq!(p["max_ms"].as_f64().unwrap(), want.max, "second {t}");
        }
    }
    assert_eq!(timeline.len() as u64, sent.keys().max().unwrap() + 1);
    assert_eq!(
        timeline.iter().map(|p| u(&p["sent"])).sum::<u64>(),
        u(&m["attempts"]["sent"])
    );
}

/// Two quick real runs of one ad-hoc scenario, and one of another.
fn small_runs(d: &Path, server: &TestServer) -> (PathBuf, PathBuf, PathBuf) {
    let run = |name: &str, scenario_name: &str| {
        let toml = write(
            d,
            &format!("{name}.toml"),
            &format!(
                "name = \"{scenario_name}\"\n[target]\nurl = \"{}\"\n[[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = 20\nduration = \"1s\"\n",
                server.url()
            ),
        );
        let out = d.join(format!("{name}.json"));
        expect(&["run", s(&toml), "-q", "--out", s(&out)], 0);
        out
    };
    (run("a", "small"), run("b", "small"), run("c", "other"))
}

#[test]
fn merge_refuses_what_it_cannot_merge_and_merges_100_files_quickly() {
    let server = TestServer::start(|_| Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b, c) = small_runs(d, &server);
    let out = d.join("m.json");
    let refused = |args: &[&str], says: &[&str]| {
        let o = expect(args, 2);
        let e = stderr(&o);
        for s in says {
            assert!(e.contains(s), "{s:?} not in {e}");
        }
        assert!(!out.exists(), "nothing written on a refusal");
    };
    // Another scenario: which files ran which.
    refused(
        &["merge", s(&a), s(&c), s(&b), "--out", s(&out)],
        &["different scenarios", "a.json", "b.json", "c.json"],
    );
    // Other stages (a file edited to have them).
    let mut other = read_json(&b);
    other["stages"][0]["name"] = "warm-up".into();
    let edited = write(d, "edited.json", &other.to_string());
    refused(
        &["merge", s(&a), s(&edited), "--out", s(&out)],
        &[
            "edited.json has [warm-up (constant)]",
            "a.json has stages [steady (constant)]",
        ],
    );
    refused(
        &["merge", s(&a), s(&b), "--expect", "3", "--out", s(&out)],
        &["--expect 3, but 2 files given"],
    );
    refused(
        &["merge", s(&a), "--out", s(&out)],
        &["1 results file given"],
    );
    refused(
        &["merge", s(&a), s(&d.join("missing.json")), "--out", s(&out)],
        &["missing.json"],
    );
    expect(
        &["merge", s(&a), s(&b), "--expect", "2", "--out", s(&out)],
        0,
    );
    let m = read_json(&out);
    assert_eq!(
        u(&m["totals"]["requests"]),
        u(&read_json(&a)["totals"]["requests"]) + u(&read_json(&b)["totals"]["requests"])
    );

    // 100 shard files: one real file, its start shifted by 37 ms each, each its own run.
    let real = read_json(&a);
    let t0 = started(&real);
    let mut args = vec!["merge".to_string()];
    for i in 0..100u64 {
        let mut f = real.clone();
        f["started_at"] = humantime::format_rfc3339_millis(t0 + Duration::from_millis(37 * i))
            .to_string()
            .into();
        f["run_id"] = format!("{i:08x}").into();
        let p = write(d, &format!("shard{i:03}.json"), &f.to_string());
        args.push(p.to_str().unwrap().to_string());
    }
    args.extend([
        "--out".into(),
        s(&out).into(),
        "--expect".into(),
        "100".into(),
        "-q".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let clock = Instant::now();
    expect(&args, 0);
    let took = clock.elapsed();
    println!("merging 100 shard files took {took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    let m = read_json(&out);
    assert_eq!(m["merged"]["files"], 100);
    assert_eq!(
        u(&m["totals"]["requests"]),
        100 * u(&real["totals"]["requests"])
    );
    // 99 × 37 ms = 3.7 s of shift: 4 seconds more than one file's.
    assert_eq!(
        m["timeline"].as_array().unwrap().len(),
        real["timeline"].as_array().unwrap().len() + 4
    );
}

#[test]
fn a_run_is_merged_once_and_never_written_over() {
    let server = TestServer::start(|_| Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (a, b, _) = small_runs(d, &server);
    let a_text = std::fs::read(&a).unwrap();
    let id = read_json(&a)["run_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 8, "8 hex digits: {id}");
    let out = d.join("m.json");
    let refused = |args: &[&str], says: &[&str]| {
        let e = stderr(&expect(args, 2));
        for s in says {
            assert!(e.contains(s), "{s:?} not in {e}");
        }
        assert!(!out.exists(), "nothing written on a refusal");
    };
    // The same path twice, and the same file by another path.
    refused(
        &["merge", s(&a), s(&b), s(&a), "--out", s(&out)],
        &["a.json and ", "a.json are one file", "counted 2 times"],
    );
    let link = d.join("link.json");
    std::os::unix::fs::symlink(&a, &link).unwrap();
    refused(
        &["merge", s(&link), s(&b), s(&a), "--out", s(&out)],
        &["link.json and ", "a.json are one file"],
    );
    // A copy: the same run.
    let copy = write(d, "copy.json", std::str::from_utf8(&a_text).unwrap());
    refused(
        &["merge", s(&a), s(&copy), "--out", s(&out)],
        &[
            "a.json and ",
            &format!("copy.json hold the same run (run_id {id})"),
        ],
    );
    // A merged file and a run it holds.
    expect(&["merge", s(&a), s(&b), "--out", s(&out), "-q"], 0);
    let ab = d.join("ab.json");
    std::fs::rename(&out, &ab).unwrap();
    let m = read_json(&ab);
    assert_eq!(m["merged"]["runs"].as_array().unwrap().len(), 2);
    assert!(m.get("run_id").is_none(), "a merged file is no one run");
    refused(
        &["merge", s(&ab), s(&b), "--out", s(&out)],
        &["ab.json and ", "b.json hold the same run"],
    );
    // --out naming an input (through a link, too): refused, the input untouched.
    for over in [&a, &link] {
        let e = stderr(&expect(&["merge", s(&a), s(&b), "--out", s(over)], 2));
        assert!(e.contains("is one of the files to merge"), "{e}");
        assert_eq!(std::fs::read(&a).unwrap(), a_text, "the input is untouched");
    }
}

#[test]
fn shards_of_tests_started_apart_are_not_merged() {
    let server = TestServer::start(|_| Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let toml = scenario(d, "s.toml", &server.url(), 10);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    // Shard 0 of one test and shard 1 of another begun 3 s later: together they look like
    // a whole, but they are two halves of two tests.
    let shard = |i: u32, start: f64| {
        let out = d.join(format!("shard{i}.json"));
        let args: Vec<String> = [
            "run",
            s(&toml),
            "-q",
            "--threads",
            "1",
            "--shard",
            &format!("{i}/2"),
            "--start-at",
            &format!("{start:.3}"),
            "--out",
            s(&out),
        ]
        .map(String::from)
        .to_vec();
        (
            out,
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                expect(&args, 0);
            }),
        )
    };
    let (s0, h0) = shard(0, now + 1.0);
    let (s1, h1) = shard(1, now + 4.0);
    h0.join().unwrap();
    h1.join().unwrap();
    let out = d.join("m.json");
    let e = stderr(&expect(&["merge", s(&s0), s(&s1), "--out", s(&out)], 2));
    assert!(
        e.contains("started at different instants")
            && e.contains("shard0.json --start-at")
            && e.contains("shard1.json --start-at"),
        "{e}"
    );
    assert!(!out.exists());
}
