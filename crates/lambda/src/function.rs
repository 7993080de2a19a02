//! A function as the user names it (name, ARN or partial ARN, with or without a qualifier)
//! and the Invoke request's path, query and endpoint, encoded as the AWS SDKs encode them.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// What the AWS SDKs percent-encode in a path label or query value: all but letters,
/// digits and `-._~` (`:` in an ARN becomes `%3A`, `$` of `$LATEST` `%24`).
const SDK_ENCODED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'/')
    .add(b':')
    .add(b',')
    .add(b'?')
    .add(b'#')
    .add(b'[')
    .add(b']')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'@')
    .add(b'!')
    .add(b'$')
    .add(b'&')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'*')
    .add(b'+')
    .add(b';')
    .add(b'=')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'"')
    .add(b'^')
    .add(b'`')
    .add(b'\\');

/// The forms a function may be named in, for error messages.
pub const FUNCTION_FORMS: &str = "a function name (orders), name:qualifier (orders:live), \
an ARN (arn:aws:lambda:us-east-1:123456789012:function:orders[:live]) \
or a partial ARN (123456789012:function:orders[:live])";

/// A function as named, split from its qualifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionRef {
    /// As given, without the qualifier: a name, an ARN or a partial ARN (Invoke takes all).
    pub function: String,
    /// An alias or version (`$LATEST`, `1`, `live`).
    pub qualifier: Option<String>,
    /// The region a full ARN names.
    pub region: Option<String>,
}

impl FunctionRef {
    /// Parses `orders`, `orders:live`, a full ARN or a partial ARN, each with an optional
    /// qualifier. The error says what was expected.
    pub fn parse(s: &str) -> Result<FunctionRef, String> {
        let bad = |why: &str| Err(format!("{why}: expected {FUNCTION_FORMS}"));
        let parts: Vec<&str> = s.split(':').collect();
        let (function, qualifier, region) = match parts.as_slice() {
            [name] => (name.to_string(), None, None),
            [name, q] => (name.to_string(), Some(*q), None),
            [acct, "function", name] => (format!("{acct}:function:{name}"), None, None),
            [acct, "function", name, q] => (format!("{acct}:function:{name}"), Some(*q), None),
            ["arn", partition, "lambda", region, acct, "function", name, rest @ ..]
                if rest.len() <= 1 =>
            {
                if !partition.starts_with("aws") {
                    return bad(&format!("{s:?} is not an AWS ARN"));
                }
                if !is_region(region) {
                    return bad(&format!("{region:?} in {s:?} is not a region"));
                }
                if !is_account(acct) {
                    return bad(&format!("{acct:?} in {s:?} is not a 12-digit account id"));
                }
                (
                    format!("arn:{partition}:lambda:{region}:{acct}:function:{name}"),
                    rest.first().copied(),
                    Some(region.to_string()),
                )
            }
            _ => return bad(&format!("{s:?} is not a function name or ARN")),
        };
        if let [acct, "function", ..] = parts.as_slice() {
            if !is_account(acct) {
                return bad(&format!("{acct:?} in {s:?} is not a 12-digit account id"));
            }
        }
        let f = FunctionRef {
            function,
            qualifier: qualifier.map(str::to_string),
            region,
        };
        let name = f.name();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return bad(&format!(
                "{name:?} is not a function name (1 to 64 letters, digits, - and _)"
            ));
        }
        if let Some(q) = &f.qualifier {
            let ok = q == "$LATEST"
                || (!q.is_empty()
                    && q.len() <= 128
                    && q.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            if !ok {
                return bad(&format!(
                    "{q:?} is not a qualifier ($LATEST, a version number or an alias name)"
                ));
            }
        }
        Ok(f)
    }

    /// The function's bare name (what CloudWatch's `FunctionName` dimension holds).
    pub fn name(&self) -> &str {
        self.function.rsplit(':').next().unwrap_or(&self.function)
    }

    /// `name` or `name:qualifier`, for reports.
    pub fn label(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.name()),
            None => self.name().to_string(),
        }
    }
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts
            .last()
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

/// How an invocation is made (`X-Amz-Invocation-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Synchronous: the answer carries the function's result (and the log tail).
    RequestResponse,
    /// Asynchronous: Lambda queues the event and answers 202 at once.
    Event,
    /// Synchronous, the answer streamed (`InvokeWithResponseStream`): an event stream of
    /// the function's payload chunks and a completion event (error, log tail).
    Stream,
}

pub const INVOCATIONS: [&str; 3] = ["request-response", "event", "stream"];

impl Invocation {
    /// The scenario's spelling.
    pub fn parse(s: &str) -> Option<Invocation> {
        match s {
            "request-response" => Some(Invocation::RequestResponse),
            "event" => Some(Invocation::Event),
            "stream" => Some(Invocation::Stream),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Invocation::RequestResponse => "request-response",
            Invocation::Event => "event",
            Invocation::Stream => "stream",
        }
    }

