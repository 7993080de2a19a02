//! How the client behaves: `[retry]`, `[request]` and `[target.auth]` of the scenario,
//! parsed and checked with positioned errors.

use http::HeaderName;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::AuthSpec;
use super::RequestIds;
use crate::error::Result;
use crate::located::Source;
use crate::retry::{BackoffKind, RetryCause, RetryPolicy, BACKOFF_NAMES, CAUSE_NAMES};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequest {
    correlation_header: Option<Spanned<String>>,
    idempotency_header: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    max_attempts: Option<Spanned<Value>>,
    mode: Option<Spanned<String>>,
    backoff: Option<Spanned<String>>,
    base: Option<Spanned<Value>>,
    cap: Option<Spanned<Value>>,
    on: Option<Vec<Spanned<String>>>,
    respect_retry_after: Option<bool>,
    budget: Option<Spanned<Value>>,
    deadline: Option<Spanned<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    kind: Spanned<String>,
    service: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    header: Option<Spanned<String>>,
    env: Option<Spanned<String>>,
}

pub(super) fn retry_policy(src: &Source, r: &Spanned<RawRetry>) -> Result<RetryPolicy> {
    let raw = r.get_ref();
    // With a [retry] table, retries are on: the SDKs' standard mode of 3 attempts.
    let mut p = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    if let Some(v) = &raw.max_attempts {
        let n = src.whole_number(v, "max_attempts")?;
        if n > 100 {
            return Err(src.error(
                v.span(),
                &format!("max_attempts {n} is more than 100"),
                "1 to 100 (1 = no retries)",
            ));
        }
        p.max_attempts = n as u32;
    }
    if let Some(m) = &raw.mode {
        match m.get_ref().as_str() {
            "standard" => {}
            "adaptive" => p.adaptive = true,
            other => {
                return Err(src.unknown(m.span(), "retry mode", other, &["standard", "adaptive"]))
            }
        }
    }
    if let Some(b) = &raw.backoff {
        p.backoff.kind = BackoffKind::from_name(b.get_ref())
            .ok_or_else(|| src.unknown(b.span(), "backoff", b.get_ref(), &BACKOFF_NAMES))?;
    }
    if let Some(v) = &raw.base {
        p.backoff.base = src.duration(v, "base")?;
    }
    if let Some(v) = &raw.cap {
        p.backoff.cap = src.duration(v, "cap")?;
    }
    if p.backoff.cap < p.backoff.base {
        let at = raw.cap.as_ref().map_or(r.span(), |v| v.span());
        return Err(src.error(at, "`cap` is below `base`", "cap ≥ base"));
    }
    if let Some(on) = &raw.on {
        p.on = Vec::new();
        for name in on {
            let cause = RetryCause::from_name(name.get_ref()).ok_or_else(|| {
                src.unknown(name.span(), "retry cause", name.get_ref(), &CAUSE_NAMES)
            })?;
            p.on.push(cause);
        }
    }
    if let Some(b) = raw.respect_retry_after {
        p.respect_retry_after = b;
    }
    if let Some(v) = &raw.budget {
        p.budget = match v.get_ref() {
            Value::Integer(0) => None,
            Value::Integer(n) if *n < 0 => {
                return Err(src.error(
                    v.span(),
                    "`budget` is negative",
                    "a whole number of retry tokens (500 as the AWS SDKs), or 0 for unlimited",
                ))
            }
            _ => Some(src.whole_number(v, "budget")?.min(u32::MAX as u64) as u32),
        };
    }
    if let Some(v) = &raw.deadline {
        p.deadline = Some(src.duration(v, "deadline")?);
    }
    Ok(p)
}

pub(super) fn request_ids(src: &Source, raw: &RawRequest) -> Result<RequestIds> {
    let header =
        |v: &Option<Spanned<String>>, default: Option<HeaderName>| -> Result<Option<HeaderName>> {
            match v {
                None => Ok(default),
                Some(h) if h.get_ref().is_empty() => Ok(None),
                Some(h) => HeaderName::from_bytes(h.get_ref().as_bytes())
                    .map(Some)
                    .map_err(|_| {
                        src.error(
                            h.span(),
                            &format!("bad header name `{}`", h.get_ref()),
                            "a header name, or \"\" for none",
                        )
                    }),
            }
        };
    let defaults = RequestIds::default();
    Ok(RequestIds {
        correlation_header: header(&raw.correlation_header, defaults.correlation_header)?,
        idempotency_header: header(&raw.idempotency_header, None)?,
    })
}

pub(super) fn auth(src: &Source, a: &Spanned<RawAuth>) -> Result<AuthSpec> {
    let raw = a.get_ref();
    let kinds = ["sigv4", "api-key", "bearer"];
    let env = |what: &str| -> Result<String> {
        let v = raw.env.as_ref().ok_or_else(|| {
            src.error(
                a.span(),
                &format!("{what} needs `env`"),
                "env = \"NAME\": the environment variable holding the secret",
            )
        })?;
        let name = v.get_ref();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(src.error(
                v.span(),
                &format!("`{name}` is not an environment variable name"),
                "letters, digits and _",
            ));
        }
        Ok(name.clone())
    };
    let kind = raw.kind.get_ref().as_str();
    let applies: &[&str] = match kind {
        "sigv4" => &["service", "region"],
        "api-key" => &["header", "env"],
        "bearer" => &["env"],
        other => return Err(src.unknown(raw.kind.span(), "auth kind", other, &kinds)),
    };
    // A key of another kind is a mistake (a bearer token sent in `header`?), not a no-op.
    for (key, value) in [
        ("service", &raw.service),
        ("region", &raw.region),
        ("header", &raw.header),
        ("env", &raw.env),
    ] {
        if let Some(v) = value.as_ref().filter(|_| !applies.contains(&key)) {
            return Err(src.error(
                v.span(),
                &format!("`{key}` does not apply to kind = \"{kind}\""),
                &format!("for kind = \"{kind}\": {}", applies.join(", ")),
            ));
        }
    }
    Ok(match kind {
        "sigv4" => {
            let service = match &raw.service {
                None => "execute-api".to_string(),
                Some(s) if ["execute-api", "lambda"].contains(&s.get_ref().as_str()) => {
                    s.get_ref().clone()
                }
                Some(s) => {
                    return Err(src.error(
                        s.span(),
                        &format!("unknown SigV4 service `{}`", s.get_ref()),
                        "\"execute-api\" (API Gateway) or \"lambda\" (function URLs)",
                    ))
                }
            };
            AuthSpec::SigV4 {
                service,
                region: raw.region.as_ref().map(|r| r.get_ref().clone()),
            }
        }
        "api-key" => {
            let header = match &raw.header {
                None => HeaderName::from_static("x-api-key"),
                Some(h) => HeaderName::from_bytes(h.get_ref().as_bytes()).map_err(|_| {
                    src.error(
                        h.span(),
                        &format!("bad header name `{}`", h.get_ref()),
                        "a header name such as x-api-key",
                    )
                })?,
            };
            AuthSpec::ApiKey {
                header,
                env: env("an API key")?,
            }
        }
        // "bearer", the one kind left.
        _ => AuthSpec::Bearer {
            env: env("a bearer token")?,
        },
    })
}
