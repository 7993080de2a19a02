//! The arguments of the commands that send traffic (`run`, `probe`) or plan it (`plan`):
//! the load, how it is sent, and each command's own flags.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::Args;

use super::files::ReportOutputs;
use super::values::{
    duration, invocation, positive_duration, precision, rate, shard, slo, start_at, whole_seconds,
    Percent, Slo,
};
use crate::scenario::{threshold_flag, AbortFlag, Shard, Threshold};

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

    /// How --lambda invokes: request-response (the Invoke API, the default), event (queued,
    /// 202) or stream (InvokeWithResponseStream: ttfb at the first payload chunk). The log
    /// tail is read but for event.
    #[arg(long, value_name = "MODE", requires = "lambda", value_parser = invocation)]
    pub invocation: Option<stampede_lambda::Invocation>,

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

    /// A new connection (TCP, and TLS for https) for every attempt, closed after its
    /// answer, as short-lived clients make them: each request's latency then includes its
    /// connect and handshake. As `[target] connections = "per-request"` (docs/connections.md).
    #[arg(long)]
    pub no_keepalive: bool,

    /// Connect to these addresses for HOST:PORT instead of looking the name up, as curl's
    /// --resolve (repeatable; beside `[target] resolve`). Connections go round robin over
    /// every address (docs/connections.md, "Every address").
    #[arg(long, value_name = "HOST:PORT:ADDR[,ADDR...]")]
    pub resolve: Vec<String>,

    /// How often the target's name is looked up again, so that new addresses take new
    /// connections and vanished ones drain; "off": once for the run. As `[target]
    /// dns_refresh` (which it overrides) [default: 60s].
    #[arg(long, value_name = "DURATION|off")]
    pub dns_refresh: Option<String>,
    /// HTTP/2: over TLS negotiated with ALPN h2 (a server that answers only HTTP/1.1 is
    /// refused, not fallen back from), with prior knowledge (h2c) for http:// URLs; many
    /// requests multiplexed on each connection, up to the server's limit of streams. As
    /// `[target] http = "2"` (docs/connections.md).
    #[arg(long)]
    pub http2: bool,

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
    /// max mean (p99=800ms), of ok requests alone: ok_p50 … ok_mean (ok_p99=300ms), of one
    /// phase: dns_ connect_ tls_ ttfb_ receive_ with p50 … mean (ttfb_p99=200ms); rates:
    /// throttle_rate error_rate failure_rate (failure_rate=1%); a floor on streamed
    /// answers: min_throughput (min_throughput=50KB/s, KB = 1000 bytes).
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

    #[command(flatten)]
    pub live: super::LiveArgs,
}
