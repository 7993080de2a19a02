//! SIGTERM, SIGHUP and Ctrl-C are one kind of stop: wherever the run is (its schedule,
//! the wait for what is still in flight after it, a burst's wait, the CloudWatch wait), it
//! ends within `--grace`, writes its results and reports, and exits 130.

use crate::common;

use std::time::{Duration, Instant};

use common::raw::{Misbehaviour, RawServer};
use common::{read_json, stderr, write};

/// A scenario against `url` whose attempts may wait 45 s for an answer.
fn patient_scenario(dir: &std::path::Path, url: &str, stages: &str) -> std::path::PathBuf {
    write(
        dir,
        "s.toml",
        &format!("[target]\nurl = \"{url}\"\ntimeout = \"45s\"\n{stages}"),
    )
}

const ONE_SECOND_AT_10: &str = "[[stages]]\nkind = \"constant\"\nrate = 10\nduration = \"1s\"\n";
const A_BURST_OF_10: &str = "[[stages]]\nkind = \"burst\"\nrequests = 10\n";

/// Bounds only a test that is failing: the attempts' 45 s, or a wait of 50 s, is what an
/// ignored signal would take; a stop within the grace period is far inside it.
const LIMIT: Duration = Duration::from_secs(40);
/// The grace period (2 s) and room for a loaded machine, well short of the 45 s waited
/// for the attempts were the signal not heeded.
const STOPPED_IN_TIME: Duration = Duration::from_secs(20);

/// Starts `run` on `scenario` with `--grace 2s` against `server`, sends `signal` once the
/// server has seen ten requests (all the scenarios send), and returns the exit, how long it
/// took from the signal, the results and stderr.
fn signal_a_run(
    scenario: &std::path::Path,
    out: &std::path::Path,
    signal: libc::c_int,
    server: &RawServer,
) -> (Option<i32>, Duration, serde_json::Value, String) {
    let mut child = common::spawn_watched(common::command(&[
        "run",
        scenario.to_str().unwrap(),
        "--grace",
        "2s",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]));
    child.wait_for("the server saw ten requests", LIMIT, || {
        server.requests() == 10
    });
    let sent = Instant::now();
    child.signal(signal);
    let run = child.finish(LIMIT);
    let took = sent.elapsed();
    let results = read_json(out);
    (run.output.status.code(), took, results, stderr(&run.output))
}

/// Ten requests a server never answers, each allowed 45 s: the stop comes once all ten
/// are sent, when the schedule has nothing left and the run waits for them.
fn after_the_schedule(signal: libc::c_int) {
    let server = RawServer::start(Misbehaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let s = patient_scenario(dir.path(), &server.url(), ONE_SECOND_AT_10);
    let out = dir.path().join("r.json");
    let (code, took, r, err) = signal_a_run(&s, &out, signal, &server);
    assert_eq!(code, Some(130), "{err}");
    // The attempts' 45 s is not waited.
    assert!(took < STOPPED_IN_TIME, "took {took:?} after the signal");
    assert_eq!(r["interrupted"], true);
    assert_eq!(r["totals"]["abandoned"], 10, "{}", r["totals"]);
    assert_eq!(server.requests(), 10);
}

#[test]
fn sigterm_after_the_schedule_ends_the_wait_within_grace_and_writes_results() {
    after_the_schedule(libc::SIGTERM);
}

#[test]
fn sighup_is_an_interrupt_too() {
    after_the_schedule(libc::SIGHUP);
}

#[test]
fn sigterm_during_a_burst_ends_its_wait_within_grace() {
    let server = RawServer::start(Misbehaviour::Silent);
    let dir = tempfile::tempdir().unwrap();
    let stages = format!("{A_BURST_OF_10}{ONE_SECOND_AT_10}");
    let s = patient_scenario(dir.path(), &server.url(), &stages);
    let out = dir.path().join("r.json");
    // The ten are the burst's: the run is in the burst's wait for their answers.
    let (code, took, r, err) = signal_a_run(&s, &out, libc::SIGTERM, &server);
    assert_eq!(code, Some(130), "{err}");
    assert!(took < STOPPED_IN_TIME, "took {took:?} after the signal");
    assert_eq!(r["interrupted"], true);
    // The burst was released; the stage after it never began.
    assert_eq!(r["totals"]["abandoned"], 10, "{}", r["totals"]);
    assert_eq!(server.requests(), 10);
}

#[test]
fn sigterm_during_the_cloudwatch_wait_skips_it_and_writes_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    // The in-process emulator publishes its datapoints an hour late: the wait would last
    // its whole 50 s.
    let file = write(
        dir.path(),
        "s.toml",
        "[target]\nurl = \"/orders\"\n\n[[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"1s\"\n\
         [emulator]\nduration = \"5ms\"\nmetrics_period = \"1s\"\nmetrics_delay = \"1h\"\n",
    );
    let out = dir.path().join("r.json");
    let md = dir.path().join("r.md");
    let mut child = common::spawn_watched(common::command(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
        "--cloudwatch-wait",
        "50s",
    ]));
    child.wait_for_stderr("for CloudWatch's datapoints", LIMIT);
    child.signal(libc::SIGTERM);
    let run = child.finish(LIMIT);
    let err = stderr(&run.output);
    assert_eq!(run.output.status.code(), Some(0), "{err}");
    // From the signal: the 50 s wait is not waited.
    assert!(run.elapsed < STOPPED_IN_TIME, "{:?}", run.elapsed);
    assert!(err.contains("wait skipped (SIGTERM)"), "{err}");
    let r = read_json(&out);
    assert_eq!(
        r["cloudwatch"]["status"], "no_data",
        "{:#}",
        r["cloudwatch"]
    );
    assert_eq!(r["attempts"]["sent"], 20);
    let report = std::fs::read_to_string(&md).unwrap();
    assert!(!report.is_empty());
}

#[test]
fn sigterm_during_the_metrics_linger_ends_it_with_the_runs_own_exit() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.toml",
        "[target]\nurl = \"/orders\"\n\n[[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"1s\"\n\
         [emulator]\nduration = \"5ms\"\n",
    );
    let out = dir.path().join("r.json");
    let mut child = common::spawn_watched(common::command(&[
        "run",
        file.to_str().unwrap(),
        "--no-cloudwatch",
        "--out",
        out.to_str().unwrap(),
        "--metrics-listen",
        "127.0.0.1:0",
        "--metrics-linger",
        "50s",
    ]));
    child.wait_for_stderr("(--metrics-linger; Ctrl-C ends it)", LIMIT);
    // The results are written before the linger begins.
    assert_eq!(read_json(&out)["attempts"]["sent"], 20);
    child.signal(libc::SIGTERM);
    let run = child.finish(LIMIT);
    let err = stderr(&run.output);
    // The run itself was not interrupted: its own verdict's exit, not 130.
    assert_eq!(run.output.status.code(), Some(0), "{err}");
    assert!(run.elapsed < STOPPED_IN_TIME, "{:?}", run.elapsed);
}
