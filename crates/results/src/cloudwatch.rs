//! The results' `cloudwatch`: what AWS counted beside what the client saw, per period
//! (docs/cloudwatch.md). Read by the CLI's `cloudwatch` module.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// REST APIs publish under `ApiName`, HTTP APIs under `ApiId`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    Rest,
    Http,
}

/// The API stage whose metrics are read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiRef {
    pub kind: ApiKind,
    pub id: String,
    /// A REST API's name (its metrics' `ApiName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub stage: String,
}

/// `cloudwatch` in the results: the side-by-side and what it says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudWatch {
    /// "read": every minute in; "incomplete": some minutes had no datapoints yet when the
    /// wait ended; "no_data": none at all; "denied": GetMetricData was refused;
    /// "unavailable": no region, credentials or endpoint.
    pub status: String,
    /// What went wrong, or what to check, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The length of a "minute": CloudWatch's period, 60 s against AWS.
    pub period_s: u64,
    /// The window read: the run's start and end rounded out to whole periods (RFC 3339).
    pub start: String,
    pub end: String,
    /// What was read: the function (and qualifier) and the API stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiRef>,
    /// How long stampede waited for the last minutes' datapoints.
    pub waited_s: f64,
    /// Minutes in which stampede sent requests that had no datapoints when it stopped
    /// waiting (RFC 3339 starts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
    pub minutes: Vec<Minute>,
    /// The whole window: the client's totals, and CloudWatch's over one period as long as
    /// the window (so its percentiles are of the whole, not of the minutes).
    pub total: Minute,
    /// Metrics that could not be asked for, and why (no function named, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_read: Vec<String>,
    /// What the server's numbers say about the client's guesses.
    #[serde(default)]
    pub findings: Vec<ServerFinding>,
    /// With the quota check per route: each function its routes reach, over the window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_function: Vec<FunctionCounted>,
    /// With the quota check per route: each route's own API metrics (published only with
    /// the stage's detailed metrics on) beside what the client saw on it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_route: Vec<RouteCounted>,
}

/// One function of the API's routes: what Lambda counted over the whole window, beside
/// what the client saw on the routes that reach it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionCounted {
    /// `name`, or `name:qualifier` when its routes invoke an alias or version (read with
    /// `Resource`).
    pub function: String,
    /// The routes that reach it (`POST /orders`).
    pub routes: Vec<String>,
    /// The client's attempts on those routes, and those throttled (429s and suspected
    /// Lambda throttles).
    pub client_sent: u64,
    pub client_throttled: u64,
    /// `Invocations`, `Throttles` (Sum) and `ConcurrentExecutions` (Maximum); absent: no
    /// datapoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocations: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttles: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_max: Option<f64>,
}

/// One route: what API Gateway counted on its method over the whole window, beside what
/// the client saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RouteCounted {
    /// `METHOD /path` as the API defines it.
    pub route: String,
    /// Its function (`name:qualifier`), for a Lambda integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    pub client_sent: u64,
    pub client_throttled: u64,
    /// `Count`, `4XXError`/`4xx`, `5XXError`/`5xx` (Sum) by `Resource` and `Method`;
    /// absent: no datapoint (the stage's detailed metrics off, or nothing counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors_4xx: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors_5xx: Option<f64>,
}

/// One period, both sides.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Minute {
    /// Its start (RFC 3339, UTC).
    pub start: String,
    pub client: ClientMinute,
    pub server: ServerMinute,
}

/// What stampede saw in a period (a second belongs to the period its middle falls in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClientMinute {
    /// Attempts sent: what reached, or tried to reach, API Gateway or Lambda.
    pub sent: u64,
    pub ok: u64,
    /// Throttled by API Gateway (its buckets, usage plans).
    pub throttled_gateway: u64,
    /// Throttled by Lambda itself, with a `Reason` (function URLs, the Invoke API).
    pub throttled_lambda: u64,
    /// Other 429s.
    pub throttled_other: u64,
    /// 500s with API Gateway's body: Lambda throttles, suspected.
    pub suspected_lambda: u64,
    /// Attempts that ended in an error (other than a throttle).
    pub errors: u64,
    pub peak_in_flight: u64,
    /// Latency of the requests that ended in the period, from their scheduled send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
}

/// What CloudWatch counted in a period; absent: no datapoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerMinute {
    /// API Gateway (the stage): `Count`, `4XXError`/`4xx`, `5XXError`/`5xx` (Sum),
    /// `Latency` and `IntegrationLatency` (p99).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_count: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_4xx: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_5xx: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_latency_p99_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_integration_latency_p99_ms: Option<f64>,
    /// The function (its alias or version when known): `Invocations`, `Throttles`,
    /// `Errors` (Sum), `ConcurrentExecutions` (Maximum), `Duration` (p50, p99, Maximum),
    /// `ProvisionedConcurrencySpilloverInvocations` (Sum) and
    /// `ProvisionedConcurrencyUtilization` (Maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocations: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttles: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_p99_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_max_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_spillover: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_utilization: Option<f64>,
    /// The account (region): `Throttles` (Sum, every function), `ConcurrentExecutions`,
    /// `UnreservedConcurrentExecutions`, `ClaimedAccountConcurrency` (Maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_throttles: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_concurrent_max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_unreserved_max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_claimed_max: Option<f64>,
}

impl ServerMinute {
    pub fn is_empty(&self) -> bool {
        *self == ServerMinute::default()
    }
}

/// One thing the server's numbers say: "confirmed", "not_confirmed", "limit_checked",
/// "limit_not_reached", "other_traffic", "time_split", "lost"; per function of the
/// routes: "route_confirmed", "route_not_confirmed", "route_other_traffic".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServerFinding {
    pub kind: String,
    pub message: String,
}
