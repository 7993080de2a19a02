//! The servers the remote-write tests push to and run against: a real Prometheus (its
//! remote-write receiver), `stampede emulate`, and a loopback server recording each push.

use crate::common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::write;
use serde_json::Value;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A blocking HTTP/1.0 GET on loopback: status and body.
pub fn get(addr: SocketAddr, path_and_query: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path_and_query} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Some((status, body))
}

/// Prometheus 2.x (Debian's, which scripts/test installs) with only its remote-write
/// receiver: no scrape targets, storage in a temporary directory. Killed when dropped.
pub struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// `None` (said on stderr) when prometheus is not installed, unless
    /// STAMPEDE_REQUIRE_TOOLS=1.
    pub fn start() -> Option<Prometheus> {
        let bin = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file());
        let Some(bin) = bin else {
            assert!(
                std::env::var("STAMPEDE_REQUIRE_TOOLS").as_deref() != Ok("1"),
                "STAMPEDE_REQUIRE_TOOLS=1 but prometheus is not installed"
            );
            let _ = std::io::stderr()
                .write_all(b"\n*** prometheus not installed: run scripts/test ***\n");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let config = write(
            dir.path(),
            "prometheus.yml",
            "global:\n  scrape_interval: 1m\n",
        );
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--web.enable-remote-write-receiver")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            child,
            addr,
            _dir: dir,
        };
        let start = Instant::now();
        while get(addr, "/-/ready").map(|r| r.0) != Some(200) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "prometheus not ready at {addr}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(prometheus)
    }

    pub fn write_url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    /// An instant query at now: each result's labels and value.
    pub fn query(&self, promql: &str) -> Vec<(Value, f64)> {
        let q = percent_encoding::utf8_percent_encode(promql, percent_encoding::NON_ALPHANUMERIC);
        let (status, body) = get(self.addr, &format!("/api/v1/query?query={q}")).unwrap();
        assert_eq!(status, 200, "{promql}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let value = r["value"][1].as_str().unwrap().parse().unwrap();
                (r["metric"].clone(), value)
            })
            .collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `stampede emulate` on a free loopback port, until dropped: a function URL whose one
/// unit of reserved concurrency throttles part of the load.
pub struct Emulator {
    child: common::Watched,
    pub url: String,
}

impl Emulator {
    pub fn start(dir: &Path) -> Emulator {
        let config = write(
            dir,
            "emulator.toml",
            "api = \"function-url\"\nreserved_concurrency = 1\nduration = \"25ms\"\n",
        );
        let listen = format!("127.0.0.1:{}", free_port());
        let mut child = common::spawn_watched(common::command(&[
            "emulate",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            &listen,
        ]));
        child.wait_for_stderr("Ctrl-C stops", Duration::from_secs(30));
        Emulator {
            child,
            url: format!("http://{listen}/"),
        }
    }

    pub fn stop(self) {
        self.child.signal(libc::SIGINT);
        self.child.finish(Duration::from_secs(30));
    }
}

/// One request as the recording server saw it.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

/// A loopback HTTP server recording every request, answering `status`.
pub struct Recorder {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Pushed>>>,
}

impl Recorder {
    pub fn start(status: u16) -> Recorder {
        use http_body_util::BodyExt;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = Arc::clone(&seen);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let into = Arc::clone(&into);
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(
                            move |req: hyper::Request<hyper::body::Incoming>| {
                                let into = Arc::clone(&into);
                                async move {
                                    let (parts, body) = req.into_parts();
                                    let body = body.collect().await?.to_bytes().to_vec();
                                    into.lock().unwrap().push(Pushed {
                                        headers: parts.headers,
                                        body,
                                    });
                                    let mut answer = hyper::Response::new(
                                        http_body_util::Full::new(bytes::Bytes::new()),
                                    );
                                    *answer.status_mut() =
                                        http::StatusCode::from_u16(status).unwrap();
                                    Ok::<_, hyper::Error>(answer)
                                }
                            },
                        );
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        Recorder { addr, seen }
    }

    pub fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    pub fn pushes(&self) -> Vec<Pushed> {
        self.seen.lock().unwrap().clone()
    }
}
