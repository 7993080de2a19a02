//! The scenario: what to send, where, and in which stages. Parsed from TOML (docs/scenario.md)
//! or built from ad-hoc flags; either way validated into these types before anything runs.

mod abort;
mod adhoc;
mod aws;
pub mod byte_rate;
pub mod classify;
mod client;
pub mod connections;
pub mod data;
pub mod dns;
pub mod expect;
pub mod flows;
pub mod init;
pub mod lambda;
mod names;
mod parse;
pub mod requests;
pub mod retry;
pub mod schema;
pub mod shard;
mod stage_table;
mod target;
mod threshold_tables;
mod thresholds;
mod userinfo;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Uri};

use crate::retry::RetryPolicy;
use stampede_emulator::EmulatorConfig;
// The located crate's file reading and errors, by the names the modules use.
use stampede_located as located;
use stampede_located::error;

pub use crate::located::nearest;
pub use crate::located::redact_userinfo as redact_url;
pub use adhoc::{from_flags, threshold_flag, AbortFlag, AdHoc, LoadShape};
pub use aws::AwsSettings;
pub use connections::{ConnectionPolicy, HttpVersion};
pub use data::DataSpec;
pub use dns::Dns;
pub use flows::{Flow, Flows, Think};
/// The old name of [`AwsSettings`], still read by `results::lambda` until that moves.
pub use lambda::LambdaTarget;
pub use names::AwsNames;
pub use parse::{load, parse_str};
pub use requests::{RequestEntry, Requests, REQUESTS_MAX};
pub use shard::{Shard, ShardSource};
pub use thresholds::{AbortRules, Metric, RequestAbort, Stat, Threshold, METRIC_NAMES};
pub use userinfo::BasicAuth;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(29);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most a `body_file` or `payload_file` may hold: API Gateway's own payload limit
/// (10 MB); a bigger body is never what a load test of these services means.
pub const BODY_MAX: u64 = 10 << 20;

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: Option<String>,
    pub seed: Option<u64>,
    pub target: Target,
    pub stages: Vec<Stage>,
    pub thresholds: Thresholds,
    /// Run against the built-in emulator, started in-process (the `[emulator]` table).
    pub emulator: Option<EmulatorConfig>,
    pub retry: RetryPolicy,
    pub request: RequestIds,
    /// `[abort]`: stop early when the last window's throttle or error rate passes its bound.
    pub abort: Option<AbortRules>,
    /// `[aws]`: what the quota check reads.
    pub aws: Option<AwsSettings>,
    /// `[data]` / `[[data]]`: the sources templates read, opened when the run starts.
    pub data: Vec<DataSpec>,
    /// The sources of `data`, read once (rows counted and indexed), in the same order.
    pub data_sources: Vec<stampede_mix::data::Source>,
    /// `[[requests]]` (or `--requests`): the mix. `None`: the one request of `[target]`.
    pub requests: Option<Requests>,
    /// Per stage, in order: a `concurrency` stage's `think`, its workers' pause between
    /// two of their requests (or flows); `None` for every other stage.
    pub stage_think: Vec<Option<Think>>,
}

impl Scenario {
    /// The requests sent: the `[[requests]]` mix, else the one request `[target]` makes
    /// (read now, so that flags amending the target are in it).
    pub fn mix(&self) -> Requests {
        self.requests
            .clone()
            .unwrap_or_else(|| Requests::single(&self.target))
    }
}

/// The `[request]` table: ids sent with every attempt of a logical request.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestIds {
    /// A fresh id per logical request, the same on each of its attempts.
    pub correlation_header: Option<HeaderName>,
    /// One key per logical request, the same on each attempt.
    pub idempotency_header: Option<HeaderName>,
}

