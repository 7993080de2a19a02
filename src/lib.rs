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

pub mod adaptive;
pub mod aws;
pub mod classify;
pub mod cli;
pub mod cloudwatch;
pub mod cmd;
pub mod engine;
pub mod error;
pub mod live;
pub mod located;
pub mod pipeline;
pub mod probe;
pub mod quotas;
pub mod record;
pub mod report;
pub mod results;
pub mod retry;
pub mod scenario;
pub mod schedule;
pub mod signals;
pub mod store;
pub mod transport;
pub mod tune;
pub mod verdict;
