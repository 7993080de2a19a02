//! One request on a slot: its HTTP/2 head built from the same header map HTTP/1.1 signs and
//! serialises, and its answer read as an HTTP/1.1 answer is.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, Uri};
use http::{Method, Request};

use super::Slot;
use crate::transport::h1::{Head, ResponseReader};
use crate::transport::Failure;

/// A request ready for a stream: method, URL (`:scheme`, `:authority`, `:path`), headers
/// and body.
pub struct Prepared {
    pub request: Request<()>,
    pub body: Bytes,
}

/// Headers HTTP/2 forbids (RFC 9113 §8.2.2): they speak of the connection, which HTTP/2
/// manages itself. `Host` becomes `:authority`.
const CONNECTION_SPECIFIC: [HeaderName; 5] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    HeaderName::from_static("proxy-connection"),
];

/// The HTTP/2 request for `method` on `url` with `headers` (as HTTP/1.1 would send them:
/// `Host` and all) and `body`. A `Host` other than the URL's authority (a virtual host
/// set in `[target.headers]`) is the `:authority`. Names are lowercase already
/// (`HeaderName` keeps them so).
pub fn request_of(method: &Method, url: &Uri, mut headers: HeaderMap, body: Bytes) -> Prepared {
    for name in &CONNECTION_SPECIFIC {
        headers.remove(name);
    }
    // `TE` only as `trailers` (RFC 9113 §8.2.2).
    if headers
        .get(header::TE)
        .is_some_and(|v| v.as_bytes() != b"trailers")
    {
        headers.remove(header::TE);
    }
    let mut url = url.clone();
    if let Some(host) = headers.remove(header::HOST) {
        let same = url
            .authority()
            .is_some_and(|a| a.as_str().as_bytes() == host.as_bytes());
        if !same {
            if let Ok(authority) = Authority::try_from(host.as_bytes()) {
                let mut parts = url.into_parts();
                parts.authority = Some(authority);
                url = Uri::from_parts(parts).unwrap_or_else(|_| Uri::from_static("/"));
            }
        }
    }
    if !body.is_empty() && !headers.contains_key(header::CONTENT_LENGTH) {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let mut request = Request::new(());
    *request.method_mut() = method.clone();
    *request.uri_mut() = url;
    *request.headers_mut() = headers;
    Prepared { request, body }
}

impl Slot {
    /// Sends `prepared` on a new stream and reads its whole answer with `reader`. When it
    /// fails, the slot says whether the server processed it ([`Slot::went_stale`]) and
    /// whether the session can carry more ([`Slot::is_reusable`]). Dropped before it ends
    /// (the attempt timed out), the stream is reset (CANCEL) and the session goes on.
    pub async fn exchange(
        &mut self,
        prepared: Prepared,
        mut reader: ResponseReader,
    ) -> Result<(Head, Vec<u8>), Failure> {
        self.unprocessed = false;
        (self.written, self.first_byte) = (None, None);
        // Ready: no stream of ours waits for the server's limit, and no GOAWAY came.
        if let Err(e) = std::future::poll_fn(|cx| self.send.poll_ready(cx)).await {
            return Err(self.failure(e));
        }
        let Prepared { request, body } = prepared;
        let end_of_stream = body.is_empty();
        let (response, mut stream) = match self.send.send_request(request, end_of_stream) {
            Ok(sent) => sent,
            Err(e) => return Err(self.failure(e)),
        };
        if !end_of_stream {
            if let Err(e) = stream.send_data(body, true) {
                return Err(self.failure(e));
            }
        }
        self.written = Some(Instant::now());
        self.session.sent.fetch_add(1, Relaxed);
        let response = match response.await {
            Ok(r) => r,
            Err(e) => return Err(self.failure(e)),
        };
        self.first_byte = Some(Instant::now());
        let (parts, mut recv) = response.into_parts();
        let head = head_of(parts.status.as_u16(), &parts.headers);
        let protocol = |e: crate::transport::h1::ParseError| Failure::Protocol(e.to_string());
        reader.feed(&head).map_err(protocol)?;
        while let Some(data) = recv.data().await {
            let data = match data {
                Ok(d) => d,
                Err(e) => return Err(self.failure(e)),
            };
            // Read: the server may send as much again.
            let _ = recv.flow_control().release_capacity(data.len());
            if !reader.is_done() {
                reader.feed(&data).map_err(protocol)?;
            }
            // An Invoke stream's time to first byte is its first payload's.
            if reader.first_payload_came() {
                self.first_byte = Some(Instant::now());
            }
        }
        reader.eof().map_err(protocol)?;
        if reader.first_payload_came() {
            self.first_byte = Some(Instant::now());
        }
        self.body_bytes = reader.body_bytes();
        self.session.answered.fetch_add(1, Relaxed);
        self.refresh();
        Ok(reader.finish())
    }
}

/// An HTTP/2 answer's status and headers as an HTTP/1.1 head whose body runs to its end
/// (the stream's END_STREAM is the reader's end of input).
fn head_of(status: u16, headers: &HeaderMap) -> Vec<u8> {
    let mut head = String::with_capacity(64);
    let _ = write!(head, "HTTP/1.1 {status} -\r\n");
    let mut out = head.into_bytes();
    for (name, value) in headers {
        // The framing is HTTP/2's: a length or coding here would misread the body.
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        crate::transport::h1::put_header(&mut out, name, value);
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_headers_are_left_out_and_host_is_the_authority() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("api.example"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(header::TE, HeaderValue::from_static("gzip"));
        headers.insert("x-amz-date", HeaderValue::from_static("20260101T000000Z"));
        let url: Uri = "https://api.example/orders?x=1".parse().unwrap();
        let p = request_of(&Method::POST, &url, headers, Bytes::from_static(b"{}"));
        let h = p.request.headers();
        assert!(h.get("connection").is_none() && h.get("keep-alive").is_none());
        assert!(h.get("host").is_none() && h.get("te").is_none());
        assert_eq!(h["x-amz-date"], "20260101T000000Z");
        assert_eq!(h["content-length"], "2");
        assert_eq!(p.request.uri(), &url);
    }

    #[test]
    fn a_virtual_host_becomes_the_authority() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("other.example"));
        let url: Uri = "https://127.0.0.1:8443/a".parse().unwrap();
        let p = request_of(&Method::GET, &url, headers, Bytes::new());
        assert_eq!(p.request.uri(), "https://other.example/a");
        assert!(p.request.headers().get("content-length").is_none());
    }

    #[test]
    fn an_answer_is_read_as_its_http1_head_says() {
        let mut headers = HeaderMap::new();
        headers.insert("content-length", HeaderValue::from_static("5"));
        headers.insert("retry-after", HeaderValue::from_static("2"));
        headers.insert("x-amzn-errortype", HeaderValue::from_static("Throttled"));
        let mut reader = ResponseReader::new(false, false, 512);
        reader.feed(&head_of(429, &headers)).unwrap();
        reader.feed(b"slow ").unwrap();
        reader.feed(b"down").unwrap();
        reader.eof().unwrap();
        let (head, excerpt) = reader.finish();
        assert_eq!(head.status, 429);
        assert_eq!(head.retry_after.unwrap(), "2");
        assert!(head.error_type.is_some());
        assert_eq!(excerpt, b"slow down");
    }
}
