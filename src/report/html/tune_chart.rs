//! The data of the "Memory" section's chart (`results.tune`): a point per memory size,
//! its duration p99 (x) and cost per million with init (y), labelled, with the strategies
//! that picked it; embedded apart from the run's data as `#tune-data`.

use serde::Serialize;
use stampede_results::tune::Tune;

use super::data::sig3;
use crate::report::tune::STRATEGIES;
use crate::tune::pick::{mb, unpickable};

#[derive(Debug, Serialize)]
pub struct TuneChart {
    /// In order of duration, then of memory.
    pub points: Vec<TunePoint>,
    /// The strategy asked for: its pick is emphasised.
    pub asked: String,
}

#[derive(Debug, Serialize)]
pub struct TunePoint {
    pub memory: u64,
    /// "1,769 MB".
    pub label: String,
    pub p99_ms: f64,
    pub cost: f64,
    /// The strategies that picked it ("cost", "speed", "balanced").
    pub picks: Vec<String>,
    /// Left out of the picks (no invocations, or mostly failed).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub left_out: bool,
}

pub fn build(t: &Tune) -> TuneChart {
    let mut points: Vec<TunePoint> = t
        .memories
        .iter()
        .filter(|m| m.invocations > 0 && m.cost_per_million.is_finite())
        .map(|m| TunePoint {
            memory: m.memory,
            label: mb(m.memory),
            p99_ms: sig3(m.duration_ms.p99),
            cost: sig3(m.cost_per_million),
            picks: t.picks.as_ref().map_or(Vec::new(), |p| {
                STRATEGIES
                    .iter()
                    .filter(|s| p.of(**s) == m.memory)
                    .map(|s| s.key().to_string())
                    .collect()
            }),
            left_out: unpickable(m).is_some(),
        })
        .collect();
    points.sort_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms).then(a.memory.cmp(&b.memory)));
    TuneChart {
        points,
        asked: t.strategy.key().to_string(),
    }
}

/// The chart's data as JSON that can sit in `<script type="application/json">`.
pub fn to_script_json(t: &Tune) -> String {
    let json = serde_json::to_string(&build(t)).expect("the tune chart serialises");
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_per_size_in_order_of_duration_with_its_picks() {
        let r = crate::report::fixture::tuned();
        let c = build(r.tune.as_ref().unwrap());
        let order: Vec<u64> = c.points.iter().map(|p| p.memory).collect();
        assert_eq!(order, [1769, 3008, 1024, 512, 256, 128]);
        assert_eq!(c.points[0].picks, ["speed"]);
        assert_eq!(c.points[2].picks, ["balanced"]);
        assert_eq!(c.points[5].picks, ["cost"]);
        assert_eq!((c.points[0].p99_ms, c.points[0].cost), (100.0, 3.17));
        assert_eq!(c.asked, "balanced");
    }
}
