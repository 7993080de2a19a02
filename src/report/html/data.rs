//! The data the HTML report's charts draw: derived series only (never the per-second
//! histograms), columnar, floats rounded to 3 significant digits, as one JSON value.

use std::collections::{BTreeMap, BTreeSet};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::quotas::LimitKey;
use crate::record::{decode, SecondLatency, TimelinePoint};
use crate::results::RequestSecond;
use crate::results::Results;

/// Ticks per half distance to 100% in the percentile spectrum, as HdrHistogram's own
/// percentile output uses.
const SPECTRUM_TICKS: u32 = 5;

#[derive(Debug, Serialize)]
pub struct Data {
    /// Seconds from the run's start: the x of every time chart.
    pub t: Vec<u64>,
    /// Stage spans in seconds, to shade.
    pub stages: Vec<Span>,
    /// Vertical marks: where throttling began.
    pub marks: Vec<Mark>,
    /// Per second: planned, sent, ok, throttled by kind, suspected Lambda throttles, errors.
    pub rate: Vec<Series>,
    /// API Gateway rate limits, req/s.
    pub rate_limits: Vec<Limit>,
    /// Per second latency percentiles of ok and of throttled requests, ms.
    pub latency: Vec<Series>,
    pub in_flight: Vec<Series>,
    /// Concurrency limits.
    pub concurrency_limits: Vec<Limit>,
    pub spectrum: Spectrum,
    /// A probe's steps by offered load: achieved req/s, p99 ms, throttled %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub knee: Option<Knee>,
    /// With `[[requests]]`: per second, each request's attempts sent (one series each,
    /// named after it) and the p99 of its requests that ended, ms.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_rate: Vec<Series>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_p99: Vec<Series>,
    /// Where the time went: each phase's mean per second, stacked (each series the sum of
    /// the phases up to it), the top band first; empty when no attempt had a phase.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timing: Vec<Series>,
}

/// The knee curve: x is the load each step offered, in the order of load.
#[derive(Debug, Serialize)]
pub struct Knee {
    pub x: Vec<f64>,
    /// "req/s" or "concurrent".
    pub unit: String,
    pub achieved: Vec<f64>,
    pub p99_ms: Vec<f64>,
    pub throttled_pct: Vec<f64>,
    /// The knee's load, for a mark.
    pub knee: Option<f64>,
}

fn knee(r: &Results) -> Option<Knee> {
    let p = r.probe.as_ref()?;
    // The last run of each load (a repeated step's second try decided it).
    let mut by_load = std::collections::BTreeMap::new();
    for s in &p.steps {
        by_load.insert(s.load, s);
    }
    Some(Knee {
        x: by_load.keys().map(|l| *l as f64).collect(),
        unit: if p.by == "rate" {
            "req/s"
        } else {
            "concurrent"
        }
        .into(),
        achieved: by_load.values().map(|s| sig3(s.achieved_rps)).collect(),
        p99_ms: by_load.values().map(|s| sig3(s.p99_ms)).collect(),
        throttled_pct: by_load
            .values()
            .map(|s| sig3(s.throttle_rate * 100.0))
            .collect(),
        knee: p.knee.map(|k| k as f64),
    })
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Span {
    pub name: String,
    pub start: f64,
    pub end: f64,
}

#[derive(Debug, Serialize)]
pub struct Mark {
    pub t: f64,
    pub label: String,
}

/// One line of a chart: its legend label, colour and values (null: no value).
#[derive(Debug, Serialize)]
pub struct Series {
    pub label: String,
    pub color: String,
    pub values: Vec<Option<f64>>,
    /// Drawn dashed (throttled answers' latency).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dash: bool,
    /// Drawn wide and pale, beneath the others (planned sends: `sent` on top of it shows
    /// where the two part).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub wide: bool,
    /// Drawn as steps: a count of one second (or of one CloudWatch period) holds for all of
    /// it, so a burst's second rises straight up rather than ramping from the second before.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub step: bool,
    /// Filled down to the axis (a band of a stacked chart).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fill: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Limit {
    pub label: String,
    pub value: f64,
}

/// The percentile spectrum: x is 1/(1−q) (1 = 0%, 10 = 90%, 100 = 99%, …), shared by all
/// series; a series is null where its histogram has no tick.
#[derive(Debug, Default, Serialize)]
pub struct Spectrum {
    pub x: Vec<f64>,
    pub series: Vec<Series>,
}

const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// `v` to 3 significant digits (0 and non-finite values give 0).
pub fn sig3(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return 0.0;
    }
    let digits = 3 - v.abs().log10().floor() as i32 - 1;
    if digits >= 0 {
        let f = 10f64.powi(digits);
        (v * f).round() / f
    } else {
        let f = 10f64.powi(-digits);
        (v / f).round() * f
    }
}

