//! Command-line definitions (clap derive). Parsing only; the commands live in `cmd/`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand};

use crate::aws::AwsNames;
use crate::scenario::shard::{parse_start_at, SHARD_FORM};
use crate::scenario::{threshold_flag, AbortFlag, Metric, Shard, Threshold, METRIC_NAMES};

#[derive(Parser, Debug)]
#[command(
    name = "stampede",
    version = env!("STAMPEDE_VERSION"),
    about = "Load-test serverless HTTP endpoints and probe their concurrency quotas",
    after_help = "Examples:
  stampede run scenarios/demo.toml --out results.json     the demo, on the built-in emulator
  stampede run --url https://abc123.execute-api.us-east-1.amazonaws.com/prod/ --rate 200 --duration 30s
  stampede plan scenarios/burst.toml                      the preflight alone: sends nothing
  stampede quotas --function orders --region us-east-1    the limits a run can hit
  stampede report results.json --markdown report.md --junit junit.xml   reports for CI
  stampede compare last-good.json results.json          a run against a baseline, per stage

Exit codes: 0 pass · 1 a gate failed, sent well below plan or no request succeeded ·
2 bad input · 3 aborted · 4 stampede itself failed · 130 interrupted (docs/exit-codes.md).
Scenario format:
docs/scenario.md; results: docs/results.md; reports: docs/reports.md; merge and compare:
docs/merge-and-compare.md; one test across machines (--shard, --start-at):
docs/distributed.md; quotas: docs/quotas.md; emulator: docs/emulator.md."
)]
pub struct Cli {
    /// Log diagnostics to stderr (-v info, -vv debug); never secrets.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The command line, or clap's error and exit 2. An unknown subcommand one edit from a
    /// real one (`rn`) gets a "did you mean": clap's own likeness (Jaro) misses short names.
    pub fn parse_args() -> Cli {
        Cli::try_parse().unwrap_or_else(|mut e| {
            suggest_subcommand(&mut e);
            e.exit()
        })
    }
}

/// Adds the nearest subcommand by edits to an unknown-subcommand error clap left without one.
pub fn suggest_subcommand(e: &mut clap::Error) {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use clap::CommandFactory;
    if e.kind() != ErrorKind::InvalidSubcommand || e.get(ContextKind::SuggestedSubcommand).is_some()
    {
        return;
    }
    let Some(ContextValue::String(given)) = e.get(ContextKind::InvalidSubcommand) else {
        return;
    };
    let command = Cli::command();
    let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
    let near: Vec<String> = near_by_edits(given, &names)
        .into_iter()
        .map(str::to_string)
        .collect();
    if !near.is_empty() {
        e.insert(
            ContextKind::SuggestedSubcommand,
            ContextValue::Strings(near),
        );
    }
}

/// The `names` a typo of `given` could be: a letter missing, extra, changed or two
/// swapped (one such edit per three letters of the name).
pub fn near_by_edits<'n>(given: &str, names: &[&'n str]) -> Vec<&'n str> {
    names
        .iter()
        .copied()
        .filter(|name| strsim::osa_distance(given, name) <= (name.len() / 3).max(1))
        .collect()
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Drive a scenario file, or ad-hoc load from flags, at a target.
    Run(Box<RunArgs>),
    /// Check a scenario against the account's quotas before any traffic: sends nothing.
    Plan(Box<PlanArgs>),
    /// Find the limit by experiment: steps of rising load, judged against an SLO, up and
    /// bisected to the knee, then set against the quotas (docs/probe.md).
    Probe(Box<ProbeArgs>),
    /// Serve the local API Gateway + Lambda emulator until Ctrl-C.
    Emulate(EmulateArgs),
    /// Read the account's concurrency and throttle quotas, and where each came from.
    Quotas(QuotasArgs),
    /// Write a report of a results file: the summary, or Markdown, JUnit XML, HTML (docs/reports.md).
    #[command(after_help = "Examples:
  stampede report results.json                          the summary, as `run` printed it
  stampede report results.json --markdown report.md --junit junit.xml   reports for CI
  stampede report results.json --html -  > report.html

