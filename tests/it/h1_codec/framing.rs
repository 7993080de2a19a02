//! The corpus, continued: chunked answers, answers until the close, the head's limits and
//! Invoke answers.

use stampede::transport::h1::{ParseError, MAX_HEAD};

use super::case::Case;
use super::driver::{INVOKE, MAX_LINE};

/// The corpus's cases past Content-Length, in order.
pub fn cases() -> Vec<Case> {
    use ParseError::*;
    vec![
        // Chunked.
        Case::ok(
            "chunked, one chunk",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            b"5\r\nhello\r\n0\r\n\r\n",
            b"hello",
        ),
        Case::ok(
            "chunked, no chunk",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            b"0\r\n\r\n",
            b"",
        ),
        Case::ok(
            "chunked, upper and lower hex and leading zeros",
            404,
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: Chunked\r\n\r\n",
            b"A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0001\r\n!\r\n000\r\n\r\n",
            b"0123456789abcdefghijk!",
        ),
        Case::ok(
            "chunked, extensions and whitespace before them",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            b"2;a=b\r\nab\r\n2 ;a=b\r\ncd\r\n2\t; name=\"quoted value\"\r\nef\r\n\
              2  \r\ngh\r\n2\t\r\nij\r\n0;last\r\n\r\n",
            b"abcdefghij",
        ),
        Case::ok(
            "chunked, trailers",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            b"3\r\nabc\r\n0\r\nx-checksum: 123\r\nx-other: a, b\r\n\r\n",
            b"abc",
        ),
        Case::ok(
            "chunked, then the next answer's bytes",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
            b"abc",
        )
        .then(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
        Case::ok(
            "gzip, chunked: chunked",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
            b"abc",
        ),
        Case::ok(
            "gzip, then chunked on another line: chunked",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
            b"abc",
        ),
        Case::plain(
            "chunked, gzip: until the close",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked, gzip\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
        )
        .until_close(),
        Case::plain(
            "chunked, then gzip on another line: until the close",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\ntransfer-encoding: gzip\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
        )
        .until_close(),
        Case::ok(
            "chunked and a length: chunked wins",
            404,
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
            b"abc",
        ),
        Case::ok(
            "chunked and a bad length: chunked wins",
            404,
            b"HTTP/1.1 404 Not Found\r\ncontent-length: x\r\ntransfer-encoding: chunked\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
            b"abc",
        ),
        Case::err(
            "chunked in HTTP/1.0",
            b"HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            TransferEncodingInHttp10,
        ),
        Case::err(
            "gzip in HTTP/1.0",
            b"HTTP/1.0 200 OK\r\ntransfer-encoding: gzip\r\n\r\nabc",
            TransferEncodingInHttp10,
        ),
        Case::err(
            "a chunk size ffffffffffffffff (u64::MAX), cut short",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
            Incomplete,
        ),
        Case::err(
            "chunk data not followed by CRLF",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc0\r\n\r\n",
            ChunkEnd,
        ),
        Case::err(
            "chunk data followed by a bare LF",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n",
            ChunkEnd,
        ),
        Case::err(
            "chunk data followed by CR CR LF",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\r\n0\r\n\r\n",
            ChunkEnd,
        ),
        Case::err(
            "a chunk-size line ending in a bare LF",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
            ChunkSize,
        ),
        Case::err(
            "a trailer line ending in a bare LF",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-a: 1\n\r\n",
            ChunkSize,
        ),
        Case::ok(
            "a trailer that is not a field line",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            b"3\r\nabc\r\n0\r\nnot a field\r\n\r\n",
            b"abc",
        )
        .hyper_differs(
            "hyper parses trailer fields and fails on a bad one; we skip trailers unread",
        ),
        Case::ok(
            "extensions over 16 KB in all, under 16 KB a line",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            &many_extensions(20, 1000),
            &[b'x'; 20],
        )
        .hyper_differs(
            "hyper caps all of a body's chunk extensions at 16 KB; we cap each line at 16 KB",
        ),
        Case::ok(
            "trailers over 16 KB in all",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            &many_trailers(40, 500),
            b"abc",
        )
        .hyper_differs("hyper caps trailers at 16 KB in all; we cap each line at 16 KB"),
        Case::ok(
            "a chunk-size line exactly at the line limit",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n",
            &long_size_line(MAX_LINE),
            b"abc",
        ),
        Case::err(
            "a chunk-size line one byte over the line limit",
            &[
                &b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n"[..],
                &long_size_line(MAX_LINE + 1),
            ]
            .concat(),
            LineTooLong,
        )
        .hyper_differs("hyper caps the extensions of a body at 16 KB, not a line"),
        Case::err(
            "a trailer line over the line limit",
            &[
                &b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-a: "[..],
                &[b'a'; MAX_LINE][..],
                b"\r\n\r\n",
            ]
            .concat(),
            LineTooLong,
        ),
        Case::plain(
            "chunked, then a trailing comma: the last coding is empty, until the close",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked,\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
        )
        .until_close(),
        Case::plain(
            "an empty transfer-encoding and a length: until the close",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding:\r\ncontent-length: 1\r\n\r\n",
            b"abc",
        )
        .until_close(),
        Case::ok(
            "obs-text before chunked",
            404,
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: gz\xc3\xafp, chunked\r\n\r\n",
            b"3\r\nabc\r\n0\r\n\r\n",
            b"abc",
        )
        .hyper_differs(
            "hyper reads a non-ASCII Transfer-Encoding as not chunked (until the close); \
             we read its last coding, as for any other",
        ),
        Case::plain(
            "a head with bare LF line ends",
            404,
            b"HTTP/1.1 404 Not Found\ncontent-length: 2\n\n",
            b"no",
        ),
        Case::plain(
            "an empty line before the status line",
            404,
            b"\r\nHTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n",
            b"no",
        ),
        // Until the close.
        Case::plain("no length: until the close", 200, b"HTTP/1.1 200 OK\r\n\r\n", b"all of it")
            .until_close(),
        Case::plain(
            "no length, kept: until the close",
            500,
            b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\n\r\n",
            b"everything until the close\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
        )
        .until_close(),
        Case::plain(
            "gzip: until the close",
            500,
            b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: gzip\r\ncontent-length: 2\r\n\r\n",
            b"\x1f\x8b not really",
        )
        .until_close(),
        Case::plain(
            "no length and no body",
            500,
            b"HTTP/1.1 500 Internal Server Error\r\n\r\n",
            b"",
        )
        .until_close(),
        // The head's limits.
        Case::plain("100 header fields", 200, &fields(100), b"ok"),
        Case::err(
            "101 header fields",
            &fields(101),
            ParseError::Head(httparse::Error::TooManyHeaders),
        ),
        Case::plain("a head exactly MAX_HEAD long", 200, &head_of_len(MAX_HEAD), b"ok"),
        Case::err(
            "a head one byte over MAX_HEAD",
            &[&head_of_len(MAX_HEAD + 1)[..], b"ok"].concat(),
            HeadTooLarge,
        )
        .hyper_differs("hyper's read buffer takes a head of up to about 400 KB"),
        // hyper checks its limit (408 KB) only when a read leaves the head incomplete: a
        // head somewhat over it that ends within one read passes. 600 KB never does.
        Case::err(
            "a head of 600 KB",
            &[&head_of_len(600 * 1024)[..], b"ok"].concat(),
            HeadTooLarge,
        ),
        Case::err("nothing at all", b"", Incomplete),
        Case::err("a head cut short", b"HTTP/1.1 200 OK\r\ncontent-le", Incomplete),
        Case::err(
            "an interim answer and nothing else",
            b"HTTP/1.1 100 Continue\r\n\r\n",
            Incomplete,
        ),
        // Invoke answers.
        Case::plain(
            "a function error on Invoke: kept",
            200,
            b"HTTP/1.1 200 OK\r\nX-Amz-Function-Error: Unhandled\r\ncontent-length: 17\r\n\r\n",
            b"{\"errorType\":\"X\"}",
        )
        .setup(INVOKE)
        .kept(true),
        Case::plain(
            "a function error header off Invoke: not kept",
            200,
            b"HTTP/1.1 200 OK\r\nX-Amz-Function-Error: Unhandled\r\ncontent-length: 17\r\n\r\n",
            b"{\"errorType\":\"X\"}",
        ),
    ]
}

/// A chunked body of `chunks` one-byte chunks, each with an extension of `ext` bytes.
pub fn many_extensions(chunks: usize, ext: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..chunks {
        out.extend_from_slice(b"1;e=");
        out.extend(std::iter::repeat_n(b'v', ext));
        out.extend_from_slice(b"\r\nx\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A chunked body of "abc" with `n` trailer fields of about `size` bytes each.
pub fn many_trailers(n: usize, size: usize) -> Vec<u8> {
    let mut out = b"3\r\nabc\r\n0\r\n".to_vec();
    for i in 0..n {
        out.extend_from_slice(format!("x-t{i}: ").as_bytes());
        out.extend(std::iter::repeat_n(b't', size));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A chunked body of "abc" whose first chunk-size line is `len` bytes, CRLF included.
pub fn long_size_line(len: usize) -> Vec<u8> {
    let mut out = b"3;e=".to_vec();
    out.extend(std::iter::repeat_n(b'v', len - out.len() - 2));
    out.extend_from_slice(b"\r\nabc\r\n0\r\n\r\n");
    out
}

/// A 200 head with `n` fields and a length of 2.
pub fn fields(n: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n".to_vec();
    for i in 1..n {
        out.extend_from_slice(format!("x-field-{i}: {i}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A 200 head of exactly `len` bytes with a length of 2 (one long field fills it).
pub fn head_of_len(len: usize) -> Vec<u8> {
    let start = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-fill: ";
    let mut out = start.to_vec();
    out.extend(std::iter::repeat_n(b'f', len - start.len() - 4));
    out.extend_from_slice(b"\r\n\r\n");
    assert_eq!(out.len(), len);
    out
}
