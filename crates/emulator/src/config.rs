//! The emulator's settings: the `[emulator]` table of a scenario, or the file given to
//! `stampede emulate --config` (same keys at the top level). The emulator owns them: the
//! scenario parser deserialises the table as a [`RawEmulator`] (its keys and their
//! positions, opaque to it) and hands it to [`validate`], whose errors name file:line:col.

use std::path::Path;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use stampede_lambda::cost::{Architecture, ARCHITECTURES};
use stampede_located::forms::{
    self as schema, Count, DurationOrRange, DurationOrZero, Rate, WholeNumber,
};
use stampede_located::{toml_error, Error, Result, Source};

use crate::api_map::{self, FunctionConfig, RawFunction, RawRoute, RouteConfig};

/// Which wire behaviour to imitate (the status, body and headers AWS uses; docs/results.md lists how each is read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiMode {
    /// API Gateway REST API in front of Lambda.
    Rest,
    /// API Gateway HTTP API in front of Lambda.
    Http,
    /// A Lambda function URL: no API Gateway throttle.
    FunctionUrl,
}

pub const API_MODES: [&str; 3] = ["rest", "http", "function-url"];

/// Handler time: fixed, or uniform in a range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HandlerTime {
    Fixed(Duration),
    Uniform(Duration, Duration),
}

impl HandlerTime {
    pub fn sample(&self, rng: &mut fastrand::Rng) -> Duration {
        match *self {
            HandlerTime::Fixed(d) => d,
            HandlerTime::Uniform(lo, hi) => {
                let span = (hi - lo).as_nanos() as u64;
                lo + Duration::from_nanos(rng.u64(0..=span))
            }
        }
    }