    /// The header's value, as the Invoke API spells it (a stream is a `RequestResponse`
    /// of `InvokeWithResponseStream`).
    pub fn header(self) -> &'static str {
        match self {
            Invocation::RequestResponse | Invocation::Stream => "RequestResponse",
            Invocation::Event => "Event",
        }
    }

    /// The caller waits for the function's result (and may have its log tail).
    pub fn is_synchronous(self) -> bool {
        self != Invocation::Event
    }

    /// The request's path for `function` and `qualifier`: [`invoke_path`], or
    /// [`stream_path`] for a stream.
    pub fn path(self, function: &str, qualifier: Option<&str>) -> String {
        match self {
            Invocation::Stream => stream_path(function, qualifier),
            _ => invoke_path(function, qualifier),
        }
    }
}

/// `/2015-03-31/functions/{FunctionName}/invocations[?Qualifier=…]`, encoded as the SDK's
/// `Invoke` does (the signature covers the encoded form).
pub fn invoke_path(function: &str, qualifier: Option<&str>) -> String {
    let mut path = format!(
        "/2015-03-31/functions/{}/invocations",
        utf8_percent_encode(function, SDK_ENCODED)
    );
    push_qualifier(&mut path, qualifier);
    path
}

/// `/2021-11-15/functions/{FunctionName}/response-streaming-invocations[?Qualifier=…]`,
/// encoded as the SDK's `InvokeWithResponseStream` does.
pub fn stream_path(function: &str, qualifier: Option<&str>) -> String {
    let mut path = format!(
        "/2021-11-15/functions/{}/response-streaming-invocations",
        utf8_percent_encode(function, SDK_ENCODED)
    );
    push_qualifier(&mut path, qualifier);
    path
}

fn push_qualifier(path: &mut String, qualifier: Option<&str>) {
    if let Some(q) = qualifier {
        path.push_str("?Qualifier=");
        path.extend(utf8_percent_encode(q, SDK_ENCODED));
    }
}

/// The Lambda endpoint for `region`: `AWS_ENDPOINT_URL_LAMBDA`, else `AWS_ENDPOINT_URL`
/// (the SDKs' overrides), else the regional one. No trailing slash.
pub fn endpoint(region: &str, env: impl Fn(&str) -> Option<String>) -> String {
    let from_env = ["AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|name| env(name).filter(|v| !v.trim().is_empty()));
    if let Some(url) = from_env {
        return url.trim().trim_end_matches('/').to_string();
    }
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://lambda.{region}.{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_arns_and_partial_arns_parse_with_their_qualifiers() {
        let f = FunctionRef::parse("orders").unwrap();
        assert_eq!(
            (f.function.as_str(), f.qualifier, f.region),
            ("orders", None, None)
        );
        let f = FunctionRef::parse("orders:live").unwrap();
        assert_eq!((f.name(), f.qualifier.as_deref()), ("orders", Some("live")));
        let f =
            FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:orders:7").unwrap();
        assert_eq!(
            f.function,
            "arn:aws:lambda:eu-west-1:123456789012:function:orders"
        );
        assert_eq!((f.name(), f.qualifier.as_deref()), ("orders", Some("7")));
        assert_eq!(f.region.as_deref(), Some("eu-west-1"));
        let f = FunctionRef::parse("123456789012:function:orders:$LATEST").unwrap();
        assert_eq!(f.function, "123456789012:function:orders");
        assert_eq!(f.label(), "orders:$LATEST");
    }

    #[test]
    fn bad_names_say_what_was_expected() {
        for bad in [
            "",
            "orders/v2",
            "a:b:c",
            "12345:function:orders",
            "arn:aws:lambda:nowhere:123456789012:function:orders",
            "orders:li ve",
            &"x".repeat(65),
        ] {
            let err = FunctionRef::parse(bad).unwrap_err();
            assert!(err.contains("expected a function name"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_path_is_encoded_as_the_sdk_encodes_it() {
        assert_eq!(
            invoke_path("orders", None),
            "/2015-03-31/functions/orders/invocations"
        );
        assert_eq!(
            invoke_path(
                "arn:aws:lambda:us-east-1:123456789012:function:orders",
                Some("$LATEST")
            ),
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders/invocations?Qualifier=%24LATEST"
        );
        assert_eq!(
            Invocation::Stream.path("orders", Some("live")),
            "/2021-11-15/functions/orders/response-streaming-invocations?Qualifier=live"
        );
        assert_eq!(Invocation::Stream.header(), "RequestResponse");
    }

    #[test]
    fn the_endpoint_honours_the_sdk_overrides() {
        let none = |_: &str| None;
        assert_eq!(
            endpoint("eu-west-1", none),
            "https://lambda.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            endpoint("cn-north-1", none),
            "https://lambda.cn-north-1.amazonaws.com.cn"
        );
        let general = |n: &str| (n == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:4566/".into());
        assert_eq!(endpoint("us-east-1", general), "http://127.0.0.1:4566");
        let both = |n: &str| {
            Some(match n {
                "AWS_ENDPOINT_URL_LAMBDA" => "http://127.0.0.1:9001".into(),
                _ => "http://127.0.0.1:4566".into(),
            })
        };
        assert_eq!(endpoint("us-east-1", both), "http://127.0.0.1:9001");
    }
}
