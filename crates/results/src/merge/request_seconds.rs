//! The merged per-second timeline of each request of a mix: each file's seconds moved onto
//! the wall clock (as the run's timeline is) and added, each second's percentiles from the
//! added histograms — or, for a second some file gave no histogram of, the highest of the
//! files' (a bound, as for the run's timeline).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::sum::{add_encoded, add_map};
use super::Refusal;
use crate::{
    encode, new_request_histogram, RequestSecond, RequestSecondHistogram, Results, SecondLatency,
};

#[derive(Default)]
struct Second {
    point: RequestSecond,
    latency: Option<Histogram<u64>>,
    approximate: bool,
}

/// Request `name`'s merged seconds over `runs`, file `i`'s moved by `shifts[i]`; the
/// histograms only when every second has them.
pub(super) fn merge_request_seconds(
    runs: &[Results],
    shifts: &[u64],
    name: &str,
) -> Result<(Vec<RequestSecond>, Vec<RequestSecondHistogram>), Refusal> {
    let mut seconds: BTreeMap<u64, Second> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        let Some(req) = r.by_request.as_ref().and_then(|m| m.get(name)) else {
            continue;
        };
        let hists: BTreeMap<u64, &str> = r
            .histograms
            .by_request
            .as_ref()
            .and_then(|m| m.get(name))
            .map(|h| {
                h.seconds
                    .iter()
                    .map(|s| (s.t_s, s.latency.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        for p in &req.timeline {
            let sec = seconds.entry(p.t_s + shifts[i]).or_default();
            let m = &mut sec.point;
            m.sent += p.sent;
            m.ok += p.ok;
            m.throttled += p.throttled;
            m.errors += p.errors;
            // Shards run at once: their peaks in flight add up (as the run's timeline's).
            m.in_flight_max += p.in_flight_max;
            m.suspected_lambda_throttles += p.suspected_lambda_throttles;
            add_map(&mut m.throttles, &p.throttles);
            m.requests += p.requests;
            match hists.get(&p.t_s) {
                Some(h) => {
                    let into = sec.latency.get_or_insert_with(new_request_histogram);
                    let what = format!("request {name:?} second {} latency", p.t_s);
                    add_encoded(into, h, i, &what)?;
                }
                None if p.requests > 0 => {
                    sec.approximate = true;
                    m.p50_ms = m.p50_ms.max(p.p50_ms);
                    m.p99_ms = m.p99_ms.max(p.p99_ms);
                }
                None => {}
            }
        }
    }
    let exact = seconds.values().all(|s| !s.approximate);
    let mut points = Vec::with_capacity(seconds.len());
    let mut histograms = Vec::new();
    for (t_s, mut sec) in seconds {
        sec.point.t_s = t_s;
        if let Some(h) = &sec.latency {
            let of = SecondLatency::of(h);
            let p = &mut sec.point;
            (p.p50_ms, p.p99_ms) = if sec.approximate {
                (p.p50_ms.max(of.p50), p.p99_ms.max(of.p99))
            } else {
                (of.p50, of.p99)
            };
            if exact {
                histograms.push(RequestSecondHistogram {
                    t_s,
                    latency: encode(h),
                });
            }
        }
        points.push(sec.point);
    }
    Ok((points, histograms))
}
