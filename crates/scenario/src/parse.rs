//! Scenario TOML → validated [`Scenario`]. Every error names the file, line and column and
//! what was expected; unknown keys get the nearest valid name.

use std::collections::BTreeMap;
use std::path::Path;

use http::Uri;
use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::abort::{self, RawAbort};
use super::aws::RawAws;
use super::client::{self, RawAuth, RawRequest, RawRetry};
use super::connections::{self, CONNECTION_POLICIES, HTTP_VERSIONS};
use super::lambda::TARGET_KINDS;
use super::requests::{self as mix, RawRequestEntry};
use super::schema::{Duration, WholeNumber};
use super::stage_table::{stage, RawStage};
use super::target::{is_lambda, target};
pub use super::target::{parse_header, parse_method, parse_url, HEADER_EXPECTED};
use super::threshold_tables::{self, RawThresholds};
use super::{RequestIds, Scenario, Stage, Target, Thresholds};
use crate::error::{Error, Result};
use crate::located::{read_user_text, size_text, TEXT_FILE_MAX};
use crate::located::{toml_error, Source};
use crate::retry::RetryPolicy;
use stampede_emulator::config::{self as emulator_config, RawEmulator};
use stampede_lambda::function::INVOCATIONS;

/// A stampede scenario: what to send, in which stages, what counts as a pass.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scenario")]
pub(super) struct RawScenario {
    /// The scenario's name, shown in the summary and stored in the results.
    name: Option<String>,
    /// Makes each request's backoff jitter repeatable (not ids, not the emulator).
    #[schemars(with = "Option<u64>")]
    seed: Option<u64>,
    /// What to send. `--url` replaces `url`; with `[emulator]` it may be a bare path.
    #[schemars(with = "Option<RawTarget>")]
    target: Option<Spanned<RawTarget>>,
    /// The stages, run in file order: at least one.
    #[serde(default)]
    #[schemars(with = "Vec<RawStage>", extend("minItems" = 1))]
    stages: Vec<Spanned<RawStage>>,
    /// Upper bounds checked after the run; any breach exits 1.
    thresholds: Option<RawThresholds>,
    /// Ids sent on every attempt of a logical request.
    request: Option<RawRequest>,
    /// Client retries. Without this table every request is sent once.
    #[schemars(with = "Option<RawRetry>")]
    retry: Option<Spanned<RawRetry>>,
    /// Stop the run early (exit 3) when a rate over the last window passes its bound.
    #[schemars(with = "Option<RawAbort>")]
    abort: Option<Spanned<RawAbort>>,
    /// What the quota check reads: region, function, REST API stage, or a quotas file.
    #[schemars(with = "Option<RawAws>")]
    aws: Option<Spanned<RawAws>>,
    /// Run against the built-in API Gateway + Lambda emulator, started in-process.
    #[schemars(with = "Option<RawEmulator>")]
    emulator: Option<Spanned<RawEmulator>>,
    /// Data sources templates read: `[data]` (`{{data.COLUMN}}`) or `[[data]]` with names.
    #[schemars(with = "Option<super::data::RawDataTables>")]
    data: Option<Spanned<super::data::RawDataTables>>,
    /// A weighted mix of requests (at most 100), each on top of [target]'s URL and headers.
    #[serde(default)]
    #[schemars(with = "Vec<RawRequestEntry>", extend("maxItems" = 100))]
    requests: Vec<Spanned<RawRequestEntry>>,
    /// Sequences of [[requests]] (at most 100): each arrival or closed-loop iteration runs
    /// one flow, its steps one after another; a request's own weight is then unused.
    #[serde(default)]
    #[schemars(with = "Vec<super::flows::RawFlowEntry>", extend("maxItems" = 100))]
    flows: Vec<Spanned<super::flows::RawFlowEntry>>,
}

