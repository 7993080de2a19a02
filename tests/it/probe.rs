//! `stampede probe` against the emulator with known limits: the knee found against the
//! true one, what it is put on, and the search's bounds (max, budget, abort, Ctrl-C-free
//! exits), each step bounded in time and loopback-only.

use crate::common;

use std::time::Duration;

use common::{command, read_json, run_bounded, stderr, write};

const EMULATOR_ONLY: &str =
    "[target]\nurl = \"/\"\n[[stages]]\nkind = \"pause\"\nduration = \"1s\"\n";

/// Runs `probe` on a scenario of `emulator` keys with `flags`; the exit code, the `probe`
/// key and stdout.
fn probe(emulator: &str, flags: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "p.toml",
        &format!("[emulator]\ncold_start = \"0ms\"\n{emulator}\n{EMULATOR_ONLY}"),
    );
    let out = dir.path().join("r.json");
    let mut args = vec![
        "probe",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(flags);
    let o = run_bounded(command(&args), Duration::from_secs(120)).output;
    assert!(
        out.is_file(),
        "results written whatever the exit: {}",
        stderr(&o)
    );
    let r = read_json(&out);
    (
        o.status.code(),
        r["probe"].clone(),
        String::from_utf8_lossy(&o.stdout).into(),
    )
}

fn knee(p: &serde_json::Value) -> f64 {
    p["knee"].as_f64().unwrap_or_else(|| panic!("no knee: {p}"))
}

/// The knee against the true limit, said for the record.
fn error_pct(p: &serde_json::Value, truth: f64, case: &str) -> f64 {
    let k = knee(p);
    let e = (k - truth) / truth * 100.0;
    eprintln!(
        "probe {case}: knee {k} vs true {truth} ({e:+.1}%) · {} steps · {:.1} s · {}",
        p["steps"].as_array().unwrap().len(),
        p["seconds"].as_f64().unwrap(),
        p["finding"]
    );
    e
}

