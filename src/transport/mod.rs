//! How one attempt is sent: HTTP/1.1 keep-alive connections at the hyper level (measured:
//! the pooled high-level clients cost a third of the throughput), TLS with rustls.
//!
//! Each engine lane owns its connections; a connection's driver runs as a local task.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, HOST, USER_AGENT};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service;

pub mod auth;
pub mod open_files;
mod tls;

use crate::classify::{LocalReason, Outcome};
use crate::scenario::Target;
use auth::Auth;
pub use tls::{insecure, tls_config, tls_config_with};

/// One open HTTP/1.1 connection, ready for the next request when idle.
pub type Connection = SendRequest<Full<Bytes>>;

/// Sends the target request; cheap to clone (one per lane).
#[derive(Clone)]
pub struct Transport {
    connector: HttpsConnector<HttpConnector>,
    /// Scheme and authority, for connecting.
    authority_uri: Uri,
    method: Method,
    /// Origin-form request target (`/path?query`), as HTTP/1.1 sends it.
    path: Uri,
    headers: HeaderMap,
    body: Bytes,
    /// The whole URL, for signing.
    url: Uri,
    auth: Auth,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// A Lambda Invoke target: its answers' function-error and log headers are read.
    invoke: bool,
}

/// How much of a failed answer's body is kept, to classify it and show it.
pub const EXCERPT_BYTES: usize = 512;

/// What came back for one attempt.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub error_type: Option<HeaderValue>,
    pub retry_after: Option<HeaderValue>,
    /// The start of the body, for answers of 400 and above (and function errors).
    pub excerpt: Bytes,
    /// Invoke API only: `X-Amz-Function-Error` and `X-Amz-Log-Result`.
    pub invoke: Option<Box<InvokeHeaders>>,
}

/// What an Invoke answer says besides its status.
#[derive(Debug, Default)]
pub struct InvokeHeaders {
    /// `Unhandled` (or `Handled`): the function ran and failed.
    pub function_error: Option<HeaderValue>,
    /// The base64 tail of the invocation's log, with its REPORT line.
    pub log_result: Option<HeaderValue>,
}

impl Answer {
    pub fn outcome(&self) -> Outcome {
        let error_type = self.error_type.as_ref().and_then(|v| v.to_str().ok());
        match &self.invoke {
            Some(i) => Outcome::classify_invoke(
                self.status,
                error_type,
                i.function_error.is_some(),
                &self.excerpt,
            ),
            None => Outcome::classify(self.status, error_type, &self.excerpt),
        }
    }

    /// A function error's type: the payload's `errorType`, else the header's value.
    pub fn function_error_type(&self) -> Option<String> {
        let header = self.invoke.as_ref()?.function_error.as_ref()?;
        crate::invoke::report_line::error_type(&self.excerpt)
            .or_else(|| header.to_str().ok().map(str::to_string))
    }

    /// The REPORT line of the log tail, when there is one.
    pub fn report_line(&self) -> Option<crate::invoke::ReportLine> {
        let log = self.invoke.as_ref()?.log_result.as_ref()?;
        crate::invoke::ReportLine::from_log_result(log.as_bytes())
    }
}

/// Why an attempt got no (valid) answer.
#[derive(Debug)]
pub enum Failure {
    /// The network: refused, reset, unreachable, or the connect timed out.
    Connect(String),
    /// The TCP connection opened but the TLS handshake failed (certificate, protocol).
    Tls(String),
    Timeout,
    /// The answer was not valid HTTP: a malformed status line or header, a body cut short.
    Protocol(String),
    /// The client machine could not do its part (descriptors, ports, credentials).
    Local(LocalReason, String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Connect(why) => write!(f, "connect: {why}"),
            Failure::Tls(why) => write!(f, "TLS: {why}"),
            Failure::Timeout => f.write_str("no answer within the attempt timeout"),
            Failure::Protocol(why) => write!(f, "malformed answer: {why}"),
            Failure::Local(reason, why) => write!(f, "{}: {why}", reason.describe()),
        }
    }
}

impl Failure {
    pub fn outcome(&self) -> Outcome {
        match self {
            Failure::Timeout => Outcome::Timeout,
            Failure::Connect(_) => Outcome::ConnectError,
            Failure::Tls(_) => Outcome::TlsError,
            Failure::Protocol(_) => Outcome::ProtocolError,
            Failure::Local(reason, _) => Outcome::LocalError(*reason),
        }
    }

    /// Names a failure to connect or to exchange a request by what is in its chain of
    /// causes: an exhausted local resource, TLS, malformed HTTP, else the network.
    pub fn of(e: &(dyn std::error::Error + 'static)) -> Failure {
        let why = error_chain(e);
        let mut tls = false;
        let mut protocol = false;
        for err in causes(e) {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if let Some(reason) = io.raw_os_error().and_then(LocalReason::from_os_error) {
                    return Failure::Local(reason, why);
                }
                use std::io::ErrorKind::*;
                protocol |= matches!(io.kind(), UnexpectedEof | InvalidData | InvalidInput);
            }
            if let Some(h) = err.downcast_ref::<hyper::Error>() {
                protocol |= h.is_parse() || h.is_parse_status() || h.is_incomplete_message();
            }
            tls |= err.downcast_ref::<rustls::Error>().is_some();
        }
        if tls {
            Failure::Tls(why)
        } else if protocol {
            Failure::Protocol(why)
        } else {
            Failure::Connect(why)
        }
    }
}

