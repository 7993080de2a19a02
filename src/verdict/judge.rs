//! The one verdict on a results file: pass, fail (and why), aborted, interrupted or
//! faulted — and the exit code each command gives for it (docs/exit-codes.md). Pure.
//!
//! Every command that ends on a results file (`run`, `merge`, `probe`, `report`) and every
//! report format (the summary, the HTML banner, JUnit, Markdown) asks [`judge`], so they
//! cannot disagree. What the file holds decides, not who wrote it:
//!
//! - a fault of stampede (`faults`) → faulted, exit 4;
//! - a signal (`interrupted`) → interrupted, exit 130;
//! - an abort rule (`aborted`) → aborted, exit 3;
//! - a gate failed → fail, exit 1. The gates of a run (or a merged run): its thresholds,
//!   the quota check, every stage sent as planned, a request that succeeded. Of a shard's
//!   own file: only its share sent as planned — its thresholds and quota check are of its
//!   share, judged on the merged whole (`merge`), so they are [`Verdict::deferred`]. Of a
//!   probe: a knee found — its steps go past limits on purpose, so the quota check and
//!   the traffic are what it measured, not a gate;
//! - else pass, exit 0.
//!
//! The most serious wins: faulted › interrupted › aborted › fail › pass. `report` exits 0
//! whatever the verdict: it presents it, the command that ran is the gate.

use crate::error::exit;
use crate::verdict::thresholds::ThresholdResult;
use stampede_results::Results;

/// The verdict, most serious first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// stampede itself failed during the run (`faults`).
    Faulted,
    /// Stopped by SIGINT, SIGTERM or SIGHUP.
    Interrupted,
    /// Stopped early by an abort rule.
    Aborted,
    /// A gate failed.
    Fail,
    Pass,
}

impl Outcome {
    /// The banner's word: PASS, FAIL, ABORTED, INTERRUPTED, STAMPEDE FAILED.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Faulted => "STAMPEDE FAILED",
            Outcome::Interrupted => "INTERRUPTED",
            Outcome::Aborted => "ABORTED",
            Outcome::Fail => "FAIL",
            Outcome::Pass => "PASS",
        }
    }

    /// The same in lower case, for headlines: pass, fail, aborted, interrupted,
    /// stampede failed.
    pub fn lower(self) -> &'static str {
        match self {
            Outcome::Faulted => "stampede failed",
            Outcome::Interrupted => "interrupted",
            Outcome::Aborted => "aborted",
            Outcome::Fail => "fail",
            Outcome::Pass => "pass",
        }
    }
}

/// Why a run did not pass, one line each.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// A fault of stampede, as recorded.
    Fault(String),
    /// A signal stopped the run after `after_s` seconds.
    Interrupted { after_s: f64 },
    /// An abort rule tripped: its description.
    Aborted(String),
    /// Stages sent well below their plan (`Results::short_of_plan`).
    ShortOfPlan(String),
    /// Not one request succeeded (`Results::nothing_succeeded`).
    NothingSucceeded(String),
    /// A threshold failed.
    Threshold(ThresholdResult),
    /// The quota check failed.
    QuotaCheck,
    /// A probe found no load that met its SLO.
    NoKnee(String),
}

impl Reason {
    /// The reason in one line, as every report writes it.
    pub fn line(&self) -> String {
        match self {
            Reason::Fault(f) => format!("stampede failed: {f}"),
            Reason::Interrupted { after_s } => format!(
                "interrupted by a signal after {after_s:.1} s: the results hold what ran until then"
            ),
            Reason::Aborted(why)
            | Reason::ShortOfPlan(why)
            | Reason::NothingSucceeded(why)
            | Reason::NoKnee(why) => why.clone(),
            Reason::Threshold(t) => format!(
                "threshold {} failed: observed {}",
                threshold_name(t),
                observed(t)
            ),
            Reason::QuotaCheck => "the quota check failed".to_string(),
        }
    }
}

/// `p99 ≤ 800ms`, `stage ramp: throttle_rate ≤ 1%`, `request "create order": p99 ≤ 300ms`
/// or `stage ramp, request "create order": p99 ≤ 300ms`.
pub fn threshold_name(t: &ThresholdResult) -> String {
    let is_floor = crate::scenario::Metric::from_name(&t.name).is_some_and(|m| m.is_floor());
    let bound = if is_floor {
        format!("{} ≥ {}", t.name, t.limit)
    } else {
        format!("{} ≤ {}", t.name, t.limit)
    };
    match threshold_scope(t) {
        Some(scope) => format!("{scope}: {bound}"),
        None => bound,
    }
}

