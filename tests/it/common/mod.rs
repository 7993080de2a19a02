//! Test helpers: a real HTTP/1.1 server on loopback, misbehaving raw-TCP servers
//! ([`raw`]), and the stampede binary, every spawn of it bounded in time.
#![allow(dead_code)]

pub mod cdp;
pub mod h2_server;
pub mod login;
pub mod nginx;
pub mod orders_api;
pub mod paced;
pub mod prometheus;
pub mod raw;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// How the server answers one request.
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply {
            status: 200,
            delay: Duration::ZERO,
        }
    }
}

/// What the server is told about a request: its number (0-based), when it arrived, its headers.
pub struct Arrival<'a> {
    pub index: u64,
    pub since_start: Duration,
    pub headers: &'a http::HeaderMap,
    /// Method, path and query, as sent.
    pub method: &'a http::Method,
    pub uri: &'a http::Uri,
}

/// Status, headers and body of an answer.
pub type FullReply = (u16, Vec<(&'static str, &'static str)>, &'static str);

type Handler = dyn Fn(&Arrival) -> (Reply, FullReply) + Send + Sync;

/// A loopback HTTP server running on its own thread and runtime until the test ends.
pub struct TestServer {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicU64>,
}

/// A self-signed certificate for 127.0.0.1, and its PEM to trust it by.
pub struct TestTls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub ca_pem: String,
}

impl TestTls {
    pub fn new() -> TestTls {
        let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .unwrap();
        let cert = ck.cert.der().clone();
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(ck.signing_key.serialize_der()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(
            rustls::crypto::ring::default_provider().into(),
        )
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
        TestTls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            ca_pem: ck.cert.pem(),
        }
    }
}

impl TestServer {
    pub fn start(handler: impl Fn(&Arrival) -> Reply + Send + Sync + 'static) -> TestServer {
        TestServer::start_with(simple(handler), None)
    }

    /// Answers with the status, headers and body the handler gives, at once.
    pub fn start_full(
        handler: impl Fn(&Arrival) -> FullReply + Send + Sync + 'static,
    ) -> TestServer {
        TestServer::start_with(Arc::new(move |a: &Arrival| (Reply::ok(), handler(a))), None)
    }

    /// Answers with the status, headers and body the handler gives, after its delay.
    pub fn start_shaped(
        handler: impl Fn(&Arrival) -> (Duration, FullReply) + Send + Sync + 'static,
    ) -> TestServer {
        TestServer::start_with(
            Arc::new(move |a: &Arrival| {
                let (delay, full) = handler(a);
                (
                    Reply {
                        status: full.0,
                        delay,
                    },
                    full,
                )
            }),
            None,
        )
    }

    /// Serves HTTPS with `tls`.
    pub fn start_tls(
        tls: &TestTls,
        handler: impl Fn(&Arrival) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        TestServer::start_with(simple(handler), Some(tls.acceptor.clone()))
    }

    fn start_with(handler: Arc<Handler>, tls: Option<tokio_rustls::TlsAcceptor>) -> TestServer {
        let hits = Arc::new(AtomicU64::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let start = Instant::now();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (handler, counter, tls) =
                        (Arc::clone(&handler), Arc::clone(&counter), tls.clone());
                    tokio::spawn(async move {
                        let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                            let index = counter.fetch_add(1, Ordering::SeqCst);
                            let (reply, (status, headers, body)) = handler(&Arrival {
                                index,
                                since_start: start.elapsed(),
                                headers: req.headers(),
                                method: req.method(),
                                uri: req.uri(),
                            });
                            async move {
                                if !reply.delay.is_zero() {
                                    tokio::time::sleep(reply.delay).await;
                                }
                                let mut resp =
                                    Response::new(Full::new(Bytes::from_static(body.as_bytes())));
                                *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                                for (name, value) in headers {
                                    resp.headers_mut()
                                        .insert(name, http::HeaderValue::from_static(value));
                                }
                                Ok::<_, Infallible>(resp)
                            }
                        });
                        let http = hyper::server::conn::http1::Builder::new();
                        match tls {
                            Some(tls) => {
                                let Ok(stream) = tls.accept(stream).await else {
                                    return;
                                };
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                            None => {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    });
                }
            });
        });
        let addr = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        TestServer { addr, hits }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A handler that sets only the status and a delay.
