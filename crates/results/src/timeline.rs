//! The results' timeline: one point per second, and each second's histograms.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::histogram::SecondLatency;

/// One second of the run, as the results file has it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TimelinePoint {
    pub t_s: u64,
    pub sent: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    pub in_flight_max: u64,
    /// Logical requests that ended in this second, those that failed (an error other than a
    /// throttle), and those that ended throttled.
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub throttled_requests: u64,
    /// 500s that look like a Lambda throttle behind API Gateway.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suspected_lambda_throttles: u64,
    /// Lambda target: answers whose REPORT line shows a cold start (init or restore).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cold_starts: u64,
    /// Throttled attempts by kind, when there were any.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttles: BTreeMap<String, u64>,
    /// Latency of the logical requests that ended in this second, whatever their outcome.
    pub p50_ms: f64,
    pub p99_ms: f64,
    #[serde(default)]
    pub p90_ms: f64,
    #[serde(default)]
    pub max_ms: f64,
    /// The same for the requests that ended ok, and for those that ended throttled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok_ms: Option<SecondLatency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled_ms: Option<SecondLatency>,
    /// Requests the schedule planned to send in this second (open and burst stages; absent
    /// in closed-model stages, which plan none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<u64>,
    /// Adaptive retry mode: the rate the client-side limiter allowed, req/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_rate_limit: Option<f64>,
    /// The phases of the attempts that ended in this second: each one's count and total
    /// (docs/connections.md); absent when none had one, and in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_ms: Option<crate::timing::SecondTiming>,
    /// Body bytes of the answers that ended in this second (as `totals.bytes_received`);
    /// absent when none, and in older files.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub bytes_received: u64,
}

/// One second's latency histograms, encoded as the results file writes them: merging runs
/// adds these, so a merged second's p99 is exact.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SecondHistograms {
    pub t_s: u64,
    /// Every logical request that ended in the second.
    pub latency: String,
    /// Those that ended ok; absent when none did.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ok: String,
    /// Those that ended throttled; absent when none did.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub throttled: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One second of one request of a `[[requests]]` mix: its part of that second's timeline
/// point (`by_request.NAME.timeline`, the run level only).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RequestSecond {
    pub t_s: u64,
    /// Its attempts sent in the second, and its attempts that ended in it, by outcome.
    pub sent: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    /// Its attempts in flight at their most in the second (summed over merged shards).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub in_flight_max: u64,
    /// Its 500s with API Gateway's body: Lambda throttles behind a REST API, suspected.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub suspected_lambda_throttles: u64,
    /// Its throttled attempts by kind (`apigw_rate`, `lambda_reserved`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub throttles: BTreeMap<String, u64>,
    /// Its logical requests that ended in the second, and their latency (2 significant
    /// digits, as its other histograms).
    pub requests: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// One request's latency histogram of one second in which some of its requests ended
/// (`histograms.by_request.NAME.seconds`): merging runs adds these, so a merged second's
/// percentiles of the request are exact.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RequestSecondHistogram {
    pub t_s: u64,
    pub latency: String,
}
