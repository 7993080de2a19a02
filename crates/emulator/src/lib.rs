//! A local API Gateway + Lambda emulator: throttles like AWS on the wire, so the demo, CI
//! and every test work without an AWS account. The data plane answers any path through API
//! Gateway (or a function URL), and the Lambda Invoke API its own (`lambda::invoke_api`,
//! and `lambda::stream_api` for InvokeWithResponseStream);
//! both take the one invocation path of [`lambda`]. The control plane answers the quota
//! APIs (`control`) and CloudWatch (`cloudwatch`, from `metrics`); the stats endpoint
//! `/__stampede/stats` says what the server did, so tests can compare it with what the
//! client saw.
//!
//! A crate of its own: it owns its settings ([`config`], a scenario's `[emulator]` table)
//! and its [`Stats`], and depends on no part of the stampede CLI — only on
//! `stampede-lambda` (names, ARNs, REPORT lines) and `stampede-located` (positioned errors).

pub mod answer_template;
pub mod answers;
pub mod api_gateway;
pub mod api_map;
pub mod cloudwatch;
pub mod config;
pub mod control;
pub mod control_routes;
pub mod lambda;
pub mod memory_model;
pub mod metrics;
pub mod stream_shape;
pub mod versions;
/// Routes as API Gateway writes them, and the one a request selects.
pub use stampede_routes as routes;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, RateLimiter};
use http_body_util::{Either, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use schemars::JsonSchema;
use serde::Serialize;

use answer_template::FunctionAnswer;
use answers::Answer;
use api_gateway::bucket_quota;
pub use config::{ApiMode, EmulatorConfig, HandlerTime};
use lambda::environments::LambdaStats;
pub use lambda::invoke_api::{self, RecordedRequest};
use lambda::Function;
use metrics::Metrics;

use stampede_located::{Error, Result};

pub const STATS_PATH: &str = "/__stampede/stats";

/// An answer's body: whole, or streamed in pieces (`stream`).
type AnswerBody = Either<Full<Bytes>, stream_shape::PacedBody>;

/// How long a connection may take to send a request's head, idle keep-alive time
/// included: a client that opens connections and sends nothing (or a byte at a time)
/// cannot hold them for ever. hyper's default, applied (it needs a timer to be).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What the emulator did, served at [`STATS_PATH`].
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, JsonSchema)]
pub struct Stats {
    pub requests: u64,
    pub ok: u64,
    pub throttled_api_gateway_account: u64,
    pub throttled_api_gateway_stage: u64,
    pub throttled_lambda_reserved: u64,
    pub throttled_lambda_account: u64,
    pub throttled_lambda_scaling: u64,
    pub integration_timeouts: u64,
    pub cold_starts: u64,
    pub environments_created: u64,
    pub environments_expired: u64,
    pub warm_environments: u64,
    pub peak_concurrency: u64,
    pub in_flight: u64,
    /// Invocations that ended in a function error (`error_rate`), whichever way they came.
    #[serde(default)]
    pub function_errors: u64,
    /// Lambda Invoke API requests (`POST /2015-03-31/functions/…/invocations`).
    #[serde(default)]
    pub invocations_direct: u64,
    /// The shortest and longest cold start taken, in ms (0 when none was).
    #[serde(default)]
    pub init_ms_min: f64,
    #[serde(default)]
    pub init_ms_max: f64,
    /// An API with routes: what each route and each function did (the totals above
    /// count them all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteStats>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionStats>,
    /// Refused by a route's own (method / route) throttle.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttled_api_gateway_route: u64,
    /// Requests no route selected (REST 403, HTTP API 404).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unmatched: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What one route did.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, JsonSchema)]
pub struct RouteStats {
    /// `METHOD /path`, as configured.
    pub route: String,
    pub function: String,
    pub requests: u64,
    pub ok: u64,
    /// Refused by the route's own throttle.
    pub throttled_route: u64,
    /// Refused by the account's or the stage's throttle.
    pub throttled_api_gateway: u64,
    /// Its function's invocations Lambda refused (any reason).
    pub throttled_lambda: u64,
    pub function_errors: u64,
    pub integration_timeouts: u64,
}

/// What one function did.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, JsonSchema)]
pub struct FunctionStats {
    pub name: String,
    pub invocations: u64,
    pub cold_starts: u64,
    pub peak_concurrency: u64,
    pub in_flight: u64,
    pub throttled_reserved: u64,
    pub throttled_account: u64,
    pub throttled_scaling: u64,
    pub function_errors: u64,
}

struct Emulator {
    config: EmulatorConfig,
    account_bucket: DefaultDirectRateLimiter,
    stage_bucket: Option<DefaultDirectRateLimiter>,
    /// The one function (every path, and the Invoke API's).
    function: Arc<Function>,
    /// An API with routes: each route's state, and the functions they invoke.
    routes: Vec<api_gateway::Route>,
    functions: Vec<Arc<Function>>,
    unmatched: AtomicU64,
    /// Invocations running across every function, and the most at once.
    account_busy: AtomicU64,
    account_peak: AtomicU64,
    /// What CloudWatch would have counted, per period.
    metrics: Mutex<Metrics>,
    rng: Mutex<fastrand::Rng>,
    requests: AtomicU64,
    ok: AtomicU64,
    throttled_account: AtomicU64,
    throttled_stage: AtomicU64,
    throttled_route: AtomicU64,
    timeouts: AtomicU64,
    request_ids: AtomicU64,
    function_errors: AtomicU64,
    invocations_direct: AtomicU64,
    /// The shortest and longest cold start taken.
    inits: Mutex<Option<(Duration, Duration)>>,
    /// The newest Invoke requests, as they came.
    invoke_requests: Mutex<VecDeque<RecordedRequest>>,
}

impl Emulator {
    fn new(config: EmulatorConfig) -> Emulator {
        let function = Arc::new(Function::new(
            config.clone(),
            FunctionAnswer::default(),
            None,
        ));
        let pool = Arc::new(AtomicU64::new(0));
        let pool_size = api_map::unreserved_pool(&config);
        let functions: Vec<Arc<Function>> = config
            .functions
            .iter()
            .map(|f| {
                let shared = f
                    .reserved_concurrency
                    .is_none()
                    .then(|| (Arc::clone(&pool), pool_size));
                let settings = api_map::function_settings(&config, f);
                Arc::new(Function::new(settings, f.answer.clone(), shared))
            })
            .collect();
        let routes = config.routes.iter().map(api_gateway::Route::new).collect();
        let rng = config
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        Emulator {
            account_bucket: RateLimiter::direct(bucket_quota(config.rate, config.burst)),
            stage_bucket: config
                .stage_rate
                .zip(config.stage_burst)
                .map(|(r, b)| RateLimiter::direct(bucket_quota(r, b))),
            function,
            routes,
            functions,
            unmatched: AtomicU64::new(0),
            account_busy: AtomicU64::new(0),
            account_peak: AtomicU64::new(0),
            metrics: Mutex::new(Metrics::new(&config)),
            rng: Mutex::new(rng),
            requests: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            throttled_account: AtomicU64::new(0),
            throttled_stage: AtomicU64::new(0),
            throttled_route: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            request_ids: AtomicU64::new(0),
            function_errors: AtomicU64::new(0),
            invocations_direct: AtomicU64::new(0),
            inits: Mutex::new(None),
            invoke_requests: Mutex::new(VecDeque::new()),
            config,
        }
    }

