//! The quota check as text: the preflight before traffic (`plan`, and `run` before it
//! starts), and the findings after it.

use std::fmt::Write as _;

use stampede_lambda::cost::usd;

use crate::engine::numbering;
use crate::quotas::Quotas;
use crate::scenario::Scenario;
use crate::schedule::StagePlan;
use crate::verdict::num;
use crate::verdict::preflight::{LimitCheck, Preflight};
use crate::verdict::quota_check::QuotaCheck;
use crate::verdict::thresholds::ThresholdResult;

/// The quotas, the per-stage forecast and every limit the plan would exceed or come near.
pub fn preflight(p: &Preflight, quotas: &Quotas) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\npreflight — nothing sent yet");
    out.push_str(&quota_lines(quotas));
    let _ = writeln!(
        out,
        "  expected latency {} ms ({}); concurrency = rate × latency",
        num(p.expect_latency_ms),
        p.latency_basis
    );
    let _ = writeln!(
        out,
        "\n  {:<20} {:<12} {:>10} {:>8} {:>12} {:>14}",
        "stage", "kind", "peak req/s", "burst", "concurrency", "new envs/10s"
    );
    for s in &p.stages {
        let _ = writeln!(
            out,
            "  {:<20} {:<12} {:>10} {:>8} {:>12} {:>14}",
            s.name,
            s.kind,
            s.peak_rate.map_or("-".into(), num),
            s.burst.map_or("-".into(), |b| b.to_string()),
            num(s.expected_concurrency),
            num(s.new_environments_per_10s),
        );
    }
    if let Some(c) = &p.cost {
        let _ = writeln!(
            out,
            "\n  cost estimate: {} for {} invocations of {} ms at {} MB on {} (requests {} + compute {:.2} GB-s {}); cold starts' init is billed too and not in it\n    duration: {} · memory: {} · architecture: {}",
            usd(c.cost.total_usd),
            c.invocations,
            num(c.expected_duration_ms),
            c.memory_mb,
            c.cost.architecture.key(),
            usd(c.cost.requests_usd),
            c.cost.gb_seconds,
            usd(c.cost.compute_usd),
            c.duration_basis,
            c.memory_basis,
            c.architecture_basis
        );
        if let Some(cold) = &c.cold_starts {
            let _ = writeln!(out, "  {}", cold_start_line(cold));
        }
    }
    let over: Vec<_> = p.exceeded_checks().collect();
    let near: Vec<_> = p.near_checks().collect();
    if !over.is_empty() {
        let _ = writeln!(out, "\n  would exceed:");
        for c in &over {
            let _ = writeln!(out, "    {}", check_line(c));
        }
    }
    if !near.is_empty() {
        let _ = writeln!(out, "\n  close (≥ 80%):");
        for c in &near {
            let _ = writeln!(out, "    {}", check_line(c));
        }
    }
    for w in &p.warnings {
        let _ = writeln!(out, "\n  warning: {w}");
    }
    let _ = writeln!(
        out,
        "\n  {}",
        if over.is_empty() {
            "the plan fits every known limit".to_string()
        } else {
            format!(
                "the plan exceeds {} limit{}",
                over.len(),
                if over.len() == 1 { "" } else { "s" }
            )
        }
    );
    out
}

/// Only what the plan would exceed, one line each, for `--quiet` runs.
pub fn preflight_warnings(p: &Preflight) -> String {
    p.exceeded_checks()
        .map(|c| format!("preflight: {}\n", check_line(c)))
        .chain(
            p.warnings
                .iter()
                .map(|w| format!("preflight: warning: {w}\n")),
        )
        .collect()
}

fn check_line(c: &LimitCheck) -> String {
    let of = match (&c.route, &c.function) {
        (Some(r), _) => format!(" {r}"),
        (None, Some(f)) => format!(" {f}"),
        (None, None) => String::new(),
    };
    format!(
        "{}{of}: {} {} vs {} {} ({:.0}%, headroom {}) — {}",
        c.stage,
        c.measure,
        num(c.planned),
        c.limit.title(),
        num(c.value),
        c.percent,
        num(c.headroom.floor()),
        c.source
    )
}

/// Where the quotas came from, and each number with its source (the `quotas` table).
fn quota_lines(q: &Quotas) -> String {
    let mut out = String::new();
    if q.origin == "documented" {
        out.push_str("  AWS's documented defaults, not read from an account: give [aws], --quotas FILE, or an AWS endpoint as the target\n");
    }
    for line in super::quotas::render(q).lines() {
        match line {
            "" => out.push('\n'),
            l => {
                let _ = writeln!(out, "  {l}");
            }
        }
    }
    out.push('\n');
    out
}

