//! Every address of the target's name: two loopback servers, on 127.0.0.1 and 127.0.0.2 at
//! one port (Linux routes all of 127/8 to lo), behind one made-up name, `api.test`, given
//! by `resolve` or a hosts file. Both take load round robin, and the results' `addresses`
//! say exactly what each server counted; one that stops loses its share to the other
//! without failing the run; one added to the hosts file mid-run starts taking load at the
//! next refresh.

use crate::common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

use bytes::Bytes;
use common::{command, read_json, spawn_watched, stderr, write, DEFAULT_LIMIT};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// An HTTP/1.1 server on one address that counts the requests it answers, until stopped.
struct Server {
    address: SocketAddr,
    runtime: tokio::runtime::Runtime,
    answered: Arc<AtomicU64>,
}

impl Server {
    fn start(address: SocketAddr) -> std::io::Result<Server> {
        let listener = std::net::TcpListener::bind(address)?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let answered = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&answered);
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((stream, _)) = listener.accept().await {
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let service = service_fn(move |_req| {
                        counter.fetch_add(1, SeqCst);
                        async {
                            Ok::<_, Infallible>(hyper::Response::new(Full::new(
                                Bytes::from_static(b"ok"),
                            )))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Server {
            address,
            runtime,
            answered,
        })
    }

    fn answered(&self) -> u64 {
        self.answered.load(SeqCst)
    }

    /// Closes its listener and every connection at once, as a server that goes away.
    fn stop(self) {
        self.runtime.shutdown_background();
    }
}

/// Two servers at one port, on 127.0.0.1 and 127.0.0.2.
fn two_servers() -> (u16, Server, Server) {
    for _ in 0..20 {
        let first = Server::start("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = first.address.port();
        let second: SocketAddr = format!("127.0.0.2:{port}").parse().unwrap();
        if let Ok(second) = Server::start(second) {
            return (port, first, second);
        }
        first.stop();
    }
    panic!("no port free on both 127.0.0.1 and 127.0.0.2");
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn served<'r>(r: &'r Value, ip: &str, port: u16) -> &'r Value {
    &r["addresses"][format!("{ip}:{port}")]
}

fn scenario(dir: &Path, port: u16, target_extra: &str, stages: &str) -> String {
    let path = write(
        dir,
        "s.toml",
        &format!(
            "[target]\nurl = \"http://api.test:{port}/\"\ntimeout = \"5s\"\n\
             connect_timeout = \"2s\"\n{target_extra}\n{stages}"
        ),
    );
    path.to_str().unwrap().to_string()
}

/// Runs stampede to the end, `during` called while it runs; the results and its stderr.
fn run(dir: &Path, args: &[&str], during: impl FnOnce(&mut common::Watched)) -> Value {
    let out = dir.join("r.json");
    let mut all = args.to_vec();
    all.extend(["--quiet", "--out", out.to_str().unwrap()]);
    let mut watched = spawn_watched(command(&all));
    during(&mut watched);
    let done = watched.finish(DEFAULT_LIMIT);
    assert_eq!(
        done.output.status.code(),
        Some(0),
        "{}",
        stderr(&done.output)
    );
    read_json(&out)
}

#[test]
fn both_addresses_take_load_and_the_results_count_each_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (port, one, two) = two_servers();
    let pin = format!("resolve = [\"api.test:{port}:127.0.0.1,127.0.0.2\"]");
    let modes = [
        (
            "per-request",
            "connections = \"per-request\"",
            "[[stages]]\nkind = \"constant\"\nrate = 200\nduration = \"2s\"\n",
        ),
        // Kept alive, each worker keeps its connection: they alternate between the two.
        (
            "keep-alive",
            "",
            "[[stages]]\nkind = \"concurrency\"\nworkers = 8\nduration = \"2s\"\n",
        ),
    ];
    for (mode, extra, stages) in modes {
        let (before_one, before_two) = (one.answered(), two.answered());
        let s = scenario(dir.path(), port, &format!("{pin}\n{extra}"), stages);
        let r = run(dir.path(), &["run", &s], |_| {});
        let (got_one, got_two) = (one.answered() - before_one, two.answered() - before_two);
        let total = u(&r["totals"]["requests"]);
        assert_eq!(u(&r["totals"]["ok"]), total, "{mode}: {}", r["totals"]);
        assert_eq!(
            got_one + got_two,
            total,
            "{mode}: the servers saw every request"
        );
        for (ip, got) in [("127.0.0.1", got_one), ("127.0.0.2", got_two)] {
            let s = served(&r, ip, port);
            assert_eq!(u(&s["requests"]), got, "{mode}: {ip}: {}", r["addresses"]);
            assert_eq!(u(&s["answered"]), got, "{mode}: {ip}");
            assert!(got * 10 >= total * 3, "{mode}: {ip} took {got} of {total}");
        }
        eprintln!(
            "{mode}: {total} requests; 127.0.0.1 {got_one}, 127.0.0.2 {got_two}; {}",
            r["addresses"]
        );
    }
    one.stop();
    two.stop();
}

#[test]
fn an_address_that_stops_loses_its_share_to_the_other_without_failing_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let modes = [
        (
            "per-request",
            "connections = \"per-request\"",
            "[[stages]]\nkind = \"constant\"\nrate = 200\nduration = \"3s\"\n",
            0,
        ),
        // Kept alive: the stopped server's connections break under the requests on them
        // (one per worker at most), and their workers connect again, to the other.
        (
            "keep-alive",
            "",
            "[[stages]]\nkind = \"concurrency\"\nworkers = 4\nduration = \"3s\"\n",
            4,
        ),
    ];
    for (mode, extra, stages, in_flight) in modes {
        let (port, one, two) = two_servers();
        let pin = format!("api.test:{port}:127.0.0.1,127.0.0.2");
        let s = scenario(dir.path(), port, extra, stages);
        let mut stopped_at = 0;
        let mut two = Some(two);
        let r = run(dir.path(), &["run", &s, "--resolve", &pin], |w| {
            let second = two.as_ref().unwrap();
            w.wait_for("100 requests on 127.0.0.2", DEFAULT_LIMIT, || {
                second.answered() >= 100
            });
            // A moment on, so that the first server's count is well under way too.
            std::thread::sleep(std::time::Duration::from_millis(300));
            stopped_at = second.answered();
            two.take().unwrap().stop();
        });
        let total = u(&r["totals"]["requests"]);
        let errors = total - u(&r["totals"]["ok"]);
        let after_one = one.answered();
        let first = served(&r, "127.0.0.1", port);
        let second = served(&r, "127.0.0.2", port);
        // Every error is a request sent to the stopped server that it never answered: those
        // under way on its connections, and (per request) connections the kernel had queued
        // for it that it never accepted, reset when it closed. The other lost nothing.
        // (A kept-alive one may have been sent again to the other, unprocessed: then it is
        // unanswered here but no error.)
        assert!(
            errors <= u(&second["requests"]) - u(&second["answered"]),
            "{mode}: the errors are the stopped server's unanswered requests: {} {}",
            r["addresses"],
            r["failures"]
        );
        assert_eq!(u(&first["requests"]), u(&first["answered"]), "{mode}");
        // A few: those in flight, and the connects of the last moments (at 200 a second, 10
        // is 50 ms of them) if its accept loop had fallen behind on a loaded machine.
        assert!(
            errors <= in_flight + 10,
            "{mode}: {errors} errors, more than the {in_flight} in flight at the stop and the queued connects: {}",
            r["failures"]
        );
        assert_eq!(
            u(&first["requests"]),
            after_one,
            "{mode}: {}",
            r["addresses"]
        );
        assert!(
            u(&second["answered"]) >= stopped_at,
            "{mode}: {}",
            r["addresses"]
        );
        assert!(
            u(&second["refused"]) >= 1,
            "{mode}: connects to it were refused: {}",
            r["addresses"]
        );
        // It stopped well before the end: the other took most of the run.
        assert!(
            after_one > stopped_at * 2,
            "{mode}: 127.0.0.1 took {after_one}, 127.0.0.2 {stopped_at}"
        );
        eprintln!(
            "{mode}: stopped 127.0.0.2 after {stopped_at}: {total} requests, {errors} errors; {}",
            r["addresses"]
        );
        one.stop();
    }
}

