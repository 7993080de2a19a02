//! The results' `probe`: the steps of `stampede probe`'s search, the knee and what it is
//! set against (docs/probe.md).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a step of the search went against the SLO.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeVerdict {
    /// Met the SLO.
    #[default]
    Good,
    /// Broke it.
    Broken,
    /// Too close to call: tried once more.
    Noisy,
    /// Far past it: the search ends.
    Hard,
}

impl ProbeVerdict {
    pub fn name(self) -> &'static str {
        match self {
            ProbeVerdict::Good => "good",
            ProbeVerdict::Broken => "broken",
            ProbeVerdict::Noisy => "noisy",
            ProbeVerdict::Hard => "hard",
        }
    }
}

impl std::fmt::Display for ProbeVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// One step of the search, as the results file has it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ProbeStep {
    /// The load tried: req/s or workers.
    pub load: u64,
    /// The stage that held it (its settle period is the stage before).
    pub stage: String,
    /// "good", "broken", "noisy" (tried once more) or "hard" (far past the SLO).
    #[schemars(with = "String")]
    pub verdict: ProbeVerdict,
    /// The SLO bounds broken (or too close to call).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub broke: Vec<String>,
    /// What the held stage achieved: requests answered ok per second (throttled and failed
    /// ones left out), and peak in flight.
    pub achieved_rps: f64,
    pub peak_in_flight: u64,
    pub p99_ms: f64,
    pub throttle_rate: f64,
    pub failure_rate: f64,
}

/// The results' `probe` key.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ProbeResults {
    /// "rate" or "concurrency".
    pub by: String,
    /// The SLO each step was judged against, as written (`p99=800ms`, …).
    pub slo: Vec<String>,
    pub from: u64,
    /// `--max`, and the highest load the search allowed itself (below a limit read from
    /// the account unless `--past-limits`).
    pub max: u64,
    pub searched_up_to: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capped_by: Option<String>,
    pub precision: f64,
    pub steps: Vec<ProbeStep>,
    /// The highest load that met the SLO; `None`: not even `from` did.
    pub knee: Option<u64>,
    /// The lowest load that broke it.
    pub first_bad: Option<u64>,
    /// converged, reached_max, not_met_at_from, stopped_hard, budget, requests, aborted,
    /// interrupted.
    pub ended: String,
    /// The knee set against the quotas, in words; and the limit it is put on.
    pub finding: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<crate::quotas::LimitKey>,
    /// p99 at the knee, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_at_knee_ms: Option<f64>,
    pub seconds: f64,
}