#[test]
fn by_concurrency_the_knee_is_the_reservation() {
    let (code, p, summary) = probe(
        "api = \"function-url\"\nreserved_concurrency = 20\nduration = \"50ms\"",
        &[
            "--by",
            "concurrency",
            "--step",
            "1s",
            "--settle",
            "300ms",
            "-q",
        ],
    );
    assert_eq!(code, Some(0), "{p}");
    assert!(
        error_pct(&p, 20.0, "concurrency vs reserved 20").abs() <= 5.0,
        "{p}"
    );
    assert_eq!(p["limit"], "function_reserved_concurrency");
    assert!(p["finding"]
        .as_str()
        .unwrap()
        .contains("≈ function reserved concurrency 20"));
    // The preflight kept the search a quarter past the reservation.
    assert_eq!(p["searched_up_to"], 25);
    assert!(p["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["load"].as_u64().unwrap() <= 25));
    assert!(summary.is_empty(), "-q prints nothing");
}

#[test]
fn by_rate_the_knee_is_the_reservation_at_the_handlers_time() {
    // 20 environments × 1 / 50 ms = 400 req/s at most: each invocation holds its
    // environment a little longer than 50 ms (the emulator's timer, the client's queue, more
    // so when the tests share the cores), so the rate held without throttles is below it.
    let (code, p, _) = probe(
        "api = \"function-url\"\nreserved_concurrency = 20\nduration = \"50ms\"",
        &[
            "--by", "rate", "--from", "50", "--step", "1500ms", "--settle", "300ms", "-q",
        ],
    );
    assert_eq!(code, Some(0), "{p}");
    // The ceiling the emulator gave is 20 over the time it held each invocation, which a
    // busy machine stretches past 50 ms: as the client measured it, at most the p99 of the
    // last step that ran clean.
    let held_ms = p["steps"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|s| s["verdict"] == "good")
        .and_then(|s| s["p99_ms"].as_f64())
        .unwrap_or_else(|| panic!("no clean step: {p}"));
    let held = (20.0 * 1000.0 / held_ms).min(400.0);
    let e = error_pct(&p, held, "rate vs reserved 20 at the handler's held time");
    assert!((-15.0..=10.0).contains(&e), "held {held_ms} ms: {p}");
    assert!(knee(&p) <= 420.0, "never past 20 at 50 ms: {p}");
    assert_eq!(p["limit"], "function_reserved_concurrency");
}

#[test]
fn by_rate_the_knee_is_the_gateways_throttle() {
    let (code, p, summary) = probe(
        "api = \"rest\"\nrate = 300\nburst = 30\nduration = \"20ms\"",
        &[
            "--by", "rate", "--from", "50", "--step", "2s", "--settle", "500ms",
        ],
    );
    assert_eq!(code, Some(0), "{p}");
    assert!(
        error_pct(&p, 300.0, "rate vs API Gateway 300").abs() <= 10.0,
        "{p}"
    );
    assert_eq!(p["limit"], "apigw_rate");
    assert!(summary.contains("probe by rate"), "{summary}");
    assert!(summary.contains("knee: "), "{summary}");
}

#[test]
fn latency_that_grows_with_load_is_no_quota() {
    // 40 ms, plus 20 ms for each invocation in flight past 30: p99 passes 300 ms at 43.
    let (code, p, _) = probe(
        "api = \"function-url\"\nduration = \"40ms\"\nslowdown = { past = 30, add = \"20ms\" }",
        &[
            "--by",
            "concurrency",
            "--from",
            "4",
            "--step",
            "1s",
            "--settle",
            "300ms",
            "--slo",
            "p99=300ms,failure_rate=1%",
            "-q",
        ],
    );
    assert_eq!(code, Some(0), "{p}");
    assert!(
        error_pct(&p, 43.0, "concurrency vs slowdown (p99 300 ms at 43)").abs() <= 10.0,
        "{p}"
    );
    assert!(p.get("limit").is_none(), "{p}");
    let finding = p["finding"].as_str().unwrap();
    assert!(finding.contains("the limit is not a quota"), "{finding}");
    assert!(finding.contains("p99 grew from"), "{finding}");
}

#[test]
fn max_and_the_budget_bound_the_search() {
    // No limit near: every step is good up to --max, exactly.
    let (code, p, _) = probe(
        "api = \"function-url\"\nduration = \"10ms\"",
        &[
            "--by",
            "concurrency",
            "--max",
            "12",
            "--step",
            "300ms",
            "--settle",
            "0s",
            "-q",
        ],
    );
    assert_eq!(code, Some(0));
    assert_eq!(p["ended"], "reached_max");
    let loads: Vec<u64> = p["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["load"].as_u64().unwrap())
        .collect();
    assert_eq!(loads, vec![1, 2, 4, 8, 12]);
    // A budget of 2 s holds two steps of 800 ms, not a third.
    let (code, p, _) = probe(
        "api = \"function-url\"\nduration = \"10ms\"",
        &[
            "--by",
            "concurrency",
            "--step",
            "800ms",
            "--settle",
            "0s",
            "--budget",
            "2s",
            "-q",
        ],
    );
    assert_eq!(code, Some(0));
    assert_eq!(p["ended"], "budget");
    assert_eq!(p["steps"].as_array().unwrap().len(), 2, "{p}");
    assert!(p["seconds"].as_f64().unwrap() < 2.5, "{p}");
}

#[test]
fn an_slo_not_met_at_from_exits_1_and_an_abort_exits_3_with_results() {
    let (code, p, _) = probe(
        "api = \"function-url\"\nduration = \"50ms\"",
        &[
            "--by",
            "concurrency",
            "--slo",
            "p99=10ms",
            "--step",
            "300ms",
            "--settle",
            "0s",
            "-q",
        ],
    );
    assert_eq!(code, Some(1));
    assert_eq!(p["ended"], "not_met_at_from");
    assert!(p["knee"].is_null());
    // An abort rule trips in the step past the reservation: the search stops, exit 3.
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "a.toml",
        &format!(
            "[emulator]\napi = \"function-url\"\nreserved_concurrency = 5\nduration = \"50ms\"\ncold_start = \"0ms\"\n\
             [abort]\nthrottle_rate = \"20%\"\nwindow = \"1s\"\nmin_attempts = 5\n{EMULATOR_ONLY}"
        ),
    );
    let out = dir.path().join("r.json");
    let o = run_bounded(
        command(&[
            "probe",
            scenario.to_str().unwrap(),
            "--past-limits",
            "--step",
            "2s",
            "--settle",
            "0s",
            "-q",
            "--out",
            out.to_str().unwrap(),
        ]),
        Duration::from_secs(120),
    )
    .output;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let r = read_json(&out);
    assert_eq!(r["probe"]["ended"], "aborted");
    assert!(r["aborted"].is_object(), "{}", r["aborted"]);
    assert!(!r["stages"].as_array().unwrap().is_empty());
}

#[test]
fn bad_probe_flags_exit_2() {
    for (flags, expected) in [
        (vec!["--rate", "10"], "probe sets the load itself"),
        (vec!["--slo", "p99"], "--slo"),
        (vec!["--slo", "latency=1s"], "unknown metric"),
        (vec!["--from", "10", "--max", "5"], "--from"),
        (vec!["--precision", "0%"], "--precision"),
        // The traffic flags `run` has, checked as `run` checks them.
        (vec!["--max-in-flight", "0"], "--max-in-flight"),
        (vec!["--grace", "soon"], "--grace"),
        (vec!["--ca-cert", "/dev/zero"], "--ca-cert"),
    ] {
        let mut args = vec!["probe", "--url", "http://127.0.0.1:9/"];
        args.extend(flags.iter());
        let o = run_bounded(command(&args), Duration::from_secs(30)).output;
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{flags:?}: {}", stderr(&o));
    }
}

#[test]
fn ctrl_c_mid_search_exits_130_with_the_results_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "c.toml",
        &format!("[emulator]\napi = \"function-url\"\nduration = \"10ms\"\ncold_start = \"0ms\"\n{EMULATOR_ONLY}"),
    );
    let out = dir.path().join("r.json");
    let mut child = common::spawn_watched(command(&[
        "probe",
        scenario.to_str().unwrap(),
        "--step",
        "1s",
        "--settle",
        "0s",
        "--out",
        out.to_str().unwrap(),
    ]));
    // Two steps of 1 s done (each says so on stderr), then inside the third.
    child.wait_for_stderr("probe step 2:", Duration::from_secs(40));
    child.signal(libc::SIGINT);
    let o = child.finish(Duration::from_secs(40)).output;
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let r = read_json(&out);
    assert_eq!(r["interrupted"], true);
    assert_eq!(r["probe"]["ended"], "interrupted");
    assert!(
        r["probe"]["steps"].as_array().unwrap().len() >= 2,
        "{}",
        r["probe"]
    );
}

