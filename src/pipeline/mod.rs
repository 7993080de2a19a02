//! What the commands share, from the flags to the exit code: the scenario and its
//! preflight before traffic, and after it the one way a results file ends — completed with
//! what the command knows, written where asked (or beside it), summarised, reported,
//! judged (the one verdict, `verdict::judge`) and turned into the exit code. `run`,
//! `probe`, `tune` and `merge` each go through [`Sink`]; none of them calls another command.

pub mod aws;
pub mod cloudwatch;
pub mod gather;
pub mod load;
pub mod preflight;
pub mod probe;
pub mod reports;
pub mod split;
pub mod tune;

use std::path::Path;
use std::time::SystemTime;

use crate::cli::ReportOutputs;
use crate::engine::abort::AbortTrip;
use crate::error::{exit, Result};
use crate::quotas::sources::Limits;
use crate::quotas::Quotas;
use crate::report::check as check_report;
use crate::report::summary;
use crate::results::{self, AwsTarget, Results, ShardInfo};
use crate::scenario::{Scenario, Shard};
use crate::store::Destination;
use crate::verdict::judge::{judge, Command, Outcome};
use crate::verdict::preflight::Preflight;
use crate::verdict::quota_check::{self, LambdaCounted, RunSeen};
use crate::verdict::routes::{self, MixRequest, Routed, Unmatched};
use stampede_emulator::RunningEmulator;
use stampede_results::quotas::LimitKey;

/// Where a command's results and reports go, proven writable before any traffic: a
/// results file (or store) that cannot be written, or a report file, is bad input (exit 2)
/// while nothing has been sent.
pub struct Sink {
    out: Option<Destination>,
    reports: ReportOutputs,
    /// The summary and the preflight stay off stdout: `--quiet`, or a report on stdout.
    pub quiet: bool,
    command: Command,
}

impl Sink {
    /// `--out` (DIR/ names `default_name` there, or a shard's file) and the report files,
    /// checked and prepared.
    pub fn prove(
        command: Command,
        out: Option<&Path>,
        shard: Option<Shard>,
        default_name: &str,
        reports: &ReportOutputs,
        quiet: bool,
    ) -> Result<Sink> {
        let out = match out {
            Some(out) => {
                let out = Destination::from_flag(out, shard, default_name)?;
                out.prepare()?;
                Some(out)
            }
            None => None,
        };
        reports::check(reports)?;
        Ok(Sink {
            out,
            reports: reports.clone(),
            quiet: quiet || reports::uses_stdout(reports),
            command,
        })
    }

    /// Where the results go: a file or a store.
    pub fn destination(&self) -> Option<&Destination> {
        self.out.as_ref()
    }

    /// Writes the results where asked, else beside it (the path is said); true when not
    /// written where asked. Before anything else can go wrong: the results are never lost.
    pub fn write(&self, results: &Results) -> bool {
        let Some(out) = &self.out else { return false };
        let Err(why) = out.write(results) else {
            return false;
        };
        match results::file::write_fallback(&out.fallback_path(), results) {
            Ok(at) => eprintln!(
                "error: cannot write results to {}: {why}\n  the results are in {} instead",
                out.describe(),
                at.display()
            ),
            Err(also) => eprintln!(
                "error: cannot write results to {}: {why}; nor beside it: {also}",
                out.describe()
            ),
        }
        true
    }

    /// The summary on stdout, unless quiet.
    pub fn summary(&self, results: &Results) {
        if !self.quiet {
            print_out(&summary::render(results));
        }
    }

    /// Written, summarised, reported, judged: the exit code.
    pub fn deliver(&self, results: &Results) -> i32 {
        let not_written = self.write(results);
        self.summary(results);
        self.conclude(results, not_written)
    }

    /// The reports (after the results file, from the same results: one that cannot be
    /// written is exit 4, the results file stays), what failed on stderr, and the exit
    /// code: the verdict's, or 4 when the results or a report were not written.
    pub fn conclude(&self, results: &Results, mut not_written: bool) -> i32 {
        for why in reports::write(&self.reports, results) {
            not_written = true;
            eprintln!("error: {why}");
        }
        let verdict = judge(results);
        if self.command != Command::Probe {
            for why in results.traffic_failures() {
                eprintln!("{why}");
            }
        }
        for fault in &results.faults {
            eprintln!("error: {fault}");
        }
        if self.quiet && self.command != Command::Probe {
            eprint!(
                "{}",
                check_report::quiet(&results.thresholds, &results.quota_check)
            );
        }
        if let Some(trip) = &results.aborted {
            eprintln!("{}", trip.describe());
        }
        if results.shard.is_some()
            && verdict.outcome == Outcome::Pass
            && !verdict.deferred.is_empty()
        {
            // A shard's share is not the test: its thresholds and quota check are judged on
            // the merged whole. Failing here would fail a Kubernetes index or a Batch child
            // for what the merge decides.
            eprintln!("shard: thresholds and the quota check are judged on the merged whole (stampede merge); this shard exits 0");
        }
        if not_written {
            exit::INTERNAL
        } else {
            verdict.exit_code(self.command)
        }
    }
}

/// What a command knows beside the engine's record, set into the results in one place.
pub struct Known<'a> {
    pub scenario: &'a Scenario,
    pub limits: &'a Limits,
    /// The preflight the quota check reports beside what happened.
    pub preflight: Option<Preflight>,
    pub emulator: Option<&'a RunningEmulator>,
    /// This run's id (in its correlation ids).
    pub run_id: Option<u32>,
    pub shard: Option<ShardInfo>,
    pub aborted: Option<AbortTrip>,
    pub open_files_limit: Option<u64>,
    pub insecure: bool,
}

