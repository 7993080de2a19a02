//! The transport's HTTP/2 side: opening a session, and sending an entry's request on a
//! slot — the same header map HTTP/1.1 serialises, the answer read as HTTP/1.1's is.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::Uri;
use tokio::net::TcpStream;

use super::Slot;
use crate::scenario::ConnectionPolicy;
use crate::transport::auth::Auth;
use crate::transport::resolve::Served;
use crate::transport::timing::ConnectTimes;
use crate::transport::{add_header_lines, Answer, Connection, Failure, Http2, Rendered, Transport};

impl Transport {
    /// An HTTP/2 session on `tcp`: TLS with ALPN h2 for `https`, h2c with prior knowledge
    /// for `http`. Its first slot is the connection returned.
    pub(in crate::transport) async fn open_h2(
        &self,
        tcp: TcpStream,
        http2: Http2,
        (dns, connect, connected): (Option<Duration>, Duration, Instant),
        served: Served,
    ) -> Result<Connection, Failure> {
        let tls_time = || Some(connected.elapsed());
        let mut slot = match &self.address.tls {
            None => {
                let times = ConnectTimes::new(dns, connect, None);
                super::open(tcp, http2.max_streams, served, times).await?
            }
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| Failure::of(&e))?;
                let times = ConnectTimes::new(dns, connect, tls_time());
                super::check_alpn(tls.get_ref().1.alpn_protocol())?;
                super::open(tls, http2.max_streams, served, times).await?
            }
        };
        if self.connections == ConnectionPolicy::PerRequest {
            slot.carry_one_request();
        }
        Ok(Connection::H2(slot))
    }

    /// Entry `entry`'s request on an HTTP/2 slot: the same header map HTTP/1.1 serialises
    /// (signed afresh for each attempt under SigV4), then the answer read as HTTP/1.1's is.
    pub(in crate::transport) async fn send_h2<'h>(
        &self,
        slot: &mut Slot,
        entry: usize,
        rendered: Option<&Rendered>,
        extra: impl Iterator<Item = &'h (HeaderName, HeaderValue)>,
    ) -> Result<Answer, Failure> {
        let request = &self.entries[entry];
        let mut headers = request.headers.clone();
        let rendered = rendered.filter(|_| request.templates.is_some());
        let (url, body) = match rendered {
            Some(r) => {
                add_header_lines(&mut headers, &r.header_lines);
                let target = String::from_utf8_lossy(&r.target);
                let url: Uri = format!("{}{target}", self.origin).parse().map_err(|e| {
                    Failure::Protocol(format!("the rendered target {target} is not a URL: {e}"))
                })?;
                (url, Bytes::copy_from_slice(&r.body))
            }
            None => (request.url.clone(), request.body.clone()),
        };
        for (name, value) in extra {
            headers.insert(name.clone(), value.clone());
        }
        if matches!(self.auth, Auth::SigV4 { .. }) {
            self.sign(&request.method, &url, &mut headers, &body)
                .await?;
        }
        let prepared = super::request_of(&request.method, &url, headers, body);
        let reader = self.reader_for(request);
        let (head, excerpt) = slot.exchange(prepared, reader).await?;
        Ok(self.answer_of(head, excerpt))
    }
}