#[test]
fn kept_alive_connections_to_an_address_taken_out_of_the_hosts_file_drain() {
    let dir = tempfile::tempdir().unwrap();
    let (port, one, two) = two_servers();
    let hosts = write(
        dir.path(),
        "hosts",
        "127.0.0.1 api.test\n127.0.0.2 api.test\n",
    );
    let extra = "hosts_file = \"hosts\"\ndns_refresh = \"500ms\"";
    let stages = "[[stages]]\nkind = \"concurrency\"\nworkers = 4\nduration = \"3s\"\n";
    let s = scenario(dir.path(), port, extra, stages);
    let mut drained_at = 0;
    let r = run(dir.path(), &["run", &s], |w| {
        w.wait_for("100 requests on 127.0.0.2", DEFAULT_LIMIT, || {
            two.answered() >= 100
        });
        std::fs::write(&hosts, "127.0.0.1 api.test\n").unwrap();
        // A refresh later (and a margin), its connections are closed as they come back.
        std::thread::sleep(std::time::Duration::from_millis(1000));
        drained_at = two.answered();
    });
    let total = u(&r["totals"]["requests"]);
    assert_eq!(u(&r["totals"]["ok"]), total, "{}", r["totals"]);
    let last = two.answered();
    assert_eq!(
        last, drained_at,
        "no request went to 127.0.0.2 after it drained"
    );
    assert_eq!(u(&served(&r, "127.0.0.2", port)["requests"]), last);
    assert_eq!(
        u(&served(&r, "127.0.0.1", port)["requests"]),
        one.answered()
    );
    assert!(
        one.answered() > last,
        "127.0.0.1 took the rest: {}",
        r["addresses"]
    );
    eprintln!(
        "drained: {total} requests; 127.0.0.2 {last}; {}",
        r["addresses"]
    );
    one.stop();
    two.stop();
}

