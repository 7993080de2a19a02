//! Misbehaving servers on loopback: raw TCP on a thread of their own, one thread per
//! connection. Each reads a request's head (up to `\r\n\r\n`) and answers with the chosen
//! [`Misbehaviour`]. Counts connections and requests; stops when dropped (every loop looks
//! at a stop flag at least every 100 ms), or with the process.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How the server answers.
#[derive(Clone, Debug)]
pub enum Misbehaviour {
    /// `HTTP/1.1 2OO KO\r\n\r\n`, then close.
    GarbledStatus,
    /// `HTTP/1.1 200 OK\r\nContent-Le`, then nothing more, the socket kept open.
    UnfinishedHeadersHang,
    /// `HTTP/1.1 200 OK\r\nContent-Le`, then close.
    UnfinishedHeadersClose,
    /// `Content-Length: 100`, 10 bytes of body, then close.
    ShortBody,
    /// A chunked body trickling one byte (one chunk) every 100 ms, never ending.
    EndlessBody,
    /// `Content-Length: n` and n zero bytes, written as fast as the client reads; keep-alive.
    HugeBody(u64),
    /// Accepts, reads the request, never answers; the socket kept open.
    Silent,
    /// SO_LINGER 0 and close right after accept: the client sees a reset.
    ResetOnAccept,
    /// A well-formed answer with this status, extra headers and body; keep-alive.
    Fixed {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// `200 OK` with these extra headers, on connections the server closes without saying
    /// `Connection: close`: after `answers` answers, as the next request arrives (unread:
    /// the client sees a reset), and when idle for `idle` — taking [`CLOSING`] to close, so
    /// that a request arriving meanwhile is never read, as happens when the two cross.
    Closes {
        answers: Option<u64>,
        idle: Option<Duration>,
        headers: Vec<(String, String)>,
    },
}

/// How long a `Closes` server takes to close an idle connection once it decided to.
pub const CLOSING: Duration = Duration::from_millis(5);

pub struct RawServer {
    pub addr: SocketAddr,
    connections: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    completed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

/// What the connection threads count.
#[derive(Clone)]
struct Counters {
    requests: Arc<AtomicU64>,
    completed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    pub fn start(how: Misbehaviour) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicU64::new(0));
        let counters = Counters {
            requests: Arc::new(AtomicU64::new(0)),
            completed: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (accepted, shared) = (Arc::clone(&connections), counters.clone());
        std::thread::spawn(move || {
            while !shared.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        accepted.fetch_add(1, Ordering::SeqCst);
                        let (how, counters) = (how.clone(), shared.clone());
                        std::thread::spawn(move || serve(stream, &how, &counters));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        RawServer {
            addr,
            connections,
            requests: counters.requests,
            completed: counters.completed,
            stop: counters.stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Connections accepted.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// Request heads read in full.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Answers written to their last byte (`HugeBody`, `Fixed`): the client read them, but
    /// for what the kernel's socket buffers hold.
    pub fn completed(&self) -> u64 {
        self.completed.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(mut stream: TcpStream, how: &Misbehaviour, counters: &Counters) {
    let stop = &*counters.stop;
    if let Misbehaviour::ResetOnAccept = how {
        reset(stream);
        return;
    }
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buffered = Vec::new();
    let mut answered = 0u64;
    loop {
        if let Misbehaviour::Closes { answers, idle, .. } = how {
            if answers.is_some_and(|n| answered >= n) {
                // Wait for the next request to arrive, then close without reading it.
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = stream.peek(&mut [0u8; 1]);
                return;
            }
            if let (Some(idle), true) = (idle, buffered.is_empty()) {
                let _ = stream.set_read_timeout(Some(*idle));
                let came = matches!(stream.peek(&mut [0u8; 1]), Ok(n) if n > 0);
                let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
                if !came {
                    std::thread::sleep(CLOSING);
                    return;
                }
            }
        }
        if !read_head(&mut stream, &mut buffered, stop) {
            return;
        }
        counters.requests.fetch_add(1, Ordering::SeqCst);
        let keep_alive = match how {
            Misbehaviour::GarbledStatus => {
                let _ = stream.write_all(b"HTTP/1.1 2OO KO\r\n\r\n");
                false
            }
            Misbehaviour::UnfinishedHeadersHang => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Le");
                hold(&mut stream, stop);
                false
            }
            Misbehaviour::UnfinishedHeadersClose => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Le");
                false
            }
            Misbehaviour::ShortBody => {
                let _ =
                    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
                false
            }
            Misbehaviour::EndlessBody => {
                let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
                if stream.write_all(head).is_ok() {
                    while !stop.load(Ordering::SeqCst) && stream.write_all(b"1\r\nx\r\n").is_ok() {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                false
            }
            Misbehaviour::HugeBody(n) => {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n");
                let zeros = vec![0u8; 64 * 1024];
                let mut left = *n;
                let mut ok = stream.write_all(head.as_bytes()).is_ok();
                while ok && left > 0 && !stop.load(Ordering::SeqCst) {
                    let k = left.min(zeros.len() as u64) as usize;
                    ok = stream.write_all(&zeros[..k]).is_ok();
                    left -= k as u64;
                }
                ok && left == 0
            }
            Misbehaviour::Silent => {
                hold(&mut stream, stop);
                false
            }
            Misbehaviour::ResetOnAccept => unreachable!(),
            Misbehaviour::Fixed {
                status,
                headers,
                body,
            } => {
                let mut answer = format!("HTTP/1.1 {status} Whatever\r\n");
                for (name, value) in headers {
                    answer.push_str(&format!("{name}: {value}\r\n"));
                }
                answer.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
                stream.write_all(answer.as_bytes()).is_ok()
            }
            Misbehaviour::Closes { headers, .. } => {
                answered += 1;
                let mut answer = "HTTP/1.1 200 OK\r\n".to_string();
                for (name, value) in headers {
                    answer.push_str(&format!("{name}: {value}\r\n"));
                }
                answer.push_str("Content-Length: 2\r\n\r\nok");
                stream.write_all(answer.as_bytes()).is_ok()
            }
        };
        if !keep_alive {
            return;
        }
        counters.completed.fetch_add(1, Ordering::SeqCst);
    }
}

/// Reads up to the end of a request head (and past its `Content-Length` body, if any).
/// False when the client went away or the server is stopping.
fn read_head(stream: &mut TcpStream, buffered: &mut Vec<u8>, stop: &AtomicBool) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(buffered, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffered[..end]).to_ascii_lowercase();
            let body_len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buffered.len() >= end + 4 + body_len {
                buffered.drain(..end + 4 + body_len);
                return true;
            }
        }
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => buffered.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return false,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Keeps the socket open, reading and discarding, until the client goes or the server stops.
fn hold(stream: &mut TcpStream, stop: &AtomicBool) {
    let mut chunk = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Closes with SO_LINGER 0: the kernel sends RST instead of FIN.
fn reset(stream: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid fd we own, and a pointer to a linger of the size given.
    let r = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "setsockopt(SO_LINGER)");
    drop(stream);
}