/// The quota check after a run: usage, the onset and what explains it, next steps.
pub fn findings(c: &QuotaCheck) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nquota check ({}): {}",
        c.quotas.origin,
        if c.pass { "pass" } else { "FAIL" }
    );
    // Against assumed numbers only what comes near them is worth a line.
    let assumed = c.quotas.origin == "documented";
    if assumed {
        let _ = writeln!(
            out,
            "  limits are AWS's documented defaults, not read from an account"
        );
    }
    for u in c.usage.iter().filter(|u| !assumed || u.percent >= 80.0) {
        let _ = writeln!(
            out,
            "  {:<42} {:>10}  {} {} ({:.0}%)",
            u.limit.title(),
            num(u.value),
            u.measure,
            num(u.observed),
            u.percent
        );
    }
    if let Some(o) = &c.onset {
        let _ = writeln!(out, "  onset: {}", o.explanation);
        for e in &o.evidence {
            let _ = writeln!(out, "    · {e}");
        }
    }
    if let Some(s) = &c.suspected_lambda_throttles {
        let _ = writeln!(out, "  suspected Lambda throttles: {}", s.message);
    }
    routes(&mut out, c);
    for n in &c.quotas.not_read {
        let _ = writeln!(out, "  not read: {} — {}", n.action, n.reason);
    }
    if !c.next_steps.is_empty() {
        let _ = writeln!(out, "  next steps:");
        for (i, s) in c.next_steps.iter().enumerate() {
            let _ = writeln!(out, "    {}. {s}", i + 1);
        }
    }
    out
}

/// Each route the requests reached: its function, what it sent and had throttled, and
/// where its throttling began (or that it stayed clean).
fn routes(out: &mut String, c: &QuotaCheck) {
    if c.by_route.is_empty() {
        return;
    }
    let _ = writeln!(out, "  routes:");
    let width = c
        .by_route
        .iter()
        .map(|r| route_name(r).chars().count())
        .max()
        .unwrap_or(0);
    for r in &c.by_route {
        let what = r.outcome();
        let _ = writeln!(
            out,
            "    {:<width$}  {} sent, {} throttled{}: {what}",
            route_name(r),
            r.sent,
            r.throttled,
            if r.pass { "" } else { " (FAIL)" }
        );
    }
}

/// `POST /orders → orders-create:live`, or the route alone.
fn route_name(r: &stampede_results::quota_check::RouteCheck) -> String {
    match &r.function {
        Some(f) => format!("{} → {f}", r.route),
        None => r.route.clone(),
    }
}

/// What failed, in a few lines, for `--quiet`: each failed threshold in its own unit (a
/// rate as a percentage, as it was written), and the quota check's verdict, its onset,
/// what was exceeded and the first next step. The rest is in the results.
pub fn quiet(thresholds: &[ThresholdResult], c: &QuotaCheck) -> String {
    let mut out = String::new();
    for t in thresholds.iter().filter(|t| !t.pass) {
        let _ = writeln!(
            out,
            "threshold failed: {} (observed {})",
            super::outcome::threshold_name(t),
            super::outcome::observed(t)
        );
    }
    if c.pass {
        return out;
    }
    let _ = writeln!(out, "quota check ({}): FAIL", c.quotas.origin);
    if let Some(o) = &c.onset {
        let _ = writeln!(out, "  onset: {}", o.explanation);
    }
    for f in c.findings.iter().filter(|f| f.level == "exceeded") {
        let _ = writeln!(out, "  exceeded: {}", f.message);
    }
    for r in c.by_route.iter().filter(|r| !r.pass) {
        if let Some(o) = &r.onset {
            let _ = writeln!(out, "  onset on {}: {}", route_name(r), o.explanation);
        }
    }
    if let Some(s) = &c.suspected_lambda_throttles {
        let _ = writeln!(out, "  suspected Lambda throttles: {}", s.message);
    }
    if let Some(first) = c.next_steps.first() {
        let _ = writeln!(out, "  next: {first}");
        let more = c.next_steps.len() - 1;
        if more > 0 {
            let _ = writeln!(
                out,
                "  ({more} more next step{} in the summary and the results' quota_check.next_steps)",
                if more == 1 { "" } else { "s" }
            );
        }
    }
    out
}

