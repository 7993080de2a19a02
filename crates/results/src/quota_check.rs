//! The results' `quota_check`: the limits read, the preflight before traffic, how much of
//! each limit the traffic used, where throttling began and what explains it, and the
//! findings. Judged by the CLI's `verdict`; here as the file has it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::quotas::{Front, LimitKey, Quotas};
use crate::StageKind;

/// Share of a limit from which a plan is "close" (reported, not failed).
pub const NEAR: f64 = 0.8;

/// What one stage asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StageForecast {
    pub name: String,
    #[schemars(with = "String")]
    pub kind: StageKind,
    /// Requests per second at the stage's busiest (closed stages: workers ÷ latency).
    pub peak_rate: Option<f64>,
    /// Requests released at one instant (burst stages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    pub expected_concurrency: f64,
    /// New execution environments needed in the stage's worst 10 s.
    pub new_environments_per_10s: f64,
}

/// One stage against one limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LimitCheck {
    pub stage: String,
    pub limit: LimitKey,
    /// What the stage asks of it: "concurrency", "rate", "burst", "new environments".
    pub measure: String,
    pub planned: f64,
    pub value: f64,
    /// value − planned: negative when over.
    pub headroom: f64,
    pub percent: f64,
    pub exceeded: bool,
    pub source: String,
    /// A route's own limit: its share of the stage (`POST /orders`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// A function's concurrency: every route that reaches it (`orders-create`, or "functions
    /// without reserved concurrency" for the account's unreserved pool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Preflight {
    pub expect_latency_ms: f64,
    /// Why that latency: "--expect-latency", "the emulator's handler time", "default".
    pub latency_basis: String,
    pub front: Front,
    pub stages: Vec<StageForecast>,
    /// Every check made, in stage order.
    pub checks: Vec<LimitCheck>,
    pub exceeded: bool,
    /// What the client machine may not hold (open files), said before any traffic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// A Lambda target: what the plan's invocations will cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::CostEstimate>,
}

impl Preflight {
    pub fn exceeded_checks(&self) -> impl Iterator<Item = &LimitCheck> {
        self.checks.iter().filter(|c| c.exceeded)
    }

    pub fn near_checks(&self) -> impl Iterator<Item = &LimitCheck> {
        self.checks
            .iter()
            .filter(|c| !c.exceeded && c.percent >= NEAR * 100.0)
    }
}

/// How much of one limit the traffic used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LimitUsage {
    pub limit: LimitKey,
    pub value: f64,
    /// "peak in flight", "peak rate", "burst", "new environments in 10 s".
    pub measure: String,
    pub observed: f64,
    pub percent: f64,
    pub source: String,
    /// How `observed` was had, when it is not the client's own count (new environments:
    /// counted cold starts, or modelled from requests in flight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

/// Where throttling began and what explains it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OnsetExplained {
    pub t_s: u64,
    /// Attempts sent in that second.
    pub rate: u64,
    pub in_flight: u64,
    /// Throttles by kind over the onset's first seconds (suspected Lambda throttles too).
    pub kinds: BTreeMap<String, u64>,
    /// The limit that best explains it; `None` when no known limit does.
    pub limit: Option<LimitKey>,
    /// True when the traffic was seen reaching that limit; false when only the answer's
    /// words name it (a Lambda `Reason`).
    #[serde(default)]
    pub reached: bool,
    pub explanation: String,
    pub evidence: Vec<String>,
    /// Other limits whose buckets ran out in the same second as `limit`'s: too close to
    /// tell apart from it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub too_close: Vec<LimitKey>,
}

/// 500s with API Gateway's body: Lambda throttles the client never sees as 429s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SuspectedLambdaThrottles {
    pub count: u64,
    pub first_t_s: u64,
    pub in_flight: u64,
    /// The concurrency limit they began at, when they began at one.
    pub at_limit: Option<LimitKey>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// "exceeded", "near", "onset", "suspected", "unread".
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitKey>,
    pub message: String,
}

/// `quota_check` in the results.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QuotaCheck {
    #[serde(flatten)]
    pub quotas: Quotas,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preflight: Option<Preflight>,
    pub usage: Vec<LimitUsage>,
    pub onset: Option<OnsetExplained>,
    pub suspected_lambda_throttles: Option<SuspectedLambdaThrottles>,
    pub findings: Vec<Finding>,
    pub next_steps: Vec<String>,
    /// False when the traffic went past a limit read from the account (or file, or
    /// emulator), or throttling began when the traffic reached one — on the whole run or
    /// on any route.
    pub pass: bool,
    /// With the API's routes known and a `[[requests]]` mix: each route the requests
    /// reached, checked against its own limits.
    /// (Not `routes`: the quotas' own `routes`, flattened in beside it, are the API's map.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_route: Vec<RouteCheck>,
}

/// One route's quota check: the requests that reached it, weighed against the route's
/// throttles and its function's concurrency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RouteCheck {
    /// `METHOD /path/{param}` as the API defines it.
    pub route: String,
    /// The `[[requests]]` names it selected.
    pub requests: Vec<String>,
    /// Its function (`name:qualifier`), for a Lambda integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Its attempts sent, and those throttled (429s and suspected Lambda throttles).
    pub sent: u64,
    pub throttled: u64,
    pub usage: Vec<LimitUsage>,
    pub onset: Option<OnsetExplained>,
    pub suspected_lambda_throttles: Option<SuspectedLambdaThrottles>,
    pub next_steps: Vec<String>,
    /// As the run's `pass`, for this route's limits.
    pub pass: bool,
}

impl RouteCheck {
    /// What happened on the route, in the words every report shows: where its throttling
    /// began and why, else its suspected Lambda throttles, else clean or how many throttled.
    pub fn outcome(&self) -> String {
        match (&self.onset, &self.suspected_lambda_throttles) {
            (Some(o), _) => o.explanation.clone(),
            (None, Some(s)) => s.message.clone(),
            (None, None) if self.throttled == 0 => "clean".into(),
            (None, None) => format!("{} throttled", self.throttled),
        }
    }
}