With GITHUB_STEP_SUMMARY set, the Markdown is appended to that file too.
Exit codes: 0 written · 2 bad input (a results file that cannot be read) · 4 a report not written.")]
    Report(ReportArgs),
    /// Print a shell completion script: `stampede completions bash > /etc/bash_completion.d/stampede`.
    Completions(CompletionsArgs),
    /// Merge results files of one scenario, run on several machines at once, into one: exact.
    #[command(after_help = "Examples:
  stampede merge a.json b.json c.json --out all.json
  stampede merge shard-*.json --out all.json --expect 8
  stampede merge /mnt/results/ --expect 8 --wait 10m --out all.json   shards of a split test

Histograms are added and percentiles recomputed; counts summed; seconds aligned on the
wall clock; thresholds and the quota check re-evaluated on the whole (docs/merge-and-compare.md).
Exit codes, the verdict of the merged file (the one `stampede report` shows): 0 pass · 1 a
threshold or the quota check failed on the whole, or no request succeeded · 2 bad input
(files of different scenarios or stages, --expect not met, a shard missing after --wait, one
run given twice, shards of tests started at different --start-at, --out naming an input) ·
3 an input was aborted · 4 an input had a fault of stampede, or the merged file could not be
written · 130 an input was interrupted.")]
    Merge(MergeArgs),
    /// Compare a run with a baseline, per stage: latency, rate, throttles, failures, retries.
    #[command(after_help = "Examples:
  stampede compare last-good.json results.json
  stampede compare base.json head.json --max-regress p99=5%,throttle_rate=+0.1pp --markdown cmp.md
  stampede compare base.json head.json --json - | jq '.regressions'

Each line: base, head, change, noise, limit, verdict (ok, within noise, regressed, not gated).
Gated by default: p50, p90, p99 +10%; throttle_rate, failure_rate +0.5pp; rate -5%.
Within noise: inside both runs' 95% intervals, or under --noise-floor (docs/merge-and-compare.md).
Exit codes: 0 no regression · 1 a regression · 2 bad input (unreadable file, bad bound, other
target or stages without --force) · 4 a report not written.")]
    Compare(CompareArgs),
    /// Read what AWS counted during a run (CloudWatch) and set it beside what stampede saw.
    #[command(
        name = "cloudwatch",
        after_help = "Examples:
  stampede cloudwatch results.json                   read again, and add it to results.json
  stampede cloudwatch merged.json --function orders --wait 5m
  stampede cloudwatch results.json --json | jq '.findings'

Reads GetMetricData over the run's minutes: the function's Invocations, Throttles, Errors,
ConcurrentExecutions, Duration; the account's concurrency; the API stage's Count, 4XX, 5XX,
Latency, IntegrationLatency. Needs cloudwatch:GetMetricData (and apigateway:GET for a REST
API's name). The names come from the flags, else the results file (docs/cloudwatch.md).
Exit codes: 0 read, or said why not · 2 bad input · 4 the results file not written."
    )]
    Cloudwatch(CloudWatchArgs),
    /// Print a manual page (roff): `stampede man | man -l -`, `stampede man run | man -l -`;
    /// or write them all, one per subcommand, with --dir.
    Man(ManArgs),
    /// Print a JSON Schema: of scenario files (for editors), emulator settings, quotas files, results or comparisons.
    #[command(after_help = "Examples:
  stampede schema scenario > scenario.schema.json
  stampede schema results | python3 -m json.tool

A scenario file names its schema for Taplo / Even Better TOML on its first line:
  #:schema ./scenario.schema.json")]
    Schema(SchemaArgs),
}

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
pub struct QuotasArgs {
    /// AWS region [default: the AWS config chain].
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// Lambda function (name or ARN): its reserved concurrency.
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,

    /// Alias or version of --function: its provisioned concurrency.
    #[arg(long, requires = "function", value_name = "ALIAS")]
    pub qualifier: Option<String>,

    /// REST API id: the throttle of --stage.
    #[arg(long, requires = "stage", value_name = "ID")]
    pub rest_api_id: Option<String>,

    /// Stage of --rest-api-id.
    #[arg(long, requires = "rest_api_id", value_name = "STAGE")]
    pub stage: Option<String>,

