//! The reader against the emulator's writer (itself checked against aws-sdk-lambda's
//! reader in tests/it): whatever way the bytes are split, the same payload and end.

use super::*;
use crate::transport::h1::{ParseError, ResponseReader};
use bytes::Bytes;
use stampede_emulator::lambda::stream_api::{exception, invoke_complete, payload_chunk};

const LOG: &str = "UkVQT1JUIFJlcXVlc3RJZDogYQ==";

fn stream(parts: &[Bytes]) -> Vec<u8> {
    parts.iter().flat_map(|p| p.to_vec()).collect()
}

fn ok_stream() -> Vec<u8> {
    stream(&[
        payload_chunk(Bytes::from_static(b"hello ")),
        payload_chunk(Bytes::from_static(b"world")),
        invoke_complete(None, None, Some(LOG)),
    ])
}

/// Feeds `pieces` in turn; the payload seen and the end.
fn read(pieces: &[&[u8]]) -> (Vec<u8>, Result<StreamEnd, StreamError>) {
    let mut reader = EventStreamReader::default();
    let mut payload = Vec::new();
    for piece in pieces {
        if let Err(e) = reader.feed(piece, |p| payload.extend_from_slice(p)) {
            return (payload, Err(e));
        }
    }
    (payload, reader.end())
}

#[test]
fn a_stream_split_at_every_byte_reads_the_same() {
    let bytes = ok_stream();
    let whole = read(&[&bytes]);
    assert_eq!(whole.0, b"hello world");
    let end = whole.1.unwrap();
    assert_eq!(end.payload_bytes, 11);
    assert_eq!(end.log_result.as_deref(), Some(LOG));
    assert_eq!((end.error_code, end.exception), (None, None));
    for i in 0..=bytes.len() {
        let (a, b) = bytes.split_at(i);
        let (payload, end) = read(&[a, b]);
        assert_eq!(payload, b"hello world", "split at {i}");
        assert_eq!(end.unwrap().payload_bytes, 11, "split at {i}");
    }
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    let (payload, end) = read(&singles);
    assert_eq!(
        (payload.as_slice(), end.unwrap().payload_bytes),
        (&b"hello world"[..], 11)
    );
}

#[test]
fn a_bad_crc_is_an_error_not_a_panic() {
    let good = ok_stream();
    let first = payload_chunk(Bytes::from_static(b"hello ")).len();
    // The message's own CRC (its last four bytes), and the prelude's (bytes 8..12).
    for at in [first - 1, 9, first + 2] {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        let (_, end) = read(&[&bad]);
        assert!(end.is_err(), "a flipped byte at {at} is caught");
        let singles: Vec<&[u8]> = bad.chunks(1).collect();
        assert!(read(&singles).1.is_err(), "byte by byte, at {at}");
    }
    let garbage = [0xffu8; 64];
    assert!(read(&[&garbage]).1.is_err(), "a length no message has");
}

#[test]
fn a_stream_cut_short_is_an_error() {
    let bytes = ok_stream();
    let last = invoke_complete(None, None, Some(LOG)).len();
    let (payload, end) = read(&[&bytes[..bytes.len() - last]]);
    assert_eq!(payload, b"hello world");
    assert!(end.unwrap_err().0.contains("before InvokeComplete"));
    let (_, end) = read(&[&bytes[..bytes.len() - 3]]);
    assert!(end.unwrap_err().0.contains("inside a message"));
    let (_, end) = read(&[&bytes[..5]]);
    assert!(end.unwrap_err().0.contains("inside a message"));
}

#[test]
fn a_function_error_and_an_exception_are_told() {
    let failed = stream(&[invoke_complete(
        Some("Unhandled"),
        Some(r#"{"errorType":"Boom"}"#),
        None,
    )]);
    let end = read(&[&failed]).1.unwrap();
    assert_eq!(end.error_code.as_deref(), Some("Unhandled"));
    assert_eq!(
        end.error_details.as_deref(),
        Some(r#"{"errorType":"Boom"}"#)
    );
    let broken = stream(&[
        payload_chunk(Bytes::from_static(b"par")),
        exception("ServiceException", "it broke"),
    ]);
    let (payload, end) = read(&[&broken]);
    assert_eq!(payload, b"par");
    let (kind, start) = end.unwrap().exception.unwrap();
    assert_eq!(kind, "ServiceException");
    assert!(String::from_utf8_lossy(&start).contains("it broke"));
}

/// An HTTP/1.1 chunked answer carrying `events`, as the emulator (hyper) sends it.
fn chunked_answer(events: &[u8]) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for piece in events.chunks(37) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Feeds `answer` split at `at`, as the connection does (unread bytes again with more).
fn answer_split(
    answer: &[u8],
    at: usize,
) -> Result<(crate::transport::h1::Head, Vec<u8>), ParseError> {
    let mut reader = ResponseReader::new(false, true, 512).reading_invoke_stream();
    let mut pending = answer[..at].to_vec();
    let used = reader.feed(&pending)?;
    pending.drain(..used);
    pending.extend_from_slice(&answer[at..]);
    reader.feed(&pending)?;
    assert!(reader.is_done(), "split at {at}");
    Ok(reader.finish())
}

#[test]
fn an_invoke_stream_answer_reads_as_a_buffered_invokes_headers() {
    let ok = chunked_answer(&ok_stream());
    for at in 0..=ok.len() {
        let (head, excerpt) = answer_split(&ok, at).unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.log_result.as_ref().unwrap(), LOG, "split at {at}");
        assert!(head.function_error.is_none());
        assert_eq!(excerpt, b"hello world", "the payload, not its framing");
        assert_eq!(head.stream.unwrap().payload_bytes, 11);
    }
    let failed = chunked_answer(&stream(&[
        payload_chunk(Bytes::from_static(b"{}")),
        invoke_complete(Some("Unhandled"), Some(r#"{"errorType":"Boom"}"#), None),
    ]));
    let (head, excerpt) = answer_split(&failed, 10).unwrap();
    assert_eq!(head.function_error.unwrap(), "Unhandled");
    assert_eq!(excerpt, br#"{"errorType":"Boom"}"#);
    let cut = chunked_answer(&ok_stream()[..40]);
    assert!(matches!(
        answer_split(&cut, 0),
        Err(ParseError::EventStream(_))
    ));
}

#[test]
fn the_first_payload_is_noted_once() {
    let mut reader = ResponseReader::new(false, true, 512).reading_invoke_stream();
    let answer = chunked_answer(&ok_stream());
    let head_end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    reader.feed(&answer[..head_end]).unwrap();
    assert!(!reader.first_payload_came(), "the head is not the payload");
    reader.feed(&answer[head_end..]).unwrap();
    assert!(reader.first_payload_came());
    assert!(!reader.first_payload_came(), "once");
    let mut plain = ResponseReader::new(false, true, 512);
    plain
        .feed(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
        .unwrap();
    assert!(!plain.first_payload_came());
}