pub fn build(r: &Results) -> Data {
    let tl = &r.timeline;
    let t: Vec<u64> = tl.iter().map(|p| p.t_s).collect();
    // What CloudWatch counted, on the same charts.
    let aws = super::aws::build(r);
    let mut rate = rate_series(tl);
    rate.extend(aws.rate);
    let mut latency = latency_series(tl);
    latency.extend(aws.latency);
    let mut in_flight = vec![Series {
        label: "in flight (max)".into(),
        color: "#1f77b4".into(),
        values: tl.iter().map(|p| Some(p.in_flight_max as f64)).collect(),
        dash: false,
        wide: false,
        step: true,
        fill: false,
    }];
    in_flight.extend(aws.in_flight);
    // A Lambda target: the burst's cold starts, on the chart of what was in flight.
    if tl.iter().any(|p| p.cold_starts > 0) {
        in_flight.push(series(
            "cold starts (per second)",
            "#9467bd",
            counts(tl, |p| p.cold_starts),
        ));
    }
    Data {
        t,
        stages: spans(r),
        marks: marks(r),
        rate,
        rate_limits: limits(r, &RATE_LIMITS),
        latency,
        in_flight,
        concurrency_limits: limits(r, &CONCURRENCY_LIMITS),
        spectrum: spectrum(r),
        knee: knee(r),
        request_rate: request_series(r, |p| Some(p.sent as f64), |_| Some(0.0), true),
        request_p99: request_series(
            r,
            |p| (p.requests > 0).then(|| sig3(p.p99_ms)),
            |_| None,
            false,
        ),
        timing: super::timing_chart::stacked(tl),
    }
}

/// Colours of the requests' lines: Tableau's ten, then the same dashed.
const REQUEST_COLORS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// A series per request of the mix with a timeline, on the run's seconds (`t`): `value`
/// of its second, `quiet` of a second it has none of. Counts are steps, latency lines.
fn request_series(
    r: &Results,
    value: impl Fn(&RequestSecond) -> Option<f64>,
    quiet: impl Fn(u64) -> Option<f64>,
    step: bool,
) -> Vec<Series> {
    let Some(requests) = &r.by_request else {
        return Vec::new();
    };
    if requests.values().all(|q| q.timeline.is_empty()) {
        return Vec::new();
    }
    requests
        .iter()
        .enumerate()
        .map(|(i, (name, q))| {
            let by_t: BTreeMap<u64, &RequestSecond> =
                q.timeline.iter().map(|p| (p.t_s, p)).collect();
            let values = r
                .timeline
                .iter()
                .map(|p| by_t.get(&p.t_s).map_or_else(|| quiet(p.t_s), |s| value(s)))
                .collect();
            let mut s = if step {
                series(name, REQUEST_COLORS[i % 10], values)
            } else {
                line(name, REQUEST_COLORS[i % 10], values)
            };
            s.dash = i >= REQUEST_COLORS.len();
            s
        })
        .collect()
}

/// Each stage from its first scheduled send to the next stage's (the last to the run's end).
fn spans(r: &Results) -> Vec<Span> {
    let end_of_run = r
        .timeline
        .last()
        .map_or(0.0, |p| p.t_s as f64 + 1.0)
        .max(r.duration_s);
    let starts: Vec<(usize, f64)> = r
        .stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.started_s.map(|at| (i, at)))
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &(i, start))| Span {
            name: r.stages[i].name.clone(),
            start: sig3(start),
            end: sig3(starts.get(k + 1).map_or(end_of_run, |n| n.1)),
        })
        .collect()
}

fn marks(r: &Results) -> Vec<Mark> {
    let mut out = Vec::new();
    if let Some(o) = &r.throttle_onset {
        out.push(Mark {
            t: o.t_s as f64,
            label: "first throttle".into(),
        });
    }
    if let Some(o) = &r.quota_check.onset {
        let what = o.limit.map_or("throttling began", |l| l.key());
        if out.first().is_some_and(|m| m.t == o.t_s as f64) {
            out[0].label = format!("first throttle: {what}");
        } else {
            out.push(Mark {
                t: o.t_s as f64,
                label: format!("onset: {what}"),
            });
        }
    }
    out
}

/// A per-second count, drawn as steps.
fn series(label: &str, color: &str, values: Vec<Option<f64>>) -> Series {
    Series {
        label: label.into(),
        color: color.into(),
        values,
        dash: false,
        wide: false,
        step: true,
        fill: false,
    }
}

/// A per-second latency, drawn as a line.
fn line(label: &str, color: &str, values: Vec<Option<f64>>) -> Series {
    Series {
        step: false,
        ..series(label, color, values)
    }
}

