use super::*;
use stampede_results::tune::Spread;

/// One size as a tune measures it: every duration `duration_ms` (so p50 = p99 = max),
/// `cost` per million, 1,000 invocations, none throttled or failed.
fn size(memory: u64, duration_ms: f64, cost: f64) -> TuneMemory {
    let spread = Spread {
        p50: duration_ms,
        p90: duration_ms,
        p99: duration_ms,
        max: duration_ms,
    };
    TuneMemory {
        memory,
        invocations: 1000,
        duration_ms: spread,
        cost_per_million: cost,
        cost_per_million_without_init: cost,
        latency_ms: spread,
        ..TuneMemory::default()
    }
}

/// The emulator's model, computed by hand: CPU 80 ms at 1,769 MB (one vCPU), scaled by the
/// share of a vCPU the memory buys, plus 20 ms of waiting; billed rounded up to 1 ms; cost
/// per million = $0.20 + billed s × GB × $0.0000166667 × 10⁶.
///
/// | MB    | duration ms                       | billed | GB        | $ per million                          |
/// |-------|-----------------------------------|--------|-----------|----------------------------------------|
/// | 128   | 20 + 80 × 13.8203125  = 1125.625  | 1126   | 0.125     | 0.20 + 1.126 × 0.125 × 16.6667 = 2.545838 |
/// | 256   | 20 + 80 × 6.91015625  = 572.8125  | 573    | 0.25      | 0.20 + 0.573 × 0.25 × 16.6667 = 2.587505  |
/// | 512   | 20 + 80 × 3.455078125 = 296.40625 | 297    | 0.5       | 0.20 + 0.297 × 0.5 × 16.6667 = 2.675005   |
/// | 1024  | 20 + 80 × 1.727539063 = 158.203125| 159    | 1         | 0.20 + 0.159 × 1 × 16.6667 = 2.850005     |
/// | 1769  | 20 + 80 × 1           = 100       | 100    | 1.7275391 | 0.20 + 0.100 × 1.7275391 × 16.6667 = 3.079238 |
/// | 3008  | 20 + 80 × 1           = 100       | 100    | 2.9375    | 0.20 + 0.100 × 2.9375 × 16.6667 = 5.095843 |
fn emulator_model() -> Vec<TuneMemory> {
    vec![
        size(128, 1125.625, 2.545838),
        size(256, 572.8125, 2.587505),
        size(512, 296.40625, 2.675005),
        size(1024, 158.203125, 2.850005),
        size(1769, 100.0, 3.079238),
        size(3008, 100.0, 5.095843),
    ]
}

#[test]
fn the_table_by_hand_is_the_models() {
    for m in emulator_model() {
        let duration = 20.0 + 80.0 * (1769.0 / m.memory as f64).max(1.0);
        let billed_s = duration.ceil() / 1000.0;
        let cost = 0.20 + billed_s * m.memory as f64 / 1024.0 * 0.000_016_666_7 * 1e6;
        assert!((m.duration_ms.p99 - duration).abs() < 1e-9, "{}", m.memory);
        assert!((m.cost_per_million - cost).abs() < 1e-6, "{}", m.memory);
    }
}

#[test]
fn the_emulator_models_picks() {
    // cost: 128 MB is the cheapest ($2.545838). speed: 1,769 and 3,008 MB are both
    // 100 ms, the smaller is picked. balanced at 0.5, over cost $2.545838–$5.095843
    // (range 2.550005) and p99 100–1125.625 ms (range 1025.625):
    //   512:  0.5 × 0.129167/2.550005 + 0.5 × 196.40625/1025.625 = 0.5 × 0.050654 + 0.5 × 0.191499 = 0.121077
    //   1024: 0.5 × 0.304167/2.550005 + 0.5 × 58.203125/1025.625 = 0.5 × 0.119281 + 0.5 × 0.056749 = 0.088015
    //   1769: 0.5 × 0.533400/2.550005 + 0.5 × 0                  = 0.5 × 0.209176               = 0.104588
    //   (128 and 3,008: 0.5; 256: 0.5 × 0.016340 + 0.5 × 0.461000 = 0.238670)
    let p = picks(&emulator_model(), 0.5).unwrap();
    assert_eq!((p.cost, p.speed, p.balanced), (128, 1769, 1024));
    assert_eq!(
        p.why["cost"],
        "128 MB: $2.55 per million invocations with init billed, the cheapest of 6; \
         the next, 256 MB, costs 2% more ($2.59) at p99 573ms against 1126ms"
    );
    assert_eq!(
        p.why["speed"],
        "1,769 MB: p99 100ms, the fastest; 3,008 MB is no faster (100ms, within 5%) \
         and costs 65% more"
    );
    assert_eq!(
        p.why["balanced"],
        "1,024 MB: the lowest score at balance 0.5, 0.09 = 0.5 × cost 0.12 + 0.5 × \
         duration 0.06, each scaled over the sizes measured ($2.55–$5.10 per million, \
         p99 100ms–1126ms); the next, 1,769 MB, scores 0.10"
    );
    assert!(!p.why.contains_key(NOT_PICKED));
}

