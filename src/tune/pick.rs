//! Which memory size each strategy picks from the sizes measured (docs/tune.md, "Reading
//! the answer"), and why, in words with the numbers. Pure.
//!
//! - `cost`: the lowest cost per million invocations, init included; ties → the faster.
//! - `speed`: the smallest size whose duration p99 is within [`SPEED_TOLERANCE`] of the
//!   fastest: memory that buys no speed is not picked.
//! - `balanced`: cost and duration p99 each scaled to [0, 1] over the sizes measured,
//!   `(1 − balance) × cost + balance × duration`, the lowest; ties → the smaller size.
//!
//! A size with no invocations, or where most requests were throttled or failed, is not
//! picked (see [`unpickable`]): its numbers describe the few requests that got through.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use stampede_lambda::cost::usd;
use stampede_results::tune::{Strategy, TuneMemory, TunePicks};

use crate::verdict::ms;

/// A duration p99 within this share of the fastest counts as as fast: a p99 measured
/// under load moves by a few percent from run to run, and a size that is not measurably
/// faster only costs more.
pub const SPEED_TOLERANCE: f64 = 0.05;

/// The most of a size's requests that may be throttled or failed for it to be picked.
pub const FAILED_MAX: f64 = 0.5;

/// The key of [`TunePicks::why`] that lists the sizes left out, and why.
pub const NOT_PICKED: &str = "not_picked";

/// Each strategy's pick from `memories` (`balance`: the weight of speed against cost for
/// `balanced`, 0 to 1); `None` when no size can be picked (none measured, or every one
/// left out: [`unpickable`] says why).
pub fn picks(memories: &[TuneMemory], balance: f64) -> Option<TunePicks> {
    let mut sizes: Vec<&TuneMemory> = memories
        .iter()
        .filter(|m| unpickable(m).is_none())
        .collect();
    sizes.sort_by_key(|m| m.memory);
    sizes.dedup_by_key(|m| m.memory);
    if sizes.is_empty() {
        return None;
    }
    let balance = if balance.is_nan() {
        0.5
    } else {
        balance.clamp(0.0, 1.0)
    };
    let cost = cheapest(&sizes);
    let speed = fastest_useful(&sizes);
    let scores = balanced_scores(&sizes, balance);
    let best = lowest_score(&scores);
    let mut why = BTreeMap::from([
        (Strategy::Cost.key().to_string(), why_cost(&sizes, cost)),
        (Strategy::Speed.key().to_string(), why_speed(&sizes, speed)),
        (
            Strategy::Balanced.key().to_string(),
            why_balanced(&sizes, &scores, best, balance),
        ),
    ]);
    let left_out: Vec<String> = memories
        .iter()
        .filter_map(|m| Some(format!("{} ({})", mb(m.memory), unpickable(m)?)))
        .collect();
    if !left_out.is_empty() {
        why.insert(
            NOT_PICKED.to_string(),
            format!("not picked: {}", left_out.join("; ")),
        );
    }
    Some(TunePicks {
        cost: sizes[cost].memory,
        speed: sizes[speed].memory,
        balanced: sizes[best].memory,
        why,
    })
}

/// Why `m` cannot be picked, in words; `None` when it can.
pub fn unpickable(m: &TuneMemory) -> Option<String> {
    if m.invocations == 0 {
        return Some("no invocations".into());
    }
    if !m.cost_per_million.is_finite() || !m.duration_ms.p99.is_finite() {
        return Some("no cost or duration measured".into());
    }
    // Throttled attempts never ran; errors may or may not have (a function error did).
    let requests = m.invocations + m.throttles;
    let failed = (m.throttles + m.errors).min(requests);
    let share = failed as f64 / requests as f64;
    (share > FAILED_MAX).then(|| {
        format!(
            "{:.0}% of its requests throttled or failed: its numbers are of the few that ran",
            share * 100.0
        )
    })
}

/// "1,769 MB".
pub fn mb(memory: u64) -> String {
    let digits = memory.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out + " MB"
}

fn p99(m: &TuneMemory) -> f64 {
    m.duration_ms.p99
}

/// The index of the cheapest; ties → the faster, then the smaller.
fn cheapest(sizes: &[&TuneMemory]) -> usize {
    (0..sizes.len())
        .min_by(|&a, &b| {
            let (a, b) = (sizes[a], sizes[b]);
            a.cost_per_million
                .total_cmp(&b.cost_per_million)
                .then(p99(a).total_cmp(&p99(b)))
                .then(a.memory.cmp(&b.memory))
        })
        .expect("at least one size")
}

/// The index of the fastest (the smaller on a tie).
fn fastest(sizes: &[&TuneMemory]) -> usize {
    (0..sizes.len())
        .min_by(|&a, &b| p99(sizes[a]).total_cmp(&p99(sizes[b])))
        .expect("at least one size")
}

fn within_tolerance(p99: f64, fastest: f64) -> bool {
    p99 <= fastest * (1.0 + SPEED_TOLERANCE)
}

/// The index of the smallest size within [`SPEED_TOLERANCE`] of the fastest (sizes in
/// order of memory).
fn fastest_useful(sizes: &[&TuneMemory]) -> usize {
    let top = p99(sizes[fastest(sizes)]);
    sizes
        .iter()
        .position(|m| within_tolerance(p99(m), top))
        .expect("the fastest is within its own tolerance")
}

