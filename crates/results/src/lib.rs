//! The results file (docs/results.md): the contract between a run and whatever reads it
//! later — reports, CI jobs, merges. Its own plain types, every one that is written into the
//! file; reading it back with the version check ([`file`]); its JSON Schema ([`schema`]);
//! the exact merge of runs ([`merge`]) and the comparison against a baseline ([`compare`]).
//! No I/O but reading a file, no async runtime, no AWS: every producer (the engine's record,
//! the emulator, the quota check, CloudWatch, probe) converts into these types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub mod abort;
pub mod addresses;
pub mod cloudwatch;
pub mod compare;
pub mod cost;
pub mod emulator;
mod error;
pub mod failure;
pub mod file;
pub mod flows;
pub mod histogram;
pub mod lambda;
pub mod merge;
pub mod probe;
pub mod provisioned;
pub mod quota_check;
pub mod quotas;
pub mod routes;
pub mod schema;
pub mod thresholds;
pub mod timeline;
pub mod timing;
pub mod tune;

pub use addresses::AddressServed;
pub use error::Error;
pub use failure::FailureSample;
pub use histogram::{
    decode, encode, new_histogram, new_request_histogram, percentiles, Percentiles, SecondLatency,
};
pub use timeline::{RequestSecond, RequestSecondHistogram, SecondHistograms, TimelinePoint};

use quota_check::QuotaCheck;
use thresholds::ThresholdResult;

/// A stage's kind, as the scenario names it (`kind = "burst"`) and the results file writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    Constant,
    Ramp,
    Steps,
    Burst,
    Concurrency,
    Pause,
}

impl StageKind {
    pub const ALL: [StageKind; 6] = [
        StageKind::Constant,
        StageKind::Ramp,
        StageKind::Steps,
        StageKind::Burst,
        StageKind::Concurrency,
        StageKind::Pause,
    ];

