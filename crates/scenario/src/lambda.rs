//! `[target] kind = "lambda"` and `--lambda`: a function invoked through the Lambda Invoke
//! API, on the same load path as a URL (POST to the regional endpoint, SigV4 for `lambda`).

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};
use toml::Spanned;

use super::parse::{parse_url, RawTarget};
use super::{AuthSpec, Target};
use crate::error::Result;
use crate::located::Source;
use stampede_lambda::function::{endpoint, FUNCTION_FORMS, INVOCATIONS};
use stampede_lambda::{FunctionRef, Invocation};

pub const TARGET_KINDS: [&str; 2] = ["http", "lambda"];

/// What the engine needs to know of a Lambda target beyond its URL.
#[derive(Clone, Debug, PartialEq)]
pub struct LambdaTarget {
    pub function: FunctionRef,
    pub invocation: Invocation,
    /// `X-Amz-Log-Type: Tail` is sent: each answer carries its REPORT line.
    pub log_tail: bool,
    pub region: String,
}

/// Where the invocation goes.
pub enum Endpoint<'a> {
    /// The regional endpoint, or the SDKs' `AWS_ENDPOINT_URL[_LAMBDA]`.
    Aws,
    /// `--url`: an endpoint given on the command line (a stand-in, the emulator).
    Given(&'a Uri),
    /// The in-process emulator, aimed at once its address is known.
    Emulator,
}

/// The regions to try, in order, for a function whose ARN names none.
pub fn region_of(
    function: &FunctionRef,
    given: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    function
        .region
        .clone()
        .or_else(|| given.map(str::to_string))
        .or_else(|| env("AWS_REGION").filter(|r| !r.is_empty()))
        .or_else(|| env("AWS_DEFAULT_REGION").filter(|r| !r.is_empty()))
}

/// The target that invokes `lambda` with `payload`: POST of the Invoke path (or of
/// InvokeWithResponseStream's, for a stream), the invocation and log headers the SDK
/// sends, signed for `lambda`.
pub fn invoke_target(
    lambda: LambdaTarget,
    payload: Bytes,
    endpoint_at: Endpoint,
) -> std::result::Result<Target, String> {
    let path = lambda.invocation.path(
        &lambda.function.function,
        lambda.function.qualifier.as_deref(),
    );
    let base = match endpoint_at {
        Endpoint::Aws => endpoint(&lambda.region, |n| std::env::var(n).ok()),
        Endpoint::Given(url) => format!(
            "{}://{}",
            url.scheme_str().unwrap_or("http"),
            url.authority().map_or("", |a| a.as_str())
        ),
        Endpoint::Emulator => super::parse::EMULATOR_PLACEHOLDER
            .trim_end_matches('/')
            .to_string(),
    };
    let url = parse_url(&format!("{base}{path}"))?;
    let mut target = Target::from_url(url);
    target.method = Method::POST;
    target.body = payload;
    let mut header = |name: &'static str, value: &'static str| {
        target.headers.push((
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ))
    };
    // As the SDK's Invoke sends them, so the two sign the same request.
    header("content-type", "application/octet-stream");
    header("x-amz-invocation-type", lambda.invocation.header());
    if lambda.log_tail {
        header("x-amz-log-type", "Tail");
    }
    target.auth = AuthSpec::SigV4 {
        service: "lambda".into(),
        region: Some(lambda.region.clone()),
    };
    target.lambda = Some(lambda);
    Ok(target)
}

