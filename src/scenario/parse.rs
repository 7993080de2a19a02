//! Scenario TOML → validated [`Scenario`]. Every error names the file, line and column and
//! what was expected; unknown keys get the nearest valid name.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};
use serde::Deserialize;
use toml::{Spanned, Value};

use super::client::{self, RawAuth, RawRequest, RawRetry};
use super::emulator_config::{self, RawEmulator};
use super::guard::{self, RawAbort, RawAws};
use super::{
    AuthSpec, Metric, RequestIds, Scenario, Stage, StageKind, Target, Threshold, Thresholds,
    STAGE_KINDS,
};
use super::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};
use crate::error::{Error, Result};
use crate::located::{nearest, redact_userinfo, toml_error, Source};
use crate::retry::RetryPolicy;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    seed: Option<u64>,
    target: Option<Spanned<RawTarget>>,
    #[serde(default)]
    stages: Vec<Spanned<RawStage>>,
    thresholds: Option<RawThresholds>,
    request: Option<RawRequest>,
    retry: Option<Spanned<RawRetry>>,
    abort: Option<Spanned<RawAbort>>,
    aws: Option<Spanned<RawAws>>,
    emulator: Option<Spanned<RawEmulator>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    auth: Option<Spanned<RawAuth>>,
    url: Option<Spanned<String>>,
    method: Option<Spanned<String>>,
    body: Option<String>,
    body_file: Option<Spanned<String>>,
    timeout: Option<Spanned<Value>>,
    connect_timeout: Option<Spanned<Value>>,
    #[serde(default)]
    headers: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    name: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    rate: Option<Spanned<Value>>,
    from: Option<Spanned<Value>>,
    to: Option<Spanned<Value>>,
    step: Option<Spanned<Value>>,
    duration: Option<Spanned<Value>>,
    hold: Option<Spanned<Value>>,
    requests: Option<Spanned<Value>>,
    workers: Option<Spanned<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    p50: Option<Spanned<Value>>,
    p90: Option<Spanned<Value>>,
    p95: Option<Spanned<Value>>,
    p99: Option<Spanned<Value>>,
    p999: Option<Spanned<Value>>,
    max: Option<Spanned<Value>>,
    mean: Option<Spanned<Value>>,
    throttle_rate: Option<Spanned<Value>>,
    error_rate: Option<Spanned<Value>>,
    failure_rate: Option<Spanned<Value>>,
    stages: Option<BTreeMap<Spanned<String>, Spanned<RawThresholds>>>,
}

impl RawThresholds {
    fn limits(&self) -> [(Metric, &Option<Spanned<Value>>); 10] {
        [
            (Metric::P50, &self.p50),
            (Metric::P90, &self.p90),
            (Metric::P95, &self.p95),
            (Metric::P99, &self.p99),
            (Metric::P999, &self.p999),
            (Metric::Max, &self.max),
            (Metric::Mean, &self.mean),
            (Metric::ThrottleRate, &self.throttle_rate),
            (Metric::ErrorRate, &self.error_rate),
            (Metric::FailureRate, &self.failure_rate),
        ]
    }
}

/// Reads and validates a scenario file. `url_override` (from `--url`) replaces `target.url`.
pub fn load(path: &Path, url_override: Option<&Uri>) -> Result<Scenario> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::input(format!(
            "cannot read scenario file {}: {}",
            path.display(),
            io_reason(&e)
        ))
    })?;
    parse_str(path, &text, url_override)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::InvalidData => "not UTF-8 text".to_string(),
        _ => e.to_string(),
    }
}

