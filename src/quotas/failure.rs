//! Why a quota call failed, in a few words a person can act on. The mapping is pure, so
//! it is tested without an endpoint; [`of_sdk_error`] only takes the SDK error apart.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
// The SDK crates re-export the smithy error types; every client shares them.
use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata};

/// The part of an SDK error the reason depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The service answered with an error it could name (or at least a status).
    Service,
    /// An answer came but was not the protocol's (an HTML page, say).
    Unparsable,
    Timeout,
    /// Could not reach the endpoint at all.
    Connect,
    /// The request could not be built or sent for another reason.
    Other,
}

/// A failed call, ready to be named in `not_read`, or Service Quotas' "never changed".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// `NoSuchResourceException`: the quota was never changed (or the service has none
    /// here); the caller asks for the AWS default instead.
    NoSuchResource,
    /// A named exception the caller handles itself, such as
    /// `ProvisionedConcurrencyConfigNotFoundException`.
    Code(String),
    Reason(String),
}

/// Codes that mean the credentials themselves were refused.
const CREDENTIALS_REJECTED: [&str; 6] = [
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
];

/// The short reason for a failure; pure.
pub fn reason(
    kind: FailureKind,
    status: Option<u16>,
    code: Option<&str>,
    message: Option<&str>,
) -> String {
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    match code {
        Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation") => {
            return "access denied".into()
        }
        Some(c) if CREDENTIALS_REJECTED.contains(&c) => {
            return format!("credentials rejected ({c})")
        }
        Some("ResourceNotFoundException" | "NotFoundException") => {
            return match message {
                Some(m) => format!("not found: {}", short(m)),
                None => "not found".into(),
            }
        }
        Some("TooManyRequestsException" | "ThrottlingException") => {
            return "throttled by the API (try again later)".into()
        }
        _ => {}
    }
    let unimplemented = |m: &str| {
        let m = m.to_ascii_lowercase();
        m.contains("not implemented") || m.contains("not been implemented")
    };
    if message.is_some_and(unimplemented) {
        return "not supported by this endpoint".into();
    }
    match kind {
        FailureKind::Timeout => return "timed out".into(),
        FailureKind::Connect => return "cannot connect to the endpoint".into(),
        _ => {}
    }
    match status {
        Some(403) => "access denied".into(),
        // An endpoint that does not serve the operation: 404 or 405 without an AWS error
        // code, 501, or an answer that is not the protocol's (moto's HTML pages).
        Some(404 | 405) if code.is_none() => "not supported by this endpoint".into(),
        Some(501) => "not supported by this endpoint".into(),
        _ if kind == FailureKind::Unparsable => "not supported by this endpoint".into(),
        _ => {
            let what = match (code, status) {
                (Some(c), _) => c.to_string(),
                (None, Some(s)) => format!("HTTP {s}"),
                (None, None) => "failed".into(),
            };
            match message {
                Some(m) => format!("{what}: {}", short(m)),
                None => what,
            }
        }
    }
}

/// One line of at most ~100 characters.
fn short(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(100).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Takes an SDK error apart: `NoSuchResourceException` and the codes in `handled` are
/// answers, everything else a reason.
pub fn of_sdk_error<E>(err: &SdkError<E, HttpResponse>, handled: &[&str]) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.code();
    if code == Some("NoSuchResourceException") {
        return Failure::NoSuchResource;
    }
    if let Some(c) = code.filter(|c| handled.contains(c)) {
        return Failure::Code(c.to_string());
    }
    let kind = match err {
        SdkError::ServiceError(_) => FailureKind::Service,
        SdkError::ResponseError(_) => FailureKind::Unparsable,
        SdkError::TimeoutError(_) => FailureKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => FailureKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_io() => FailureKind::Connect,
        _ => FailureKind::Other,
    };
    let status = err.raw_response().map(|r| r.status().as_u16());
    // An error page (moto's HTML for an operation it lacks) is not an AWS answer.
    let not_aws = err
        .raw_response()
        .and_then(|r| r.headers().get("content-type"))
        .is_some_and(|t| !t.contains("json") && !t.contains("xml"));
    let kind = if kind == FailureKind::Service && code.is_none() && not_aws {
        FailureKind::Unparsable
    } else {
        kind
    };
    let detail;
    let message = match (kind, err.message()) {
        (_, Some(m)) => Some(m),
        // No message from a service: say what the SDK saw, for the cases without a code.
        (FailureKind::Other, None) => {
            detail = DisplayErrorContext(err).to_string();
            Some(detail.as_str())
        }
        _ => None,
    };
    Failure::Reason(reason(kind, status, code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_calls_say_access_denied() {
        let r = reason(
            FailureKind::Service,
            Some(400),
            Some("AccessDeniedException"),
            Some("User: arn:aws:iam::1:user/x is not authorized"),
        );
        assert_eq!(r, "access denied");
        assert_eq!(
            reason(FailureKind::Service, Some(403), None, None),
            "access denied"
        );
    }

    #[test]
    fn endpoints_without_the_operation_say_not_supported() {
        let not_supported = "not supported by this endpoint";
        assert_eq!(
            reason(FailureKind::Service, Some(404), None, None),
            not_supported
        );
        assert_eq!(
            reason(FailureKind::Unparsable, Some(200), None, None),
            not_supported
        );
        assert_eq!(
            reason(
                FailureKind::Service,
                Some(500),
                Some("InternalFailure"),
                Some("The get_aws_default_service_quota action has not been implemented")
            ),
            not_supported
        );
        // A 404 that names what is missing is not "unsupported".
        assert_eq!(
            reason(
                FailureKind::Service,
                Some(404),
                Some("ResourceNotFoundException"),
                Some("Function not found: arn:aws:lambda:us-east-1:1:function:x")
            ),
            "not found: Function not found: arn:aws:lambda:us-east-1:1:function:x"
        );
    }

    #[test]
    fn transport_failures_and_the_rest() {
        assert_eq!(reason(FailureKind::Timeout, None, None, None), "timed out");
        assert_eq!(
            reason(FailureKind::Connect, None, None, None),
            "cannot connect to the endpoint"
        );
        assert_eq!(
            reason(
                FailureKind::Service,
                Some(403),
                Some("UnrecognizedClientException"),
                Some("The security token included in the request is invalid.")
            ),
            "credentials rejected (UnrecognizedClientException)"
        );
        assert_eq!(
            reason(FailureKind::Service, Some(500), None, Some("boom\nmore")),
            "HTTP 500: boom"
        );
    }
}
