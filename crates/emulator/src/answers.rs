//! What the emulated API answers, byte for byte as API Gateway and Lambda answer (the
//! classes they fall in: docs/results.md). Pure.

use std::borrow::Cow;

use crate::config::ApiMode;
use crate::lambda::LambdaThrottle;

/// One answer: status, headers, body. The server adds the request id.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (case-insensitive), if the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

/// A header with a fixed value.
pub(crate) const fn fixed(
    name: &'static str,
    value: &'static str,
) -> (Cow<'static, str>, Cow<'static, str>) {
    (Cow::Borrowed(name), Cow::Borrowed(value))
}

pub(crate) const JSON: (Cow<'static, str>, Cow<'static, str>) =
    fixed("content-type", "application/json");

pub fn ok() -> Answer {
    Answer {
        status: 200,
        headers: vec![JSON],
        body: r#"{"ok":true}"#.into(),
    }
}

/// API Gateway's throttle (account, stage or method bucket empty).
pub fn api_gateway_throttle(mode: ApiMode) -> Answer {
    let mut headers = vec![JSON];
    if mode == ApiMode::Rest {
        headers.push(fixed("x-amzn-ErrorType", "TooManyRequestsException"));
    }
    Answer {
        status: 429,
        headers,
        body: r#"{"message":"Too Many Requests"}"#.into(),
    }
}

/// Lambda refused the invocation. Behind API Gateway the client sees a 500, not a 429.
pub fn lambda_throttle(mode: ApiMode, why: LambdaThrottle) -> Answer {
    match mode {
        ApiMode::Rest => Answer {
            status: 500,
            headers: vec![
                JSON,
                fixed("x-amzn-ErrorType", "InternalServerErrorException"),
            ],
            body: r#"{"message": "Internal server error"}"#.into(),
        },
        ApiMode::Http => Answer {
            status: 500,
            headers: vec![JSON],
            body: r#"{"message":"Internal Server Error"}"#.into(),
        },
        ApiMode::FunctionUrl => Answer {
            status: 429,
            headers: vec![
                JSON,
                fixed("x-amzn-ErrorType", "TooManyRequestsException"),
                fixed("Retry-After", "1"),
            ],
            body: format!(
                r#"{{"Reason":"{}","Type":"User","message":"Rate Exceeded."}}"#,
                why.reason()
            ),
        },
    }
}

/// The function ran and ended in a function error (`error_rate`). Behind a REST API a
/// 502, behind an HTTP API a 500 (as for a Lambda throttle), from a function URL a 502.
pub fn function_error(mode: ApiMode) -> Answer {
    match mode {
        ApiMode::Rest => Answer {
            status: 502,
            headers: vec![
                JSON,
                fixed("x-amzn-ErrorType", "InternalServerErrorException"),
            ],
            body: r#"{"message": "Internal server error"}"#.into(),
        },
        ApiMode::Http => Answer {
            status: 500,
            headers: vec![JSON],
            body: r#"{"message":"Internal Server Error"}"#.into(),
        },
        ApiMode::FunctionUrl => Answer {
            status: 502,
            headers: vec![fixed("content-type", "text/plain")],
            body: "Internal Server Error".into(),
        },
    }
}

/// The integration took longer than API Gateway waits.
pub fn integration_timeout(mode: ApiMode) -> Answer {
    match mode {
        ApiMode::Http => Answer {
            status: 503,
            headers: vec![JSON],
            body: r#"{"message":"Service Unavailable"}"#.into(),
        },
        _ => Answer {
            status: 504,
            headers: vec![
                JSON,
                fixed("x-amzn-ErrorType", "IntegrationTimeoutException"),
            ],
            body: r#"{"message": "Endpoint request timed out"}"#.into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_answers_are_the_documented_shapes() {
        let t = api_gateway_throttle(ApiMode::Rest);
        assert_eq!(
            (t.status, t.body.as_str()),
            (429, r#"{"message":"Too Many Requests"}"#)
        );
        assert_eq!(
            t.header("x-amzn-errortype"),
            Some("TooManyRequestsException")
        );
        let l = lambda_throttle(ApiMode::Rest, LambdaThrottle::Reserved);
        assert_eq!(
            (l.status, l.body.as_str()),
            (500, r#"{"message": "Internal server error"}"#)
        );
        let to = integration_timeout(ApiMode::Rest);
        assert_eq!(
            (to.status, to.body.as_str()),
            (504, r#"{"message": "Endpoint request timed out"}"#)
        );
    }

    #[test]
    fn function_urls_answer_429_with_a_reason() {
        let a = lambda_throttle(ApiMode::FunctionUrl, LambdaThrottle::Account);
        assert_eq!(a.status, 429);
        assert!(a
            .body
            .contains(r#""Reason":"ConcurrentInvocationLimitExceeded""#));
        assert_eq!(a.header("Retry-After"), Some("1"));
        let r = lambda_throttle(ApiMode::FunctionUrl, LambdaThrottle::Reserved);
        assert!(r
            .body
            .contains("ReservedFunctionConcurrentInvocationLimitExceeded"));
    }

    #[test]
    fn function_errors_are_502s_but_behind_an_http_api() {
        let rest = function_error(ApiMode::Rest);
        assert_eq!(
            (rest.status, rest.body.as_str()),
            (502, r#"{"message": "Internal server error"}"#)
        );
        assert_eq!(function_error(ApiMode::Http).status, 500);
        assert_eq!(function_error(ApiMode::FunctionUrl).status, 502);
    }

    #[test]
    fn http_apis_time_out_with_503() {
        let t = integration_timeout(ApiMode::Http);
        assert_eq!(
            (t.status, t.body.as_str()),
            (503, r#"{"message":"Service Unavailable"}"#)
        );
        assert_eq!(
            lambda_throttle(ApiMode::Http, LambdaThrottle::Account).status,
            500
        );
    }
}