/// The results of one probe, and how long the process took.
fn probe_results(emulator: &str, flags: &[&str]) -> (serde_json::Value, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "p.toml",
        &format!("[emulator]\ncold_start = \"0ms\"\n{emulator}\n{EMULATOR_ONLY}"),
    );
    let out = dir.path().join("r.json");
    let mut args = vec![
        "probe",
        scenario.to_str().unwrap(),
        "-q",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(flags);
    let run = run_bounded(command(&args), Duration::from_secs(120));
    assert!(out.is_file(), "{}", stderr(&run.output));
    (read_json(&out), run.elapsed)
}

#[test]
fn the_steps_are_laid_on_the_wall_clock_where_they_ran() {
    let (r, elapsed) = probe_results(
        "api = \"function-url\"\nduration = \"20ms\"",
        &[
            "--by",
            "concurrency",
            "--max",
            "8",
            "--step",
            "600ms",
            "--settle",
            "300ms",
        ],
    );
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let stages = r["stages"].as_array().unwrap();
    // Steps 1, 2, 4, 8: a settle period and a held step each.
    assert_eq!(stages.len(), 8, "{}", r["probe"]);
    let planned: f64 = stages
        .iter()
        .map(|s| {
            if s["name"].as_str().unwrap().contains("settle") {
                0.3
            } else {
                0.6
            }
        })
        .sum();
    let starts: Vec<f64> = stages.iter().map(|s| f(&s["started_s"])).collect();
    for (i, w) in starts.windows(2).enumerate() {
        let gap = w[1] - w[0];
        let ran = if i % 2 == 0 { 0.3 } else { 0.6 };
        // Each stage starts after the one before has run its time; a 300 ms settle period
        // is not counted as a whole second.
        assert!(gap >= ran && gap < ran + 0.5, "stage {i}: {starts:?}");
    }
    let duration = f(&r["duration_s"]);
    let seconds = f(&r["probe"]["seconds"]);
    // The run lasts as long as the probe's steps did: every stage's time and the starts
    // between them, no more than the process took.
    assert!(duration >= planned, "{duration} < {planned}");
    assert!(duration >= starts[7] + 0.6, "{duration} vs {starts:?}");
    assert!(
        duration <= seconds && seconds - duration < 0.5,
        "duration_s {duration}, the probe's {seconds} s"
    );
    assert!(duration <= elapsed.as_secs_f64());
    // One point per second of it, each second once, and every attempt in one of them: as
    // many as the emulator received.
    let timeline = r["timeline"].as_array().unwrap();
    let t: Vec<u64> = timeline
        .iter()
        .map(|p| p["t_s"].as_u64().unwrap())
        .collect();
    assert_eq!(t, (0..t.len() as u64).collect::<Vec<_>>());
    assert!(
        (t.len() as f64 - duration).abs() <= 1.5,
        "{t:?} for {duration} s"
    );
    let sent: u64 = timeline.iter().map(|p| p["sent"].as_u64().unwrap()).sum();
    assert_eq!(sent, r["attempts"]["sent"].as_u64().unwrap());
    assert_eq!(sent, r["emulator"]["requests"].as_u64().unwrap());
}

/// Past a reservation of 4, 12 workers: 8 of them throttled at every turn.
const PAST_THE_RESERVATION: [&str; 10] = [
    "--by",
    "concurrency",
    "--from",
    "12",
    "--max",
    "12",
    "--past-limits",
    "--step",
    "2s",
    "--settle",
];

