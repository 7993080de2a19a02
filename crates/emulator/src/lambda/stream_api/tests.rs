//! The stream API: its routing, its messages as the SDKs' decoder reads them, and a
//! paced stream served over a real connection.

use super::*;
use aws_smithy_eventstream::frame::read_message_from;

#[test]
fn only_stream_paths_are_routed() {
    let path = "/2021-11-15/functions/orders/response-streaming-invocations";
    assert_eq!(route("POST", path), Some("orders"));
    assert_eq!(route("GET", path), None);
    assert_eq!(
        route("POST", "/2015-03-31/functions/orders/invocations"),
        None
    );
    assert_eq!(
        route(
            "POST",
            "/2021-11-15/functions//response-streaming-invocations"
        ),
        None
    );
}

#[test]
fn without_a_stream_setting_the_answer_is_one_chunk() {
    let pieces = ONE_CHUNK.pieces(OK_PAYLOAD.as_bytes());
    assert_eq!(pieces.len(), 1);
    assert_eq!(pieces[0].as_ref(), OK_PAYLOAD.as_bytes());
    assert_eq!(ONE_CHUNK.duration(), Duration::ZERO);
}

/// A request on a new connection to `addr`, and its whole answer (read to the close).
fn post(addr: std::net::SocketAddr, path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: em\r\nx-amz-log-type: Tail\r\n\
         connection: close\r\ncontent-length: 2\r\n\r\n{{}}"
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    answer
}

/// A chunked body's bytes (the test's own reading: hyper writes it).
fn dechunked(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = std::str::from_utf8(&body[..line]).unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[line + 2..line + 2 + size]);
        body = &body[line + 2 + size + 2..];
    }
}

#[test]
fn a_paced_stream_holds_its_environment_to_the_last_chunk() {
    let config = crate::EmulatorConfig {
        duration: crate::HandlerTime::Fixed(Duration::from_millis(50)),
        reserved_concurrency: Some(1),
        // Three chunks of the answer (each at least a byte: no padding), 200 ms apart.
        stream: Some(StreamShape {
            chunks: 3,
            pace: Duration::from_millis(200),
            bytes: 1,
        }),
        ..crate::EmulatorConfig::default()
    };
    let emulator = Arc::new(Emulator::new(config));
    let serving = Arc::clone(&emulator);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let emulator = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let emulator = Arc::clone(&emulator);
                        let name = route("POST", req.uri().path()).unwrap().to_string();
                        async move {
                            let answer = emulator.streamed(req, &name).await;
                            Ok::<_, std::convert::Infallible>(answer)
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
    });
    let path = "/2021-11-15/functions/emulated-function/response-streaming-invocations";
    let started = std::time::Instant::now();
    let first = std::thread::spawn(move || post(addr, path));
    // Past the first chunk (50 ms), before the last (450 ms): the one environment is
    // still the first invocation's.
    std::thread::sleep(Duration::from_millis(250));
    let second = post(addr, path);
    let text = String::from_utf8_lossy(&second);
    assert!(text.starts_with("HTTP/1.1 429"), "{text}");
    let first = first.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(450));
    let text = String::from_utf8_lossy(&first);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("content-type: application/vnd.amazon.eventstream"),
        "{text}"
    );
    let body_at = first.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut events = Bytes::from(dechunked(&first[body_at..]));
    let mut payload = Vec::new();
    let mut chunks = 0;
    let complete = loop {
        let m = read_message_from(&mut events).unwrap();
        let h = aws_smithy_eventstream::smithy::parse_response_headers(&m).unwrap();
        if h.smithy_type.as_str() != "PayloadChunk" {
            assert_eq!(h.smithy_type.as_str(), "InvokeComplete");
            break m;
        }
        chunks += 1;
        payload.extend_from_slice(m.payload());
    };
    assert_eq!((chunks, payload.as_slice()), (3, OK_PAYLOAD.as_bytes()));
    assert!(events.is_empty(), "InvokeComplete is the last message");
    let done: serde_json::Value = serde_json::from_slice(complete.payload()).unwrap();
    let log = done["LogResult"].as_str().unwrap();
    let report = stampede_lambda::ReportLine::from_log_result(log.as_bytes()).unwrap();
    assert!(
        report.duration_ms >= 450.0,
        "the streaming is part of the run: {}",
        report.duration_ms
    );
    let stats = emulator.stats();
    assert_eq!((stats.ok, stats.throttled_lambda_reserved), (1, 1));
}

#[test]
fn messages_read_back_with_their_headers() {
    let read = |b: Bytes| read_message_from(b).unwrap();
    let chunk = read(payload_chunk(Bytes::from_static(b"abc")));
    assert_eq!(chunk.payload().as_ref(), b"abc");
    let h = aws_smithy_eventstream::smithy::parse_response_headers(&chunk).unwrap();
    assert_eq!(
        (h.message_type.as_str(), h.smithy_type.as_str()),
        ("event", "PayloadChunk")
    );
    let done = read(invoke_complete(Some("Unhandled"), None, Some("TG9n")));
    let json: serde_json::Value = serde_json::from_slice(done.payload()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"ErrorCode": "Unhandled", "LogResult": "TG9n"})
    );
    let e = read(exception("ServiceException", "boom"));
    let h = aws_smithy_eventstream::smithy::parse_response_headers(&e).unwrap();
    assert_eq!(
        (h.message_type.as_str(), h.smithy_type.as_str()),
        ("exception", "ServiceException")
    );
}
