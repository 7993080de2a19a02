//! `stampede compare`: two results files side by side, per stage and for the whole run,
//! each line with its change, its noise and a verdict (ok, within noise, regressed). Pure:
//! the command reads the files and prints what this returns.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::{Results, StageKind};

mod limits;
mod noise;
mod phases;
mod stats;
pub mod tune;

pub use limits::{Bound, CompareMetric, Limits};
pub use phases::PhaseLines;
use phases::{phase_lines, SectionTiming};
use stats::{noise_of, Stats};

pub const SCHEMA: &str = "stampede.compare/1";

/// The section that covers every stage.
pub const WHOLE_RUN: &str = "whole run";

/// What `compare` found: the JSON it writes (`--json`) and what the text and Markdown show.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Comparison {
    /// "stampede.compare/1".
    pub schema: String,
    pub base: Side,
    pub head: Side,
    /// Target or stages differ, compared anyway (`--force`); `mismatches` says how.
    pub forced: bool,
    pub mismatches: Vec<String>,
    /// What to bear in mind: a run interrupted or aborted, a merged file.
    pub notes: Vec<String>,
    /// Latency changes no larger than this are within noise, whatever the data say.
    pub noise_floor_ms: f64,
    /// The bound of each gated metric, as written ("+10%", "+0.5pp").
    pub limits: BTreeMap<String, String>,
    /// The whole run first, then the stages both runs have, in the base's order.
    pub sections: Vec<Section>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub only_in_base: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub only_in_head: Vec<String>,
    /// With `[[requests]]`: a section per request name both runs have (over the whole run,
    /// `kind` absent), in name order. Absent when neither run has a mix.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<Section>,
    /// Request names only the base has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests_only_in_base: Vec<String>,
    /// Request names only the head has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests_only_in_head: Vec<String>,
    /// With `[[flows]]`: a section per flow name both runs have (over the whole run, `kind`
    /// absent), in name order: its end-to-end latency, its rate (flows ended per second)
    /// and its failure rate (failed / started). Absent when neither run has flows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<Section>,
    /// Flow names only the base has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows_only_in_base: Vec<String>,
    /// Flow names only the head has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows_only_in_head: Vec<String>,
    /// When both runs are tunes (`stampede tune`): each strategy's pick, base → head, and
    /// each memory size both measured. Informational: never counted in `regressions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tune: Option<tune::TuneComparison>,
    /// Lines whose verdict is "regressed" (stages, requests and flows): exit 1 when above
    /// zero.
    pub regressions: usize,
}

/// One of the two runs.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Side {
    pub file: String,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    /// Method and URL.
    pub target: String,
    pub duration_s: f64,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Section {
    /// "whole run", a stage's name, or (in `requests`, `flows`) a request's or flow's name.
    pub name: String,
    /// The stage's kind; absent for the whole run.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub kind: Option<StageKind>,
    pub lines: Vec<Line>,
    /// The timing split: p50 and p99 of each phase both runs timed (`dns`, `connect`,
    /// `tls`, `ttfb`, `receive`), judged by the latency's bounds. Absent when none (flows,
    /// files from before the split).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseLines>,
}

impl Section {
    /// Its lines, then its phases' lines with their phase's name.
    pub fn all_lines(&self) -> impl Iterator<Item = (Option<&str>, &Line)> {
        let own = self.lines.iter().map(|l| (None, l));
        let phases = self
            .phases
            .iter()
            .flat_map(|p| p.lines.iter().map(move |l| (Some(p.phase.as_str()), l)));
        own.chain(phases)
    }
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Line {
    pub metric: CompareMetric,
    /// Latency in ms; shares as fractions (0.01 = 1 %); rate in req/s (a flow's: flows/s);
    /// retries per request.
    pub base: f64,
    pub head: f64,
    /// head − base, in the same unit.
    pub delta: f64,
    /// delta / base; absent when the base is zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<f64>,
    /// A change no larger than this (same unit) is within noise.
    pub noise: f64,
    /// The bound, when the metric is gated ("+10%").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    pub verdict: Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Unchanged, better, or worse within the bound.
    Ok,
    /// Changed, but no more than the noise of the data.
    WithinNoise,
    /// Worse past the bound, and past the noise.
    Regressed,
    /// Changed past the noise; the metric is not gated.
    NotGated,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::WithinNoise => "within noise",
            Verdict::Regressed => "regressed",
            Verdict::NotGated => "not gated",
        }
    }
}

