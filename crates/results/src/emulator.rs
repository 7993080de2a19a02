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
}