fn counts(tl: &[TimelinePoint], f: impl Fn(&TimelinePoint) -> u64) -> Vec<Option<f64>> {
    tl.iter().map(|p| Some(f(p) as f64)).collect()
}

fn rate_series(tl: &[TimelinePoint]) -> Vec<Series> {
    let mut out = Vec::new();
    if tl.iter().any(|p| p.planned.is_some()) {
        let mut planned = series(
            "planned",
            "rgba(127,127,127,0.45)",
            tl.iter().map(|p| p.planned.map(|n| n as f64)).collect(),
        );
        planned.wide = true;
        out.push(planned);
    }
    out.push(series("sent", "#1f77b4", counts(tl, |p| p.sent)));
    out.push(series("ok", "#2ca02c", counts(tl, |p| p.ok)));
    let kinds: BTreeSet<&str> = tl
        .iter()
        .flat_map(|p| p.throttles.keys().map(String::as_str))
        .collect();
    let throttle_colors = [
        "#ff7f0e", "#d62728", "#e377c2", "#bcbd22", "#8c564b", "#9467bd",
    ];
    if kinds.is_empty() {
        out.push(series("throttled", "#ff7f0e", counts(tl, |p| p.throttled)));
    }
    for (i, kind) in kinds.iter().enumerate() {
        out.push(series(
            &format!("throttled: {kind}"),
            throttle_colors[i % throttle_colors.len()],
            counts(tl, |p| p.throttles.get(*kind).copied().unwrap_or(0)),
        ));
    }
    // Suspected Lambda throttles are errors too: the errors line leaves them out, or it
    // would lie on top of theirs and hide it.
    if tl.iter().any(|p| p.suspected_lambda_throttles > 0) {
        out.push(series(
            "other errors",
            "#000000",
            counts(tl, |p| {
                p.errors.saturating_sub(p.suspected_lambda_throttles)
            }),
        ));
        out.push(series(
            "suspected Lambda throttles",
            "#9467bd",
            counts(tl, |p| p.suspected_lambda_throttles),
        ));
    } else {
        out.push(series("errors", "#000000", counts(tl, |p| p.errors)));
    }
    out
}

fn latency_series(tl: &[TimelinePoint]) -> Vec<Series> {
    type Pick = fn(&SecondLatency) -> f64;
    let picks: [(&str, Pick); 4] = [
        ("p50", |l| l.p50),
        ("p90", |l| l.p90),
        ("p99", |l| l.p99),
        ("max", |l| l.max),
    ];
    let ok_colors = ["#2ca02c", "#1f77b4", "#9467bd", "#000000"];
    let thr_colors = ["#ffbb78", "#ff7f0e", "#d62728", "#8c564b"];
    let mut out = Vec::new();
    for (i, (name, pick)) in picks.iter().enumerate() {
        if tl.iter().any(|p| p.ok_ms.is_some()) {
            out.push(line(
                &format!("ok {name}"),
                ok_colors[i],
                tl.iter()
                    .map(|p| p.ok_ms.as_ref().map(|l| sig3(pick(l))))
                    .collect(),
            ));
        }
    }
    for (i, (name, pick)) in picks.iter().enumerate() {
        if tl.iter().any(|p| p.throttled_ms.is_some()) {
            let mut s = line(
                &format!("throttled {name}"),
                thr_colors[i],
                tl.iter()
                    .map(|p| p.throttled_ms.as_ref().map(|l| sig3(pick(l))))
                    .collect(),
            );
            s.dash = true;
            out.push(s);
        }
    }
    out
}

/// The limits drawn on the rate chart, and on the in-flight chart.
pub const RATE_LIMITS: [LimitKey; 2] = [LimitKey::ApigwRate, LimitKey::StageRate];
pub const CONCURRENCY_LIMITS: [LimitKey; 4] = [
    LimitKey::FunctionReservedConcurrency,
    LimitKey::LambdaUnreservedConcurrency,
    LimitKey::LambdaConcurrentExecutions,
    LimitKey::FunctionProvisionedConcurrency,
];

/// The limits among `keys` that have a value, in that order.
fn limits(r: &Results, keys: &[LimitKey]) -> Vec<Limit> {
    limits_of(&r.quota_check.quotas, keys)
}

/// The limits among `keys` that `quotas` give a value, in that order.
pub fn limits_of(quotas: &crate::quotas::Quotas, keys: &[LimitKey]) -> Vec<Limit> {
    keys.iter()
        .filter_map(|k| {
            let q = quotas.quota(*k)?;
            Some(Limit {
                label: k.key().to_string(),
                value: q.value?,
            })
        })
        .collect()
}