    /// Send every AWS call here (the emulator, a local AWS stand-in).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Read the numbers from this quotas file (docs/quotas.md) instead of AWS.
    #[arg(long, value_name = "FILE")]
    pub quotas: Option<PathBuf>,

    /// Print the quotas as JSON.
    #[arg(long)]
    pub json: bool,
}

impl QuotasArgs {
    /// The names the flags give (an empty --region is none).
    pub fn names(&self) -> AwsNames {
        AwsNames {
            region: self.region.clone().filter(|r| !r.is_empty()),
            function: self.function.clone(),
            qualifier: self.qualifier.clone(),
            api_id: self.rest_api_id.clone(),
            stage: self.stage.clone(),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct CloudWatchArgs {
    /// The results file of a run (or a merge).
    #[arg(value_name = "RESULTS.json")]
    pub results: PathBuf,

    /// AWS region [default: the results file's, else the AWS config chain].
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// Lambda function (name or ARN) [default: the results file's].
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,

    /// Alias or version of the function.
    #[arg(long, value_name = "ALIAS")]
    pub qualifier: Option<String>,

    /// API Gateway API id, REST or HTTP API [default: the results file's, or the URL's].
    #[arg(long, alias = "rest-api-id", value_name = "ID")]
    pub api_id: Option<String>,

    /// Stage of the API.
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<String>,

    /// Send the AWS calls here (the emulator, a local AWS stand-in).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// The length of a period: AWS's Lambda and API Gateway metrics are per minute
    /// [default: the results file's, else 1m].
    #[arg(long, value_name = "DURATION", value_parser = whole_seconds)]
    pub period: Option<u64>,

    /// How long to wait for minutes whose datapoints have not arrived (Ctrl-C or SIGTERM skips).
    #[arg(long, default_value = "3m", value_name = "DURATION", value_parser = duration)]
    pub wait: Duration,

    /// Write the results with `cloudwatch` here [default: back into RESULTS.json].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Print the `cloudwatch` section as JSON instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

impl CloudWatchArgs {
    /// The names the flags give; the results file's fill the rest.
    pub fn names(&self) -> AwsNames {
        AwsNames {
            region: self.region.clone(),
            function: self.function.clone(),
            qualifier: self.qualifier.clone(),
            api_id: self.api_id.clone(),
            stage: self.stage.clone(),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct EmulateArgs {
    /// Emulator settings (the keys of a scenario's [emulator] table); AWS defaults without it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
}

#[derive(Args, Debug, Clone)]
#[command(group(clap::ArgGroup::new("load").args(["rate", "concurrency", "burst"])))]
#[command(allow_negative_numbers = true)]
pub struct LoadArgs {
    /// Scenario file (TOML, see docs/scenario.md). Without it, give --url and a load flag.
    pub scenario: Option<PathBuf>,

    /// Target URL (overrides the scenario's target.url; with a lambda target, the endpoint).
    #[arg(long, env = "STAMPEDE_URL")]
    pub url: Option<String>,

    /// Invoke this Lambda function directly (a name, name:qualifier or ARN), through the
    /// Invoke API with SigV4, instead of a URL. The region comes from the ARN or AWS_REGION.
    #[arg(long, value_name = "FUNCTION[:QUALIFIER]", conflicts_with = "scenario")]
    pub lambda: Option<String>,

    /// Open model: requests per second, sent on schedule whatever the server does.
    #[arg(long, value_name = "N", value_parser = rate)]
    pub rate: Option<f64>,

    /// Closed model: N workers, each sending when its last request ended.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u64>,

    /// N requests released at one instant on connections opened beforehand.
    #[arg(long, value_name = "N")]
    pub burst: Option<u64>,

    /// How long --rate or --concurrency runs [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub duration: Option<Duration>,

    /// HTTP method [default: GET].
    #[arg(long, short = 'X')]
    pub method: Option<String>,

    /// Request header, "NAME: VALUE" (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Request body.
    #[arg(long)]
    pub body: Option<String>,

    /// A TOML file of `[[requests]]` entries: a weighted mix sent instead of one request
    /// (paths appended to --url; docs/scenario.md).
    #[arg(long, value_name = "FILE")]
    pub requests: Option<std::path::PathBuf>,

    /// Per attempt: past it without the whole answer, the attempt is a timeout, as
    /// `[target] timeout` (which it overrides) [default: 29s].
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub timeout: Option<Duration>,

    /// Opening a connection (TCP and TLS): past it, a connect error, as `[target]
    /// connect_timeout` (which it overrides) [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub connect_timeout: Option<Duration>,

    /// Run shard I of N of a test split across machines, I from 0 (docs/distributed.md).
    /// Without it: JOB_COMPLETION_INDEX with STAMPEDE_SHARDS (Kubernetes Indexed Job),
    /// AWS_BATCH_JOB_ARRAY_INDEX with AWS_BATCH_JOB_ARRAY_SIZE (AWS Batch), or STAMPEDE_SHARD=I/N.
    #[arg(long, value_name = "I/N", value_parser = shard)]
    pub shard: Option<Shard>,

    /// Quotas file (docs/quotas.md) instead of reading AWS: offline, or no permission to read.
    #[arg(long, env = "STAMPEDE_QUOTAS", value_name = "FILE")]
    pub quotas: Option<PathBuf>,

    /// Expected latency per request, for rate × latency = concurrency [default: the
    /// emulator's handler time, else 100ms].
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub expect_latency: Option<Duration>,

    /// Threshold, NAME=LIMIT (repeatable); a breach exits 1. Latency: p50 p90 p95 p99 p999
    /// max mean (p99=800ms), of ok requests alone: ok_p50 … ok_mean (ok_p99=300ms); rates:
    /// throttle_rate error_rate failure_rate (failure_rate=1%).
    #[arg(long = "threshold", value_name = "NAME=LIMIT", value_parser = threshold_flag)]
    pub thresholds: Vec<Threshold>,

    /// Abort rule, NAME=RATE: stop early (exit 3) when the last window's throttle_rate,
    /// error_rate or failure_rate passes it, such as throttle_rate=20%; window=5s (repeatable).
    #[arg(long = "abort", value_name = "NAME=RATE", value_parser = AbortFlag::parse)]
    pub abort: Vec<AbortFlag>,
}

/// What `probe` varies.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeBy {
    /// Requests per second (open model: sent on schedule whatever the target does).
    Rate,
    /// Workers, each sending when its last request ended (closed model).
    Concurrency,
}

#[derive(Args, Debug, Clone)]
pub struct ProbeArgs {
    /// The target: a scenario file (its stages are not used) or --url / --lambda.
    #[command(flatten)]
    pub load: LoadArgs,

    /// Vary the rate (req/s) or the concurrency (workers).
    #[arg(long, value_enum, default_value = "concurrency")]
    pub by: ProbeBy,

    /// The first step's load (default 10 req/s, or 1 worker).
    #[arg(long, value_name = "N")]
    pub from: Option<u64>,

    /// The highest load tried (default 10000 req/s, or 1000 workers).
    #[arg(long, value_name = "N")]
    pub max: Option<u64>,

    /// How long each step is held and judged.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = positive_duration)]
    pub step: Duration,

    /// Before each step, its load is run this long and not judged (connections, cold starts).
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = duration)]
    pub settle: Duration,

    /// The bounds a step must meet (default p99=800ms,throttle_rate=1%,failure_rate=0.5%).
    #[arg(long, value_name = "NAME=LIMIT,…", value_parser = slo)]
    pub slo: Option<Slo>,

    /// Bisection stops when the last good and first bad step are this close.
    #[arg(long, default_value = "5%", value_name = "PERCENT", value_parser = precision)]
    pub precision: Percent,

    /// The whole search's time: no step starts that would end past it.
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = positive_duration)]
    pub budget: Duration,

    /// No step starts that would take the requests sent past this.
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,

    /// Search past a limit read from the account (else the search stops a quarter past it).
    #[arg(long)]
    pub past_limits: bool,

    /// The most requests per second any step sends, retries included (default 1000 by
    /// concurrency, --max by rate): workers wait for it, and a rate search goes no higher.
    #[arg(long, value_name = "N")]
    pub max_rate: Option<u64>,

    /// Engine threads (default: one per core; at most 4 per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub traffic: TrafficArgs,

    /// Write the results here: a stage per step and the `probe` key. Checked before any
    /// traffic, as `run --out` (DIR/ writes DIR/results.json); when it cannot be written at
    /// the end, the results are written beside it and the path said (exit 4).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Only the exit code, errors and the step lines off.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub reports: ReportOutputs,
}

#[derive(Args, Debug, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub load: LoadArgs,

    /// Print the preflight as JSON.
    #[arg(long)]
    pub json: bool,

    /// Also check a split into N shards: can one machine like this one hold each share
    /// (rate, connections, open files)? Exit 1 when not, with the fewest shards that would.
    #[arg(long, value_name = "N")]
    pub shards: Option<u64>,
}

/// How the traffic is sent, for `run` and `probe` alike: the in-flight cap, the grace after
/// a stop, and TLS trust.
#[derive(Args, Debug, Clone)]
pub struct TrafficArgs {
    /// Safety cap on requests in flight, one for the whole run (all threads); requests it
    /// holds back are sent late and reported, or counted abandoned if the run's time runs
    /// out (schedule, one timeout, the grace period) before they could go.
    #[arg(
        long,
        env = "STAMPEDE_MAX_IN_FLIGHT",
        default_value_t = 20_000,
        value_name = "N"
    )]
    pub max_in_flight: u64,

    /// After a stop (Ctrl-C, SIGTERM, SIGHUP), how long in-flight requests may still finish.
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = duration)]
    pub grace: Duration,

    /// Also trust the CA certificates in this PEM file (private CAs, test servers).
    #[arg(long, env = "STAMPEDE_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Do not check TLS certificates (staging endpoints with self-signed ones), as curl -k;
    /// said in the output and recorded as `insecure: true` in the results.
    #[arg(long, short = 'k')]
    pub insecure: bool,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub load: LoadArgs,

    /// Runtime worker threads [default: all cores; at most 4 per core].
    #[arg(long, env = "STAMPEDE_THREADS", value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub traffic: TrafficArgs,

    /// Write the results JSON here (docs/results.md); checked before any traffic: a regular
    /// file or a new name (a symlink's target is written; a device, FIFO or socket is
    /// refused). DIR/ (a trailing slash): DIR/shard-I-of-N.json for a shard,
    /// DIR/results.json otherwise.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Start at this instant (RFC 3339 with its offset, or Unix seconds), as every shard of
    /// a split test does; a shard that comes late skips what was due before it began.
    #[arg(long, env = "STAMPEDE_START_AT", value_name = "TIME", value_parser = start_at)]
    pub start_at: Option<SystemTime>,

    /// No live view and no summary table: only what failed, in a few lines on stderr (failed
    /// thresholds as written, the quota check's onset, what was exceeded, the first next step).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// After the run, read what AWS counted (CloudWatch) beside what stampede saw
    /// [default: on when the target is on AWS or the built-in emulator; off for a shard].
    #[arg(long, overrides_with = "no_cloudwatch")]
    pub cloudwatch: bool,

    /// Do not read CloudWatch after the run.
    #[arg(long, overrides_with = "cloudwatch")]
    pub no_cloudwatch: bool,

    /// How long to wait for the last minutes' datapoints, which AWS publishes late
    /// (Ctrl-C or SIGTERM skips the wait and keeps the rest).
    #[arg(long, default_value = "3m", value_name = "DURATION", value_parser = duration)]
    pub cloudwatch_wait: Duration,

    /// The length of a CloudWatch period to read, whole seconds: AWS's Lambda and API
    /// Gateway metrics are per minute [default: 1m; with [emulator], its metrics_period].
    #[arg(long, value_name = "DURATION", value_parser = whole_seconds)]
    pub cloudwatch_period: Option<u64>,

    #[command(flatten)]
    pub reports: ReportOutputs,
}