/// `[target]`: the request every attempt sends — to a URL, or (`kind = "lambda"`) to a
/// function through the Lambda Invoke API.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Target")]
pub(super) struct RawTarget {
    /// "http" (default): a URL. "lambda": invoke a function directly (function, qualifier,
    /// payload, invocation, log_tail, region).
    #[schemars(with = "Option<String>", extend("enum" = TARGET_KINDS))]
    pub(super) kind: Option<Spanned<String>>,
    /// How each attempt is authenticated (secrets come from the environment).
    #[schemars(with = "Option<RawAuth>")]
    pub(super) auth: Option<Spanned<RawAuth>>,
    /// An absolute http:// or https:// URL; with [emulator], a bare path such as "/orders".
    #[schemars(with = "Option<String>")]
    pub(super) url: Option<Spanned<String>>,
    /// An HTTP method, letters only (default "GET").
    #[schemars(with = "Option<String>", extend("pattern" = "^[A-Za-z]+$"))]
    pub(super) method: Option<Spanned<String>>,
    /// The request body, sent as written. Not together with body_file.
    #[schemars(with = "Option<String>")]
    pub(super) body: Option<Spanned<String>>,
    /// The body read from this file, relative to the scenario file. Not together with body.
    #[schemars(with = "Option<String>")]
    pub(super) body_file: Option<Spanned<String>>,
    /// Per attempt, from sending to the whole answer read (default "29s").
    #[schemars(with = "Option<Duration>")]
    pub(super) timeout: Option<Spanned<Value>>,
    /// Opening a connection, TCP and TLS (default "10s").
    #[schemars(with = "Option<Duration>")]
    pub(super) connect_timeout: Option<Spanned<Value>>,
    /// "keep-alive" (default): connections reused request after request. "per-request": a
    /// new connection (TCP, and TLS for https) for each attempt, closed after its answer.
    /// "per-flow" (with [[flows]]): a new connection for each flow, kept for its steps.
    #[schemars(with = "Option<String>", extend("enum" = CONNECTION_POLICIES))]
    pub(super) connections: Option<Spanned<String>>,
    /// A new TLS connection may resume an earlier session (default true); matters with
    /// connections = "per-request".
    #[schemars(with = "Option<bool>")]
    pub(super) tls_resume: Option<Spanned<bool>>,
    /// How often the target's name is looked up again (default "60s"); "off": once.
    #[schemars(with = "Option<String>")]
    pub(super) dns_refresh: Option<Spanned<Value>>,
    /// Addresses for the target's name instead of a lookup, as curl's --resolve:
    /// "HOST:PORT:ADDR[,ADDR...]".
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub(super) resolve: Vec<Spanned<String>>,
    /// A hosts-style file (ADDRESS NAME per line), relative to the scenario file, read
    /// again at each refresh; a name it does not list is looked up.
    #[schemars(with = "Option<String>")]
    pub(super) hosts_file: Option<Spanned<String>>,
    /// "1.1" (default) or "2": HTTP/2 over TLS (ALPN h2), or with prior knowledge (h2c) for
    /// an http:// URL; requests multiplexed on each connection.
    #[schemars(with = "Option<String>", extend("enum" = HTTP_VERSIONS))]
    pub(super) http: Option<Spanned<String>>,
    /// HTTP/2: streams at once per connection; more connections are opened beyond them
    /// (default: the server's SETTINGS_MAX_CONCURRENT_STREAMS).
    #[schemars(with = "Option<WholeNumber>", extend("minimum" = 1))]
    pub(super) max_streams: Option<Spanned<i64>>,
    /// Header name = "value", sent on every attempt.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub(super) headers: BTreeMap<Spanned<String>, Spanned<String>>,
    /// lambda: the function — a name, name:qualifier, an ARN or a partial ARN.
    #[schemars(with = "Option<String>")]
    pub(super) function: Option<Spanned<String>>,
    /// lambda: an alias or version ("$LATEST", "3", "live").
    #[schemars(with = "Option<String>")]
    pub(super) qualifier: Option<Spanned<String>>,
    /// lambda: the event sent to the function, as written (default "{}"). Not with payload_file.
    #[schemars(with = "Option<String>")]
    pub(super) payload: Option<Spanned<String>>,
    /// lambda: the event read from this file, relative to the scenario file.
    #[schemars(with = "Option<String>")]
    pub(super) payload_file: Option<Spanned<String>>,
    /// lambda: "request-response" (default: wait for the result), "event" (queued, 202) or
    /// "stream" (InvokeWithResponseStream: the result as an event stream of payload chunks).
    #[schemars(with = "Option<String>", extend("enum" = INVOCATIONS))]
    pub(super) invocation: Option<Spanned<String>>,
    /// lambda: ask for the log tail, to read each invocation's REPORT line (default true
    /// for request-response and stream).
    #[schemars(with = "Option<bool>")]
    pub(super) log_tail: Option<Spanned<bool>>,
    /// lambda: the function's region (default: the ARN's, [aws] region, AWS_REGION).
    #[schemars(with = "Option<String>")]
    pub(super) region: Option<Spanned<String>>,
}

/// Reads and validates a scenario file. `url_override` (from `--url`) replaces `target.url`.
pub fn load(path: &Path, url_override: Option<&Uri>) -> Result<Scenario> {
    let text = read_user_text(path, TEXT_FILE_MAX).map_err(|why| {
        Error::input(format!(
            "cannot read scenario file {}: {why}\n  expected: a scenario file (TOML) of at most {}",
            path.display(),
            size_text(TEXT_FILE_MAX)
        ))
    })?;
    parse_str(path, &text, url_override)
}