#[test]
fn an_address_added_to_the_hosts_file_takes_load_after_the_next_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let (port, one, two) = two_servers();
    let hosts = write(dir.path(), "hosts", "# the test's\n127.0.0.1 api.test\n");
    let extra = "connections = \"per-request\"\nhosts_file = \"hosts\"\ndns_refresh = \"1s\"";
    let stages = "[[stages]]\nkind = \"constant\"\nrate = 100\nduration = \"4s\"\n";
    let s = scenario(dir.path(), port, extra, stages);
    let r = run(dir.path(), &["run", &s], |w| {
        w.wait_for("50 requests on 127.0.0.1", DEFAULT_LIMIT, || {
            one.answered() >= 50
        });
        assert_eq!(two.answered(), 0, "not listed yet");
        std::fs::write(&hosts, "127.0.0.1 api.test\n127.0.0.2 api.test\n").unwrap();
    });
    let total = u(&r["totals"]["requests"]);
    assert_eq!(u(&r["totals"]["ok"]), total, "{}", r["totals"]);
    let (got_one, got_two) = (one.answered(), two.answered());
    assert_eq!(u(&served(&r, "127.0.0.2", port)["requests"]), got_two);
    assert_eq!(u(&served(&r, "127.0.0.1", port)["requests"]), got_one);
    // Added about half a second in, listed a second later at most: half of the last two
    // seconds' 200 requests or more.
    assert!(got_two >= 60, "127.0.0.2 took {got_two} of {total}");
    eprintln!("hosts file: {total} requests; 127.0.0.1 {got_one}, 127.0.0.2 {got_two}");
    one.stop();
    two.stop();
}

#[test]
fn bad_resolver_overrides_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let stages = "[[stages]]\nkind = \"constant\"\nrate = 1\nduration = \"1s\"\n";
    let cases = [
        (
            "resolve = [\"api.test:80\"]",
            "s.toml:4:",
            "no addresses after the port",
        ),
        (
            "resolve = [\"other.test:80:127.0.0.1\"]",
            "s.toml:4:",
            "no resolve entry is for the target's api.test:80",
        ),
        ("dns_refresh = \"0s\"", "s.toml:4:", "ambiguous"),
        ("hosts_file = \"missing\"", "s.toml:4:", "no such file"),
    ];
    for (extra, at, why) in cases {
        let s = write(
            dir.path(),
            "s.toml",
            &format!("[target]\nurl = \"http://api.test/\"\ntimeout = \"1s\"\n{extra}\n{stages}"),
        );
        let o = common::stampede(&["run", s.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra}: {err}");
        assert!(err.contains(at) && err.contains(why), "{extra}: {err}");
    }
    write(
        dir.path(),
        "hosts",
        "127.0.0.1 api.test\nnot-an-ip api.test\n",
    );
    let s = write(
        dir.path(),
        "s.toml",
        &format!("[target]\nurl = \"http://api.test/\"\nhosts_file = \"hosts\"\n{stages}"),
    );
    let o = common::stampede(&["run", s.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 2: `not-an-ip` is not an IP address"),
        "{}",
        stderr(&o)
    );
    for (flag, value, why) in [
        (
            "--resolve",
            "api.test:80:nope",
            "`nope` is not an IP address",
        ),
        ("--dns-refresh", "soon", "bad dns_refresh `soon`"),
    ] {
        let o = common::stampede(&[
            "run",
            "--url",
            "http://api.test/",
            "--rate",
            "1",
            "--duration",
            "1s",
            flag,
            value,
        ]);
        assert_eq!(o.status.code(), Some(2), "{flag}");
        assert!(
            stderr(&o).contains(flag) && stderr(&o).contains(why),
            "{}",
            stderr(&o)
        );
    }
}