    /// The name the scenario and the results file use.
    pub fn name(self) -> &'static str {
        match self {
            StageKind::Constant => "constant",
            StageKind::Ramp => "ramp",
            StageKind::Steps => "steps",
            StageKind::Burst => "burst",
            StageKind::Concurrency => "concurrency",
            StageKind::Pause => "pause",
        }
    }

    pub fn from_name(name: &str) -> Option<StageKind> {
        StageKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl std::fmt::Display for StageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

pub const SCHEMA: &str = "stampede.results/1";

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Results {
    /// The format's name and version: "stampede.results/1".
    #[schemars(extend("const" = SCHEMA))]
    pub schema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Which scenario ran: a hash of its name, target, method and stages (names and kinds),
    /// the same whatever the rates, counts and durations. Runs merge only with the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    /// This run's id, 8 hex digits: the one in its correlation ids (`stp-<run_id>-…`), so a
    /// merge counts each run once. A merged file has none: `merged.runs` lists its runs'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub started_at: String,
    pub duration_s: f64,
    pub interrupted: bool,
    /// TLS certificates were not checked (`--insecure`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    pub target: TargetInfo,
    pub totals: Totals,
    pub attempts: Attempts,
    /// Throttled attempts by kind.
    pub throttles: BTreeMap<String, u64>,
    /// Answers by status code ("200", "301", "429", …); attempts that got no answer have none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status_codes: BTreeMap<String, u64>,
    /// Local errors by what ran out ("file_descriptors", "ephemeral_ports", …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub local_errors: BTreeMap<String, u64>,
    /// The process's open-files limit during the run (`ulimit -n`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_files_limit: Option<u64>,
    /// What each address of the target served, by `ip:port` (an IPv6 one in brackets):
    /// connections go round robin over every address the name resolves to. Absent in
    /// files written before it was added, and for targets stampede did not connect to
    /// itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub addresses: BTreeMap<String, AddressServed>,
    /// Failures of stampede itself during the run (a lane that stopped, credentials that
    /// ran out); the results hold what the rest gathered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
    pub latency_ms: Percentiles,
    /// The same latencies of the logical requests that ended ok alone (k6's
    /// `expected_response:true`): fast throttles and errors cannot pull it down. Absent in
    /// files written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_latency_ms: Option<Percentiles>,
    pub service_ms: Percentiles,
    /// Where the time went: each phase of the attempts (dns, connect, tls, ttfb, receive).
    /// Absent in files written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<timing::Timing>,
    pub peak_in_flight: u64,
    pub throttle_onset: Option<ThrottleOnset>,
    /// What retries did: attempts per request, retries by cause, who gave up.
    pub retry: RetrySummary,
    /// A bounded sample of failed attempts, with the correlation id to find them by.
    pub failures: Vec<FailureSample>,
    pub stages: Vec<StageResult>,
    /// Per `[[requests]]` entry, by name: what each request of the mix did over the run.
    /// Absent without `[[requests]]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_request: Option<BTreeMap<String, RequestResult>>,
    /// Per `[[flows]]` entry, by name: what each flow did over the run. Absent without
    /// `[[flows]]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_flow: Option<BTreeMap<String, flows::FlowResult>>,
    pub timeline: Vec<TimelinePoint>,
    pub histograms: Histograms,
    pub quota_check: QuotaCheck,
    pub thresholds: Vec<ThresholdResult>,
    /// The `[abort]` rule that stopped the run early.
    #[serde(default)]
    pub aborted: Option<abort::AbortTrip>,
    /// What the built-in emulator did, when the run used it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emulator: Option<emulator::Stats>,
    /// Written by `stampede merge`: how many runs were merged, and whether every second's
    /// percentiles are exact. Absent in the results of one run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<merge::MergeInfo>,
    /// The part of a test split across machines this run was (`--shard I/N`). Absent when
    /// the run was the whole test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// What the run was aimed at on AWS, as far as it knew: what `stampede cloudwatch`
    /// reads later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsTarget>,
    /// What AWS counted (CloudWatch), beside what the client saw; absent when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<cloudwatch::CloudWatch>,
    /// A Lambda target's invocations: cold starts, init, billed time, cost (docs/lambda.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda: Option<lambda::LambdaResults>,
    /// `stampede probe`: the steps, the knee and what it is set against (docs/probe.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<probe::ProbeResults>,
    /// `stampede tune`: each memory size measured, the picks, and the journal of what it
    /// changed on the function (docs/tune.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tune: Option<tune::Tune>,
}

/// The AWS names a run's metrics are under.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AwsTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// The API Gateway API's id (REST or HTTP API) and its stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

/// One shard of a split test: which, and how its start went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShardInfo {
    /// From 0 to `count` − 1.
    pub index: u64,
    pub count: u64,
    /// Where the shard came from: "--shard", "JOB_COMPLETION_INDEX and STAMPEDE_SHARDS", …
    pub source: String,
    /// `--start-at`, when given: the instant every shard's t = 0 is (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// How late this shard began after `start_at`, in seconds (0 on time).
    pub late_s: f64,
    /// Requests of its share due before it began: skipped, never sent late.
    pub skipped_requests: u64,
    /// The target's clock minus this machine's, in ms, from the `Date` of a few requests
    /// sent before the start; absent when there was no time to ask or no `Date` came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset_ms: Option<f64>,
    /// How sure that is: the offset is within ± this many ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_within_ms: Option<f64>,
}

/// A stage that started fewer than this share of the requests it planned was not sent
/// as planned: the run fails (docs/exit-codes.md).
pub const PLANNED_SHARE_REQUIRED: f64 = 0.9;

impl Results {
    /// What fails a run by its traffic alone, whatever its thresholds: stages sent well
    /// below their plan, and no request succeeding. The one place `run`, `merge` and the
    /// reports learn it from; each reason is one line.
    pub fn traffic_failures(&self) -> Vec<String> {
        self.short_of_plan()
            .into_iter()
            .chain(self.nothing_succeeded())
            .collect()
    }

