//! Command-line definitions (clap derive): the command line and its subcommands, and the
//! "did you mean" for a mistyped one. Parsing only; the commands live in `cmd/`.

mod aws;
mod files;
mod live;
mod traffic;
mod tune;
mod values;

use clap::{Parser, Subcommand};

pub use aws::{ApiFlags, CloudWatchArgs, EmulateArgs, QuotasArgs};
pub use files::{
    CompareArgs, CompletionsArgs, InitArgs, ManArgs, MergeArgs, ReportArgs, ReportOutputs,
    SchemaArgs, SchemaFormat,
};
pub use live::LiveArgs;
pub use traffic::{LoadArgs, PlanArgs, ProbeArgs, ProbeBy, RunArgs, TrafficArgs};
pub use tune::TuneArgs;
pub use values::{Percent, Slo};

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
docs/scenario.md (a first one from OpenAPI or a HAR: stampede init, docs/init.md); results: docs/results.md; reports: docs/reports.md; merge and compare:
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
    /// Measure a Lambda function's memory sizes under the load and pick one per strategy;
    /// the function is changed (--allow-changes) and always put back (docs/tune.md).
    #[command(after_help = "Examples:
  stampede tune --lambda orders --memory 128..3008 --rate 50 --duration 30s --allow-changes
  stampede tune burst.toml --memory 512,1024,1769 --strategy cost --allow-changes --out tune.json
  stampede tune --url https://abc123.execute-api.us-east-1.amazonaws.com/prod/ --function orders \\
      --memory 256,512,1024 --concurrency 20 --duration 1m --allow-changes
  stampede tune --lambda orders --memory 512,1024 --rate 20 --allow-changes --apply --alias live
  stampede tune --restore tune.json          put a function back after a tune that died

For each size: $LATEST set to it (UpdateFunctionConfiguration, waited for), a version
published and the load run against it. At the end, on an error, Ctrl-C or SIGTERM: the
original memory back and the versions deleted (unless --keep-versions); the journal of
changes is in the results file before the first one (tune.original).
Exit codes: 0 measured and put back · 1 a threshold failed or no request succeeded ·
2 bad input (nothing changed) · 3 aborted (put back) · 4 stampede failed, or the function
was not put back as found (tune.restored says what) · 130 interrupted (put back).")]
    Tune(Box<TuneArgs>),
    /// Draft a starting scenario from an OpenAPI document, a HAR recording or a deployed
    /// API Gateway API's routes (docs/init.md).
    #[command(after_help = "Examples:
  stampede init --from-openapi openapi.yaml --out api.toml
  stampede init --from-openapi export.json --url https://abc123.execute-api.us-east-1.amazonaws.com/prod
  stampede init --from-har session.har > session.toml
  stampede init --from-api https://abc123.execute-api.us-east-1.amazonaws.com/prod --out api.toml
  stampede init --from-api https://api.example.com/v1 --http-api-id abc123 --stage prod

OpenAPI: one request per operation (named by operationId), path parameters as
{{random_int 1 1000}}, a body from the examples or the schema, the auth header its security
scheme names read from {{env.API_TOKEN}}, API Gateway's integration noted above each.
HAR: one request per route (ids collapsed to {id}), weighted by how often it was recorded,
on the most common host; static assets left out; cookies, Authorization, x-api-key and
token-like values read from {{env.NAME}}, never written.
API: one request per route of the API's map (as `stampede quotas --url` reads it), path
parameters as {{seq}}, each commented with its integration, function and limits and the
call that read each; calls that failed are listed in the header. Check the result with
`stampede plan FILE`. Exit codes: 0 written · 2 bad input (the file and where in it; an API
of which no route could be read, with the calls and why).")]
    Init(InitArgs),
    /// Serve the local API Gateway + Lambda emulator until Ctrl-C.
    Emulate(EmulateArgs),
    /// Read the account's concurrency and throttle quotas, an API's routes and the limits
    /// behind each (--url), and where each came from.
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
    /// Compare a run with a baseline, per stage: latency, rate, throttles, failures, retries,
    /// and where the time went (each phase's p50 and p99).
    #[command(after_help = "Examples:
  stampede compare last-good.json results.json
  stampede compare base.json head.json --max-regress p99=5%,throttle_rate=+0.1pp --markdown cmp.md
  stampede compare base.json head.json --json - | jq '.regressions'

Each line: base, head, change, noise, limit, verdict (ok, within noise, regressed, not gated).
Gated by default: p50, p90, p99 +10%; throttle_rate, failure_rate +0.5pp; rate -5%.
Phases both runs timed (dns, connect, tls, ttfb, receive): p50 and p99, by p50's and p99's bounds.
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