    pub fn mean(&self) -> Duration {
        match *self {
            HandlerTime::Fixed(d) => d,
            HandlerTime::Uniform(lo, hi) => (lo + hi) / 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EmulatorConfig {
    pub api: ApiMode,
    /// Lambda concurrent executions, account (region) limit.
    pub account_concurrency: u64,
    /// The function's reserved concurrency, when set.
    pub reserved_concurrency: Option<u64>,
    /// Provisioned concurrency on the function's alias (control plane only).
    pub provisioned_concurrency: Option<u64>,
    /// API Gateway account throttle: steady req/s and bucket size.
    pub rate: f64,
    pub burst: u64,
    /// An optional stage (method `*/*`) throttle, checked after the account's.
    pub stage_rate: Option<f64>,
    pub stage_burst: Option<u64>,
    /// Added to the handler time on a new execution environment: fixed, or uniform in a range.
    pub cold_start: HandlerTime,
    /// The handler's wait part (I/O), which memory does not speed up.
    pub duration: HandlerTime,
    /// The handler's CPU part at 1,769 MB (one vCPU), scaled by memory (`memory_model`).
    pub cpu_time: HandlerTime,
    /// The cold start's CPU part at 1,769 MB, scaled by memory like `cpu_time`.
    pub init_cpu_time: HandlerTime,
    /// How long UpdateFunctionConfiguration stays `InProgress` (and provisioned
    /// concurrency `IN_PROGRESS`) before it is `Successful` (`READY`).
    pub update_delay: Duration,
    /// The function's memory in MB (its REPORT lines and GetFunctionConfiguration).
    pub memory_mb: u64,
    pub architecture: Architecture,
    /// The fraction of admitted invocations, whichever way they came, that fail with a
    /// function error.
    pub error_rate: f64,
    /// Execution environments already warm at start, as if just used (≤ the function's limit).
    pub warm: u64,
    /// New execution environments allowed per window (AWS: 1,000 per 10 s).
    pub scaling_environments: u64,
    pub scaling_per: Duration,
    /// A function that slows under load: `add` more handler time for each invocation in
    /// flight past `past` (what calls a saturating database looks like).
    pub slowdown: Option<Slowdown>,
    /// Ok answers through API Gateway or a function URL are streamed in this shape; the
    /// function stays busy until the last piece.
    pub stream: Option<crate::stream_shape::StreamShape>,
    /// An idle environment is gone after this long.
    pub idle_expiry: Duration,
    /// REST: 29 s (504); HTTP API: 30 s (503).
    pub integration_timeout: Duration,
    pub seed: Option<u64>,
    /// Names the control plane answers for.
    pub region: String,
    pub function: String,
    pub qualifier: String,
    pub rest_api_id: String,
    pub stage: String,
    /// Control-plane actions answered AccessDenied, such as "lambda:GetAccountSettings".
    pub deny: Vec<String>,
    /// The length of the emulator's CloudWatch "minute": AWS's is 60 s; tests shorten it.
    pub metrics_period: Duration,
    /// How long after its last request a period's datapoints appear (CloudWatch's lag).
    pub metrics_delay: Duration,
    /// Each route's own API Gateway series (`Resource`, `Method`), as a stage with detailed
    /// CloudWatch metrics on publishes; off, only the stage's.
    pub detailed_metrics: bool,
    /// An API with routes (`[[emulator.routes]]`), each to one of `functions`; none: one
    /// function answers every path.
    pub routes: Vec<RouteConfig>,
    pub functions: Vec<FunctionConfig>,
}

impl Default for EmulatorConfig {
    /// AWS's defaults for a new account.
    fn default() -> Self {
        EmulatorConfig {
            api: ApiMode::Rest,
            account_concurrency: 1000,
            reserved_concurrency: None,
            provisioned_concurrency: None,
            rate: 10_000.0,
            burst: 5_000,
            stage_rate: None,
            stage_burst: None,
            cold_start: HandlerTime::Fixed(Duration::from_millis(250)),
            duration: HandlerTime::Fixed(Duration::from_millis(40)),
            cpu_time: HandlerTime::Fixed(Duration::ZERO),
            init_cpu_time: HandlerTime::Fixed(Duration::ZERO),
            update_delay: Duration::from_millis(300),
            memory_mb: 128,
            architecture: Architecture::X86_64,
            error_rate: 0.0,
            warm: 0,
            scaling_environments: 1000,
            scaling_per: Duration::from_secs(10),
            slowdown: None,
            stream: None,
            idle_expiry: Duration::from_secs(600),
            integration_timeout: Duration::from_secs(29),
            seed: None,
            region: "us-east-1".into(),
            function: "emulated-function".into(),
            qualifier: "live".into(),
            rest_api_id: "emulated".into(),
            stage: "prod".into(),
            deny: Vec::new(),
            metrics_period: Duration::from_secs(60),
            metrics_delay: Duration::ZERO,
            detailed_metrics: true,
            routes: Vec::new(),
            functions: Vec::new(),
        }
    }
}

impl EmulatorConfig {
    /// Whether its stage has detailed metrics on, as GetStage says: per-method series are
    /// published for an API with routes and `detailed_metrics`.
    pub fn publishes_route_metrics(&self) -> bool {
        self.detailed_metrics && !self.routes.is_empty()
    }

    /// The handler time of an invocation drawn as `drawn` that found `busy` in flight.
    pub fn handler_time(&self, drawn: Duration, busy: u64) -> Duration {
        self.slowdown.map_or(drawn, |s| s.handler(drawn, busy))
    }

    /// The concurrency the function can reach: its reservation, else the account's.
    pub fn function_limit(&self) -> u64 {
        self.reserved_concurrency
            .unwrap_or(self.account_concurrency)
    }
}

/// Every action the control plane serves, as IAM names it (what `deny` may list).
pub const ACTIONS: [&str; 28] = [
    "servicequotas:GetServiceQuota",
    "servicequotas:GetAWSDefaultServiceQuota",
    "servicequotas:ListServiceQuotas",
    "lambda:GetAccountSettings",
    "lambda:GetFunctionConcurrency",
    "lambda:GetProvisionedConcurrencyConfig",
    "lambda:GetFunctionConfiguration",
    "lambda:GetFunction",
    "lambda:UpdateFunctionConfiguration",
    "lambda:PublishVersion",
    "lambda:ListVersionsByFunction",
    "lambda:DeleteFunction",
    "lambda:CreateAlias",
    "lambda:GetAlias",
    "lambda:UpdateAlias",
    "lambda:DeleteAlias",
    "lambda:ListAliases",
    "lambda:PutProvisionedConcurrencyConfig",
    "lambda:DeleteProvisionedConcurrencyConfig",
    "apigateway:GetAccount",
    "apigateway:GetStage",
    "apigateway:GetRestApi",
    "apigateway:GetResources",
    "apigateway:GetIntegration",
    "apigateway:GetUsagePlans",
    "apigateway:GetRoutes",
    "apigateway:GetIntegrations",
    "cloudwatch:GetMetricData",
];

/// `[emulator]` (or an `emulate --config` file): the emulated API Gateway + Lambda endpoint.
/// Defaults are AWS's for a new account.
#[derive(Deserialize, Clone, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Emulator")]
pub struct RawEmulator {
    /// What fronts the function: a REST API, an HTTP API or a function URL (default "rest").
    #[schemars(with = "Option<String>", extend("enum" = API_MODES))]
    api: Option<Spanned<String>>,
    /// Lambda concurrent executions for the account (default 1000).
    #[schemars(with = "Option<WholeNumber>")]
    account_concurrency: Option<Spanned<Value>>,
    /// The function's reserved concurrency, ≤ account_concurrency (default none).
    #[schemars(with = "Option<WholeNumber>")]
    reserved_concurrency: Option<Spanned<Value>>,
    /// Reported by the control plane for qualifier; does not pre-warm (a
    /// PutProvisionedConcurrencyConfig does) (default none).
    #[schemars(with = "Option<WholeNumber>")]
    provisioned_concurrency: Option<Spanned<Value>>,
    /// API Gateway account throttle, requests per second (default 10000).
    #[schemars(with = "Option<Rate>")]
    rate: Option<Spanned<Value>>,
    /// API Gateway account token bucket size (default 5000).
    #[schemars(with = "Option<WholeNumber>")]
    burst: Option<Spanned<Value>>,
    /// A stage throttle, requests per second, checked after the account's. With stage_burst.
    #[schemars(with = "Option<Rate>")]
    stage_rate: Option<Spanned<Value>>,
    /// The stage throttle's bucket size. With stage_rate.
    #[schemars(with = "Option<WholeNumber>")]
    stage_burst: Option<Spanned<Value>>,
    /// Added to the handler time when a new execution environment is needed, fixed or a
    /// uniform range such as "200ms..400ms" (default "250ms").
    #[schemars(with = "Option<DurationOrRange>")]
    cold_start: Option<Spanned<Value>>,
    /// Handler time, fixed or a uniform range such as "20ms..80ms" (default "40ms"): its
    /// wait part (I/O), the same at any memory.
    #[schemars(with = "Option<DurationOrRange>")]
    duration: Option<Spanned<Value>>,
    /// The handler's CPU part as it runs at 1,769 MB (one vCPU), fixed or a range; below
    /// 1,769 MB it takes 1769 / memory times as long, above it no less (default "0ms").
    #[schemars(with = "Option<DurationOrRange>")]
    cpu_time: Option<Spanned<Value>>,
    /// The cold start's CPU part at 1,769 MB, scaled by memory as cpu_time is; added to
    /// cold_start, its fixed part (default "0ms").
    #[schemars(with = "Option<DurationOrRange>")]
    init_cpu_time: Option<Spanned<Value>>,
    /// How long an UpdateFunctionConfiguration is InProgress before it is Successful, and a
    /// provisioned concurrency config IN_PROGRESS before READY (default "300ms").
    #[schemars(with = "Option<DurationOrZero>")]
    update_delay: Option<Spanned<Value>>,
    /// The function's memory in MB, 128 to 10240, as configured: its REPORT lines and
    /// GetFunctionConfiguration say it, and it scales cpu_time (default 128).
    #[schemars(with = "Option<MemoryMb>")]
    memory: Option<Spanned<Value>>,
    /// The function's instruction set, for GetFunctionConfiguration (default "x86_64").
    #[schemars(with = "Option<String>", extend("enum" = ARCHITECTURES))]
    architecture: Option<Spanned<String>>,
    /// The fraction of admitted invocations (through API Gateway, a function URL or the
    /// Invoke API) that end in a function error, 0 to 1 (default 0).
    #[schemars(with = "Option<Fraction>")]
    error_rate: Option<Spanned<Value>>,
    /// Execution environments already warm when the emulator starts, as if just used;
    /// at most the function's concurrency (default 0).
    #[schemars(with = "Option<Count>")]
    warm: Option<Spanned<Value>>,
    /// At most `environments` new execution environments per `per` (default 1000 per "10s").
    #[schemars(with = "Option<RawScaling>")]
    scaling: Option<Spanned<RawScaling>>,
    /// The handler slows under load: `add` more for each invocation in flight past `past`
    /// (default: it does not).
    #[schemars(with = "Option<RawSlowdown>")]
    slowdown: Option<Spanned<RawSlowdown>>,
    /// Ok answers (API Gateway, function URL) stream their body: the head when the handler
    /// ends, then `chunks` pieces `pace` apart, each at least `bytes` long; the function
    /// stays busy until the last (default: answers come whole).
    #[schemars(with = "Option<crate::stream_shape::RawStream>")]
    stream: Option<Spanned<crate::stream_shape::RawStream>>,
    /// An idle environment is gone after this long (default "10m").
    #[schemars(with = "Option<schema::Duration>")]
    idle_expiry: Option<Spanned<Value>>,
    /// Longer handler times are answered 504 (REST) or 503 (HTTP API) (default "29s"; "30s" for http).
    #[schemars(with = "Option<schema::Duration>")]
    integration_timeout: Option<Spanned<Value>>,
    /// The emulator's own randomness: handler times, request ids.
    seed: Option<u64>,
    /// The region the control plane names (default "us-east-1").
    region: Option<String>,
    /// The function the control plane knows (default "emulated-function").
    function: Option<String>,
    /// The alias of version 1 that has provisioned_concurrency and that API Gateway
    /// invokes (default "live").
    qualifier: Option<String>,
    /// The REST API whose stage the control plane knows (default "emulated").
    rest_api_id: Option<String>,
    /// That API's stage (default "prod").
    stage: Option<String>,
    /// Control-plane actions answered AccessDenied.
    #[schemars(with = "Option<Vec<String>>", extend("items" = { "enum": ACTIONS }))]
    deny: Option<Vec<Spanned<String>>>,
    /// The length of a CloudWatch period the emulator counts in, whole seconds (default
    /// "1m", as AWS; "1s" lets a short test see several).
    #[schemars(with = "Option<schema::Duration>")]
    metrics_period: Option<Spanned<Value>>,
    /// How long after its last request a period's datapoints appear in GetMetricData
    /// (default "0s"; AWS takes a minute or more).
    #[schemars(with = "Option<DurationOrZero>")]
    metrics_delay: Option<Spanned<Value>>,
    /// Publish each route's own API Gateway metrics (`Resource`, `Method`), as a stage with
    /// detailed CloudWatch metrics on does (default true; AWS's stages have them off until
    /// turned on).
    detailed_metrics: Option<bool>,
    /// The API's routes, each to a function of [emulator.functions] (default none: one
    /// function answers every path).
    #[schemars(with = "Option<Vec<api_map::RawRoute>>")]
    routes: Option<Vec<Spanned<RawRoute>>>,
    /// The API's functions by name, each with its own concurrency, times and answer.
    #[schemars(with = "Option<std::collections::BTreeMap<String, api_map::RawFunction>>")]
    functions: Option<Spanned<std::collections::BTreeMap<String, Spanned<RawFunction>>>>,
}

/// `memory`: MB, as Lambda allows.
struct MemoryMb;

impl JsonSchema for MemoryMb {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MemoryMb".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Memory in MB: a whole number from 128 to 10240.",
            "type": "integer",
            "minimum": MEMORY_MB.start(),
            "maximum": MEMORY_MB.end(),
        })
    }
}

