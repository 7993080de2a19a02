//! `stampede probe`: find the limit by experiment, and say whether it is a quota.
//! `search` is the pure knee search (issue 15; the command is being built on it).

pub mod knee;
pub mod search;
