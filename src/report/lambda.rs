//! The Lambda section of the summary and the Markdown report: cold starts, init, duration
//! and billed time from the REPORT lines, function errors, and what the test cost.

use super::summary::ms;
use crate::record::Percentiles;
use crate::results::lambda::LambdaResults;
use crate::results::Results;
use stampede_lambda::cost::usd;

/// The section as text lines (no trailing blank line); empty without a Lambda target.
pub fn lines(r: &Results) -> Vec<String> {
    let Some(l) = &r.lambda else {
        return Vec::new();
    };
    let s = &l.seen;
    let mut out = Vec::new();
    let name = match &l.qualifier {
        Some(q) => format!("{}:{q}", l.function),
        None => l.function.clone(),
    };
    out.push(format!(
        "Lambda {name} ({}, {}{})",
        l.region,
        l.invocation,
        if l.log_tail { ", log tail" } else { "" }
    ));
    out.push(format!(
        "  invocations {} · REPORT lines {} · cold starts {} ({:.1}%)",
        s.invocations,
        s.reports,
        s.cold_starts,
        s.cold_start_rate * 100.0
    ));
    if s.cold_starts > 0 {
        out.push(format!("  init      {}", spread(&s.init_ms)));
    }
    if s.reports > 0 {
        out.push(format!("  duration  {}", spread(&s.duration_ms)));
        out.push(format!(
            "  billed    {} · total {:.1} s · {:.2} GB-s at {} MB (max used {} MB)",
            spread(&s.billed_ms),
            s.billed_ms_total as f64 / 1000.0,
            s.gb_seconds,
            s.memory_mb,
            s.max_memory_used_mb
        ));
    }
    let by_stage: Vec<String> = r
        .stages
        .iter()
        .filter_map(|st| {
            let c = st.lambda.as_ref()?.cold_starts;
            (c > 0).then(|| format!("{} {c}", st.name))
        })
        .collect();
    if !by_stage.is_empty() {
        out.push(format!("  cold starts by stage: {}", by_stage.join(" · ")));
    }
    if !s.function_errors.is_empty() {
        let types: Vec<String> = s
            .function_errors
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        out.push(format!("  function errors: {}", types.join(" · ")));
    }
    if let Some(line) = cost_line(l) {
        out.push(format!("  {line}"));
    }
    if let Some(note) = &l.cost_note {
        out.push(format!("  ({note})"));
    }
    if let Some(a) = &l.provisioned_advice {
        out.push(format!("  {}", a.summary));
    }
    for c in l.cold_start_requests.iter().take(3) {
        out.push(format!(
            "  cold start at {:.2} s ({}): request {}{} · init {}",
            c.t_s,
            c.stage,
            c.request_id,
            c.correlation_id
                .as_deref()
                .map_or(String::new(), |id| format!(" · correlation {id}")),
            ms(c.init_ms)
        ));
    }
    out
}

fn spread(p: &Percentiles) -> String {
    format!(
        "p50 {} · p90 {} · p99 {} · max {}",
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.max)
    )
}

/// "cost: $X = N requests × $0.20/M + G GB-s × $P (arch, from …)".
pub fn cost_line(l: &LambdaResults) -> Option<String> {
    let c = l.cost.as_ref()?;
    let per_gb_s = c.prices.per_gb_second(c.architecture);
    Some(format!(
        "cost {} = {} requests × ${}/M ({}) + {:.2} GB-s × ${per_gb_s} ({}) · {} from {}",
        usd(c.total_usd),
        c.requests,
        c.prices.per_million_requests,
        usd(c.requests_usd),
        c.gb_seconds,
        usd(c.compute_usd),
        c.architecture.key(),
        l.architecture_source.as_deref().unwrap_or("—"),
    ))
}