    fn stats(&self) -> Stats {
        let functions: Vec<FunctionStats> = self.functions.iter().map(|f| f.stats()).collect();
        let environments = self
            .function
            .environments
            .lock()
            .expect("environments lock");
        let mut l: LambdaStats = environments.stats;
        let mut in_flight = environments.busy;
        let mut warm = environments.warm_environments() as u64;
        for f in &self.functions {
            let e = f.environments.lock().expect("environments lock");
            let s = e.stats;
            l.invocations += s.invocations;
            l.cold_starts += s.cold_starts;
            l.environments_created += s.environments_created;
            l.environments_expired += s.environments_expired;
            l.throttled_reserved += s.throttled_reserved;
            l.throttled_account += s.throttled_account;
            l.throttled_scaling += s.throttled_scaling;
            in_flight += e.busy;
            warm += e.warm_environments() as u64;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let (init_min, init_max) = self
            .inits
            .lock()
            .expect("inits lock")
            .map_or((0.0, 0.0), |(lo, hi)| (ms(lo), ms(hi)));
        Stats {
            requests: self.requests.load(Relaxed),
            ok: self.ok.load(Relaxed),
            throttled_api_gateway_account: self.throttled_account.load(Relaxed),
            throttled_api_gateway_stage: self.throttled_stage.load(Relaxed),
            throttled_lambda_reserved: l.throttled_reserved,
            throttled_lambda_account: l.throttled_account,
            throttled_lambda_scaling: l.throttled_scaling,
            integration_timeouts: self.timeouts.load(Relaxed),
            cold_starts: l.cold_starts,
            environments_created: l.environments_created,
            environments_expired: l.environments_expired,
            warm_environments: warm,
            peak_concurrency: if self.routes.is_empty() {
                l.peak_concurrency
            } else {
                self.account_peak.load(Relaxed)
            },
            in_flight,
            function_errors: self.function_errors.load(Relaxed),
            invocations_direct: self.invocations_direct.load(Relaxed),
            init_ms_min: init_min,
            init_ms_max: init_max,
            routes: self
                .routes
                .iter()
                .map(|r| r.stats(&self.config.functions[r.config.function].name))
                .collect(),
            functions,
            throttled_api_gateway_route: self.throttled_route.load(Relaxed),
            unmatched: self.unmatched.load(Relaxed),
        }
    }

    /// A cold start of `d` was drawn: kept for the stats' range.
    fn took_cold_start(&self, d: Duration) {
        let mut inits = self.inits.lock().expect("inits lock");
        *inits = Some(inits.map_or((d, d), |(lo, hi)| (lo.min(d), hi.max(d))));
    }

    /// A random (version 4) UUID, for an answer's `{{uuid}}`.
    fn uuid(&self) -> String {
        let (a, b) = {
            let mut rng = self.rng.lock().expect("rng lock");
            (rng.u64(..), rng.u64(..))
        };
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            (a >> 32) as u32,
            (a >> 16) as u16,
            a as u16 & 0xfff,
            8 + (b >> 62),
            (b >> 48) as u16 & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Relaxed);
        let salt = self.rng.lock().expect("rng lock").u64(..);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (salt >> 32) as u32,
            (salt >> 16) as u16,
            (salt & 0xfff) as u16,
            (n >> 48) as u16 & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }

