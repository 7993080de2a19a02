//! A loopback HTTP/1.1 server of the tests that writes its answers by hand, paced as a test
//! needs (a head late, a body in chunks over seconds, a body until close), and counts the
//! body bytes it sent. A thread per connection; each request head read gets one answer.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Writes one answer on the connection, adding the body bytes to the count as each write
/// goes out: true keeps the connection, false closes it (the answer ran until close, or
/// the client went away).
pub type Answer = fn(&mut TcpStream, &AtomicU64) -> bool;

pub struct PacedServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    body_bytes: Arc<AtomicU64>,
}

impl PacedServer {
    pub fn start(answer: Answer) -> PacedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let body_bytes = Arc::new(AtomicU64::new(0));
        let (stopped, counted) = (Arc::clone(&stop), Arc::clone(&body_bytes));
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (stopped, counted) = (Arc::clone(&stopped), Arc::clone(&counted));
                        std::thread::spawn(move || serve(conn, answer, &stopped, &counted));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        PacedServer {
            port,
            stop,
            body_bytes,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The body bytes its answers sent.
    pub fn sent(&self) -> u64 {
        self.body_bytes.load(Ordering::Relaxed)
    }
}

impl Drop for PacedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Writes `bytes`: false when the client went away.
pub fn put(conn: &mut TcpStream, bytes: &[u8]) -> bool {
    conn.write_all(bytes).is_ok()
}

fn serve(mut conn: TcpStream, answer: Answer, stop: &AtomicBool, counted: &AtomicU64) {
    conn.set_nodelay(true).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(_) => return,
        }
        // One answer per request head (GETs: no body).
        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            seen.drain(..end + 4);
            if !answer(&mut conn, counted) {
                return;
            }
        }
    }
}