/// Why two runs are not comparable without `--force`: each difference, in words.
pub fn mismatches(base: &Results, head: &Results) -> Vec<String> {
    let mut out = Vec::new();
    let target = |r: &Results| format!("{} {}", r.target.method, r.target.url);
    if target(base) != target(head) {
        out.push(format!(
            "the targets differ: {} in the base, {} in the head",
            target(base),
            target(head)
        ));
    }
    // A new connection per request puts connecting in every latency: not the same measure.
    let connections = |r: &Results| {
        let resumed = r.target.tls_resume != Some(false);
        format!(
            "{}{}",
            r.target.connections.as_deref().unwrap_or("keep-alive"),
            if resumed { "" } else { " (TLS not resumed)" }
        )
    };
    if connections(base) != connections(head) {
        out.push(format!(
            "the connections differ: {} in the base, {} in the head",
            connections(base),
            connections(head)
        ));
    }
    // HTTP/2 multiplexes requests on shared connections: not the same load as HTTP/1.1.
    let http = |r: &Results| format!("HTTP/{}", r.target.http.as_deref().unwrap_or("1.1"));
    if http(base) != http(head) {
        out.push(format!(
            "the HTTP versions differ: {} in the base, {} in the head",
            http(base),
            http(head)
        ));
    }
    let stages = |r: &Results| -> Vec<String> {
        r.stages
            .iter()
            .map(|s| format!("{} ({})", s.name, s.kind))
            .collect()
    };
    if stages(base) != stages(head) {
        out.push(format!(
            "the stages differ: [{}] in the base, [{}] in the head",
            stages(base).join(", "),
            stages(head).join(", ")
        ));
    }
    out
}

/// The line of `m`, when it applies to both sides (a flow has no throttle rate).
fn line(m: CompareMetric, b: &Stats, h: &Stats, limits: &Limits, floor_ms: f64) -> Option<Line> {
    let (base, _) = b.value(m)?;
    let (head, _) = h.value(m)?;
    let delta = head - base;
    let noise = noise_of(m, b, h, floor_ms);
    let bound = limits.0.get(&m);
    let verdict = if delta == 0.0 {
        Verdict::Ok
    } else if delta.abs() <= noise {
        Verdict::WithinNoise
    } else if let Some(bound) = bound {
        if bound.exceeded(m, base, head) {
            Verdict::Regressed
        } else {
            Verdict::Ok
        }
    } else {
        Verdict::NotGated
    };
    Some(Line {
        metric: m,
        base,
        head,
        delta,
        change: (base != 0.0).then(|| delta / base),
        noise,
        limit: bound.map(|b| b.describe(m)),
        verdict,
    })
}

/// The numbers of one section of one run: its own, and its timing split's.
type SectionOf = (Stats, Option<SectionTiming>);

fn section(
    name: &str,
    kind: Option<StageKind>,
    (b, b_timing): SectionOf,
    (h, h_timing): SectionOf,
    limits: &Limits,
    floor: f64,
) -> Section {
    Section {
        name: name.to_string(),
        kind,
        lines: CompareMetric::ALL
            .iter()
            .filter_map(|m| line(*m, &b, &h, limits, floor))
            .collect(),
        phases: phase_lines(b_timing, h_timing, limits, floor),
    }
}

/// The file names and the comparison's settings.
pub struct Settings<'a> {
    pub base_file: &'a str,
    pub head_file: &'a str,
    pub limits: &'a Limits,
    pub noise_floor_ms: f64,
    pub force: bool,
}

