//! One test split across N processes, as Kubernetes Indexed Jobs, AWS Batch arrays and ECS
//! tasks start them (only the index variables differ), all against one loopback server,
//! results in a shared directory, merged from it — against one process running the whole.

use crate::common;

use std::path::Path;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{read_json, stampede, stderr, wait_bounded, write, Reply, TestServer};
use serde_json::Value;

/// Stages whose counts do not divide by 2, 3 or 7: 61 at a constant 40 req/s (1.525 s), a
/// burst of 23, a ramp 10 → 30 req/s over 1.1 s (22).
fn scenario(dir: &Path, url: &str) -> String {
    write(
        dir,
        "split.toml",
        &format!(
            r#"name = "split"
[target]
url = "{url}"
[[stages]]
name = "steady"
kind = "constant"
rate = 40
duration = "1525ms"
[[stages]]
name = "spike"
kind = "burst"
requests = 23
[[stages]]
name = "climb"
kind = "ramp"
from = 10
to = 30
duration = "1100ms"
"#
        ),
    )
    .to_str()
    .unwrap()
    .to_string()
}

/// The environment an engine gives shard `i` of `n`: Kubernetes, AWS Batch or anything else.
fn engine_env(i: u64, n: u64) -> Vec<(&'static str, String)> {
    match i % 3 {
        0 => vec![
            ("JOB_COMPLETION_INDEX", i.to_string()),
            ("STAMPEDE_SHARDS", n.to_string()),
        ],
        1 => vec![
            ("AWS_BATCH_JOB_ARRAY_INDEX", i.to_string()),
            ("AWS_BATCH_JOB_ARRAY_SIZE", n.to_string()),
        ],
        _ => vec![("STAMPEDE_SHARD", format!("{i}/{n}"))],
    }
}

/// Starts shard `i` of `n`: the same command line for every shard.
fn start_shard(scenario: &str, store: &Path, start_at: &str, i: u64, n: u64) -> Child {
    start_shard_in(
        common::command(&[]),
        scenario,
        &format!("{}/", store.display()),
        start_at,
        i,
        n,
    )
}