/// Completes assembled results with what the command knows: the run's id, shard, abort,
/// open-files limit and `--insecure`; the emulator's counts; the quota check (after those:
/// it prefers the emulator's counts to its own estimates); a Lambda target's cost; the
/// AWS names.
pub fn complete(results: &mut Results, known: Known) {
    results.run_id = known.run_id.map(|id| format!("{id:08x}"));
    results.shard = known.shard;
    results.aborted = known.aborted;
    results.open_files_limit = known.open_files_limit;
    results.insecure = known.insecure;
    results.emulator = known.emulator.map(|e| results::emulator_stats(e.stats()));
    results.quota_check = quota_check::check(
        &known.limits.quotas,
        &run_seen(results, known.limits),
        known.preflight,
    );
    if let Some(by_request) = &results.by_request {
        let (routed, _) = map_to_routes(known.scenario, &known.limits.quotas);
        if !routed.is_empty() {
            let checks = routes::check_routes(
                &known.limits.quotas,
                &run_seen(results, known.limits),
                &routed,
                by_request,
            );
            routes::add_routes(&mut results.quota_check, checks);
        }
    }
    if let Some(l) = results.lambda.as_mut() {
        let aws = known.scenario.aws.as_ref();
        let (arch, source) = results::lambda::architecture_of(aws, &known.limits.quotas);
        l.price(arch, &source, &aws.map(|a| a.prices).unwrap_or_default());
        let configured = known
            .limits
            .quotas
            .get(LimitKey::FunctionProvisionedConcurrency)
            .map(|n| n as u64);
        l.advise_provisioned(&results.timeline, configured);
    }
    results.aws = aws_target(known.limits);
}

/// The routes of the API (when its map was read) that the scenario's `[[requests]]`
/// select, and the requests none selects.
pub fn map_to_routes(scenario: &Scenario, quotas: &Quotas) -> (Vec<Routed>, Vec<Unmatched>) {
    let Some(mix) = scenario.requests.as_ref().filter(|m| m.declared) else {
        return (Vec::new(), Vec::new());
    };
    if quotas.routes.is_empty() {
        return (Vec::new(), Vec::new());
    }
    // The path below the target's URL (its stage, or a custom domain's base path): what
    // the API's routes are written against.
    let base = scenario.target.url.path().trim_end_matches('/');
    let requests: Vec<MixRequest> = mix
        .entries
        .iter()
        .map(|e| MixRequest {
            name: &e.name,
            method: e.method.as_str(),
            path: e
                .shown_path
                .strip_prefix(base)
                .filter(|rest| rest.starts_with('/'))
                .unwrap_or(&e.shown_path),
        })
        .collect();
    routes::map_requests(quotas, &requests)
}

/// The AWS names a run was aimed at, as far as they are known.
pub fn aws_target(limits: &Limits) -> Option<AwsTarget> {
    let a = &limits.aws;
    let t = AwsTarget {
        region: a
            .names
            .region
            .clone()
            .or_else(|| limits.quotas.region.clone()),
        function: a.names.function.clone(),
        qualifier: a.names.qualifier.clone(),
        api_id: a.names.api_id.clone(),
        stage: a.names.stage.clone(),
    };
    (t != AwsTarget::default()).then_some(t)
}

/// What the quota check reads of a run: its timeline, peaks and bursts.
fn run_seen<'r>(results: &'r Results, limits: &Limits) -> RunSeen<'r> {
    RunSeen {
        timeline: &results.timeline,
        peak_in_flight: results.peak_in_flight,
        bursts: results.bursts(),
        front: limits.front,
        names: limits.aws.names.clone(),
        api: limits.api,
        counted: counted(results),
        route: None,
    }
}

/// What Lambda counted in a run: cold starts in REPORT lines (when every answer had
/// one), the emulator's environments and peak concurrency.
fn counted(results: &Results) -> LambdaCounted {
    let reports = results.lambda.as_ref().map(|l| &l.seen);
    LambdaCounted {
        cold_starts_per_second: reports
            .is_some_and(|s| s.reports > 0 && s.reports >= s.invocations),
        environments_created: results.emulator.as_ref().map(|e| e.environments_created),
        peak_concurrency: results.emulator.as_ref().map(|e| e.peak_concurrency),
    }
}

/// Prints to stdout, shrugging off a closed pipe (`stampede run … | head`): the run goes
/// on and its results are written whoever stopped reading.
pub fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// Runs made one after another (a probe's steps, a tune's sizes) laid on one wall clock, to
/// be one results file; none ran: an empty clock from `started_at`. `what` names the runs
/// in the error a clock that cannot be laid gives.
pub(crate) fn one_clock(
    alone: &[Results],
    started_at: SystemTime,
    what: &str,
) -> Result<results::merge::WallClock> {
    if alone.is_empty() {
        return Ok(results::merge::WallClock {
            start: started_at,
            offsets: Vec::new(),
            timeline: Vec::new(),
            seconds: Vec::new(),
            per_second_exact: true,
            duration_s: 0.0,
        });
    }
    results::merge::align(alone, false)
        .map_err(|why| crate::error::Error::internal(format!("{what} on one clock: {why:?}")))
}