impl Default for RequestIds {
    fn default() -> Self {
        RequestIds {
            correlation_header: Some(HeaderName::from_static("x-correlation-id")),
            idempotency_header: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Target {
    /// Never with userinfo: that is taken out into `basic_auth`.
    pub url: Uri,
    /// `user:password@` of the URL as given, sent as HTTP Basic auth.
    pub basic_auth: Option<BasicAuth>,
    pub method: Method,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    /// Per attempt.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// `connections`: keep-alive (reused) or a new connection per attempt.
    pub connections: ConnectionPolicy,
    /// `tls_resume`: a new TLS connection may resume an earlier session (default true).
    pub tls_resume: bool,
    /// `dns_refresh`, `resolve`, `hosts_file`: where the addresses come from, how often.
    pub dns: Dns,
    /// `http`: HTTP/1.1 (default) or HTTP/2.
    pub http: HttpVersion,
    /// `max_streams`: HTTP/2 streams at once per connection; `None`: the server's
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`.
    pub max_streams: Option<u32>,
    pub auth: AuthSpec,
    /// `kind = "lambda"`: the function the URL invokes, and how.
    pub lambda: Option<LambdaTarget>,
    /// Aimed at the in-process emulator (`[emulator]`, no `--url`): `url` then holds the
    /// emulator's free port, which differs from run to run, so the target is shown and
    /// identified by its path alone ([`Target::display_url`]).
    pub emulated: bool,
}

/// How `[target.auth]` says to authenticate; names only, no secrets.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthSpec {
    None,
    /// An API key from the environment variable `env`, sent in `header`.
    ApiKey {
        header: HeaderName,
        env: String,
    },
    /// `Authorization: Bearer <token>`, the token from the environment variable `env`.
    Bearer {
        env: String,
    },
    /// SigV4 for `service` ("execute-api" or "lambda") in `region` (None: from the
    /// environment or the URL).
    SigV4 {
        service: String,
        region: Option<String>,
    },
}

impl AuthSpec {
    /// Whether it sends an `Authorization` header (as a URL's user:password@ would).
    pub fn sets_authorization(&self) -> bool {
        match self {
            AuthSpec::None => false,
            AuthSpec::ApiKey { header, .. } => header == http::header::AUTHORIZATION,
            AuthSpec::Bearer { .. } | AuthSpec::SigV4 { .. } => true,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub name: String,
    pub kind: StageKind,
}

/// Every stage kind of docs/scenario.md. Rates are requests per second.
#[derive(Clone, Debug, PartialEq)]
pub enum StageKind {
    Constant {
        rate: f64,
        duration: Duration,
    },
    Ramp {
        from: f64,
        to: f64,
        duration: Duration,
    },
    Steps {
        from: f64,
        to: f64,
        step: f64,
        hold: Duration,
    },
    Burst {
        requests: u64,
    },
    Concurrency {
        workers: u64,
        duration: Duration,
    },
    Pause {
        duration: Duration,
    },
}

/// Stage keys that may be left out.
pub const OPTIONAL_STAGE_KEYS: [&str; 1] = ["think"];

pub const STAGE_KINDS: [&str; 6] = ["constant", "ramp", "steps", "burst", "concurrency", "pause"];

/// The keys each stage kind takes besides `kind` and `name`: all of them required but
/// those of [`OPTIONAL_STAGE_KEYS`], no other.
pub const STAGE_KEYS: [(&str, &[&str]); 6] = [
    ("constant", &["rate", "duration"]),
    ("ramp", &["from", "to", "duration"]),
    ("steps", &["from", "to", "step", "hold"]),
    ("burst", &["requests"]),
    ("concurrency", &["workers", "duration", "think"]),
    ("pause", &["duration"]),
];

impl StageKind {
    pub fn label(&self) -> &'static str {
        self.kind().name()
    }

    /// The kind as the results file has it.
    pub fn kind(&self) -> stampede_results::StageKind {
        use stampede_results::StageKind as K;
        match self {
            StageKind::Constant { .. } => K::Constant,
            StageKind::Ramp { .. } => K::Ramp,
            StageKind::Steps { .. } => K::Steps,
            StageKind::Burst { .. } => K::Burst,
            StageKind::Concurrency { .. } => K::Concurrency,
            StageKind::Pause { .. } => K::Pause,
        }
    }

    /// An open-model stage whose rate × duration comes to less than one request: the
    /// schedule plans none (it rounds each piece's requests down), so the stage would send
    /// nothing and pass. The schedule's tests hold this to its counts.
    pub fn plans_no_request(&self) -> bool {
        let below_one = |mean_rate: f64, d: &Duration| mean_rate * d.as_secs_f64() + 1e-9 < 1.0;
        match self {
            StageKind::Constant { rate, duration } => below_one(*rate, duration),
            StageKind::Ramp { from, to, duration } => below_one((from + to) / 2.0, duration),
            StageKind::Steps {
                from,
                to,
                step,
                hold,
            } => below_one(
                from + step * (steps_levels(*from, *to, *step) - 1) as f64,
                hold,
            ),
            StageKind::Burst { .. } | StageKind::Concurrency { .. } | StageKind::Pause { .. } => {
                false
            }
        }
    }
}

/// The levels of a steps stage: `from`, `from + step`, … up to `to`.
pub fn steps_levels(from: f64, to: f64, step: f64) -> u64 {
    // `as` saturates: an absurd `to` must not overflow here (its bounds are checked apart).
    (((to - from) / step + 1e-9).floor() as u64).saturating_add(1)
}

#[derive(Clone, Debug, Default)]
pub struct Thresholds {
    pub overall: Vec<Threshold>,
    /// (stage name, its thresholds), in file order.
    pub stages: Vec<(String, Vec<Threshold>)>,
    /// `[thresholds.requests."NAME"]` (and inside a stage's table), in file order.
    pub requests: Vec<RequestThresholds>,
    /// `[thresholds.flows."NAME"]` (and inside a stage's table), in file order.
    pub flows: Vec<FlowThresholds>,
}

/// The thresholds of one `[[flows]]` entry, judged on its `by_flow` figures.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowThresholds {
    pub flow: String,
    /// `Some`: in that stage alone (`[thresholds.stages."STAGE".flows."NAME"]`).
    pub stage: Option<String>,
    pub limits: Vec<Threshold>,
}

/// The thresholds of one `[[requests]]` entry, judged on its `by_request` figures.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestThresholds {
    pub request: String,
    /// `Some`: in that stage alone (`[thresholds.stages."STAGE".requests."NAME"]`).
    pub stage: Option<String>,
    pub limits: Vec<Threshold>,
}

impl Thresholds {
    pub fn is_empty(&self) -> bool {
        self.overall.is_empty()
            && self.stages.iter().all(|(_, t)| t.is_empty())
            && self.requests.iter().all(|r| r.limits.is_empty())
            && self.flows.iter().all(|f| f.limits.is_empty())
    }
}
