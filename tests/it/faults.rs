//! Faults reproduced against real servers on loopback, through the binary: servers that
//! break HTTP, hang, reset, never stop sending; ports with nobody listening; an `--out`
//! that cannot be written; secrets in the URL; too few file descriptors; API Gateway's and
//! Lambda's own error answers. Each run is small and bounded, and checked for: no panic,
//! the attempts in the right class (and every attempt in exactly one class), the results
//! written and readable (as JSON and as the typed `Results`), and the wall time.
//!
//! Each test gathers every broken promise before failing, so one failure lists them all.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::raw::{Misbehaviour, RawServer};
use common::{stampede_nofile, stampede_timed, write, Run, TestServer};
use serde_json::Value;
use stampede::results::Results;

/// What each fault run must stay under.
const BOUND: Duration = Duration::from_secs(20);
/// When a run is killed and the test failed (past BOUND, so a slow run still reports).
const KILL: Duration = Duration::from_secs(30);

/// Every class an attempt can land in; exactly one each.
const CLASSES: [&str; 14] = [
    "ok",
    "redirects",
    "throttled",
    "suspected_lambda_throttles",
    "function_errors",
    "unexpected",
    "server_errors",
    "client_errors",
    "timeouts",
    "connect_errors",
    "tls_errors",
    "protocol_errors",
    "local_errors",
    "abandoned",
];

/// Broken promises, gathered so one failing test names all of them.
struct Checks {
    failed: Vec<String>,
}

impl Checks {
    fn new() -> Checks {
        Checks { failed: Vec::new() }
    }

    fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.failed.push(what.into());
        }
    }

    fn finish(self, fault: &Fault) {
        assert!(
            self.failed.is_empty(),
            "{} promise(s) broken:\n  - {}\n--- exit: {:?}, wall time {:?}\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.failed.len(),
            self.failed.join("\n  - "),
            fault.code(),
            fault.run.elapsed,
            clip(&common::stderr(&fault.run.output)),
            clip(&common::stdout(&fault.run.output)),
        );
    }
}

