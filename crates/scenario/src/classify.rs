//! What one attempt's answer means (as API Gateway and Lambda answer on the wire): ok, a
//! redirect, a throttle and whose, a suspected Lambda throttle behind API Gateway, a client
//! or server error, a timeout, a network or TLS failure, a malformed answer, or a failure
//! of the client machine itself. Every attempt gets exactly one. Pure.

use stampede_results::AttemptClass;

/// Who throttled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ThrottleKind {
    /// API Gateway's account, stage or method bucket (`TooManyRequestsException`).
    ApiGateway,
    /// An API Gateway usage plan's quota (`Limit Exceeded`).
    UsagePlan,
    /// Lambda itself (Invoke API, function URL), with its `Reason`.
    LambdaReserved,
    LambdaAccount,
    LambdaRate,
    LambdaCaller,
    /// Any other 429: a rate limiter in front of the service.
    Other,
}

pub const THROTTLE_KINDS: [ThrottleKind; 7] = [
    ThrottleKind::ApiGateway,
    ThrottleKind::UsagePlan,
    ThrottleKind::LambdaReserved,
    ThrottleKind::LambdaAccount,
    ThrottleKind::LambdaRate,
    ThrottleKind::LambdaCaller,
    ThrottleKind::Other,
];

impl ThrottleKind {
    /// The key in the results' `throttles`.
    pub fn key(self) -> &'static str {
        match self {
            ThrottleKind::ApiGateway => "api_gateway",
            ThrottleKind::UsagePlan => "usage_plan",
            ThrottleKind::LambdaReserved => "lambda_reserved_concurrency",
            ThrottleKind::LambdaAccount => "lambda_account_concurrency",
            ThrottleKind::LambdaRate => "lambda_invocation_rate",
            ThrottleKind::LambdaCaller => "lambda_caller_rate",
            ThrottleKind::Other => "other_429",
        }
    }
}

/// The outcome of one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Ok,
    /// 3xx: not followed, and not a success — a load test that only reaches a redirect
    /// (http → https, a moved path) has not reached the service.
    Redirect,
    Throttled(ThrottleKind),
    /// 500 with API Gateway's own body: Lambda throttled behind a REST API, most likely.
    SuspectedIntegrationThrottle,
    /// The Invoke API ran the function and it failed: 200 with `X-Amz-Function-Error`.
    FunctionError,
    /// An answer classified ok that failed its request's `expect`, or lacked a value its
    /// `capture` takes: 200 but wrong. Never made by [`Outcome::classify`] (which sees no
    /// request), only by [`Outcome::checked`].
    Unexpected,
    /// Any other 4xx.
    ClientError,
    /// Any other 5xx.
    ServerError,
    /// No answer within the attempt timeout, or API Gateway's 504.
    Timeout,
    /// The connection could not be opened, or broke mid-request.
    ConnectError,
    /// The TLS handshake failed: a certificate not trusted, a protocol mismatch.
    TlsError,
    /// The answer was not valid HTTP: a malformed status line or header, a body cut short.
    ProtocolError,
    /// The client machine could not send it: out of descriptors, ports, buffers, or no
    /// valid credentials. Never retried: retrying cannot help and would hide the cause.
    LocalError(LocalReason),
}

impl Outcome {
    /// The class the results count it in (`attempts`).
    pub fn class(self) -> AttemptClass {
        match self {
            Outcome::Ok => AttemptClass::Ok,
            Outcome::Redirect => AttemptClass::Redirects,
            Outcome::Throttled(_) => AttemptClass::Throttled,
            Outcome::SuspectedIntegrationThrottle => AttemptClass::SuspectedLambdaThrottles,
            Outcome::FunctionError => AttemptClass::FunctionErrors,
            Outcome::Unexpected => AttemptClass::Unexpected,
            Outcome::ClientError => AttemptClass::ClientErrors,
            Outcome::ServerError => AttemptClass::ServerErrors,
            Outcome::Timeout => AttemptClass::Timeouts,
            Outcome::ConnectError => AttemptClass::ConnectErrors,
            Outcome::TlsError => AttemptClass::TlsErrors,
            Outcome::ProtocolError => AttemptClass::ProtocolErrors,
            Outcome::LocalError(_) => AttemptClass::LocalErrors,
        }
    }
}

