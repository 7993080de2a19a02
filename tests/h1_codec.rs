//! The load path's HTTP/1.1 codec (`transport::h1`), proved four ways:
//!
//! 1. the answer does not depend on how its bytes arrive: whole, cut in two at every offset,
//!    byte by byte and in random pieces, the reader gives the same head, kept body, error and
//!    count of bytes taken;
//! 2. a corpus of hand-written answers and a seeded generator, each with what it must give —
//!    and every prefix of each: a cut answer is an error, unless its head is whole and its
//!    body runs until the server closes;
//! 3. hyper's client (a parser we did not write) reads the same bytes: it agrees on ok or
//!    error, status and body, but in the cases marked with why;
//! 4. end to end over loopback TCP, the answers written a few bytes at a time: keep-alive,
//!    `Connection: close`, chunked, a server that closes an idle connection, and the request
//!    bytes the server receives.
//!
//! `STAMPEDE_H1_SEED` and `STAMPEDE_H1_CASES` change the generator's seed and count.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use stampede::scenario::Target;
use stampede::transport::auth::Auth;
use stampede::transport::h1::{
    Connection, ExchangeError, Head, ParseError, RequestTemplate, ResponseReader, Stream, MAX_HEAD,
};
use stampede::transport::{tls_config, Failure, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const DEFAULT_SEED: u64 = 0x4831_c0de_c0de_0001;
const DEFAULT_CASES: usize = 400;

/// The parser's limit on a chunk-size or trailer line (private to it; the corpus probes
/// both sides of it).
const MAX_LINE: usize = 16 * 1024;

/// Up to this length a case is cut at every offset; past it, at a sample (a large body cut
/// in two at each of 100 000 offsets would take minutes in a debug build).
const EXHAUSTIVE: usize = 4 * 1024;

// -------------------------------------------------------------------------------------------
// The driver: bytes fed in pieces, as `Connection::exchange` reads them.

/// How a reader is made for a case.
#[derive(Clone, Copy, Debug)]
struct Setup {
    head_request: bool,
    invoke: bool,
    limit: usize,
}

/// The generator's setup: an Invoke reader that keeps all of a body it keeps.
const INVOKE: Setup = Setup {
    head_request: false,
    invoke: true,
    limit: usize::MAX,
};

/// A plain HTTP target's reader, keeping all of a body it keeps.
const PLAIN: Setup = Setup {
    head_request: false,
    invoke: false,
    limit: usize::MAX,
};

/// What the reader made of some bytes.
#[derive(Clone, Debug, PartialEq)]
enum Read {
    /// The answer, the body it kept, and how many bytes it took (the rest are not its).
    Answer {
        head: Box<Head>,
        excerpt: Vec<u8>,
        used: usize,
    },
    Failed(ParseError),
}

impl Read {
    /// One line, without the bodies (some are 100 KB).
    fn brief(&self) -> String {
        match self {
            Read::Answer {
                head,
                excerpt,
                used,
            } => format!(
                "answer {} close={} excerpt={} bytes (fnv {:x}) used={used}",
                head.status,
                head.close,
                excerpt.len(),
                fnv(excerpt)
            ),
            Read::Failed(e) => format!("error {e:?}"),
        }
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Reads `input` as the connection does: the reader is fed its buffer, the bytes it took
/// are dropped from the front, the rest (an incomplete head or line) stays and the next
/// piece is appended; the pieces end at `ends` (ascending offsets), and when they run out
/// before the answer is done the server has closed: `eof`.
fn drive(input: &[u8], ends: &[usize], setup: Setup) -> Read {
    let mut reader = ResponseReader::new(setup.head_request, setup.invoke, setup.limit);
    let mut buf: Vec<u8> = Vec::new();
    let (mut used, mut given) = (0, 0);
    let mut ends = ends.iter().copied().chain(std::iter::once(input.len()));
    loop {
        let took = match reader.feed(&buf) {
            Ok(n) => n,
            Err(e) => return Read::Failed(e),
        };
        assert!(took <= buf.len(), "took {took} of {} bytes", buf.len());
        used += took;
        buf.drain(..took);
        if reader.is_done() {
            break;
        }
        // What is left waits for more bytes: it must stay within the parser's bounds, or a
        // server could grow the connection's buffer without end.
        assert!(
            buf.len() < MAX_HEAD,
            "{} bytes left unread and no error",
            buf.len()
        );
        match ends.find(|&end| end > given) {
            Some(end) => {
                buf.extend_from_slice(&input[given..end]);
                given = end;
            }
            None => {
                if let Err(e) = reader.eof() {
                    return Read::Failed(e);
                }
                break;
            }
        }
    }
    let (head, excerpt) = reader.finish();
    Read::Answer {
        head: Box::new(head),
        excerpt,
        used,
    }
}

/// Offsets that cut `len` bytes into pieces of 1 to `most` bytes.
fn random_ends(rng: &mut fastrand::Rng, len: usize, most: usize) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 0;
    while at < len {
        at += rng.usize(1..=most);
        ends.push(at.min(len));
    }
    ends
}

/// Reads the case whole, then in every way its bytes can arrive (a sample for large
/// cases), and checks each reading is the whole one. Returns the whole one.
fn assert_split_invariant(case: &Case, rng: &mut fastrand::Rng) -> Read {
    let input = &case.bytes;
    let len = input.len();
    let whole = drive(input, &[], case.setup);
    let same = |ends: &[usize], how: &dyn Fn() -> String| {
        let got = drive(input, ends, case.setup);
        assert!(
            got == whole,
            "{}: read {} gives {}, whole gives {}",
            case.name,
            how(),
            got.brief(),
            whole.brief()
        );
    };
    for at in cuts(case) {
        if 0 < at && at < len {
            same(&[at], &|| format!("cut in two at {at}"));
        }
    }
    // Byte by byte re-reads an incomplete head or line at every byte: only when both are
    // of a sane size.
    let longest_line = input
        .split(|b| *b == b'\n')
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
    if head_len(input) <= 16 * 1024 && longest_line <= 8 * 1024 {
        let ends: Vec<usize> = (1..len).collect();
        same(&ends, &|| "byte by byte".into());
        for most in [3, 7, 64, 1500] {
            let ends = random_ends(rng, len, most);
            same(&ends, &|| {
                format!("in pieces of 1..={most} bytes at {ends:?}")
            });
        }
    } else {
        for most in [1500, 4096, 16 * 1024, 64 * 1024] {
            let ends = random_ends(rng, len, most);
            same(&ends, &|| format!("in pieces of 1..={most} bytes"));
        }
    }
    whole
}

/// Where to cut a case: everywhere when it is small; else, as many cuts as 8 MB of reading
/// affords, half of them all around its start, its first head's end, MAX_HEAD and its end,
/// half spread evenly between.
fn cuts(case: &Case) -> Vec<usize> {
    let len = case.bytes.len();
    if len <= EXHAUSTIVE {
        return (0..=len).collect();
    }
    let affordable = (8 << 20) / len;
    let around = (affordable / 16).clamp(4, 512);
    let spread = (affordable / 2).max(16);
    let mut at: Vec<usize> = [0, head_len(&case.bytes), MAX_HEAD, len]
        .into_iter()
        .flat_map(|m| m.saturating_sub(around)..=(m + around).min(len))
        .chain((0..=len).step_by(len.div_ceil(spread)))
        .collect();
    at.sort_unstable();
    at.dedup();
    at
}

/// The length of the first head, or all of `bytes` when it does not end.
fn head_len(bytes: &[u8]) -> usize {
    find(bytes, b"\r\n\r\n").map_or(bytes.len(), |at| at + 4)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// -------------------------------------------------------------------------------------------
// Cases and what each must give.

/// Some bytes a server sends, and what reading them must give.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    bytes: Vec<u8>,
    setup: Setup,
    want: Want,
    /// Why hyper's client reads these bytes otherwise (None: it must agree).
    hyper_differs: Option<&'static str>,
}

#[derive(Clone, Debug)]
enum Want {
    Answer(Expected),
    Error(ParseError),
    /// httparse rejects the head (which complaint is its business).
    BadHead,
}

#[derive(Clone, Debug)]
struct Expected {
    status: u16,
    close: bool,
    /// The whole body, as the server meant it.
    body: Vec<u8>,
    /// Whether the reader keeps the body: a status of 400 and above, or a function error.
    kept: bool,
    /// Where the final head ends, and where the answer ends.
    head_end: usize,
    end: usize,
    /// The body runs until the server closes.
    until_close: bool,
}

impl Case {
    /// An answer: `head` (interim answers included), then `wire` (the body as framed),
    /// whose content is `body`. Kept when the status is 400 or above.
    fn ok(name: &str, status: u16, head: &[u8], wire: &[u8], body: &[u8]) -> Case {
        let mut bytes = head.to_vec();
        bytes.extend_from_slice(wire);
        Case {
            name: name.to_string(),
            want: Want::Answer(Expected {
                status,
                close: false,
                body: body.to_vec(),
                kept: status >= 400,
                head_end: head.len(),
                end: bytes.len(),
                until_close: false,
            }),
            bytes,
            setup: PLAIN,
            hyper_differs: None,
        }
    }

    /// A body framed by its length, or not framed at all.
    fn plain(name: &str, status: u16, head: &[u8], body: &[u8]) -> Case {
        Case::ok(name, status, head, body, body)
    }

    fn err(name: &str, bytes: &[u8], e: ParseError) -> Case {
        Case {
            name: name.to_string(),
            bytes: bytes.to_vec(),
            setup: PLAIN,
            want: Want::Error(e),
            hyper_differs: None,
        }
    }

    fn bad_head(name: &str, bytes: &[u8]) -> Case {
        Case {
            want: Want::BadHead,
            ..Case::err(name, bytes, ParseError::Incomplete)
        }
    }

    fn expected(&mut self) -> &mut Expected {
        match &mut self.want {
            Want::Answer(e) => e,
            _ => panic!("{}: not an answer", self.name),
        }
    }

    fn close(mut self) -> Case {
        self.expected().close = true;
        self
    }

    /// The body runs until the server closes (and so the connection is done with).
    fn until_close(mut self) -> Case {
        let e = self.expected();
        e.until_close = true;
        e.close = true;
        self
    }

    /// Bytes after the answer, which are not its.
    fn then(mut self, rest: &[u8]) -> Case {
        self.bytes.extend_from_slice(rest);
        self
    }

    fn kept(mut self, kept: bool) -> Case {
        self.expected().kept = kept;
        self
    }

    fn setup(mut self, setup: Setup) -> Case {
        self.setup = setup;
        self
    }

    fn head_request(mut self) -> Case {
        self.setup.head_request = true;
        self
    }

    fn hyper_differs(mut self, why: &'static str) -> Case {
        self.hyper_differs = Some(why);
        self
    }
}

/// Checks a reading against what the case wants.
fn check(case: &Case, got: &Read) {
    let fail = |why: &str| -> ! {
        panic!(
            "{}: {why}; wanted {}, got {}",
            case.name,
            want_brief(&case.want),
            got.brief()
        )
    };
    match (&case.want, got) {
        (
            Want::Answer(e),
            Read::Answer {
                head,
                excerpt,
                used,
            },
        ) => {
            if head.status != e.status {
                fail("status");
            }
            if head.close != e.close {
                fail("close");
            }
            if *used != e.end {
                fail("bytes taken");
            }
            if excerpt[..] != kept_part(case, e, &e.body)[..] {
                fail("kept body");
            }
        }
        (Want::Error(e), Read::Failed(g)) if e == g => {}
        (Want::BadHead, Read::Failed(ParseError::Head(_))) => {}
        _ => fail("a different reading"),
    }
}

/// What the reader keeps of `body`.
fn kept_part<'b>(case: &Case, e: &Expected, body: &'b [u8]) -> &'b [u8] {
    if e.kept {
        &body[..body.len().min(case.setup.limit)]
    } else {
        &[]
    }
}