/// What a threshold applies to — `stage ramp`, `request "get order"`, `flow "buy"`, a
/// stage and one of those — or `None` for the whole run. Every report's "applies to" column.
pub fn threshold_scope(t: &ThresholdResult) -> Option<String> {
    if let Some(flow) = &t.flow {
        return Some(match &t.stage {
            Some(stage) => format!("stage {stage}, flow {flow:?}"),
            None => format!("flow {flow:?}"),
        });
    }
    match (&t.stage, &t.request) {
        (Some(stage), Some(request)) => Some(format!("stage {stage}, request {request:?}")),
        (Some(stage), None) => Some(format!("stage {stage}")),
        (None, Some(request)) => Some(format!("request {request:?}")),
        (None, None) => None,
    }
}

/// What a threshold observed in its own unit: `6.30%` for a rate (as it was written), `812ms`
/// for a latency. The one place every report writes it.
pub fn observed(t: &ThresholdResult) -> String {
    if t.not_judged {
        "not judged: no streamed answer".to_string()
    } else if t.name == crate::scenario::Metric::MinThroughput.name() {
        format!(
            "p1 {}",
            crate::scenario::byte_rate::byte_rate_text(t.observed)
        )
    } else if t.name.ends_with("_rate") {
        percent(t.observed)
    } else {
        crate::verdict::ms(t.observed)
    }
}

/// A fraction as a percentage with the precision that reads well: `12.5%`, `0.63%`.
pub fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p == 0.0 || p >= 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

/// The commands that end on a results file, each with its exit code for a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Run,
    Merge,
    Probe,
    /// `report` presents the verdict: exit 0 whatever it is.
    Report,
}

/// The verdict on one results file.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub outcome: Outcome,
    /// Everything that counts against the run, most serious first; empty when it passed.
    pub reasons: Vec<Reason>,
    /// What failed but is not judged in this file: a shard's thresholds, quota check and
    /// "nothing succeeded" (judged on the merged whole). Shown, never counted.
    pub deferred: Vec<Reason>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass
    }

    /// The process exit code `command` gives for this verdict (docs/exit-codes.md).
    pub fn exit_code(&self, command: Command) -> i32 {
        if command == Command::Report {
            return exit::OK;
        }
        match self.outcome {
            Outcome::Faulted => exit::INTERNAL,
            Outcome::Interrupted => exit::INTERRUPTED,
            Outcome::Aborted => exit::ABORTED,
            Outcome::Fail => exit::CHECK_FAILED,
            Outcome::Pass => exit::OK,
        }
    }

    /// The reason lines, most serious first.
    pub fn lines(&self) -> Vec<String> {
        self.reasons.iter().map(Reason::line).collect()
    }
}

/// The verdict on `r`. See the module's docs.
pub fn judge(r: &Results) -> Verdict {
    let mut reasons: Vec<Reason> = r.faults.iter().cloned().map(Reason::Fault).collect();
    if r.interrupted {
        reasons.push(Reason::Interrupted {
            after_s: r.duration_s,
        });
    }
    if let Some(trip) = &r.aborted {
        reasons.push(Reason::Aborted(trip.describe()));
    }
    let mut gates: Vec<Reason> = Vec::new();
    gates.extend(r.short_of_plan().map(Reason::ShortOfPlan));
    gates.extend(r.nothing_succeeded().map(Reason::NothingSucceeded));
    gates.extend(
        r.thresholds
            .iter()
            .filter(|t| !t.pass)
            .cloned()
            .map(Reason::Threshold),
    );
    if !r.quota_check.pass {
        gates.push(Reason::QuotaCheck);
    }
    let mut deferred = Vec::new();
    if let Some(p) = &r.probe {
        // A probe passes past limits on purpose: its gate is the knee.
        deferred = gates;
        gates = Vec::new();
        if p.knee.is_none() {
            gates.push(Reason::NoKnee(format!(
                "no knee: even {} {} broke the SLO",
                p.from,
                if p.by == "rate" {
                    "req/s"
                } else {
                    "concurrent"
                }
            )));
        }
    } else if r.shard.is_some() {
        // A shard's share is not the test: only its share not sent is its own failure.
        let (own, whole): (Vec<_>, Vec<_>) = gates
            .into_iter()
            .partition(|g| matches!(g, Reason::ShortOfPlan(_)));
        gates = own;
        deferred = whole;
    }
    reasons.extend(gates);
    let outcome = if !r.faults.is_empty() {
        Outcome::Faulted
    } else if r.interrupted {
        Outcome::Interrupted
    } else if r.aborted.is_some() {
        Outcome::Aborted
    } else if !reasons.is_empty() {
        Outcome::Fail
    } else {
        Outcome::Pass
    };
    Verdict {
        outcome,
        reasons,
        deferred,
    }
}
