//! An HTTP/2 server built on the `h2` crate's server, over h2c (prior knowledge) on
//! loopback, that resets streams, ends connections with GOAWAY or never grants a flow-control
//! window, as told, and counts what it did.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2::Reason;

/// What the server does with the streams it accepts; the rest are answered 200 "ok" once
/// their request's body came.
#[derive(Clone, Copy, Default)]
pub struct Behaviour {
    /// Every n-th stream (counted over all connections) is reset with this reason — a
    /// request (by its `x-correlation-id`) once at most, so a request sent again is answered.
    pub reset_every: Option<(u64, Reason)>,
    /// Every stream of a request (by its `x-correlation-id`) is refused with REFUSED_STREAM
    /// until it has been refused this many times.
    pub refuse_each: u64,
    /// A connection is ended with GOAWAY (graceful: the streams it accepted are answered)
    /// after this many streams.
    pub goaway_after: Option<u64>,
    /// No flow-control window for a request's body, ever (SETTINGS initial window 0, no
    /// WINDOW_UPDATE).
    pub never_grant_window: bool,
}

/// What the server counted.
#[derive(Default)]
pub struct Counts {
    pub streams: AtomicU64,
    pub answered_200: AtomicU64,
    pub resets: AtomicU64,
    pub goaways: AtomicU64,
    resets_by_id: Mutex<HashMap<Vec<u8>, u64>>,
}

/// The server, until dropped.
pub struct H2Server {
    pub address: SocketAddr,
    pub counts: Arc<Counts>,
    _runtime: tokio::runtime::Runtime,
}

impl H2Server {
    /// On 127.0.0.1, a free port.
    pub fn start(behaviour: Behaviour) -> H2Server {
        Self::start_at("127.0.0.1:0".parse().unwrap(), behaviour).unwrap()
    }

    pub fn start_at(address: SocketAddr, behaviour: Behaviour) -> std::io::Result<H2Server> {
        let listener = std::net::TcpListener::bind(address)?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let counts = Arc::new(Counts::default());
        let shared = Arc::clone(&counts);
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, behaviour, Arc::clone(&shared)));
            }
        });
        Ok(H2Server {
            address,
            counts,
            _runtime: runtime,
        })
    }

    pub fn count(&self, of: impl Fn(&Counts) -> &AtomicU64) -> u64 {
        of(&self.counts).load(SeqCst)
    }
}

async fn serve(socket: tokio::net::TcpStream, behaviour: Behaviour, counts: Arc<Counts>) {
    let mut builder = h2::server::Builder::new();
    if behaviour.never_grant_window {
        builder.initial_window_size(0);
    }
    let Ok(mut connection) = builder.handshake::<_, Bytes>(socket).await else {
        return;
    };
    let mut accepted = 0;
    while let Some(Ok((request, mut respond))) = connection.accept().await {
        accepted += 1;
        if behaviour.goaway_after == Some(accepted) {
            connection.graceful_shutdown();
            counts.goaways.fetch_add(1, SeqCst);
        }
        let counts = Arc::clone(&counts);
        tokio::spawn(async move {
            let n = counts.streams.fetch_add(1, SeqCst) + 1;
            let id = request
                .headers()
                .get("x-correlation-id")
                .map(|v| v.as_bytes().to_vec())
                .unwrap_or_default();
            let reset = {
                let mut by_id = counts.resets_by_id.lock().unwrap();
                let times = by_id.entry(id).or_default();
                let reason = match behaviour.reset_every {
                    Some((every, reason)) if n % every == 0 && *times == 0 => Some(reason),
                    _ if *times < behaviour.refuse_each => Some(Reason::REFUSED_STREAM),
                    _ => None,
                };
                *times += u64::from(reason.is_some());
                reason
            };
            if let Some(reason) = reset {
                respond.send_reset(reason);
                counts.resets.fetch_add(1, SeqCst);
                return;
            }
            // The whole body first, as servers read it. Its window is never released
            // (`release_capacity`): what the client may send is what SETTINGS granted.
            let mut body = request.into_body();
            while let Some(Ok(_)) = body.data().await {}
            let head = http::Response::builder().status(200).body(()).unwrap();
            if let Ok(mut stream) = respond.send_response(head, false) {
                if stream.send_data(Bytes::from_static(b"ok"), true).is_ok() {
                    counts.answered_200.fetch_add(1, SeqCst);
                }
            }
        });
    }
}
