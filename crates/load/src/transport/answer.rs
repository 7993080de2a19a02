//! What an attempt's exchange comes to: the answer (status, throttle headers, the start of
//! a failed body, what an Invoke answer says) or why there was none ([`Failure`]), named by
//! its chain of causes.

use bytes::Bytes;
use http::header::HeaderValue;

use super::h1::{self, ExchangeError};
use crate::classify::{LocalReason, Outcome};

/// How much of a failed answer's body is kept, to classify it and show it.
pub const EXCERPT_BYTES: usize = 512;

/// What came back for one attempt.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub error_type: Option<HeaderValue>,
    pub retry_after: Option<HeaderValue>,
    /// The start of the body, for answers of 400 and above (and function errors).
    pub excerpt: Bytes,
    /// Invoke API only: `X-Amz-Function-Error` and `X-Amz-Log-Result`.
    pub invoke: Option<Box<InvokeHeaders>>,
    /// A request with checks or captures: the headers they name (the body is `excerpt`).
    pub kept: Option<Box<h1::Kept>>,
}

/// What an Invoke answer says besides its status (an Invoke stream's `InvokeComplete`
/// says the same as a buffered Invoke's headers, and is read into them).
#[derive(Debug, Default)]
pub struct InvokeHeaders {
    /// `Unhandled` (or `Handled`): the function ran and failed.
    pub function_error: Option<HeaderValue>,
    /// The base64 tail of the invocation's log, with its REPORT line.
    pub log_result: Option<HeaderValue>,
    /// An InvokeWithResponseStream answer's event stream, read to its end.
    pub stream: Option<Box<super::invoke_stream::StreamEnd>>,
}

impl InvokeHeaders {
    /// An Invoke stream's `exception` message's type.
    fn exception(&self) -> Option<&str> {
        let (kind, _) = self.stream.as_ref()?.exception.as_ref()?;
        Some(kind)
    }
}

impl Answer {
    pub fn outcome(&self) -> Outcome {
        let error_type = self.error_type.as_ref().and_then(|v| v.to_str().ok());
        match &self.invoke {
            // The stream failed after its 200: as the Invoke API's error of that type would
            // be classified (a throttle, else the service's error).
            Some(i) if i.exception().is_some() => {
                let kind = i.exception();
                let status = match kind {
                    Some(k) if k.contains("TooManyRequests") => 429,
                    _ => 500,
                };
                Outcome::classify_invoke(status, kind, false, &self.excerpt)
            }
            Some(i) => Outcome::classify_invoke(
                self.status,
                error_type,
                i.function_error.is_some(),
                &self.excerpt,
            ),
            None => Outcome::classify(self.status, error_type, &self.excerpt),
        }
    }

    /// A function error's type: the payload's `errorType`, else the header's value.
    pub fn function_error_type(&self) -> Option<String> {
        let header = self.invoke.as_ref()?.function_error.as_ref()?;
        stampede_lambda::report_line::error_type(&self.excerpt)
            .or_else(|| header.to_str().ok().map(str::to_string))
    }

    /// An Invoke stream's payload bytes: its body's, as the function sent them.
    pub fn stream_payload_bytes(&self) -> Option<u64> {
        Some(self.invoke.as_ref()?.stream.as_ref()?.payload_bytes)
    }

    /// The REPORT line of the log tail, when there is one.
    pub fn report_line(&self) -> Option<stampede_lambda::ReportLine> {
        let log = self.invoke.as_ref()?.log_result.as_ref()?;
        stampede_lambda::ReportLine::from_log_result(log.as_bytes())
    }
}

/// Why an attempt got no (valid) answer.
#[derive(Debug)]
pub enum Failure {
    /// The network: refused, reset, unreachable, or the connect timed out.
    Connect(String),
    /// The TCP connection opened but the TLS handshake failed (certificate, protocol).
    Tls(String),
    Timeout,
    /// The answer was not valid HTTP: a malformed status line or header, a body cut short.
    Protocol(String),
    /// The client machine could not do its part (descriptors, ports, credentials).
    Local(LocalReason, String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Connect(why) => write!(f, "connect: {why}"),
            Failure::Tls(why) => write!(f, "TLS: {why}"),
            Failure::Timeout => f.write_str("no answer within the attempt timeout"),
            Failure::Protocol(why) => write!(f, "malformed answer: {why}"),
            Failure::Local(reason, why) => write!(f, "{}: {why}", reason.describe()),
        }
    }
}

