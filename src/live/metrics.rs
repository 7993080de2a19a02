//! The metrics a watched run exposes, as families of samples: what `/metrics` writes in
//! Prometheus's text format ([`super::exposition`]) and remote write pushes. Pure: fed
//! the run's counters and state, returning values. The names are a contract with users'
//! dashboards and alerts (docs/live.md, deploy/grafana/stampede.json).

use crate::classify::THROTTLE_KINDS;
use crate::record::live::{
    CellTotals, LiveState, RequestOutcome, FLOW_OUTCOMES, LATENCY_BUCKETS_S,
};

/// A (stage, flow)'s flows ended, by [`FLOW_OUTCOMES`].
pub type FlowTotals = ((usize, usize), [u64; 3]);
use stampede_results::AttemptClass;

/// What kind of metric a family is, as Prometheus's `# TYPE` line says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One metric family: its name, help, type and samples.
#[derive(Clone, Debug)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub samples: Vec<Sample>,
}

/// One sample: its name's suffix (`_bucket`, `_sum`, `_count` of a histogram; empty
/// otherwise), its labels and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub suffix: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

/// What names the run and its parts in every series.
#[derive(Clone, Debug, Default)]
pub struct About {
    /// The scenario's name (its file's stem, or "adhoc").
    pub scenario: String,
    /// 8 hex digits, as the results' `run_id`.
    pub run_id: String,
    /// "I/N" for a shard, empty for a whole run.
    pub shard: String,
    pub stages: Vec<String>,
    /// The names of a `[[requests]]` mix's entries; empty without one.
    pub requests: Vec<String>,
    /// The names of `[[flows]]`' entries; empty without them.
    pub flows: Vec<String>,
    /// The schedule's planned length, seconds (bursts count as instant).
    pub planned_s: f64,
}

impl About {
    /// The labels every series of the run carries: `scenario`, `run_id`, `shard`.
    pub fn run_labels(&self) -> Vec<(&'static str, String)> {
        let mut labels = vec![
            ("scenario", self.scenario.clone()),
            ("run_id", self.run_id.clone()),
        ];
        if !self.shard.is_empty() {
            labels.push(("shard", self.shard.clone()));
        }
        labels
    }

    fn cell_labels(&self, c: &CellTotals) -> Vec<(&'static str, String)> {
        let mut labels = self.run_labels();
        labels.push((
            "stage",
            self.stages.get(c.stage).cloned().unwrap_or_default(),
        ));
        if let Some(name) = self.requests.get(c.entry) {
            labels.push(("request", name.clone()));
        }
        labels
    }
}

fn with(
    mut labels: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    labels.push((name, value.to_string()));
    labels
}