    /// "Sent well below the plan", naming each stage (with a planned count: open-model
    /// stages and bursts) that started fewer than [`PLANNED_SHARE_REQUIRED`] of its
    /// planned requests, with both numbers, and each closed-model stage that started none. A run stopped on purpose (an interrupt, an
    /// abort rule) is not judged: its stop is the news.
    pub fn short_of_plan(&self) -> Option<String> {
        if self.interrupted || self.aborted.is_some() {
            return None;
        }
        let short: Vec<String> = self
            .stages
            .iter()
            .filter_map(|s| {
                let started = s.totals.requests + s.totals.abandoned;
                // Closed-model workers plan no count: theirs is short only when it is
                // nothing at all (a shard may hold no worker of a small stage).
                if s.kind == StageKind::Concurrency && started == 0 && self.shard.is_none() {
                    return Some(format!(
                        "stage {:?} started no request in its duration (concurrency)",
                        s.name
                    ));
                }
                // With flows a stage plans flows: one whose step failed sends fewer
                // requests than planned, as it should, so flows are what is counted.
                if let Some(flows) = s.by_flow.as_ref().filter(|f| !f.is_empty()) {
                    let planned: u64 = flows.values().filter_map(|f| f.planned).sum();
                    let started: u64 = flows.values().map(|f| f.started).sum();
                    return (planned > 0
                        && (started as f64) < planned as f64 * PLANNED_SHARE_REQUIRED)
                        .then(|| {
                            format!(
                                "stage {:?} started {started} of {planned} planned flows ({:.0}%)",
                                s.name,
                                started as f64 * 100.0 / planned as f64
                            )
                        });
                }
                let planned = s.planned_requests.filter(|p| *p > 0)?;
                ((started as f64) < planned as f64 * PLANNED_SHARE_REQUIRED).then(|| {
                    format!(
                        "stage {:?} started {started} of {planned} planned requests ({:.0}%)",
                        s.name,
                        started as f64 * 100.0 / planned as f64
                    )
                })
            })
            .collect();
        (!short.is_empty()).then(|| {
            format!(
                "sent well below the plan (under {:.0}% of the requests planned): {}",
                PLANNED_SHARE_REQUIRED * 100.0,
                short.join("; ")
            )
        })
    }