#[test]
fn throttled_workers_back_off_and_max_rate_holds_a_concurrency_probe() {
    let emulator = "api = \"function-url\"\nreserved_concurrency = 4\nduration = \"50ms\"";
    let mut flags = PAST_THE_RESERVATION.to_vec();
    // No ceiling to speak of: the backoff alone. 4 workers at 50 ms are 160 requests in
    // the 2 s; each of the 8 throttled waits up to 100 ms (full jitter, 50 ms on average)
    // before asking again, about 40 times in 2 s. Asking again at once, as a closed loop
    // does, they sent thousands.
    flags.extend(["0s", "--max-rate", "1000000"]);
    let (r, _) = probe_results(emulator, &flags);
    let received = r["emulator"]["requests"].as_u64().unwrap();
    assert_eq!(received, r["attempts"]["sent"].as_u64().unwrap());
    let throttled = r["emulator"]["throttled_lambda_reserved"].as_u64().unwrap();
    eprintln!("backoff alone: the emulator received {received}, throttled {throttled}");
    assert!(throttled > 50, "past the reservation: {}", r["emulator"]);
    assert!(received < 1_200, "{}", r["emulator"]);

    // --max-rate 100: 200 in the 2 s, whatever the workers would send (each lane its
    // share: a slot more at the start of each).
    let mut flags = PAST_THE_RESERVATION.to_vec();
    flags.extend(["0s", "--max-rate", "100", "--threads", "2"]);
    let (r, _) = probe_results(emulator, &flags);
    let received = r["emulator"]["requests"].as_u64().unwrap();
    assert_eq!(received, r["attempts"]["sent"].as_u64().unwrap());
    eprintln!("--max-rate 100 for 2 s: the emulator received {received}");
    assert!(received <= 202, "{}", r["emulator"]);
    assert!(
        received >= 100,
        "held at the ceiling, not far below: {}",
        r["emulator"]
    );
}

/// A probe of `workers` (from, max) against `url` for a fraction of a second per step.
fn quick_probe(
    dir: &std::path::Path,
    url: &str,
    (from, max): (&str, &str),
    flags: &[&str],
) -> std::process::Output {
    let out = dir.join("r.json");
    let mut args = vec![
        "probe",
        "--url",
        url,
        "--from",
        from,
        "--max",
        max,
        "--step",
        "300ms",
        "--settle",
        "0s",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(flags);
    run_bounded(command(&args), Duration::from_secs(60)).output
}

#[test]
fn probe_trusts_ca_cert_or_insecure_over_tls_as_run_does() {
    let tls = common::TestTls::new();
    let server = common::TestServer::start_tls(&tls, |_| common::Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", &tls.ca_pem);
    let url = format!("https://{}/", server.addr);

    let o = quick_probe(
        dir.path(),
        &url,
        ("1", "2"),
        &["--ca-cert", ca.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_json(&dir.path().join("r.json"));
    assert_eq!(r["probe"]["knee"], 2, "{}", r["probe"]);
    assert!(r.get("insecure").is_none(), "certificates were checked");

    // Not trusted: every attempt is a TLS error, no step meets the SLO.
    let o = quick_probe(dir.path(), &url, ("1", "2"), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = read_json(&dir.path().join("r.json"));
    assert!(
        r["attempts"]["tls_errors"].as_u64().unwrap() > 0,
        "{}",
        r["attempts"]
    );

    let o = quick_probe(dir.path(), &url, ("1", "2"), &["--insecure"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("--insecure: TLS certificates are not checked"));
    assert_eq!(read_json(&dir.path().join("r.json"))["insecure"], true);
}

#[test]
fn probe_caps_what_is_in_flight_with_max_in_flight() {
    // 40 req/s answered in 100 ms: about 4 in flight, unless capped (the cap holds the
    // open model's sends, as in `run`).
    let server = common::TestServer::start(|_| common::Reply {
        status: 200,
        delay: Duration::from_millis(100),
    });
    let dir = tempfile::tempdir().unwrap();
    let o = quick_probe(
        dir.path(),
        &server.url(),
        ("40", "40"),
        &["--by", "rate", "--max-in-flight", "1"],
    );
    let r = read_json(&dir.path().join("r.json"));
    assert!(o.status.code().is_some(), "{}", stderr(&o));
    assert_eq!(r["peak_in_flight"], 1, "one at a time: {}", r["totals"]);
}

#[test]
fn probe_proves_out_before_any_traffic() {
    let server = common::TestServer::start(|_| common::Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir").join("r.json");
    let o = run_bounded(
        command(&[
            "probe",
            "--url",
            &server.url(),
            "--out",
            out.to_str().unwrap(),
        ]),
        Duration::from_secs(30),
    )
    .output;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(server.hits(), 0, "nothing sent");
}
