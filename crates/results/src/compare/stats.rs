//! What one section (the whole run, or a stage) of one run brings to a comparison: its
//! numbers per metric, and how large a change of each must be to stand out of the noise.

use hdrhistogram::Histogram;

use super::{noise, CompareMetric};
use crate::{decode, Attempts, Percentiles, Results, Totals};

/// The numbers one section of one run brings.
pub(super) struct Stats<'a> {
    latency: &'a Percentiles,
    histogram: Option<Histogram<u64>>,
    totals: &'a Totals,
    attempts: &'a Attempts,
    rate: f64,
    seconds: f64,
}

impl Stats<'_> {
    pub(super) fn whole(r: &Results) -> Stats<'_> {
        let seconds = r.duration_s.max(0.0);
        Stats {
            latency: &r.latency_ms,
            histogram: decode(&r.histograms.overall.latency),
            totals: &r.totals,
            attempts: &r.attempts,
            rate: if seconds > 0.0 {
                r.totals.requests as f64 / seconds
            } else {
                0.0
            },
            seconds,
        }
    }

    pub(super) fn stage<'r>(r: &'r Results, name: &str) -> Option<Stats<'r>> {
        let s = r.stages.iter().find(|s| s.name == name)?;
        let histogram = r
            .histograms
            .stages
            .iter()
            .find(|h| h.name == name)
            .and_then(|h| decode(&h.latency));
        Some(Stats {
            latency: &s.latency_ms,
            histogram,
            totals: &s.totals,
            attempts: &s.attempts,
            rate: s.achieved_rps,
            seconds: if s.achieved_rps > 0.0 {
                s.totals.requests as f64 / s.achieved_rps
            } else {
                0.0
            },
        })
    }

    /// One request of the mix over the whole run (`by_request`), from its own histogram.
    pub(super) fn request<'r>(r: &'r Results, name: &str) -> Option<Stats<'r>> {
        let q = r.by_request.as_ref()?.get(name)?;
        let histogram = r
            .histograms
            .by_request
            .as_ref()
            .and_then(|h| h.get(name))
            .and_then(|h| decode(&h.latency));
        Some(Stats {
            latency: &q.latency_ms,
            histogram,
            totals: &q.totals,
            attempts: &q.attempts,
            rate: q.achieved_rps,
            seconds: if q.achieved_rps > 0.0 {
                q.totals.requests as f64 / q.achieved_rps
            } else {
                0.0
            },
        })
    }

    fn ended(&self) -> u64 {
        self.totals.requests + self.totals.abandoned
    }

    /// The metric's value and, for shares, (numerator, denominator).
    pub(super) fn value(&self, m: CompareMetric) -> (f64, Option<(u64, u64)>) {
        let share = |k: u64, n: u64| {
            let v = if n == 0 { 0.0 } else { k as f64 / n as f64 };
            (v, Some((k, n)))
        };
        let (t, a, l) = (self.totals, self.attempts, self.latency);
        match m {
            CompareMetric::P50 => (l.p50, None),
            CompareMetric::P90 => (l.p90, None),
            CompareMetric::P95 => (l.p95, None),
            CompareMetric::P99 => (l.p99, None),
            CompareMetric::P999 => (l.p999, None),
            CompareMetric::Max => (l.max, None),
            CompareMetric::Mean => (l.mean, None),
            CompareMetric::Rate => (self.rate, None),
            CompareMetric::ThrottleRate => share(a.throttled, a.sent),
            CompareMetric::ErrorRate => share(t.errors, t.requests),
            CompareMetric::FailureRate => share(self.ended().saturating_sub(t.ok), self.ended()),
            CompareMetric::Retries => (
                if t.requests == 0 {
                    0.0
                } else {
                    t.retries as f64 / t.requests as f64
                },
                None,
            ),
        }
    }
}

fn quantile_of(m: CompareMetric) -> Option<f64> {
    Some(match m {
        CompareMetric::P50 => 0.5,
        CompareMetric::P90 => 0.9,
        CompareMetric::P95 => 0.95,
        CompareMetric::P99 => 0.99,
        CompareMetric::P999 => 0.999,
        _ => return None,
    })
}

/// How large a change of `m` must be to stand out of the noise.
pub(super) fn noise_of(m: CompareMetric, b: &Stats, h: &Stats, floor_ms: f64) -> f64 {
    let (bv, bshare) = b.value(m);
    let (hv, hshare) = h.value(m);
    if let (Some(bs), Some(hs)) = (bshare, hshare) {
        return noise::share_change_noise(bs, hs);
    }
    match m {
        CompareMetric::Rate => noise::count_change_noise(
            (b.totals.requests, b.seconds),
            (h.totals.requests, h.seconds),
        ),
        CompareMetric::Retries => noise::count_change_noise(
            (b.totals.retries, b.totals.requests as f64),
            (h.totals.retries, h.totals.requests as f64),
        ),
        _ => {
            let (Some(bh), Some(hh)) = (&b.histogram, &h.histogram) else {
                return floor_ms;
            };
            let data = match quantile_of(m) {
                Some(q) => match (
                    noise::quantile_interval_ms(bh, q),
                    noise::quantile_interval_ms(hh, q),
                ) {
                    (Some(bi), Some(hi)) => noise::quantile_change_noise((bv, bi), (hv, hi)),
                    _ => 0.0,
                },
                None if m == CompareMetric::Mean => noise::mean_change_noise(bh, hh),
                None => 0.0, // max: one request, no interval
            };
            let resolution = noise::resolution_ms(bh, bv).max(noise::resolution_ms(hh, hv));
            data.max(resolution).max(floor_ms)
        }
    }
}