/// `error_rate`: a fraction.
struct Fraction;

impl JsonSchema for Fraction {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Fraction".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A fraction from 0 to 1, such as 0.05.",
            "type": "number",
            "minimum": 0,
            "maximum": 1,
        })
    }
}

/// The memory Lambda lets a function have, in MB.
pub const MEMORY_MB: std::ops::RangeInclusive<u64> = 128..=10240;

/// Handler time that grows with the invocations in flight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slowdown {
    pub past: u64,
    pub add: Duration,
}

impl Slowdown {
    /// The handler time of an invocation that found `busy` in flight (itself included).
    pub fn handler(&self, base: Duration, busy: u64) -> Duration {
        let over = busy.saturating_sub(self.past).min(u32::MAX as u64) as u32;
        base + self.add * over
    }
}

/// `slowdown = { past = N, add = "D" }`.
#[derive(Deserialize, Clone, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Slowdown")]
struct RawSlowdown {
    /// In flight from which the handler slows.
    #[schemars(with = "WholeNumber")]
    past: Spanned<Value>,
    /// Handler time added for each invocation in flight past `past`.
    #[schemars(with = "schema::Duration")]
    add: Spanned<Value>,
}

/// `scaling = { environments = N, per = "D" }`.
#[derive(Deserialize, Clone, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scaling")]
struct RawScaling {
    /// New execution environments allowed per `per`.
    #[schemars(with = "WholeNumber")]
    environments: Spanned<Value>,
    /// The period.
    #[schemars(with = "schema::Duration")]
    per: Spanned<Value>,
}

