//! The files a user names, read or written: only regular files (through symlinks), each
//! read bounded, refused before any traffic with exit 2 and a message naming the path and
//! what it is — never a hang on a FIFO, never a device node replaced, never a run that
//! reads /dev/zero until memory runs out. And a report lost to a full stdout is exit 4.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{read_json, stampede_within, stderr, write, Reply, TestServer};

/// Every refusal here comes before any work: seconds, not the default minute.
const QUICK: Duration = Duration::from_secs(20);

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string; mkfifo has no other preconditions.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn symlink_to(dir: &Path, name: &str, target: &str) -> PathBuf {
    let link = dir.join(name);
    std::os::unix::fs::symlink(target, &link).unwrap();
    link
}

/// Runs stampede with `args`, expects exit 2 before anything else, returns stderr.
fn refused(args: &[&str]) -> String {
    let o = stampede_within(args, QUICK);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn is_char_device(path: &str) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path)
        .unwrap()
        .file_type()
        .is_char_device()
}

/// A short run's results file, for `report` and `compare`.
fn some_results(dir: &Path) -> PathBuf {
    let server = TestServer::start(|_| Reply::ok());
    let out = dir.join("r.json");
    let o = stampede_within(
        &[
            "run",
            "--url",
            &server.url(),
            "--rate",
            "10",
            "--duration",
            "300ms",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
        QUICK,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out
}

#[test]
fn out_to_a_device_or_fifo_is_refused_before_traffic_and_the_node_is_left_alone() {
    let server = TestServer::start(|_| Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let run = |out: &Path, flag: &str| {
        refused(&[
            "run",
            "--url",
            &url,
            "--rate",
            "5",
            "--duration",
            "200ms",
            "--quiet",
            flag,
            out.to_str().unwrap(),
        ])
    };
    // A symlink to /dev/full: not written through, not replaced.
    let full = symlink_to(dir.path(), "full.json", "/dev/full");
    for flag in ["--out", "--html", "--markdown", "--junit"] {
        let err = run(&full, flag);
        assert!(
            err.contains(&format!("{flag} {}", full.display()))
                && err.contains("a character device (the symlink's target /dev/full)"),
            "{err}"
        );
    }
    assert!(std::fs::symlink_metadata(&full)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(is_char_device("/dev/full"));
    // A FIFO: refused at once (nobody reads it, so opening it to write would hang).
    let fifo = dir.path().join("fifo.json");
    mkfifo(&fifo);
    let err = run(&fifo, "--out");
    assert!(err.contains("is a FIFO (named pipe)"), "{err}");
    // A socket.
    let sock = dir.path().join("sock.json");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let err = run(&sock, "--out");
    assert!(err.contains("is a socket"), "{err}");
    assert_eq!(server.hits(), 0, "nothing was sent");
    // Nothing left beside them.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn out_through_a_symlink_writes_its_target_and_keeps_the_link() {
    let server = TestServer::start(|_| Reply::ok());
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("results.json");
    std::fs::write(&target, b"old").unwrap();
    let link = symlink_to(dir.path(), "r.json", target.to_str().unwrap());
    let md_target = elsewhere.path().join("report.md");
    let md_link = symlink_to(dir.path(), "r.md", md_target.to_str().unwrap());
    let o = stampede_within(
        &[
            "run",
            "--url",
            &server.url(),
            "--rate",
            "10",
            "--duration",
            "300ms",
            "--quiet",
            "--out",
            link.to_str().unwrap(),
            "--markdown",
            md_link.to_str().unwrap(),
        ],
        QUICK,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::symlink_metadata(&md_link)
        .unwrap()
        .file_type()
        .is_symlink());
    let r = read_json(&target);
    assert_eq!(r["totals"]["requests"], server.hits());
    assert!(std::fs::read_to_string(&md_target).unwrap().contains('#'));
    for d in [dir.path(), elsewhere.path()] {
        for e in std::fs::read_dir(d).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(
                !name.ends_with(".partial"),
                "{name} left in {}",
                d.display()
            );
        }
    }
}

#[test]
fn report_and_compare_refuse_special_files_and_fail_on_a_full_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let r = some_results(dir.path());
    let r = r.to_str().unwrap();
    let fifo = dir.path().join("out.md");
    mkfifo(&fifo);
    let err = refused(&["report", r, "--markdown", fifo.to_str().unwrap()]);
    assert!(err.contains("--markdown") && err.contains("FIFO"), "{err}");
    let full = symlink_to(dir.path(), "c.json", "/dev/full");
    let err = refused(&["compare", r, r, "--json", full.to_str().unwrap()]);
    assert!(
        err.contains("--json") && err.contains("character device"),
        "{err}"
    );
    assert!(is_char_device("/dev/full"));

    // stdout on a full device: the summary and the comparison are lost, so not exit 0.
    for args in [vec!["report", r], vec!["compare", r, r]] {
        let child = common::command(&args)
            .stdin(Stdio::null())
            .stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let run = common::wait_bounded(child, &args.join(" "), QUICK);
        let err = stderr(&run.output);
        assert_eq!(run.output.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("stdout: cannot write"), "{err}");
    }
}

#[test]
fn too_many_threads_are_refused_with_the_maximum() {
    let err = refused(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "1",
        "--duration",
        "1s",
        "--threads",
        "100000",
    ]);
    let cores = std::thread::available_parallelism().unwrap().get();
    assert!(
        err.contains("--threads: 100000 threads")
            && err.contains(&format!("from 1 to {}", cores * 4)),
        "{err}"
    );
}

#[test]
fn a_body_file_must_be_a_regular_file_within_the_limit_in_run_and_plan() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.json");
    mkfifo(&fifo);
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(11 << 20)
        .unwrap();
    for (body, says) in [
        ("/dev/zero", "is a character device, not a regular file"),
        ("fifo.json", "is a FIFO (named pipe), not a regular file"),
        ("big.json", "11.0 MiB is more than the 10.0 MiB it may be"),
    ] {
        let s = write(
            dir.path(),
            "s.toml",
            &format!("[target]\nurl = \"http://127.0.0.1:9/\"\nbody_file = \"{body}\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n"),
        );
        for command in ["run", "plan"] {
            let err = refused(&[command, s.to_str().unwrap()]);
            assert!(
                err.contains("s.toml:3:13:") && err.contains(body) && err.contains(says),
                "{command} {body}: {err}"
            );
            assert!(err.contains("a regular file of at most 10.0 MiB"), "{err}");
        }
    }
}