impl Transport {
    pub fn new(target: &Target, tls: rustls::ClientConfig, auth: Auth) -> Transport {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(target.connect_timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);

        let url = &target.url;
        let authority = url
            .authority()
            .expect("target URLs are validated to have a host");
        let authority_uri = Uri::builder()
            .scheme(url.scheme_str().unwrap_or("http"))
            .authority(authority.clone())
            .path_and_query("/")
            .build()
            .expect("scheme and authority come from a valid URI");
        let path = url
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .expect("a path taken from a valid URI");

        let mut headers = HeaderMap::new();
        // Port-less authority for default ports, as browsers and curl send it.
        let host = HeaderValue::from_str(authority.as_str()).expect("authority is a valid header");
        headers.insert(HOST, host);
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("stampede/", env!("CARGO_PKG_VERSION"))),
        );
        if let Some(basic) = &target.basic_auth {
            headers.insert(http::header::AUTHORIZATION, basic.header.clone());
        }
        for (name, value) in &target.headers {
            headers.insert(name.clone(), value.clone());
        }
        Transport {
            connector,
            authority_uri,
            method: target.method.clone(),
            path,
            headers,
            body: target.body.clone(),
            url: target.url.clone(),
            auth,
            timeout: target.timeout,
            connect_timeout: target.connect_timeout,
            invoke: target.lambda.is_some(),
        }
    }

    /// Opens a connection and spawns its driver on the current `LocalSet`.
    pub async fn connect(&self) -> Result<Connection, Failure> {
        let mut connector = self.connector.clone();
        let io = tokio::time::timeout(
            self.connect_timeout,
            connector.call(self.authority_uri.clone()),
        )
        .await
        .map_err(|_| Failure::Connect("connect timed out".into()))?
        .map_err(|e| Failure::of(e.as_ref()))?;
        let (sender, conn) = http1::Builder::new()
            .handshake(io)
            .await
            .map_err(|e| Failure::of(&e))?;
        tokio::task::spawn_local(async move {
            // Ends when the server closes or the last sender is dropped.
            let _ = conn.await;
        });
        Ok(sender)
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.path.clone();
        *req.headers_mut() = self.headers.clone();
        req
    }

    /// A `HEAD` of the target's path with no headers but `Host`, for the server's `Date`
    /// (the clock probe): no body, no credentials, no side effects; any status will do.
    pub async fn head_date(&self, conn: &mut Connection) -> Result<Option<HeaderValue>, Failure> {
        conn.ready().await.map_err(|e| Failure::of(&e))?;
        let mut req = Request::new(Full::new(Bytes::new()));
        *req.method_mut() = Method::HEAD;
        *req.uri_mut() = self.path.clone();
        if let Some(host) = self.headers.get(http::header::HOST) {
            req.headers_mut().insert(http::header::HOST, host.clone());
        }
        let resp = conn.send_request(req).await.map_err(|e| Failure::of(&e))?;
        let date = resp.headers().get(http::header::DATE).cloned();
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            frame.map_err(|e| Failure::of(&e))?;
        }
        Ok(date)
    }

    /// Sends one request on `conn`, with `extra` headers (this attempt's ids), and reads
    /// the whole answer. The caller bounds it with the attempt timeout.
    pub async fn send(
        &self,
        conn: &mut Connection,
        extra: impl IntoIterator<Item = &(HeaderName, HeaderValue)>,
    ) -> Result<Answer, Failure> {
        conn.ready().await.map_err(|e| Failure::of(&e))?;
        let mut req = self.request();
        for (name, value) in extra {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        // Signed afresh for each attempt: the signature covers its time and its ids.
        let auth = self
            .auth
            .headers_for(
                &self.method,
                &self.url,
                req.headers(),
                &self.body,
                std::time::SystemTime::now(),
            )
            .await
            .map_err(|why| Failure::Local(LocalReason::Credentials, why))?;
        for (name, value) in auth {
            req.headers_mut().insert(name, value);
        }
        let resp = conn.send_request(req).await.map_err(|e| Failure::of(&e))?;
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).cloned();
        let (error_type, retry_after) = (header("x-amzn-errortype"), header("retry-after"));
        let invoke = self.invoke.then(|| {
            Box::new(InvokeHeaders {
                function_error: header("x-amz-function-error"),
                log_result: header("x-amz-log-result"),
            })
        });
        let failed = invoke.as_ref().is_some_and(|i| i.function_error.is_some());
        let keep = if status >= 400 || failed {
            EXCERPT_BYTES
        } else {
            0
        };
        let mut excerpt = Vec::new();
        let mut body = resp.into_body();
        // Read the body to its end so the connection can carry the next request.
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Failure::of(&e))?;
            if let Some(data) = frame.data_ref() {
                let room = keep - excerpt.len();
                excerpt.extend_from_slice(&data[..data.len().min(room)]);
            }
        }
        Ok(Answer {
            status,
            error_type,
            retry_after,
            excerpt: Bytes::from(excerpt),
            invoke,
        })
    }
}

/// An error and each of its causes. An io::Error's `source` skips the error it wraps
/// (hyper-rustls wraps tokio-rustls' io::Error, which wraps rustls'): look inside it too.
fn causes<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> Vec<&'e (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        out.push(err);
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            out.extend(causes(inner));
        }
        next = err.source();
    }
    out
}

/// An error and its causes on one line ("connection refused" is usually a cause).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The HTTPS client for AWS API calls (quotas, credentials from SSO or instance metadata):
/// rustls with ring and the system's trusted roots — the SDKs' default, without a second
/// crypto library beside the load path's.
pub fn aws_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