/// Reads an emulator settings file (`stampede emulate --config FILE`).
pub fn load(path: &Path) -> Result<EmulatorConfig> {
    let max = stampede_located::TEXT_FILE_MAX;
    let text = stampede_located::read_user_text(path, max).map_err(|why| {
        Error::input(format!(
            "cannot read emulator config {}: {why}\n  expected: an emulator settings file (TOML) of at most {}",
            path.display(),
            stampede_located::size_text(max)
        ))
    })?;
    let src = Source::new(path, &text);
    let raw: RawEmulator = toml::from_str(&text).map_err(|e| toml_error(&src, &e))?;
    validate(&src, &raw)
}

/// The settings `raw` gives, checked; an error names the key's file:line:col in `src`,
/// quotes the line and says what was expected (exit 2).
pub fn validate(src: &Source, raw: &RawEmulator) -> Result<EmulatorConfig> {
    let mut c = EmulatorConfig::default();
    if let Some(api) = &raw.api {
        c.api = match api.get_ref().as_str() {
            "rest" => ApiMode::Rest,
            "http" => ApiMode::Http,
            "function-url" => ApiMode::FunctionUrl,
            other => return Err(src.unknown(api.span(), "api", other, &API_MODES)),
        };
        if c.api == ApiMode::Http {
            c.integration_timeout = Duration::from_secs(30);
        }
    }
    let whole = |v: &Option<Spanned<Value>>, key: &str| -> Result<Option<u64>> {
        v.as_ref().map(|v| src.whole_number(v, key)).transpose()
    };
    let dur = |v: &Option<Spanned<Value>>, key: &str| -> Result<Option<Duration>> {
        v.as_ref().map(|v| src.duration(v, key)).transpose()
    };
    let rate = |v: &Option<Spanned<Value>>, key: &str| -> Result<Option<f64>> {
        v.as_ref().map(|v| src.number(v, key, false)).transpose()
    };
    if let Some(n) = whole(&raw.account_concurrency, "account_concurrency")? {
        c.account_concurrency = n;
    }
    c.reserved_concurrency = whole(&raw.reserved_concurrency, "reserved_concurrency")?;
    c.provisioned_concurrency = whole(&raw.provisioned_concurrency, "provisioned_concurrency")?;
    if let (Some(r), Some(v)) = (c.reserved_concurrency, &raw.reserved_concurrency) {
        if r > c.account_concurrency {
            return Err(src.error(
                v.span(),
                &format!(
                    "reserved_concurrency {r} is above account_concurrency {}",
                    c.account_concurrency
                ),
                "reserved_concurrency ≤ account_concurrency",
            ));
        }
    }
    if let Some(r) = rate(&raw.rate, "rate")? {
        c.rate = r;
    }
    if let Some(b) = whole(&raw.burst, "burst")? {
        c.burst = b;
    }
    c.stage_rate = rate(&raw.stage_rate, "stage_rate")?;
    c.stage_burst = whole(&raw.stage_burst, "stage_burst")?;
    if c.stage_rate.is_some() != c.stage_burst.is_some() {
        let at = raw
            .stage_rate
            .as_ref()
            .or(raw.stage_burst.as_ref())
            .map_or(0..0, |v| v.span());
        return Err(src.error(
            at,
            "stage_rate and stage_burst go together",
            "both, or neither",
        ));
    }
    if let Some(v) = &raw.cold_start {
        c.cold_start = handler_time(src, v, "cold_start")?;
    }
    if let Some(v) = &raw.duration {
        c.duration = handler_time(src, v, "duration")?;
    }
    if let Some(v) = &raw.cpu_time {
        c.cpu_time = handler_time(src, v, "cpu_time")?;
    }
    if let Some(v) = &raw.init_cpu_time {
        c.init_cpu_time = handler_time(src, v, "init_cpu_time")?;
    }
    if let Some(v) = &raw.update_delay {
        c.update_delay = src.duration_or_zero(v, "update_delay")?;
    }
    if let Some(v) = &raw.memory {
        c.memory_mb = memory(src, v)?;
    }
    if let Some(a) = &raw.architecture {
        c.architecture = Architecture::parse(a.get_ref())
            .ok_or_else(|| src.unknown(a.span(), "architecture", a.get_ref(), &ARCHITECTURES))?;
    }
    if let Some(v) = &raw.error_rate {
        let rate = src.number_in(v, "error_rate", true, "a fraction of invocations")?;
        if rate > 1.0 {
            return Err(src.error(
                v.span(),
                &format!("`error_rate` {rate} is above 1"),
                "a fraction from 0 to 1, such as 0.05",
            ));
        }
        c.error_rate = rate;
    }
    if let Some(v) = &raw.warm {
        c.warm = warm(src, v, c.function_limit())?;
    }
    if let Some(s) = &raw.scaling {
        let s = s.get_ref();
        c.scaling_environments = src.whole_number(&s.environments, "environments")?;
        c.scaling_per = src.duration(&s.per, "per")?;
    }
    if let Some(s) = &raw.slowdown {
        let s = s.get_ref();
        c.slowdown = Some(Slowdown {
            past: src.whole_number(&s.past, "past")?,
            add: src.duration(&s.add, "add")?,
        });
    }
    if let Some(s) = &raw.stream {
        c.stream = Some(crate::stream_shape::validate(src, s.get_ref())?);
    }
    if let Some(d) = dur(&raw.idle_expiry, "idle_expiry")? {
        c.idle_expiry = d;
    }
    if let Some(d) = dur(&raw.integration_timeout, "integration_timeout")? {
        c.integration_timeout = d;
    }
    if let Some(v) = &raw.metrics_period {
        let period = src.duration(v, "metrics_period")?;
        if period.subsec_nanos() != 0 {
            return Err(src.error(
                v.span(),
                "metrics_period is not a whole number of seconds",
                "a whole number of seconds, such as \"1s\", \"10s\" or \"1m\"",
            ));
        }
        c.metrics_period = period;
    }
    if let Some(v) = &raw.metrics_delay {
        c.metrics_delay = src.duration_or_zero(v, "metrics_delay")?;
    }
    if let Some(on) = raw.detailed_metrics {
        c.detailed_metrics = on;
    }
    c.seed = raw.seed;
    for action in raw.deny.iter().flatten() {
        let name = action.get_ref();
        if !ACTIONS.contains(&name.as_str()) {
            return Err(src.unknown(action.span(), "control-plane action", name, &ACTIONS));
        }
        c.deny.push(name.clone());
    }
    if let Some(functions) = &raw.functions {
        let routes = raw.routes.as_deref().unwrap_or_default();
        api_map::validate(src, &mut c, routes, functions.get_ref(), functions.span())?;
    } else if let Some(route) = raw.routes.as_ref().and_then(|r| r.first()) {
        api_map::validate(
            src,
            &mut c,
            raw.routes.as_deref().unwrap_or_default(),
            &Default::default(),
            route.span(),
        )?;
    }
    let names = [
        (&raw.region, &mut c.region),
        (&raw.function, &mut c.function),
        (&raw.qualifier, &mut c.qualifier),
        (&raw.rest_api_id, &mut c.rest_api_id),
        (&raw.stage, &mut c.stage),
    ];
    for (given, into) in names {
        if let Some(v) = given {
            *into = v.clone();
        }
    }
    Ok(c)
}