// The typed values of flags: a bad one is clap's error (exit 2) naming the flag, the
// value and the form expected.

/// A duration ("30s", "250ms", "2m"; zero too), for clap.
fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|_| "expected a duration, such as 30s, 250ms or 2m".into())
}

/// A duration above zero ("30s", "250ms", "2m"), for clap.
fn positive_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err("expected a duration above zero, such as 30s, 250ms or 2m".into()),
    }
}

/// `--rate`: requests per second, a number above zero ("200", "0.5").
fn rate(text: &str) -> Result<f64, String> {
    let expected = "expected a number > 0 (requests per second), such as 200 or 0.5";
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        Ok(r) => Err(format!("rate {r} is not positive; {expected}")),
        Err(_) => Err(expected.into()),
    }
}

/// A CloudWatch period: a duration of whole seconds, at least one; in seconds.
fn whole_seconds(text: &str) -> Result<u64, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d.subsec_nanos() == 0 && d.as_secs() > 0 => Ok(d.as_secs()),
        _ => Err(
            "expected a whole number of seconds, at least 1s: such as 1m (AWS), or 1s against the emulator"
                .into(),
        ),
    }
}

/// A share written as a percentage ("5%"), kept as a fraction (0.05).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percent(f64);

impl Percent {
    /// The share as a fraction of one: 5% is 0.05.
    pub fn fraction(self) -> f64 {
        self.0
    }
}