#[test]
fn every_file_read_is_a_regular_file_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    let err = refused(&["run", fifo]);
    assert!(
        err.contains(&format!("scenario file {fifo}")) && err.contains("FIFO"),
        "{err}"
    );
    let err = refused(&["plan", "/dev/zero"]);
    assert!(err.contains("/dev/zero: is a character device"), "{err}");
    let err = refused(&[
        "plan",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "1",
        "--duration",
        "1s",
        "--quotas",
        "/dev/zero",
    ]);
    assert!(
        err.contains("quotas file /dev/zero") && err.contains("character device"),
        "{err}"
    );
    let err = refused(&["emulate", "--config", fifo]);
    assert!(
        err.contains("emulator config") && err.contains("FIFO"),
        "{err}"
    );
    let err = refused(&["report", fifo]);
    assert!(
        err.contains("results file") && err.contains("FIFO"),
        "{err}"
    );
    let err = refused(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "1",
        "--duration",
        "1s",
        "--ca-cert",
        "/dev/zero",
    ]);
    assert!(err.contains("--ca-cert /dev/zero"), "{err}");
    // A scenario past the limit, sparse so the test writes nothing much.
    let big = dir.path().join("big.toml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(5 << 20)
        .unwrap();
    let err = refused(&["plan", big.to_str().unwrap()]);
    assert!(
        err.contains("5.0 MiB is more than the 4.0 MiB it may be"),
        "{err}"
    );
}

#[test]
fn a_write_that_fails_part_way_leaves_the_old_file_and_no_partial() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let r = some_results(dir.path());
    let md = dir.path().join("report.md");
    std::fs::write(&md, "old").unwrap();
    // Files may grow to 64 bytes in the child: the report's write fails part way (EFBIG; the
    // SIGXFSZ it would bring is ignored, and an ignored signal stays so across exec).
    let mut cmd = common::command(&[
        "report",
        r.to_str().unwrap(),
        "--markdown",
        md.to_str().unwrap(),
    ]);
    // SAFETY: signal and setrlimit are async-signal-safe; nothing is allocated.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 64,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = common::run_bounded(cmd, QUICK).output;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains(&format!("--markdown {}: cannot write it", md.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&md).unwrap(), "old");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".partial")), "{names:?}");
}
