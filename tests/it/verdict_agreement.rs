//! The one verdict, end to end: a corpus of results files made by real runs on loopback
//! (passing, a threshold failed, the quota check failed, aborted, interrupted, faulted,
//! nothing succeeded, a request mix passing and failing, shards, merges holding a faulted
//! or an interrupted shard, and probes
//! with and without a knee) goes
//! through every command and format — the exit code of the command that wrote it, the
//! summary's verdict line, the HTML banner, JUnit's failures, the Markdown headline — and
//! they all say the same. The table is printed (`-- --nocapture`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;
use common::{stderr, write, Reply, TestServer};
use stampede::verdict::judge::{judge, Command, Outcome};

/// The banner word each exit code of `run` and `merge` stands for.
fn word_of(code: i32) -> &'static str {
    match code {
        0 => "PASS",
        1 => "FAIL",
        3 => "ABORTED",
        4 => "STAMPEDE FAILED",
        130 => "INTERRUPTED",
        _ => panic!("no verdict has exit {code}"),
    }
}

/// A results file of the corpus: its name, the command that wrote it and its exit code.
struct Made {
    name: &'static str,
    path: PathBuf,
    by: &'static str,
    code: i32,
}

/// `stampede run ARGS --out DIR/NAME.json`, with `env`; its exit code.
fn run(dir: &Path, name: &'static str, args: &[&str], env: &[(&str, &str)]) -> Made {
    let path = dir.join(format!("{name}.json"));
    let mut all = vec!["run", "--quiet", "--no-cloudwatch"];
    all.extend(args);
    all.extend(["--out", path.to_str().unwrap()]);
    let mut cmd = common::command(&all);
    cmd.envs(env.iter().copied());
    let o = common::run_bounded(cmd, Duration::from_secs(60)).output;
    let code = o.status.code().unwrap_or_else(|| panic!("{name}: {o:?}"));
    assert!(path.is_file(), "{name}: no results: {}", stderr(&o));
    Made {
        name,
        path,
        by: "run",
        code,
    }
}