/// Per size: (score, cost scaled, duration scaled), each scaled to [0, 1] over the sizes.
fn balanced_scores(sizes: &[&TuneMemory], balance: f64) -> Vec<(f64, f64, f64)> {
    let scale = |f: &dyn Fn(&TuneMemory) -> f64| -> Vec<f64> {
        let values: Vec<f64> = sizes.iter().map(|m| f(m)).collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        values
            .iter()
            .map(|v| if hi > lo { (v - lo) / (hi - lo) } else { 0.0 })
            .collect()
    };
    let cost = scale(&|m| m.cost_per_million);
    let duration = scale(&p99);
    cost.iter()
        .zip(&duration)
        .map(|(c, d)| ((1.0 - balance) * c + balance * d, *c, *d))
        .collect()
}

/// The index of the lowest score; ties → the first (the smaller size).
fn lowest_score(scores: &[(f64, f64, f64)]) -> usize {
    (0..scores.len())
        .min_by(|&a, &b| scores[a].0.total_cmp(&scores[b].0))
        .expect("at least one size")
}

/// A weight as people write it: "0.5", "1", "0.25".
fn weight(w: f64) -> String {
    let text = format!("{w:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// "70% more", "3% less", "the same".
fn relative(value: f64, to: f64, more: &str, less: &str) -> String {
    if to <= 0.0 {
        return format!("{more} (from nothing)");
    }
    let change = (value / to - 1.0) * 100.0;
    match change.round().partial_cmp(&0.0) {
        Some(Ordering::Greater) => format!("{change:.0}% {more}"),
        Some(Ordering::Less) => format!("{:.0}% {less}", -change),
        _ => "the same".into(),
    }
}

fn costs(other: &TuneMemory, pick: &TuneMemory) -> String {
    match relative(
        other.cost_per_million,
        pick.cost_per_million,
        "more",
        "less",
    )
    .as_str()
    {
        "the same" => "costs the same".into(),
        r => format!("costs {r}"),
    }
}

fn why_cost(sizes: &[&TuneMemory], pick: usize) -> String {
    let c = sizes[pick];
    let head = format!(
        "{}: {} per million invocations with init billed",
        mb(c.memory),
        usd(c.cost_per_million)
    );
    let mut others: Vec<&TuneMemory> = sizes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != pick)
        .map(|(_, m)| *m)
        .collect();
    others.sort_by(|a, b| a.cost_per_million.total_cmp(&b.cost_per_million));
    let Some(next) = others.first() else {
        return format!("{head}, the only size that could be picked");
    };
    format!(
        "{head}, the cheapest of {}; the next, {}, {} ({}) at p99 {} against {}",
        sizes.len(),
        mb(next.memory),
        costs(next, c),
        usd(next.cost_per_million),
        ms(p99(next)),
        ms(p99(c))
    )
}

fn why_speed(sizes: &[&TuneMemory], pick: usize) -> String {
    let s = sizes[pick];
    let top = sizes[fastest(sizes)];
    let tolerance = format!("{:.0}%", SPEED_TOLERANCE * 100.0);
    let head = if top.memory == s.memory {
        format!("{}: p99 {}, the fastest", mb(s.memory), ms(p99(s)))
    } else {
        format!(
            "{}: p99 {}, within {tolerance} of the fastest ({} at {})",
            mb(s.memory),
            ms(p99(s)),
            mb(top.memory),
            ms(p99(top))
        )
    };
    let no_faster: Vec<&TuneMemory> = sizes[pick + 1..]
        .iter()
        .filter(|m| within_tolerance(p99(m), p99(top)))
        .copied()
        .collect();
    match no_faster.as_slice() {
        [] => match pick.checked_sub(1).map(|i| sizes[i]) {
            Some(smaller) => format!(
                "{head}; {} is {} (p99 {})",
                mb(smaller.memory),
                relative(p99(smaller), p99(s), "slower", "faster"),
                ms(p99(smaller))
            ),
            None => head,
        },
        [one] => format!(
            "{head}; {} is no faster ({}, within {tolerance}) and {}",
            mb(one.memory),
            ms(p99(one)),
            costs(one, s)
        ),
        [.., largest] => format!(
            "{head}; {} are no faster (within {tolerance}); {} {}",
            no_faster
                .iter()
                .map(|m| format!("{} ({})", mb(m.memory), ms(p99(m))))
                .collect::<Vec<_>>()
                .join(", "),
            mb(largest.memory),
            costs(largest, s)
        ),
    }
}

fn why_balanced(
    sizes: &[&TuneMemory],
    scores: &[(f64, f64, f64)],
    pick: usize,
    balance: f64,
) -> String {
    let b = sizes[pick];
    let (score, cost, duration) = scores[pick];
    let range = |f: &dyn Fn(&TuneMemory) -> f64| {
        let values = sizes.iter().map(|m| f(m));
        let lo = values.clone().fold(f64::INFINITY, f64::min);
        let hi = values.fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    };
    let (cost_lo, cost_hi) = range(&|m| m.cost_per_million);
    let (p99_lo, p99_hi) = range(&p99);
    let head = format!(
        "{}: the lowest score at balance {}, {score:.2} = {} × cost {cost:.2} + {} × duration {duration:.2}, each scaled over the sizes measured ({}–{} per million, p99 {}–{})",
        mb(b.memory),
        weight(balance),
        weight(1.0 - balance),
        weight(balance),
        usd(cost_lo),
        usd(cost_hi),
        ms(p99_lo),
        ms(p99_hi)
    );
    let next = (0..sizes.len())
        .filter(|&i| i != pick)
        .min_by(|&x, &y| scores[x].0.total_cmp(&scores[y].0));
    match next {
        Some(i) => format!(
            "{head}; the next, {}, scores {:.2}",
            mb(sizes[i].memory),
            scores[i].0
        ),
        None => head,
    }
}

#[cfg(test)]
mod tests;
