//! The results' `thresholds`: each threshold of the scenario, checked.

use schemars::JsonSchema;
use serde::Serialize;

/// A threshold checked against what was observed; the `thresholds` entries of the results.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, JsonSchema)]
pub struct ThresholdResult {
    pub name: String,
    /// The stage the threshold applies to; absent for the whole run.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stage: Option<String>,
    /// The `[[requests]]` entry the threshold applies to (`[thresholds.requests."NAME"]`),
    /// judged on its `by_request` figures; absent for the whole mix.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request: Option<String>,
    /// The `[[flows]]` entry the threshold applies to (`[thresholds.flows."NAME"]`),
    /// judged on its `by_flow` figures.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flow: Option<String>,
    pub limit: String,
    /// Milliseconds for latency, a fraction (0..1) for rates, bytes/s for `min_throughput`
    /// (0 when not judged).
    pub observed: f64,
    pub pass: bool,
    /// Nothing to judge: `min_throughput` with no streamed answer. It passes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_judged: bool,
}
