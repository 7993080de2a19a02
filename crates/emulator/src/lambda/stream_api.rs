//! Lambda's `InvokeWithResponseStream` on the emulator:
//! `POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations`, answered as
//! Lambda answers it — 200 with an event stream (`application/vnd.amazon.eventstream`) of
//! `PayloadChunk` messages carrying the function's answer, then one `InvokeComplete` (its
//! `ErrorCode` when the function failed, its `LogResult` when the tail was asked for); the
//! Invoke API's errors (429 out of concurrency, 4xx for a bad request) before any stream.
//! Messages are framed by aws-smithy-eventstream, as the AWS SDKs read them.
//!
//! One invocation path: [`Emulator::invoke_function`], the one the Invoke API and API
//! Gateway take, with the time the answer streams for added to the function's run — its
//! environment (its concurrency) is held until the last chunk.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use http_body_util::channel::{Channel, Sender};

use super::invoke_api::{
    bad_header, log_result, log_tail, log_type, throttled, ERROR_PAYLOAD, OK_PAYLOAD,
};
use crate::answers::Answer;
use crate::stream_shape::StreamShape;
use crate::Emulator;

/// A function with no `stream` setting streams its answer in one chunk, at its end.
const ONE_CHUNK: StreamShape = StreamShape {
    chunks: 1,
    pace: Duration::ZERO,
    bytes: 0,
};

/// The `Content-Type` of a streamed answer.
pub const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// The still-encoded `{FunctionName}` of an InvokeWithResponseStream request; `None` for
/// any other request.
pub fn route<'a>(method: &str, path: &'a str) -> Option<&'a str> {
    if method != "POST" {
        return None;
    }
    let name = path
        .strip_prefix("/2021-11-15/functions/")?
        .strip_suffix("/response-streaming-invocations")?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// One event-stream message on the wire.
fn framed(message: &Message) -> Bytes {
    let mut out = Vec::with_capacity(message.payload().len() + 96);
    write_message_to(message, &mut out).expect("a message within the format's limits");
    Bytes::from(out)
}

fn header(name: &'static str, value: &'static str) -> Header {
    Header::new(name, HeaderValue::String(value.into()))
}

/// A `PayloadChunk` event: `bytes` of the function's answer.
pub fn payload_chunk(bytes: Bytes) -> Bytes {
    framed(
        &Message::new(bytes)
            .add_header(header(":message-type", "event"))
            .add_header(header(":event-type", "PayloadChunk"))
            .add_header(header(":content-type", "application/octet-stream")),
    )
}

/// The `InvokeComplete` event that ends the stream.
pub fn invoke_complete(
    error_code: Option<&str>,
    error_details: Option<&str>,
    log_result: Option<&str>,
) -> Bytes {
    let mut json = serde_json::Map::new();
    for (key, value) in [
        ("ErrorCode", error_code),
        ("ErrorDetails", error_details),
        ("LogResult", log_result),
    ] {
        if let Some(v) = value {
            json.insert(key.into(), v.into());
        }
    }
    let payload = serde_json::to_vec(&json).expect("a JSON object serialises");
    framed(
        &Message::new(payload)
            .add_header(header(":message-type", "event"))
            .add_header(header(":event-type", "InvokeComplete"))
            .add_header(header(":content-type", "application/json")),
    )
}

/// An `exception` message: the stream failed after it began.
pub fn exception(kind: &str, message: &str) -> Bytes {
    let payload = serde_json::json!({ "message": message }).to_string();
    framed(
        &Message::new(payload)
            .add_header(header(":message-type", "exception"))
            .add_header(Header::new(
                ":exception-type",
                HeaderValue::String(kind.to_string().into()),
            ))
            .add_header(header(":content-type", "application/json")),
    )
}

/// What [`Emulator::stream_api`] answers: an Invoke API error whole, or the stream.
pub enum Streamed {
    Whole(Answer),
    Stream {
        version: String,
        body: Channel<Bytes>,
    },
}

