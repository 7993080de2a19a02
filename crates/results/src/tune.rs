//! The results' `tune` key (`stampede tune`, docs/tune.md): a function's memory sizes
//! measured under the scenario's load, the pick of each strategy, and the journal of what
//! the tune changed, so `stampede tune --restore` can put the function back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The results' `tune` key.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Tune {
    /// The function as found before the tune changed it, and what it changed since: the
    /// journal a restore reads. Written before the first change.
    pub original: TuneOriginal,
    /// The strategy asked for (`cost`, `speed` or `balanced`) and, for `balanced`, the
    /// weight of speed against cost (0 = all cost, 1 = all speed).
    pub strategy: Strategy,
    pub balance: f64,
    /// One entry per memory size measured, in the order measured.
    pub memories: Vec<TuneMemory>,
    /// Each strategy's pick, once at least one size was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picks: Option<TunePicks>,
    /// Whether the function was put back as found, and what could not be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<TuneRestore>,
    /// What `--apply` changed after the restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<TuneApplied>,
}

/// How a size is picked.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The cheapest per invocation (init included).
    Cost,
    /// The fastest (duration p99), the smallest such size when several are within noise.
    Speed,
    /// Cost and speed, each scaled to the sizes measured, weighted by `balance`.
    #[default]
    Balanced,
}

impl Strategy {
    pub fn key(self) -> &'static str {
        match self {
            Strategy::Cost => "cost",
            Strategy::Speed => "speed",
            Strategy::Balanced => "balanced",
        }
    }

    pub fn parse(text: &str) -> Option<Strategy> {
        match text {
            "cost" => Some(Strategy::Cost),
            "speed" => Some(Strategy::Speed),
            "balanced" => Some(Strategy::Balanced),
            _ => None,
        }
    }
}

/// The function as the tune found it, and the changes made since (the journal).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TuneOriginal {
    /// The function's name or ARN, as given.
    pub function: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `$LATEST`'s memory, MB, before any change.
    pub memory: u64,
    /// `$LATEST`'s `RevisionId` before any change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// Versions this tune published, in order: deleted at the end unless kept.
    #[serde(default)]
    pub published: Vec<String>,
    /// The alias `--apply --alias` moves, and the version it pointed at before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<TuneAlias>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TuneAlias {
    pub name: String,
    /// The version it pointed at; `None`: it did not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Four points of a distribution, ms.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Spread {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// One memory size, measured under the load.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TuneMemory {
    /// MB.
    pub memory: u64,
    /// The version published at this size and run against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Invocations that ran (REPORT lines read).
    pub invocations: u64,
    /// The function's `Duration` and, of its cold starts, `Init Duration`, ms.
    pub duration_ms: Spread,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_ms: Option<Spread>,
    pub cold_starts: u64,
    /// Billed cost per million invocations at this size, USD: with the init billed (as
    /// Lambda bills it since August 2025) and without it.
    pub cost_per_million: f64,
    pub cost_per_million_without_init: f64,
    /// End-to-end latency of the requests, ms (as the results' `latency_ms`).
    pub latency_ms: Spread,
    /// Throttled attempts, and requests that ended in another error.
    pub throttles: u64,
    pub errors: u64,
}

/// The size each strategy picks, MB, and why, in words.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TunePicks {
    pub cost: u64,
    pub speed: u64,
    pub balanced: u64,
    /// Per strategy key: why that size, in a sentence.
    #[serde(default)]
    pub why: std::collections::BTreeMap<String, String>,
}

impl TunePicks {
    /// The pick of `strategy`.
    pub fn of(&self, strategy: Strategy) -> u64 {
        match strategy {
            Strategy::Cost => self.cost,
            Strategy::Speed => self.speed,
            Strategy::Balanced => self.balanced,
        }
    }
}

/// What the end of a tune put back.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TuneRestore {
    /// `$LATEST` has its original memory again.
    pub memory_restored: bool,
    /// Versions deleted, and those kept (`--keep-versions`, or a delete that failed).
    #[serde(default)]
    pub deleted: Vec<String>,
    #[serde(default)]
    pub kept: Vec<String>,
    /// What failed, in words (empty when all went back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// What `--apply` changed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TuneApplied {
    /// MB.
    pub memory: u64,
    /// The alias moved, and the version it now points at; `None`: the memory was set on
    /// `$LATEST` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<TuneAlias>,
}
