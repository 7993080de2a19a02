//! CloudWatch's per-period numbers on the client's per-second charts: each period drawn as
//! one flat step over its seconds (counts as the period's average per second, and said so:
//! CloudWatch does not say when in the period they came), dashed, named "AWS …", so where
//! the two sides part is seen at a glance.

use super::data::{sig3, Series};
use crate::cloudwatch::{CloudWatch, ServerMinute, Window};
use crate::results::Results;

/// The AWS series for the rate, latency and in-flight charts.
pub struct AwsSeries {
    pub rate: Vec<Series>,
    pub latency: Vec<Series>,
    pub in_flight: Vec<Series>,
}

fn epoch(text: &str) -> Option<f64> {
    let t = humantime::parse_rfc3339_weak(text).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64())
}

/// For each second of the timeline, its period in `cw.minutes`, as the side-by-side
/// counts it.
fn periods_of_seconds(r: &Results, cw: &CloudWatch) -> Option<Vec<usize>> {
    let started = epoch(&r.started_at)?;
    let window = Window {
        start: epoch(&cw.start)? as i64,
        end: epoch(&cw.end)? as i64,
        period_s: cw.period_s.max(1),
    };
    let last = cw.minutes.len().checked_sub(1)?;
    Some(
        r.timeline
            .iter()
            .map(|p| window.period_of(started, p.t_s).min(last))
            .collect(),
    )
}

fn dashed(label: &str, color: &str, values: Vec<Option<f64>>) -> Series {
    Series {
        label: label.into(),
        color: color.into(),
        values,
        dash: true,
        wide: false,
        step: true,
        fill: false,
    }
}

pub fn build(r: &Results) -> AwsSeries {
    let mut out = AwsSeries {
        rate: Vec::new(),
        latency: Vec::new(),
        in_flight: Vec::new(),
    };
    let Some(cw) = r.cloudwatch.as_ref().filter(|c| !c.minutes.is_empty()) else {
        return out;
    };
    let Some(index) = periods_of_seconds(r, cw) else {
        return out;
    };
    let per_s = cw.period_s.max(1) as f64;
    let avg = |what: &str| format!("AWS {what} (per {} s period, avg /s)", cw.period_s.max(1));
    let pick = |f: fn(&ServerMinute) -> Option<f64>, scale: f64| -> Option<Vec<Option<f64>>> {
        let values: Vec<Option<f64>> = index
            .iter()
            .map(|&i| f(&cw.minutes[i].server).map(|v| sig3(v / scale)))
            .collect();
        values.iter().any(Option::is_some).then_some(values)
    };
    let add = |into: &mut Vec<Series>, label: &str, color: &str, values| {
        if let Some(v) = values {
            into.push(dashed(label, color, v));
        }
    };
    add(
        &mut out.rate,
        &avg("Count, API Gateway"),
        "#17becf",
        pick(|m| m.api_count, per_s),
    );
    add(
        &mut out.rate,
        &avg("4XX"),
        "#ff9896",
        pick(|m| m.api_4xx, per_s),
    );
    add(
        &mut out.rate,
        &avg("Lambda Throttles"),
        "#c5b0d5",
        pick(|m| m.throttles.or(m.account_throttles), per_s),
    );
    add(
        &mut out.latency,
        "AWS Latency p99",
        "#17becf",
        pick(|m| m.api_latency_p99_ms, 1.0),
    );
    add(
        &mut out.latency,
        "AWS IntegrationLatency p99",
        "#bcbd22",
        pick(|m| m.api_integration_latency_p99_ms, 1.0),
    );
    add(
        &mut out.latency,
        "AWS Duration p99",
        "#8c564b",
        pick(|m| m.duration_p99_ms, 1.0),
    );
    add(
        &mut out.in_flight,
        "AWS ConcurrentExecutions (max)",
        "#d62728",
        pick(|m| m.concurrent_max.or(m.account_concurrent_max), 1.0),
    );
    out
}