    /// A control-plane call: the quota APIs of Service Quotas, Lambda and API Gateway, and
    /// Lambda's calls on versions, aliases and provisioned concurrency.
    async fn control(&self, service: &str, req: Request<hyper::body::Incoming>) -> Answer {
        let method = req.method().to_string();
        let (path, query) = (
            req.uri().path().to_string(),
            req.uri().query().unwrap_or("").to_string(),
        );
        let target = req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let reply = match service {
            "servicequotas" => control::service_quotas(&self.config, &target, &body(req).await),
            "lambda" => {
                let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
                match versions::api::operation(&method, &parts) {
                    Some(operation) => {
                        let body = body(req).await;
                        self.lambda_versions(operation, &parts, &query, &body)
                    }
                    None => control::lambda(&self.config, &path),
                }
            }
            _ => control::api_gateway(&self.config, &path),
        };
        let mut headers = vec![answers::fixed("content-type", reply.content_type)];
        if let Some(t) = reply.error_type {
            headers.push(answers::fixed("x-amzn-ErrorType", t));
        }
        Answer {
            status: reply.status,
            headers,
            body: reply.body,
        }
    }

    /// A call on the versions of the function `parts[2]` names (a function of an API with
    /// routes, else the one function), its environments changed to match.
    fn lambda_versions(
        &self,
        operation: &str,
        parts: &[&str],
        query: &str,
        body: &[u8],
    ) -> control::Reply {
        let function = control_routes::routes_function(&self.config, parts[2])
            .map_or(&self.function, |i| &self.functions[i]);
        let now = (std::time::Instant::now(), SystemTime::now());
        function.change_versions(|v| {
            versions::api::answer(&function.config, v, operation, parts, query, body, now)
        })
    }

