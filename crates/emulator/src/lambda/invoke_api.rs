//! The Lambda Invoke API on the emulator: `POST /2015-03-31/functions/{FunctionName}/invocations`,
//! answered as Lambda answers it — the function's result (or function error) with its
//! executed version and, when asked, the log tail and its `REPORT` line; 202 for an `Event`,
//! 204 for a `DryRun`; Lambda's 429 when the emulated function is out of concurrency. The
//! invocations take the one invocation path (`Emulator::invoke_function`) the API Gateway
//! path wraps: same environments, limits, scaling rate and error rate, and no API Gateway
//! in front.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine as _;
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use stampede_lambda::{FunctionRef, ReportLine};

use super::{Invoked, LambdaThrottle, Ran};
use crate::answers::{self, fixed, Answer, JSON};
use crate::config::{ApiMode, EmulatorConfig};
use crate::versions::Target;
use crate::Emulator;

/// The account every ARN the emulator writes names.
pub const ACCOUNT: &str = "123456789012";

/// How many Invoke requests [`RecordedRequest`]s are kept (the newest).
pub const KEPT_REQUESTS: usize = 64;

/// What an invocation that succeeds returns.
pub const OK_PAYLOAD: &str = r#"{"statusCode":200,"body":"ok"}"#;

/// What an invocation that fails (`error_rate`) returns, with `X-Amz-Function-Error: Unhandled`.
pub const ERROR_PAYLOAD: &str = r#"{"errorType":"EmulatedError","errorMessage":"the emulator's configured error_rate","trace":[]}"#;

/// An Invoke request as it arrived, for tests that compare what a client sent with what
/// the SDKs send. Kept in memory only: it holds the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// As received, percent-encoding and all.
    pub path: String,
    /// As received, without the `?`; empty when there was none.
    pub query: String,
    /// Every header, in the order they came (names lower-cased, as HTTP/1.1 parsing leaves them).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for RecordedRequest {
    /// Header names only: the values hold a signature.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The still-encoded `{FunctionName}` of an Invoke request; `None` for any other request.
pub fn route<'a>(method: &str, path: &'a str) -> Option<&'a str> {
    if method != "POST" {
        return None;
    }
    let name = path
        .strip_prefix("/2015-03-31/functions/")?
        .strip_suffix("/invocations")?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// An Invoke request as it came ([`Emulator::arrived`]).
pub(super) struct Arrived {
    pub request: RecordedRequest,
    /// As received, without the `?`.
    pub query: String,
}

impl Arrived {
    pub fn header(&self, name: &str) -> Option<String> {
        self.request.header(name).map(str::to_string)
    }
}

/// `X-Amz-Invocation-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

impl InvocationType {
    /// The header's value (absent: `RequestResponse`); `None` for a value Lambda refuses.
    pub fn parse(header: Option<&str>) -> Option<InvocationType> {
        match header {
            None | Some("RequestResponse") => Some(InvocationType::RequestResponse),
            Some("Event") => Some(InvocationType::Event),
            Some("DryRun") => Some(InvocationType::DryRun),
            Some(_) => None,
        }
    }
}

/// `X-Amz-Log-Type`: whether the log tail is wanted (absent: `None`, no); `None` for a
/// value Lambda refuses.
/// `X-Amz-Log-Type` as given: whether the tail is wanted, or the 400 for another value.
pub(super) fn log_type(header: Option<String>) -> Result<bool, Answer> {
    tail_wanted(header.as_deref())
        .ok_or_else(|| bad_header("X-Amz-Log-Type", &header.unwrap_or_default(), "None, Tail"))
}

pub fn tail_wanted(header: Option<&str>) -> Option<bool> {
    match header {
        None | Some("None") => Some(false),
        Some("Tail") => Some(true),
        Some(_) => None,
    }
}

/// Why a request names no function the emulator runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a function name, ARN or qualifier at all (400 `ValidationException`).
    Invalid(String),
    /// Another function (or region): 404, naming the ARN asked for.
    NotFound(String),
    /// The name's `:qualifier` and `?Qualifier=` differ (400 `InvalidParameterValueException`).
    QualifierMismatch,
}

