//! An `InvokeWithResponseStream` answer's body, read without I/O: an event stream
//! (`application/vnd.amazon.eventstream`) of `PayloadChunk` messages (the function's bytes),
//! then one `InvokeComplete` (its error code and details, its log tail) — or an `exception`
//! message. Framing and CRCs are aws-smithy-eventstream's, the decoder the AWS SDKs use;
//! here: what the messages say, fed bytes as they arrive.

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_eventstream::smithy::parse_response_headers;
use aws_smithy_types::event_stream::Message;
use bytes::BytesMut;

/// The most bytes of a message waited for: Lambda's chunks are far smaller, and a prelude
/// that says more is a broken stream, not a message to wait for.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// What the event stream said once it ended.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct StreamEnd {
    /// The `PayloadChunk` bytes: the function's answer, counted as the body.
    pub payload_bytes: u64,
    /// `InvokeComplete`'s `ErrorCode`: the function failed (as `X-Amz-Function-Error`).
    pub error_code: Option<String>,
    /// `InvokeComplete`'s `ErrorDetails`.
    pub error_details: Option<String>,
    /// `InvokeComplete`'s `LogResult`: the base64 log tail, with its REPORT line.
    pub log_result: Option<String>,
    /// An `exception` message's `:exception-type`, and the start of its payload.
    pub exception: Option<(String, Vec<u8>)>,
}

/// Reads one event stream: feed it the body's bytes; [`EventStreamReader::end`] when the
/// body ends.
#[derive(Debug, Default)]
pub struct EventStreamReader {
    decoder: MessageFrameDecoder,
    /// Bytes of messages not yet whole (the decoder keeps the prelude it has read).
    pending: BytesMut,
    /// The decoder has read a prelude, or some bytes of one came.
    started: bool,
    end: StreamEnd,
    /// `InvokeComplete` or an exception came: the stream is over.
    finished: bool,
}

/// Why the bytes are not the event stream Lambda sends.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamError(pub String);

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid Lambda event stream: {}", self.0)
    }
}

impl EventStreamReader {
    /// Takes `data`; `payload` is given each `PayloadChunk`'s bytes as its message is whole.
    pub fn feed(&mut self, data: &[u8], mut payload: impl FnMut(&[u8])) -> Result<(), StreamError> {
        // Nothing follows InvokeComplete or an exception; were it to, it is not the answer's.
        if self.finished {
            return Ok(());
        }
        self.pending.extend_from_slice(data);
        // The decoder takes each whole message from the front (its prelude first, which it
        // keeps), and leaves what follows it.
        while !self.finished {
            let before = self.pending.len();
            let decoded = self
                .decoder
                .decode_frame(&mut self.pending)
                .map_err(|e| StreamError(e.to_string()))?;
            match decoded {
                DecodedFrame::Complete(message) => {
                    self.started = false;
                    self.take(&message, &mut payload)?
                }
                DecodedFrame::Incomplete if self.pending.len() > MAX_MESSAGE => {
                    return Err(StreamError(format!(
                        "a message over {} MB",
                        MAX_MESSAGE >> 20
                    )))
                }
                DecodedFrame::Incomplete => {
                    // Its prelude taken: a message is under way.
                    self.started |= self.pending.len() < before;
                    break;
                }
            }
        }
        Ok(())
    }

    /// The payload bytes so far.
    pub fn payload_bytes(&self) -> u64 {
        self.end.payload_bytes
    }

    /// The body ended: what the stream said, or why it was cut short.
    pub fn end(self) -> Result<StreamEnd, StreamError> {
        if !self.finished {
            return Err(StreamError(
                if self.started || !self.pending.is_empty() {
                    "the body ended inside a message"
                } else {
                    "the body ended before InvokeComplete"
                }
                .into(),
            ));
        }
        Ok(self.end)
    }

    fn take(
        &mut self,
        message: &Message,
        payload: &mut impl FnMut(&[u8]),
    ) -> Result<(), StreamError> {
        let headers = parse_response_headers(message).map_err(|e| StreamError(e.to_string()))?;
        let body = message.payload();
        match (headers.message_type.as_str(), headers.smithy_type.as_str()) {
            ("event", "PayloadChunk") => {
                self.end.payload_bytes += body.len() as u64;
                payload(body);
            }
            ("event", "InvokeComplete") => {
                let complete: Complete = serde_json::from_slice(body)
                    .map_err(|e| StreamError(format!("InvokeComplete: {e}")))?;
                self.end.error_code = complete.error_code;
                self.end.error_details = complete.error_details;
                self.end.log_result = complete.log_result;
                self.finished = true;
            }
            ("exception", kind) => {
                let start = body[..body.len().min(super::EXCERPT_BYTES)].to_vec();
                self.end.exception = Some((kind.to_string(), start));
                self.finished = true;
            }
            // An event type of a later API version: skipped, as the SDK does.
            _ => {}
        }
        Ok(())
    }
}

/// `InvokeComplete`'s JSON payload.
#[derive(serde::Deserialize)]
struct Complete {
    #[serde(rename = "ErrorCode")]
    error_code: Option<String>,
    #[serde(rename = "ErrorDetails")]
    error_details: Option<String>,
    #[serde(rename = "LogResult")]
    log_result: Option<String>,
}

#[cfg(test)]
mod tests;