/// The points of one histogram's percentile spectrum: (1/(1−q), value in ms), as
/// HdrHistogram's percentile output lists them; the last (q = 1) is put at 1/(1−q) = count.
pub fn spectrum_points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    if h.is_empty() {
        return out;
    }
    let count = h.len() as f64;
    for v in h.iter_quantiles(SPECTRUM_TICKS) {
        let q = v.quantile_iterated_to();
        let ms = h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
        let x = if q >= 1.0 {
            count.max(out.last().map_or(1.0, |p| p.0))
        } else {
            1.0 / (1.0 - q)
        };
        let x = sig3(x);
        match out.last_mut() {
            Some(last) if last.0 >= x => last.1 = last.1.max(ms),
            _ => out.push((x, ms)),
        }
    }
    for p in &mut out {
        p.1 = sig3(p.1);
    }
    out
}

/// Overall and each stage's spectrum on one shared x.
fn spectrum(r: &Results) -> Spectrum {
    let mut curves: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    if let Some(h) = decode(&r.histograms.overall.latency) {
        curves.push(("all".into(), spectrum_points(&h)));
    }
    if r.histograms.stages.len() > 1 {
        for s in &r.histograms.stages {
            if let Some(h) = decode(&s.latency) {
                curves.push((s.name.clone(), spectrum_points(&h)));
            }
        }
    }
    curves.retain(|(_, pts)| !pts.is_empty());
    // x values are rounded, so equal ticks of different histograms share a key.
    let mut xs: BTreeMap<u64, f64> = BTreeMap::new();
    for (_, pts) in &curves {
        for (x, _) in pts {
            xs.insert(x.to_bits(), *x);
        }
    }
    let mut x: Vec<f64> = xs.into_values().collect();
    x.sort_by(f64::total_cmp);
    let series = curves
        .into_iter()
        .enumerate()
        .map(|(i, (name, pts))| {
            let by_x: BTreeMap<u64, f64> = pts.iter().map(|(x, y)| (x.to_bits(), *y)).collect();
            let color = if i == 0 {
                "#000000"
            } else {
                PALETTE[(i - 1) % PALETTE.len()]
            };
            Series {
                label: if i == 0 {
                    name
                } else {
                    format!("stage {name}")
                },
                color: color.into(),
                values: x.iter().map(|x| by_x.get(&x.to_bits()).copied()).collect(),
                dash: false,
                wide: false,
                fill: false,
                step: false,
            }
        })
        .collect();
    Spectrum { x, series }
}

/// The data as JSON that can sit inside `<script type="application/json">`: every `<` is
/// written `\u003c`, so no `</script>` (or `<!--`) in a name or body can end the element.
pub fn to_script_json(data: &Data) -> String {
    let json = serde_json::to_string(data).expect("the report's data serialises");
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits() {
        assert_eq!(sig3(0.0), 0.0);
        assert_eq!(sig3(1.23456), 1.23);
        assert_eq!(sig3(0.0012345), 0.00123);
        assert_eq!(sig3(12345.0), 12300.0);
        assert_eq!(sig3(999.6), 1000.0);
        assert_eq!(sig3(-45.678), -45.7);
        assert_eq!(sig3(f64::NAN), 0.0);
        assert_eq!(serde_json::to_string(&sig3(12345.0)).unwrap(), "12300.0");
    }

    #[test]
    fn the_spectrum_runs_from_0_percent_to_the_max() {
        let mut h = crate::record::new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 10).unwrap();
        }
        let pts = spectrum_points(&h);
        assert_eq!(pts[0].0, 1.0, "0%");
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0), "{pts:?}");
        assert!(pts.windows(2).all(|w| w[0].1 <= w[1].1), "{pts:?}");
        let last = pts.last().unwrap();
        assert!(last.0 >= 10_000.0, "the max at 1/(1-q) = count: {last:?}");
        assert_eq!(last.1, 100.0, "100 ms");
        // p90 is near x = 10: 90 ms.
        let p90 = pts.iter().find(|p| p.0 >= 10.0).unwrap();
        assert!((p90.1 - 90.0).abs() < 1.0, "{p90:?}");
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let data = Data {
            t: vec![],
            stages: vec![Span {
                name: "</script><script>alert(1)</script><!--".into(),
                start: 0.0,
                end: 1.0,
            }],
            marks: vec![],
            rate: vec![],
            rate_limits: vec![],
            latency: vec![],
            in_flight: vec![],
            concurrency_limits: vec![],
            spectrum: Spectrum::default(),
            knee: None,
            request_rate: vec![],
            request_p99: vec![],
            timing: vec![],
        };
        let json = to_script_json(&data);
        assert!(!json.contains('<'), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back["stages"][0]["name"],
            "</script><script>alert(1)</script><!--"
        );
    }
}
