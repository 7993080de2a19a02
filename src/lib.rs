//! stampede: load-test serverless HTTP endpoints and probe their concurrency quotas.
//!
//! The pipeline: scenario → schedule → engine → outcomes → recorder →
//! results → verdict → reports. Each module below is one box of it.

pub mod adaptive;
pub mod aws;
pub mod classify;
pub mod cli;
pub mod cloudwatch;
pub mod cmd;
pub mod engine;
pub mod error;
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
pub mod transport;
pub mod verdict;

/// The emulator crate under its old path: `Results.emulator` still holds its `Stats` until
/// the results crate has a file-side type of its own (the CLI then converts).
pub use stampede_emulator as emulator;
/// The old name of the `stampede-lambda` crate, kept for `results/lambda.rs` until the
/// results crate replaces it. New code names `stampede_lambda`.
#[doc(hidden)]
pub use stampede_lambda as invoke;
