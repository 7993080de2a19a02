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
}
