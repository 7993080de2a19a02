//! `stampede tune`'s arguments: the function, the sizes, the strategy, the load (as `run`
//! takes it), and the flags that allow its changes.

use std::path::PathBuf;

use clap::Args;

use super::traffic::{LoadArgs, TrafficArgs};
use stampede_results::tune::Strategy;

#[derive(Args, Debug, Clone)]
pub struct TuneArgs {
    /// The function and the load: a scenario file (a lambda target, or with --function an
    /// HTTP one) or --lambda / --url with --rate, --concurrency or --burst.
    #[command(flatten)]
    pub load: LoadArgs,

    /// The function behind the load's URL (an API in front of it), when the load does not
    /// invoke it directly: tune changes it, and the load goes through the URL. The API
    /// must call $LATEST for each size to be what it measures.
    #[arg(long, value_name = "NAME|ARN", conflicts_with = "lambda")]
    pub function: Option<String>,

    /// The sizes to measure, MB: a list (128,256,512,1024,1769,3008) or a range (128..3008:
    /// its powers of two, and 1769 when inside).
    #[arg(long, value_name = "SIZES", value_parser = memory)]
    pub memory: Option<Sizes>,

    /// Which size to pick: the cheapest (cost), the fastest (speed) or both weighed
    /// (balanced).
    #[arg(long, value_name = "STRATEGY", value_parser = strategy, default_value = "balanced")]
    pub strategy: Strategy,

    /// With balanced: the weight of speed against cost, from 0 (all cost) to 1 (all speed).
    #[arg(long, value_name = "0..1", value_parser = balance, default_value = "0.5")]
    pub balance: f64,

    /// Required: tune changes the function (its memory on $LATEST, a version published per
    /// size) and puts it back at the end. Without it, tune says what it would change.
    #[arg(long)]
    pub allow_changes: bool,

    /// Keep the versions published per size (else deleted at the end).
    #[arg(long)]
    pub keep_versions: bool,

    /// After the restore, put the pick in place: move --alias to the picked version, or
    /// without --alias set the picked memory on $LATEST. Never without this flag.
    #[arg(long)]
    pub apply: bool,

    /// With --apply: the alias moved to the picked version (created when missing; implies
    /// --keep-versions for that version).
    #[arg(long, value_name = "NAME", requires = "apply")]
    pub alias: Option<String>,

    /// Put a function back from the journal of a tune that did not end (its results file):
    /// the original memory on $LATEST, the versions it published deleted. Nothing else runs.
    #[arg(long, value_name = "RESULTS.json", conflicts_with_all = ["allow_changes", "apply", "memory"])]
    pub restore: Option<PathBuf>,

    /// Send the Lambda control-plane calls here (a local AWS stand-in); else
    /// AWS_ENDPOINT_URL_LAMBDA or AWS_ENDPOINT_URL, as the SDKs read them.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// AWS region of the function [default: its ARN's, else AWS_REGION or the profile's].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Engine threads (default: one per core; at most 4 per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub traffic: TrafficArgs,

    /// The results file: the journal first (before the first change), then a stage per
    /// size and the `tune` key. Checked before any change.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "tune.json")]
    pub out: PathBuf,

    /// Only the exit code and errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `--memory`'s sizes, MB, ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sizes(pub Vec<u64>);

fn memory(text: &str) -> Result<Sizes, String> {
    crate::tune::sizes::parse(text)
        .map(Sizes)
        .map_err(|why| format!("{why}; expected {}", crate::tune::sizes::MEMORY_FORM))
}

fn strategy(text: &str) -> Result<Strategy, String> {
    Strategy::parse(text.trim()).ok_or_else(|| "expected cost, speed or balanced".into())
}

fn balance(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(b) if (0.0..=1.0).contains(&b) => Ok(b),
        _ => Err("expected a number from 0 (all cost) to 1 (all speed), such as 0.5".into()),
    }
}