/// As [`start_shard`], with `cmd`'s environment and a store given as written (DIR/, s3://…/).
fn start_shard_in(
    mut cmd: std::process::Command,
    scenario: &str,
    store: &str,
    start_at: &str,
    i: u64,
    n: u64,
) -> Child {
    cmd.args([
        "run",
        scenario,
        "--threads",
        "1",
        "--quiet",
        "--start-at",
        start_at,
        "--out",
        store,
    ]);
    for (k, v) in engine_env(i, n) {
        cmd.env(k, v);
    }
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd.spawn().expect("stampede starts")
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn stage_counts(r: &Value) -> Vec<(String, u64, u64)> {
    r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["totals"]["requests"].as_u64().unwrap(),
                s["planned_requests"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// (seconds since the Unix epoch, correlation id) of every request the server saw.
type Seen = Arc<Mutex<Vec<(f64, String)>>>;

fn server() -> (TestServer, Seen) {
    server_answering(|_| 200)
}

/// A server that logs every request and answers with `status(correlation id)`.
fn server_answering(status: impl Fn(&str) -> u16 + Send + Sync + 'static) -> (TestServer, Seen) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let server = TestServer::start(move |a| {
        let id = a
            .headers
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        log.lock().unwrap().push((unix_now(), id.to_string()));
        Reply {
            status: status(id),
            delay: Duration::ZERO,
        }
    });
    (server, seen)
}

#[test]
fn n_shards_merge_to_exactly_the_single_run() {
    let (server, seen) = server();
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), &server.url());
    let whole_out = dir.path().join("whole.json");
    let o = stampede(&[
        "run",
        &scenario,
        "--threads",
        "1",
        "--quiet",
        "--out",
        whole_out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let whole = stage_counts(&read_json(&whole_out));
    assert_eq!(
        whole,
        [
            ("steady".into(), 61, 61),
            ("spike".into(), 23, 23),
            ("climb".into(), 22, 22)
        ]
    );

    let mut report = vec![format!("single run: {whole:?}")];
    for n in [1u64, 2, 3, 7] {
        seen.lock().unwrap().clear();
        let store = dir.path().join(format!("store-{n}"));
        let start = unix_now() + 2.0;
        let start_at = format!("{start:.3}");
        let shards: Vec<Child> = (0..n)
            .map(|i| start_shard(&scenario, &store, &start_at, i, n))
            .collect();
        for (i, child) in shards.into_iter().enumerate() {
            let run = wait_bounded(child, &format!("shard {i}/{n}"), Duration::from_secs(60));
            let err = String::from_utf8_lossy(&run.output.stderr);
            assert_eq!(run.output.status.code(), Some(0), "shard {i}/{n}: {err}");
            assert!(err.contains(&format!("shard {i}/{n} (from ")), "{err}");
        }
        // Each shard's share: its planned counts add up to the whole's.
        let mut sums = vec![0u64; 3];
        for i in 0..n {
            let r = read_json(&store.join(format!("shard-{i}-of-{n}.json")));
            assert_eq!(r["shard"]["index"], i);
            assert_eq!(r["shard"]["count"], n);
            assert_eq!(r["shard"]["skipped_requests"], 0, "on time");
            // One clock for the server and the shards here: the probe finds no offset.
            let (offset, within) = (
                r["shard"]["clock_offset_ms"]
                    .as_f64()
                    .expect("the clock was probed"),
                r["shard"]["clock_within_ms"].as_f64().unwrap(),
            );
            assert!(offset.abs() <= within + 5.0, "{offset} ± {within}");
            for (k, (_, sent, planned)) in stage_counts(&r).iter().enumerate() {
                assert_eq!(sent, planned, "shard {i}/{n} sent its plan");
                sums[k] += sent;
            }
        }
        assert_eq!(sums, [61, 23, 22], "{n} shards");

        let merged_out = dir.path().join(format!("merged-{n}.json"));
        let o = stampede(&[
            "merge",
            &format!("{}/", store.display()),
            "--expect",
            &n.to_string(),
            "--wait",
            "10s",
            "--out",
            merged_out.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let merged = read_json(&merged_out);
        assert_eq!(stage_counts(&merged), whole, "{n} shards merged");
        assert_eq!(merged["merged"]["files"], n);
        assert_eq!(merged["started_at"].as_str().unwrap().len(), 24);

        // The union of the send instants is the single schedule: the k-th request of the
        // steady stage arrives at k/40 s after the start, whichever shard sent it.
        // (The clock probes before the start are HEADs without ids: left out.)
        let log: Vec<(f64, String)> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, id)| !id.is_empty())
            .cloned()
            .collect();
        assert_eq!(log.len(), 106, "{n} shards: every request once");
        // (The steady stage's 61 come first; the burst follows at 1.525 s.)
        let mut all: Vec<f64> = log.iter().map(|(t, _)| t - start).collect();
        all.sort_by(f64::total_cmp);
        let steady = &all[..61];
        let worst = steady
            .iter()
            .enumerate()
            .map(|(k, t)| (t - k as f64 / 40.0).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < 0.05,
            "{n} shards: a send {worst:.3} s off the schedule"
        );
        // Each shard's first request (number i of the stage, due at i/40 s) came on time.
        let mut first_off = Vec::new();
        for i in 0..n {
            let tag = if n == 1 {
                String::new()
            } else {
                format!("-s{i}.")
            };
            let first = log
                .iter()
                .filter(|(_, id)| n == 1 || id.contains(&tag))
                .map(|(t, _)| *t - start - i as f64 / 40.0)
                .fold(f64::INFINITY, f64::min);
            first_off.push(first);
        }
        let spread = first_off.iter().cloned().fold(f64::MIN, f64::max)
            - first_off.iter().cloned().fold(f64::MAX, f64::min);
        assert!(spread < 0.02, "{n} shards: start instants {first_off:?}");
        report.push(format!(
            "{n} shards: merged {:?}, first sends off schedule by {:?} ms (spread {:.1} ms)",
            stage_counts(&merged),
            first_off
                .iter()
                .map(|s| (s * 1e4).round() / 10.0)
                .collect::<Vec<_>>(),
            spread * 1e3
        ));
    }
    println!("{}", report.join("\n"));
}

#[test]
fn a_late_shard_skips_and_says_so_and_a_missing_one_is_named() {
    let (server, _) = server();
    let dir = tempfile::tempdir().unwrap();
    // 3.5 s at 20 req/s: 70 requests, shard 1 of 2 has 35.
    let scenario = write(
        dir.path(),
        "long.toml",
        &format!(
            "name = \"long\"\n[target]\nurl = \"{}\"\n[[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = 20\nduration = \"3500ms\"\n",
            server.url()
        ),
    );
    let scenario = scenario.to_str().unwrap();
    let store = dir.path().join("store");
    let start = unix_now() + 1.0;
    let start_at = format!("{start:.3}");
    let on_time = start_shard(scenario, &store, &start_at, 0, 2);
    // The other comes 3 s late.
    std::thread::sleep(Duration::from_secs_f64((start + 3.0 - unix_now()).max(0.0)));
    let late = start_shard(scenario, &store, &start_at, 1, 2);
    let late = wait_bounded(late, "late shard", Duration::from_secs(60));
    let err = String::from_utf8_lossy(&late.output.stderr);
    // Most of its share was due before it began: it was not sent, and the shard fails.
    assert_eq!(late.output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("after --start-at") && err.contains("skipped, not sent late"),
        "{err}"
    );
    assert!(err.contains("sent well below the plan"), "{err}");
    let r = read_json(&store.join("shard-1-of-2.json"));
    let late_s = r["shard"]["late_s"].as_f64().unwrap();
    let skipped = r["shard"]["skipped_requests"].as_u64().unwrap();
    let sent = r["totals"]["requests"].as_u64().unwrap();
    assert!((2.9..4.0).contains(&late_s), "{late_s}");
    assert_eq!(skipped + sent, 35, "skipped {skipped}, sent {sent}");
    assert!((28..=32).contains(&skipped), "3 s of 10 req/s: {skipped}");
    // Never compressed into a burst: no second holds more than its share of 10.
    for p in r["timeline"].as_array().unwrap() {
        assert!(p["sent"].as_u64().unwrap() <= 11, "{p}");
    }

    // Before the on-time shard is done (or with it gone): merge names what is missing.
    let mut only_one = store.clone();
    only_one.set_file_name("only-one");
    std::fs::create_dir_all(&only_one).unwrap();
    std::fs::copy(
        store.join("shard-1-of-2.json"),
        only_one.join("shard-1-of-2.json"),
    )
    .unwrap();
    let o = stampede(&[
        "merge",
        &format!("{}/", only_one.display()),
        "--wait",
        "1s",
        "-q",
        "--out",
        dir.path().join("m.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 of 2 shards missing after waiting 1s: shard-0-of-2.json"),
        "{}",
        stderr(&o)
    );

    wait_bounded(on_time, "on-time shard", Duration::from_secs(60));
    let merged_out = dir.path().join("merged.json");
    let o = stampede(&[
        "merge",
        &format!("{}/", store.display()),
        "--expect",
        "2",
        "--out",
        merged_out.to_str().unwrap(),
    ]);
    // 35 + 5 or so of 70: the whole was sent well below its plan.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("sent well below the plan"),
        "{}",
        stderr(&o)
    );
    let m = read_json(&merged_out);
    assert_eq!(m["merged"]["shards"][1]["skipped_requests"], skipped);
    assert_eq!(m["totals"]["requests"], 35 + sent);
    assert!(
        common::stdout(&o).contains("shard 1/2 began"),
        "the merged summary names the late shard:\n{}",
        common::stdout(&o)
    );
}

// As in tests/it/merge.rs: what adds up across shards is load, so the gate that each shard
// passes and the whole fails is the quota check (a stage rate of 50 req/s; each of three
// shards sends 20, the whole 60).
#[test]
fn the_quota_check_each_shard_passes_fails_on_the_merged_whole() {
    let (server, _) = server();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "sixty.toml",
        &format!(
            "name = \"sixty\"\n[target]\nurl = \"{}\"\n[[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = 60\nduration = \"2s\"\n",
            server.url()
        ),
    );
    let quotas = write(
        dir.path(),
        "quotas.toml",
        "lambda_concurrent_executions = 1000\nstage_rate = 50\nstage_burst = 1000\n",
    );
    let store = dir.path().join("store");
    let start_at = format!("{:.3}", unix_now() + 1.5);
    let shards: Vec<Child> = (0..3)
        .map(|i| {
            let mut cmd = common::command(&[
                "run",
                scenario.to_str().unwrap(),
                "--quotas",
                quotas.to_str().unwrap(),
                "--threads",
                "1",
                "--quiet",
                "--start-at",
                &start_at,
                "--out",
                &format!("{}/", store.display()),
                "--shard",
                &format!("{i}/3"),
            ]);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for (i, c) in shards.into_iter().enumerate() {
        let run = wait_bounded(c, "shard", Duration::from_secs(60));
        assert_eq!(
            run.output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.output.stderr)
        );
        let r = read_json(&store.join(format!("shard-{i}-of-3.json")));
        assert_eq!(
            r["quota_check"]["pass"], true,
            "shard {i} alone fits: {:#}",
            r["quota_check"]
        );
    }
    let out = dir.path().join("merged.json");
    let o = stampede(&[
        "merge",
        &format!("{}/", store.display()),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the whole passes the stage rate: {}",
        stderr(&o)
    );
    assert_eq!(read_json(&out)["quota_check"]["pass"], false);
}

#[test]
fn an_abort_on_one_shard_stops_the_others_within_two_seconds() {
    // The server throttles shard 1's requests only: its abort rule trips, the others' not.
    let (server, seen) = server_answering(|id| if id.contains("-s1.") { 429 } else { 200 });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "abort.toml",
        &format!(
            "name = \"abort\"\n[target]\nurl = \"{}\"\n[[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = 60\nduration = \"8s\"\n[abort]\nthrottle_rate = \"20%\"\nwindow = \"1s\"\nmin_attempts = 5\n",
            server.url()
        ),
    );
    let store = dir.path().join("store");
    let start = unix_now() + 1.5;
    let start_at = format!("{start:.3}");
    let shards: Vec<Child> = (0..3)
        .map(|i| start_shard(scenario.to_str().unwrap(), &store, &start_at, i, 3))
        .collect();
    let mut results = Vec::new();
    for (i, c) in shards.into_iter().enumerate() {
        let run = wait_bounded(c, "shard", Duration::from_secs(60));
        let err = String::from_utf8_lossy(&run.output.stderr).into_owned();
        assert_eq!(
            run.output.status.code(),
            Some(3),
            "shard {i} is aborted: {err}"
        );
        results.push((read_json(&store.join(format!("shard-{i}-of-3.json"))), err));
    }
    let trip = &results[1].0["aborted"];
    assert_eq!(trip["rule"], "throttle_rate");
    assert!(trip.get("by_shard").is_none(), "shard 1's own rule: {trip}");
    let tripped_at = start + trip["t_s"].as_f64().unwrap();
    let log = seen.lock().unwrap().clone();
    for i in [0u64, 2] {
        let (r, err) = &results[i as usize];
        assert_eq!(r["aborted"]["by_shard"], 1, "{}", r["aborted"]);
        assert!(
            err.contains("(on shard 1; every shard stopped with it)"),
            "{err}"
        );
        let last = log
            .iter()
            .filter(|(_, id)| id.contains(&format!("-s{i}.")))
            .map(|(t, _)| *t)
            .fold(0.0, f64::max);
        assert!(
            last - tripped_at < 2.0,
            "shard {i} sent until {:.2} s after shard 1's abort",
            last - tripped_at
        );
        println!(
            "shard {i}: last send {:.0} ms after shard 1's abort rule tripped",
            (last - tripped_at) * 1000.0
        );
        assert!(
            r["totals"]["requests"].as_u64().unwrap() < 150,
            "stopped early"
        );
    }
    // The merge reports the abort, exit 3.
    let o = stampede(&[
        "merge",
        &format!("{}/", store.display()),
        "-q",
        "--out",
        dir.path().join("m.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

#[test]
fn shards_write_to_s3_and_merge_reads_them_back() {
    let Some(endpoint) = common::moto_endpoint("the S3 store test") else {
        return;
    };
    let (server, _) = server();
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), &server.url());
    let bucket = format!("stampede-{}", std::process::id());
    let env = [
        common::DUMMY_KEYS[0],
        common::DUMMY_KEYS[1],
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .http_client(stampede::aws::http_client())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                common::DUMMY_KEYS[0].1,
                common::DUMMY_KEYS[1].1,
                None,
                None,
                "test",
            ))
            .endpoint_url(&endpoint)
            .force_path_style(true)
            .build(),
    );
    runtime
        .block_on(s3.create_bucket().bucket(&bucket).send())
        .expect("moto makes the bucket");
    let store = format!("s3://{bucket}/runs/launch/");

    // A bucket that does not exist: refused before any traffic, exit 2.
    let o = common::stampede_aws(
        dir.path(),
        &[
            "run",
            &scenario,
            "--shard",
            "0/2",
            "--out",
            "s3://no-such-bucket-here/x/",
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--out s3://no-such-bucket-here/x/: cannot write there"),
        "{}",
        stderr(&o)
    );
    assert_eq!(server.hits(), 0);

    let start_at = format!("{:.3}", unix_now() + 2.0);
    let shards: Vec<Child> = (0..2)
        .map(|i| {
            start_shard_in(
                common::aws_command(dir.path(), &[], &env),
                &scenario,
                &store,
                &start_at,
                i,
                2,
            )
        })
        .collect();
    for c in shards {
        let run = wait_bounded(c, "shard", Duration::from_secs(60));
        assert_eq!(
            run.output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.output.stderr)
        );
    }
    let keys: Vec<String> = runtime
        .block_on(
            s3.list_objects_v2()
                .bucket(&bucket)
                .prefix("runs/launch/")
                .send(),
        )
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    assert_eq!(
        keys,
        [
            "runs/launch/shard-0-of-2.json",
            "runs/launch/shard-1-of-2.json"
        ]
    );

    let merged = dir.path().join("merged.json");
    let o = common::stampede_aws(
        dir.path(),
        &[
            "merge",
            &store,
            "--expect",
            "2",
            "--wait",
            "5s",
            "-q",
            "--out",
            merged.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stage_counts(&read_json(&merged)),
        [
            ("steady".into(), 61, 61),
            ("spike".into(), 23, 23),
            ("climb".into(), 22, 22)
        ]
    );
    // One missing: named with its S3 URL's file.
    let o = common::stampede_aws(
        dir.path(),
        &[
            "merge",
            &store,
            "--expect",
            "3",
            "-q",
            "--out",
            merged.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("shards of 2"), "{}", stderr(&o));
    let all = format!("{}{}", stderr(&o), common::stdout(&o));
    assert!(
        !all.contains(common::DUMMY_KEYS[1].1),
        "no secret in the output"
    );
}

#[test]
fn a_shard_whose_clock_is_off_from_the_target_says_by_how_much() {
    // The target's clock runs 2.5 s ahead of this machine's.
    let server = common::TestServer::start_full(|_| {
        let ahead = SystemTime::now() + Duration::from_millis(2500);
        let date: &'static str = Box::leak(httpdate::fmt_http_date(ahead).into_boxed_str());
        (200, vec![("date", date)], "ok")
    });
    let dir = tempfile::tempdir().unwrap();
    let start_at = format!("{:.3}", unix_now() + 6.0);
    let o = stampede(&[
        "run",
        "--url",
        &server.url(),
        "--burst",
        "3",
        "--shard",
        "0/1",
        "--start-at",
        &start_at,
        "--quiet",
        "--out",
        &format!("{}/", dir.path().display()),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_json(&dir.path().join("shard-0-of-1.json"));
    let offset = r["shard"]["clock_offset_ms"].as_f64().unwrap();
    let within = r["shard"]["clock_within_ms"].as_f64().unwrap();
    assert!(
        (offset - 2500.0).abs() <= within + 5.0,
        "{offset} ± {within}"
    );
    assert!(within < 50.0, "eight probes in 5 s pin it down: ± {within}");
    assert!(
        stderr(&o).contains("this machine's clock is 2")
            && stderr(&o).contains("ms behind the target's"),
        "{}",
        stderr(&o)
    );
    println!("clock probe: {offset:.1} ms ± {within:.1} ms (true 2500)");
}

#[test]
fn plan_says_whether_a_machine_holds_each_share_and_how_many_shards_would() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    // Twice what this machine's cores carry at half a core's 50,000 req/s, over 2 shards:
    // each share needs all the cores; over 1 shard, twice them.
    let rate = (cores * 25_000 * 2).to_string();
    let plan = |shards: &str| {
        stampede(&[
            "plan",
            "--url",
            "http://127.0.0.1:9/",
            "--rate",
            &rate,
            "--duration",
            "10s",
            "--quotas",
            "scenarios/quotas.toml",
            "--shards",
            shards,
            "--json",
        ])
    };
    let o = plan("1");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let split = &doc["split"];
    assert_eq!(split["cores_needed"].as_u64(), Some(cores * 2), "{split}");
    assert_eq!(split["at_least"], 2, "{split}");
    assert!(split["problems"][0]
        .as_str()
        .unwrap()
        .contains(&format!("this machine has {cores}")));
    let o = plan("2");
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        doc["split"]["problems"].as_array().map(Vec::len),
        Some(0),
        "{}",
        doc["split"]
    );
    assert_eq!(
        doc["split"]["peak_rate"].as_f64(),
        Some((cores * 25_000) as f64)
    );
}
