//! One push on the wire: the body POSTed with remote write's headers, signed or with its
//! `Authorization`, over hyper-util's client and hyper-rustls (the crates the AWS SDKs'
//! client already links), and the answer judged as the protocol says.

use std::time::SystemTime;

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::transport::auth::Auth;

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for `tls` (Mozilla's roots and `--ca-cert`'s), HTTP/1.1, plain http too.
pub fn client(tls: rustls::ClientConfig) -> HttpClient {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(https)
}

/// Why a push failed, and whether its samples go again with the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub why: String,
    pub retry: bool,
}

/// Whether an answer's status means the push should be sent again: the protocol's advice
/// is to retry 5xx and 429, and never another 4xx (the receiver refused the data itself).
pub fn retried(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// The headers every push carries.
pub fn headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    headers.insert(
        "x-prometheus-remote-write-version",
        HeaderValue::from_static("0.1.0"),
    );
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("stampede/", env!("CARGO_PKG_VERSION"))),
    );
    headers
}

/// POSTs `body` to `uri`: Ok on a 2xx answer.
pub async fn push(
    client: &HttpClient,
    auth: &Auth,
    uri: &Uri,
    body: Vec<u8>,
) -> Result<(), Failure> {
    let headers = headers();
    let added = auth
        .headers_for(&Method::POST, uri, &headers, &body, SystemTime::now())
        .await
        .map_err(|why| Failure {
            why: format!("cannot sign the push: {why}"),
            retry: true,
        })?;
    let mut request = Request::post(uri.clone())
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| Failure {
            why: e.to_string(),
            retry: false,
        })?;
    request.headers_mut().extend(headers);
    for (name, value) in added {
        request.headers_mut().insert(name, value);
    }
    let answer = client.request(request).await.map_err(|e| Failure {
        why: crate::transport::error_chain(&e),
        retry: true,
    })?;
    let status = answer.status();
    // Read the answer to its end (the connection is kept), its first KiB for a message.
    let text = Limited::new(answer.into_body(), 1024)
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).trim().to_string())
        .unwrap_or_default();
    if status.is_success() {
        return Ok(());
    }
    let first_line = text.lines().next().unwrap_or("");
    let shown: String = first_line.chars().take(200).collect();
    Err(Failure {
        why: if shown.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {shown}")
        },
        retry: retried(status),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_hundreds_and_429_are_retried_other_4xx_are_not() {
        assert!(retried(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(retried(StatusCode::SERVICE_UNAVAILABLE));
        assert!(retried(StatusCode::TOO_MANY_REQUESTS));
        assert!(!retried(StatusCode::BAD_REQUEST));
        assert!(!retried(StatusCode::UNAUTHORIZED));
        assert!(!retried(StatusCode::FORBIDDEN));
    }

    #[test]
    fn every_push_says_its_encoding_type_and_protocol_version() {
        let h = headers();
        assert_eq!(h["content-encoding"], "snappy");
        assert_eq!(h["content-type"], "application/x-protobuf");
        assert_eq!(h["x-prometheus-remote-write-version"], "0.1.0");
        assert!(h["user-agent"].to_str().unwrap().starts_with("stampede/"));
    }
}