fn want_brief(want: &Want) -> String {
    match want {
        Want::Answer(e) => format!(
            "answer {} close={} body={} bytes kept={} used={}",
            e.status,
            e.close,
            e.body.len(),
            e.kept,
            e.end
        ),
        Want::Error(e) => format!("error {e:?}"),
        Want::BadHead => "a bad head".into(),
    }
}

/// Every prefix of a case, as if the server closed there: an error (the case's own, or
/// `Incomplete`) unless the answer is already whole, or its head is and its body runs
/// until the close.
fn assert_prefixes(case: &Case) {
    let len = case.bytes.len();
    for k in cuts(case) {
        let got = drive(&case.bytes[..k], &[], case.setup);
        let fine = match (&case.want, &got) {
            (Want::Answer(e), _) if k >= e.end => {
                check(case, &got);
                true
            }
            (
                Want::Answer(e),
                Read::Answer {
                    head,
                    excerpt,
                    used,
                },
            ) => {
                e.until_close
                    && k >= e.head_end
                    && head.status == e.status
                    && head.close
                    && *used == k
                    && excerpt[..] == kept_part(case, e, &e.body[..k - e.head_end])[..]
            }
            (Want::Answer(e), Read::Failed(ParseError::Incomplete)) => {
                !(e.until_close && k >= e.head_end)
            }
            (Want::Error(e), Read::Failed(g)) => *g == ParseError::Incomplete || g == e,
            (Want::BadHead, Read::Failed(g)) => {
                matches!(g, ParseError::Incomplete | ParseError::Head(_))
            }
            _ => false,
        };
        assert!(
            fine,
            "{}: cut to {k} of {len} bytes gives {} (the whole: {})",
            case.name,
            got.brief(),
            want_brief(&case.want)
        );
    }
}

