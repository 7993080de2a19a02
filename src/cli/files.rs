//! The arguments of the commands that read and write files: `report`, `merge`, `compare`,
//! `schema`, `man` and `completions`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::aws::ApiFlags;
use super::values::duration;

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// The results file (`run --out`); several are merged first, as `stampede merge` does.
    #[arg(required = true, value_name = "RESULTS.json")]
    pub results: Vec<PathBuf>,

    #[command(flatten)]
    pub outputs: ReportOutputs,
}

/// The report files `run` and `report` write; `-` is stdout.
#[derive(Args, Debug, Clone, Default)]
pub struct ReportOutputs {
    /// Write a self-contained HTML report here (docs/html-report.md); `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write the report as GitHub-flavoured Markdown here; `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Write JUnit XML here (a testcase per threshold, the quota check, success); `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// The subcommand whose page to print (stampede-run(1) is `run`) [default: stampede(1)].
    #[arg(value_name = "SUBCOMMAND", conflicts_with = "dir")]
    pub subcommand: Option<String>,

    /// Write every page here, stampede.1 and stampede-SUBCOMMAND.1 (such as
    /// /usr/local/share/man/man1), and print their paths.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct SchemaArgs {
    /// Which file format.
    #[arg(value_enum)]
    pub format: SchemaFormat,
}

/// The file formats stampede reads and writes.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaFormat {
    /// A scenario file (`run`, `plan`).
    Scenario,
    /// An emulator settings file (`emulate --config`).
    Emulator,
    /// A quotas file (`--quotas`, `[aws] quotas_file`).
    Quotas,
    /// A results file (`run --out`).
    Results,
    /// A comparison (`compare --json`).
    Compare,
}

#[derive(Args, Debug, Clone)]
pub struct MergeArgs {
    /// Results files (`stampede run --out`) of one scenario, two or more; or one store the
    /// shards wrote `shard-I-of-N.json` files to: DIR/ (a trailing slash) or s3://bucket/prefix/.
    #[arg(value_name = "RESULTS", required = true)]
    pub files: Vec<PathBuf>,

    /// Where to write the merged results: a file, or DIR/ or s3://bucket/prefix/ (merged.json there).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Refuse unless exactly N files are given (a shard that never reported).
    #[arg(long, value_name = "N")]
    pub expect: Option<usize>,

    /// With a store (DIR/ or s3://bucket/prefix/): wait up to this long for every shard's file.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub wait: Option<Duration>,

    /// Print nothing but failures, in a few lines (no summary).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CompareArgs {
    /// The baseline: results of the last good run.
    #[arg(value_name = "BASE.json")]
    pub base: PathBuf,

    /// The run to judge against it.
    #[arg(value_name = "HEAD.json")]
    pub head: PathBuf,

    /// How far a metric may get worse: NAME=BOUND, comma-separated or repeated, over the
    /// defaults. Latency (p50 p90 p95 p99 p999 max mean): 10% or +20ms; shares (throttle_rate
    /// error_rate failure_rate retries): +0.5pp; rate (achieved req/s): -5%; NAME=off ungates.
    #[arg(long, value_name = "NAME=BOUND")]
    pub max_regress: Vec<String>,

    /// Latency changes no larger than this are within noise.
    #[arg(long, value_name = "DURATION", default_value = "1ms", value_parser = duration)]
    pub noise_floor: Duration,

    /// Compare runs of different targets or stage lists (stages matched by name).
    #[arg(long)]
    pub force: bool,

    /// Write the comparison as JSON here (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write the comparison as GitHub-flavoured Markdown here (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Print nothing but the verdict line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("from").required(true).args(["from_openapi", "from_har", "from_api"])))]
#[command(group(clap::ArgGroup::new("api_named").args(["rest_api_id", "http_api_id", "stage"]).multiple(true).requires("from_api")))]
pub struct InitArgs {
    /// An OpenAPI 3.x or Swagger 2.0 document, JSON or YAML (an API Gateway export with
    /// `x-amazon-apigateway-integration` names each operation's function).
    #[arg(long, value_name = "FILE")]
    pub from_openapi: Option<PathBuf>,

    /// A browser's recording (HAR, "Save all as HAR"): one request per route, weighted by
    /// how often it was recorded.
    #[arg(long, value_name = "FILE")]
    pub from_har: Option<PathBuf>,

    /// A deployed API Gateway API: its URL (https://ID.execute-api.REGION.amazonaws.com/STAGE,
    /// or a custom domain's with --rest-api-id or --http-api-id and --stage). Its routes,
    /// their functions and limits are read through API Gateway's and Lambda's control
    /// planes; nothing is sent to the URL.
    #[arg(long, value_name = "URL")]
    pub from_api: Option<String>,

    // The API of --from-api, as `quotas` names one.
    #[command(flatten)]
    pub api: ApiFlags,

    /// The target URL to write instead of the document's server, the recorded host or the
    /// --from-api URL.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Write the scenario here instead of stdout; an existing file needs --force.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Replace the --out file when it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
}
