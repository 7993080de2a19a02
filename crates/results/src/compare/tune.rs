//! Two tunes compared (`compare` when both files have `tune`): each strategy's pick, base
//! → head, and per memory size both measured its duration p99 and cost per million with
//! their change. Informational: a pick that moved is "changed", never a regression — a
//! tune answers which size to run, and a new answer is news, not a failure; the runs' own
//! latency and throttles stay gated as in every comparison.

use schemars::JsonSchema;
use serde::Serialize;

use crate::tune::{Strategy, Tune, TuneMemory};

#[derive(Clone, Debug, Serialize, JsonSchema, PartialEq)]
pub struct TuneComparison {
    /// The strategy each run asked for.
    pub base_strategy: String,
    pub head_strategy: String,
    /// `cost`, `speed`, `balanced`, in that order.
    pub picks: Vec<PickChange>,
    /// The sizes both measured, by memory.
    pub memories: Vec<MemoryChange>,
    /// Sizes (MB) only one run measured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub only_in_base: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub only_in_head: Vec<u64>,
}

/// One strategy's pick in each run, MB (absent: that run picked none).
#[derive(Clone, Debug, Serialize, JsonSchema, PartialEq)]
pub struct PickChange {
    pub strategy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<u64>,
    /// The pick moved: informational, not a regression.
    pub changed: bool,
}

#[derive(Clone, Debug, Serialize, JsonSchema, PartialEq)]
pub struct MemoryChange {
    /// MB.
    pub memory: u64,
    /// Duration p99, ms.
    pub duration_p99_ms: ValueChange,
    /// USD per million invocations, init billed.
    pub cost_per_million: ValueChange,
}

#[derive(Clone, Copy, Debug, Serialize, JsonSchema, PartialEq)]
pub struct ValueChange {
    pub base: f64,
    pub head: f64,
    /// head − base.
    pub delta: f64,
    /// delta / base; absent when the base is zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<f64>,
}

impl ValueChange {
    fn of(base: f64, head: f64) -> ValueChange {
        let delta = head - base;
        ValueChange {
            base,
            head,
            delta,
            change: (base != 0.0).then(|| delta / base),
        }
    }
}

const STRATEGIES: [Strategy; 3] = [Strategy::Cost, Strategy::Speed, Strategy::Balanced];

/// `base` and `head` compared.
pub fn compare(base: &Tune, head: &Tune) -> TuneComparison {
    let picks = STRATEGIES
        .iter()
        .map(|s| {
            let (b, h) = (
                base.picks.as_ref().map(|p| p.of(*s)),
                head.picks.as_ref().map(|p| p.of(*s)),
            );
            PickChange {
                strategy: s.key().to_string(),
                base: b,
                head: h,
                changed: b != h,
            }
        })
        .collect();
    let find = |t: &Tune, memory: u64| -> Option<TuneMemory> {
        t.memories.iter().find(|m| m.memory == memory).cloned()
    };
    let mut sizes: Vec<u64> = base.memories.iter().map(|m| m.memory).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let memories = sizes
        .iter()
        .filter_map(|&memory| {
            let (b, h) = (find(base, memory)?, find(head, memory)?);
            Some(MemoryChange {
                memory,
                duration_p99_ms: ValueChange::of(b.duration_ms.p99, h.duration_ms.p99),
                cost_per_million: ValueChange::of(b.cost_per_million, h.cost_per_million),
            })
        })
        .collect();
    let only = |of: &Tune, other: &Tune| -> Vec<u64> {
        let mut out: Vec<u64> = of
            .memories
            .iter()
            .map(|m| m.memory)
            .filter(|m| !other.memories.iter().any(|o| o.memory == *m))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    TuneComparison {
        base_strategy: base.strategy.key().to_string(),
        head_strategy: head.strategy.key().to_string(),
        picks,
        memories,
        only_in_base: only(base, head),
        only_in_head: only(head, base),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::{Spread, TunePicks};

    fn size(memory: u64, p99: f64, cost: f64) -> TuneMemory {
        TuneMemory {
            memory,
            invocations: 100,
            duration_ms: Spread {
                p99,
                ..Spread::default()
            },
            cost_per_million: cost,
            ..TuneMemory::default()
        }
    }

    fn tune(sizes: Vec<TuneMemory>, picks: (u64, u64, u64)) -> Tune {
        Tune {
            memories: sizes,
            picks: Some(TunePicks {
                cost: picks.0,
                speed: picks.1,
                balanced: picks.2,
                ..TunePicks::default()
            }),
            ..Tune::default()
        }
    }

    #[test]
    fn each_pick_before_and_after_and_the_sizes_both_measured() {
        // The handler got faster at 1,024 MB (158 → 120 ms: −24%), so balanced moves there
        // from 1,769; 3,008 MB was dropped and 512 MB added.
        let base = tune(
            vec![
                size(128, 1126.0, 2.55),
                size(1024, 158.0, 2.85),
                size(1769, 100.0, 3.08),
                size(3008, 100.0, 5.10),
            ],
            (128, 1769, 1769),
        );
        let head = tune(
            vec![
                size(128, 1126.0, 2.55),
                size(512, 296.0, 2.68),
                size(1024, 120.0, 2.20),
                size(1769, 100.0, 3.08),
            ],
            (1024, 1769, 1024),
        );
        let c = compare(&base, &head);
        let moved: Vec<(&str, Option<u64>, Option<u64>, bool)> = c
            .picks
            .iter()
            .map(|p| (p.strategy.as_str(), p.base, p.head, p.changed))
            .collect();
        assert_eq!(
            moved,
            [
                ("cost", Some(128), Some(1024), true),
                ("speed", Some(1769), Some(1769), false),
                ("balanced", Some(1769), Some(1024), true),
            ]
        );
        let sizes: Vec<u64> = c.memories.iter().map(|m| m.memory).collect();
        assert_eq!(sizes, [128, 1024, 1769]);
        let at_1024 = &c.memories[1];
        assert_eq!(at_1024.duration_p99_ms.delta, -38.0);
        assert!((at_1024.duration_p99_ms.change.unwrap() + 38.0 / 158.0).abs() < 1e-12);
        assert!((at_1024.cost_per_million.delta + 0.65).abs() < 1e-9);
        assert_eq!(
            (c.only_in_base.clone(), c.only_in_head.clone()),
            (vec![3008], vec![512])
        );
        // A run that picked nothing: its side absent, the pick changed.
        let mut none = head.clone();
        none.picks = None;
        let c = compare(&base, &none);
        assert_eq!((c.picks[0].head, c.picks[0].changed), (None, true));
        let json = serde_json::to_value(&c).unwrap();
        assert!(json["picks"][0].get("head").is_none());
    }
}
