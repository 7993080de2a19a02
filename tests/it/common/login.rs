//! A login API on loopback for the `[[flows]]` tests: it issues a random token per login
//! and rejects any later call without one, counting what it saw.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// What the login server counted.
#[derive(Default, Debug, Clone)]
pub struct Counts {
    pub logins: u64,
    pub failed_logins: u64,
    pub created: u64,
    pub read: u64,
    /// Later steps without a valid token (or for an order of another token).
    pub rejected: u64,
    /// Each valid token's requests, by arrival: (path, when).
    pub by_token: HashMap<String, Vec<(String, Instant)>>,
    /// The `user` of each login's body, in arrival order.
    pub users: Vec<String>,
    /// Later steps whose `x-user` header is not the user their token logged in as.
    pub user_mismatches: u64,
}

struct State {
    counts: Counts,
    tokens: HashSet<String>,
    /// Order id → the token that created it.
    orders: HashMap<String, String>,
    /// Token → the user it logged in as.
    logged_in: HashMap<String, String>,
}

/// A login API on loopback: `POST /login` answers `{"token": …}` (a random token, or a 500
/// for every login whose number is 3 mod 10 when `fail_logins`); `POST /orders` and
/// `GET /orders/{id}` need `authorization: Bearer <a token it issued>`, else 401.
pub struct LoginServer {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl LoginServer {
    pub fn start(fail_logins: bool) -> LoginServer {
        Self::start_with(fail_logins, false)
    }

    /// `slow_reads`: `GET /orders/{id}` is answered after 30 s (counted when it arrives).
    pub fn start_with(fail_logins: bool, slow_reads: bool) -> LoginServer {
        Self::serve(fail_logins, slow_reads, Duration::ZERO)
    }

    /// Every `POST /login` is answered after `delay` (a login service that got slower).
    pub fn start_slow_logins(delay: Duration) -> LoginServer {
        Self::serve(false, false, delay)
    }

    fn serve(fail_logins: bool, slow_reads: bool, login_delay: Duration) -> LoginServer {
        let state = Arc::new(Mutex::new(State {
            counts: Counts::default(),
            tokens: HashSet::new(),
            orders: HashMap::new(),
            logged_in: HashMap::new(),
        }));
        let shared = Arc::clone(&state);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let shared = Arc::clone(&shared);
                    tokio::spawn(async move {
                        let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                            let shared = Arc::clone(&shared);
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = body.collect().await.unwrap().to_bytes();
                                let body = String::from_utf8_lossy(&body).into_owned();
                                let user = parts
                                    .headers
                                    .get("x-user")
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_string);
                                let auth = parts
                                    .headers
                                    .get("authorization")
                                    .and_then(|v| v.to_str().ok())
                                    .and_then(|v| v.strip_prefix("Bearer "))
                                    .map(str::to_string);
                                let (status, body) = answer(
                                    &mut shared.lock().unwrap(),
                                    parts.method.as_str(),
                                    parts.uri.path(),
                                    (auth, user, &body),
                                    fail_logins,
                                );
                                if slow_reads && parts.method == hyper::Method::GET {
                                    tokio::time::sleep(Duration::from_secs(30)).await;
                                }
                                if parts.uri.path() == "/login" {
                                    tokio::time::sleep(login_delay).await;
                                }
                                let mut resp = Response::new(Full::new(Bytes::from(body)));
                                *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                                Ok::<_, Infallible>(resp)
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        let addr = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        LoginServer {
            url: format!("http://{addr}"),
            state,
        }
    }

    pub fn counts(&self) -> Counts {
        self.state.lock().unwrap().counts.clone()
    }
}

fn answer(
    s: &mut State,
    method: &str,
    path: &str,
    (auth, user, body): (Option<String>, Option<String>, &str),
    fail_logins: bool,
) -> (u16, String) {
    if (method, path) == ("POST", "/login") {
        let n = s.counts.logins + s.counts.failed_logins;
        if fail_logins && n % 10 == 3 {
            s.counts.failed_logins += 1;
            return (500, r#"{"error":"down"}"#.into());
        }
        s.counts.logins += 1;
        let token = format!("tok{:016x}", fastrand::u64(..));
        s.tokens.insert(token.clone());
        let said: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let login_user = said["user"].as_str().unwrap_or("").to_string();
        s.counts.users.push(login_user.clone());
        s.logged_in.insert(token.clone(), login_user);
        return (200, format!(r#"{{"token":"{token}"}}"#));
    }
    let Some(token) = auth.filter(|t| s.tokens.contains(t)) else {
        s.counts.rejected += 1;
        return (401, "{}".into());
    };
    if user.is_some_and(|u| s.logged_in.get(&token) != Some(&u)) {
        s.counts.user_mismatches += 1;
    }
    s.counts
        .by_token
        .entry(token.clone())
        .or_default()
        .push((path.to_string(), Instant::now()));
    if (method, path) == ("POST", "/orders") {
        s.counts.created += 1;
        let id = format!("o-{}", s.counts.created);
        s.orders.insert(id.clone(), token);
        return (201, format!(r#"{{"id":"{id}"}}"#));
    }
    if let Some(id) = path.strip_prefix("/orders/") {
        if method == "GET" && s.orders.get(id) == Some(&token) {
            s.counts.read += 1;
            return (200, format!(r#"{{"id":"{id}"}}"#));
        }
    }
    s.counts.rejected += 1;
    (401, "{}".into())
}
