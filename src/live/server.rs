//! The live side's HTTP server: `/metrics` (and the live page's routes) on a thread of its
//! own, so a scrape or a page never takes a lane's time. hyper serves; each request reads
//! the run's counters and state as they are at that instant.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::{exposition, Watched};
use crate::error::{Error, Result};

/// What a route answers with: a whole body or one that streams (server-sent events).
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// What one listener serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Routes {
    /// `GET /metrics`.
    pub metrics: bool,
    /// The live page: `/`, its events and (with `--live-control`) its abort.
    pub page: bool,
}

/// A listener serving `routes` of a watched run until stopped.
pub struct Server {
    pub addr: SocketAddr,
    pub routes: Routes,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Listens on `addr` now (before any traffic: a bad or busy address is exit 2, naming
    /// `flag`) and serves on a thread of its own.
    pub fn start(
        flag: &str,
        addr: SocketAddr,
        routes: Routes,
        watched: Arc<Watched>,
    ) -> Result<Server> {
        let listener = std::net::TcpListener::bind(addr).map_err(|e| {
            Error::input(format!(
                "{flag} {addr}: cannot listen there: {e}\n  expected: a free address and port of this machine, such as 127.0.0.1:9464"
            ))
        })?;
        let internal = |e: std::io::Error| Error::internal(format!("{flag}: {e}"));
        listener.set_nonblocking(true).map_err(internal)?;
        let addr = listener.local_addr().map_err(internal)?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("stampede-live".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    tracing::warn!("the live server could not start its runtime");
                    return;
                };
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = serve(listener, routes, watched) => {}
                        _ = stop_rx => {}
                    }
                });
            })
            .map_err(internal)?;
        Ok(Server {
            addr,
            routes,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, routes: Routes, watched: Arc<Watched>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let watched = Arc::clone(&watched);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let watched = Arc::clone(&watched);
                async move { Ok::<_, Infallible>(route(req, routes, &watched).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn route(req: Request<Incoming>, routes: Routes, watched: &Arc<Watched>) -> Response<Body> {
    if routes.metrics && req.uri().path() == "/metrics" {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "GET /metrics\n");
        }
        let text = exposition::render(&watched.families());
        return Response::builder()
            .header(header::CONTENT_TYPE, exposition::CONTENT_TYPE)
            .body(whole(text))
            .expect("a valid response");
    }
    if routes.page {
        if let Some(answer) =
            super::page::route(req.method(), req.uri().path(), req.headers(), watched)
        {
            return answer;
        }
    }
    plain(StatusCode::NOT_FOUND, "not found\n")
}

/// A whole body.
pub fn whole(text: impl Into<Bytes>) -> Body {
    Full::new(text.into()).boxed_unsync()
}

/// A plain-text answer with `status`.
pub fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(whole(text))
        .expect("a valid response")
}
