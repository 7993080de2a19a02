//! How the client behaves: `[retry]`, `[request]` and `[target.auth]` of the scenario,
//! parsed and checked with positioned errors.

use http::HeaderName;
use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::schema::{Count, Duration, WholeNumber};
use super::AuthSpec;
use super::RequestIds;
use crate::error::Result;
use crate::located::Source;
use crate::retry::{BackoffKind, RetryCause, RetryPolicy, BACKOFF_NAMES, CAUSE_NAMES};

/// `[request]`: ids sent on every attempt of a logical request, the same on its retries.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Request")]
pub(super) struct RawRequest {
    /// A fresh id per logical request in this header (default "x-correlation-id"; "" for none).
    #[schemars(with = "Option<String>")]
    correlation_header: Option<Spanned<String>>,
    /// A random UUID per logical request in this header (default none; "" for none).
    #[schemars(with = "Option<String>")]
    idempotency_header: Option<Spanned<String>>,
}

/// `[retry]`: with this table, even empty, retries are on with the AWS SDKs' standard defaults.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Retry")]
pub(super) struct RawRetry {
    /// Attempts per logical request, the first included: 1 to 100 (default 3).
    #[schemars(with = "Option<WholeNumber>", extend("maximum" = 100))]
    max_attempts: Option<Spanned<Value>>,
    /// "adaptive" adds the SDKs' client-side rate limiter (default "standard").
    #[schemars(with = "Option<String>", extend("enum" = ["standard", "adaptive"]))]
    mode: Option<Spanned<String>>,
    /// The sleep before each retry (default "full-jitter").
    #[schemars(with = "Option<String>", extend("enum" = BACKOFF_NAMES))]
    backoff: Option<Spanned<String>>,
    /// The first backoff step (default "100ms").
    #[schemars(with = "Option<Duration>")]
    base: Option<Spanned<Value>>,
    /// The longest sleep, Retry-After included; ≥ base (default "20s").
    #[schemars(with = "Option<Duration>")]
    cap: Option<Spanned<Value>>,
    /// Which failures are retried (default all four; [] retries none).
    #[schemars(with = "Option<Vec<String>>", extend("items" = { "enum": CAUSE_NAMES }))]
    on: Option<Vec<Spanned<String>>>,
    /// A Retry-After header replaces the backoff for that retry, capped at cap (default true).
    respect_retry_after: Option<bool>,
    /// Retry tokens, one bucket per run: a retry costs 5 (10 after a timeout); 0 = unlimited (default 500).
    #[schemars(with = "Option<Count>")]
    budget: Option<Spanned<Value>>,
    /// A limit per logical request from its scheduled instant: no retry would end past it.
    #[schemars(with = "Option<Duration>")]
    deadline: Option<Spanned<Value>>,
}

/// `[target.auth]`: how each attempt is authenticated. Secrets are read from `env`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Auth", transform = auth_kinds)]
pub(super) struct RawAuth {
    /// sigv4 (AWS credentials chain), api-key or bearer.
    #[schemars(with = "String", extend("enum" = AUTH_KINDS))]
    kind: Spanned<String>,
    /// sigv4: the service signed for (default "execute-api"; "lambda" for function URLs).
    #[schemars(with = "Option<String>", extend("enum" = SIGV4_SERVICES))]
    service: Option<Spanned<String>>,
    /// sigv4: the signing region (default: from the host name, else the AWS config chain).
    #[schemars(with = "Option<String>")]
    region: Option<Spanned<String>>,
    /// api-key: the header the key is sent in (default "x-api-key").
    #[schemars(with = "Option<String>")]
    header: Option<Spanned<String>>,
    /// api-key and bearer: the environment variable holding the secret.
    #[schemars(with = "Option<String>", extend("pattern" = "^[A-Za-z0-9_]+$"))]
    env: Option<Spanned<String>>,
}

/// The kinds of `[target.auth]` and the keys each takes besides `kind`.
const AUTH_KEYS: [(&str, &[&str]); 3] = [
    ("sigv4", &["service", "region"]),
    ("api-key", &["header", "env"]),
    ("bearer", &["env"]),
];
const AUTH_KINDS: [&str; 3] = ["sigv4", "api-key", "bearer"];
const SIGV4_SERVICES: [&str; 2] = ["execute-api", "lambda"];

/// Per kind, the keys `[target.auth]` may have; api-key and bearer need `env`.
fn auth_kinds(schema: &mut schemars::Schema) {
    super::schema::kind_rules(schema, &AUTH_KEYS, |_, key| key == "env");
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
    let Some(&(_, applies)) = AUTH_KEYS.iter().find(|(k, _)| *k == kind) else {
        return Err(src.unknown(raw.kind.span(), "auth kind", kind, &AUTH_KINDS));
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
                Some(s) if SIGV4_SERVICES.contains(&s.get_ref().as_str()) => s.get_ref().clone(),
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