    /// CloudWatch (RPC v2 CBOR): GetMetricData from the emulator's own counts.
    async fn cloudwatch(&self, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let operation = cloudwatch::operation(req.uri().path())
            .unwrap_or("")
            .to_string();
        let body = body(req).await;
        let denied = self
            .config
            .deny
            .iter()
            .any(|d| *d == format!("cloudwatch:{operation}"));
        let reply = cloudwatch::answer(
            &self.metrics.lock().expect("metrics lock"),
            &operation,
            &body,
            denied,
            SystemTime::now(),
        );
        let mut resp = Response::new(Full::new(Bytes::from(reply.body)));
        *resp.status_mut() = hyper::StatusCode::from_u16(reply.status).expect("valid status");
        let headers = resp.headers_mut();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/cbor"),
        );
        headers.insert(
            "smithy-protocol",
            http::HeaderValue::from_static("rpc-v2-cbor"),
        );
        if let Some(code) = reply.query_error {
            if let Ok(v) = http::HeaderValue::from_str(&code) {
                headers.insert("x-amzn-query-error", v);
            }
        }
        resp
    }

    async fn handle(self: Arc<Self>, req: Request<hyper::body::Incoming>) -> Response<AnswerBody> {
        // Signed for `lambda`, but data plane: before the control plane's routing.
        if let Some(name) = invoke_api::route(req.method().as_str(), req.uri().path()) {
            let name = name.to_string();
            let id = self.request_id();
            let answer = self.invoke_api(req, &name, &id).await;
            return respond(answer, id, false, None);
        }
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let service = control::service_of(header("authorization"), header("x-amz-target"));
        if service == Some("monitoring") {
            return self.cloudwatch(req).await.map(Either::Left);
        }
        // The function's own answers stream, when it streams; the control plane's never.
        let mut data_plane = false;
        let id = self.request_id();
        let answer = if let Some(service) = service {
            self.control(service, req).await
        } else if req.uri().path() == STATS_PATH {
            Answer {
                status: 200,
                headers: vec![answers::JSON],
                body: serde_json::to_string(&self.stats()).expect("stats serialise"),
            }
        } else if self.routes.is_empty() {
            data_plane = true;
            self.through_api_gateway(None).await
        } else {
            data_plane = true;
            let (method, path) = (req.method().to_string(), req.uri().path().to_string());
            let body = body(req).await;
            self.through_routes(&method, &path, &body, &id).await
        };
        let stream = self
            .config
            .stream
            .filter(|_| data_plane && (200..300).contains(&answer.status));
        respond(answer, id, self.config.api == ApiMode::Http, stream)
    }
}