/// `arn:aws:lambda:{region}:123456789012:function:{name}[:{qualifier}]`.
pub fn function_arn(region: &str, name: &str, qualifier: Option<&str>) -> String {
    let mut arn = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{name}");
    if let Some(q) = qualifier {
        arn.push(':');
        arn.push_str(q);
    }
    arn
}

/// The `Qualifier` of a query string, percent-decoded.
pub fn query_qualifier(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("Qualifier="))
        .map(|q| percent_decode_str(q).decode_utf8_lossy().into_owned())
}

/// Resolves the function a request names — `encoded`, its path's `{FunctionName}` (a
/// name, an ARN or a partial ARN, maybe with a `:qualifier`), and the `?Qualifier=` of
/// `query` — against the emulator's one function. Any account id is taken; a full ARN's
/// region must be the emulator's. The qualifier, when one was given.
pub fn resolve(c: &EmulatorConfig, encoded: &str, query: &str) -> Result<Option<String>, Refusal> {
    let decoded = percent_decode_str(encoded).decode_utf8_lossy();
    let f = FunctionRef::parse(&decoded).map_err(|_| {
        Refusal::Invalid(format!(
            "1 validation error detected: Value '{decoded}' at 'functionName' failed to satisfy constraint: Member must be a function name, an ARN or a partial ARN"
        ))
    })?;
    let asked = query_qualifier(query);
    if let Some(q) = &asked {
        if FunctionRef::parse(&format!("x:{q}")).is_err() {
            return Err(Refusal::Invalid(format!(
                "1 validation error detected: Value '{q}' at 'qualifier' failed to satisfy constraint: Member must be $LATEST, a version or an alias name"
            )));
        }
    }
    let qualifier = match (f.qualifier.clone(), asked) {
        (Some(named), Some(asked)) if named != asked => return Err(Refusal::QualifierMismatch),
        (named, asked) => asked.or(named),
    };
    let region = f.region.as_deref().unwrap_or(&c.region);
    if f.name() != c.function || region != c.region {
        return Err(Refusal::NotFound(function_arn(
            region,
            f.name(),
            qualifier.as_deref(),
        )));
    }
    Ok(qualifier)
}

/// The log's tail as Lambda sends it in `X-Amz-Log-Result` (before base64).
pub fn log_tail(request_id: &str, version: &str, report: &ReportLine) -> String {
    format!(
        "START RequestId: {request_id} Version: {version}\nEND RequestId: {request_id}\n{report}\n"
    )
}

/// `X-Amz-Log-Result`: the tail in standard, padded base64.
pub fn log_result(tail: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(tail)
}

/// A synchronous invocation's answer: the result, or the function error, with its
/// executed version and, when asked, the log.
pub fn answered(version: &str, log_result: Option<String>, error: bool) -> Answer {
    let mut headers = vec![
        JSON,
        (
            Cow::Borrowed("X-Amz-Executed-Version"),
            Cow::Owned(version.into()),
        ),
    ];
    if let Some(log) = log_result {
        headers.push((Cow::Borrowed("X-Amz-Log-Result"), Cow::Owned(log)));
    }
    if error {
        headers.push(fixed("X-Amz-Function-Error", "Unhandled"));
    }
    Answer {
        status: 200,
        headers,
        body: if error { ERROR_PAYLOAD } else { OK_PAYLOAD }.into(),
    }
}

/// An `Event` queued.
pub fn accepted() -> Answer {
    Answer {
        status: 202,
        headers: vec![fixed("content-length", "0")],
        body: String::new(),
    }
}

/// A `DryRun`: the caller may invoke the function.
pub fn dry_run() -> Answer {
    Answer {
        status: 204,
        headers: Vec::new(),
        body: String::new(),
    }
}

/// Lambda is out of concurrency for the function: its 429, with the `Reason`.
pub fn throttled(why: LambdaThrottle) -> Answer {
    answers::lambda_throttle(ApiMode::FunctionUrl, why)
}

