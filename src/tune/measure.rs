//! One memory size's entry (`TuneMemory`) from the results of its run: the REPORT lines'
//! duration and init, cold starts, the cost per million invocations with the init billed
//! and without it, the requests' latency, throttles and errors. Pure.

use stampede_lambda::{Architecture, Cost, Prices};
use stampede_results::histogram::Percentiles;
use stampede_results::lambda::LambdaSeen;
use stampede_results::tune::{Spread, TuneMemory};
use stampede_results::{Results, Totals};

pub fn spread(p: &Percentiles) -> Spread {
    Spread {
        p50: p.p50,
        p90: p.p90,
        p99: p.p99,
        max: p.max,
    }
}

/// `memory` MB's entry from the results of the run against `version`, priced at
/// `prices` for `architecture`. Without REPORT lines (a load through a URL), duration,
/// init and cost stay zero: only the latency, throttles and errors are measured.
pub fn memory_entry(
    memory: u64,
    version: Option<&str>,
    run: &Results,
    architecture: Architecture,
    prices: &Prices,
) -> TuneMemory {
    entry(
        (memory, version),
        (&run.latency_ms, &run.totals),
        run.lambda.as_ref().map(|l| &l.seen),
        architecture,
        prices,
    )
}

/// The entry from the parts of the results it reads.
fn entry(
    (memory, version): (u64, Option<&str>),
    (latency, totals): (&Percentiles, &Totals),
    seen: Option<&LambdaSeen>,
    architecture: Architecture,
    prices: &Prices,
) -> TuneMemory {
    let mut entry = TuneMemory {
        memory,
        version: version.map(str::to_string),
        latency_ms: spread(latency),
        throttles: totals.throttled,
        errors: totals.errors,
        ..TuneMemory::default()
    };
    let Some(seen) = seen.filter(|s| s.reports > 0) else {
        return entry;
    };
    entry.invocations = seen.reports;
    entry.duration_ms = spread(&seen.duration_ms);
    entry.cold_starts = seen.cold_starts;
    entry.init_ms = (seen.cold_starts > 0).then(|| spread(&seen.init_ms));
    let mb = if seen.memory_mb > 0 {
        seen.memory_mb
    } else {
        memory
    };
    // Σ init ms of the cold starts, from their mean: what billing the init added.
    let init_mb_ms = (seen.init_ms.mean * seen.cold_starts as f64 * mb as f64) as u128;
    let per_million = |mb_ms: u128| {
        Cost::of(seen.reports, mb_ms, architecture, prices).total_usd / seen.reports as f64 * 1e6
    };
    entry.cost_per_million = per_million(seen.mb_ms as u128);
    entry.cost_per_million_without_init =
        per_million((seen.mb_ms as u128).saturating_sub(init_mb_ms));
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(seen: Option<&LambdaSeen>, memory: u64, arch: Architecture) -> TuneMemory {
        let latency = Percentiles {
            p99: 42.0,
            ..Percentiles::default()
        };
        let totals = Totals {
            throttled: 3,
            ..Totals::default()
        };
        let version = (memory == 1024).then_some("7");
        entry(
            (memory, version),
            (&latency, &totals),
            seen,
            arch,
            &Prices::default(),
        )
    }

    #[test]
    fn cost_with_and_without_the_init_billed() {
        // 1,000 invocations of 100 ms at 1024 MB, 10 of them with 200 ms of init billed.
        let mut seen = LambdaSeen {
            invocations: 1000,
            reports: 1000,
            cold_starts: 10,
            memory_mb: 1024,
            mb_ms: (1000 * 100 + 10 * 200) * 1024,
            ..LambdaSeen::default()
        };
        seen.init_ms.mean = 200.0;
        seen.duration_ms.p99 = 100.0;
        let prices = Prices::default();
        let m = measured(Some(&seen), 1024, Architecture::X86_64);
        // Per invocation: 0.1 s (+ 0.002 s of init on average) × 1 GB.
        let compute = |s: f64| s * prices.per_gb_second_x86_64 * 1e6;
        let requests = prices.per_million_requests;
        assert!((m.cost_per_million - (requests + compute(0.102))).abs() < 1e-9);
        assert!((m.cost_per_million_without_init - (requests + compute(0.1))).abs() < 1e-9);
        assert_eq!((m.cold_starts, m.invocations, m.throttles), (10, 1000, 3));
        assert_eq!(m.duration_ms.p99, 100.0);
        assert_eq!(m.init_ms.map(|i| i.p99), Some(0.0));
        assert_eq!(m.version.as_deref(), Some("7"));
        assert_eq!(m.latency_ms.p99, 42.0);
    }

    #[test]
    fn through_a_url_only_the_latency_is_measured() {
        let m = measured(None, 512, Architecture::Arm64);
        assert_eq!(
            (m.invocations, m.cost_per_million, m.init_ms),
            (0, 0.0, None)
        );
        assert_eq!((m.latency_ms.p99, m.throttles), (42.0, 3));
    }
}