/// Parses scenario text; `name` is the file it came from (for errors and `body_file`).
pub fn parse_str(name: &Path, text: &str, url_override: Option<&Uri>) -> Result<Scenario> {
    let src = Source::new(name, text);
    let raw: RawScenario = toml::from_str(text).map_err(|e| toml_error(&src, &e))?;
    let whole = 0..0;

    let emulator = match &raw.emulator {
        Some(e) => Some(emulator_config::validate(&src, e.get_ref())?),
        None => None,
    };
    // With an emulator (and no --url), the target may be a bare path: it is aimed at the
    // emulator's address once that is known.
    let in_process = emulator.is_some() && url_override.is_none();
    let target = match (&raw.target, url_override) {
        (Some(t), _) => target(&src, t, url_override, in_process)?,
        (None, Some(url)) => Target::from_url(url.clone()),
        (None, None) if in_process => Target::from_url(Uri::from_static(EMULATOR_PLACEHOLDER)),
        (None, None) => {
            return Err(src.error(
                whole,
                "missing [target] table",
                "[target] with url = \"https://…\" (or pass --url)",
            ))
        }
    };
    if raw.stages.is_empty() {
        return Err(src.error(
            0..0,
            "no [[stages]]",
            "at least one [[stages]] table with a kind (constant, ramp, steps, burst, concurrency, pause)",
        ));
    }
    let mut stages = Vec::with_capacity(raw.stages.len());
    for (i, s) in raw.stages.iter().enumerate() {
        let stage = stage(&src, s, i + 1)?;
        if let Some(previous) = stages.iter().find(|p: &&Stage| p.name == stage.name) {
            let span = s.get_ref().name.as_ref().map_or(s.span(), |n| n.span());
            return Err(src.error(
                span,
                &format!("duplicate stage name `{}`", previous.name),
                "stage names that differ, so per-stage thresholds and reports can tell them apart",
            ));
        }
        stages.push(stage);
    }
    let thresholds = match &raw.thresholds {
        Some(t) => thresholds(&src, t, &stages)?,
        None => Thresholds::default(),
    };
    let retry = match &raw.retry {
        Some(r) => client::retry_policy(&src, r)?,
        None => RetryPolicy::default(),
    };
    let request = match &raw.request {
        Some(r) => client::request_ids(&src, r)?,
        None => RequestIds::default(),
    };
    let abort = match &raw.abort {
        Some(a) => Some(guard::abort_rules(&src, a)?),
        None => None,
    };
    let aws = match &raw.aws {
        Some(a) => Some(guard::aws_context(&src, a)?),
        None => None,
    };
    Ok(Scenario {
        abort,
        aws,
        retry,
        request,
        emulator,
        name: raw.name,
        seed: raw.seed,
        target,
        stages,
        thresholds,
    })
}

