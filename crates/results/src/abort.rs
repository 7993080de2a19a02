//! The results' `aborted`: the `[abort]` rule that stopped a run early, and what it saw.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The rule that stopped a run, and what it saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AbortTrip {
    pub rule: String,
    pub limit: f64,
    pub observed: f64,
    /// The end of the window, seconds from the run's start.
    pub t_s: u64,
    pub window_s: u64,
    pub attempts: u64,
    /// In a split test, the shard whose rule tripped, when it was another shard: this one
    /// stopped because that one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_shard: Option<u64>,
    /// The `[[requests]]` entry whose rule tripped (`[abort.requests."NAME"]`), judged on
    /// that request's own seconds; absent for a rule of the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

impl AbortTrip {
    pub fn describe(&self) -> String {
        let whose = match self.by_shard {
            Some(k) => format!(" (on shard {k}; every shard stopped with it)"),
            None => String::new(),
        };
        let of = match &self.request {
            Some(name) => format!("request {name:?}'s "),
            None => String::new(),
        };
        format!(
            "aborted at {} s{whose}: {of}{} {:.1}% over the last {} s ({} attempts) passed the abort bound of {:.1}%",
            self.t_s,
            self.rule,
            self.observed * 100.0,
            self.window_s,
            self.attempts,
            self.limit * 100.0
        )
    }
}