/// What ran out on the client machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LocalReason {
    /// EMFILE: the process's open-files limit (`ulimit -n`).
    FileDescriptors,
    /// ENFILE: the system-wide file table.
    SystemFileTable,
    /// EADDRNOTAVAIL: no ephemeral port left for a new connection.
    EphemeralPorts,
    /// ENOBUFS or ENOMEM: the kernel's socket buffers or memory.
    Buffers,
    /// SigV4 credentials expired and could not be refreshed.
    Credentials,
}

pub const LOCAL_REASONS: [LocalReason; 5] = [
    LocalReason::FileDescriptors,
    LocalReason::SystemFileTable,
    LocalReason::EphemeralPorts,
    LocalReason::Buffers,
    LocalReason::Credentials,
];

impl LocalReason {
    /// The key in the results' `local_errors`.
    pub fn key(self) -> &'static str {
        match self {
            LocalReason::FileDescriptors => "file_descriptors",
            LocalReason::SystemFileTable => "system_file_table",
            LocalReason::EphemeralPorts => "ephemeral_ports",
            LocalReason::Buffers => "buffers",
            LocalReason::Credentials => "credentials",
        }
    }

    /// What ran out, in words.
    pub fn describe(self) -> &'static str {
        match self {
            LocalReason::FileDescriptors => "out of file descriptors",
            LocalReason::SystemFileTable => "the system's file table is full",
            LocalReason::EphemeralPorts => "out of ephemeral ports for new connections",
            LocalReason::Buffers => "out of socket buffers or memory",
            LocalReason::Credentials => "no valid AWS credentials to sign with",
        }
    }

    /// The reason an OS error number stands for, if it is one of ours.
    pub fn from_os_error(errno: i32) -> Option<LocalReason> {
        Some(match errno {
            libc::EMFILE => LocalReason::FileDescriptors,
            libc::ENFILE => LocalReason::SystemFileTable,
            libc::EADDRNOTAVAIL => LocalReason::EphemeralPorts,
            libc::ENOBUFS | libc::ENOMEM => LocalReason::Buffers,
            _ => return None,
        })
    }
}

impl Outcome {
    /// Classifies an answer by status, `x-amzn-ErrorType` and the start of the body.
    pub fn classify(status: u16, error_type: Option<&str>, body: &[u8]) -> Outcome {
        let body = String::from_utf8_lossy(&body[..body.len().min(512)]);
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        match status {
            429 => Outcome::Throttled(throttle_kind(error_type, &compact)),
            // REST APIs and HTTP APIs word it differently.
            500 if compact == r#"{"message":"Internalservererror"}"#
                || compact == r#"{"message":"InternalServerError"}"# =>
            {
                Outcome::SuspectedIntegrationThrottle
            }
            504 => Outcome::Timeout,
            // An HTTP API's integration timeout (30 s).
            503 if compact == r#"{"message":"ServiceUnavailable"}"# => Outcome::Timeout,
            400..=499 => Outcome::ClientError,
            500..=599 => Outcome::ServerError,
            300..=399 => Outcome::Redirect,
            // 1xx never reaches us as a final answer; 2xx are successes.
            _ => Outcome::Ok,
        }
    }

    /// An Invoke API answer: as [`Outcome::classify`], except that a success carrying
    /// `X-Amz-Function-Error` is the function's own failure.
    pub fn classify_invoke(
        status: u16,
        error_type: Option<&str>,
        function_error: bool,
        body: &[u8],
    ) -> Outcome {
        match Outcome::classify(status, error_type, body) {
            Outcome::Ok if function_error => Outcome::FunctionError,
            other => other,
        }
    }

    /// An answer's outcome after its request's checks: only an ok answer is checked (a
    /// throttle or a 5xx stays what it is), and one that failed them is `Unexpected`.
    /// `check` runs only when asked, so an ok answer pays for its checks and no other does.
    pub fn checked<E>(self, check: impl FnOnce() -> Result<(), E>) -> (Outcome, Option<E>) {
        match self {
            Outcome::Ok => match check() {
                Ok(()) => (Outcome::Ok, None),
                Err(why) => (Outcome::Unexpected, Some(why)),
            },
            other => (other, None),
        }
    }