#[test]
fn the_balance_moves_the_balanced_pick_from_cost_to_speed() {
    // Scaled (cost, duration) from the table: 128 (0, 1), 256 (0.016340, 0.461000),
    // 512 (0.050654, 0.191499), 1024 (0.119281, 0.056749), 1769 (0.209176, 0),
    // 3008 (1, 0).
    //   balance 0: cost alone, 128 at 0.
    //   balance 0.2: 512 = 0.8 × 0.050654 + 0.2 × 0.191499 = 0.078823; 1024 = 0.106774;
    //     256 = 0.105272; 128 = 0.2.
    //   balance 0.8: 1769 = 0.2 × 0.209176 = 0.041835; 1024 = 0.069255.
    //   balance 1: duration alone, 1769 and 3008 tie at 0: the smaller.
    let at = |b| picks(&emulator_model(), b).unwrap().balanced;
    assert_eq!([at(0.0), at(0.2), at(0.8), at(1.0)], [128, 512, 1769, 1769]);
    // Out of range: held to [0, 1].
    assert_eq!([at(-3.0), at(7.0)], [128, 1769]);
}

#[test]
fn speed_takes_a_larger_size_only_when_it_is_measurably_faster() {
    // 3,008 MB 1% faster (99 ms): within 5% of it, 1,769 MB (100 ms) is as fast.
    let mut sizes = emulator_model();
    sizes[5].duration_ms.p99 = 99.0;
    let p = picks(&sizes, 0.5).unwrap();
    assert_eq!(p.speed, 1769);
    assert_eq!(
        p.why["speed"],
        "1,769 MB: p99 100ms, within 5% of the fastest (3,008 MB at 99.0ms); 3,008 MB is \
         no faster (99.0ms, within 5%) and costs 65% more"
    );
    // 94 ms: 100 > 94 × 1.05 = 98.7, so 3,008 MB is faster past the tolerance.
    sizes[5].duration_ms.p99 = 94.0;
    let p = picks(&sizes, 0.5).unwrap();
    assert_eq!(p.speed, 3008);
    assert_eq!(
        p.why["speed"],
        "3,008 MB: p99 94.0ms, the fastest; 1,769 MB is 6% slower (p99 100ms)"
    );
}

#[test]
fn cost_ties_go_to_the_faster_and_balanced_ties_to_the_smaller() {
    let sizes = [
        size(512, 300.0, 2.0),
        size(1024, 150.0, 2.0),
        size(2048, 150.0, 4.0),
    ];
    let p = picks(&sizes, 0.5).unwrap();
    assert_eq!(p.cost, 1024, "as cheap as 512 MB and faster");
    assert!(
        p.why["cost"].contains("512 MB, costs the same ($2.00)"),
        "{p:?}"
    );
    // Two sizes with the same score (0.5 each): 512 (cost 0, duration 1) and 2048
    // (cost 1, duration 0); 1024 (cost 0, duration 0) is lower still.
    assert_eq!(p.balanced, 1024);
    let sizes = [size(512, 300.0, 2.0), size(2048, 150.0, 4.0)];
    assert_eq!(picks(&sizes, 0.5).unwrap().balanced, 512);
}

#[test]
fn sizes_that_mostly_failed_or_never_ran_are_not_picked() {
    let mut sizes = emulator_model();
    // 128 MB never ran; 256 MB: 700 throttled of 1,100 requests (64%); 3,008 MB: 400
    // errors and 100 throttled of 1,100 (45%): still picked.
    sizes[0].invocations = 0;
    sizes[1].invocations = 400;
    sizes[1].throttles = 700;
    sizes[5].invocations = 1000;
    sizes[5].throttles = 100;
    sizes[5].errors = 400;
    assert_eq!(unpickable(&sizes[0]).as_deref(), Some("no invocations"));
    assert!(unpickable(&sizes[1])
        .unwrap()
        .starts_with("64% of its requests"));
    assert_eq!(unpickable(&sizes[5]), None);
    let p = picks(&sizes, 0.5).unwrap();
    // The cheapest left is 512 MB.
    assert_eq!((p.cost, p.speed), (512, 1769));
    assert_eq!(
        p.why[NOT_PICKED],
        "not picked: 128 MB (no invocations); 256 MB (64% of its requests throttled or \
         failed: its numbers are of the few that ran)"
    );
    // Nothing to pick: none.
    assert_eq!(picks(&sizes[..2], 0.5), None);
    assert_eq!(picks(&[], 0.5), None);
}

#[test]
fn one_size_is_every_strategys_pick() {
    let p = picks(&[size(1024, 150.0, 2.5)], 0.5).unwrap();
    assert_eq!((p.cost, p.speed, p.balanced), (1024, 1024, 1024));
    assert_eq!(
        p.why["cost"],
        "1,024 MB: $2.50 per million invocations with init billed, the only size that could be picked"
    );
    assert_eq!(p.why["speed"], "1,024 MB: p99 150ms, the fastest");
}

#[test]
fn memory_reads_with_thousands() {
    assert_eq!(mb(128), "128 MB");
    assert_eq!(mb(1769), "1,769 MB");
    assert_eq!(mb(10240), "10,240 MB");
    assert_eq!(weight(0.5), "0.5");
    assert_eq!(weight(1.0), "1");
    assert_eq!(weight(0.25), "0.25");
}
