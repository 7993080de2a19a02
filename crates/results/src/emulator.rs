//! The results' `emulator`: what the built-in emulator did during the run, as its stats
//! endpoint reports it (the emulator's own counters convert into this).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the emulator serves its counters.
pub const STATS_PATH: &str = "/__stampede/stats";

/// What the emulator did, served at [`STATS_PATH`].
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Stats {
    pub requests: u64,
    pub ok: u64,
    pub throttled_api_gateway_account: u64,
    pub throttled_api_gateway_stage: u64,
    pub throttled_lambda_reserved: u64,
    pub throttled_lambda_account: u64,
    pub throttled_lambda_scaling: u64,
    pub integration_timeouts: u64,
    pub cold_starts: u64,
    pub environments_created: u64,
    pub environments_expired: u64,
    pub warm_environments: u64,
    pub peak_concurrency: u64,
    pub in_flight: u64,
    /// Invocations that ended in a function error (`error_rate`), whichever way they came.
    #[serde(default)]
    pub function_errors: u64,
    /// Lambda Invoke API requests (`POST /2015-03-31/functions/…/invocations`).
    #[serde(default)]
    pub invocations_direct: u64,
    /// The shortest and longest cold start taken, in ms (0 when none was).
    #[serde(default)]
    pub init_ms_min: f64,
    #[serde(default)]
    pub init_ms_max: f64,
    /// An API with routes: what each route and each function did (the totals above count
    /// them all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteStats>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionStats>,
    /// Refused by a route's own (method / route) throttle.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttled_api_gateway_route: u64,
    /// Requests no route selected (REST 403, HTTP API 404).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unmatched: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What one route of the emulated API did.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RouteStats {
    /// `METHOD /path`, as configured.
    pub route: String,
    pub function: String,
    pub requests: u64,
    pub ok: u64,
    /// Refused by the route's own throttle.
    pub throttled_route: u64,
    /// Refused by the account's or the stage's throttle.
    pub throttled_api_gateway: u64,
    /// Its function's invocations Lambda refused (any reason).
    pub throttled_lambda: u64,
    pub function_errors: u64,
    pub integration_timeouts: u64,
}

/// What one emulated function did.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FunctionStats {
    pub name: String,
    pub invocations: u64,
    pub cold_starts: u64,
    pub peak_concurrency: u64,
    pub in_flight: u64,
    pub throttled_reserved: u64,
    pub throttled_account: u64,
    pub throttled_scaling: u64,
    pub function_errors: u64,
}
