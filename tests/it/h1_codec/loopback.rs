//! 4. End to end over loopback TCP, the answers written a few bytes at a time.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use stampede::scenario::Target;
use stampede::transport::auth::Auth;
use stampede::transport::h1::{
    Connection, ExchangeError, Head, ParseError, RequestTemplate, ResponseReader, Stream,
};
use stampede::transport::{tls_config, Failure, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::driver::find;

/// Reads one request (its head, and as many body bytes as its Content-Length says) from
/// `s`, keeping what follows in `buf`. None: the client closed.
async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(at) = find(buf, b"\r\n\r\n") {
            let head_len = at + 4;
            let mut fields = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut fields);
            request.parse(&buf[..head_len]).expect("a request head");
            let length = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .map_or(0, |h| {
                    std::str::from_utf8(h.value)
                        .expect("ASCII")
                        .parse::<usize>()
                        .expect("a length")
                });
            if buf.len() >= head_len + length {
                return Some(buf.drain(..head_len + length).collect());
            }
        }
        let mut piece = [0u8; 4096];
        match s.read(&mut piece).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&piece[..n]),
        }
    }
}

/// Writes `bytes` 1 to 7 at a time, each flushed, with short pauses: the client reads
/// heads, lines and bodies in pieces.
async fn write_slowly(s: &mut TcpStream, bytes: &[u8], rng: &mut fastrand::Rng) {
    let mut at = 0;
    while at < bytes.len() {
        let end = (at + rng.usize(1..=7)).min(bytes.len());
        s.write_all(&bytes[at..end]).await.expect("write");
        s.flush().await.expect("flush");
        at = end;
        if rng.u8(..4) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

/// A loopback server for one connection: it answers each request with the next of
/// `answers`, written slowly; after the last it closes (at once, or when `close` fires).
/// Its task gives back the requests it read.
async fn server(
    answers: Vec<&'static [u8]>,
    close: Option<oneshot::Receiver<()>>,
) -> (SocketAddr, Served) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        s.set_nodelay(true).expect("nodelay");
        let mut rng = fastrand::Rng::with_seed(addr.port().into());
        let mut buf = Vec::new();
        let mut requests = Vec::new();
        for answer in answers {
            let Some(request) = read_request(&mut s, &mut buf).await else {
                break;
            };
            requests.push(request);
            write_slowly(&mut s, answer, &mut rng).await;
        }
        if let Some(close) = close {
            let _ = close.await;
        }
        requests
    });
    (addr, task)
}

async fn connect(addr: SocketAddr) -> Connection {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    Connection::new(Stream::Plain(tcp))
}

/// What a server's task gives back: the requests it read.
type Served = tokio::task::JoinHandle<Vec<Vec<u8>>>;

/// Starts a server with `answers` (closing as `server` does), connects to it, and sends it
/// `get`: the connection, the server's task, and what the exchange gave.
async fn exchange_with(
    answers: Vec<&'static [u8]>,
    close: Option<oneshot::Receiver<()>>,
    get: &RequestTemplate,
) -> (Connection, Served, Result<(Head, Vec<u8>), ExchangeError>) {
    let (addr, server_task) = server(answers, close).await;
    let mut conn = connect(addr).await;
    let got = conn
        .exchange(get.whole(), b"", ResponseReader::new(false, false, 512))
        .await;
    (conn, server_task, got)
}

fn header_map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
        .collect()
}

/// Runs an end-to-end test, which fails rather than hangs when a reader waits for bytes
/// that never come.
async fn within_a_minute<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F) {
    tokio::time::timeout(Duration::from_secs(60), test())
        .await
        .expect(
            "the test did not finish within a minute: a reader waits for bytes that never come",
        );
}