fn simple(handler: impl Fn(&Arrival) -> Reply + Send + Sync + 'static) -> Arc<Handler> {
    Arc::new(move |a: &Arrival| {
        let reply = handler(a);
        let status = reply.status;
        (reply, (status, Vec::new(), r#"{"ok":true}"#))
    })
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_stampede")
}

/// How long a spawned stampede may run before it is killed and the test fails.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(60);

/// What a bounded run of the binary gave: its output, wall time and peak memory.
pub struct Run {
    pub output: Output,
    pub elapsed: Duration,
    /// The child's peak resident set size in bytes: its `VmHWM`, polled every 10 ms while it
    /// runs (so growth in its last 10 ms can be missed). Not `wait4`'s `ru_maxrss`: Linux
    /// carries the spawning process's high-water mark over exec into it, so a test binary's
    /// own few hundred MB would show up as the child's.
    pub max_rss: u64,
}

/// A `Command` for the stampede binary with `args`.
pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args);
    c
}

/// Runs stampede with `args`, bounded in time ([`DEFAULT_LIMIT`]).
pub fn stampede(args: &[&str]) -> Output {
    stampede_within(args, DEFAULT_LIMIT)
}

/// Runs stampede with `args`; killed (and the test failed) after `limit`.
pub fn stampede_within(args: &[&str], limit: Duration) -> Output {
    run_bounded(command(args), limit).output
}

/// Runs stampede with `args` and reports its wall time and max RSS as well.
pub fn stampede_timed(args: &[&str], limit: Duration) -> Run {
    run_bounded(command(args), limit)
}

/// Runs stampede with RLIMIT_NOFILE lowered to `nofile` (soft and hard) in the child.
pub fn stampede_nofile(args: &[&str], nofile: libc::rlim_t, limit: Duration) -> Run {
    use std::os::unix::process::CommandExt;
    let mut c = command(args);
    // SAFETY: setrlimit is async-signal-safe; the closure allocates nothing.
    unsafe {
        c.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: nofile,
                rlim_max: nofile,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    run_bounded(c, limit)
}

/// A pipe being read on a thread, into a buffer the caller can look at meanwhile.
type Drained = (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>);

/// Reads a pipe to its end on a thread.
fn drain(mut pipe: impl std::io::Read + Send + 'static) -> Drained {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&buf);
    let handle = std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => into.lock().unwrap().extend_from_slice(&chunk[..n]),
            }
        }
    });
    (buf, handle)
}

/// Every spawn of the binary goes through here: stdout and stderr are read on threads (a
/// chatty child cannot block on a full pipe), the child is waited for (its peak RSS
/// polled meanwhile) until `limit`, then killed with SIGKILL and the test fails, naming the
/// args and showing the stderr captured so far.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Run {
    let what = describe(&cmd);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    wait_bounded(child, &what, limit)
}

/// The program and its args, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

/// Waits for a child spawned elsewhere (tests that signal it), as [`run_bounded`] does:
/// its piped stdout/stderr (if any) are read on threads, it is killed after `limit`
/// (counted from this call) and the test fails.
pub fn wait_bounded(mut child: Child, what: &str, limit: Duration) -> Run {
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    wait_drained(child, what, limit, out, err)
}