/// The mix of a scenario with `[[requests]]`, for the preflight: each request's method,
/// path, weight, share, and what each stage that plans a count plans of it (nothing
/// without `[[requests]]`: the one request is the target line).
pub fn mix(scenario: &Scenario, plans: &[StagePlan]) -> String {
    let Some(mix) = &scenario.requests else {
        return String::new();
    };
    let total: u64 = mix.entries.iter().map(|e| e.weight).sum();
    let bases = numbering::stage_bases(plans);
    // (stage name, planned per entry) of the stages that plan a count.
    let planned: Vec<(&str, Vec<u64>)> = scenario
        .stages
        .iter()
        .zip(plans)
        .zip(&bases)
        .filter_map(|((stage, plan), base)| {
            let n = plan.planned_requests()?;
            // With flows, the steps of the stage's flows (a request's weight is unused).
            let counts = numbering::planned_by_request(mix, *base, n, 0, 1);
            Some((stage.name.as_str(), counts))
        })
        .collect();
    let mut out = String::new();
    if let Some(flows) = &mix.flows {
        flows_table(&mut out, flows, scenario, plans, &bases, mix);
        let _ = writeln!(
            out,
            "\n  requests: {} (sent as the flows' steps); planned per stage",
            mix.entries.len()
        );
    } else {
        let _ = writeln!(
            out,
            "\n  requests: a mix of {} (weights add up to {total}); planned per stage",
            mix.entries.len()
        );
    }
    let _ = write!(
        out,
        "  {:<24} {:<7} {:<32} {:>6} {:>6}",
        "name", "method", "path", "weight", "share"
    );
    for (stage, _) in &planned {
        let _ = write!(out, " {:>10}", cut(stage, 10));
    }
    out.push('\n');
    for (i, e) in mix.entries.iter().enumerate() {
        // With flows, a request's share is of the steps the stages plan, not its weight.
        let (weight, share) = match &mix.flows {
            Some(_) => {
                let of_all: u64 = planned.iter().map(|(_, c)| c.iter().sum::<u64>()).sum();
                let mine: u64 = planned.iter().map(|(_, c)| c[i]).sum();
                ("-".to_string(), mine as f64 * 100.0 / of_all.max(1) as f64)
            }
            None => (e.weight.to_string(), e.weight as f64 * 100.0 / total as f64),
        };
        let _ = write!(
            out,
            "  {:<24} {:<7} {:<32} {:>6} {:>5.1}%",
            cut(&e.name, 24),
            e.method.as_str(),
            cut(&e.shown_path, 32),
            weight,
            share
        );
        for (_, counts) in &planned {
            let _ = write!(out, " {:>10}", counts[i]);
        }
        out.push('\n');
    }
    // Each source once read: its rows and how they are picked.
    for (spec, source) in scenario.data.iter().zip(&scenario.data_sources) {
        let _ = writeln!(
            out,
            "  {}",
            crate::scenario::data::preflight_line(spec, source)
        );
    }
    out
}

/// The `[[flows]]`: each flow's weight, share, steps and think time, and the flows each
/// stage plans (open stages and bursts; a closed stage's workers run as many as they can).
fn flows_table(
    out: &mut String,
    flows: &crate::scenario::flows::Flows,
    scenario: &Scenario,
    plans: &[StagePlan],
    bases: &[u64],
    mix: &crate::scenario::Requests,
) {
    let total: u64 = flows.entries.iter().map(|f| f.weight).sum();
    let planned: Vec<(&str, Vec<u64>)> = scenario
        .stages
        .iter()
        .zip(plans)
        .zip(bases)
        .filter_map(|((stage, plan), base)| {
            let n = plan.planned_requests()?;
            let counts = numbering::planned_by_entry(&flows.rotation, *base, n, 0, 1);
            Some((stage.name.as_str(), counts))
        })
        .collect();
    let _ = writeln!(
        out,
        "\n  flows: {} (weights add up to {total}; each arrival, burst member or closed worker's turn runs one); planned per stage",
        flows.entries.len()
    );
    let _ = write!(
        out,
        "  {:<24} {:>6} {:>6} {:<12}",
        "name", "weight", "share", "think"
    );
    for (stage, _) in &planned {
        let _ = write!(out, " {:>10}", cut(stage, 10));
    }
    out.push('\n');
    for (i, f) in flows.entries.iter().enumerate() {
        let think = f.think.map_or("-".to_string(), |t| t.to_string());
        let _ = write!(
            out,
            "  {:<24} {:>6} {:>5.1}% {:<12}",
            cut(&f.name, 24),
            f.weight,
            f.weight as f64 * 100.0 / total as f64,
            cut(&think, 12)
        );
        for (_, counts) in &planned {
            let _ = write!(out, " {:>10}", counts[i]);
        }
        out.push('\n');
        let steps: Vec<&str> = f
            .steps
            .iter()
            .map(|&e| mix.entries[e].name.as_str())
            .collect();
        let _ = writeln!(out, "    steps: {}", steps.join(" → "));
    }
}

/// At most `max` characters of `text`, with `…` where cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}

/// A burst's cold starts, before traffic, beside the cost estimate.
fn cold_start_line(c: &crate::verdict::cost::ColdStartEstimate) -> String {
    let provisioned = match c.provisioned {
        0 => format!("no provisioned concurrency ({})", c.provisioned_basis),
        n => format!("provisioned concurrency {n} ({})", c.provisioned_basis),
    };
    let init = match (c.init_ms, c.init_cost_usd) {
        (Some(ms), Some(cost)) => format!(
            ", each with an init of about {} ms: {} more billed",
            num(ms),
            usd(cost)
        ),
        _ => String::new(),
    };
    format!(
        "cold starts: the burst of {} with {provisioned}: up to {} cold starts (environments still warm from earlier traffic take some){init}",
        c.burst, c.at_most
    )
}