/// `memory`: a whole number of MB in [`MEMORY_MB`].
pub(crate) fn memory(src: &Source, v: &Spanned<Value>) -> Result<u64> {
    let expected = "a whole number of MB from 128 to 10240";
    match v.get_ref() {
        Value::Integer(i) if MEMORY_MB.contains(&(*i as u64)) => Ok(*i as u64),
        Value::Integer(i) => Err(src.error(
            v.span(),
            &format!("`memory` {i} MB is outside what Lambda allows"),
            expected,
        )),
        other => Err(src.error(
            v.span(),
            &format!("`memory` is a {}, not a whole number", other.type_str()),
            expected,
        )),
    }
}

/// `warm`: a whole number ≥ 0, at most the function's concurrency `limit`.
fn warm(src: &Source, v: &Spanned<Value>, limit: u64) -> Result<u64> {
    let expected = format!("a whole number from 0 to the function's concurrency ({limit})");
    match v.get_ref() {
        Value::Integer(i) if (0..=limit as i64).contains(i) => Ok(*i as u64),
        Value::Integer(i) => Err(src.error(
            v.span(),
            &format!("`warm` {i} is not between 0 and the function's concurrency {limit}"),
            &expected,
        )),
        other => Err(src.error(
            v.span(),
            &format!("`warm` is a {}, not a whole number", other.type_str()),
            &expected,
        )),
    }
}

