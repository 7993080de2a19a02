//! The corpus: hand-written answers, each for a rule. Status lines and Content-Length
//! here; the other framings, the head's limits and Invoke answers in `framing.rs`.

use stampede::transport::h1::ParseError;

use super::case::Case;
use super::driver::{Setup, PLAIN};
use super::framing;

pub fn corpus() -> Vec<Case> {
    use ParseError::*;
    let mut c = vec![
        // Status lines.
        Case::plain(
            "200 with a length",
            200,
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
            b"hello",
        ),
        Case::plain(
            "100 Continue, then the answer",
            200,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n",
            b"ok",
        ),
        Case::plain(
            "100, 102 and 103 Early Hints (with a length of its own), then a 404",
            404,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\ncontent-length: 9\r\n\r\n\
              HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n\
              HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\n",
            b"not found",
        ),
        Case::err(
            "101 Switching Protocols, never asked for",
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n",
            SwitchingProtocols,
        )
        .hyper_differs(
            "hyper hands a 101 to the caller as an upgrade; stampede never asks for one",
        ),
        Case::plain(
            "204 with a length and no body",
            204,
            b"HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n",
            b"",
        ),
        Case::plain(
            "204, then bytes that are not its body",
            204,
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"",
        )
        .then(b"hello"),
        Case::plain(
            "304 saying chunked, with no body",
            304,
            b"HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n",
            b"",
        ),
        Case::plain(
            "404 with a body",
            404,
            b"HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\n",
            b"not found",
        ),
        Case::plain(
            "429 from API Gateway",
            429,
            b"HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n\
              x-amzn-errortype: ThrottlingException\r\nretry-after: 1\r\ncontent-length: 30\r\n\r\n",
            b"{\"message\":\"Too Many Requests\"",
        ),
        Case::ok(
            "500, chunked",
            500,
            b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n",
            b"8\r\nInternal\r\n7\r\n Server\r\n6\r\n Error\r\n0\r\n\r\n",
            b"Internal Server Error",
        ),
        Case::plain(
            "HTTP/1.0 without keep-alive",
            200,
            b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n",
            b"ok",
        )
        .close(),
        Case::plain(
            "HTTP/1.0 with keep-alive",
            200,
            b"HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\ncontent-length: 2\r\n\r\n",
            b"ok",
        ),
        Case::plain(
            "HTTP/1.0 without a length",
            503,
            b"HTTP/1.0 503 Service Unavailable\r\n\r\n",
            b"try later",
        )
        .until_close(),
        Case::plain(
            "HTTP/1.0 saying close and keep-alive: close wins",
            200,
            b"HTTP/1.0 200 OK\r\nconnection: close, keep-alive\r\ncontent-length: 2\r\n\r\n",
            b"ok",
        )
        .close(),
        Case::plain(
            "HTTP/1.0 with close, then keep-alive on another line: close wins",
            200,
            b"HTTP/1.0 200 OK\r\nconnection: close\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\n",
            b"ok",
        )
        .close(),
        Case::plain(
            "HTTP/1.1 saying keep-alive, close",
            200,
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\ncontent-length: 2\r\n\r\n",
            b"ok",
        )
        .close(),
        Case::plain(
            "HTTP/1.1 with a connection option that is not close",
            200,
            b"HTTP/1.1 200 OK\r\nconnection: upgrade, closed\r\ncontent-length: 2\r\n\r\n",
            b"ok",
        ),
        Case::plain(
            "an odd reason phrase",
            418,
            b"HTTP/1.1 418 I'm a teapot, \"short\" and stout\r\ncontent-length: 3\r\n\r\n",
            b"tea",
        ),
        Case::plain(
            "an empty reason phrase",
            200,
            b"HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\n",
            b"ok",
        ),
        Case::plain(
            "no reason phrase, no space",
            200,
            b"HTTP/1.1 200\r\ncontent-length: 2\r\n\r\n",
            b"ok",
        ),
        Case::plain(
            "a reason phrase with obs-text",
            502,
            b"HTTP/1.1 502 Mauvaise passerelle \xe9\xff\r\ncontent-length: 2\r\n\r\n",
            b"no",
        ),
        Case::plain(
            "status 599",
            599,
            b"HTTP/1.1 599 Whatever\r\ncontent-length: 0\r\n\r\n",
            b"",
        ),
        Case::plain(
            "status 999, the largest",
            999,
            b"HTTP/1.1 999 Odd\r\ncontent-length: 1\r\n\r\n",
            b"x",
        ),
        Case::err(
            "status 099, below any class",
            b"HTTP/1.1 099 Low\r\ncontent-length: 0\r\n\r\n",
            ParseError::Head(httparse::Error::Status),
        ),
        Case::err(
            "status 000",
            b"HTTP/1.1 000 Zero\r\n\r\n",
            ParseError::Head(httparse::Error::Status),
        ),
        Case::bad_head("a four-digit status", b"HTTP/1.1 2000 OK\r\n\r\n"),
        Case::bad_head("a two-digit status", b"HTTP/1.1 20 OK\r\n\r\n"),
        Case::bad_head("HTTP/2 status line", b"HTTP/2 200 OK\r\n\r\n"),
        Case::bad_head("HTTP/1.2", b"HTTP/1.2 200 OK\r\n\r\n"),
        Case::bad_head("not HTTP", b"ICY 200 OK\r\n\r\n"),
        Case::bad_head("a header without a colon", b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n"),
        Case::bad_head(
            "a space in a header name",
            b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
        ),
        Case::bad_head("an empty header name", b"HTTP/1.1 200 OK\r\n: x\r\n\r\n"),
        Case::bad_head(
            "an obsolete folded header",
            b"HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n",
        ),
        Case::bad_head("a NUL in a value", b"HTTP/1.1 200 OK\r\nx-a: a\0b\r\n\r\n"),
        // Content-Length.
        Case::plain(
            "length 0",
            200,
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"",
        ),
        Case::plain(
            "length 0, then the next answer's bytes",
            200,
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"",
        )
        .then(b"HTTP/1.1 200 OK\r\n"),
        Case::plain(
            "100 KB, not kept",
            200,
            b"HTTP/1.1 200 OK\r\nContent-Length: 102400\r\n\r\n",
            &pattern(102_400),
        ),
        Case::plain(
            "100 KB, kept",
            503,
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 102400\r\n\r\n",
            &pattern(102_400),
        ),
        Case::plain(
            "100 KB, kept up to 512 bytes",
            503,
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 102400\r\n\r\n",
            &pattern(102_400),
        )
        .setup(Setup {
            limit: 512,
            ..PLAIN
        }),
        Case::plain(
            "equal lengths in a list",
            400,
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 3, 3,3\r\n\r\n",
            b"bad",
        ),
        Case::plain(
            "equal lengths on two lines",
            400,
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\nContent-Length: 003\r\n\r\n",
            b"bad",
        ),
        Case::plain(
            "a length with leading zeros and spaces",
            400,
            b"HTTP/1.1 400 Bad Request\r\ncontent-length:   0003  \r\n\r\n",
            b"bad",
        ),
        Case::err(
            "unequal lengths on two lines",
            b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd",
            ContentLength,
        ),
        Case::err(
            "unequal lengths in a list",
            b"HTTP/1.1 200 OK\r\ncontent-length: 3, 4\r\n\r\nabcd",
            ContentLength,
        ),
        Case::err(
            "length u64::MAX, cut short",
            b"HTTP/1.1 200 OK\r\ncontent-length: 18446744073709551615\r\n\r\nabc",
            Incomplete,
        ),
        Case::plain(
            "a length on a HEAD answer has no body",
            200,
            b"HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n",
            b"",
        )
        .head_request(),
        Case::plain(
            "a HEAD answer saying chunked has no body",
            200,
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            b"",
        )
        .head_request(),
        Case::plain(
            "a HEAD answer in HTTP/1.0 saying chunked has no body either",
            200,
            b"HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            b"",
        )
        .head_request()
        .close(),
        Case::plain(
            "a HEAD answer with a bad length",
            200,
            b"HTTP/1.1 200 OK\r\ncontent-length: abc\r\n\r\n",
            b"",
        )
        .head_request(),
    ];
    c.extend(framing::cases());
    let bad_lengths: [&[u8]; 11] = [
        b"-1",
        b"abc",
        b"1 2",
        b"+5",
        b"0x10",
        b"",
        b"5,",
        b",5",
        b"5;x",
        b"18446744073709551616",
        b"99999999999999999999999",
    ];
    c.extend(bad_lines(
        "content-length",
        LENGTH_AROUND,
        &bad_lengths,
        ContentLength,
    ));
    c.extend(bad_lines(
        "chunk-size line",
        SIZE_LINE_AROUND,
        &BAD_SIZE_LINES,
        ChunkSize,
    ));
    c
}

/// What comes before and after a bad Content-Length value.
const LENGTH_AROUND: [&[u8]; 2] = [b"HTTP/1.1 200 OK\r\ncontent-length: ", b"\r\n\r\nhello"];

/// What comes before and after a bad chunk-size line.
const SIZE_LINE_AROUND: [&[u8]; 2] = [
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
    b"\r\nhello\r\n0\r\n\r\n",
];

/// A case for each of the `bad` lines set between `around`: the error `e`, each named by
/// `what` and its line.
fn bad_lines(what: &str, around: [&[u8]; 2], bad: &[&[u8]], e: ParseError) -> Vec<Case> {
    bad.iter()
        .map(|bad| {
            let name = format!("{what} {:?}", String::from_utf8_lossy(bad));
            Case::err(&name, &[around[0], bad, around[1]].concat(), e.clone())
        })
        .collect()
}

/// Chunk-size lines that are not one (each followed by CRLF in a case).
pub const BAD_SIZE_LINES: [&[u8]; 15] = [
    b"",
    b";a=b",
    b"g",
    b"5x",
    b" 5",
    b"5 5",
    b"0x5",
    b"-1",
    b"+5",
    b"10000000000000000",
    b"5\x0c",
    b"5\r",
    b"5\r;a",
    b"5;a\rb",
    b"5;a\r\r",
];

/// Body bytes that are not all alike (a misplaced offset shows).
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}