/// Checks `[target]` with `kind = "lambda"` and builds its target.
pub(super) fn target(
    src: &Source,
    t: &Spanned<RawTarget>,
    endpoint_at: Endpoint,
    fallback_region: Option<&str>,
) -> Result<Target> {
    let raw = t.get_ref();
    // Keys of an HTTP target that a Lambda target sets itself.
    let http_only: [(&str, Option<std::ops::Range<usize>>, &str); 5] = [
        (
            "url",
            raw.url.as_ref().map(|v| v.span()),
            "function = \"NAME\" (--url, if given, is the endpoint)",
        ),
        (
            "method",
            raw.method.as_ref().map(|v| v.span()),
            "no method: Invoke is always a POST",
        ),
        (
            "body",
            raw.body.as_ref().map(|v| v.span()),
            "payload = '…' (the event sent to the function)",
        ),
        (
            "body_file",
            raw.body_file.as_ref().map(|v| v.span()),
            "payload_file = \"event.json\"",
        ),
        (
            "auth",
            raw.auth.as_ref().map(|v| v.span()),
            "no [target.auth]: Invoke is signed with SigV4 from the AWS credential chain",
        ),
    ];
    if let Some((key, Some(span), expected)) = http_only.iter().find(|(_, s, _)| s.is_some()) {
        return Err(src.error(
            span.clone(),
            &format!("`{key}` is not a key of a lambda target"),
            expected,
        ));
    }
    let Some(function) = &raw.function else {
        return Err(src.error(
            t.span(),
            "a lambda target without function",
            &format!("function = {FUNCTION_FORMS}"),
        ));
    };
    let mut f = FunctionRef::parse(function.get_ref())
        .map_err(|why| src.error(function.span(), &why, "function = \"orders\""))?;
    if let Some(q) = &raw.qualifier {
        let checked = FunctionRef::parse(&format!("{}:{}", f.name(), q.get_ref()))
            .map_err(|why| src.error(q.span(), &why, "an alias or version"))?;
        match &f.qualifier {
            Some(in_name) if in_name != q.get_ref() => {
                return Err(src.error(
                    q.span(),
                    &format!("qualifier {:?} but function names {in_name:?}", q.get_ref()),
                    "the qualifier in one place",
                ))
            }
            _ => f.qualifier = checked.qualifier,
        }
    }
    let invocation = match &raw.invocation {
        None => Invocation::RequestResponse,
        Some(i) => Invocation::parse(i.get_ref())
            .ok_or_else(|| src.unknown(i.span(), "invocation", i.get_ref(), &INVOCATIONS))?,
    };
    let log_tail = match &raw.log_tail {
        None => invocation.is_synchronous(),
        Some(l) if *l.get_ref() && invocation == Invocation::Event => {
            return Err(src.error(
                l.span(),
                "Lambda sends no log tail for event invocations",
                "log_tail = false, or invocation = \"request-response\" or \"stream\"",
            ))
        }
        Some(l) => *l.get_ref(),
    };
    let given = raw
        .region
        .as_ref()
        .map(|r| r.get_ref().as_str())
        .or(fallback_region);
    if let (Some(r), Some(arn)) = (&raw.region, &f.region) {
        if r.get_ref() != arn {
            return Err(src.error(
                r.span(),
                &format!(
                    "region {:?} but the function's ARN is in {arn}",
                    r.get_ref()
                ),
                "the ARN's region, or no region key",
            ));
        }
    }
    let Some(region) = region_of(&f, given, |n| std::env::var(n).ok()) else {
        return Err(src.error(
            function.span(),
            "no region for the function",
            "a full ARN, region = \"eu-west-1\" in [target] or [aws], or AWS_REGION in the environment",
        ));
    };
    let payload = match (&raw.payload, &raw.payload_file) {
        (Some(_), Some(f)) => {
            return Err(src.error(
                f.span(),
                "both payload and payload_file are set",
                "one of them",
            ))
        }
        (Some(p), None) => Bytes::from(p.get_ref().clone()),
        (None, Some(file)) => {
            let dir = src.name.parent().unwrap_or(std::path::Path::new("."));
            let path = dir.join(file.get_ref());
            let max = super::BODY_MAX;
            Bytes::from(crate::located::read_user_file(&path, max).map_err(|why| {
                src.error(
                    file.span(),
                    &format!("cannot read payload_file {}: {why}", path.display()),
                    &format!(
                        "a regular file of at most {}, relative to the scenario file",
                        crate::located::size_text(max)
                    ),
                )
            })?)
        }
        (None, None) => Bytes::from_static(b"{}"),
    };
    let lambda = LambdaTarget {
        function: f,
        invocation,
        log_tail,
        region,
    };
    invoke_target(lambda, payload, endpoint_at)
        .map_err(|why| src.error(function.span(), &why, "a function name Lambda accepts"))
}
