//! Test helpers: a real HTTP/1.1 server on loopback, and the stampede binary.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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

/// Runs stampede with `args`, bounded in time.
pub fn stampede(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("the stampede binary runs")
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
    let mut command = Command::new(bin());
    command.args(args);
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
        .envs(env.iter().copied())
        .output()
        .expect("the stampede binary runs")
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
    config: stampede::emulator::EmulatorConfig,
) -> stampede::emulator::RunningEmulator {
    stampede::emulator::start(config, "127.0.0.1:0".parse().unwrap()).unwrap()
}

/// An account with every limit set and small: the control-plane tests read it back.
pub fn small_account() -> stampede::emulator::EmulatorConfig {
    stampede::emulator::EmulatorConfig {
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
        ..stampede::emulator::EmulatorConfig::default()
    }
}
