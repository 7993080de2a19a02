//! What one section (the whole run, a stage, a request or a flow) of one run brings to a
//! comparison: its numbers per metric, and how large a change of each must be to stand out
//! of the noise.

use hdrhistogram::Histogram;

use super::{noise, CompareMetric};
use crate::flows::FlowResult;
use crate::timing::PhaseSummary;
use crate::{decode, Attempts, Percentiles, Results, Totals};

/// The numbers one section of one run brings. A share is (numerator, denominator); a
/// metric that does not apply (a flow's throttles) is `None` and has no line.
pub(super) struct Stats {
    latency: Percentiles,
    histogram: Option<Histogram<u64>>,
    throttled: Option<(u64, u64)>,
    errors: Option<(u64, u64)>,
    failures: (u64, u64),
    /// Retries per request: (retries, requests).
    retries: Option<(u64, u64)>,
    /// Requests (or flows) per second: `events` over `seconds`.
    rate: f64,
    events: u64,
    seconds: f64,
}

impl Stats {
    /// A run's or a stage's requests: their totals and attempts.
    fn of_requests(
        latency: &Percentiles,
        histogram: Option<Histogram<u64>>,
        t: &Totals,
        a: &Attempts,
        rate: f64,
        seconds: f64,
    ) -> Stats {
        let ended = t.requests + t.abandoned;
        Stats {
            latency: *latency,
            histogram,
            throttled: Some((a.throttled, a.sent)),
            errors: Some((t.errors, t.requests)),
            failures: (ended.saturating_sub(t.ok), ended),
            retries: Some((t.retries, t.requests)),
            rate,
            events: t.requests,
            seconds,
        }
    }

    /// The seconds behind an achieved rate of `events`.
    fn seconds_of(events: u64, rate: f64) -> f64 {
        if rate > 0.0 {
            events as f64 / rate
        } else {
            0.0
        }
    }

    pub(super) fn whole(r: &Results) -> Stats {
        let seconds = r.duration_s.max(0.0);
        let rate = if seconds > 0.0 {
            r.totals.requests as f64 / seconds
        } else {
            0.0
        };
        Stats::of_requests(
            &r.latency_ms,
            decode(&r.histograms.overall.latency),
            &r.totals,
            &r.attempts,
            rate,
            seconds,
        )
    }

    pub(super) fn stage(r: &Results, name: &str) -> Option<Stats> {
        let s = r.stages.iter().find(|s| s.name == name)?;
        let histogram = r
            .histograms
            .stages
            .iter()
            .find(|h| h.name == name)
            .and_then(|h| decode(&h.latency));
        Some(Stats::of_requests(
            &s.latency_ms,
            histogram,
            &s.totals,
            &s.attempts,
            s.achieved_rps,
            Stats::seconds_of(s.totals.requests, s.achieved_rps),
        ))
    }

    /// One request of the mix over the whole run (`by_request`), from its own histogram.
    pub(super) fn request(r: &Results, name: &str) -> Option<Stats> {
        let q = r.by_request.as_ref()?.get(name)?;
        let histogram = r
            .histograms
            .by_request
            .as_ref()
            .and_then(|h| h.get(name))
            .and_then(|h| decode(&h.latency));
        Some(Stats::of_requests(
            &q.latency_ms,
            histogram,
            &q.totals,
            &q.attempts,
            q.achieved_rps,
            Stats::seconds_of(q.totals.requests, q.achieved_rps),
        ))
    }

    /// One flow over the whole run (`by_flow`), from its own end-to-end latency histogram:
    /// its latency, its rate (flows ended per second) and its failure rate (failed /
    /// started, as its thresholds judge it). Throttles, errors and retries are its steps',
    /// compared per request.
    pub(super) fn flow(r: &Results, name: &str) -> Option<Stats> {
        let f: &FlowResult = r.by_flow.as_ref()?.get(name)?;
        let histogram = r
            .histograms
            .by_flow
            .as_ref()
            .and_then(|h| h.get(name))
            .and_then(|h| decode(&h.latency));
        Some(Stats {
            latency: f.latency_ms,
            histogram,
            throttled: None,
            errors: None,
            failures: (f.failed, f.started),
            retries: None,
            rate: f.achieved_fps,
            events: f.ended(),
            seconds: Stats::seconds_of(f.ended(), f.achieved_fps),
        })
    }

    /// One phase of the timing split (`compare::phases`): only its percentiles are asked
    /// for.
    pub(super) fn phase(s: &PhaseSummary, histogram: Option<Histogram<u64>>) -> Stats {
        Stats {
            latency: s.ms,
            histogram,
            throttled: None,
            errors: None,
            failures: (0, 0),
            retries: None,
            rate: 0.0,
            events: s.count,
            seconds: 0.0,
        }
    }

    /// The metric's value and, for shares, (numerator, denominator); `None` when it does
    /// not apply to this section.
    pub(super) fn value(&self, m: CompareMetric) -> Option<(f64, Option<(u64, u64)>)> {
        let share = |(k, n): (u64, u64)| {
            let v = if n == 0 { 0.0 } else { k as f64 / n as f64 };
            (v, Some((k, n)))
        };
        let l = &self.latency;
        Some(match m {
            CompareMetric::P50 => (l.p50, None),
            CompareMetric::P90 => (l.p90, None),
            CompareMetric::P95 => (l.p95, None),
            CompareMetric::P99 => (l.p99, None),
            CompareMetric::P999 => (l.p999, None),
            CompareMetric::Max => (l.max, None),
            CompareMetric::Mean => (l.mean, None),
            CompareMetric::Rate => (self.rate, None),
            CompareMetric::ThrottleRate => share(self.throttled?),
            CompareMetric::ErrorRate => share(self.errors?),
            CompareMetric::FailureRate => share(self.failures),
            CompareMetric::Retries => {
                let (retries, requests) = self.retries?;
                (
                    if requests == 0 {
                        0.0
                    } else {
                        retries as f64 / requests as f64
                    },
                    None,
                )
            }
        })
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

/// How large a change of `m` must be to stand out of the noise (`m` applies to both).
pub(super) fn noise_of(m: CompareMetric, b: &Stats, h: &Stats, floor_ms: f64) -> f64 {
    let (Some((bv, bshare)), Some((hv, hshare))) = (b.value(m), h.value(m)) else {
        return 0.0;
    };
    if let (Some(bs), Some(hs)) = (bshare, hshare) {
        return noise::share_change_noise(bs, hs);
    }
    match m {
        CompareMetric::Rate => {
            noise::count_change_noise((b.events, b.seconds), (h.events, h.seconds))
        }
        CompareMetric::Retries => {
            let per = |s: &Stats| s.retries.map_or((0, 0.0), |(k, n)| (k, n as f64));
            noise::count_change_noise(per(b), per(h))
        }
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
