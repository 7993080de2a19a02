//! The merged timeline: each file's seconds moved onto the wall clock and added, the
//! percentiles of each second from the added per-second histograms (or, for files without
//! them, bounded: `merged.per_second_exact` false).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::sum::{add_encoded, add_map, add_opt};
use super::Refusal;
use crate::Results;
use crate::{encode, new_histogram, SecondHistograms, SecondLatency, TimelinePoint};

/// One merged second, as it is summed.
#[derive(Default)]
struct Second {
    point: TimelinePoint,
    latency: Option<Histogram<u64>>,
    ok: Option<Histogram<u64>>,
    throttled: Option<Histogram<u64>>,
    /// A file that ended requests in this second gave no histogram for it.
    approximate: bool,
}

/// Percentiles of a second without its histograms: the highest of the files' (the union's
/// p-quantile is never above the highest of the parts' p-quantiles), the max exact.
fn bound(a: Option<SecondLatency>, b: Option<SecondLatency>) -> Option<SecondLatency> {
    match (a, b) {
        (Some(a), Some(b)) => Some(SecondLatency {
            count: a.count + b.count,
            p50: a.p50.max(b.p50),
            p90: a.p90.max(b.p90),
            p99: a.p99.max(b.p99),
            max: a.max.max(b.max),
        }),
        (a, b) => a.or(b),
    }
}

/// The merged seconds of `runs`, file `i`'s moved by `shifts[i]` whole seconds: the
/// timeline, the per-second histograms (none unless every second is exact), and whether
/// every second is exact. `concurrent`: the runs' peaks in flight add up (else the higher).
pub(super) fn merge_seconds(
    runs: &[Results],
    shifts: &[u64],
    concurrent: bool,
) -> Result<(Vec<TimelinePoint>, Vec<SecondHistograms>, bool), Refusal> {
    let mut seconds: BTreeMap<u64, Second> = BTreeMap::new();
    let mut per_second_exact = true;
    for (i, r) in runs.iter().enumerate() {
        let shift = shifts[i];
        if r.merged.as_ref().is_some_and(|m| !m.per_second_exact) {
            per_second_exact = false;
        }
        let hists: BTreeMap<u64, &SecondHistograms> =
            r.histograms.seconds.iter().map(|h| (h.t_s, h)).collect();
        for p in &r.timeline {
            let t = p.t_s + shift;
            let sec = seconds.entry(t).or_default();
            let m = &mut sec.point;
            m.sent += p.sent;
            m.ok += p.ok;
            m.throttled += p.throttled;
            m.errors += p.errors;
            // Each file's peak in its second: at once, their sum bounds the merged
            // second's; one after another, the higher is it.
            m.in_flight_max = if concurrent {
                m.in_flight_max + p.in_flight_max
            } else {
                m.in_flight_max.max(p.in_flight_max)
            };
            m.requests += p.requests;
            m.failed += p.failed;
            m.throttled_requests += p.throttled_requests;
            m.suspected_lambda_throttles += p.suspected_lambda_throttles;
            m.cold_starts += p.cold_starts;
            m.bytes_received += p.bytes_received;
            if let Some(t) = &p.timing_ms {
                m.timing_ms.get_or_insert_default().add(t);
            }
            add_map(&mut m.throttles, &p.throttles);
            m.planned = add_opt(m.planned, p.planned);
            m.client_rate_limit = add_opt(m.client_rate_limit, p.client_rate_limit);
            match hists.get(&p.t_s) {
                Some(h) => {
                    let all = sec.latency.get_or_insert_with(new_histogram);
                    add_encoded(all, &h.latency, i, &format!("second {} latency", p.t_s))?;
                    if !h.ok.is_empty() {
                        let ok = sec.ok.get_or_insert_with(new_histogram);
                        add_encoded(ok, &h.ok, i, &format!("second {} ok", p.t_s))?;
                    }
                    if !h.throttled.is_empty() {
                        let th = sec.throttled.get_or_insert_with(new_histogram);
                        add_encoded(th, &h.throttled, i, &format!("second {} throttled", p.t_s))?;
                    }
                }
                None if p.requests > 0 || p.max_ms > 0.0 => {
                    per_second_exact = false;
                    sec.approximate = true;
                    m.p50_ms = m.p50_ms.max(p.p50_ms);
                    m.p90_ms = m.p90_ms.max(p.p90_ms);
                    m.p99_ms = m.p99_ms.max(p.p99_ms);
                    m.max_ms = m.max_ms.max(p.max_ms);
                    m.ok_ms = bound(m.ok_ms, p.ok_ms);
                    m.throttled_ms = bound(m.throttled_ms, p.throttled_ms);
                }
                None => {}
            }
        }
    }
    let last = seconds.keys().next_back().copied();
    let mut timeline = Vec::new();
    let mut second_histograms = Vec::new();
    for t in last.map_or(0..0, |l| 0..l + 1) {
        let Some(mut sec) = seconds.remove(&t) else {
            timeline.push(TimelinePoint {
                t_s: t,
                ..TimelinePoint::default()
            });
            continue;
        };
        sec.point.t_s = t;
        if let Some(h) = &sec.latency {
            let of = |h: &Option<Histogram<u64>>| h.as_ref().map(SecondLatency::of);
            let all = SecondLatency::of(h);
            let p = &mut sec.point;
            if sec.approximate {
                // Both kinds of file in this second: the bound of both.
                p.p50_ms = p.p50_ms.max(all.p50);
                p.p90_ms = p.p90_ms.max(all.p90);
                p.p99_ms = p.p99_ms.max(all.p99);
                p.max_ms = p.max_ms.max(all.max);
                p.ok_ms = bound(p.ok_ms, of(&sec.ok));
                p.throttled_ms = bound(p.throttled_ms, of(&sec.throttled));
            } else {
                (p.p50_ms, p.p90_ms, p.p99_ms, p.max_ms) = (all.p50, all.p90, all.p99, all.max);
                (p.ok_ms, p.throttled_ms) = (of(&sec.ok), of(&sec.throttled));
            }
            let enc = |h: &Option<Histogram<u64>>| h.as_ref().map_or(String::new(), encode);
            second_histograms.push(SecondHistograms {
                t_s: t,
                latency: encode(h),
                ok: enc(&sec.ok),
                throttled: enc(&sec.throttled),
            });
        }
        timeline.push(sec.point);
    }
    if !per_second_exact {
        // Histograms of some files' seconds only would pass for the whole.
        second_histograms.clear();
    }
    Ok((timeline, second_histograms, per_second_exact))
}
