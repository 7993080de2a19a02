//! The merged stages: counts summed, percentiles from the added histograms, and each
//! stage's start, rate and dispatch spread on the wall clock.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::sum::{add_attempts, add_map, add_opt, add_totals};
use crate::percentiles;
use crate::{Attempts, Results, StageResult, Totals};

/// The stages of `runs` (file `i` started `offsets[i]` s after the earliest), with their
/// added (latency, service) histograms.
pub(super) fn merge_stages(
    runs: &[Results],
    offsets: &[f64],
    stage_h: &[(Histogram<u64>, Histogram<u64>)],
) -> Vec<StageResult> {
    let first = &runs[0];
    first
        .stages
        .iter()
        .enumerate()
        .map(|(k, s0)| {
            let mut st = StageResult {
                name: s0.name.clone(),
                kind: s0.kind,
                released: 0,
                totals: Totals::default(),
                attempts: Attempts::default(),
                throttles: BTreeMap::new(),
                status_codes: BTreeMap::new(),
                achieved_rps: 0.0,
                planned_requests: None,
                latency_ms: percentiles(&stage_h[k].0),
                ok_latency_ms: None,
                service_ms: percentiles(&stage_h[k].1),
                timing: None,
                peak_in_flight: 0,
                dispatch_spread_ms: None,
                started_s: None,
                lambda: None,
                by_request: None,
                by_flow: None,
            };
            // The stage on the wall clock: earliest start to latest end, over the files.
            let mut span: Option<(f64, f64)> = None;
            let mut spread: Option<(f64, f64)> = None;
            for (i, r) in runs.iter().enumerate() {
                let s = &r.stages[k];
                st.released += s.released;
                add_totals(&mut st.totals, &s.totals);
                add_attempts(&mut st.attempts, &s.attempts);
                add_map(&mut st.throttles, &s.throttles);
                add_map(&mut st.status_codes, &s.status_codes);
                match (&mut st.lambda, &s.lambda) {
                    (Some(a), Some(b)) => a.merge(b),
                    (None, Some(b)) => st.lambda = Some(b.clone()),
                    _ => {}
                }
                st.planned_requests = add_opt(st.planned_requests, s.planned_requests);
                st.peak_in_flight += s.peak_in_flight;
                let Some(began) = s.started_s.map(|t| t + offsets[i]) else {
                    continue;
                };
                st.started_s = Some(st.started_s.map_or(began, |t: f64| t.min(began)));
                if s.achieved_rps > 0.0 {
                    let end = began + s.totals.requests as f64 / s.achieved_rps;
                    span = Some(span.map_or((began, end), |(a, b)| (a.min(began), b.max(end))));
                }
                if let Some(ms) = s.dispatch_spread_ms {
                    let end = began + ms / 1e3;
                    spread = Some(spread.map_or((began, end), |(a, b)| (a.min(began), b.max(end))));
                }
            }
            st.achieved_rps = match span {
                Some((a, b)) if b > a => st.totals.requests as f64 / (b - a),
                _ => 0.0,
            };
            st.dispatch_spread_ms = spread.map(|(a, b)| (b - a) * 1e3);
            st
        })
        .collect()
}