/// [`wait_bounded`], the child's pipes already being read.
fn wait_drained(
    mut child: Child,
    what: &str,
    limit: Duration,
    out: Option<Drained>,
    err: Option<Drained>,
) -> Run {
    let start = Instant::now();
    let pid = child.id() as libc::pid_t;
    let status_file = format!("/proc/{pid}/status");
    let mut status: libc::c_int = 0;
    let mut max_rss = 0;
    loop {
        if let Some(hwm) = vm_hwm(&status_file) {
            max_rss = max_rss.max(hwm);
        }
        // SAFETY: pid is our child, not yet reaped; the pointer is valid.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            panic!("waitpid on `{what}`: {e}");
        }
        if start.elapsed() > limit {
            let _ = child.kill(); // SIGKILL
                                  // SAFETY: as above; blocks until the killed child is reaped.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            let so_far = err.as_ref().map_or_else(String::new, |(b, _)| {
                String::from_utf8_lossy(&b.lock().unwrap()).into_owned()
            });
            panic!(
                "`{what}` still running after {limit:?}: killed.\n--- stderr so far ---\n{so_far}"
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = start.elapsed();
    // The child is gone, so its ends of the pipes are closed and the readers finish.
    let collect = |pipe: Option<Drained>| {
        pipe.map_or_else(Vec::new, |(buf, thread)| {
            thread.join().unwrap();
            std::mem::take(&mut *buf.lock().unwrap())
        })
    };
    use std::os::unix::process::ExitStatusExt;
    Run {
        output: Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: collect(out),
            stderr: collect(err),
        },
        elapsed,
        max_rss,
    }
}

/// A child whose stdout and stderr are read from its start, so a test can wait for what it
/// observes (a line on stderr, a request at its server) before it signals the child —
/// never for a fixed time, which a loaded machine overruns.
pub struct Watched {
    child: Child,
    what: String,
    out: Option<Drained>,
    err: Option<Drained>,
}

/// Spawns `cmd` (stdin closed, stdout and stderr piped and read on threads).
pub fn spawn_watched(mut cmd: Command) -> Watched {
    let what = describe(&cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    Watched {
        child,
        what,
        out,
        err,
    }
}

impl Watched {
    /// Its stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.err.as_ref().map_or_else(String::new, |(b, _)| {
            String::from_utf8_lossy(&b.lock().unwrap()).into_owned()
        })
    }

    /// Whether it has exited (not reaped: [`Watched::finish`] still collects it).
    fn exited(&self) -> bool {
        // SAFETY: a zeroed siginfo_t is valid; waitid only writes it. WNOWAIT leaves the
        // child to be reaped by finish.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let r = libc::waitid(
                libc::P_PID,
                self.child.id() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            );
            r == 0 && info.si_pid() != 0
        }
    }

    /// Waits until `event` holds (polled every 10 ms). The test fails — the child killed,
    /// its stderr shown — if the child exits first or `limit` passes: a generous limit,
    /// as it only bounds a test that is failing anyway.
    pub fn wait_for(&mut self, what: &str, limit: Duration, mut event: impl FnMut() -> bool) {
        let start = Instant::now();
        while !event() {
            let gone = self.exited();
            if gone || start.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "`{}`: {} before {what}\n--- stderr so far ---\n{}",
                    self.what,
                    if gone {
                        "exited"
                    } else {
                        "still waiting after the limit"
                    },
                    self.stderr_so_far()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until its stderr contains `needle` (see [`Watched::wait_for`]).
    pub fn wait_for_stderr(&mut self, needle: &str, limit: Duration) {
        let err = self.err.as_ref().map(|(b, _)| Arc::clone(b));
        self.wait_for(&format!("saying `{needle}`"), limit, || {
            err.as_ref()
                .is_some_and(|b| String::from_utf8_lossy(&b.lock().unwrap()).contains(needle))
        });
    }

    /// Sends it `signal`.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: signalling our own child, not yet reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
    }

    /// Waits for it to end, as [`wait_bounded`] does (killed and the test failed after
    /// `limit`), and returns its whole output.
    pub fn finish(self, limit: Duration) -> Run {
        wait_drained(self.child, &self.what, limit, self.out, self.err)
    }
}