/// The server closed `conn` while idle: `is_closed` says so once the FIN is in (a few ms
/// on loopback; waited for up to 5 s, no timing asserted).
async fn closed_soon(conn: &mut Connection) -> bool {
    for _ in 0..1000 {
        if conn.is_closed() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_carries_requests_until_an_answer_says_close() {
    within_a_minute(one_connection_carries_requests_until_an_answer_says_close_).await;
}

async fn one_connection_carries_requests_until_an_answer_says_close_() {
    let answers: Vec<&'static [u8]> = vec![
        &b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"[..],
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\
          content-length: 9\r\n\r\nnot found",
        b"HTTP/1.1 429 Too Many Requests\r\nx-amzn-errortype: ThrottlingException\r\n\
          retry-after: 2\r\ntransfer-encoding: chunked\r\n\r\n7;a=b\r\n{\"messa\r\n0B\r\n\
          ge\":\"slow\"}\r\n0\r\nx-trailer: t\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ndate: Tue, 15 Nov 1994 08:12:31 GMT\r\ncontent-length: 1234\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 3\r\n\r\nbye",
    ];
    let (addr, server) = server(answers, None).await;
    let mut conn = connect(addr).await;
    let host = header_map(&[("host", "127.0.0.1")]);
    let get = RequestTemplate::new(&Method::GET, "/a?b=1", &host, 0);
    let post = RequestTemplate::new(&Method::POST, "/orders", &host, 7);
    let head = RequestTemplate::new(&Method::HEAD, "/a", &host, 0);
    let reader = || ResponseReader::new(false, false, 512);

    let (a, excerpt) = conn.exchange(get.whole(), b"", reader()).await.unwrap();
    assert_eq!((a.status, a.close, excerpt.len()), (200, false, 0));
    assert!(conn.is_reusable() && !conn.is_closed());

    let (a, excerpt) = conn
        .exchange(post.whole(), b"{\"k\":1}", reader())
        .await
        .unwrap();
    assert_eq!((a.status, &excerpt[..]), (404, &b"not found"[..]));
    assert!(conn.is_reusable() && !conn.is_closed());

    let (a, excerpt) = conn.exchange(get.whole(), b"", reader()).await.unwrap();
    assert_eq!(
        (a.status, &excerpt[..]),
        (429, &b"{\"message\":\"slow\"}"[..])
    );
    assert_eq!(a.error_type.unwrap(), "ThrottlingException");
    assert_eq!(a.retry_after.unwrap(), "2");
    assert!(conn.is_reusable() && !conn.is_closed());

    let (a, _) = conn
        .exchange(head.whole(), b"", ResponseReader::new(true, false, 0))
        .await
        .unwrap();
    assert_eq!(a.status, 200);
    assert_eq!(a.date.unwrap(), "Tue, 15 Nov 1994 08:12:31 GMT");
    assert!(conn.is_reusable() && !conn.is_closed());

    let (a, _) = conn.exchange(get.whole(), b"", reader()).await.unwrap();
    assert_eq!(a.status, 204);
    assert!(conn.is_reusable() && !conn.is_closed());

    let (a, excerpt) = conn.exchange(get.whole(), b"", reader()).await.unwrap();
    assert_eq!((a.status, a.close, &excerpt[..]), (503, true, &b"bye"[..]));
    assert!(!conn.is_reusable() && conn.is_closed());

    let requests = server.await.unwrap();
    let sent = |head: &RequestTemplate, body: &[u8]| [head.whole(), body].concat();
    assert_eq!(
        requests,
        vec![
            sent(&get, b""),
            sent(&post, b"{\"k\":1}"),
            sent(&get, b""),
            sent(&head, b""),
            sent(&get, b""),
            sent(&get, b""),
        ]
    );
    assert_eq!(
        requests[1],
        b"POST /orders HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 7\r\n\r\n{\"k\":1}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_framed_by_chunks_by_the_close_or_cut_short() {
    within_a_minute(answers_framed_by_chunks_by_the_close_or_cut_short_).await;
}

async fn answers_framed_by_chunks_by_the_close_or_cut_short_() {
    let host = header_map(&[("host", "127.0.0.1")]);
    let get = RequestTemplate::new(&Method::GET, "/", &host, 0);

    // Chunked, with extensions, upper-case hex, a chunk split across writes, and trailers.
    let (mut conn, server_task, got) = exchange_with(
        vec![
            b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n\
              1A;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n3 \r\n123\r\n0\r\nx-a: 1\r\n\r\n",
        ],
        None,
        &get,
    )
    .await;
    let (a, excerpt) = got.unwrap();
    assert_eq!(
        (a.status, &excerpt[..]),
        (500, &b"abcdefghijklmnopqrstuvwxyz123"[..])
    );
    assert!(conn.is_reusable());
    server_task.await.unwrap();
    assert!(closed_soon(&mut conn).await);

    // No length: the body runs until the server closes, and so does the connection.
    let (mut conn, server_task, got) = exchange_with(
        vec![b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n\r\nupstream went away"],
        None,
        &get,
    )
    .await;
    let (a, excerpt) = got.unwrap();
    assert_eq!(
        (a.status, a.close, &excerpt[..]),
        (502, true, &b"upstream went away"[..])
    );
    assert!(!conn.is_reusable() && conn.is_closed());
    server_task.await.unwrap();

    // A body cut short by the close is an error, and the connection is done with.
    let (mut conn, server_task, cut) = exchange_with(
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"],
        None,
        &get,
    )
    .await;
    assert!(
        matches!(cut, Err(ExchangeError::Parse(ParseError::Incomplete))),
        "{cut:?}"
    );
    assert!(!conn.is_reusable() && conn.is_closed());
    server_task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_server_closes_while_idle_is_closed() {
    within_a_minute(a_connection_the_server_closes_while_idle_is_closed_).await;
}

async fn a_connection_the_server_closes_while_idle_is_closed_() {
    let (close, closed) = oneshot::channel();
    let get = RequestTemplate::new(&Method::GET, "/", &header_map(&[("host", "h")]), 0);
    let (mut conn, server_task, got) = exchange_with(
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"],
        Some(closed),
        &get,
    )
    .await;
    let (a, _) = got.unwrap();
    assert_eq!(a.status, 200);
    // The server holds the connection open: idle, not closed.
    assert!(!conn.is_closed() && conn.is_reusable());
    close.send(()).unwrap();
    server_task.await.unwrap();
    assert!(
        closed_soon(&mut conn).await,
        "the server closed the idle connection, is_closed never said so"
    );
    assert!(!conn.is_reusable());
}

/// The fields of a request as the server read it.
fn parse_request(bytes: &[u8]) -> (String, String, Vec<(String, String)>, Vec<u8>) {
    let mut fields = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut fields);
    let httparse::Status::Complete(len) = request.parse(bytes).expect("a request") else {
        panic!("a whole request head");
    };
    assert_eq!(request.version, Some(1), "HTTP/1.1");
    let fields = request
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8(h.value.to_vec()).unwrap(),
            )
        })
        .collect();
    (
        request.method.unwrap().to_string(),
        request.path.unwrap().to_string(),
        fields,
        bytes[len..].to_vec(),
    )
}