    /// Only the status is known (tests, and answers whose body was not read).
    pub fn from_status(status: u16) -> Outcome {
        Outcome::classify(status, None, b"")
    }

    /// The outcome's name in failure samples (`throttled:<kind>`, `local_error:<reason>`).
    pub fn name(self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::Redirect => "redirect".into(),
            Outcome::Throttled(kind) => format!("throttled:{}", kind.key()),
            Outcome::SuspectedIntegrationThrottle => "suspected_lambda_throttle".into(),
            Outcome::FunctionError => "function_error".into(),
            Outcome::Unexpected => "unexpected".into(),
            Outcome::ClientError => "client_error".into(),
            Outcome::ServerError => "server_error".into(),
            Outcome::Timeout => "timeout".into(),
            Outcome::ConnectError => "connect_error".into(),
            Outcome::TlsError => "tls_error".into(),
            Outcome::ProtocolError => "protocol_error".into(),
            Outcome::LocalError(reason) => format!("local_error:{}", reason.key()),
        }
    }

    pub fn is_throttle(self) -> bool {
        matches!(self, Outcome::Throttled(_))
    }

    /// Neither a success nor a throttle (a redirect is one: the service was not reached).
    pub fn is_error(self) -> bool {
        !matches!(self, Outcome::Ok | Outcome::Throttled(_))
    }
}

fn throttle_kind(error_type: Option<&str>, compact_body: &str) -> ThrottleKind {
    for (reason, kind) in [
        (
            "ReservedFunctionConcurrentInvocationLimitExceeded",
            ThrottleKind::LambdaReserved,
        ),
        (
            "ConcurrentInvocationLimitExceeded",
            ThrottleKind::LambdaAccount,
        ),
        (
            "FunctionInvocationRateLimitExceeded",
            ThrottleKind::LambdaRate,
        ),
        (
            "ReservedFunctionInvocationRateLimitExceeded",
            ThrottleKind::LambdaRate,
        ),
        ("CallerRateLimitExceeded", ThrottleKind::LambdaCaller),
    ] {
        if compact_body.contains(&format!(r#""Reason":"{reason}""#)) {
            return kind;
        }
    }
    if compact_body.contains(r#""message":"LimitExceeded""#) {
        return ThrottleKind::UsagePlan;
    }
    if error_type.is_some_and(|t| t.starts_with("TooManyRequestsException"))
        || compact_body == r#"{"message":"TooManyRequests"}"#
    {
        return ThrottleKind::ApiGateway;
    }
    ThrottleKind::Other
}

/// Kinds counted one by one: a throttle kind, a local reason, a retry cause.
pub trait Counted: Copy + 'static {
    /// Every kind, in the order they are reported.
    const ALL: &'static [Self];
    /// The kind's key in the results.
    fn key(self) -> &'static str;
}

impl Counted for ThrottleKind {
    const ALL: &'static [Self] = &THROTTLE_KINDS;
    fn key(self) -> &'static str {
        ThrottleKind::key(self)
    }
}

impl Counted for LocalReason {
    const ALL: &'static [Self] = &LOCAL_REASONS;
    fn key(self) -> &'static str {
        LocalReason::key(self)
    }
}

/// A count per kind, indexed by the kind itself: no magic-size arrays, no `as usize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally<K> {
    counts: [u64; TALLY_SLOTS],
    kind: std::marker::PhantomData<K>,
}

/// Enough for the kind with the most members.
const TALLY_SLOTS: usize = 8;

impl<K: Counted + PartialEq> Tally<K> {
    fn slot(kind: K) -> usize {
        K::ALL
            .iter()
            .position(|k| *k == kind)
            .expect("every kind is in ALL")
    }

    pub fn add(&mut self, kind: K) {
        self.counts[Self::slot(kind)] += 1;
    }

    pub fn get(&self, kind: K) -> u64 {
        self.counts[Self::slot(kind)]
    }

    pub fn merge(&mut self, other: &Tally<K>) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
    }

    /// The kinds seen, by key, as the results have them.
    pub fn by_key(&self) -> std::collections::BTreeMap<String, u64> {
        K::ALL
            .iter()
            .filter(|k| self.get(**k) > 0)
            .map(|k| (k.key().to_string(), self.get(*k)))
            .collect()
    }
}

