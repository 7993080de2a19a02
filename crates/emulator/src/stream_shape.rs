//! The emulator's streamed answers (`stream = { chunks = 20, pace = "100ms" }`): an ok
//! answer's head goes out when the handler ends, its body in `chunks` pieces `pace` apart
//! (the first with the head), as a function URL in `RESPONSE_STREAM` mode or an API
//! Gateway REST API with response streaming sends them. The function holds its execution
//! environment — its concurrency — until its last chunk, as a streaming Lambda function
//! stays busy until its stream ends.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use stampede_located::forms::{DurationOrZero, WholeNumber};
use stampede_located::{Result, Source};

/// How an answer's body is streamed: a plain shape, read by the HTTP answers here and by
/// the Invoke API's streamed answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamShape {
    /// Pieces the body is sent in (at least 1).
    pub chunks: u32,
    /// Between one piece and the next.
    pub pace: Duration,
    /// At least this many bytes per piece: the body is padded with spaces to
    /// `chunks × bytes` when shorter (JSON stays valid); a longer body is cut in
    /// `chunks` even pieces.
    pub bytes: u32,
}

/// Bytes per piece when `bytes` is not given.
pub const DEFAULT_CHUNK_BYTES: u32 = 1024;

impl StreamShape {
    /// First piece → last piece: how much longer than its handler the function runs.
    pub fn duration(&self) -> Duration {
        self.pace * self.chunks.saturating_sub(1)
    }

    /// `body` as the pieces it is sent in.
    pub fn pieces(&self, body: &[u8]) -> Vec<Bytes> {
        let chunks = self.chunks.max(1) as usize;
        let total = body.len().max(chunks * self.bytes as usize);
        let mut whole = Vec::with_capacity(total);
        whole.extend_from_slice(body);
        whole.resize(total, b' ');
        let whole = Bytes::from(whole);
        let size = total.div_ceil(chunks).max(1);
        (0..chunks)
            .map(|i| whole.slice((i * size).min(total)..((i + 1) * size).min(total)))
            .collect()
    }
}

/// `stream = { chunks = N, pace = "D", bytes = N }`.
#[derive(Deserialize, Clone, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Stream")]
pub struct RawStream {
    /// Pieces an ok answer's body is sent in, the first with the head (at least 1).
    #[schemars(with = "WholeNumber")]
    chunks: Spanned<Value>,
    /// Time between one piece and the next ("0s" allowed).
    #[schemars(with = "DurationOrZero")]
    pace: Spanned<Value>,
    /// At least this many bytes per piece: a shorter body is padded with spaces (default
    /// 1024).
    #[schemars(with = "Option<WholeNumber>")]
    bytes: Option<Spanned<Value>>,
}

/// The shape `raw` gives; an error names file:line:col (exit 2).
pub fn validate(src: &Source, raw: &RawStream) -> Result<StreamShape> {
    let positive = |v: &Spanned<Value>, key: &str| -> Result<u32> {
        let n = src.whole_number(v, key)?;
        u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
            src.error(
                v.span(),
                &format!("stream {key} must be from 1 to {}", u32::MAX),
                "a whole number such as 20",
            )
        })
    };
    Ok(StreamShape {
        chunks: positive(&raw.chunks, "chunks")?,
        pace: src.duration_or_zero(&raw.pace, "pace")?,
        bytes: match &raw.bytes {
            Some(v) => positive(v, "bytes")?,
            None => DEFAULT_CHUNK_BYTES,
        },
    })
}

/// A body sent in pieces, `pace` apart (hyper sends it chunked over HTTP/1.1, in DATA
/// frames over HTTP/2).
pub struct PacedBody {
    pieces: std::collections::VecDeque<Bytes>,
    pace: Duration,
    /// The wait before the next piece; none before the first.
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl PacedBody {
    pub fn new(shape: &StreamShape, body: &[u8]) -> PacedBody {
        PacedBody {
            pieces: shape.pieces(body).into(),
            pace: shape.pace,
            wait: None,
        }
    }
}

impl Body for PacedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, Self::Error>>> {
        if let Some(wait) = &mut self.wait {
            if wait.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        let Some(piece) = self.pieces.pop_front() else {
            return Poll::Ready(None);
        };
        self.wait = (!self.pieces.is_empty()).then(|| Box::pin(tokio::time::sleep(self.pace)));
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        // Unknown on purpose: HTTP/1.1 then sends it chunked, as a stream is.
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(chunks: u32, bytes: u32) -> StreamShape {
        StreamShape {
            chunks,
            pace: Duration::from_millis(100),
            bytes,
        }
    }

    #[test]
    fn a_short_body_is_padded_and_a_long_one_cut_evenly() {
        let pieces = shape(4, 10).pieces(b"{\"ok\":true}");
        assert_eq!(pieces.len(), 4);
        assert!(pieces.iter().all(|p| p.len() == 10));
        assert!(pieces[0].starts_with(b"{\"ok\":true"));
        let pieces = shape(3, 1).pieces(b"abcdefg");
        assert_eq!(pieces.concat(), b"abcdefg");
        assert_eq!(pieces.iter().map(Bytes::len).collect::<Vec<_>>(), [3, 3, 1]);
        assert_eq!(shape(20, 1024).duration(), Duration::from_millis(1900));
        assert_eq!(shape(1, 1024).duration(), Duration::ZERO);
    }

    #[test]
    fn its_errors_name_the_key() {
        let text = "s = { chunks = 0, pace = \"10ms\" }";
        #[derive(Deserialize)]
        struct T {
            s: RawStream,
        }
        let src = Source::new(std::path::Path::new("e.toml"), text);
        let raw: T = toml::from_str(text).unwrap();
        let e = validate(&src, &raw.s).unwrap_err().to_string();
        assert!(e.contains("chunks") && e.contains("e.toml:1:"), "{e}");
        let text = "s = { chunks = 5, pace = \"10ms\", bytes = 7 }";
        let raw: T = toml::from_str(text).unwrap();
        let src = Source::new(std::path::Path::new("e.toml"), text);
        let want = StreamShape {
            chunks: 5,
            pace: Duration::from_millis(10),
            bytes: 7,
        };
        assert_eq!(validate(&src, &raw.s).unwrap(), want);
    }
}