/// Compares `head` with `base`. Err: what differs, when target or stages differ and
/// `force` is not set.
pub fn compare(base: &Results, head: &Results, s: &Settings) -> Result<Comparison, Vec<String>> {
    let mismatches = mismatches(base, head);
    if !mismatches.is_empty() && !s.force {
        return Err(mismatches);
    }
    let floor = s.noise_floor_ms;
    let mut sections = vec![section(
        WHOLE_RUN,
        None,
        (Stats::whole(base), SectionTiming::whole(base)),
        (Stats::whole(head), SectionTiming::whole(head)),
        s.limits,
        floor,
    )];
    let mut only_in_base = Vec::new();
    for stage in &base.stages {
        match (
            Stats::stage(base, &stage.name),
            Stats::stage(head, &stage.name),
        ) {
            (Some(b), Some(h)) => sections.push(section(
                &stage.name,
                Some(stage.kind),
                (b, SectionTiming::stage(base, &stage.name)),
                (h, SectionTiming::stage(head, &stage.name)),
                s.limits,
                floor,
            )),
            _ => only_in_base.push(stage.name.clone()),
        }
    }
    let only_in_head = head
        .stages
        .iter()
        .filter(|h| !base.stages.iter().any(|b| b.name == h.name))
        .map(|h| h.name.clone())
        .collect();
    let request_stats =
        |r: &Results, name: &str| Some((Stats::request(r, name)?, SectionTiming::request(r, name)));
    let (requests, requests_only_in_base, requests_only_in_head) =
        named_sections(base, head, &request_names, &request_stats, s.limits, floor);
    // A flow's timing is its steps', compared per request.
    let flow_stats = |r: &Results, name: &str| Some((Stats::flow(r, name)?, None));
    let (flows, flows_only_in_base, flows_only_in_head) =
        named_sections(base, head, &flow_names, &flow_stats, s.limits, floor);
    let regressions = sections
        .iter()
        .chain(&requests)
        .chain(&flows)
        .flat_map(|s| s.all_lines())
        .filter(|(_, l)| l.verdict == Verdict::Regressed)
        .count();
    Ok(Comparison {
        schema: SCHEMA.to_string(),
        base: side(s.base_file, base),
        head: side(s.head_file, head),
        forced: !mismatches.is_empty(),
        mismatches,
        notes: [("base", base), ("head", head)]
            .iter()
            .flat_map(|(which, r)| notes(which, r))
            .chain(tune_note(base, head))
            .collect(),
        noise_floor_ms: floor,
        limits: s
            .limits
            .0
            .iter()
            .map(|(m, b)| (m.name().to_string(), b.describe(*m)))
            .collect(),
        sections,
        only_in_base,
        only_in_head,
        requests,
        requests_only_in_base,
        requests_only_in_head,
        flows,
        flows_only_in_base,
        flows_only_in_head,
        tune: match (&base.tune, &head.tune) {
            (Some(b), Some(h)) => Some(tune::compare(b, h)),
            _ => None,
        },
        regressions,
    })
}

