//! How one attempt is sent: HTTP/1.1 keep-alive connections with our own lean client
//! ([`h1`]: the head serialised once, the answer parsed inline by the sending task), TLS
//! with rustls; or HTTP/2 with the `h2` crate ([`h2`]: a stream slot on a shared session).
//!
//! Each engine lane owns its connections; no HTTP/1.1 connection has a task of its own (an
//! HTTP/2 session's driver is a task of the lane's runtime).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, HOST, USER_AGENT};
use http::{HeaderMap, Method, Uri};

mod answer;
pub mod auth;
mod connection;
mod entry;
pub mod h1;
pub mod h2;
pub mod invoke_stream;
pub mod open_files;
mod resolve;
pub mod timing;
mod tls;

use crate::classify::LocalReason;
use crate::scenario::{ConnectionPolicy, HttpVersion, Requests, Target};
pub use answer::error_chain;
use answer::failure_of;
pub use answer::{Answer, Failure, InvokeHeaders, EXCERPT_BYTES};
use auth::Auth;
pub use connection::Connection;
use entry::EntryRequest;
pub use entry::Rendered;
use h1::{ResponseReader, Stream};
pub use resolve::order::SKIP_FOR as ADDRESS_SKIP_FOR;
use stampede_mix::template::Context;
use stampede_mix::Rotation;
pub use tls::{insecure, tls_config, tls_config_with};

/// Where connections go: a host name or address, its port, and TLS for `https`.
#[derive(Clone)]
struct Address {
    /// As `lookup_host` takes it (an IPv6 address without brackets).
    host: String,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls::pki_types::ServerName<'static>,
    )>,
}

/// Sends the requests of the mix to the target; cheap to clone (one per lane). What is per
/// connection (the address, TLS, timeouts, auth) is here; what to send is the entry's.
#[derive(Clone)]
pub struct Transport {
    address: Address,
    /// The target URL's origin-form path, for the clock probe's `HEAD`.
    probe_path: String,
    /// `Host`, for the clock probe.
    host: HeaderValue,
    /// The requests of the mix, by entry.
    entries: Arc<[EntryRequest]>,
    /// Which entry logical request k sends (with one entry: always the first).
    rotation: Arc<Rotation>,
    /// `scheme://authority`, the URL of a rendered request before its target.
    origin: Arc<str>,
    /// One entry, literal: see [`Transport::is_fixed`].
    fixed: bool,
    auth: Auth,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Keep-alive, or a new connection per attempt: read by the lane's pool, and here to
    /// mark each new connection as carrying one request.
    pub connections: ConnectionPolicy,
    /// A Lambda Invoke target: its answers' function-error and log headers are read.
    invoke: bool,
    /// One with `invocation = "stream"`: its answers' event streams are read.
    invoke_stream: bool,
    /// The target's addresses, looked up every `dns_refresh` (not per connect), and which
    /// one each new connection takes; shared by every copy.
    resolver: resolve::Resolver,
    /// HTTP/2 (`http = "2"`), with its `max_streams`; `None`: HTTP/1.1.
    pub http2: Option<Http2>,
}

/// How HTTP/2 is spoken to the target.
#[derive(Clone, Copy, Debug)]
pub struct Http2 {
    /// Streams at once per session; `None`: the server's limit.
    pub max_streams: Option<u32>,
}

