//! The servers the remote-write tests push to and run against (beside the real Prometheus
//! of `common::prometheus`): `stampede emulate`, and a loopback server recording each push.

use crate::common;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::write;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