impl Target {
    /// A GET of `url` with the default timeouts; userinfo in it becomes Basic auth.
    pub fn from_url(url: Uri) -> Target {
        let (url, basic_auth) = super::userinfo::split(url);
        Target {
            url,
            basic_auth,
            method: Method::GET,
            headers: Vec::new(),
            body: Bytes::new(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            auth: AuthSpec::None,
        }
    }
}

impl Target {
    /// Scheme, host and path, as shown and stored: a password as `***`, no query string
    /// (it may carry keys).
    pub fn display_url(&self) -> String {
        let url = &self.url;
        let user = self
            .basic_auth
            .as_ref()
            .map_or(String::new(), |b| format!("{}:***@", b.user));
        format!(
            "{}://{user}{}{}",
            url.scheme_str().unwrap_or("http"),
            url.authority().map_or("", |a| a.as_str()),
            url.path()
        )
    }
}

/// Where a bare-path target points until the emulator has an address.
pub const EMULATOR_PLACEHOLDER: &str = "http://127.0.0.1/";

fn target(
    src: &Source,
    t: &Spanned<RawTarget>,
    url_override: Option<&Uri>,
    in_process: bool,
) -> Result<Target> {
    let raw = t.get_ref();
    let url = match (url_override, &raw.url) {
        (Some(u), _) => u.clone(),
        (None, Some(u)) if in_process && u.get_ref().starts_with('/') => {
            let full = format!("http://127.0.0.1{}", u.get_ref());
            parse_url(&full)
                .map_err(|why| src.error(u.span(), &why, "a path such as \"/orders\""))?
        }
        (None, None) if in_process => Uri::from_static(EMULATOR_PLACEHOLDER),
        (None, Some(u)) => parse_url(u.get_ref())
            .map_err(|why| src.error(u.span(), &why, "an absolute http:// or https:// URL"))?,
        (None, None) => {
            return Err(src.error(
                t.span(),
                "[target] has no url",
                "url = \"https://…\" (or pass --url)",
            ))
        }
    };
    let mut target = Target::from_url(url);
    if let Some(m) = &raw.method {
        target.method = parse_method(m.get_ref())
            .map_err(|why| src.error(m.span(), &why, "an HTTP method such as GET, POST, PUT"))?;
    }
    for (name, value) in &raw.headers {
        let header = parse_header(name.get_ref(), value.get_ref());
        let header = header
            .map_err(|why| src.error(name.span(), &why, "a header name and a printable value"))?;
        if target.basic_auth.is_some() && header.0 == http::header::AUTHORIZATION {
            return Err(src.error(
                name.span(),
                "the URL's user:password@ and this header would both set Authorization",
                "one of them",
            ));
        }
        target.headers.push(header);
    }
    match (&raw.body, &raw.body_file) {
        (Some(_), Some(f)) => {
            return Err(src.error(f.span(), "both body and body_file are set", "one of them"))
        }
        (Some(b), None) => target.body = Bytes::from(b.clone()),
        (None, Some(f)) => {
            let dir = src.name.parent().unwrap_or(Path::new("."));
            let path = dir.join(f.get_ref());
            let data = std::fs::read(&path).map_err(|e| {
                src.error(
                    f.span(),
                    &format!(
                        "cannot read body_file {}: {}",
                        path.display(),
                        io_reason(&e)
                    ),
                    "a readable file, relative to the scenario file",
                )
            })?;
            target.body = Bytes::from(data);
        }
        (None, None) => {}
    }
    if let Some(v) = &raw.timeout {
        target.timeout = src.duration(v, "timeout")?;
    }
    if let Some(a) = &raw.auth {
        target.auth = client::auth(src, a)?;
        if target.basic_auth.is_some() && target.auth.sets_authorization() {
            return Err(src.error(
                a.span(),
                "the URL's user:password@ and [target.auth] would both set Authorization",
                "one of them: a URL without user:password@, or no [target.auth]",
            ));
        }
    }
    if let Some(v) = &raw.connect_timeout {
        target.connect_timeout = src.duration(v, "connect_timeout")?;
    }
    Ok(target)
}

/// Parses and checks a target URL; the error says what is wrong with it.
pub fn parse_url(given: &str) -> std::result::Result<Uri, String> {
    // Messages quote the URL without its password.
    let text = &redact_userinfo(given);
    let url: Uri = given
        .parse()
        .map_err(|e| format!("bad URL `{text}`: {e}"))?;
    match url.scheme_str() {
        Some("http") | Some("https") => {}
        Some(other) => return Err(format!("bad URL `{text}`: unsupported scheme `{other}`")),
        None => return Err(format!("bad URL `{text}`: no scheme")),
    }
    if url.host().is_none_or(str::is_empty) {
        return Err(format!("bad URL `{text}`: no host"));
    }
    Ok(url)
}

pub fn parse_method(text: &str) -> std::result::Result<Method, String> {
    let upper = text.to_ascii_uppercase();
    Method::from_bytes(upper.as_bytes())
        .ok()
        .filter(|_| !upper.is_empty() && upper.bytes().all(|b| b.is_ascii_alphabetic()))
        .ok_or_else(|| format!("bad method `{text}`"))
}

pub fn parse_header(
    name: &str,
    value: &str,
) -> std::result::Result<(HeaderName, HeaderValue), String> {
    let n = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("bad header name `{name}`"))?;
    let v = HeaderValue::from_str(value.trim())
        .map_err(|_| format!("bad value for header `{name}`"))?;
    Ok((n, v))
}