impl<K> Default for Tally<K> {
    fn default() -> Self {
        Tally {
            counts: [0; TALLY_SLOTS],
            kind: std::marker::PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(Outcome::from_status(200), Outcome::Ok);
        assert_eq!(Outcome::from_status(204), Outcome::Ok);
        assert_eq!(Outcome::from_status(301), Outcome::Redirect);
        assert_eq!(Outcome::from_status(302), Outcome::Redirect);
        assert_eq!(Outcome::from_status(308), Outcome::Redirect);
        assert_eq!(
            Outcome::from_status(429),
            Outcome::Throttled(ThrottleKind::Other)
        );
        assert_eq!(Outcome::from_status(404), Outcome::ClientError);
        assert_eq!(Outcome::from_status(500), Outcome::ServerError);
        assert_eq!(Outcome::from_status(503), Outcome::ServerError);
        assert_eq!(Outcome::from_status(504), Outcome::Timeout);
    }

    #[test]
    fn every_throttle_of_the_design_table_is_told_apart() {
        let c = Outcome::classify;
        assert_eq!(
            c(
                429,
                Some("TooManyRequestsException"),
                br#"{"message":"Too Many Requests"}"#
            ),
            Outcome::Throttled(ThrottleKind::ApiGateway)
        );
        // HTTP APIs send the body without the header.
        assert_eq!(
            c(429, None, br#"{"message":"Too Many Requests"}"#),
            Outcome::Throttled(ThrottleKind::ApiGateway)
        );
        assert_eq!(
            c(429, None, br#"{"message":"Limit Exceeded"}"#),
            Outcome::Throttled(ThrottleKind::UsagePlan)
        );
        let lambda = |reason: &str| {
            format!(r#"{{"Reason":"{reason}","Type":"User","message":"Rate Exceeded."}}"#)
        };
        assert_eq!(
            c(
                429,
                Some("TooManyRequestsException"),
                lambda("ReservedFunctionConcurrentInvocationLimitExceeded").as_bytes()
            ),
            Outcome::Throttled(ThrottleKind::LambdaReserved)
        );
        assert_eq!(
            c(
                429,
                None,
                lambda("ConcurrentInvocationLimitExceeded").as_bytes()
            ),
            Outcome::Throttled(ThrottleKind::LambdaAccount)
        );
        assert_eq!(
            c(
                429,
                None,
                lambda("FunctionInvocationRateLimitExceeded").as_bytes()
            ),
            Outcome::Throttled(ThrottleKind::LambdaRate)
        );
        assert_eq!(
            c(429, None, lambda("CallerRateLimitExceeded").as_bytes()),
            Outcome::Throttled(ThrottleKind::LambdaCaller)
        );
        // A plain rate limiter (nginx, Envoy, a WAF): a throttle all the same.
        assert_eq!(
            c(429, None, b"<html>429 Too Many Requests</html>"),
            Outcome::Throttled(ThrottleKind::Other)
        );
    }

    #[test]
    fn api_gateway_500s_are_suspected_lambda_throttles_other_5xx_are_not() {
        let c = Outcome::classify;
        assert_eq!(
            c(500, None, br#"{"message": "Internal server error"}"#),
            Outcome::SuspectedIntegrationThrottle
        );
        assert_eq!(
            c(502, None, br#"{"message": "Internal server error"}"#),
            Outcome::ServerError
        );
        assert_eq!(
            c(500, None, br#"{"error":"db down"}"#),
            Outcome::ServerError
        );
        assert_eq!(
            c(504, None, br#"{"message": "Endpoint request timed out"}"#),
            Outcome::Timeout
        );
    }

    #[test]
    fn invoke_answers_with_a_function_error_are_function_errors() {
        let c = Outcome::classify_invoke;
        let payload = br#"{"errorType":"TypeError","errorMessage":"boom"}"#;
        assert_eq!(c(200, None, true, payload), Outcome::FunctionError);
        assert_eq!(c(200, None, false, payload), Outcome::Ok);
        assert_eq!(c(202, None, false, b""), Outcome::Ok, "an Event invocation");
        // The header only means something on a success.
        assert_eq!(
            c(
                429,
                Some("TooManyRequestsException"),
                true,
                br#"{"Reason":"CallerRateLimitExceeded"}"#
            ),
            Outcome::Throttled(ThrottleKind::LambdaCaller)
        );
        assert_eq!(
            c(
                502,
                Some("ServiceException"),
                false,
                br#"{"Type":"Service","message":"x"}"#
            ),
            Outcome::ServerError
        );
        assert!(Outcome::FunctionError.is_error());
    }

    #[test]
    fn http_api_answers_are_read_as_rest_ones_are() {
        let c = Outcome::classify;
        assert_eq!(
            c(500, None, br#"{"message":"Internal Server Error"}"#),
            Outcome::SuspectedIntegrationThrottle
        );
        assert_eq!(
            c(503, None, br#"{"message":"Service Unavailable"}"#),
            Outcome::Timeout
        );
        assert_eq!(c(503, None, b"busy"), Outcome::ServerError);
    }

    #[test]
    fn local_failures_are_named_by_their_os_error() {
        assert_eq!(
            LocalReason::from_os_error(libc::EMFILE),
            Some(LocalReason::FileDescriptors)
        );
        assert_eq!(
            LocalReason::from_os_error(libc::EADDRNOTAVAIL),
            Some(LocalReason::EphemeralPorts)
        );
        assert_eq!(
            LocalReason::from_os_error(libc::ECONNREFUSED),
            None,
            "ECONNREFUSED is the network"
        );
        assert!(Outcome::LocalError(LocalReason::Buffers).is_error());
        assert!(Outcome::ProtocolError.is_error());
    }

    #[test]
    fn only_ok_answers_are_checked_and_a_failed_check_is_an_unexpected_error() {
        let fail = || Err::<(), _>("/status was \"ERROR\", expected \"CREATED\"");
        let (outcome, why) = Outcome::Ok.checked(fail);
        assert_eq!(outcome, Outcome::Unexpected);
        assert_eq!(why, Some("/status was \"ERROR\", expected \"CREATED\""));
        assert_eq!(
            Outcome::Ok.checked(|| Ok::<(), &str>(())),
            (Outcome::Ok, None)
        );
        let throttle = Outcome::Throttled(ThrottleKind::ApiGateway);
        let ran = std::cell::Cell::new(false);
        let check = || {
            ran.set(true);
            fail()
        };
        assert_eq!(
            throttle.checked(check),
            (throttle, None),
            "a throttle stays one"
        );
        assert!(!ran.get(), "answers that are not ok are not checked");
        assert_eq!(Outcome::ServerError.checked(fail).0, Outcome::ServerError);
        assert!(Outcome::Unexpected.is_error() && !Outcome::Unexpected.is_throttle());
        assert_eq!(Outcome::Unexpected.class(), AttemptClass::Unexpected);
        assert_eq!(Outcome::Unexpected.name(), "unexpected");
    }

    #[test]
    fn errors_exclude_ok_and_throttles() {
        assert!(!Outcome::Ok.is_error());
        assert!(!Outcome::Throttled(ThrottleKind::Other).is_error());
        assert!(Outcome::Timeout.is_error());
        assert!(Outcome::SuspectedIntegrationThrottle.is_error());
        assert!(Outcome::ConnectError.is_error());
        assert!(
            Outcome::Redirect.is_error(),
            "a redirect did not reach the service"
        );
    }

    #[test]
    fn tallies_count_by_kind_and_report_by_key() {
        let mut t = Tally::<ThrottleKind>::default();
        t.add(ThrottleKind::UsagePlan);
        t.add(ThrottleKind::UsagePlan);
        let mut u = Tally::default();
        u.add(ThrottleKind::Other);
        t.merge(&u);
        assert_eq!(t.get(ThrottleKind::UsagePlan), 2);
        let keys: Vec<(String, u64)> = t.by_key().into_iter().collect();
        assert_eq!(
            keys,
            vec![("other_429".into(), 1), ("usage_plan".into(), 2)]
        );
        assert!(THROTTLE_KINDS.len() <= TALLY_SLOTS && LOCAL_REASONS.len() <= TALLY_SLOTS);
    }
}
