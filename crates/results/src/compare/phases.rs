//! The timing split in a comparison: each phase both runs timed (`dns` … `receive`), its
//! p50 and p99 set side by side in the section of the run, a stage or a request, and
//! judged as latency's are — the same bounds (`p50`, `p99`) and noise rules, by the same
//! [`super::line`]. Only the exchange's phases (`ttfb`, `receive`: the server's part) are
//! gated; a connection's (`dns`, `connect`, `tls`) are shown "not gated" when they moved:
//! they are few samples with keep-alive, and the loaded client machine's as much as the
//! target's (a SYN retried after a second on a busy host), so they would fail CI gates on
//! noise.

use schemars::JsonSchema;
use serde::Serialize;

use super::stats::Stats;
use super::{line, CompareMetric, Limits, Line};
use crate::timing::{Phase, PhaseHistograms, Timing, TimingHistograms};
use crate::Results;

/// What each phase is compared on.
const METRICS: [CompareMetric; 2] = [CompareMetric::P50, CompareMetric::P99];

/// One phase of a section, base against head.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct PhaseLines {
    /// "dns", "connect", "tls", "ttfb" or "receive".
    pub phase: String,
    /// Its p50 and p99, in ms, with their change, noise, bound and verdict.
    pub lines: Vec<Line>,
}

/// One run's timing of one section: the phases' summaries, and their histograms (for the
/// noise) when the file has them.
pub(super) struct SectionTiming {
    timing: Timing,
    histograms: Option<PhaseHistograms>,
}

impl SectionTiming {
    fn of(timing: Option<&Timing>, histograms: Option<&TimingHistograms>) -> Option<Self> {
        Some(SectionTiming {
            timing: *timing?,
            histograms: histograms.and_then(|h| h.decode().ok()),
        })
    }

    pub(super) fn whole(r: &Results) -> Option<Self> {
        Self::of(r.timing.as_ref(), r.histograms.overall.timing.as_ref())
    }

    pub(super) fn stage(r: &Results, name: &str) -> Option<Self> {
        let s = r.stages.iter().find(|s| s.name == name)?;
        let h = r.histograms.stages.iter().find(|h| h.name == name);
        Self::of(s.timing.as_ref(), h.and_then(|h| h.timing.as_ref()))
    }

    pub(super) fn request(r: &Results, name: &str) -> Option<Self> {
        let q = r.by_request.as_ref()?.get(name)?;
        let h = r.histograms.by_request.as_ref().and_then(|m| m.get(name));
        Self::of(q.timing.as_ref(), h.and_then(|h| h.timing.as_ref()))
    }

    /// The phase's numbers, when some attempt had it.
    fn stats(&self, p: Phase) -> Option<Stats> {
        let summary = self.timing.get(p);
        (summary.count > 0).then(|| {
            let histogram = self.histograms.as_ref().map(|h| h[p.index()].clone());
            Stats::phase(summary, histogram)
        })
    }
}

/// Whether a phase's regression fails the comparison: the exchange's alone.
fn gated(p: Phase) -> bool {
    matches!(p, Phase::Ttfb | Phase::Receive)
}

/// The phases that have counts in both runs, in the order they happen.
pub(super) fn phase_lines(
    base: Option<SectionTiming>,
    head: Option<SectionTiming>,
    limits: &Limits,
    floor_ms: f64,
) -> Vec<PhaseLines> {
    let (Some(base), Some(head)) = (base, head) else {
        return Vec::new();
    };
    let ungated = Limits(Default::default());
    Phase::ALL
        .into_iter()
        .filter_map(|p| {
            let (b, h) = (base.stats(p)?, head.stats(p)?);
            let limits = if gated(p) { limits } else { &ungated };
            Some(PhaseLines {
                phase: p.name().to_string(),
                lines: METRICS
                    .iter()
                    .filter_map(|m| line(*m, &b, &h, limits, floor_ms))
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::Verdict;
    use crate::timing::{new_phase_histograms, record_phase};

    /// A section's timing: `n` attempts with a ttfb of 40–50 ms × `scale` (seeded), and
    /// `connects` of them with a connect of 0.1 ms.
    fn timing(n: u64, scale: f64, connects: u64, seed: u64) -> SectionTiming {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut h = new_phase_histograms();
        for _ in 0..n {
            let us = ((40_000.0 + rng.f64() * 10_000.0) * scale) as u64;
            record_phase(&mut h[Phase::Ttfb.index()], us);
        }
        for _ in 0..connects {
            record_phase(&mut h[Phase::Connect.index()], 100);
        }
        SectionTiming {
            timing: Timing::of(&h),
            histograms: Some(h),
        }
    }

    fn verdicts(p: &PhaseLines) -> Vec<(CompareMetric, Verdict)> {
        p.lines.iter().map(|l| (l.metric, l.verdict)).collect()
    }

    #[test]
    fn a_slower_ttfb_regresses_by_the_latency_bounds_and_a_phase_one_run_lacks_is_left_out() {
        let limits = Limits::default();
        let phases = phase_lines(
            Some(timing(2000, 1.0, 4, 1)),
            Some(timing(2000, 1.5, 0, 2)),
            &limits,
            1.0,
        );
        assert_eq!(phases.len(), 1, "connect only in the base: {phases:#?}");
        assert_eq!(phases[0].phase, "ttfb");
        assert_eq!(
            verdicts(&phases[0]),
            [
                (CompareMetric::P50, Verdict::Regressed),
                (CompareMetric::P99, Verdict::Regressed)
            ]
        );
        assert_eq!(phases[0].lines[1].limit.as_deref(), Some("+10%"));
        // The same server twice: within noise or ok; p99 ungated: not gated at most.
        let mut limits = Limits::default();
        limits.apply(&["p99=off".to_string()]).unwrap();
        let phases = phase_lines(
            Some(timing(2000, 1.0, 4, 1)),
            Some(timing(2000, 1.0, 4, 3)),
            &limits,
            1.0,
        );
        let names: Vec<&str> = phases.iter().map(|p| p.phase.as_str()).collect();
        assert_eq!(names, ["connect", "ttfb"]);
        for p in &phases {
            for (m, v) in verdicts(p) {
                assert!(
                    matches!(v, Verdict::Ok | Verdict::WithinNoise),
                    "{} {m:?}: {v:?}",
                    p.phase
                );
            }
        }
        assert!(phase_lines(None, Some(timing(10, 1.0, 1, 1)), &limits, 1.0).is_empty());
    }

    #[test]
    fn a_slower_connect_is_shown_not_gated() {
        let slow_connects = |scale: f64, seed: u64| {
            let mut t = timing(100, 1.0, 0, seed);
            let mut h = t.histograms.take().unwrap();
            for i in 0..50 {
                record_phase(&mut h[Phase::Connect.index()], (100 + i) * scale as u64);
            }
            SectionTiming {
                timing: Timing::of(&h),
                histograms: Some(h),
            }
        };
        let phases = phase_lines(
            Some(slow_connects(1.0, 1)),
            Some(slow_connects(20.0, 1)),
            &Limits::default(),
            0.001,
        );
        assert_eq!(phases[0].phase, "connect");
        assert_eq!(
            verdicts(&phases[0]),
            [
                (CompareMetric::P50, Verdict::NotGated),
                (CompareMetric::P99, Verdict::NotGated)
            ]
        );
        assert_eq!(phases[0].lines[0].limit, None);
    }
}