impl Emulator {
    /// One InvokeWithResponseStream request for the function `encoded` names; `id` is its
    /// request id. The answer's bytes go in the chunks of the function's `stream` setting
    /// (one chunk without it), as its HTTP answers do.
    pub(crate) async fn stream_api(
        self: &Arc<Self>,
        req: hyper::Request<hyper::body::Incoming>,
        encoded: &str,
        id: &str,
    ) -> Streamed {
        let came = SystemTime::now();
        let arrived = self.arrived(req).await;
        let (function, target) = match self.addressed(encoded, &arrived.query) {
            Ok(found) => found,
            Err(answer) => return Streamed::Whole(answer),
        };
        // A stream is synchronous: RequestResponse (the default) or DryRun.
        let kind = arrived.header("x-amz-invocation-type");
        let dry_run = match kind.as_deref() {
            None | Some("RequestResponse") => false,
            Some("DryRun") => true,
            Some(other) => {
                return Streamed::Whole(bad_header(
                    "X-Amz-Invocation-Type",
                    other,
                    "RequestResponse, DryRun",
                ))
            }
        };
        let tail = match log_type(arrived.header("x-amz-log-type")) {
            Ok(tail) => tail,
            Err(answer) => return Streamed::Whole(answer),
        };
        if dry_run {
            return Streamed::Whole(super::invoke_api::dry_run());
        }
        let shape = function.config.stream.unwrap_or(ONE_CHUNK);
        let invoked = match self.invoke_function(function, &target, came) {
            Ok(invoked) => invoked,
            Err(why) => return Streamed::Whole(throttled(why)),
        };
        let started = tokio::time::Instant::now();
        let ran = invoked.ran;
        let version = target.version.clone();
        let log = tail.then(|| {
            let line = ran.report(id, target.memory_mb);
            log_result(&log_tail(id, &version, &line))
        });
        let done = self.counted_when_done(invoked);
        let (mut tx, body) = Channel::new(4);
        tokio::spawn(async move {
            // The first chunk when the handler's drawn time is up, the last at its end.
            let first = started + ran.answered_after();
            if !ran.error {
                for (i, piece) in shape.pieces(OK_PAYLOAD.as_bytes()).into_iter().enumerate() {
                    tokio::time::sleep_until(first + shape.pace * i as u32).await;
                    if !send(&mut tx, payload_chunk(piece)).await {
                        break;
                    }
                }
            }
            // The environment is free, the invocation counted: the stream ends.
            let _ = done.await;
            let complete = match ran.error {
                true => invoke_complete(Some("Unhandled"), Some(ERROR_PAYLOAD), log.as_deref()),
                false => invoke_complete(None, None, log.as_deref()),
            };
            send(&mut tx, complete).await;
        });
        Streamed::Stream { version, body }
    }
}

/// An answer's body: whole, or written as it goes (a streamed invocation's).
pub(crate) type Body = http_body_util::Either<crate::AnswerBody, Channel<Bytes>>;

impl Emulator {
    /// Every request: InvokeWithResponseStream's streamed here, any other answered whole.
    pub(crate) async fn dispatch(
        self: Arc<Self>,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> hyper::Response<Body> {
        let Some(name) = route(req.method().as_str(), req.uri().path()) else {
            return self.handle(req).await.map(http_body_util::Either::Left);
        };
        let name = name.to_string();
        self.streamed(req, &name).await
    }

    /// An InvokeWithResponseStream request for the function `name` names.
    async fn streamed(
        self: Arc<Self>,
        req: hyper::Request<hyper::body::Incoming>,
        name: &str,
    ) -> hyper::Response<Body> {
        use http_body_util::Either;
        let id = self.request_id();
        match self.stream_api(req, name, &id).await {
            Streamed::Whole(answer) => crate::respond(answer, id, false, None).map(Either::Left),
            Streamed::Stream { version, body } => {
                let mut resp = hyper::Response::new(Either::Right(body));
                let headers = resp.headers_mut();
                headers.insert("content-type", http::HeaderValue::from_static(EVENT_STREAM));
                if let Ok(v) = http::HeaderValue::try_from(version) {
                    headers.insert("x-amz-executed-version", v);
                }
                if let Ok(v) = http::HeaderValue::try_from(id) {
                    headers.insert("x-amzn-requestid", v);
                }
                resp
            }
        }
    }
}

/// Sends one message; false when the caller went away (the function runs on regardless).
async fn send(tx: &mut Sender<Bytes>, message: Bytes) -> bool {
    tx.send_data(message).await.is_ok()
}

#[cfg(test)]
mod tests;