fn value<'f>(fields: &'f [(String, String)], name: &str) -> Option<&'f str> {
    let mut found = fields.iter().filter(|(n, _)| n == name);
    let first = found.next().map(|(_, v)| v.as_str());
    assert!(found.next().is_none(), "{name} sent twice");
    first
}

fn transport(url: &str, method: Method, body: &[u8]) -> Transport {
    let mut target = Target::from_url(url.parse::<Uri>().unwrap());
    target.method = method;
    target.body = Bytes::copy_from_slice(body);
    target.headers = vec![(
        HeaderName::from_static("content-type"),
        HeaderValue::from_static("application/json"),
    )];
    Transport::new(
        &target,
        &stampede::scenario::Requests::single(&target),
        tls_config(None).unwrap(),
        Auth::None,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transport_sends_what_the_server_reads_and_reads_what_it_answers() {
    within_a_minute(the_transport_sends_what_the_server_reads_and_reads_what_it_answers_).await;
}

async fn the_transport_sends_what_the_server_reads_and_reads_what_it_answers_() {
    let (addr, server_task) = server(
        vec![
            &b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"[..],
            b"HTTP/1.1 200 OK\r\ndate: Tue, 15 Nov 1994 08:12:31 GMT\r\ncontent-length: 99\r\n\r\n",
            b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 3\r\n\
              x-amzn-errortype: ServiceUnavailableException\r\ntransfer-encoding: chunked\r\n\r\n\
              4\r\nbusy\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\nuntil the close",
        ],
        None,
    )
    .await;
    let url = format!("http://{addr}/orders?id=7");
    let get = transport(&url, Method::GET, b"");
    let mut conn = get.connect().await.unwrap();
    let none = std::iter::empty::<&(HeaderName, HeaderValue)>();

    let a = get.send(&mut conn, 0, None, none.clone()).await.unwrap();
    assert_eq!((a.status, a.excerpt.len()), (200, 0));
    let date = get.head_date(&mut conn).await.unwrap();
    assert_eq!(date.unwrap(), "Tue, 15 Nov 1994 08:12:31 GMT");
    let a = get.send(&mut conn, 0, None, none.clone()).await.unwrap();
    assert_eq!((a.status, &a.excerpt[..]), (503, &b"busy"[..]));
    assert_eq!(a.retry_after.unwrap(), "3");
    assert_eq!(a.error_type.unwrap(), "ServiceUnavailableException");
    let id = (
        HeaderName::from_static("x-correlation-id"),
        HeaderValue::from_static("c-1"),
    );
    let a = get
        .send(&mut conn, 0, None, [&id].into_iter())
        .await
        .unwrap();
    assert_eq!(a.status, 200);
    assert!(
        conn.is_closed(),
        "a body until the close ends the connection"
    );

    let requests = server_task.await.unwrap();
    assert_eq!(requests.len(), 4);
    for (i, request) in requests.iter().enumerate() {
        let (method, path, fields, body) = parse_request(request);
        assert_eq!(path, "/orders?id=7");
        assert_eq!(value(&fields, "host"), Some(addr.to_string().as_str()));
        assert_eq!(value(&fields, "transfer-encoding"), None);
        // A GET without a body and the clock probe's HEAD send no length.
        assert_eq!(value(&fields, "content-length"), None, "request {i}");
        assert!(body.is_empty());
        if i == 1 {
            assert_eq!(method, "HEAD");
            assert_eq!(
                fields.len(),
                1,
                "the clock probe sends only host: {fields:?}"
            );
        } else {
            assert_eq!(method, "GET");
            assert_eq!(value(&fields, "content-type"), Some("application/json"));
            assert!(value(&fields, "user-agent")
                .unwrap()
                .starts_with("stampede/"));
        }
        let correlation = value(&fields, "x-correlation-id");
        assert_eq!(correlation, (i == 3).then_some("c-1"));
    }

    // A POST always sends a length, 0 for no body; a GET with a body sends its length.
    for (method, body) in [
        (Method::POST, &b"{\"a\":1}"[..]),
        (Method::POST, &b""[..]),
        (Method::PUT, &b"x"[..]),
        (Method::GET, &b"xy"[..]),
        (Method::DELETE, &b""[..]),
    ] {
        let (addr, server_task) = server(
            vec![b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"],
            None,
        )
        .await;
        let url = format!("http://{addr}/p");
        let t = transport(&url, method.clone(), body);
        let mut conn = t.connect().await.unwrap();
        let a = t.send(&mut conn, 0, None, none.clone()).await.unwrap();
        assert_eq!(a.status, 201);
        let requests = server_task.await.unwrap();
        let (sent_method, path, fields, sent_body) = parse_request(&requests[0]);
        assert_eq!(
            (sent_method.as_str(), path.as_str()),
            (method.as_str(), "/p")
        );
        assert_eq!(sent_body, body);
        let length = value(&fields, "content-length");
        let wants_length = method == Method::POST || method == Method::PUT || !body.is_empty();
        let want = wants_length.then(|| body.len().to_string());
        assert_eq!(
            length,
            want.as_deref(),
            "{method} with {} bytes",
            body.len()
        );
    }

    // An answer cut short is a protocol failure, not a network one.
    let (addr, server_task) = server(
        vec![&b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"[..]],
        None,
    )
    .await;
    let t = transport(&format!("http://{addr}/"), Method::GET, b"");
    let mut conn = t.connect().await.unwrap();
    let cut = t.send(&mut conn, 0, None, none.clone()).await;
    assert!(matches!(cut, Err(Failure::Protocol(_))), "{cut:?}");
    assert!(conn.is_closed());
    server_task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_max_and_timeout_retire_a_connection_and_a_stale_one_is_told() {
    within_a_minute(keep_alive_max_and_timeout_retire_a_connection_and_a_stale_one_is_told_).await;
}

async fn keep_alive_max_and_timeout_retire_a_connection_and_a_stale_one_is_told_() {
    let host = header_map(&[("host", "127.0.0.1")]);
    let get = RequestTemplate::new(&Method::GET, "/", &host, 0);
    let reader = || ResponseReader::new(false, false, 512);

    // `max` is the whole (it stays the same): the second answer was the last.
    let answer: &[u8] =
        b"HTTP/1.1 200 OK\r\nkeep-alive: timeout=60, max=2\r\ncontent-length: 0\r\n\r\n";
    let (mut conn, _server, got) = exchange_with(vec![answer, answer], None, &get).await;
    assert_eq!(got.unwrap().0.keep_alive.unwrap().max, Some(2));
    assert!(conn.is_reusable() && !conn.is_closed());
    conn.exchange(get.whole(), b"", reader()).await.unwrap();
    assert!(!conn.is_reusable(), "two answers of max=2");

    // `max` counting down (Apache's): what is left, to its end.
    let (first, then): (&[u8], &[u8]) = (
        b"HTTP/1.1 200 OK\r\nkeep-alive: max=5\r\ncontent-length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nkeep-alive: max=4\r\ncontent-length: 0\r\n\r\n",
    );
    let (mut conn, _server, got) = exchange_with(vec![first, then, then], None, &get).await;
    got.unwrap();
    conn.exchange(get.whole(), b"", reader()).await.unwrap();
    assert!(conn.is_reusable(), "4 left");

    // An idle timeout of 1 s: reused for 0.75 s, not after.
    let answer: &[u8] = b"HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 0\r\n\r\n";
    let (_keep_open, open_until) = oneshot::channel::<()>();
    let (mut conn, _server, got) = exchange_with(vec![answer], Some(open_until), &get).await;
    got.unwrap();
    assert!(!conn.is_closed(), "just answered");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        conn.is_closed(),
        "idle past the server's timeout less its margin"
    );

    // The server closes after one answer without saying so: the next exchange fails with
    // not a byte of its answer come, on a connection that carried one: stale.
    let plain: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
    let (mut conn, server_task, got) = exchange_with(vec![plain], None, &get).await;
    got.unwrap();
    assert!(!conn.went_stale(), "it answered");
    server_task.await.unwrap();
    assert!(conn.exchange(get.whole(), b"", reader()).await.is_err());
    assert!(conn.went_stale());

    // Cut short after a byte of the answer: the server saw the request; not stale.
    let (mut conn, _server, got) =
        exchange_with(vec![plain, b"HTTP/1.1 200 OK\r\ncontent-le"], None, &get).await;
    got.unwrap();
    assert!(conn.exchange(get.whole(), b"", reader()).await.is_err());
    assert!(!conn.went_stale());
}
