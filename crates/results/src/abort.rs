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

/// The `rule` of a run stopped from the live page's abort button (`--live-control`).
pub const LIVE_CONTROL: &str = "live_control";

impl AbortTrip {
    /// A stop asked for on the live page at `t_s`, after `attempts` answered attempts.
    pub fn live_control(t_s: u64, attempts: u64) -> AbortTrip {
        AbortTrip {
            rule: LIVE_CONTROL.to_string(),
            limit: 0.0,
            observed: 0.0,
            t_s,
            window_s: 0,
            attempts,
            by_shard: None,
            request: None,
        }
    }

    /// What stopped the run, in a few words (a test case's name).
    pub fn title(&self) -> String {
        if self.rule == LIVE_CONTROL {
            return "aborted from the live page".to_string();
        }
        format!("abort rule: {} ≤ {:.1}%", self.rule, self.limit * 100.0)
    }

    pub fn describe(&self) -> String {
        if self.rule == LIVE_CONTROL {
            let whose = match self.by_shard {
                Some(k) => format!(" (on shard {k}; every shard stopped with it)"),
                None => String::new(),
            };
            return format!(
                "aborted at {} s{whose} from the live page's abort button (--live-control), after {} attempts",
                self.t_s, self.attempts
            );
        }
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
