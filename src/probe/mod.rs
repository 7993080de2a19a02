//! `stampede probe`: find the limit by experiment, and say whether it is a quota. `search`
//! is the knee search, `knee` sets the knee against the quotas; both pure. `drive` runs
//! each step through the engine and feeds the search.

pub mod drive;
pub mod knee;
pub mod search;

pub use stampede_results::probe::{ProbeResults, ProbeStep, ProbeVerdict};