fn request_names(r: &Results) -> Vec<String> {
    r.by_request
        .as_ref()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn flow_names(r: &Results) -> Vec<String> {
    r.by_flow
        .as_ref()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// A section per name both runs have (requests or flows, over their whole run, from
/// `stats`), and the names only one has. Keyed by name, as `by_request` and `by_flow` are:
/// a request or flow renamed is two names.
fn named_sections(
    base: &Results,
    head: &Results,
    names: &dyn Fn(&Results) -> Vec<String>,
    stats: &dyn Fn(&Results, &str) -> Option<SectionOf>,
    limits: &Limits,
    floor: f64,
) -> (Vec<Section>, Vec<String>, Vec<String>) {
    let (in_base, in_head) = (names(base), names(head));
    let mut sections = Vec::new();
    let mut only_in_base = Vec::new();
    for name in &in_base {
        match (stats(base, name), stats(head, name)) {
            (Some(b), Some(h)) => sections.push(section(name, None, b, h, limits, floor)),
            _ => only_in_base.push(name.clone()),
        }
    }
    let only_in_head = in_head
        .into_iter()
        .filter(|n| !in_base.contains(n))
        .collect();
    (sections, only_in_base, only_in_head)
}

fn side(file: &str, r: &Results) -> Side {
    Side {
        file: file.to_string(),
        started_at: r.started_at.clone(),
        scenario_id: r.scenario_id.clone(),
        target: format!("{} {}", r.target.method, r.target.url),
        duration_s: r.duration_s,
    }
}

fn notes(which: &str, r: &Results) -> Vec<String> {
    let mut out = Vec::new();
    if r.interrupted {
        out.push(format!(
            "the {which} run was interrupted: it holds only the part that ran"
        ));
    }
    if let Some(trip) = &r.aborted {
        out.push(format!("the {which} run was aborted: {}", trip.describe()));
    }
    if let Some(m) = &r.merged {
        out.push(format!("the {which} is a merge of {} runs", m.files));
    }
    out
}

/// Only one of the two is a tune: its memory sizes have nothing to be compared with.
fn tune_note(base: &Results, head: &Results) -> Option<String> {
    match (&base.tune, &head.tune) {
        (Some(_), None) => {
            Some("only the base is a tune: its memory sizes and picks are not compared".into())
        }
        (None, Some(_)) => {
            Some("only the head is a tune: its memory sizes and picks are not compared".into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        encode, new_histogram, percentiles, Attempts, HistogramPair, Histograms, NamedHistograms,
        StageResult, TargetInfo, Totals,
    };

    /// A run of one 10 s stage `name`: `n` requests, latency 40–50 ms (seeded) times
    /// `scale`, `throttled` of them throttled.
    fn run(name: &str, n: u64, scale: f64, throttled: u64, seed: u64) -> Results {
        let mut rng = fastrand::Rng::with_seed(seed);
        let latencies: Vec<u64> = (0..n)
            .map(|_| ((40_000.0 + rng.f64() * 10_000.0) * scale) as u64)
            .collect();
        run_of(name, &latencies, throttled)
    }

    /// A run of one 10 s stage `name` whose requests took `latencies_us`, the first
    /// `throttled` of them throttled: the results `run` writes for it.
    fn run_of(name: &str, latencies_us: &[u64], throttled: u64) -> Results {
        let n = latencies_us.len() as u64;
        let mut h = new_histogram();
        for &us in latencies_us {
            h.record(us).unwrap();
        }
        let totals = Totals {
            requests: n,
            ok: n - throttled,
            throttled,
            ..Totals::default()
        };
        let attempts = Attempts {
            sent: n,
            ok: n - throttled,
            throttled,
            ..Attempts::default()
        };
        let empty = encode(&new_histogram());
        let stage = StageResult {
            name: name.into(),
            kind: StageKind::Constant,
            released: 0,
            totals,
            attempts,
            throttles: Default::default(),
            status_codes: Default::default(),
            achieved_rps: n as f64 / 10.0,
            planned_requests: Some(n),
            latency_ms: percentiles(&h),
            ok_latency_ms: None,
            service_ms: Default::default(),
            timing: None,
            peak_in_flight: 0,
            dispatch_spread_ms: None,
            lambda: None,
            started_s: Some(0.0),
            by_request: None,
            by_flow: None,
        };
        Results {
            schema: crate::SCHEMA.into(),
            name: Some("api".into()),
            scenario_id: None,
            run_id: None,
            started_at: "1970-01-01T00:00:00.000Z".into(),
            duration_s: 10.0,
            interrupted: false,
            insecure: false,
            by_request: None,
            by_flow: None,
            target: TargetInfo {
                url: "http://127.0.0.1/".into(),
                method: "GET".into(),
                ..Default::default()
            },
            totals,
            attempts,
            throttles: Default::default(),
            status_codes: Default::default(),
            local_errors: Default::default(),
            open_files_limit: None,
            addresses: Default::default(),
            faults: Vec::new(),
            latency_ms: percentiles(&h),
            ok_latency_ms: None,
            service_ms: Default::default(),
            timing: None,
            peak_in_flight: 0,
            throttle_onset: None,
            retry: Default::default(),
            failures: Vec::new(),
            stages: vec![stage],
            timeline: Vec::new(),
            histograms: Histograms {
                encoding: crate::histogram::ENCODING.into(),
                unit: "us".into(),
                overall: HistogramPair {
                    latency: encode(&h),
                    service: empty.clone(),
                    ok_latency: None,
                    timing: None,
                },
                stages: vec![NamedHistograms {
                    name: name.into(),
                    latency: encode(&h),
                    service: empty,
                    ok_latency: None,
                    timing: None,
                }],
                seconds: Vec::new(),
                by_request: None,
                by_flow: None,
            },
            quota_check: Default::default(),
            thresholds: Vec::new(),
            aborted: None,
            emulator: None,
            merged: None,
            shard: None,
            aws: None,
            cloudwatch: None,
            lambda: None,
            probe: None,
            tune: None,
        }
    }

    fn settings(limits: &Limits, force: bool) -> Settings<'_> {
        Settings {
            base_file: "base.json",
            head_file: "head.json",
            limits,
            noise_floor_ms: 1.0,
            force,
        }
    }

    fn verdict(c: &Comparison, section: &str, m: CompareMetric) -> Verdict {
        let s = c.sections.iter().find(|s| s.name == section).unwrap();
        s.lines.iter().find(|l| l.metric == m).unwrap().verdict
    }

    #[test]
    fn two_samples_of_one_server_show_no_regression() {
        let limits = Limits::default();
        for seed in 0..20 {
            let c = compare(
                &run("s", 2000, 1.0, 0, seed),
                &run("s", 2000, 1.0, 0, seed + 100),
                &settings(&limits, false),
            )
            .unwrap();
            assert_eq!(c.regressions, 0, "seed {seed}: {c:#?}");
        }
    }

    #[test]
    fn a_slower_server_regresses_each_percentile_in_each_section() {
        let limits = Limits::default();
        let c = compare(
            &run("s", 2000, 1.0, 0, 1),
            &run("s", 2000, 1.5, 0, 2),
            &settings(&limits, false),
        )
        .unwrap();
        for section in [WHOLE_RUN, "s"] {
            for m in [CompareMetric::P50, CompareMetric::P90, CompareMetric::P99] {
                assert_eq!(
                    verdict(&c, section, m),
                    Verdict::Regressed,
                    "{section} {m:?}"
                );
            }
            assert_eq!(verdict(&c, section, CompareMetric::Max), Verdict::NotGated);
            assert_eq!(
                verdict(&c, section, CompareMetric::ThrottleRate),
                Verdict::Ok
            );
        }
        assert_eq!(c.regressions, 6);
        let p50 = &c.sections[0].lines[0];
        assert!((p50.change.unwrap() - 0.5).abs() < 0.03, "{p50:?}");
        assert_eq!(p50.limit.as_deref(), Some("+10%"));
    }

    #[test]
    fn a_tail_of_two_requests_is_within_noise() {
        // 50 requests: p99's interval runs from the 49th to the 50th. The base's last two
        // took 80 and 100 ms; in the head they took 92 and 115 (+15 %, past the +10 %
        // bound), the other 48 unchanged. The intervals [80, 100] and [92, 115] meet.
        let limits = Limits::default();
        let body: Vec<u64> = (0..48).map(|i| 40_000 + i * 200).collect();
        let base = run_of("s", &[body.clone(), vec![80_000, 100_000]].concat(), 0);
        let head = run_of("s", &[body, vec![92_000, 115_000]].concat(), 0);
        let c = compare(&base, &head, &settings(&limits, false)).unwrap();
        let p99 = &c.sections[0].lines[3];
        assert!(p99.change.unwrap() > 0.10, "past the bound: {p99:?}");
        assert_eq!(
            verdict(&c, WHOLE_RUN, CompareMetric::P99),
            Verdict::WithinNoise
        );
    }

    #[test]
    fn throttles_regress_past_their_points_and_noise() {
        let limits = Limits::default();
        let base = run("s", 4000, 1.0, 0, 1);
        let c = compare(
            &base,
            &run("s", 4000, 1.0, 200, 1),
            &settings(&limits, false),
        )
        .unwrap();
        assert_eq!(
            verdict(&c, "s", CompareMetric::ThrottleRate),
            Verdict::Regressed
        );
        assert_eq!(
            verdict(&c, "s", CompareMetric::FailureRate),
            Verdict::Regressed
        );
        // 1 throttle in 100 is not evidence of anything.
        let c = compare(
            &run("s", 100, 1.0, 0, 1),
            &run("s", 100, 1.0, 1, 1),
            &settings(&limits, false),
        )
        .unwrap();
        assert_eq!(
            verdict(&c, "s", CompareMetric::ThrottleRate),
            Verdict::WithinNoise
        );
    }

    /// A run whose mix has a request per (name, latency scale), 1,000 requests each:
    /// `by_request` and its histograms, as `run` writes them.
    fn run_of_mix(requests: &[(&str, f64)], seed: u64) -> Results {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut r = run("s", 10, 1.0, 0, seed);
        let (mut by_request, mut histograms) = (BTreeMap::new(), BTreeMap::new());
        for (name, scale) in requests {
            let mut h = crate::new_request_histogram();
            for _ in 0..1000 {
                h.record(((40_000.0 + rng.f64() * 10_000.0) * scale) as u64)
                    .unwrap();
            }
            let q = crate::RequestResult {
                totals: Totals {
                    requests: 1000,
                    ok: 1000,
                    ..Totals::default()
                },
                attempts: Attempts {
                    sent: 1000,
                    ok: 1000,
                    ..Attempts::default()
                },
                latency_ms: percentiles(&h),
                achieved_rps: 100.0,
                ..Default::default()
            };
            by_request.insert(name.to_string(), q);
            let pair = crate::RequestHistograms {
                latency: encode(&h),
                service: encode(&h),
                ok_latency: None,
                timing: None,
                stages: Vec::new(),
                seconds: Vec::new(),
            };
            histograms.insert(name.to_string(), pair);
        }
        r.by_request = Some(by_request);
        r.histograms.by_request = Some(histograms);
        r
    }

    #[test]
    fn a_slower_request_regresses_its_own_section_only() {
        let limits = Limits::default();
        let base = run_of_mix(
            &[("get order", 1.0), ("create order", 1.0), ("old", 1.0)],
            1,
        );
        let head = run_of_mix(
            &[("get order", 1.0), ("create order", 1.5), ("new", 1.0)],
            2,
        );
        let c = compare(&base, &head, &settings(&limits, false)).unwrap();
        let names: Vec<&str> = c.requests.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["create order", "get order"], "in name order");
        assert_eq!(c.requests_only_in_base, ["old"]);
        assert_eq!(c.requests_only_in_head, ["new"]);
        let regressed = |s: &Section| {
            s.lines
                .iter()
                .filter(|l| l.verdict == Verdict::Regressed)
                .map(|l| l.metric)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            regressed(&c.requests[0]),
            [CompareMetric::P50, CompareMetric::P90, CompareMetric::P99]
        );
        assert!(regressed(&c.requests[1]).is_empty(), "{:#?}", c.requests[1]);
        assert_eq!(c.regressions, 3, "the run's own sections are unchanged");
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["requests"][0]["name"], "create order");
        assert!(json["requests"][0].get("kind").is_none());
    }

    #[test]
    fn without_a_mix_there_are_no_request_sections() {
        let limits = Limits::default();
        let c = compare(
            &run("s", 100, 1.0, 0, 1),
            &run("s", 100, 1.0, 0, 2),
            &settings(&limits, false),
        )
        .unwrap();
        assert!(c.requests.is_empty());
        let json = serde_json::to_value(&c).unwrap();
        for key in [
            "requests",
            "requests_only_in_base",
            "requests_only_in_head",
            "flows",
            "flows_only_in_base",
            "flows_only_in_head",
        ] {
            assert!(json.get(key).is_none(), "{key}");
        }
    }

    /// A run with a flow per (name, latency scale, failed of 1,000 started): `by_flow` and
    /// its histograms, as `run` writes them.
    fn run_of_flows(flows: &[(&str, f64, u64)], seed: u64) -> Results {
        use crate::flows::{FlowHistograms, FlowResult};
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut r = run("s", 10, 1.0, 0, seed);
        let (mut by_flow, mut histograms) = (BTreeMap::new(), BTreeMap::new());
        for (name, scale, failed) in flows {
            let mut h = crate::new_request_histogram();
            for _ in 0..1000 - failed {
                h.record(((120_000.0 + rng.f64() * 30_000.0) * scale) as u64)
                    .unwrap();
            }
            let f = FlowResult {
                started: 1000,
                completed: 1000 - failed,
                failed: *failed,
                latency_ms: percentiles(&h),
                achieved_fps: 100.0,
                ..FlowResult::default()
            };
            by_flow.insert(name.to_string(), f);
            let latency = encode(&h);
            histograms.insert(
                name.to_string(),
                FlowHistograms {
                    latency,
                    stages: Vec::new(),
                },
            );
        }
        r.by_flow = Some(by_flow);
        r.histograms.by_flow = Some(histograms);
        r
    }

    #[test]
    fn a_slower_or_failing_flow_regresses_its_own_section_only() {
        let limits = Limits::default();
        let base = run_of_flows(&[("buy", 1.0, 0), ("browse", 1.0, 0), ("old", 1.0, 0)], 1);
        let head = run_of_flows(&[("buy", 1.5, 0), ("browse", 1.0, 100), ("new", 1.0, 0)], 2);
        let c = compare(&base, &head, &settings(&limits, false)).unwrap();
        let names: Vec<&str> = c.flows.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["browse", "buy"], "in name order");
        assert_eq!(c.flows_only_in_base, ["old"]);
        assert_eq!(c.flows_only_in_head, ["new"]);
        // A flow's lines: its latency, rate and failure rate; its steps' throttles, errors
        // and retries are theirs, compared per request.
        let metrics: Vec<CompareMetric> = c.flows[0].lines.iter().map(|l| l.metric).collect();
        assert_eq!(
            metrics,
            [
                CompareMetric::P50,
                CompareMetric::P90,
                CompareMetric::P95,
                CompareMetric::P99,
                CompareMetric::P999,
                CompareMetric::Max,
                CompareMetric::Mean,
                CompareMetric::Rate,
                CompareMetric::FailureRate,
            ]
        );
        let regressed = |s: &Section| {
            s.lines
                .iter()
                .filter(|l| l.verdict == Verdict::Regressed)
                .map(|l| l.metric)
                .collect::<Vec<_>>()
        };
        assert_eq!(regressed(&c.flows[0]), [CompareMetric::FailureRate]);
        let failure = c.flows[0].lines.last().unwrap();
        assert_eq!((failure.base, failure.head), (0.0, 0.1));
        assert_eq!(
            regressed(&c.flows[1]),
            [CompareMetric::P50, CompareMetric::P90, CompareMetric::P99]
        );
        assert_eq!(c.regressions, 4, "the run's own sections are unchanged");
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["flows"][1]["name"], "buy");
        assert!(json["flows"][1].get("kind").is_none());
        // Two samples of the same flows: no regression.
        let again = run_of_flows(&[("buy", 1.0, 0), ("browse", 1.0, 0)], 3);
        let c = compare(&base, &again, &settings(&limits, false)).unwrap();
        assert_eq!(c.regressions, 0, "{:#?}", c.flows);
    }

    #[test]
    fn a_run_with_a_connection_per_request_is_not_compared_with_a_kept_alive_one() {
        let limits = Limits::default();
        let base = run("warm", 100, 1.0, 0, 1);
        let mut head = run("warm", 100, 1.0, 0, 1);
        head.target.connections = Some("per-request".into());
        let why = compare(&base, &head, &settings(&limits, false)).unwrap_err();
        assert_eq!(
            why,
            vec!["the connections differ: keep-alive in the base, per-request in the head"]
        );
        head.target.tls_resume = Some(false);
        let why = compare(&base, &head, &settings(&limits, false)).unwrap_err();
        assert!(
            why[0].ends_with("per-request (TLS not resumed) in the head"),
            "{why:?}"
        );
        assert!(compare(&base, &head, &settings(&limits, true)).is_ok());
    }

    #[test]
    fn an_http2_run_is_not_compared_with_an_http1_one() {
        let limits = Limits::default();
        let base = run("warm", 100, 1.0, 0, 1);
        let mut head = run("warm", 100, 1.0, 0, 1);
        head.target.http = Some("2".into());
        let why = compare(&base, &head, &settings(&limits, false)).unwrap_err();
        assert_eq!(
            why,
            vec!["the HTTP versions differ: HTTP/1.1 in the base, HTTP/2 in the head"]
        );
        assert!(compare(&base, &head, &settings(&limits, true)).is_ok());
    }

    #[test]
    fn other_targets_or_stages_are_refused_unless_forced() {
        let limits = Limits::default();
        let base = run("warm", 100, 1.0, 0, 1);
        let mut head = run("peak", 100, 1.0, 0, 1);
        head.target.url = "http://127.0.0.1:9/".into();
        let why = compare(&base, &head, &settings(&limits, false)).unwrap_err();
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(why[0].contains("targets differ"), "{}", why[0]);
        assert!(
            why[1].contains("[warm (constant)] in the base, [peak (constant)]"),
            "{}",
            why[1]
        );
        let c = compare(&base, &head, &settings(&limits, true)).unwrap();
        assert!(c.forced);
        assert_eq!(
            (c.only_in_base.clone(), c.only_in_head.clone()),
            (vec!["warm".to_string()], vec!["peak".to_string()])
        );
        assert_eq!(c.sections.len(), 1, "the whole run only");
    }
}
