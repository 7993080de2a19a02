//! The load path: a request goes schedule → engine (its lanes) → transport → classify →
//! record, and never back. This crate is built at opt-level 3 and everything else of the
//! binary for size (Cargo.toml says why); what it needs from the rest — the scenario, the
//! outcome classes, the results file's types, SigV4's credentials — is handed in.
//!
//! The CLI crate re-exports these modules under the same names (`stampede::engine`, …).

pub mod adaptive;
pub mod engine;
pub mod record;
pub mod schedule;
pub mod signals;
pub mod transport;

// The scenario crate and the located crate, by the names the modules use.
use stampede_located as located;
use stampede_located::error;
use stampede_scenario as scenario;
use stampede_scenario::{classify, retry};