fn stage(src: &Source, s: &Spanned<RawStage>, index: usize) -> Result<Stage> {
    let raw = s.get_ref();
    let Some(kind) = &raw.kind else {
        return Err(src.error(
            s.span(),
            &format!("stage {index} has no kind"),
            &format!("kind = one of {}", STAGE_KINDS.join(", ")),
        ));
    };
    let allowed: &[&str] = match kind.get_ref().as_str() {
        "constant" => &["rate", "duration"],
        "ramp" => &["from", "to", "duration"],
        "steps" => &["from", "to", "step", "hold"],
        "burst" => &["requests"],
        "concurrency" => &["workers", "duration"],
        "pause" => &["duration"],
        other => return Err(src.unknown(kind.span(), "stage kind", other, &STAGE_KINDS)),
    };
    let present = [
        ("rate", &raw.rate),
        ("from", &raw.from),
        ("to", &raw.to),
        ("step", &raw.step),
        ("duration", &raw.duration),
        ("hold", &raw.hold),
        ("requests", &raw.requests),
        ("workers", &raw.workers),
    ];
    let kind_name = kind.get_ref();
    for (key, value) in present {
        if let Some(v) = value {
            if !allowed.contains(&key) {
                return Err(src.error(
                    v.span(),
                    &format!("`{key}` does not apply to a {kind_name} stage"),
                    &format!("for kind = \"{kind_name}\": name, {}", allowed.join(", ")),
                ));
            }
        }
    }
    let need = |key: &str, v: &Option<Spanned<Value>>| -> Result<Spanned<Value>> {
        v.clone().ok_or_else(|| {
            src.error(
                s.span(),
                &format!("{kind_name} stage {index} is missing `{key}`"),
                &format!("for kind = \"{kind_name}\": {}", allowed.join(", ")),
            )
        })
    };
    let kind = match kind_name.as_str() {
        "constant" => StageKind::Constant {
            rate: src.number(&need("rate", &raw.rate)?, "rate", false)?,
            duration: src.duration(&need("duration", &raw.duration)?, "duration")?,
        },
        "ramp" => {
            let from_v = need("from", &raw.from)?;
            let from = src.number(&from_v, "from", true)?;
            let to = src.number(&need("to", &raw.to)?, "to", true)?;
            if from == 0.0 && to == 0.0 {
                return Err(src.error(
                    from_v.span(),
                    "a ramp from 0 to 0 sends nothing",
                    "from or to > 0",
                ));
            }
            let duration = src.duration(&need("duration", &raw.duration)?, "duration")?;
            StageKind::Ramp { from, to, duration }
        }
        "steps" => {
            let from = src.number(&need("from", &raw.from)?, "from", false)?;
            let to_v = need("to", &raw.to)?;
            let to = src.number(&to_v, "to", false)?;
            let step = src.number(&need("step", &raw.step)?, "step", false)?;
            if to < from {
                return Err(src.error(to_v.span(), "`to` is below `from`", "to ≥ from"));
            }
            let hold = src.duration(&need("hold", &raw.hold)?, "hold")?;
            StageKind::Steps {
                from,
                to,
                step,
                hold,
            }
        }
        "burst" => StageKind::Burst {
            requests: src.whole_number(&need("requests", &raw.requests)?, "requests")?,
        },
        "concurrency" => StageKind::Concurrency {
            workers: src.whole_number(&need("workers", &raw.workers)?, "workers")?,
            duration: src.duration(&need("duration", &raw.duration)?, "duration")?,
        },
        _ => StageKind::Pause {
            duration: src.duration(&need("duration", &raw.duration)?, "duration")?,
        },
    };
    let name = match &raw.name {
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(src.error(n.span(), "empty stage name", "a short name, or no name"))
        }
        Some(n) => n.get_ref().clone(),
        None => format!("{} {index}", kind.label()),
    };
    Ok(Stage { name, kind })
}

fn thresholds(src: &Source, raw: &RawThresholds, stages: &[Stage]) -> Result<Thresholds> {
    let mut out = Thresholds {
        overall: limits(src, raw)?,
        stages: Vec::new(),
    };
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    for (name, table) in raw.stages.iter().flatten() {
        if !names.contains(&name.get_ref().as_str()) {
            let mut msg = format!("[thresholds.stages] names no stage `{}`", name.get_ref());
            if let Some(near) = nearest(name.get_ref(), &names) {
                msg.push_str(&format!(" (did you mean `{near}`?)"));
            }
            return Err(src.error(
                name.span(),
                &msg,
                &format!("a stage name: {}", names.join(", ")),
            ));
        }
        if table.get_ref().stages.is_some() {
            return Err(src.error(
                table.span(),
                "per-stage thresholds cannot hold `stages`",
                "p50 p90 p95 p99 p999 max mean throttle_rate error_rate failure_rate",
            ));
        }
        out.stages
            .push((name.get_ref().clone(), limits(src, table.get_ref())?));
    }
    Ok(out)
}

fn limits(src: &Source, raw: &RawThresholds) -> Result<Vec<Threshold>> {
    let mut out = Vec::new();
    for (metric, value) in raw.limits() {
        let Some(v) = value else { continue };
        let parsed = match v.get_ref() {
            Value::String(s) => Threshold::parse(metric, s),
            other => Err(format!(
                "`{}` is a {}, not a limit",
                metric.name(),
                other.type_str()
            )),
        };
        out.push(parsed.map_err(|why| src.error(v.span(), &why, metric.expected_form()))?);
    }
    Ok(out)
}