/// Parses scenario text; `name` is the file it came from (for errors and `body_file`).
pub fn parse_str(name: &Path, text: &str, url_override: Option<&Uri>) -> Result<Scenario> {
    let src = Source::new(name, text);
    let raw: RawScenario = toml::from_str(text).map_err(|e| toml_error(&src, &e))?;
    let whole = 0..0;

    // `[emulator]` is the emulator crate's: its keys are `RawEmulator`'s and its checks
    // `config::validate`'s; the scenario only passes the table (and where it is) through.
    let emulator = match &raw.emulator {
        Some(e) => Some(emulator_config::validate(&src, e.get_ref())?),
        None => None,
    };
    // With an emulator (and no --url), the target may be a bare path: it is aimed at the
    // emulator's address once that is known.
    let aws = match &raw.aws {
        Some(a) => Some(super::aws::aws_settings(&src, a)?),
        None => None,
    };
    let in_process = emulator.is_some() && url_override.is_none();
    // Without a [target] url, the first request's origin is the target.
    let first_origin = mix::first_origin(&raw.requests, &src)?;
    let mut target = match (&raw.target, url_override) {
        (Some(t), _) if is_lambda(&src, t)? => {
            let endpoint = match url_override {
                Some(u) => super::lambda::Endpoint::Given(u),
                None if in_process => super::lambda::Endpoint::Emulator,
                None => super::lambda::Endpoint::Aws,
            };
            let region = aws
                .as_ref()
                .and_then(|a| a.names.region.as_deref())
                .or(emulator
                    .as_ref()
                    .filter(|_| in_process)
                    .map(|e| e.region.as_str()));
            super::lambda::target(&src, t, endpoint, region)?
        }
        (Some(t), _) => target(&src, t, url_override, in_process, first_origin.as_ref())?,
        (None, Some(url)) => Target::from_url(url.clone()),
        (None, None) if first_origin.is_some() => {
            Target::from_url(first_origin.clone().expect("checked"))
        }
        (None, None) if in_process => Target::from_url(Uri::from_static(EMULATOR_PLACEHOLDER)),
        (None, None) => {
            return Err(src.error(
                whole,
                "missing [target] table",
                "[target] with url = \"https://…\" (or pass --url)",
            ))
        }
    };
    if let Some(t) = &raw.target {
        let t = t.get_ref();
        connections::apply(
            &src,
            t.connections.as_ref(),
            t.tls_resume.as_ref(),
            !raw.flows.is_empty(),
            &mut target,
        )?;
        let raw_dns = super::dns::RawDns {
            refresh: t.dns_refresh.as_ref(),
            resolve: &t.resolve,
            hosts_file: t.hosts_file.as_ref(),
        };
        super::dns::apply(&src, raw_dns, &mut target)?;
        connections::apply_http(&src, t.http.as_ref(), t.max_streams.as_ref(), &mut target)?;
    }
    if raw.stages.is_empty() {
        return Err(src.error(
            0..0,
            "no [[stages]]",
            "at least one [[stages]] table with a kind (constant, ramp, steps, burst, concurrency, pause)",
        ));
    }
    let mut stages = Vec::with_capacity(raw.stages.len());
    let mut stage_think = Vec::with_capacity(raw.stages.len());
    for (i, s) in raw.stages.iter().enumerate() {
        let stage = stage(&src, s, i + 1)?;
        // Only a concurrency stage takes it (checked with the stage's other keys).
        stage_think.push(match &s.get_ref().think {
            Some(v) => Some(super::flows::think(&src, v)?),
            None => None,
        });
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
    let retry = match &raw.retry {
        Some(r) => client::retry_policy(&src, r)?,
        None => RetryPolicy::default(),
    };
    let request = match &raw.request {
        Some(r) => client::request_ids(&src, r)?,
        None => RequestIds::default(),
    };
    let data = match &raw.data {
        Some(d) => super::data::data_specs(&src, d, raw.seed)?,
        None => Vec::new(),
    };
    if let (Some(d), None) = (&raw.data, raw.requests.first()) {
        return Err(src.error(
            d.span(),
            "[data] with no [[requests]] to read it",
            "[[requests]] entries whose path, headers or body say {{data.COLUMN}}",
        ));
    }
    // Read once now: templates are compiled against the sources' columns.
    let data_sources = super::data::open_sources(&data)?;
    // With flows, a template may name anything a request captures; each flow's steps
    // are checked against what is captured before them once the flows are read.
    let scope = stampede_mix::template::Scope {
        sources: super::data::scope_sources(&data, &data_sources),
        captures: if raw.flows.is_empty() {
            Vec::new()
        } else {
            super::flows::all_capture_names(&raw.requests)
        },
        captures_note: None,
    };
    if let (Some(f), None) = (raw.flows.first(), raw.requests.first()) {
        return Err(src.error(
            f.span(),
            "[[flows]] with no [[requests]] for their steps",
            "[[requests]] entries with a name, which each flow's steps list",
        ));
    }
    let requests = match raw.requests.first() {
        None => None,
        Some(first) => {
            let mut mix = requests(&src, &raw, first.span(), &target, &scope)?;
            let templates = || {
                mix.entries.iter().flat_map(|e| {
                    [&e.target, &e.body]
                        .into_iter()
                        .chain(e.headers.iter().map(|(_, v)| v))
                })
            };
            mix.env = super::data::env_values(templates()).map_err(|why| {
                src.error(
                    first.span(),
                    &why,
                    "the variable set in the environment stampede runs in",
                )
            })?;
            for e in &mix.entries {
                for (_, v) in &e.headers {
                    super::data::check_header_template(v, &data_sources, &mix.env)?;
                }
            }
            mix.data = data
                .iter()
                .zip(&data_sources)
                .map(|(spec, source)| (source.clone(), spec.pick))
                .collect();
            if !raw.flows.is_empty() {
                let at = mix::EntriesIn {
                    src: &src,
                    list_span: first.span(),
                };
                let recheck = |entry: usize, captured: &[String], note: String| {
                    let narrow = stampede_mix::template::Scope {
                        captures: captured.to_vec(),
                        captures_note: Some(note),
                        ..scope.clone()
                    };
                    mix::recompile(&at, &raw.requests, entry, &target, &narrow)
                };
                mix.flows = Some(super::flows::flows(
                    &src,
                    &raw.flows,
                    &mix.entries,
                    &recheck,
                )?);
            }
            Some(mix)
        }
    };
    let abort = match &raw.abort {
        Some(a) => Some(abort::abort_rules(&src, a, requests.as_ref())?),
        None => None,
    };
    // Read after the stages and the mix: its tables name them.
    let thresholds = match &raw.thresholds {
        Some(t) => threshold_tables::thresholds(&src, t, &stages, requests.as_ref())?,
        None => Thresholds::default(),
    };
    let aws = aws_for(aws, &target, url_override);
    Ok(Scenario {
        data,
        data_sources,
        requests,
        stage_think,
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

pub(super) fn aws_for(
    aws: Option<super::AwsSettings>,
    target: &Target,
    endpoint: Option<&Uri>,
) -> Option<super::AwsSettings> {
    let Some(lambda) = &target.lambda else {
        return aws;
    };
    let mut aws = aws.unwrap_or_default();
    if aws.names.function.is_none() {
        aws.names.function = Some(lambda.function.function.clone());
        aws.names.qualifier = lambda.function.qualifier.clone();
    }
    aws.names
        .region
        .get_or_insert_with(|| lambda.region.clone());
    if let (None, Some(url)) = (&aws.endpoint_url, endpoint) {
        let authority = url.authority().map_or("", |a| a.as_str());
        aws.endpoint_url = Some(format!(
            "{}://{authority}",
            url.scheme_str().unwrap_or("http")
        ));
    }
    Some(aws)
}

/// Where a bare-path target points until the emulator has an address.
pub const EMULATOR_PLACEHOLDER: &str = "http://127.0.0.1/";

/// `[[requests]]`, compiled against the target. `[target] method` and `body` would say a
/// second thing about every request: refused.
fn requests(
    src: &Source,
    raw: &RawScenario,
    list_span: std::ops::Range<usize>,
    target: &Target,
    scope: &stampede_mix::template::Scope,
) -> Result<super::Requests> {
    if target.lambda.is_some() {
        return Err(src.error(
            list_span,
            "[[requests]] with a lambda target",
            "an http target ([target] url) for [[requests]]; a lambda target sends its one payload",
        ));
    }
    if let Some(t) = &raw.target {
        let t = t.get_ref();
        let ambiguous = [
            ("method", t.method.as_ref().map(|v| v.span())),
            ("body", t.body.as_ref().map(|v| v.span())),
            ("body_file", t.body_file.as_ref().map(|v| v.span())),
        ];
        if let Some((key, Some(span))) = ambiguous.into_iter().find(|(_, s)| s.is_some()) {
            return Err(src.error(
                span,
                &format!("[target] {key} with [[requests]]: which one does a request send?"),
                "each [[requests]] entry's own method and body, and none in [target]",
            ));
        }
    }
    let at = mix::EntriesIn { src, list_span };
    mix::entries(&at, &raw.requests, target, scope)
}