fn clip(text: &str) -> &str {
    let mut end = text.len().min(4000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// One bounded run of the binary, and its results file (if it wrote one).
struct Fault {
    run: Run,
    out: PathBuf,
    /// The results file as written (read at once: the temp dir may go before the checks).
    bytes: Option<Vec<u8>>,
    json: Option<Value>,
}

impl Fault {
    fn code(&self) -> Option<i32> {
        self.run.output.status.code()
    }

    /// stdout and stderr together.
    fn text(&self) -> String {
        format!(
            "{}{}",
            common::stdout(&self.run.output),
            common::stderr(&self.run.output)
        )
    }

    /// The results, which the test needs to go on.
    fn json(&self) -> &Value {
        self.json.as_ref().unwrap_or_else(|| {
            panic!(
                "no readable results at {}; exit {:?}\n{}",
                self.out.display(),
                self.code(),
                clip(&common::stderr(&self.run.output))
            )
        })
    }

    fn attempts(&self, class: &str) -> Option<u64> {
        self.json()["attempts"][class].as_u64()
    }
}

/// Runs `stampede ARGS --out DIR/r.json`, bounded by KILL, and reads the results back.
fn run(dir: &Path, args: &[&str]) -> Fault {
    run_with(dir, args, |all| stampede_timed(all, KILL))
}

fn run_with(dir: &Path, args: &[&str], spawn: impl FnOnce(&[&str]) -> Run) -> Fault {
    let out = dir.join("r.json");
    let mut all = args.to_vec();
    all.extend(["--out", out.to_str().unwrap()]);
    let run = spawn(&all);
    println!(
        "stampede {}: exit {:?} in {:.2?}, max RSS {} MB",
        args.join(" "),
        run.output.status.code(),
        run.elapsed,
        run.max_rss / 1_000_000
    );
    let bytes = std::fs::read(&out).ok();
    let json: Option<Value> = bytes.as_ref().and_then(|b| serde_json::from_slice(b).ok());
    // One line per fault for the record: the classes seen and what stampede said.
    let classes = json.as_ref().map_or("no results".to_string(), |j| {
        let a = &j["attempts"];
        let seen: Vec<String> = a
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| *k != "sent" && v.as_u64().unwrap_or(0) > 0)
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        format!("sent {} · {}", a["sent"], seen.join(" · "))
    });
    let said = String::from_utf8_lossy(&run.output.stderr)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .chars()
        .take(110)
        .collect::<String>();
    println!(
        "fault-table | {} | exit {:?} | {:.1} s | results {} | {classes} | {said}",
        std::thread::current().name().unwrap_or("?"),
        run.output.status.code(),
        run.elapsed.as_secs_f64(),
        if json.is_some() { "written" } else { "missing" },
    );
    Fault {
        run,
        out,
        bytes,
        json,
    }
}

/// What every fault run must do: not panic, stay within BOUND, write results that read
/// back as JSON and as the typed `Results` (and serialise back to the same JSON), and put
/// every attempt in exactly one class.
fn basics(c: &mut Checks, f: &Fault) {
    let stderr = common::stderr(&f.run.output);
    c.check(!stderr.contains("panicked"), "stampede panicked");
    c.check(
        f.run.elapsed < BOUND,
        format!("wall time {:?} < {BOUND:?}", f.run.elapsed),
    );
    let Some(bytes) = &f.bytes else {
        c.check(false, format!("results written to {}", f.out.display()));
        return;
    };
    let Some(json) = &f.json else {
        c.check(false, "results are JSON");
        return;
    };
    match serde_json::from_slice::<Results>(bytes) {
        Ok(typed) => {
            let back = serde_json::to_value(&typed).unwrap();
            c.check(
                &back == json,
                "results → Results → JSON gives the same JSON back",
            );
        }
        Err(e) => c.check(
            false,
            format!("results read back as the typed Results: {e}"),
        ),
    }
    assert_classes_sum(c, json);
}

/// `ok + throttled + … + abandoned == sent`: each attempt in exactly one class, and every
/// class present.
fn assert_classes_sum(c: &mut Checks, json: &Value) {
    let a = &json["attempts"];
    let Some(sent) = a["sent"].as_u64() else {
        c.check(false, format!("attempts.sent is a count: {}", a["sent"]));
        return;
    };
    let missing: Vec<&str> = CLASSES
        .iter()
        .copied()
        .filter(|k| a[k].as_u64().is_none())
        .collect();
    c.check(
        missing.is_empty(),
        format!("attempts has every class; missing: {missing:?}"),
    );
    let sum: u64 = CLASSES.iter().filter_map(|k| a[k].as_u64()).sum();
    c.check(
        sum == sent,
        format!("the classes sum to attempts.sent: {sum} != {sent} in {a}"),
    );
}

fn count(c: &mut Checks, f: &Fault, class: &str, ok: impl Fn(u64) -> bool, wanted: &str) {
    let got = f.attempts(class);
    c.check(
        got.is_some_and(ok),
        format!("attempts.{class} {wanted} (got {got:?})"),
    );
}

/// Nothing succeeded: exit 1, saying so.
fn nothing_succeeded(c: &mut Checks, f: &Fault) {
    c.check(f.code() == Some(1), format!("exit 1 (got {:?})", f.code()));
    c.check(
        common::stderr(&f.run.output).contains("no request succeeded"),
        "stderr says \"no request succeeded\"",
    );
}

fn adhoc(url: &str) -> Vec<String> {
    ["run", "--url", url, "--rate", "20", "--duration", "1s"]
        .map(String::from)
        .to_vec()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A scenario at `url`: `target_extra` inside [target], `rest` (more tables) after it, and
/// one constant stage of `rate` for 1 s.
fn scenario(dir: &Path, url: &str, target_extra: &str, rest: &str, rate: u32) -> PathBuf {
    write(
        dir,
        "s.toml",
        &format!(
            "[target]\nurl = \"{url}\"\n{target_extra}\n{rest}\n[[stages]]\nname = \"flat\"\nkind = \"constant\"\nrate = {rate}\nduration = \"1s\"\n"
        ),
    )
}

/// A raw server misbehaving as `how`, hit for 1 s at 20 req/s (with a 500 ms timeout when
/// `timeout`), checked for `class` > 0 and nothing succeeding.
fn raw_fault(how: Misbehaviour, timeout: bool, class: &str) -> (Checks, Fault, RawServer) {
    let server = RawServer::start(how);
    let dir = tempfile::tempdir().unwrap();
    let f = if timeout {
        let s = scenario(dir.path(), &server.url(), "timeout = \"500ms\"", "", 20);
        run(dir.path(), &["run", s.to_str().unwrap()])
    } else {
        run(dir.path(), &strs(&adhoc(&server.url())))
    };
    let mut c = Checks::new();
    basics(&mut c, &f);
    if f.json.is_some() {
        count(&mut c, &f, class, |n| n > 0, "> 0");
        count(&mut c, &f, "ok", |n| n == 0, "== 0");
        c.check(
            server.requests() > 0,
            "the server read at least one request",
        );
    }
    nothing_succeeded(&mut c, &f);
    (c, f, server)
}

#[test]
fn a_garbled_status_line_is_a_protocol_error() {
    let (mut c, f, _server) = raw_fault(Misbehaviour::GarbledStatus, false, "protocol_errors");
    count(&mut c, &f, "connect_errors", |n| n == 0, "== 0");
    c.finish(&f);
}

#[test]
fn headers_cut_off_by_a_close_are_a_protocol_error() {
    let (mut c, f, _server) = raw_fault(
        Misbehaviour::UnfinishedHeadersClose,
        false,
        "protocol_errors",
    );
    count(&mut c, &f, "connect_errors", |n| n == 0, "== 0");
    c.finish(&f);
}

#[test]
fn headers_that_never_finish_time_out() {
    let (mut c, f, _server) = raw_fault(Misbehaviour::UnfinishedHeadersHang, true, "timeouts");
    count(&mut c, &f, "protocol_errors", |n| n == 0, "== 0");
    c.finish(&f);
}

#[test]
fn a_body_cut_short_is_a_protocol_error() {
    let (mut c, f, _server) = raw_fault(Misbehaviour::ShortBody, false, "protocol_errors");
    count(&mut c, &f, "connect_errors", |n| n == 0, "== 0");
    c.finish(&f);
}

#[test]
fn a_body_that_never_ends_times_out() {
    let (c, f, _server) = raw_fault(Misbehaviour::EndlessBody, true, "timeouts");
    c.finish(&f);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let (c, f, _server) = raw_fault(Misbehaviour::Silent, true, "timeouts");
    c.finish(&f);
}

#[test]
fn a_reset_on_accept_is_a_connect_error() {
    let server = RawServer::start(Misbehaviour::ResetOnAccept);
    let dir = tempfile::tempdir().unwrap();
    let f = run(dir.path(), &strs(&adhoc(&server.url())));
    let mut c = Checks::new();
    basics(&mut c, &f);
    count(&mut c, &f, "connect_errors", |n| n > 0, "> 0");
    count(&mut c, &f, "ok", |n| n == 0, "== 0");
    c.check(server.connections() > 0, "the server accepted connections");
    nothing_succeeded(&mut c, &f);
    c.finish(&f);
}

#[test]
fn nobody_listening_is_all_connect_errors() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let f = run(
        dir.path(),
        &strs(&adhoc(&format!("http://127.0.0.1:{port}/"))),
    );
    let mut c = Checks::new();
    basics(&mut c, &f);
    let sent = f.attempts("sent").unwrap_or(0);
    c.check(sent > 0, "attempts were made");
    count(&mut c, &f, "connect_errors", |n| n == sent, "== sent");
    nothing_succeeded(&mut c, &f);
    c.finish(&f);
}

#[test]
fn a_gigabyte_body_is_read_to_its_end_in_flat_memory() {
    let server = RawServer::start(Misbehaviour::HugeBody(1 << 30));
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path(), &server.url(), "timeout = \"20s\"", "", 1);
    let f = run(dir.path(), &["run", s.to_str().unwrap()]);
    println!(
        "max RSS with a 1 GiB body: {} MB",
        f.run.max_rss / 1_000_000
    );
    let mut c = Checks::new();
    basics(&mut c, &f);
    let sent = f.attempts("sent").unwrap_or(0);
    c.check(
        (1..=2).contains(&sent),
        format!("1–2 attempts (got {sent})"),
    );
    count(&mut c, &f, "ok", |n| n == sent, "== sent");
    c.check(
        server.completed() == sent,
        format!(
            "every 1 GiB body was read to its end (server finished writing {} of {sent})",
            server.completed()
        ),
    );
    c.check(
        f.run.max_rss < 150_000_000,
        format!("max RSS {} MB < 150 MB", f.run.max_rss / 1_000_000),
    );
    c.check(f.code() == Some(0), format!("exit 0 (got {:?})", f.code()));
    c.finish(&f);
}