impl Transport {
    pub fn new(
        target: &Target,
        mix: &Requests,
        mut tls: rustls::ClientConfig,
        auth: Auth,
    ) -> Transport {
        let url = &target.url;
        let authority = url
            .authority()
            .expect("target URLs are validated to have a host");
        let https = url.scheme_str() == Some("https");
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let http2 = (target.http == HttpVersion::Http2).then_some(Http2 {
            max_streams: target.max_streams,
        });
        let tls = https.then(|| {
            // HTTP/2 offers HTTP/1.1 too, so that a server without h2 completes the
            // handshake (rather than a bare `no_application_protocol` alert) and is then
            // refused with the reason: the load would not be what the scenario asked for.
            tls.alpn_protocols = match http2 {
                Some(_) => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
                None => vec![b"http/1.1".to_vec()],
            };
            if !target.tls_resume {
                // Every handshake a full one, as clients that keep no session cache make.
                tls.resumption = rustls::client::Resumption::disabled();
            }
            let name = rustls::pki_types::ServerName::try_from(host.to_string())
                .expect("a URI's host is a valid server name");
            (tokio_rustls::TlsConnector::from(Arc::new(tls)), name)
        });
        let path = url.path_and_query().map_or("/", |p| p.as_str()).to_string();

        let mut headers = HeaderMap::new();
        // Port-less authority for default ports, as browsers and curl send it.
        let host_header =
            HeaderValue::from_str(authority.as_str()).expect("authority is a valid header");
        headers.insert(HOST, host_header.clone());
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
        // A fixed credential header is part of the fixed head.
        if let Auth::Header(name, value) = &auth {
            headers.insert(name.clone(), value.clone());
        }
        let per_request = target.connections == ConnectionPolicy::PerRequest;
        if per_request {
            // The server may close its end at once; we never send a second request on it
            // (RFC 9112 §9.6), and read the answer by its length, not to the close.
            headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        let origin = format!("{}://{}", url.scheme_str().unwrap_or("http"), authority);
        let entries: Vec<EntryRequest> = mix
            .entries
            .iter()
            .map(|e| EntryRequest::new(e, &headers, &origin))
            .collect();
        Transport {
            address: Address {
                host: host.to_string(),
                tls,
            },
            probe_path: path,
            host: host_header,
            fixed: entries.len() == 1 && entries[0].templates.is_none(),
            entries: entries.into(),
            rotation: Arc::new(mix.rotation.clone()),
            origin: origin.into(),
            auth,
            timeout: target.timeout,
            connect_timeout: target.connect_timeout,
            connections: target.connections,
            invoke: target.lambda.is_some(),
            invoke_stream: target
                .lambda
                .as_ref()
                .is_some_and(|l| l.invocation == stampede_lambda::Invocation::Stream),
            resolver: resolve::Resolver::new(host, port, &target.dns),
            http2,
        }
    }

    /// One literal request, the same for every k (a scenario without `[[requests]]`): the
    /// engine then asks nothing else of the mix.
    #[inline]
    pub fn is_fixed(&self) -> bool {
        self.fixed
    }

    /// The entry of the mix logical request `k` sends.
    #[inline]
    pub fn entry_of(&self, k: u64) -> usize {
        self.rotation.entry(k)
    }

    /// Whether `entry` is rendered per logical request ([`Transport::render`]).
    #[inline]
    pub fn is_templated(&self, entry: usize) -> bool {
        self.entries[entry].templates.is_some()
    }

    /// Renders `entry` for one logical request (its every attempt sends `out`).
    pub fn render(&self, entry: usize, ctx: &Context, out: &mut Rendered) {
        self.entries[entry].render(ctx, out);
    }

    /// Entry `entry`'s request may be sent twice with no other effect than once (RFC 9110
    /// §9.2.2): its method is idempotent.
    pub fn idempotent(&self, entry: usize) -> bool {
        self.entries[entry].idempotent
    }

    /// What each address of the target served, by `ip:port`, over every copy of this
    /// transport: read once their connections are closed.
    pub fn addresses_served(
        &self,
    ) -> std::collections::BTreeMap<String, stampede_results::AddressServed> {
        self.resolver.served()
    }

    /// Opens a connection (TCP, then TLS for `https`) within the connect timeout.
    pub async fn connect(&self) -> Result<Connection, Failure> {
        tokio::time::timeout(self.connect_timeout, self.open())
            .await
            .map_err(|_| Failure::Connect("connect timed out".into()))?
    }

    async fn open(&self) -> Result<Connection, Failure> {
        let Address { host, tls, .. } = &self.address;
        let started = std::time::Instant::now();
        let deadline = started + self.connect_timeout;
        let (addresses, looked_up) = self
            .resolver
            .addresses()
            .await
            .map_err(|e| Failure::Connect(format!("resolving {host}: {e}")))?;
        let resolved = std::time::Instant::now();
        // The next address in turn; one that refuses is passed over for a while.
        let (tcp, served) = self
            .resolver
            .connect(&addresses, deadline)
            .await
            .map_err(|e| Failure::of(&e))?;
        tcp.set_nodelay(true).map_err(|e| Failure::of(&e))?;
        let connected = std::time::Instant::now();
        let (dns, connect) = (looked_up.then(|| resolved - started), connected - resolved);
        if let Some(http2) = self.http2 {
            return self
                .open_h2(tcp, http2, (dns, connect, connected), served)
                .await;
        }
        let stream = match tls {
            None => Stream::Plain(tcp),
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| Failure::of(&e))?;
                Stream::Tls(Box::new(tls))
            }
        };
        let mut h1 = h1::Connection::new(stream);
        h1.opened(timing::ConnectTimes::new(
            dns,
            connect,
            tls.is_some().then(|| connected.elapsed()),
        ));
        h1.serving(served);
        let mut conn = Connection::H1(h1);
        if self.connections == ConnectionPolicy::PerRequest {
            conn.carry_one_request();
        }
        Ok(conn)
    }

    /// A `HEAD` of the target's path with no headers but `Host`, for the server's `Date`
    /// (the clock probe): no body, no credentials, no side effects; any status will do.
    pub async fn head_date(&self, conn: &mut Connection) -> Result<Option<HeaderValue>, Failure> {
        let conn = match conn {
            Connection::H1(c) => c,
            Connection::H2(slot) => {
                let mut headers = HeaderMap::new();
                headers.insert(HOST, self.host.clone());
                let url: Uri = format!("{}{}", self.origin, self.probe_path)
                    .parse()
                    .map_err(|e| Failure::Protocol(format!("{e}")))?;
                let request = h2::request_of(&Method::HEAD, &url, headers, Bytes::new());
                let reader = ResponseReader::new(true, false, 0);
                let (answer, _) = slot.exchange(request, reader).await?;
                return Ok(answer.date);
            }
        };
        let mut head = format!("HEAD {} HTTP/1.1\r\n", self.probe_path).into_bytes();
        head.extend_from_slice(b"host: ");
        head.extend_from_slice(self.host.as_bytes());
        head.extend_from_slice(b"\r\n");
        head.extend_from_slice(b"\r\n");
        let reader = ResponseReader::new(true, false, 0);
        let (answer, _) = conn
            .exchange(&head, &[], reader)
            .await
            .map_err(failure_of)?;
        Ok(answer.date)
    }

    /// Sends entry `entry`'s request on `conn` — `rendered`, when the entry is templated —
    /// with `extra` headers (this attempt's ids), and reads the whole answer. The caller
    /// bounds it with the attempt timeout.
    pub async fn send<'h>(
        &self,
        conn: &mut Connection,
        entry: usize,
        rendered: Option<&Rendered>,
        extra: impl Iterator<Item = &'h (HeaderName, HeaderValue)> + Clone,
    ) -> Result<Answer, Failure> {
        let conn = match conn {
            Connection::H1(c) => c,
            // Boxed: the HTTP/1.1 path's future stays as small as it was.
            Connection::H2(slot) => {
                return Box::pin(self.send_h2(slot, entry, rendered, extra)).await;
            }
        };
        let request = &self.entries[entry];
        let mut out = std::mem::take(&mut conn.out);
        let mut extra = extra.peekable();
        let signed = matches!(self.auth, Auth::SigV4 { .. });
        let (head, body): (&[u8], &[u8]) = match rendered.filter(|_| request.templates.is_some()) {
            Some(r) => {
                if signed {
                    self.signed_rendered(&mut out, request, r, extra).await?;
                } else {
                    let fixed = &request.templates.as_ref().expect("templated").fixed_lines;
                    h1::head_rendered(
                        &mut out,
                        &request.method,
                        &r.target,
                        fixed,
                        &r.header_lines,
                        extra.map(|(n, v)| (n, v)),
                        r.body.len(),
                    );
                }
                (&out, &r.body)
            }
            None if signed || replaces_a_fixed_header(request, extra.clone()) => {
                self.signed_head(&mut out, request, extra).await?;
                (&out, &request.body)
            }
            None if extra.peek().is_none() => (request.template.whole(), &request.body),
            None => {
                request.template.with(&mut out, extra.map(|(n, v)| (n, v)));
                (&out, &request.body)
            }
        };
        let reader = self.reader_for(request);
        let exchanged = conn.exchange(head, body, reader).await;
        conn.out = out;
        let (head, excerpt) = exchanged.map_err(failure_of)?;
        Ok(self.answer_of(head, excerpt))
    }

    /// How `request`'s answer is read: an Invoke's headers, an Invoke stream's events,
    /// what its checks and captures keep.
    fn reader_for(&self, request: &EntryRequest) -> ResponseReader {
        let mut reader = ResponseReader::new(false, self.invoke, EXCERPT_BYTES);
        if self.invoke_stream {
            reader = reader.reading_invoke_stream();
        }
        if let Some(keep) = &request.keep {
            reader = reader.keeping(Arc::clone(keep));
        }
        reader
    }

    /// The answer an attempt returns, from what the reader read.
    fn answer_of(&self, head: h1::Head, excerpt: Vec<u8>) -> Answer {
        let invoke = self.invoke.then(|| {
            Box::new(InvokeHeaders {
                function_error: head.function_error,
                log_result: head.log_result,
                stream: head.stream,
            })
        });
        Answer {
            status: head.status,
            error_type: head.error_type,
            retry_after: head.retry_after,
            excerpt: Bytes::from(excerpt),
            invoke,
            kept: head.kept,
        }
    }

    /// The head of a request whose headers are not the template's: signed afresh for each
    /// attempt (the signature covers its time and its ids), or with a fixed header replaced.
    async fn signed_head<'h>(
        &self,
        out: &mut Vec<u8>,
        request: &EntryRequest,
        extra: impl Iterator<Item = &'h (HeaderName, HeaderValue)>,
    ) -> Result<(), Failure> {
        let mut headers = request.headers.clone();
        for (name, value) in extra {
            headers.insert(name.clone(), value.clone());
        }
        self.sign(&request.method, &request.url, &mut headers, &request.body)
            .await?;
        h1::head_of(
            out,
            &request.method,
            &request.path,
            &headers,
            request.body.len(),
        );
        Ok(())
    }

    /// A rendered request, signed for this attempt: its headers as a map, its URL whole.
    async fn signed_rendered<'h>(
        &self,
        out: &mut Vec<u8>,
        request: &EntryRequest,
        rendered: &Rendered,
        extra: impl Iterator<Item = &'h (HeaderName, HeaderValue)>,
    ) -> Result<(), Failure> {
        let mut headers = request.headers.clone();
        add_header_lines(&mut headers, &rendered.header_lines);
        for (name, value) in extra {
            headers.insert(name.clone(), value.clone());
        }
        let target = String::from_utf8_lossy(&rendered.target);
        let url: Uri = format!("{}{target}", self.origin).parse().map_err(|e| {
            Failure::Local(
                LocalReason::Credentials,
                format!("cannot sign {target}: {e}"),
            )
        })?;
        self.sign(&request.method, &url, &mut headers, &rendered.body)
            .await?;
        h1::head_of(out, &request.method, &target, &headers, rendered.body.len());
        Ok(())
    }

    async fn sign(
        &self,
        method: &Method,
        url: &Uri,
        headers: &mut HeaderMap,
        body: &[u8],
    ) -> Result<(), Failure> {
        let auth = self
            .auth
            .headers_for(method, url, headers, body, std::time::SystemTime::now())
            .await
            .map_err(|why| Failure::Local(LocalReason::Credentials, why))?;
        for (name, value) in auth {
            headers.insert(name, value);
        }
        Ok(())
    }
}

/// A rendering's `name: value\r\n` lines into a header map, each replacing a fixed one.
fn add_header_lines(headers: &mut HeaderMap, lines: &[u8]) {
    for line in lines.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = HeaderName::from_bytes(&line[..colon]);
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
        if let (Ok(n), Ok(v)) = (name, value) {
            headers.insert(n, v);
        }
    }
}

/// An id header with the name of a fixed header replaces it (as in a header map).
fn replaces_a_fixed_header<'h>(
    request: &EntryRequest,
    mut extra: impl Iterator<Item = &'h (HeaderName, HeaderValue)>,
) -> bool {
    extra.any(|(name, _)| request.headers.contains_key(name))
}