impl Failure {
    pub fn outcome(&self) -> Outcome {
        match self {
            Failure::Timeout => Outcome::Timeout,
            Failure::Connect(_) => Outcome::ConnectError,
            Failure::Tls(_) => Outcome::TlsError,
            Failure::Protocol(_) => Outcome::ProtocolError,
            Failure::Local(reason, _) => Outcome::LocalError(*reason),
        }
    }

    /// Names a failure to connect or to exchange a request by what is in its chain of
    /// causes: an exhausted local resource, TLS, malformed HTTP, else the network.
    pub fn of(e: &(dyn std::error::Error + 'static)) -> Failure {
        let why = error_chain(e);
        let mut tls = false;
        let mut protocol = false;
        for err in causes(e) {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if let Some(reason) = io.raw_os_error().and_then(LocalReason::from_os_error) {
                    return Failure::Local(reason, why);
                }
                use std::io::ErrorKind::*;
                protocol |= matches!(io.kind(), UnexpectedEof | InvalidData | InvalidInput);
            }
            tls |= err.downcast_ref::<rustls::Error>().is_some();
        }
        if tls {
            Failure::Tls(why)
        } else if protocol {
            Failure::Protocol(why)
        } else {
            Failure::Connect(why)
        }
    }
}

/// An exchange's failure, named as any other: the machine's own, TLS, the network, or an
/// answer that is not HTTP.
pub(super) fn failure_of(e: ExchangeError) -> Failure {
    match e {
        ExchangeError::Io(e) => Failure::of(&e),
        ExchangeError::Parse(p) => Failure::Protocol(p.to_string()),
    }
}

/// An error and each of its causes. An io::Error's `source` skips the error it wraps
/// (hyper-rustls wraps tokio-rustls' io::Error, which wraps rustls'): look inside it too.
fn causes<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> Vec<&'e (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        out.push(err);
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            out.extend(causes(inner));
        }
        next = err.source();
    }
    out
}

/// An error and its causes on one line ("connection refused" is usually a cause).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::invoke_stream::StreamEnd;

    fn streamed(end: StreamEnd, function_error: Option<&'static str>) -> Answer {
        Answer {
            status: 200,
            error_type: None,
            retry_after: None,
            excerpt: Bytes::from_static(br#"{"errorType":"Boom"}"#),
            invoke: Some(Box::new(InvokeHeaders {
                function_error: function_error.map(HeaderValue::from_static),
                log_result: None,
                stream: Some(Box::new(end)),
            })),
            kept: None,
        }
    }

    #[test]
    fn an_invoke_streams_end_is_classified_as_an_invoke() {
        let ok = streamed(StreamEnd::default(), None);
        assert_eq!(ok.outcome(), Outcome::Ok);
        let failed = streamed(StreamEnd::default(), Some("Unhandled"));
        assert_eq!(failed.outcome(), Outcome::FunctionError);
        assert_eq!(failed.function_error_type().as_deref(), Some("Boom"));
        let exception = |kind: &str| StreamEnd {
            exception: Some((kind.to_string(), b"{}".to_vec())),
            ..StreamEnd::default()
        };
        let broke = streamed(exception("ServiceException"), None);
        assert_eq!(broke.outcome(), Outcome::ServerError);
        let throttled = streamed(exception("TooManyRequestsException"), None);
        assert!(throttled.outcome().is_throttle());
        let payload = StreamEnd {
            payload_bytes: 30,
            ..StreamEnd::default()
        };
        assert_eq!(streamed(payload, None).stream_payload_bytes(), Some(30));
    }

    #[test]
    fn running_out_of_ports_is_a_local_error_not_the_network() {
        // A new connection per request at a high rate holds ports in TIME_WAIT; connect()
        // then fails with EADDRNOTAVAIL, wrapped as any connect error is.
        let io = std::io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
        let failure = Failure::of(&io);
        assert!(
            matches!(failure, Failure::Local(LocalReason::EphemeralPorts, _)),
            "{failure}"
        );
        assert_eq!(
            failure.outcome(),
            Outcome::LocalError(LocalReason::EphemeralPorts)
        );
        let wrapped = std::io::Error::other(io);
        assert!(matches!(
            Failure::of(&wrapped),
            Failure::Local(LocalReason::EphemeralPorts, _)
        ));
    }
}