/// A restJson1 error: 4xx, its type in `x-amzn-ErrorType`.
pub(super) fn error(status: u16, error_type: &'static str, message: &str) -> Answer {
    Answer {
        status,
        headers: vec![JSON, fixed("x-amzn-ErrorType", error_type)],
        body: format!(
            r#"{{"Type":"User","message":{}}}"#,
            serde_json::Value::from(message)
        ),
    }
}

/// The answer to a request that names no function the emulator runs.
pub fn refused(r: &Refusal) -> Answer {
    match r {
        Refusal::Invalid(message) => error(400, "ValidationException", message),
        Refusal::NotFound(arn) => error(
            404,
            "ResourceNotFoundException",
            &format!("Function not found: {arn}"),
        ),
        Refusal::QualifierMismatch => error(
            400,
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
        ),
    }
}

/// A header value Lambda does not take.
pub(super) fn bad_header(header: &str, value: &str, valid: &str) -> Answer {
    error(
        400,
        "InvalidParameterValueException",
        &format!("Unsupported {header} value '{value}': expected one of {valid}"),
    )
}

impl Emulator {
    /// One Invoke API request for the function `encoded` names; `id` is its request id.
    pub(crate) async fn invoke_api(
        self: &Arc<Self>,
        req: hyper::Request<hyper::body::Incoming>,
        encoded: &str,
        id: &str,
    ) -> Answer {
        let came = SystemTime::now();
        let arrived = self.arrived(req).await;
        let (kind, tail, query) = (
            arrived.header("x-amz-invocation-type"),
            arrived.header("x-amz-log-type"),
            arrived.query,
        );

        let (function, target) = match self.addressed(encoded, &query) {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        let Some(kind) = InvocationType::parse(kind.as_deref()) else {
            let given = kind.unwrap_or_default();
            return bad_header(
                "X-Amz-Invocation-Type",
                &given,
                "RequestResponse, Event, DryRun",
            );
        };
        let tail = match log_type(tail) {
            Ok(tail) => tail,
            Err(answer) => return answer,
        };
        match kind {
            InvocationType::DryRun => dry_run(),
            InvocationType::Event => {
                // Lambda queues it and answers at once; a throttled event is retried by
                // Lambda itself, so the caller never hears of it.
                if let Ok(invoked) = self.invoke_function(function, &target, came) {
                    self.counted_when_done(invoked);
                }
                accepted()
            }
            InvocationType::RequestResponse => {
                // The function runs to its end even if the caller goes away.
                let ran = match self.invoke_function(function, &target, came) {
                    Ok(invoked) => self.counted_when_done(invoked).await,
                    Err(why) => return throttled(why),
                };
                let Ok(ran) = ran else {
                    return error(500, "ServiceException", "the invocation failed");
                };
                let version = target.version.as_str();
                let log = tail.then(|| {
                    let line = ran.report(id, target.memory_mb);
                    log_result(&log_tail(id, version, &line))
                });
                answered(version, log, ran.error)
            }
        }
    }

    /// The function `encoded` names (a function of an API with routes by its name, else the
    /// one function) and what the qualifier it is called with runs — or the answer
    /// refusing them (an unknown version or alias: 404, as Lambda).
    pub(super) fn addressed(
        &self,
        encoded: &str,
        query: &str,
    ) -> Result<(&Arc<super::Function>, Target), Answer> {
        let function = crate::control_routes::routes_function(&self.config, encoded)
            .map_or(&self.function, |i| &self.functions[i]);
        let qualifier = resolve(&function.config, encoded, query).map_err(|r| refused(&r))?;
        let target = function.target(qualifier.as_deref()).map_err(|r| {
            let (status, error_type, message) = crate::versions::api::refusal(&r);
            error(status, error_type, &message)
        })?;
        Ok((function, target))
    }

    pub(super) async fn arrived(&self, req: hyper::Request<hyper::body::Incoming>) -> Arrived {
        self.requests.fetch_add(1, Relaxed);
        self.invocations_direct.fetch_add(1, Relaxed);
        let (parts, body) = req.into_parts();
        let body = {
            use http_body_util::BodyExt;
            body.collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_else(|_| Bytes::new())
        };
        let query = parts.uri.query().unwrap_or("").to_string();
        let mut headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // HTTP/2 carries the host as `:authority`, which AWS signs as `host`.
        if parts.headers.get("host").is_none() {
            if let Some(authority) = parts.uri.authority() {
                headers.push(("host".into(), authority.to_string()));
            }
        }
        let recorded = RecordedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: query.clone(),
            headers,
            body: body.to_vec(),
        };
        self.record(recorded.clone());
        Arrived {
            request: recorded,
            query,
        }
    }