/// `"40ms"`, or a range `"20ms..80ms"`, for `key` (`duration`, `cold_start`).
pub(crate) fn handler_time(src: &Source, v: &Spanned<Value>, key: &str) -> Result<HandlerTime> {
    let expected = "a duration such as \"40ms\", or a range such as \"20ms..80ms\"";
    let Value::String(text) = v.get_ref() else {
        return Err(src.error(v.span(), &format!("`{key}` is not a string"), expected));
    };
    let parse = |t: &str| humantime::parse_duration(t.trim()).ok();
    let bad = || src.error(v.span(), &format!("bad `{key}` `{text}`"), expected);
    match text.split_once("..") {
        Some((lo, hi)) => {
            let (lo, hi) = (parse(lo).ok_or_else(bad)?, parse(hi).ok_or_else(bad)?);
            if hi < lo {
                return Err(src.error(
                    v.span(),
                    &format!("range `{text}` ends before it starts"),
                    expected,
                ));
            }
            Ok(HandlerTime::Uniform(lo, hi))
        }
        None => Ok(HandlerTime::Fixed(parse(text).ok_or_else(bad)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<EmulatorConfig> {
        let src = Source::new(Path::new("e.toml"), text);
        let raw: RawEmulator = toml::from_str(text).map_err(|e| toml_error(&src, &e))?;
        validate(&src, &raw)
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_function_keys_are_read() {
        let c = parse(
            "memory = 1769\narchitecture = \"arm64\"\nerror_rate = 0.05\nwarm = 3\ncold_start = \"200ms..400ms\"\n",
        )
        .unwrap();
        assert_eq!(c.memory_mb, 1769);
        assert_eq!(c.architecture, Architecture::Arm64);
        assert_eq!(c.error_rate, 0.05);
        assert_eq!(c.warm, 3);
        assert_eq!(
            c.cold_start,
            HandlerTime::Uniform(Duration::from_millis(200), Duration::from_millis(400))
        );
        let d = parse("").unwrap();
        assert_eq!((d.memory_mb, d.architecture), (128, Architecture::X86_64));
        assert_eq!((d.error_rate, d.warm), (0.0, 0));
        assert_eq!(
            parse("cold_start = \"0ms\"").unwrap().cold_start.mean(),
            Duration::ZERO
        );
        assert_eq!(parse("error_rate = 1").unwrap().error_rate, 1.0);
        let m =
            parse("cpu_time = \"80ms\"\ninit_cpu_time = \"100ms..200ms\"\nupdate_delay = \"0s\"\n")
                .unwrap();
        assert_eq!(m.cpu_time, HandlerTime::Fixed(Duration::from_millis(80)));
        assert_eq!(
            m.init_cpu_time,
            HandlerTime::Uniform(Duration::from_millis(100), Duration::from_millis(200))
        );
        assert_eq!(m.update_delay, Duration::ZERO);
        assert_eq!(
            (d.cpu_time.mean(), d.update_delay),
            (Duration::ZERO, Duration::from_millis(300))
        );
        assert!(error("cpu_time = 5").contains("`cpu_time` is not a string"));
    }

    #[test]
    fn bad_function_keys_name_their_line_and_column() {
        let e = error("\nmemory = 64\n");
        assert!(e.starts_with("e.toml:2:10: `memory` 64 MB"), "{e}");
        assert!(e.contains("128 to 10240"), "{e}");
        assert!(error("memory = \"1GB\"").contains("not a whole number"));
        let e = error("architecture = \"arm\"");
        assert!(e.contains("unknown architecture `arm`"), "{e}");
        assert!(e.contains("x86_64, arm64"), "{e}");
        let e = error("error_rate = 1.5");
        assert!(
            e.starts_with("e.toml:1:14: `error_rate` 1.5 is above 1"),
            "{e}"
        );
        assert!(error("error_rate = -0.1").contains("error_rate"));
        let e = error("reserved_concurrency = 2\nwarm = 3");
        assert!(e.starts_with("e.toml:2:8: `warm` 3"), "{e}");
        assert!(error("warm = -1").contains("`warm` -1"));
        let e = error("cold_start = \"400ms..200ms\"");
        assert!(e.contains("ends before it starts"), "{e}");
        assert!(error("cold_start = 5").contains("`cold_start` is not a string"));
        assert!(parse("deny = [\"lambda:GetFunctionConfiguration\"]").is_ok());
    }

    #[test]
    fn a_slowdown_adds_handler_time_past_its_concurrency() {
        let c = parse("slowdown = { past = 20, add = \"10ms\" }").unwrap();
        let base = Duration::from_millis(50);
        assert_eq!(c.handler_time(base, 20), base);
        assert_eq!(c.handler_time(base, 21), Duration::from_millis(60));
        assert_eq!(c.handler_time(base, 30), Duration::from_millis(150));
        assert_eq!(parse("").unwrap().handler_time(base, 1000), base);
        let e = error("slowdown = { past = 20 }");
        assert!(e.contains("add"), "{e}");
        let e = error("slowdown = { past = -1, add = \"1ms\" }");
        assert!(e.contains("`past`"), "{e}");
    }
}