/// The run's families now: counters from `cells`, gauges from `state`, `planned` the
/// requests the schedule put in the last complete second (`None`: a closed-model stage). A cell appears
/// once its stage has begun (every class then, zeros included, so `rate()` sees a series
/// from its start).
pub fn gather(
    about: &About,
    (cells, flows): (&[CellTotals], &[FlowTotals]),
    state: &LiveState,
    planned: Option<u64>,
) -> Vec<Family> {
    let begun: Vec<&CellTotals> = cells
        .iter()
        // A mix's cell of requests no entry is known of shows only when one was counted.
        .filter(|c| {
            !c.is_empty()
                || (c.stage <= state.stage
                    && (about.requests.is_empty() || c.entry < about.requests.len()))
        })
        .collect();
    let mut requests = Vec::new();
    let mut attempts = Vec::new();
    let mut throttles = Vec::new();
    let mut retries = Vec::new();
    let mut bytes = Vec::new();
    let mut latency = Vec::new();
    for c in &begun {
        let labels = about.cell_labels(c);
        for (outcome, n) in RequestOutcome::ALL.iter().zip(c.requests) {
            requests.push(counter(with(labels.clone(), "outcome", outcome.label()), n));
        }
        for (class, n) in AttemptClass::ALL.iter().zip(c.attempts) {
            attempts.push(counter(with(labels.clone(), "class", class.key()), n));
        }
        for (kind, n) in THROTTLE_KINDS.iter().zip(c.throttles) {
            if n > 0 {
                throttles.push(counter(with(labels.clone(), "kind", kind.key()), n));
            }
        }
        retries.push(counter(labels.clone(), c.retries));
        bytes.push(counter(labels.clone(), c.bytes_received));
        latency.extend(histogram(&labels, c));
    }
    let mut flow_samples = Vec::new();
    for ((stage, flow), ended) in flows {
        if *stage > state.stage && ended.iter().all(|n| *n == 0) {
            continue;
        }
        let mut labels = about.run_labels();
        labels.push((
            "stage",
            about.stages.get(*stage).cloned().unwrap_or_default(),
        ));
        labels.push(("flow", about.flows.get(*flow).cloned().unwrap_or_default()));
        for (outcome, n) in FLOW_OUTCOMES.iter().zip(ended) {
            flow_samples.push(counter(with(labels.clone(), "outcome", outcome), *n));
        }
    }
    let run = about.run_labels();
    let last = state.points.last();
    let mut gauges = vec![
        gauge_family(
            "stampede_in_flight",
            "Attempts under way now.",
            &run,
            state.in_flight as f64,
        ),
        gauge_family(
            "stampede_achieved_rate",
            "Attempts sent in the last complete second (requests per second).",
            &run,
            last.map_or(0.0, |p| p.sent as f64),
        ),
        gauge_family(
            "stampede_elapsed_seconds",
            "Seconds since the run's time zero.",
            &run,
            state.elapsed.as_secs_f64(),
        ),
        gauge_family(
            "stampede_planned_seconds",
            "The schedule's planned length in seconds (a burst counts as instant).",
            &run,
            about.planned_s,
        ),
        gauge_family(
            "stampede_running",
            "1 while the run sends, 0 once it stops (the schedule's end, an abort, a signal).",
            &run,
            if state.stopping { 0.0 } else { 1.0 },
        ),
    ];
    // A closed-model stage plans no rate: no sample rather than a made-up one.
    if let Some(planned) = planned {
        gauges.push(gauge_family(
            "stampede_planned_rate",
            "Requests the schedule planned in the last complete second (requests per second).",
            &run,
            planned as f64,
        ));
    }
    if let Some(name) = about.stages.get(state.stage) {
        gauges.push(gauge_family(
            "stampede_stage",
            "The stage running now, numbered from 1; its name in the stage label.",
            &with(run.clone(), "stage", name),
            (state.stage + 1) as f64,
        ));
    }
    let mut families = vec![
        Family {
            name: "stampede_requests_total",
            help: "Logical requests ended (all attempts and backoff included), by outcome; abandoned: never ended.",
            kind: Kind::Counter,
            samples: requests,
        },
        Family {
            name: "stampede_attempts_total",
            help: "Attempts ended, by class (the results file's attempt classes).",
            kind: Kind::Counter,
            samples: attempts,
        },
        Family {
            name: "stampede_throttles_total",
            help: "Throttled attempts, by who throttled (kind).",
            kind: Kind::Counter,
            samples: throttles,
        },
        Family {
            name: "stampede_retries_total",
            help: "Retries sent.",
            kind: Kind::Counter,
            samples: retries,
        },
        Family {
            name: "stampede_received_bytes_total",
            help: "Body bytes of the answers received.",
            kind: Kind::Counter,
            samples: bytes,
        },
        Family {
            name: "stampede_flows_total",
            help: "Flows of [[flows]] ended, by outcome (completed: every step ok).",
            kind: Kind::Counter,
            samples: flow_samples,
        },
        Family {
            name: "stampede_latency_seconds",
            help: "Latency of logical requests, from their scheduled instant to their end, seconds.",
            kind: Kind::Histogram,
            samples: latency,
        },
    ];
    families.append(&mut gauges);
    families
}

