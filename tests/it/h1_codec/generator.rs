//! The generator: seeded answers of every framing, with one fault in some.

use stampede::transport::h1::ParseError;

use super::case::{Case, Expected, Want};
use super::corpus::BAD_SIZE_LINES;
use super::driver::{Setup, INVOKE};

pub const DEFAULT_SEED: u64 = 0x4831_c0de_c0de_0001;
pub const DEFAULT_CASES: usize = 400;

pub fn seed() -> u64 {
    std::env::var("STAMPEDE_H1_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

pub fn generated() -> Vec<Case> {
    let count = std::env::var("STAMPEDE_H1_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let mut rng = fastrand::Rng::with_seed(seed());
    (0..count).map(|i| generate(&mut rng, i)).collect()
}

pub fn pick<T: Copy>(rng: &mut fastrand::Rng, from: &[T]) -> T {
    from[rng.usize(..from.len())]
}

pub type Field = (String, Vec<u8>);

pub fn field(name: &str, value: impl AsRef<[u8]>) -> Field {
    (name.to_string(), value.as_ref().to_vec())
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Framing {
    Length,
    Chunked,
    UntilClose,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
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
pub enum ChunkFault {
    SizeLine(&'static [u8]),
    BareLf,
    NoCrlf(&'static [u8]),
}

pub const STATUSES: [u16; 21] = [
    200, 200, 200, 201, 202, 204, 206, 299, 301, 304, 400, 403, 404, 413, 429, 429, 500, 502, 503,
    504, 599,
];
pub const REASONS: [&[u8]; 7] = [
    b"OK",
    b"",
    b"Too Many Requests",
    b"anything at all",
    b"caf\xc3\xa9",
    b"tab\there",
    b"\xff obs-text",
];
pub const INTERIM: [&[u8]; 3] = [
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n",
    b"HTTP/1.1 102 Processing\r\ncontent-length: 7\r\n\r\n",
];
pub const EXTENSIONS: [&str; 8] = [
    ";a=b",
    " ;a=b",
    "\t;a=b",
    ";name=\"quoted value\"",
    ";x",
    "  ",
    "\t",
    " ; a = b",
];
pub const NO_CRLF: [&[u8]; 5] = [b"X\r\n", b"\n", b"\r\r\n", b"\rX", b" \r\n"];
pub const BAD_HEADS: [&[u8]; 6] = [
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 20 OK\r\n\r\n",
    b"HTTP/2 200 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n",
];

pub fn random_body(rng: &mut fastrand::Rng) -> Vec<u8> {
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
pub fn length_fields(rng: &mut fastrand::Rng, n: usize) -> Vec<Field> {
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
pub fn chunked_fields(rng: &mut fastrand::Rng) -> Vec<Field> {
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
pub fn chunked(
    rng: &mut fastrand::Rng,
    body: &[u8],
    fault: Option<ChunkFault>,
) -> (Vec<u8>, usize) {
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
pub fn interleave(rng: &mut fastrand::Rng, a: Vec<Field>, b: Vec<Field>) -> Vec<Field> {
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

pub fn generate(rng: &mut fastrand::Rng, i: usize) -> Case {
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