/// `VmHWM` (peak RSS) of a running process, in bytes; `None` once it has exited.
fn vm_hwm(status_file: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status_file).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs stampede with `args` plus `--out DIR/NAME`, checks the exit code, and returns the
/// results file and the process output.
pub fn run_results(
    dir: &Path,
    name: &str,
    args: &[&str],
    code: i32,
) -> (serde_json::Value, Output) {
    let out = dir.join(name);
    let mut all = args.to_vec();
    all.extend(["--out", out.to_str().unwrap()]);
    let o = stampede(&all);
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    (read_json(&out), o)
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("results file written"))
        .expect("results are JSON")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// stampede with an AWS chain that sees only what the test gives it: no machine
/// profiles, no instance or container metadata (which would mean traffic off loopback).
/// `dir` holds the (empty unless written) config and credentials files.
pub fn stampede_aws(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run_bounded(aws_command(dir, args, env), DEFAULT_LIMIT).output
}

/// The command [`stampede_aws`] runs, to start it in the background.
pub fn aws_command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = command(args);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ] {
        command.env_remove(name);
    }
    for file in ["aws-config", "aws-credentials"] {
        if !dir.join(file).exists() {
            std::fs::write(dir.join(file), "").unwrap();
        }
    }
    command
        .env("AWS_CONFIG_FILE", dir.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied());
    command
}

/// Dummy keys: the emulator and moto check no signatures.
pub const DUMMY_KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "AKIDSTAMPEDETEST"),
    ("AWS_SECRET_ACCESS_KEY", "dummy-secret-never-print-me"),
];

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The in-process emulator on a free loopback port.
pub fn start_emulator(
    config: stampede_emulator::EmulatorConfig,
) -> stampede_emulator::RunningEmulator {
    stampede_emulator::start(config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

/// An account with every limit set and small: the control-plane tests read it back.
pub fn small_account() -> stampede_emulator::EmulatorConfig {
    stampede_emulator::EmulatorConfig {
        account_concurrency: 100,
        reserved_concurrency: Some(50),
        provisioned_concurrency: Some(10),
        rate: 500.0,
        burst: 250,
        stage_rate: Some(400.0),
        stage_burst: Some(200),
        function: "orders-handler".into(),
        qualifier: "live".into(),
        rest_api_id: "abc123".into(),
        stage: "prod".into(),
        ..stampede_emulator::EmulatorConfig::default()
    }
}

/// moto's endpoint (`STAMPEDE_MOTO_ENDPOINT`; .ci/run and scripts/test start moto). Without
/// it `what` is skipped, said on stderr, unless `STAMPEDE_REQUIRE_MOTO=1`.
pub fn moto_endpoint(what: &str) -> Option<String> {
    match std::env::var("STAMPEDE_MOTO_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_string()),
        _ => {
            assert!(
                std::env::var("STAMPEDE_REQUIRE_MOTO").as_deref() != Ok("1"),
                "STAMPEDE_REQUIRE_MOTO=1 but STAMPEDE_MOTO_ENDPOINT is not set"
            );
            // Written past the test harness's capture, so a skip is seen.
            use std::io::Write as _;
            let _ = std::io::stderr().write_all(
                format!("\n*** {what} skipped: moto not running (see .ci/run); set STAMPEDE_MOTO_ENDPOINT ***\n").as_bytes(),
            );
            None
        }
    }
}

/// A program from the test tools' venv (`STAMPEDE_TOOLS`, else target/ci-venv/bin), which
/// scripts/test installs. Missing: skipped (said on stderr), unless `STAMPEDE_REQUIRE_TOOLS=1`.
pub fn tool(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("STAMPEDE_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin"));
    let path = dir.join(name);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("STAMPEDE_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "STAMPEDE_REQUIRE_TOOLS=1 but {} is missing",
        path.display()
    );
    use std::io::Write as _;
    let _ = std::io::stderr().write_all(
        format!(
            "\n*** {name} not found in {}; run scripts/test ***\n",
            dir.display()
        )
        .as_bytes(),
    );
    None
}
