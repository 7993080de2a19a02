//! The results' sample of failed attempts.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A failed attempt, kept so a user can find it in their own logs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FailureSample {
    pub correlation_id: Option<String>,
    /// Seconds from the run's start.
    pub t_s: f64,
    pub stage: String,
    pub attempt: u32,
    pub status: Option<u16>,
    pub kind: String,
    pub body_excerpt: Option<String>,
    /// The `[[requests]]` entry that failed, by name (absent without `[[requests]]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

/// Failure samples in the results. Every kind of failure seen (a class, a throttle kind, a
/// local reason) is among them while there are no more kinds than this ([`pick_samples`]);
/// a lane keeps up to this many of each kind to pick from.
pub const FAILURE_SAMPLES: usize = 20;

/// Up to `cap` of `samples`, earliest first, every kind among them before a second of any
/// kind: the first of each kind (earliest kinds first), then the second of each, and so on.
/// Twenty identical 429s must not hide the 500s that came after them.
pub fn pick_samples(mut samples: Vec<FailureSample>, cap: usize) -> Vec<FailureSample> {
    samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    // Each sample's rank within its kind (0 for the earliest of its kind).
    let mut seen: Vec<(&str, usize)> = Vec::new();
    let ranks: Vec<usize> = samples
        .iter()
        .map(|f| match seen.iter_mut().find(|(k, _)| *k == f.kind) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                seen.push((&f.kind, 1));
                0
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..samples.len()).collect();
    // By rank, then by time (the sort above): stable.
    order.sort_by_key(|&i| ranks[i]);
    let mut keep = vec![false; samples.len()];
    for &i in order.iter().take(cap) {
        keep[i] = true;
    }
    let mut keep = keep.into_iter();
    samples.retain(|_| keep.next() == Some(true));
    samples
}
