//! `[target]`: its URL (or the in-process emulator's), method, headers, body, timeouts,
//! connection policy and auth, parsed and checked with their file:line:col; and the URL,
//! method and header readers the flags and `[[requests]]` share.

use std::path::Path;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};
use toml::Spanned;

use super::client;
use super::lambda::TARGET_KINDS;
use super::parse::{RawTarget, EMULATOR_PLACEHOLDER};
use super::{AuthSpec, Target};
use super::{BODY_MAX, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
use crate::error::Result;
use crate::located::{read_user_file, redact_userinfo, size_text, Source};

impl Target {
    /// A GET of `url` with the default timeouts; userinfo in it becomes Basic auth.
    pub fn from_url(url: Uri) -> Target {
        let (url, basic_auth) = super::userinfo::split(url);
        Target {
            url,
            basic_auth,
            method: Method::GET,
            headers: Vec::new(),
            body: Bytes::new(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            connections: super::ConnectionPolicy::KeepAlive,
            tls_resume: true,
            dns: super::Dns::default(),
            http: super::HttpVersion::Http1,
            max_streams: None,
            auth: AuthSpec::None,
            lambda: None,
            emulated: false,
        }
    }
}

impl Target {
    /// Scheme, host and path, as shown and stored: a password as `***`, no query string
    /// (it may carry keys). On the in-process emulator: `emulator:` and the path.
    pub fn display_url(&self) -> String {
        let url = &self.url;
        if self.emulated {
            // What the user wrote, not the port the emulator happened to get: two runs of
            // one scenario on the emulator are one target.
            return format!("emulator:{}", url.path());
        }
        let user = self
            .basic_auth
            .as_ref()
            .map_or(String::new(), |b| format!("{}:***@", b.user));
        format!(
            "{}://{user}{}{}",
            url.scheme_str().unwrap_or("http"),
            url.authority().map_or("", |a| a.as_str()),
            url.path()
        )
    }
}

/// Whether `[target]` is a lambda target (`kind`, else "http").
pub(super) fn is_lambda(src: &Source, t: &Spanned<RawTarget>) -> Result<bool> {
    let raw = t.get_ref();
    let lambda = match &raw.kind {
        None => false,
        Some(k) if k.get_ref() == "http" => false,
        Some(k) if k.get_ref() == "lambda" => true,
        Some(k) => return Err(src.unknown(k.span(), "target kind", k.get_ref(), &TARGET_KINDS)),
    };
    if !lambda {
        let lambda_only = [
            ("function", raw.function.as_ref().map(|v| v.span())),
            ("qualifier", raw.qualifier.as_ref().map(|v| v.span())),
            ("payload", raw.payload.as_ref().map(|v| v.span())),
            ("payload_file", raw.payload_file.as_ref().map(|v| v.span())),
            ("invocation", raw.invocation.as_ref().map(|v| v.span())),
            ("log_tail", raw.log_tail.as_ref().map(|v| v.span())),
            ("region", raw.region.as_ref().map(|v| v.span())),
        ];
        if let Some((key, Some(span))) = lambda_only.into_iter().find(|(_, s)| s.is_some()) {
            return Err(src.error(
                span,
                &format!("`{key}` is a key of a lambda target"),
                "kind = \"lambda\" in [target], or no such key for a URL",
            ));
        }
    }
    Ok(lambda)
}

/// `[aws]` for the quota check: a lambda target's function, qualifier and region unless
/// `[aws]` names others. `--url` with a lambda target is a stand-in for AWS (the emulator,
/// LocalStack): the quota and CloudWatch calls go there too unless `[aws] endpoint_url`
/// says otherwise.
pub(super) fn target(
    src: &Source,
    t: &Spanned<RawTarget>,
    url_override: Option<&Uri>,
    in_process: bool,
    first_origin: Option<&Uri>,
) -> Result<Target> {
    let raw = t.get_ref();
    let url = match (url_override, &raw.url) {
        (Some(u), _) => u.clone(),
        (None, Some(u)) if in_process && u.get_ref().starts_with('/') => {
            let full = format!("http://127.0.0.1{}", u.get_ref());
            parse_url(&full)
                .map_err(|why| src.error(u.span(), &why, "a path such as \"/orders\""))?
        }
        (None, None) if in_process => Uri::from_static(EMULATOR_PLACEHOLDER),
        (None, None) if first_origin.is_some() => first_origin.expect("checked").clone(),
        (None, Some(u)) => parse_url(u.get_ref())
            .map_err(|why| src.error(u.span(), &why, "an absolute http:// or https:// URL"))?,
        (None, None) => {
            return Err(src.error(
                t.span(),
                "[target] has no url",
                "url = \"https://…\" (or pass --url)",
            ))
        }
    };
    let mut target = Target::from_url(url);
    if let Some(m) = &raw.method {
        target.method = parse_method(m.get_ref())
            .map_err(|why| src.error(m.span(), &why, "an HTTP method such as GET, POST, PUT"))?;
    }
    for (name, value) in &raw.headers {
        let header = parse_header(name.get_ref(), value.get_ref());
        let header = header.map_err(|why| src.error(name.span(), &why, HEADER_EXPECTED))?;
        if target.basic_auth.is_some() && header.0 == http::header::AUTHORIZATION {
            return Err(src.error(
                name.span(),
                "the URL's user:password@ and this header would both set Authorization",
                "one of them",
            ));
        }
        target.headers.push(header);
    }
    match (&raw.body, &raw.body_file) {
        (Some(_), Some(f)) => {
            return Err(src.error(f.span(), "both body and body_file are set", "one of them"))
        }
        (Some(b), None) => target.body = Bytes::from(b.get_ref().clone()),
        (None, Some(f)) => {
            let dir = src.name.parent().unwrap_or(Path::new("."));
            let path = dir.join(f.get_ref());
            let data = read_user_file(&path, BODY_MAX).map_err(|why| {
                src.error(
                    f.span(),
                    &format!("cannot read body_file {}: {why}", path.display()),
                    &format!(
                        "a regular file of at most {}, relative to the scenario file",
                        size_text(BODY_MAX)
                    ),
                )
            })?;
            target.body = Bytes::from(data);
        }
        (None, None) => {}
    }
    if let Some(v) = &raw.timeout {
        target.timeout = src.duration(v, "timeout")?;
    }
    if let Some(a) = &raw.auth {
        target.auth = client::auth(src, a)?;
        if target.basic_auth.is_some() && target.auth.sets_authorization() {
            return Err(src.error(
                a.span(),
                "the URL's user:password@ and [target.auth] would both set Authorization",
                "one of them: a URL without user:password@, or no [target.auth]",
            ));
        }
    }
    if let Some(v) = &raw.connect_timeout {
        target.connect_timeout = src.duration(v, "connect_timeout")?;
    }
    Ok(target)
}

/// Parses and checks a target URL; the error says what is wrong with it.
pub fn parse_url(given: &str) -> std::result::Result<Uri, String> {
    // Messages quote the URL without its password.
    let text = &redact_userinfo(given);
    let url: Uri = given
        .parse()
        .map_err(|e| format!("bad URL `{text}`: {e}"))?;
    match url.scheme_str() {
        Some("http") | Some("https") => {}
        Some(other) => return Err(format!("bad URL `{text}`: unsupported scheme `{other}`")),
        None => return Err(format!("bad URL `{text}`: no scheme")),
    }
    if url.host().is_none_or(str::is_empty) {
        return Err(format!("bad URL `{text}`: no host"));
    }
    Ok(url)
}

pub fn parse_method(text: &str) -> std::result::Result<Method, String> {
    let upper = text.to_ascii_uppercase();
    Method::from_bytes(upper.as_bytes())
        .ok()
        .filter(|_| !upper.is_empty() && upper.bytes().all(|b| b.is_ascii_alphabetic()))
        .ok_or_else(|| format!("bad method `{text}`"))
}

/// What a header given by the user must be.
pub const HEADER_EXPECTED: &str = "a header name and a printable value, other than \
    Content-Length, Transfer-Encoding, Connection, Keep-Alive, TE, Upgrade and \
    Proxy-Connection (stampede sends those itself)";

pub fn parse_header(
    name: &str,
    value: &str,
) -> std::result::Result<(HeaderName, HeaderValue), String> {
    let n = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("bad header name `{name}`"))?;
    let v = HeaderValue::from_str(value.trim())
        .map_err(|_| format!("bad value for header `{name}`"))?;
    if let Some(why) = managed_header(&n) {
        return Err(format!("`{n}` cannot be set: {why}"));
    }
    Ok((n, v))
}

/// Why a header is stampede's own to send, if it is: a user's value would frame the body
/// wrongly (a `Content-Length` that is not the body's length left every attempt waiting
/// for bytes that never came, blamed on the endpoint; a `Transfer-Encoding: chunked` sent
/// an unchunked body), or would take over the connection stampede keeps alive and reuses
/// (the hop-by-hop headers of RFC 9110 §7.6.1, which HTTP/2 forbids outright).
fn managed_header(name: &HeaderName) -> Option<&'static str> {
    use http::header::{CONNECTION, CONTENT_LENGTH, TE, TRANSFER_ENCODING, UPGRADE};
    if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
        Some("stampede frames the body itself (its length is sent as Content-Length)")
    } else if name == CONNECTION || name == "keep-alive" {
        Some(
            "stampede manages its connections itself (for a new connection per request, \
             `Connection: close`: [target] connections = \"per-request\" or --no-keepalive)",
        )
    } else if name == TE || name == UPGRADE || name == "proxy-connection" {
        Some("stampede manages its connections itself (HTTP/1.1 keep-alive)")
    } else {
        None
    }
}