    /// Counts an invocation that ends without a function error as `ok` once it ends,
    /// whether the caller still waits or not (an `Event`'s never does).
    pub(super) fn counted_when_done(
        self: &Arc<Self>,
        invoked: Invoked,
    ) -> tokio::task::JoinHandle<Ran> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let ran = invoked.finished().await;
            if !ran.error {
                me.ok.fetch_add(1, Relaxed);
            }
            ran
        })
    }

    fn record(&self, r: RecordedRequest) {
        let mut kept = self.invoke_requests.lock().expect("requests lock");
        if kept.len() >= KEPT_REQUESTS {
            kept.pop_front();
        }
        kept.push_back(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config() -> EmulatorConfig {
        EmulatorConfig {
            function: "orders".into(),
            region: "eu-west-1".into(),
            ..EmulatorConfig::default()
        }
    }

    #[test]
    fn only_invoke_paths_are_routed() {
        assert_eq!(
            route("POST", "/2015-03-31/functions/orders/invocations"),
            Some("orders")
        );
        assert_eq!(
            route(
                "POST",
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Aorders/invocations"
            ),
            Some("arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Aorders")
        );
        assert_eq!(
            route("GET", "/2015-03-31/functions/orders/invocations"),
            None
        );
        assert_eq!(
            route("POST", "/2015-03-31/functions/orders/configuration"),
            None
        );
        assert_eq!(route("POST", "/2015-03-31/functions//invocations"), None);
        assert_eq!(route("POST", "/2015-03-31/functions/a/b/invocations"), None);
        assert_eq!(route("POST", "/orders"), None);
    }

    #[test]
    fn names_arns_and_partial_arns_resolve_with_their_qualifier() {
        let c = config();
        let path = |name: &str, q: Option<&str>| {
            let p = stampede_lambda::function::invoke_path(name, q);
            let (path, query) = p.split_once('?').unwrap_or((&p, ""));
            let name = route("POST", path).unwrap().to_string();
            resolve(&c, &name, query)
        };
        assert_eq!(path("orders", None), Ok(None));
        assert_eq!(path("orders:live", None), Ok(Some("live".into())));
        assert_eq!(
            path(
                "arn:aws:lambda:eu-west-1:123456789012:function:orders",
                Some("$LATEST")
            ),
            Ok(Some("$LATEST".into()))
        );
        assert_eq!(
            path(
                "arn:aws:lambda:eu-west-1:123456789012:function:orders:7",
                None
            ),
            Ok(Some("7".into()))
        );
        assert_eq!(
            path("123456789012:function:orders", Some("live")),
            Ok(Some("live".into()))
        );
        assert_eq!(path("orders:live", Some("live")), Ok(Some("live".into())));
        assert_eq!(
            path("orders:live", Some("7")),
            Err(Refusal::QualifierMismatch)
        );
        assert_eq!(
            path("payments", None),
            Err(Refusal::NotFound(
                "arn:aws:lambda:eu-west-1:123456789012:function:payments".into()
            ))
        );
        assert_eq!(
            path(
                "arn:aws:lambda:us-east-1:123456789012:function:orders",
                None
            ),
            Err(Refusal::NotFound(
                "arn:aws:lambda:us-east-1:123456789012:function:orders".into()
            )),
            "another region"
        );
        assert_eq!(
            path("payments:live", None),
            Err(Refusal::NotFound(
                "arn:aws:lambda:eu-west-1:123456789012:function:payments:live".into()
            ))
        );
        assert!(matches!(resolve(&c, "a%2Fb", ""), Err(Refusal::Invalid(_))));
        assert!(matches!(
            resolve(&c, "orders", "Qualifier=li%20ve"),
            Err(Refusal::Invalid(_))
        ));
    }

    #[test]
    fn header_values_are_lambdas() {
        assert_eq!(
            InvocationType::parse(None),
            Some(InvocationType::RequestResponse)
        );
        assert_eq!(
            InvocationType::parse(Some("Event")),
            Some(InvocationType::Event)
        );
        assert_eq!(
            InvocationType::parse(Some("DryRun")),
            Some(InvocationType::DryRun)
        );
        assert_eq!(InvocationType::parse(Some("event")), None);
        assert_eq!(tail_wanted(None), Some(false));
        assert_eq!(tail_wanted(Some("None")), Some(false));
        assert_eq!(tail_wanted(Some("Tail")), Some(true));
        assert_eq!(tail_wanted(Some("tail")), None);
    }

    #[test]
    fn the_log_tail_carries_a_report_line_that_reads_back() {
        let ran = Ran {
            init: Some(Duration::from_micros(231_456)),
            handler: Duration::from_micros(40_123),
            error: false,
            max_memory_used_mb: 44,
            stream: Duration::ZERO,
        };
        let r = ran.report("abc-1", 512);
        assert_eq!(r.billed_ms, 272, "40.123 + 231.456 rounded up");
        assert_eq!(r.init_ms, Some(231.456));
        let tail = log_tail("abc-1", "$LATEST", &r);
        assert!(tail.starts_with(
            "START RequestId: abc-1 Version: $LATEST\nEND RequestId: abc-1\nREPORT RequestId: abc-1\tDuration: 40.12 ms\tBilled Duration: 272 ms\tMemory Size: 512 MB\tMax Memory Used: 44 MB\tInit Duration: 231.46 ms\t\n"
        ), "{tail}");
        let read = ReportLine::from_log_result(log_result(&tail).as_bytes()).unwrap();
        assert_eq!((read.billed_ms, read.memory_mb), (272, 512));
        assert!(read.cold());
        let warm = Ran { init: None, ..ran }.report("abc-2", 128);
        assert_eq!((warm.billed_ms, warm.init_ms), (41, None));
    }

    #[test]
    fn answers_are_lambdas() {
        let ok = answered("$LATEST", Some("TG9n".into()), false);
        assert_eq!((ok.status, ok.body.as_str()), (200, OK_PAYLOAD));
        assert_eq!(ok.header("X-Amz-Executed-Version"), Some("$LATEST"));
        assert_eq!(ok.header("X-Amz-Log-Result"), Some("TG9n"));
        assert_eq!(ok.header("X-Amz-Function-Error"), None);
        let failed = answered("1", None, true);
        assert_eq!(failed.status, 200);
        assert_eq!(failed.header("X-Amz-Function-Error"), Some("Unhandled"));
        assert_eq!(
            stampede_lambda::report_line::error_type(failed.body.as_bytes()).as_deref(),
            Some("EmulatedError")
        );
        assert_eq!(failed.header("X-Amz-Log-Result"), None);
        let nf = refused(&Refusal::NotFound(
            "arn:aws:lambda:us-east-1:123456789012:function:x".into(),
        ));
        assert_eq!(nf.status, 404);
        assert_eq!(
            nf.header("x-amzn-ErrorType"),
            Some("ResourceNotFoundException")
        );
        assert_eq!(
            nf.body,
            r#"{"Type":"User","message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:x"}"#
        );
        let t = throttled(LambdaThrottle::Reserved);
        assert_eq!(t.status, 429);
        assert_eq!(
            t.body,
            r#"{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}"#
        );
        assert_eq!((accepted().status, accepted().body.as_str()), (202, ""));
        assert_eq!(dry_run().status, 204);
        let bad = refused(&Refusal::Invalid("it's \"bad\"".into()));
        assert_eq!(bad.body, r#"{"Type":"User","message":"it's \"bad\""}"#);
    }
}