fn counter(labels: Vec<(&'static str, String)>, n: u64) -> Sample {
    Sample {
        suffix: "",
        labels,
        value: n as f64,
    }
}

fn gauge_family(
    name: &'static str,
    help: &'static str,
    labels: &[(&'static str, String)],
    value: f64,
) -> Family {
    Family {
        name,
        help,
        kind: Kind::Gauge,
        samples: vec![Sample {
            suffix: "",
            labels: labels.to_vec(),
            value,
        }],
    }
}

/// A cell's latency as a classic histogram: cumulative buckets, `+Inf`, sum and count.
fn histogram(labels: &[(&'static str, String)], c: &CellTotals) -> Vec<Sample> {
    let mut out = Vec::with_capacity(LATENCY_BUCKETS_S.len() + 3);
    let mut below = 0;
    for (le, n) in LATENCY_BUCKETS_S.iter().zip(c.latency_buckets) {
        below += n;
        out.push(Sample {
            suffix: "_bucket",
            labels: with(labels.to_vec(), "le", &format_value(*le)),
            value: below as f64,
        });
    }
    let count = c.requests_ended();
    out.push(Sample {
        suffix: "_bucket",
        labels: with(labels.to_vec(), "le", "+Inf"),
        value: count as f64,
    });
    out.push(Sample {
        suffix: "_sum",
        labels: labels.to_vec(),
        value: c.latency_sum_us as f64 / 1e6,
    });
    out.push(Sample {
        suffix: "_count",
        labels: labels.to_vec(),
        value: count as f64,
    });
    out
}

/// A value as Prometheus writes one: `+Inf`, `-Inf`, `NaN`, else the shortest decimal that
/// reads back as the same float.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{Outcome, ThrottleKind};
    use crate::record::live::Counters;

    fn about() -> About {
        About {
            scenario: "launch".into(),
            run_id: "0000abcd".into(),
            shard: String::new(),
            stages: vec!["warm".into(), "peak".into()],
            requests: vec![],
            flows: vec![],
            planned_s: 30.0,
        }
    }

    fn family<'a>(all: &'a [Family], name: &str) -> &'a Family {
        all.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn a_stage_not_begun_has_no_series_and_a_begun_one_has_every_class() {
        let counters = Counters::new(1, 2, (0, 0));
        counters.lane(0).unwrap().attempt((0, 0), Outcome::Ok, 0);
        let all = gather(
            &about(),
            (&counters.read(), &[]),
            &LiveState::default(),
            None,
        );
        let attempts = family(&all, "stampede_attempts_total");
        assert_eq!(attempts.samples.len(), AttemptClass::ALL.len());
        assert!(attempts
            .samples
            .iter()
            .all(|s| s.labels.contains(&("stage", "warm".into()))));
        let ok = attempts
            .samples
            .iter()
            .find(|s| s.labels.contains(&("class", "ok".into())))
            .unwrap();
        assert_eq!(ok.value, 1.0);
    }

    #[test]
    fn the_latency_histogram_is_cumulative_and_ends_in_its_count() {
        let counters = Counters::new(1, 1, (0, 0));
        let lane = counters.lane(0).unwrap();
        lane.request((0, 0), Outcome::Ok, 800);
        lane.request((0, 0), Outcome::Throttled(ThrottleKind::Other), 40_000);
        lane.request((0, 0), Outcome::Ok, 90_000_000);
        let all = gather(
            &about(),
            (&counters.read(), &[]),
            &LiveState::default(),
            None,
        );
        let h = family(&all, "stampede_latency_seconds");
        let bucket = |le: &str| {
            h.samples
                .iter()
                .find(|s| s.suffix == "_bucket" && s.labels.contains(&("le", le.into())))
                .unwrap()
                .value
        };
        assert_eq!(bucket("0.001"), 1.0);
        assert_eq!(bucket("0.05"), 2.0);
        assert_eq!(bucket("60"), 2.0);
        assert_eq!(bucket("+Inf"), 3.0);
        let count = h.samples.iter().find(|s| s.suffix == "_count").unwrap();
        assert_eq!(count.value, 3.0);
        let sum = h.samples.iter().find(|s| s.suffix == "_sum").unwrap();
        assert!((sum.value - 90.0408).abs() < 1e-9);
    }

    #[test]
    fn planned_rate_is_absent_where_the_stage_plans_none() {
        let counters = Counters::new(1, 1, (0, 0));
        let state = LiveState::default();
        let all = gather(&about(), (&counters.read(), &[]), &state, None);
        assert!(all.iter().all(|f| f.name != "stampede_planned_rate"));
        let all = gather(&about(), (&counters.read(), &[]), &state, Some(100));
        assert_eq!(
            family(&all, "stampede_planned_rate").samples[0].value,
            100.0
        );
    }
}
