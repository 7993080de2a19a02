//! stampede: load-test serverless HTTP endpoints and probe their concurrency quotas.
//!
//! The flow: scenario → schedule → engine → transport → classify → record → results →
//! pipeline (written, judged by `verdict::judge`, the exit code) → report. ARCHITECTURE.md
//! is the map: the crates, these modules' layers (tests/it/architecture.rs holds them) and
//! where each kind of change goes.

// Unix only: signals (Ctrl-C, SIGPIPE), file descriptors and their limit (rlimit), Unix
// file types. Linux adds the precise pacer (timerfd); README's Platforms says what builds.
#[cfg(not(unix))]
compile_error!(
    "stampede builds on Linux, macOS and the BSDs, not on this system (see README, Platforms)"
);

pub mod aws;
pub mod cli;
pub mod cloudwatch;
pub mod cmd;
pub mod error;
pub mod live;
pub mod located;
pub mod pipeline;
pub mod probe;
pub mod quotas;
pub mod report;
pub mod results;
pub mod store;
pub mod tune;
pub mod verdict;

// The scenario crate: the scenario's model and parsing, the retry policy and the outcome
// classes, by the names the rest of the crate has always used.
pub use stampede_scenario as scenario;
pub use stampede_scenario::{classify, retry};
// The load path's crate, likewise.
pub use stampede_load::{adaptive, engine, record, schedule, signals, transport};