// -------------------------------------------------------------------------------------------
// The corpus: hand-written answers, each for a rule.

fn corpus() -> Vec<Case> {
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
    ];
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
    for bad in bad_lengths {
        let mut bytes = b"HTTP/1.1 200 OK\r\ncontent-length: ".to_vec();
        bytes.extend_from_slice(bad);
        bytes.extend_from_slice(b"\r\n\r\nhello");
        let name = format!("content-length {:?}", String::from_utf8_lossy(bad));
        c.push(Case::err(&name, &bytes, ContentLength));
    }
    for bad in BAD_SIZE_LINES {
        let mut bytes = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        bytes.extend_from_slice(bad);
        bytes.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        let name = format!("chunk-size line {:?}", String::from_utf8_lossy(bad));
        c.push(Case::err(&name, &bytes, ChunkSize));
    }
    c
}

/// Chunk-size lines that are not one (each followed by CRLF in a case).
const BAD_SIZE_LINES: [&[u8]; 15] = [
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
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A chunked body of `chunks` one-byte chunks, each with an extension of `ext` bytes.
fn many_extensions(chunks: usize, ext: usize) -> Vec<u8> {
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
fn many_trailers(n: usize, size: usize) -> Vec<u8> {
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
fn long_size_line(len: usize) -> Vec<u8> {
    let mut out = b"3;e=".to_vec();
    out.extend(std::iter::repeat_n(b'v', len - out.len() - 2));
    out.extend_from_slice(b"\r\nabc\r\n0\r\n\r\n");
    out
}

/// A 200 head with `n` fields and a length of 2.
fn fields(n: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n".to_vec();
    for i in 1..n {
        out.extend_from_slice(format!("x-field-{i}: {i}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A 200 head of exactly `len` bytes with a length of 2 (one long field fills it).
fn head_of_len(len: usize) -> Vec<u8> {
    let start = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-fill: ";
    let mut out = start.to_vec();
    out.extend(std::iter::repeat_n(b'f', len - start.len() - 4));
    out.extend_from_slice(b"\r\n\r\n");
    assert_eq!(out.len(), len);
    out
}

// -------------------------------------------------------------------------------------------
// The generator: seeded answers of every framing, with one fault in some.

fn seed() -> u64 {
    std::env::var("STAMPEDE_H1_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

fn generated() -> Vec<Case> {
    let count = std::env::var("STAMPEDE_H1_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let mut rng = fastrand::Rng::with_seed(seed());
    (0..count).map(|i| generate(&mut rng, i)).collect()
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, from: &[T]) -> T {
    from[rng.usize(..from.len())]
}

type Field = (String, Vec<u8>);

fn field(name: &str, value: impl AsRef<[u8]>) -> Field {
    (name.to_string(), value.as_ref().to_vec())
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    Length,
    Chunked,
    UntilClose,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Clean,
    Cut,
    BadLength,
    UnequalLength,
    BadSizeLine,
    BareLf,
    NoCrlfAfterData,
    LowStatus,
    Switching,
    BadHead,
    TooManyFields,
    Trailing,
}

#[derive(Clone, Copy, Debug)]
enum ChunkFault {
    SizeLine(&'static [u8]),
    BareLf,
    NoCrlf(&'static [u8]),
}

const STATUSES: [u16; 21] = [
    200, 200, 200, 201, 202, 204, 206, 299, 301, 304, 400, 403, 404, 413, 429, 429, 500, 502, 503,
    504, 599,
];
const REASONS: [&[u8]; 7] = [
    b"OK",
    b"",
    b"Too Many Requests",
    b"anything at all",
    b"caf\xc3\xa9",
    b"tab\there",
    b"\xff obs-text",
];
const INTERIM: [&[u8]; 3] = [
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n",
    b"HTTP/1.1 102 Processing\r\ncontent-length: 7\r\n\r\n",
];
const EXTENSIONS: [&str; 8] = [
    ";a=b",
    " ;a=b",
    "\t;a=b",
    ";name=\"quoted value\"",
    ";x",
    "  ",
    "\t",
    " ; a = b",
];
const NO_CRLF: [&[u8]; 5] = [b"X\r\n", b"\n", b"\r\r\n", b"\rX", b" \r\n"];
const BAD_HEADS: [&[u8]; 6] = [
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 20 OK\r\n\r\n",
    b"HTTP/2 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n",
];

fn random_body(rng: &mut fastrand::Rng) -> Vec<u8> {
    let len = match rng.u8(..100) {
        0..=9 => 0,
        10..=49 => rng.usize(1..32),
        50..=84 => rng.usize(32..600),
        85..=97 => rng.usize(600..5000),
        _ => rng.usize(60_000..110_000),
    };
    std::iter::repeat_with(|| rng.u8(..)).take(len).collect()
}

/// Content-Length fields for `n`, in one of the ways servers write them.
fn length_fields(rng: &mut fastrand::Rng, n: usize) -> Vec<Field> {
    match rng.u8(..6) {
        0 => vec![field("Content-Length", n.to_string())],
        1 => vec![
            field("content-length", n.to_string()),
            field("content-length", n.to_string()),
        ],
        2 => vec![field("content-length", format!("{n}, {n}"))],
        3 => vec![field("CONTENT-LENGTH", format!("{n:0>5}"))],
        4 => vec![field("content-length", format!("{n}\t "))],
        _ => vec![field("content-length", n.to_string())],
    }
}

/// Transfer-Encoding fields whose last coding is chunked.
fn chunked_fields(rng: &mut fastrand::Rng) -> Vec<Field> {
    match rng.u8(..6) {
        0 => vec![field("Transfer-Encoding", "Chunked")],
        1 => vec![field("transfer-encoding", "gzip, chunked")],
        2 => vec![
            field("transfer-encoding", "gzip"),
            field("transfer-encoding", "chunked"),
        ],
        3 => vec![
            field("transfer-encoding", "chunked"),
            field("content-length", "3"),
        ],
        4 => vec![
            field("content-length", "abc"),
            field("transfer-encoding", "chunked"),
        ],
        _ => vec![field("transfer-encoding", "chunked")],
    }
}

/// `body` in chunks of random sizes, with extensions and trailers, and `fault` in the first
/// chunk; and how many extension bytes hyper counts in it (those after each `;`).
fn chunked(rng: &mut fastrand::Rng, body: &[u8], fault: Option<ChunkFault>) -> (Vec<u8>, usize) {
    let upper = rng.bool();
    // Tiny chunks for small bodies only: 100 KB in 1-byte chunks is 300 KB to cut up.
    let biggest = match body.len() {
        0..=1024 => pick(rng, &[1usize, 7, 100, 5000]),
        1025..=8192 => pick(rng, &[7, 100, 5000]),
        _ => pick(rng, &[100, 5000, 16384]),
    };
    let mut out = Vec::new();
    let mut at = 0;
    let mut first = true;
    let mut extensions = 0;
    loop {
        let n = match body.len() - at {
            0 => 0,
            left => rng.usize(1..=left.min(biggest)),
        };
        let mut size = if upper {
            format!("{n:X}")
        } else {
            format!("{n:x}")
        };
        if rng.u8(..8) == 0 {
            size.insert_str(0, "00");
        }
        if rng.u8(..3) == 0 {
            let ext = pick(rng, &EXTENSIONS);
            extensions += ext.find(';').map_or(0, |at| ext.len() - at - 1);
            size.push_str(ext);
        }
        match (first, fault) {
            (true, Some(ChunkFault::SizeLine(bad))) => out.extend_from_slice(bad),
            _ => out.extend_from_slice(size.as_bytes()),
        }
        match (first, fault) {
            (true, Some(ChunkFault::BareLf)) => out.push(b'\n'),
            _ => out.extend_from_slice(b"\r\n"),
        }
        if n == 0 {
            break;
        }
        out.extend_from_slice(&body[at..at + n]);
        at += n;
        match (first, fault) {
            (true, Some(ChunkFault::NoCrlf(after))) => out.extend_from_slice(after),
            _ => out.extend_from_slice(b"\r\n"),
        }
        first = false;
    }
    for t in 0..rng.usize(..3) {
        out.extend_from_slice(format!("x-trailer-{t}: {}\r\n", rng.u32(..)).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    (out, extensions)
}

/// `a` and `b` interleaved at random, each in its own order.
fn interleave(rng: &mut fastrand::Rng, a: Vec<Field>, b: Vec<Field>) -> Vec<Field> {
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    let mut out = Vec::new();
    loop {
        let from_a = match (a.peek(), b.peek()) {
            (None, None) => return out,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            _ => rng.bool(),
        };
        out.extend(if from_a { a.next() } else { b.next() });
    }
}

fn generate(rng: &mut fastrand::Rng, i: usize) -> Case {
    use Fault::*;
    let mut fault = match rng.u8(..100) {
        0..=59 => Clean,
        60..=71 => Cut,
        72..=74 => BadLength,
        75..=76 => UnequalLength,
        77..=81 => BadSizeLine,
        82 => BareLf,
        83..=85 => NoCrlfAfterData,
        86 => LowStatus,
        87 => Switching,
        88..=89 => BadHead,
        90 => TooManyFields,
        _ => Trailing,
    };
    let head_request = rng.u8(..8) == 0;
    let http10 = rng.u8(..6) == 0;
    let status = match fault {
        LowStatus => pick(rng, &[0, 42, 99]),
        Switching => 101,
        _ => pick(rng, &STATUSES),
    };
    let no_body = head_request || status == 204 || status == 304;
    let mut framing = pick(
        rng,
        &[
            Framing::Length,
            Framing::Length,
            Framing::Chunked,
            Framing::Chunked,
            Framing::UntilClose,
        ],
    );
    match fault {
        BadLength | UnequalLength => framing = Framing::Length,
        BadSizeLine | BareLf | NoCrlfAfterData => framing = Framing::Chunked,
        _ => {}
    }
    let mut body = random_body(rng);
    if fault == NoCrlfAfterData && body.is_empty() {
        body.push(b'!');
    }

    // The final head.
    let mut others = Vec::new();
    if rng.bool() {
        others.push(field("date", "Tue, 15 Nov 1994 08:12:31 GMT"));
    }
    if rng.bool() {
        others.push(field("x-amzn-requestid", format!("{:08x}", rng.u32(..))));
    }
    if status >= 400 && rng.bool() {
        let kind = pick(
            rng,
            &[
                "ThrottlingException",
                "ServiceException:http://internal.amazon.com/",
            ],
        );
        others.push(field("x-amzn-errortype", kind));
    }
    if matches!(status, 429 | 503) && rng.bool() {
        others.push(field("retry-after", rng.u8(..10).to_string()));
    }
    let function_error = rng.u8(..3) != 0;
    if function_error {
        let name = pick(rng, &["x-amz-function-error", "X-Amz-Function-Error"]);
        others.push(field(name, "Unhandled"));
    }
    let (mut close, mut keep_alive) = (false, false);
    match rng.u8(..9) {
        0 => {
            others.push(field("connection", "close"));
            close = true;
        }
        1 => {
            others.push(field(
                "connection",
                pick(rng, &["keep-alive", "Keep-Alive"]),
            ));
            keep_alive = true;
        }
        2 => {
            let both = pick(
                rng,
                &["keep-alive, close", "close, keep-alive", "Close,Keep-Alive"],
            );
            others.push(field("connection", both));
            (close, keep_alive) = (true, true);
        }
        3 => {
            others.push(field("connection", "keep-alive"));
            others.push(field("Connection", "close"));
            if rng.bool() {
                others.reverse();
            }
            (close, keep_alive) = (true, true);
        }
        4 => others.push(field("connection", "upgrade")),
        _ => {}
    }
    let fillers = if fault == TooManyFields {
        101
    } else {
        rng.usize(..6)
    };
    for f in 0..fillers {
        let len = rng.usize(..20);
        let value: String = std::iter::repeat_with(|| rng.alphanumeric())
            .take(len)
            .collect();
        others.push(field(&format!("x-filler-{f}"), value));
    }
    rng.shuffle(&mut others);

    let framing_fields = match (framing, fault) {
        (Framing::Length, BadLength) => {
            let bad = pick(
                rng,
                &["-1", "abc", "1 2", "+5", "", "5,", "18446744073709551616"],
            );
            vec![field("content-length", bad)]
        }
        (Framing::Length, UnequalLength) => {
            let n = body.len();
            if rng.bool() {
                vec![
                    field("content-length", n.to_string()),
                    field("content-length", (n + 1).to_string()),
                ]
            } else {
                vec![field("content-length", format!("{n}, {}", n + 1))]
            }
        }
        (Framing::Length, _) => length_fields(rng, body.len()),
        (Framing::Chunked, _) => chunked_fields(rng),
        (Framing::UntilClose, _) if http10 => vec![],
        (Framing::UntilClose, _) => match rng.u8(..8) {
            0 => vec![field("transfer-encoding", "gzip")],
            1 => vec![field("transfer-encoding", "chunked, gzip")],
            2 => vec![
                field("transfer-encoding", "chunked"),
                field("transfer-encoding", "gzip"),
            ],
            3 => vec![field("transfer-encoding", "identity")],
            _ => vec![],
        },
    };
    let fields = interleave(rng, framing_fields, others);

    let mut bytes = Vec::new();
    for _ in 0..rng.usize(..4).saturating_sub(1) {
        bytes.extend_from_slice(pick(rng, &INTERIM));
    }
    if fault == BadHead {
        bytes.extend_from_slice(pick(rng, &BAD_HEADS));
    } else {
        let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        bytes.extend_from_slice(format!("{version} {status:03} ").as_bytes());
        bytes.extend_from_slice(pick(rng, &REASONS));
        bytes.extend_from_slice(b"\r\n");
        for (name, value) in &fields {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
    }
    let head_end = bytes.len();

    let chunk_fault = match fault {
        BadSizeLine => Some(ChunkFault::SizeLine(pick(rng, &BAD_SIZE_LINES))),
        BareLf => Some(ChunkFault::BareLf),
        NoCrlfAfterData => Some(ChunkFault::NoCrlf(pick(rng, &NO_CRLF))),
        _ => None,
    };
    // A HEAD answer, a 204 and a 304 have no body whatever their head says.
    let mut extensions = 0;
    if !no_body {
        match framing {
            Framing::Chunked => {
                let (wire, ext) = chunked(rng, &body, chunk_fault);
                bytes.extend_from_slice(&wire);
                extensions = ext;
            }
            _ => bytes.extend_from_slice(&body),
        }
    }
    let until_close = !no_body && framing == Framing::UntilClose;

    // What it must give, by RFC 9112 §6.3 in the order hyper applies it.
    let mut want = if status < 100 {
        Want::Error(ParseError::Head(httparse::Error::Status))
    } else if fault == BadHead {
        Want::BadHead
    } else if fault == TooManyFields {
        Want::Error(ParseError::Head(httparse::Error::TooManyHeaders))
    } else if status == 101 {
        Want::Error(ParseError::SwitchingProtocols)
    } else if !no_body && http10 && framing == Framing::Chunked {
        Want::Error(ParseError::TransferEncodingInHttp10)
    } else if !no_body && matches!(fault, BadLength | UnequalLength) {
        Want::Error(ParseError::ContentLength)
    } else if !no_body && matches!(fault, BadSizeLine | BareLf) {
        Want::Error(ParseError::ChunkSize)
    } else if !no_body && fault == NoCrlfAfterData {
        Want::Error(ParseError::ChunkEnd)
    } else {
        Want::Answer(Expected {
            status,
            close: close || (http10 && !keep_alive) || until_close,
            body: if no_body { Vec::new() } else { body },
            kept: status >= 400 || function_error,
            head_end,
            end: bytes.len(),
            until_close,
        })
    };
    if !matches!(want, Want::Answer(_)) && matches!(fault, Cut | Trailing) {
        fault = Clean;
    }
    match (&mut want, fault) {
        (Want::Answer(e), Cut) => {
            let k = rng.usize(..e.end);
            bytes.truncate(k);
            if e.until_close && k >= e.head_end {
                e.body.truncate(k - e.head_end);
                e.end = k;
            } else {
                want = Want::Error(ParseError::Incomplete);
            }
        }
        (Want::Answer(e), Trailing) if !e.until_close => {
            bytes.extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        }
        _ => {}
    }
    let hyper_differs = if status == 101 {
        Some("hyper hands a 101 to the caller as an upgrade; stampede never asks for one")
    } else if extensions >= 16 * 1024 && matches!(want, Want::Answer(_)) {
        Some("hyper caps all of a body's chunk extensions at 16 KB; we cap each line at 16 KB")
    } else {
        None
    };
    Case {
        name: format!(
            "generated #{i} ({fault:?}, {framing:?}, {status}{}{})",
            if http10 { ", HTTP/1.0" } else { "" },
            if head_request { ", HEAD" } else { "" }
        ),
        bytes,
        setup: Setup {
            head_request,
            ..INVOKE
        },
        want,
        hyper_differs,
    }
}

// -------------------------------------------------------------------------------------------
// 1 and 2: the corpus and the generated cases, whole, split and cut.

#[test]
fn corpus_cases_give_what_they_must_however_their_bytes_arrive() {
    let mut rng = fastrand::Rng::with_seed(seed());
    let cases = corpus();
    for case in &cases {
        let whole = assert_split_invariant(case, &mut rng);
        check(case, &whole);
        assert_prefixes(case);
    }
    eprintln!("{} corpus cases", cases.len());
}

#[test]
fn generated_cases_give_what_they_must_however_their_bytes_arrive() {
    let mut rng = fastrand::Rng::with_seed(seed() ^ 1);
    let cases = generated();
    let mut errors = 0;
    for case in &cases {
        let whole = assert_split_invariant(case, &mut rng);
        check(case, &whole);
        assert_prefixes(case);
        errors += matches!(whole, Read::Failed(_)) as usize;
    }
    // The generator must give both kinds, or the property says little.
    assert!(
        errors > cases.len() / 10 && errors < cases.len() / 2,
        "{errors} errors in {} cases",
        cases.len()
    );
    eprintln!("{} generated cases, {errors} of them errors", cases.len());
}

#[test]
fn the_head_keeps_what_a_load_test_reads() {
    let bytes = b"HTTP/1.1 429 Too Many Requests\r\nX-Amzn-ErrorType: ThrottlingException\r\n\
        Retry-After: 2\r\nDATE: Tue, 15 Nov 1994 08:12:31 GMT\r\nx-amz-function-error: Unhandled\r\n\
        x-amz-log-result: U1RBUlQ=\r\ncontent-length: 0\r\n\r\n";
    let Read::Answer { head, .. } = drive(bytes, &[], INVOKE) else {
        panic!("an answer");
    };
    assert_eq!(head.status, 429);
    assert_eq!(head.error_type.unwrap(), "ThrottlingException");
    assert_eq!(head.retry_after.unwrap(), "2");
    assert_eq!(head.date.unwrap(), "Tue, 15 Nov 1994 08:12:31 GMT");
    assert_eq!(head.function_error.unwrap(), "Unhandled");
    assert_eq!(head.log_result.unwrap(), "U1RBUlQ=");
    assert!(!head.close);
    // Off Invoke, the function's headers are not read.
    let Read::Answer { head, .. } = drive(bytes, &[], PLAIN) else {
        panic!("an answer");
    };
    assert_eq!(head.function_error, None);
    assert_eq!(head.log_result, None);
    // An interim answer's fields are not the answer's.
    let bytes = b"HTTP/1.1 103 Early Hints\r\nretry-after: 9\r\nconnection: close\r\n\r\n\
        HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
    let Read::Answer { head, .. } = drive(bytes, &[], PLAIN) else {
        panic!("an answer");
    };
    assert_eq!(
        (head.status, head.retry_after, head.close),
        (200, None, false)
    );
}

// -------------------------------------------------------------------------------------------
// 3. hyper's client on the same bytes.

/// What hyper's HTTP/1.1 client makes of `bytes` sent as the answer to a GET (or a HEAD):
/// the status and the whole body, or its error.
async fn hyper_reads(bytes: Vec<u8>, head_request: bool) -> Result<(u16, Vec<u8>), String> {
    let (client, mut server) = tokio::io::duplex(64 * 1024);
    let serve = tokio::spawn(async move {
        // The answer comes after the request: hyper fails on bytes it did not ask for.
        let mut request = Vec::new();
        while find(&request, b"\r\n\r\n").is_none() {
            let mut piece = [0u8; 1024];
            match server.read(&mut piece).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&piece[..n]),
            }
        }
        let _ = server.write_all(&bytes).await;
        let _ = server.shutdown().await;
        // Take whatever the client sends until it goes away.
        let mut sink = Vec::new();
        let _ = server.read_to_end(&mut sink).await;
    });
    let read = async {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(client))
                .await
                .map_err(|e| e.to_string())?;
        let conn = tokio::spawn(conn);
        let method = if head_request {
            Method::HEAD
        } else {
            Method::GET
        };
        let request = http::Request::builder()
            .method(method)
            .uri("/")
            .header("host", "stampede.test")
            .body(Empty::new())
            .expect("a request");
        let answer = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = answer.status().as_u16();
        let body = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{e:?}"))?
            .to_bytes();
        conn.abort();
        Ok((status, body.to_vec()))
    };
    let read = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| Err("hyper did not finish within 10 s".into()));
    serve.abort();
    read
}

/// How ours and hyper's readings differ, if they do.
fn disagreement(
    case: &Case,
    ours: &Read,
    theirs: &Result<(u16, Vec<u8>), String>,
) -> Option<String> {
    match (ours, theirs) {
        (Read::Failed(e), Ok((status, body))) => Some(format!(
            "we fail ({e:?}), hyper reads {status} with {} body bytes",
            body.len()
        )),
        (Read::Answer { head, .. }, Err(e)) => {
            Some(format!("we read {}, hyper fails ({e})", head.status))
        }
        (Read::Failed(_), Err(_)) => None,
        (Read::Answer { head, excerpt, .. }, Ok((status, body))) => {
            if head.status != *status {
                return Some(format!("we read {}, hyper {status}", head.status));
            }
            // Our reader keeps a body only when it is asked to; what hyper read must then be
            // what we kept, else what the case meant.
            let wanted = match &case.want {
                Want::Answer(e) if !e.kept => Some(&e.body),
                _ => None,
            };
            let kept = !excerpt.is_empty() || wanted.is_none();
            if kept && excerpt != body {
                return Some(format!(
                    "we keep {} body bytes, hyper reads {}",
                    excerpt.len(),
                    body.len()
                ));
            }
            if let Some(wanted) = wanted.filter(|w| *w != body) {
                return Some(format!(
                    "hyper reads {} body bytes, the case means {}",
                    body.len(),
                    wanted.len()
                ));
            }
            None
        }
    }
}

#[tokio::test]
async fn hyper_reads_the_same_bytes_alike_but_where_listed() {
    let mut cases = corpus();
    cases.extend(generated());
    let mut agreed = 0;
    let mut listed = Vec::new();
    let mut unlisted = Vec::new();
    for case in &cases {
        let setup = Setup {
            limit: usize::MAX,
            ..case.setup
        };
        let ours = drive(&case.bytes, &[], setup);
        let theirs = hyper_reads(case.bytes.clone(), setup.head_request).await;
        let case = Case {
            setup,
            ..case.clone()
        };
        match (disagreement(&case, &ours, &theirs), case.hyper_differs) {
            (None, None) => agreed += 1,
            (Some(how), Some(why)) => listed.push(format!("{}: {how} — {why}", case.name)),
            (Some(how), None) => unlisted.push(format!("{}: {how}", case.name)),
            (None, Some(why)) => unlisted.push(format!(
                "{}: listed as differing ({why}), but hyper agrees",
                case.name
            )),
        }
    }
    for line in &listed {
        eprintln!("known difference: {line}");
    }
    assert!(
        unlisted.is_empty(),
        "{} disagreements not listed:\n{}",
        unlisted.len(),
        unlisted.join("\n")
    );
    eprintln!(
        "{} cases: {agreed} alike, {} known differences",
        cases.len(),
        listed.len()
    );
}

// -------------------------------------------------------------------------------------------
// 4. End to end over loopback TCP.

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
) -> (SocketAddr, tokio::task::JoinHandle<Vec<Vec<u8>>>) {
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
    let (addr, server_task) = server(
        vec![
            b"HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n\
              1A;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n3 \r\n123\r\n0\r\nx-a: 1\r\n\r\n",
        ],
        None,
    )
    .await;
    let mut conn = connect(addr).await;
    let (a, excerpt) = conn
        .exchange(get.whole(), b"", ResponseReader::new(false, false, 512))
        .await
        .unwrap();
    assert_eq!(
        (a.status, &excerpt[..]),
        (500, &b"abcdefghijklmnopqrstuvwxyz123"[..])
    );
    assert!(conn.is_reusable());
    server_task.await.unwrap();
    assert!(closed_soon(&mut conn).await);

    // No length: the body runs until the server closes, and so does the connection.
    let (addr, server_task) = server(
        vec![b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n\r\nupstream went away"],
        None,
    )
    .await;
    let mut conn = connect(addr).await;
    let (a, excerpt) = conn
        .exchange(get.whole(), b"", ResponseReader::new(false, false, 512))
        .await
        .unwrap();
    assert_eq!(
        (a.status, a.close, &excerpt[..]),
        (502, true, &b"upstream went away"[..])
    );
    assert!(!conn.is_reusable() && conn.is_closed());
    server_task.await.unwrap();

    // A body cut short by the close is an error, and the connection is done with.
    let (addr, server_task) = server(
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"],
        None,
    )
    .await;
    let mut conn = connect(addr).await;
    let cut = conn
        .exchange(get.whole(), b"", ResponseReader::new(false, false, 512))
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
    let (addr, server_task) = server(
        vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"],
        Some(closed),
    )
    .await;
    let mut conn = connect(addr).await;
    let get = RequestTemplate::new(&Method::GET, "/", &header_map(&[("host", "h")]), 0);
    let (a, _) = conn
        .exchange(get.whole(), b"", ResponseReader::new(false, false, 512))
        .await
        .unwrap();
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
    Transport::new(&target, tls_config(None).unwrap(), Auth::None)
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

    let a = get.send(&mut conn, none.clone()).await.unwrap();
    assert_eq!((a.status, a.excerpt.len()), (200, 0));
    let date = get.head_date(&mut conn).await.unwrap();
    assert_eq!(date.unwrap(), "Tue, 15 Nov 1994 08:12:31 GMT");
    let a = get.send(&mut conn, none.clone()).await.unwrap();
    assert_eq!((a.status, &a.excerpt[..]), (503, &b"busy"[..]));
    assert_eq!(a.retry_after.unwrap(), "3");
    assert_eq!(a.error_type.unwrap(), "ServiceUnavailableException");
    let id = (
        HeaderName::from_static("x-correlation-id"),
        HeaderValue::from_static("c-1"),
    );
    let a = get.send(&mut conn, [&id].into_iter()).await.unwrap();
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
        let a = t.send(&mut conn, none.clone()).await.unwrap();
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
    let cut = t.send(&mut conn, none.clone()).await;
    assert!(matches!(cut, Err(Failure::Protocol(_))), "{cut:?}");
    assert!(conn.is_closed());
    server_task.await.unwrap();
}
