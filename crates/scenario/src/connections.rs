//! `[target] connections` and `tls_resume`: whether the load path keeps connections alive
//! and reuses them, opens a new one (TCP, and TLS for `https`) for every attempt, as a
//! short-lived client does, or one for each flow, as a user arriving does; and whether a
//! new TLS connection may resume an earlier session.

use toml::Spanned;

use super::Target;
use crate::error::Result;
use crate::located::Source;

/// The names `connections` takes, in the order the docs give them.
pub const CONNECTION_POLICIES: [&str; 3] = ["keep-alive", "per-request", "per-flow"];

/// How the load path uses connections. One value, read by the lane's connection pool and
/// the transport; nothing else asks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConnectionPolicy {
    /// Long-lived connections, each carrying request after request.
    #[default]
    KeepAlive,
    /// A new connection for each attempt (retries too), closed after its answer.
    PerRequest,
    /// A new connection for each flow (a new client arriving), kept for its steps and its
    /// retries, closed after its last step. Only with `[[flows]]`.
    PerFlow,
}

impl ConnectionPolicy {
    pub fn parse(text: &str) -> Option<ConnectionPolicy> {
        match text {
            "keep-alive" => Some(ConnectionPolicy::KeepAlive),
            "per-request" => Some(ConnectionPolicy::PerRequest),
            "per-flow" => Some(ConnectionPolicy::PerFlow),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ConnectionPolicy::KeepAlive => CONNECTION_POLICIES[0],
            ConnectionPolicy::PerRequest => CONNECTION_POLICIES[1],
            ConnectionPolicy::PerFlow => CONNECTION_POLICIES[2],
        }
    }

    /// Whether each unit of work (a request, or a flow) opens its own connection rather
    /// than taking one from the lane's pool.
    pub fn opens_own(self) -> bool {
        self != ConnectionPolicy::KeepAlive
    }
}

/// The names `http` takes, in the order the docs give them.
pub const HTTP_VERSIONS: [&str; 2] = ["1.1", "2"];

/// Which HTTP the load path speaks. Read by the transport (how a connection is opened and
/// a request sent) and the lane's pool (a connection, or a stream on a shared one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1, one request at a time per connection (the lean client).
    #[default]
    Http1,
    /// HTTP/2: over TLS negotiated with ALPN `h2`, over `http://` with prior knowledge
    /// (h2c); many requests multiplexed on each connection.
    Http2,
}

impl HttpVersion {
    pub fn parse(text: &str) -> Option<HttpVersion> {
        match text {
            "1.1" => Some(HttpVersion::Http1),
            "2" => Some(HttpVersion::Http2),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HttpVersion::Http1 => HTTP_VERSIONS[0],
            HttpVersion::Http2 => HTTP_VERSIONS[1],
        }
    }
}

/// Sets `http` and `max_streams` from `[target]`, as given. `max_streams` without
/// `http = "2"` is refused: it would silently do nothing.
pub(super) fn apply_http(
    src: &Source,
    http: Option<&Spanned<String>>,
    max_streams: Option<&Spanned<i64>>,
    target: &mut Target,
) -> Result<()> {
    if let Some(h) = http {
        target.http = HttpVersion::parse(h.get_ref())
            .ok_or_else(|| src.unknown(h.span(), "http version", h.get_ref(), &HTTP_VERSIONS))?;
    }
    if let Some(m) = max_streams {
        let n = *m.get_ref();
        if !(1..=i64::from(u32::MAX)).contains(&n) {
            return Err(src.error(
                m.span(),
                &format!("max_streams = {n}: not a number of streams"),
                "a whole number of 1 or more (or no max_streams: the server's own limit)",
            ));
        }
        if target.http != HttpVersion::Http2 {
            return Err(src.error(
                m.span(),
                "max_streams is a limit on HTTP/2 streams per connection",
                "http = \"2\" in [target] (or --http2), or no max_streams",
            ));
        }
        target.max_streams = Some(n as u32);
    }
    Ok(())
}

/// Sets the target's connection keys from `[target]`, as given. `has_flows`: the
/// scenario has `[[flows]]`, without which a connection per flow means nothing.
pub(super) fn apply(
    src: &Source,
    connections: Option<&Spanned<String>>,
    tls_resume: Option<&Spanned<bool>>,
    has_flows: bool,
    target: &mut Target,
) -> Result<()> {
    if let Some(c) = connections {
        target.connections = ConnectionPolicy::parse(c.get_ref()).ok_or_else(|| {
            src.unknown(c.span(), "connections", c.get_ref(), &CONNECTION_POLICIES)
        })?;
        if target.connections == ConnectionPolicy::PerFlow && !has_flows {
            return Err(src.error(
                c.span(),
                "connections = \"per-flow\" with no [[flows]]",
                "[[flows]] whose steps share each flow's connection, or connections = \"per-request\" for a new connection per request",
            ));
        }
    }
    if let Some(r) = tls_resume {
        target.tls_resume = *r.get_ref();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_name_parses_back_to_itself() {
        for name in CONNECTION_POLICIES {
            assert_eq!(ConnectionPolicy::parse(name).map(|p| p.name()), Some(name));
        }
        assert_eq!(ConnectionPolicy::parse("keepalive"), None);
        assert_eq!(ConnectionPolicy::default(), ConnectionPolicy::KeepAlive);
    }

    #[test]
    fn every_http_version_parses_back_to_itself() {
        for name in HTTP_VERSIONS {
            assert_eq!(HttpVersion::parse(name).map(|v| v.name()), Some(name));
        }
        assert_eq!(HttpVersion::parse("3"), None);
        assert_eq!(HttpVersion::parse("h2"), None);
        assert_eq!(HttpVersion::default(), HttpVersion::Http1);
    }
}