/// `run ARGS` against a server that holds every answer, stopped by SIGINT once the server
/// has seen a request (an event, not a time); exit 130.
fn interrupted(dir: &Path, name: &'static str, args: &[&str], server: &TestServer) -> Made {
    let path = dir.join(format!("{name}.json"));
    let before = server.hits();
    let mut all = vec!["run", "--quiet", "--no-cloudwatch", "--grace", "1s"];
    all.extend(args);
    all.extend(["--out", path.to_str().unwrap()]);
    let child = common::command(&all)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.hits() == before {
        assert!(Instant::now() < deadline, "{name}: no request arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let o = common::wait_bounded(child, name, Duration::from_secs(60)).output;
    Made {
        name,
        path,
        by: "run",
        code: o.status.code().unwrap_or_else(|| panic!("{name}: {o:?}")),
    }
}

/// `stampede probe` of one or two workers against `url` with `slo`; its exit code.
fn probe(dir: &Path, name: &'static str, url: &str, slo: &str) -> Made {
    let path = dir.join(format!("{name}.json"));
    let o = common::stampede(&[
        "probe",
        "--url",
        url,
        "--from",
        "1",
        "--max",
        "2",
        "--step",
        "300ms",
        "--settle",
        "0s",
        "--slo",
        slo,
        "--quiet",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(path.is_file(), "{name}: no results: {}", stderr(&o));
    Made {
        name,
        path,
        by: "probe",
        code: o.status.code().unwrap(),
    }
}

/// `stampede merge FILES --out DIR/NAME.json`; its exit code.
fn merge(dir: &Path, name: &'static str, files: &[&Made]) -> Made {
    let path = dir.join(format!("{name}.json"));
    let mut args = vec!["merge", "--quiet"];
    args.extend(files.iter().map(|m| m.path.to_str().unwrap()));
    args.extend(["--out", path.to_str().unwrap()]);
    let o = common::stampede(&args);
    let code = o.status.code().unwrap();
    assert!(path.is_file(), "{name}: not merged: {}", stderr(&o));
    Made {
        name,
        path,
        by: "merge",
        code,
    }
}

/// What each format says of one results file.
struct Said {
    report_code: i32,
    summary: String,
    banner: String,
    junit_failed: u64,
    markdown: String,
}

fn attr(xml: &str, name: &str) -> u64 {
    let at = xml.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
    xml[at..].split('"').next().unwrap().parse().unwrap()
}

fn read_by_report(m: &Made, dir: &Path) -> Said {
    let file = m.path.to_str().unwrap();
    let o = common::stampede(&["report", file]);
    assert_eq!(o.status.code(), Some(0), "{}: {}", m.name, stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let summary = out
        .lines()
        .find_map(|l| l.strip_prefix("verdict: "))
        .unwrap_or_else(|| panic!("{}: no verdict line in\n{out}", m.name))
        .split(" — ")
        .next()
        .unwrap()
        .to_string();
    let (html, md, xml) = (
        dir.join(format!("{}.html", m.name)),
        dir.join(format!("{}.md", m.name)),
        dir.join(format!("{}.xml", m.name)),
    );
    let o = common::stampede(&[
        "report",
        file,
        "--html",
        html.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ]);
    let report_code = o.status.code().unwrap();
    let html = std::fs::read_to_string(html).unwrap();
    let at = html.find("id=\"verdict\">").expect("a banner") + "id=\"verdict\">".len();
    let banner = html[at..].split('<').next().unwrap().to_string();
    let md = std::fs::read_to_string(md).unwrap();
    let markdown = md
        .lines()
        .next()
        .unwrap()
        .rsplit(" — ")
        .next()
        .unwrap()
        .to_string();
    let xml = std::fs::read_to_string(xml).unwrap();
    let junit_failed = attr(&xml, "failures") + attr(&xml, "errors");
    Said {
        report_code,
        summary,
        banner,
        junit_failed,
        markdown,
    }
}

#[test]
fn every_command_and_format_gives_the_same_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ok = TestServer::start(|_| Reply::ok());
    let url = ok.url();
    let slow = TestServer::start(|_| Reply {
        status: 200,
        delay: Duration::from_millis(30),
    });
    let throttling = TestServer::start(|_| Reply {
        status: 429,
        delay: Duration::ZERO,
    });
    // Answers at once, or holds every answer while `hold` is set (a run to interrupt).
    let hold = Arc::new(AtomicBool::new(false));
    let held = Arc::clone(&hold);
    let shards = TestServer::start(move |_| Reply {
        status: 200,
        delay: if held.load(Ordering::SeqCst) {
            Duration::from_secs(60)
        } else {
            Duration::ZERO
        },
    });
    let quota = write(
        d,
        "quota.toml",
        "[target]\nurl = \"/orders\"\n\n[[stages]]\nkind = \"ramp\"\nfrom = 20\nto = 100\nduration = \"2s\"\n\n\
         [emulator]\ncold_start = \"0ms\"\napi = \"function-url\"\naccount_concurrency = 5\nduration = \"100ms\"\n",
    );
    let fault = [("STAMPEDE_INJECT_FAULT", "lane-panic:1:300")];
    let load = ["--rate", "20", "--duration", "1s"];
    let with = |more: &[&'static str]| -> Vec<&str> {
        let mut v: Vec<&str> = vec!["--url", &url];
        v.extend(load);
        v.extend(more);
        v
    };
    let shards_url = shards.url();
    let shard = |i: &'static str| -> Vec<&str> {
        let mut v: Vec<&str> = vec!["--url", &shards_url, "--threads", "2", "--shard"];
        v.push(i);
        v.extend(load);
        v
    };

    let mut corpus = vec![
        run(d, "passing", &with(&[]), &[]),
        run(
            d,
            "threshold-failed",
            &[
                "--url",
                &slow.url(),
                "--rate",
                "20",
                "--duration",
                "1s",
                "--threshold",
                "p50=1ms",
            ],
            &[],
        ),
        run(d, "quota-failed", &[quota.to_str().unwrap()], &[]),
        run(
            d,
            "aborted",
            &[
                "--url",
                &throttling.url(),
                "--rate",
                "50",
                "--duration",
                "20s",
                "--abort",
                "throttle_rate=20%",
                "--abort",
                "window=1s",
            ],
            &[],
        ),
        run(d, "faulted", &with(&["--threads", "2"]), &fault),
        run(
            d,
            "nothing-succeeded",
            &["--url", "http://127.0.0.1:9/", "--burst", "3"],
            &[],
        ),
    ];
    // A mix: JUnit adds a testcase per request, which must not change the verdict's count.
    let mix = write(
        d,
        "mix.toml",
        "[[requests]]\nname = \"a\"\npath = \"/a\"\n\n[[requests]]\nname = \"b\"\npath = \"/b\"\nweight = 2\n",
    );
    let mix = mix.to_str().unwrap();
    corpus.push(run(
        d,
        "mix-passing",
        &[
            "--url",
            &url,
            "--requests",
            mix,
            "--rate",
            "20",
            "--duration",
            "1s",
        ],
        &[],
    ));
    let slow_url = slow.url();
    corpus.push(run(
        d,
        "mix-threshold-failed",
        &[
            "--url",
            &slow_url,
            "--requests",
            mix,
            "--rate",
            "20",
            "--duration",
            "1s",
            "--threshold",
            "p50=1ms",
        ],
        &[],
    ));
    let shard0 = run(d, "shard-0-of-2", &shard("0/2"), &[]);
    let shard1_faulted = run(d, "shard-1-of-2-faulted", &shard("1/2"), &fault);
    hold.store(true, Ordering::SeqCst);
    let shard1_interrupted = interrupted(d, "shard-1-of-2-interrupted", &shard("1/2"), &shards);
    hold.store(false, Ordering::SeqCst);
    let stopped = TestServer::start(|_| Reply {
        status: 200,
        delay: Duration::from_secs(60),
    });
    corpus.push(interrupted(
        d,
        "interrupted",
        &["--url", &stopped.url(), "--rate", "20", "--duration", "5s"],
        &stopped,
    ));
    let merged_faulted = merge(d, "merged-faulted-shard", &[&shard0, &shard1_faulted]);
    let merged_interrupted = merge(
        d,
        "merged-interrupted-shard",
        &[&shard0, &shard1_interrupted],
    );
    corpus.extend([shard0, shard1_faulted, shard1_interrupted]);
    corpus.push(probe(d, "probe-knee", &url, "p99=5s"));
    corpus.push(probe(d, "probe-no-knee", &slow.url(), "p99=1ms"));
    corpus.extend([merged_faulted, merged_interrupted]);

    // The corpus covers every outcome.
    let expected: [(&str, i32); 15] = [
        ("passing", 0),
        ("threshold-failed", 1),
        ("quota-failed", 1),
        ("aborted", 3),
        ("faulted", 4),
        ("nothing-succeeded", 1),
        ("mix-passing", 0),
        ("mix-threshold-failed", 1),
        ("interrupted", 130),
        ("shard-0-of-2", 0),
        ("shard-1-of-2-faulted", 4),
        ("shard-1-of-2-interrupted", 130),
        ("merged-faulted-shard", 4),
        ("probe-knee", 0),
        ("probe-no-knee", 1),
    ];
    let mut table = vec![format!(
        "| results file | written by → exit | judge | report exit | summary | HTML banner | JUnit failures+errors | Markdown headline | reasons |"
    )];
    table.push("|---|---|---|---|---|---|---|---|---|".into());
    let mut disagree = Vec::new();
    for m in &corpus {
        let r = stampede::results::file::read(&m.path).unwrap();
        let v = judge(&r);
        let cmd = match m.by {
            "merge" => Command::Merge,
            "probe" => Command::Probe,
            _ => Command::Run,
        };
        let said = read_by_report(m, d);
        let word = word_of(m.code);
        let md_word = if word == "PASS" {
            "✅ pass".to_string()
        } else {
            format!("❌ {}", v.outcome.lower())
        };
        let agree = v.exit_code(cmd) == m.code
            && v.outcome.word() == word
            && said.report_code == 0
            && said.summary == word
            && said.banner == word
            && (said.junit_failed == 0) == (v.outcome == Outcome::Pass)
            && said.markdown == md_word;
        if !agree {
            disagree.push(m.name);
        }
        table.push(format!(
            "| {} | {} → {} | {} | {} | {} | {} | {} | {} | {} |",
            m.name,
            m.by,
            m.code,
            v.outcome.word(),
            said.report_code,
            said.summary,
            said.banner,
            said.junit_failed,
            said.markdown,
            {
                let mut why = v.lines();
                why.extend(
                    v.deferred
                        .iter()
                        .map(|d| format!("(deferred) {}", d.line())),
                );
                why.iter()
                    .map(|w| w.chars().take(70).collect::<String>())
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        ));
    }
    println!("{}", table.join("\n"));
    assert!(
        disagree.is_empty(),
        "they disagree on {disagree:?}:\n{}",
        table.join("\n")
    );
    for (name, code) in expected {
        let m = corpus.iter().find(|m| m.name == name).unwrap();
        assert_eq!(m.code, code, "{name}");
    }
    let last = corpus.last().unwrap();
    assert_eq!(
        (last.name, last.code),
        ("merged-interrupted-shard", 130),
        "a merge holding an interrupted shard exits 130"
    );
}