    /// "No request succeeded", with what the attempts ended in, when not one logical request
    /// ended ok (a dead endpoint must not pass a CI gate without thresholds).
    pub fn nothing_succeeded(&self) -> Option<String> {
        let r = self;
        let t = &r.totals;
        if t.ok > 0 || (t.requests + t.abandoned == 0 && r.attempts.sent == 0) {
            return None;
        }
        let a = &r.attempts;
        Some(format!(
            "no request succeeded: {} requests, {} attempts ({})",
            t.requests + t.abandoned,
            a.sent,
            a.describe(", ")
        ))
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct TargetInfo {
    /// Scheme, host and path; the query string is left out, as it may carry keys.
    pub url: String,
    pub method: String,
    /// `"per-request"`: a new connection for every attempt, its connect and handshake in
    /// each request's latency. `"per-flow"`: a new connection for every flow, kept for its
    /// steps. Absent: connections were kept alive and reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<String>,
    /// `false`: an https target's TLS sessions were never resumed (`tls_resume = false`).
    /// Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_resume: Option<bool>,
    /// `"2"`: the load was sent over HTTP/2, requests multiplexed on each connection.
    /// Absent: HTTP/1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Totals {
    pub requests: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    pub retries: u64,
    pub gave_up: u64,
    pub late: u64,
    /// Held back by `--max-in-flight` (each also counted late).
    pub held_back: u64,
    /// Logical requests that never ended: in flight or backing off when the run stopped
    /// waiting (the grace period after a stop, or after the schedule's end).
    pub abandoned: u64,
    /// Requests sent again on a fresh connection because the reused one they went out on
    /// closed before any byte of the answer came (the server had closed it without saying
    /// so): not attempts, as the server never saw the first send. Only idempotent methods
    /// and requests with an idempotency key are sent again.
    #[serde(default)]
    pub stale_connection_resends: u64,
    /// HTTP/2: connections the server ended with GOAWAY (a limit of requests per
    /// connection, a restart). Requests it had not processed were sent again on another
    /// connection, each counted in `stale_connection_resends`. Absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub goaways: u64,
    /// Logical requests not sent because a `pick = "unique"` data source had no row left
    /// for them (each row is read at most once across the run and every shard): the stage
    /// ended early. Absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub data_exhausted: u64,
    /// Body bytes of the answers received, as framed (HTTP/1.1: a `Content-Length` body,
    /// chunk data without its chunk lines, or what came until the server closed; HTTP/2:
    /// DATA payload). Heads and TLS are not counted. Absent in files written before it was
    /// added.
    #[serde(default)]
    pub bytes_received: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RetrySummary {
    /// Logical requests that succeeded on their first attempt / logical requests.
    pub first_try_success_rate: f64,
    /// Attempts a request took → how many requests took that many ("16" = 16 or more).
    pub attempts: BTreeMap<String, u64>,
    pub by_cause: BTreeMap<String, u64>,
    pub gave_up: u64,
    /// Of those, stopped by an empty retry budget.
    pub gave_up_budget: u64,
    /// Time spent backing off, all requests together.
    pub backoff_s: f64,
}

/// The attempt classes, written once: each line is a class's key in `attempts` (with its
/// docs and serde attributes), its [`AttemptClass`] variant, its place in the words of
/// [`Attempts::classes`], and its name in words. Adding a class is a line here, where the
/// CLI's classify produces it, and its line in docs/results.md (a test holds the schema
/// and the docs to this list).
macro_rules! attempt_classes {
    ($( $(#[$meta:meta])* $key:ident => $variant:ident, $rank:literal, $words:literal; )*) => {
        /// Every attempt sent, in exactly one class: the classes add up to `sent`.
        #[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
        pub struct Attempts {
            pub sent: u64,
            $( $(#[$meta])* pub $key: u64, )*
        }

        /// The class an attempt ended in: one per attempt (`attempts` in the results).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum AttemptClass {
            $( $variant, )*
        }

        impl AttemptClass {
            /// Every class, in the order the results file writes them.
            pub const ALL: &'static [AttemptClass] = &[$( AttemptClass::$variant, )*];

            /// Its key in `attempts` (and in docs/results.md).
            pub fn key(self) -> &'static str {
                match self {
                    $( AttemptClass::$variant => stringify!($key), )*
                }
            }

            /// Its name in words.
            pub fn words(self) -> &'static str {
                match self {
                    $( AttemptClass::$variant => $words, )*
                }
            }

            /// Where it comes in [`Attempts::classes`] (most telling first).
            fn rank(self) -> u8 {
                match self {
                    $( AttemptClass::$variant => $rank, )*
                }
            }
        }

        impl Attempts {
            /// The attempts that ended in `class`.
            pub fn get(&self, class: AttemptClass) -> u64 {
                match class {
                    $( AttemptClass::$variant => self.$key, )*
                }
            }

            pub fn get_mut(&mut self, class: AttemptClass) -> &mut u64 {
                match class {
                    $( AttemptClass::$variant => &mut self.$key, )*
                }
            }
        }
    };
}

attempt_classes! {
    /// 2xx (and a lambda target's 2xx without a function error).
    #[serde(default)]
    ok => Ok, 0, "ok";
    /// 3xx: not followed, and not a success.
    #[serde(default)]
    redirects => Redirects, 7, "redirects (3xx, not followed)";
    throttled => Throttled, 1, "throttled";
    /// 500s with API Gateway's own body: Lambda throttled behind API Gateway, most likely.
    suspected_lambda_throttles => SuspectedLambdaThrottles, 2, "suspected Lambda throttles";
    /// Function errors the Invoke API reports (`X-Amz-Function-Error`); HTTP targets have none.
    #[serde(default)]
    function_errors => FunctionErrors, 3, "function errors";
    /// An answer the classifier calls ok that failed its request's `expect` (a status, a
    /// JSON value, a body substring, a header), or lacked a value its `capture` takes.
    #[serde(default)]
    unexpected => Unexpected, 4, "unexpected answers (failed expect)";
    server_errors => ServerErrors, 5, "other 5xx";
    client_errors => ClientErrors, 6, "other 4xx";
    /// No answer within the attempt timeout, or API Gateway's integration timeout.
    timeouts => Timeouts, 8, "timeouts";
    /// The network: refused, reset, unreachable.
    connect_errors => ConnectErrors, 9, "connect errors";
    /// The TLS handshake failed (certificate, protocol).
    tls_errors => TlsErrors, 10, "TLS errors";
    /// Not valid HTTP: a malformed status line or header, a body cut short.
    #[serde(default)]
    protocol_errors => ProtocolErrors, 11, "protocol errors (malformed answers)";
    /// The client machine ran out of something (see `local_errors` at the top level).
    #[serde(default)]
    local_errors => LocalErrors, 12, "local errors";
    /// Still under way when the run stopped waiting.
    #[serde(default)]
    abandoned => Abandoned, 13, "abandoned";
}

impl Attempts {
    /// Every class with its count and its name in words; they add up to `sent`.
    pub fn classes(&self) -> Vec<(u64, &'static str)> {
        let mut classes = AttemptClass::ALL.to_vec();
        classes.sort_by_key(|c| c.rank());
        classes
            .into_iter()
            .map(|c| (self.get(c), c.words()))
            .collect()
    }

    /// Adds `other`'s counts (a shard's, a stage's).
    pub fn add(&mut self, other: &Attempts) {
        self.sent += other.sent;
        for &class in AttemptClass::ALL {
            *self.get_mut(class) += other.get(class);
        }
    }

    /// The classes seen, "N name" each, joined by `sep`.
    pub fn describe(&self, sep: &str) -> String {
        let seen: Vec<String> = self
            .classes()
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        seen.join(sep)
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ThrottleOnset {
    pub t_s: u64,
    /// Attempts sent in that second.
    pub rate: u64,
    pub in_flight: u64,
}

impl ThrottleOnset {
    /// The first second with a throttled attempt.
    pub fn first_in(timeline: &[TimelinePoint]) -> Option<ThrottleOnset> {
        timeline
            .iter()
            .find(|p| p.throttled > 0)
            .map(|p| ThrottleOnset {
                t_s: p.t_s,
                rate: p.sent,
                in_flight: p.in_flight_max,
            })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct StageResult {
    pub name: String,
    #[schemars(with = "String")]
    pub kind: StageKind,
    /// Logical requests sent (first attempts; retries are in `attempts`).
    #[serde(default)]
    pub released: u64,
    pub totals: Totals,
    pub attempts: Attempts,
    /// Throttled attempts by kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttles: BTreeMap<String, u64>,
    /// Answers by status code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status_codes: BTreeMap<String, u64>,
    /// Requests per second over the stage (a burst: first send → last answer).
    pub achieved_rps: f64,
    /// What the schedule planned (open and burst stages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_requests: Option<u64>,
    pub latency_ms: Percentiles,
    /// Latency of the stage's requests that ended ok alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_latency_ms: Option<Percentiles>,
    pub service_ms: Percentiles,
    /// Where the time went: each phase of the attempts (dns, connect, tls, ttfb, receive).
    /// Absent in files written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<timing::Timing>,
    pub peak_in_flight: u64,
    /// Burst stages: first send → last send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_spread_ms: Option<f64>,
    /// A Lambda target: this stage's cold starts, durations and function errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lambda: Option<lambda::LambdaSeen>,
    /// The stage's first scheduled send, seconds from the run's start (a pause: where it
    /// began by plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_s: Option<f64>,
    /// Per `[[requests]]` entry, by name: what each request did in this stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_request: Option<BTreeMap<String, RequestResult>>,
    /// Per `[[flows]]` entry, by name: what each flow did in this stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_flow: Option<BTreeMap<String, flows::FlowResult>>,
}

/// What one request of the mix did, in a stage or the whole run: a stage's figures, for
/// that request alone.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RequestResult {
    pub totals: Totals,
    pub attempts: Attempts,
    /// Throttled attempts by kind.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttles: BTreeMap<String, u64>,
    /// Answers by status code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status_codes: BTreeMap<String, u64>,
    pub latency_ms: Percentiles,
    /// Latency of its requests that ended ok alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_latency_ms: Option<Percentiles>,
    pub service_ms: Percentiles,
    /// Where the time went: each phase of the attempts (dns, connect, tls, ttfb, receive).
    /// Absent in files written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<timing::Timing>,
    /// Its requests per second over the stage's span (the run's, at the run level).
    pub achieved_rps: f64,
    /// What the schedule planned for it (open and burst stages: its share of the mix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_requests: Option<u64>,
    /// At the run level: each second in which it sent or ended something (absent in
    /// stages, and in files written before it was added).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<RequestSecond>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Histograms {
    /// "hdrhistogram-v2-deflate-base64".
    pub encoding: String,
    /// "us": microseconds.
    pub unit: String,
    pub overall: HistogramPair,
    pub stages: Vec<NamedHistograms>,
    /// Each second in which a logical request ended: merged runs add these, so a merged
    /// second's percentiles are exact. Absent in files written before they were added.
    #[serde(default)]
    pub seconds: Vec<SecondHistograms>,
    /// Per `[[requests]]` entry, by name: its histograms over the run and per stage, at 2
    /// significant digits, so merged runs give exact per-request percentiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_request: Option<BTreeMap<String, RequestHistograms>>,
    /// Per `[[flows]]` entry, by name: its end-to-end latency over the run and per stage,
    /// at 2 significant digits, so merged runs give exact per-flow percentiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_flow: Option<BTreeMap<String, flows::FlowHistograms>>,
}

/// One request's histograms.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct RequestHistograms {
    pub latency: String,
    pub service: String,
    /// The latencies of its requests that ended ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_latency: Option<String>,
    /// The phases' histograms (`timing`); absent in files written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<timing::TimingHistograms>,
    /// Per stage it was sent in, by stage name.
    #[serde(default)]
    pub stages: Vec<NamedHistograms>,
    /// Per second in which some of its requests ended (`timeline`'s seconds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seconds: Vec<RequestSecondHistogram>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct HistogramPair {
    pub latency: String,
    pub service: String,
    /// The latencies of the requests that ended ok (`ok_latency_ms`); absent in files
    /// written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_latency: Option<String>,
    /// The phases' histograms (`timing`); absent in files written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<timing::TimingHistograms>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct NamedHistograms {
    pub name: String,
    pub latency: String,
    pub service: String,
    /// The latencies of the requests that ended ok.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_latency: Option<String>,
    /// The phases' histograms (`timing`); absent in files written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<timing::TimingHistograms>,
}

impl Results {
    /// Seconds from `started_at` to the last completion: the first send (the earliest
    /// `started_s` of a stage that sends) plus `duration_s`, which counts from it. What a
    /// window over the run (CloudWatch's) must cover.
    pub fn end_s(&self) -> f64 {
        let first_send = self
            .stages
            .iter()
            .filter(|s| s.kind != StageKind::Pause)
            .filter_map(|s| s.started_s)
            .fold(f64::INFINITY, f64::min);
        let first_send = if first_send.is_finite() {
            first_send.max(0.0)
        } else {
            0.0
        };
        first_send + self.duration_s.max(0.0)
    }

    /// Burst stages as the quota check reads them: (name, requests released at once — with
    /// flows, one first step per flow —, the second released).
    pub fn bursts(&self) -> Vec<(String, u64, u64)> {
        self.stages
            .iter()
            .filter(|s| s.kind == StageKind::Burst)
            .filter_map(|s| {
                let started = s.started_s?;
                // With flows, what is released at once is each flow's first step.
                let flows = s.by_flow.as_ref().filter(|f| !f.is_empty());
                let released = match flows {
                    Some(f) => f.values().filter_map(|f| f.planned).sum(),
                    None => s.planned_requests?,
                };
                Some((s.name.clone(), released, started.max(0.0) as u64))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attempt_class_is_in_the_schema_and_the_docs() {
        let schema = serde_json::to_value(schema::results()).unwrap();
        let keys: Vec<String> = schema["definitions"]["Attempts"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let mut classes: Vec<String> = AttemptClass::ALL.iter().map(|c| c.key().into()).collect();
        classes.push("sent".into());
        classes.sort();
        assert_eq!(
            keys, classes,
            "the schema's attempts are the classes and `sent`"
        );
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results.md"),
        )
        .unwrap();
        let (_, from) = docs.split_once("| class | what it is |").unwrap();
        let table = from.split("\n\n").next().unwrap();
        for class in AttemptClass::ALL {
            assert!(
                table.contains(&format!("`{}`", class.key())),
                "docs/results.md's table of attempt classes has no `{}`",
                class.key()
            );
            assert!(
                docs.contains(&format!(" {} ", class.key()))
                    || docs.contains(&format!(" {}\n", class.key())),
                "docs/results.md's sum of the classes has no {}",
                class.key()
            );
        }
        let mut a = Attempts::default();
        for (n, &class) in AttemptClass::ALL.iter().enumerate() {
            *a.get_mut(class) = n as u64 + 1;
        }
        let sum: u64 = a.classes().iter().map(|(n, _)| n).sum();
        assert_eq!(sum, (1..=AttemptClass::ALL.len() as u64).sum::<u64>());
        assert_eq!(a.classes()[0].1, "ok");
    }

    #[test]
    fn stage_kinds_are_written_by_name() {
        for k in StageKind::ALL {
            assert_eq!(StageKind::from_name(k.name()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.name()));
        }
    }
}