/// The answer on the wire, with its request id (also as `apigw-requestid` for an HTTP API),
/// its body whole or streamed in `stream`'s shape.
fn respond(
    answer: Answer,
    id: String,
    apigw: bool,
    stream: Option<stream_shape::StreamShape>,
) -> Response<AnswerBody> {
    let body = match &stream {
        Some(shape) => Either::Right(stream_shape::PacedBody::new(shape, answer.body.as_bytes())),
        None => Either::Left(Full::new(Bytes::from(answer.body))),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = hyper::StatusCode::from_u16(answer.status).expect("valid status");
    let headers = resp.headers_mut();
    for (name, value) in answer.headers {
        let Ok(name) = http::HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        let value = match value {
            Cow::Borrowed(v) => http::HeaderValue::from_static(v),
            Cow::Owned(v) => match http::HeaderValue::try_from(v) {
                Ok(v) => v,
                Err(_) => continue,
            },
        };
        headers.insert(name, value);
    }
    let id = http::HeaderValue::try_from(id).expect("hex id");
    if apigw {
        headers.insert("apigw-requestid", id.clone());
    }
    headers.insert("x-amzn-RequestId", id);
    resp
}

/// A request's whole body (empty when it cannot be read).
async fn body(req: Request<hyper::body::Incoming>) -> Bytes {
    use http_body_util::BodyExt;
    req.into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default()
}

/// An emulator serving on its own thread until dropped.
pub struct RunningEmulator {
    pub addr: SocketAddr,
    emulator: Arc<Emulator>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningEmulator {
    pub fn stats(&self) -> Stats {
        self.emulator.stats()
    }

    /// A handle that reads the stats from another thread (a metrics endpoint), for as long
    /// as it is kept.
    pub fn stats_reader(&self) -> StatsReader {
        StatsReader(Arc::clone(&self.emulator))
    }

    /// The newest Invoke API requests (up to 64), oldest first, as they came. Not served
    /// over HTTP: they hold the callers' `Authorization` headers.
    pub fn invoke_requests(&self) -> Vec<RecordedRequest> {
        let kept = self.emulator.invoke_requests.lock().expect("requests lock");
        kept.iter().cloned().collect()
    }
}

/// Reads a running emulator's [`Stats`] from anywhere ([`RunningEmulator::stats_reader`]).
#[derive(Clone)]
pub struct StatsReader(Arc<Emulator>);

impl StatsReader {
    pub fn stats(&self) -> Stats {
        self.0.stats()
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the emulator on `addr` (port 0 picks a free one) on a thread of its own.
pub fn start(config: EmulatorConfig, addr: SocketAddr) -> Result<RunningEmulator> {
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| Error::input(format!("emulator: cannot listen on {addr}: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::internal(format!("emulator: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::internal(format!("emulator: {e}")))?;
    let emulator = Arc::new(Emulator::new(config));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let serving = Arc::clone(&emulator);
    let thread = std::thread::Builder::new()
        .name("stampede-emulator".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the emulator");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                tokio::select! {
                    _ = serve(listener, serving, HEADER_READ_TIMEOUT) => {}
                    _ = stop_rx => {}
                }
            });
        })
        .map_err(|e| Error::internal(format!("emulator: cannot start its thread: {e}")))?;
    Ok(RunningEmulator {
        addr,
        emulator,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

async fn serve(
    listener: tokio::net::TcpListener,
    emulator: Arc<Emulator>,
    header_read_timeout: Duration,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors, most likely: let some connections close.
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let emulator = Arc::clone(&emulator);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let emulator = Arc::clone(&emulator);
                async move { Ok::<_, std::convert::Infallible>(emulator.dispatch(req).await) }
            });
            // HTTP/1.1, or HTTP/2 when the client opens with its preface (h2c, as
            // `--http2` against an http:// URL does).
            let mut builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_read_timeout);
            builder.http2().timer(hyper_util::rt::TokioTimer::new());
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A connection that sends half a head and then nothing is closed after the header
    /// read timeout, not held open for ever.
    #[test]
    fn a_head_that_never_ends_is_cut_off() {
        use std::io::{Read, Write};
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let emulator = Arc::new(Emulator::new(EmulatorConfig::default()));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                serve(listener, emulator, Duration::from_millis(200)).await
            });
        });
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: em").unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 512];
        let closed = match s.read(&mut buf) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
        assert!(closed, "the emulator closed the connection");
        assert!(
            started.elapsed() < Duration::from_secs(9),
            "closed by the timeout, not by the read's own"
        );
    }
}
