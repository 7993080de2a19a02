//! The driver: bytes fed to the reader in pieces, as `Connection::exchange` feeds them,
//! and the check that how they arrive changes nothing.

use stampede::transport::h1::{Head, ParseError, ResponseReader, MAX_HEAD};

use super::case::Case;

/// The parser's limit on a chunk-size or trailer line (private to it; the corpus probes
/// both sides of it).
pub const MAX_LINE: usize = 16 * 1024;

/// Up to this length a case is cut at every offset; past it, at a sample (a large body cut
/// in two at each of 100 000 offsets would take minutes in a debug build).
pub const EXHAUSTIVE: usize = 4 * 1024;

/// How a reader is made for a case.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    pub head_request: bool,
    pub invoke: bool,
    pub limit: usize,
}

/// The generator's setup: an Invoke reader that keeps all of a body it keeps.
pub const INVOKE: Setup = Setup {
    head_request: false,
    invoke: true,
    limit: usize::MAX,
};

/// A plain HTTP target's reader, keeping all of a body it keeps.
pub const PLAIN: Setup = Setup {
    head_request: false,
    invoke: false,
    limit: usize::MAX,
};

/// What the reader made of some bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum Read {
    /// The answer, the body it kept, and how many bytes it took (the rest are not its).
    Answer {
        head: Box<Head>,
        excerpt: Vec<u8>,
        used: usize,
    },
    Failed(ParseError),
}

impl Read {
    /// The answer's head, the body kept and the bytes taken; None for an error.
    pub fn answer(&self) -> Option<(&Head, &[u8], usize)> {
        match self {
            Read::Answer {
                head,
                excerpt,
                used,
            } => Some((head, excerpt, *used)),
            Read::Failed(_) => None,
        }
    }

    /// One line, without the bodies (some are 100 KB).
    pub fn brief(&self) -> String {
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

pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Reads `input` as the connection does: the reader is fed its buffer, the bytes it took
/// are dropped from the front, the rest (an incomplete head or line) stays and the next
/// piece is appended; the pieces end at `ends` (ascending offsets), and when they run out
/// before the answer is done the server has closed: `eof`.
pub fn drive(input: &[u8], ends: &[usize], setup: Setup) -> Read {
    let reader = ResponseReader::new(setup.head_request, setup.invoke, setup.limit);
    drive_with(input, ends, reader)
}

/// As [`drive`], with a reader made by the caller (one that keeps more, for checks).
pub fn drive_with(input: &[u8], ends: &[usize], mut reader: ResponseReader) -> Read {
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
pub fn random_ends(rng: &mut fastrand::Rng, len: usize, most: usize) -> Vec<usize> {
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
pub fn assert_split_invariant(case: &Case, rng: &mut fastrand::Rng) -> Read {
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
pub fn cuts(case: &Case) -> Vec<usize> {
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
pub fn head_len(bytes: &[u8]) -> usize {
    find(bytes, b"\r\n\r\n").map_or(bytes.len(), |at| at + 4)
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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
