//! What a Lambda target's invocations cost, as the results hold it. The price model is
//! Lambda's own (`stampede-lambda`): requests × the request price, plus the billed
//! GB-seconds × the compute price of the function's architecture.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use stampede_lambda::{gb_seconds, Architecture, Cost, Prices, ARCHITECTURES};

/// The estimate, and what each number rests on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CostEstimate {
    pub cost: Cost,
    /// Invocations planned; closed stages count workers × duration ÷ latency.
    pub invocations: u64,
    pub expected_duration_ms: f64,
    pub duration_basis: String,
    pub memory_mb: u64,
    pub memory_basis: String,
    pub architecture_basis: String,
    /// The largest burst's cold starts, given the function's provisioned concurrency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_starts: Option<ColdStartEstimate>,
}

/// What a burst's cold starts will be, before traffic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ColdStartEstimate {
    /// The largest burst planned: requests released at one instant.
    pub burst: u64,
    /// The provisioned concurrency the function has (0: none set, or not read).
    pub provisioned: u64,
    /// Where `provisioned` came from.
    pub provisioned_basis: String,
    /// The burst's cold starts at most: its requests past the provisioned environments
    /// (environments still warm from earlier traffic take some of them).
    pub at_most: u64,
    /// Each one's init, ms, when known (the emulator's `cold_start`), and what they all add
    /// at the compute price (Lambda bills the init phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_cost_usd: Option<f64>,
}