#[test]
fn retry_after_an_hour_is_capped_and_the_run_ends() {
    let server = RawServer::start(Misbehaviour::Fixed {
        status: 429,
        headers: vec![("Retry-After".into(), "3600".into())],
        body: "slow down".into(),
    });
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(
        dir.path(),
        &server.url(),
        "",
        "[retry]\nmax_attempts = 3\ncap = \"1s\"\n",
        5,
    );
    let f = run(dir.path(), &["run", s.to_str().unwrap()]);
    let mut c = Checks::new();
    basics(&mut c, &f);
    let sent = f.attempts("sent").unwrap_or(0);
    c.check(sent > 5, format!("retries were sent (attempts {sent})"));
    count(&mut c, &f, "throttled", |n| n == sent, "== sent");
    let by_throttle = f.json()["retry"]["by_cause"]["throttle"].as_u64();
    c.check(
        by_throttle.is_some_and(|n| n > 0),
        format!("retry.by_cause.throttle > 0 (got {by_throttle:?})"),
    );
    nothing_succeeded(&mut c, &f);
    c.finish(&f);
}

#[test]
fn an_unwritable_out_is_bad_input_before_any_traffic() {
    let server = TestServer::start(|_| common::Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let path = "/proc/stampede-test/x.json";
    let mut args = adhoc(&server.url());
    args.extend(["--out".into(), path.into()]);
    let run = stampede_timed(&strs(&args), KILL);
    println!("exit {:?} in {:.2?}", run.output.status.code(), run.elapsed);
    let f = Fault {
        run,
        out: dir.path().join("none.json"),
        bytes: None,
        json: None,
    };
    let mut c = Checks::new();
    let stderr = common::stderr(&f.run.output);
    c.check(!stderr.contains("panicked"), "stampede panicked");
    c.check(f.code() == Some(2), format!("exit 2 (got {:?})", f.code()));
    c.check(
        server.hits() == 0,
        format!("no traffic before the check (server saw {})", server.hits()),
    );
    c.check(stderr.contains(path), format!("stderr names {path}"));
    c.check(f.run.elapsed < BOUND, "bounded wall time");
    c.finish(&f);
}

/// Not on the brief's list, from the exit-code contract: the --out directory is there
/// when the run starts and gone when the results are due → exit 4, naming the path.
#[test]
fn results_that_cannot_be_written_at_the_end_exit_4() {
    let server = TestServer::start(|_| common::Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("gone");
    std::fs::create_dir(&sub).unwrap();
    let out = sub.join("r.json");
    let url = server.url();
    let args = [
        "run",
        "--url",
        &url,
        "--rate",
        "20",
        "--duration",
        "2s",
        "--out",
        out.to_str().unwrap(),
    ];
    let remove = sub.clone();
    let hits = Arc::clone(&server.hits);
    // Gone once traffic has begun (after --out was proved), before the 2 s run ends.
    let remover = std::thread::spawn(move || {
        let give_up = std::time::Instant::now() + KILL;
        while hits.load(std::sync::atomic::Ordering::Relaxed) == 0
            && std::time::Instant::now() < give_up
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::fs::remove_dir_all(remove).unwrap();
    });
    // The fallback goes to the working directory: the test's own, not the repository.
    let mut cmd = common::command(&args);
    cmd.current_dir(dir.path());
    let run = common::run_bounded(cmd, KILL);
    remover.join().unwrap();
    println!("exit {:?} in {:.2?}", run.output.status.code(), run.elapsed);
    let fallback: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("stampede-results-"))
        .collect();
    let f = Fault {
        run,
        out,
        bytes: None,
        json: None,
    };
    let mut c = Checks::new();
    let stderr = common::stderr(&f.run.output);
    c.check(!stderr.contains("panicked"), "stampede panicked");
    c.check(server.hits() > 0, "the run sent traffic");
    c.check(f.code() == Some(4), format!("exit 4 (got {:?})", f.code()));
    c.check(
        stderr.contains(f.out.to_str().unwrap()),
        format!("stderr names {}", f.out.display()),
    );
    c.check(f.run.elapsed < BOUND, "bounded wall time");
    match fallback.as_slice() {
        [at] => {
            c.check(
                stderr.contains(&*at.file_name().unwrap().to_string_lossy()),
                "stderr says where the results went instead",
            );
            let back: Result<stampede::results::Results, _> =
                serde_json::from_slice(&std::fs::read(at).unwrap());
            c.check(back.is_ok(), "the fallback results read back");
        }
        other => c.check(
            false,
            format!("one fallback file in the working directory: {other:?}"),
        ),
    }
    c.finish(&f);
}

#[test]
fn url_userinfo_becomes_basic_auth_and_stays_secret() {
    let seen: Arc<Mutex<Vec<http::HeaderMap>>> = Arc::default();
    let log = Arc::clone(&seen);
    let server = TestServer::start(move |a| {
        log.lock().unwrap().push(a.headers.clone());
        common::Reply::ok()
    });
    let url = format!("http://alice:s3cret@{}/", server.addr);
    let mut c = Checks::new();
    let mut last = None;
    for verbose in [false, true] {
        seen.lock().unwrap().clear();
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["run", "--url", &url, "--rate", "5", "--duration", "1s"];
        if verbose {
            args.push("-vv");
        }
        let f = run(dir.path(), &args);
        let run = if verbose { "with -vv" } else { "without -v" };
        basics(&mut c, &f);
        c.check(
            f.code() == Some(0),
            format!("{run}: exit 0 (got {:?})", f.code()),
        );
        let headers = seen.lock().unwrap().clone();
        c.check(
            !headers.is_empty(),
            format!("{run}: the server got requests"),
        );
        // One line per distinct header seen, not per request.
        let mut auths: Vec<Option<String>> = headers
            .iter()
            .map(|h| {
                h.get("authorization")
                    .map(|v| v.to_str().unwrap_or("?").to_string())
            })
            .collect();
        auths.dedup();
        for auth in auths {
            c.check(
                auth.as_deref() == Some("Basic YWxpY2U6czNjcmV0"),
                format!("{run}: authorization: Basic YWxpY2U6czNjcmV0 (got {auth:?})"),
            );
        }
        let mut hosts: Vec<Option<String>> = headers
            .iter()
            .map(|h| h.get("host").map(|v| v.to_str().unwrap_or("?").to_string()))
            .collect();
        hosts.dedup();
        for host in hosts {
            c.check(
                host.as_deref()
                    .is_some_and(|h| !h.contains("alice") && !h.contains("s3cret")),
                format!("{run}: a Host header without the userinfo (got {host:?})"),
            );
        }
        c.check(
            !f.text().contains("s3cret"),
            format!("{run}: s3cret nowhere in stdout/stderr"),
        );
        let file = String::from_utf8_lossy(f.bytes.as_deref().unwrap_or_default()).into_owned();
        c.check(
            !file.contains("s3cret"),
            format!("{run}: s3cret nowhere in the results"),
        );
        let shown = f.json.as_ref().map(|j| j["target"]["url"].clone());
        let want = format!("http://alice:***@{}/", server.addr);
        c.check(
            shown.as_ref().and_then(Value::as_str) == Some(want.as_str()),
            format!("{run}: target.url == {want} (got {shown:?})"),
        );
        last = Some(f);
    }
    c.finish(&last.unwrap());
}

#[test]
fn too_few_file_descriptors_are_local_errors_and_said_so() {
    let server = TestServer::start(|_| common::Reply {
        status: 200,
        delay: Duration::from_millis(20),
    });
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let args = [
        "run",
        "--url",
        &url,
        "--concurrency",
        "200",
        "--duration",
        "2s",
    ];
    let f = run_with(dir.path(), &args, |all| stampede_nofile(all, 64, KILL));
    let mut c = Checks::new();
    basics(&mut c, &f);
    if f.json.is_some() {
        count(&mut c, &f, "local_errors", |n| n > 0, "> 0");
    }
    let text = f.text();
    c.check(
        text.contains("file descriptors") && text.contains("64"),
        "the output mentions \"file descriptors\" and \"64\"",
    );
    c.check(
        text.contains("ulimit -n"),
        "the preflight suggests `ulimit -n`",
    );
    c.check(
        matches!(f.code(), Some(0 | 1)),
        format!("exit 0 or 1, not an engine failure (got {:?})", f.code()),
    );
    c.finish(&f);
}

/// A plain server answering every request with `status` and `body` (JSON).
fn answering(status: u16, body: &'static str) -> TestServer {
    TestServer::start_full(move |_| (status, vec![("content-type", "application/json")], body))
}

#[test]
fn an_http_api_500_is_a_suspected_lambda_throttle() {
    let server = answering(500, r#"{"message":"Internal Server Error"}"#);
    let dir = tempfile::tempdir().unwrap();
    let f = run(dir.path(), &strs(&adhoc(&server.url())));
    let mut c = Checks::new();
    basics(&mut c, &f);
    let sent = f.attempts("sent").unwrap_or(0);
    c.check(sent > 0, "attempts were made");
    count(
        &mut c,
        &f,
        "suspected_lambda_throttles",
        |n| n == sent,
        "== sent",
    );
    count(
        &mut c,
        &f,
        "server_errors",
        |n| n == 0,
        "== 0 (no double count)",
    );
    nothing_succeeded(&mut c, &f);
    c.finish(&f);
}

#[test]
fn an_http_api_503_is_a_timeout() {
    let server = answering(503, r#"{"message":"Service Unavailable"}"#);
    let dir = tempfile::tempdir().unwrap();
    let f = run(dir.path(), &strs(&adhoc(&server.url())));
    let mut c = Checks::new();
    basics(&mut c, &f);
    let sent = f.attempts("sent").unwrap_or(0);
    c.check(sent > 0, "attempts were made");
    count(&mut c, &f, "timeouts", |n| n == sent, "== sent");
    count(&mut c, &f, "server_errors", |n| n == 0, "== 0");
    nothing_succeeded(&mut c, &f);
    c.finish(&f);
}

/// The in-process emulator with 5 reserved, 100 ms handlers, an API Gateway that never
/// throttles, hit at 200 req/s (about 20 needed) for 2 s.
fn emulator_at_its_limits(api: &str) -> Fault {
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "s.toml",
        &format!(
            r#"
[emulator]
api = "{api}"
account_concurrency = 100
reserved_concurrency = 5
duration = "100ms"
rate = 10000
burst = 5000

[target]
url = "/x"

[[stages]]
name = "over"
kind = "constant"
rate = 200
duration = "2s"
"#
        ),
    );
    run(dir.path(), &["run", s.to_str().unwrap()])
}

#[test]
fn an_http_api_at_reserved_concurrency_gives_suspected_lambda_throttles() {
    let f = emulator_at_its_limits("http");
    let mut c = Checks::new();
    basics(&mut c, &f);
    count(&mut c, &f, "suspected_lambda_throttles", |n| n > 0, "> 0");
    let q = &f.json()["quota_check"];
    c.check(!q["onset"].is_null(), "quota_check.onset is set");
    let at = &q["suspected_lambda_throttles"]["at_limit"];
    c.check(
        at == "function_reserved_concurrency",
        format!("quota_check.suspected_lambda_throttles.at_limit == function_reserved_concurrency (got {at})"),
    );
    c.check(
        f.code() == Some(1),
        format!("exit 1: the quota check fails (got {:?})", f.code()),
    );
    c.finish(&f);
}

#[test]
fn a_function_url_at_reserved_concurrency_gives_lambda_throttles() {
    let f = emulator_at_its_limits("function-url");
    let mut c = Checks::new();
    basics(&mut c, &f);
    let reserved = f.json()["throttles"]["lambda_reserved_concurrency"].as_u64();
    c.check(
        reserved.is_some_and(|n| n > 0),
        format!("throttles.lambda_reserved_concurrency > 0 (got {reserved:?})"),
    );
    let limit = &f.json()["quota_check"]["onset"]["limit"];
    c.check(
        limit == "function_reserved_concurrency",
        format!("quota_check.onset.limit == function_reserved_concurrency (got {limit})"),
    );
    c.check(
        f.code() == Some(1),
        format!("exit 1: the quota check fails (got {:?})", f.code()),
    );
    c.finish(&f);
}

#[test]
fn a_failure_rate_threshold_counts_throttles_as_failures() {
    let server = answering(429, r#"{"message":"Too Many Requests"}"#);
    let dir = tempfile::tempdir().unwrap();
    let mut args = adhoc(&server.url());
    args.extend(
        [
            "--threshold",
            "failure_rate=1%",
            "--threshold",
            "error_rate=1%",
        ]
        .map(String::from),
    );
    let f = run(dir.path(), &strs(&args));
    let mut c = Checks::new();
    c.check(f.code() == Some(1), format!("exit 1 (got {:?})", f.code()));
    basics(&mut c, &f);
    if f.json.is_some() {
        let thresholds = f.json()["thresholds"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let named = |name: &str| thresholds.iter().find(|t| t["name"] == name).cloned();
        match named("failure_rate") {
            Some(t) => {
                c.check(t["pass"] == false, format!("failure_rate fails: {t}"));
                c.check(
                    t["observed"] == 1.0,
                    format!("failure_rate observed 1.0: {t}"),
                );
            }
            None => c.check(false, "a thresholds entry named failure_rate"),
        }
        match named("error_rate") {
            Some(t) => {
                c.check(t["pass"] == true, format!("error_rate passes: {t}"));
                c.check(t["observed"] == 0.0, format!("error_rate observed 0: {t}"));
            }
            None => c.check(false, "a thresholds entry named error_rate"),
        }
    }
    c.finish(&f);
}
