//! Latency histograms: HdrHistogram, 3 significant digits, 1 µs .. 1 h, values in µs.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const HIGHEST_US: u64 = 3_600_000_000;

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).expect("static histogram bounds are valid")
}

/// Significant digits of a request's histograms (`by_request`): 2 (values within 1%), and
/// grown only as far as the values recorded reach. A run of 100 requests × 10 stages keeps
/// a thousand pairs of them per engine thread: ~11 KB each for latencies up to 100 ms
/// (measured: 100 × 10 on 2 threads, 83 MB max RSS against 36 MB for one request), where
/// the stages' precision and range would take ~190 KB each.
pub const REQUEST_SIGFIG: u8 = 2;

/// A histogram of one request of the mix, in one stage or the run.
pub fn new_request_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 2, REQUEST_SIGFIG).expect("valid bounds");
    h.auto(true);
    h
}

/// The latency summary of the results (docs/results.md), in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Percentiles {
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p95: ms(h.value_at_quantile(0.95)),
        p99: ms(h.value_at_quantile(0.99)),
        p999: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
        mean: h.mean() / 1000.0,
    }
}

/// How the results file writes a histogram (docs/results.md): HdrHistogram's V2 format,
/// deflated, in base64 — what HdrHistogram's own libraries read in every language.
pub const ENCODING: &str = "hdrhistogram-v2-deflate-base64";

pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("serialising to memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a histogram written by [`encode`] (for merges, reports and tests).
pub fn decode(text: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    Deserializer::new().deserialize(&mut bytes.as_slice()).ok()
}

/// A second's latency summary, in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SecondLatency {
    /// Logical requests counted.
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl SecondLatency {
    pub fn of(h: &Histogram<u64>) -> SecondLatency {
        let p = percentiles(h);
        SecondLatency {
            count: h.len(),
            p50: p.p50,
            p90: p.p90,
            p99: p.p99,
            max: p.max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_exactly() {
        let mut h = new_histogram();
        for v in [1u64, 250, 1_000, 47_000, 2_000_000] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back.max(), h.max());
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
    }
}