/// `--precision`: a percentage strictly between 0% and 100%.
fn precision(text: &str) -> Result<Percent, String> {
    let number = text
        .trim()
        .strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok());
    match number {
        Some(n) if n > 0.0 && n < 100.0 => Ok(Percent(n / 100.0)),
        _ => Err("expected a percentage between 0% and 100%, such as 5%".into()),
    }
}

/// `--slo`: the bounds a step must meet, and each as written (`NAME=LIMIT`).
#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    pub bounds: Vec<Threshold>,
    pub written: Vec<String>,
}

/// `p99=800ms,throttle_rate=1%,failure_rate=0.5%`.
fn slo(text: &str) -> Result<Slo, String> {
    let expected = "expected NAME=LIMIT,… such as p99=800ms,throttle_rate=1%,failure_rate=0.5%";
    let mut slo = Slo {
        bounds: Vec::new(),
        written: Vec::new(),
    };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` has no `=`; {expected}"))?;
        let metric = Metric::from_name(name.trim()).ok_or_else(|| {
            format!(
                "unknown metric `{}`; expected one of {}",
                name.trim(),
                METRIC_NAMES.join(", ")
            )
        })?;
        let bound = Threshold::parse(metric, value.trim())?;
        slo.written
            .push(format!("{}={}", metric.name(), value.trim()));
        slo.bounds.push(bound);
    }
    if slo.bounds.is_empty() {
        return Err(format!("no bound given; {expected}"));
    }
    Ok(slo)
}

/// `--shard I/N`.
fn shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text).map_err(|why| format!("{why}; expected {SHARD_FORM}"))
}

/// `--start-at`: RFC 3339 with its offset, or Unix seconds.
fn start_at(text: &str) -> Result<SystemTime, String> {
    parse_start_at(text).map_err(|why| {
        format!(
            "{why}; expected such as 2026-11-27T21:00:00Z, 2026-11-27T22:00:00+01:00 or 1795813200"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error clap gives for `args`, as the user sees it.
    fn refused(args: &[&str]) -> String {
        let e = Cli::try_parse_from(std::iter::once("stampede").chain(args.iter().copied()))
            .expect_err("refused");
        assert_eq!(e.exit_code(), 2, "{e}");
        e.to_string()
    }

    #[test]
    fn latencies_of_ok_requests_are_metrics_of_slo_and_threshold() {
        let bounds = slo("ok_p99=300ms,failure_rate=1%").unwrap().bounds;
        assert_eq!(bounds[0].metric, Metric::OkP99);
        assert_eq!(bounds[0].limit, 300.0);
        let t = threshold_flag("ok_mean=50ms").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::OkMean, 50.0));
        assert!(slo("ok_p42=1s").unwrap_err().contains("ok_p99"));
    }

    #[test]
    fn bad_values_name_the_flag_and_the_form_expected() {
        let url = ["run", "--url", "http://127.0.0.1:9/", "--burst", "1"];
        for (flag, bad, says) in [
            ("--grace", "soon", "a duration, such as 30s"),
            (
                "--rate",
                "-5",
                "rate -5 is not positive; expected a number > 0",
            ),
            (
                "--rate",
                "lots",
                "expected a number > 0 (requests per second)",
            ),
            ("--cloudwatch-wait", "x", "a duration, such as 30s"),
            ("--cloudwatch-period", "1500ms", "a whole number of seconds"),
            ("--cloudwatch-period", "0s", "at least 1s"),
            ("--expect-latency", "0ms", "a duration above zero"),
            ("--shard", "3/3", "shards are numbered 0 to 2; expected I/N"),
            ("--shard", "1-3", "`1-3` is not I/N"),
            ("--start-at", "tomorrow", "neither an RFC 3339 time"),
        ] {
            let mut args = url.to_vec();
            args.extend([flag, bad]);
            let e = refused(&args);
            assert!(
                e.contains(&format!("invalid value '{bad}' for '{flag} <")) && e.contains(says),
                "{flag} {bad}: {e:?}"
            );
        }
        let e = refused(&["probe", "--url", "http://127.0.0.1:9/", "--precision", "0%"]);
        assert!(
            e.contains("'--precision <PERCENT>'") && e.contains("between 0% and 100%"),
            "{e}"
        );
        let e = refused(&[
            "probe",
            "--url",
            "http://127.0.0.1:9/",
            "--slo",
            "latency=1s",
        ]);
        assert!(
            e.contains("'--slo <NAME=LIMIT,…>'") && e.contains("unknown metric `latency`"),
            "{e}"
        );
        let e = refused(&["probe", "--url", "http://127.0.0.1:9/", "--slo", "p99=fast"]);
        assert!(e.contains("`fast` is not a valid limit for p99"), "{e}");
        let e = refused(&["probe", "--url", "http://127.0.0.1:9/", "--step", "0s"]);
        assert!(
            e.contains("'--step <DURATION>'") && e.contains("above zero"),
            "{e}"
        );
        let e = refused(&[
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--burst",
            "1",
            "--abort",
            "throttle_rat=5%",
        ]);
        assert!(
            e.contains("'--abort <NAME=RATE>'") && e.contains("did you mean `throttle_rate`?"),
            "{e}"
        );
        let e = refused(&[
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--burst",
            "1",
            "--threshold",
            "p99",
        ]);
        assert!(
            e.contains("'--threshold <NAME=LIMIT>'") && e.contains("`p99` has no `=`"),
            "{e}"
        );
        let e = refused(&["merge", "a.json", "--out", "m.json", "--wait", "long"]);
        assert!(e.contains("'--wait <DURATION>'"), "{e}");
        let e = refused(&["compare", "a.json", "b.json", "--noise-floor", "loud"]);
        assert!(e.contains("'--noise-floor <DURATION>'"), "{e}");
    }

    #[test]
    fn commands_get_typed_values() {
        let cli = Cli::try_parse_from([
            "stampede",
            "probe",
            "--url",
            "http://127.0.0.1:9/",
            "--precision",
            "2.5%",
            "--settle",
            "0s",
            "--shard",
            "1/3",
            "--expect-latency",
            "250ms",
        ])
        .unwrap();
        let Command::Probe(p) = cli.command else {
            panic!("a probe")
        };
        assert_eq!(p.precision.fraction(), 0.025);
        assert_eq!(p.settle, Duration::ZERO);
        assert_eq!(p.step, Duration::from_secs(10), "the default, parsed");
        assert_eq!(p.load.shard, Some(Shard::new(1, 3).unwrap()));
        assert_eq!(p.load.expect_latency, Some(Duration::from_millis(250)));
        let cli = Cli::try_parse_from([
            "stampede",
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--burst",
            "1",
            "--cloudwatch-period",
            "1m",
            "--start-at",
            "1795813200",
        ])
        .unwrap();
        let Command::Run(r) = cli.command else {
            panic!("a run")
        };
        assert_eq!(r.cloudwatch_period, Some(60));
        assert_eq!(r.traffic.grace, Duration::from_secs(5));
        assert_eq!(
            r.start_at,
            Some(std::time::UNIX_EPOCH + Duration::from_secs(1_795_813_200))
        );
    }
}
