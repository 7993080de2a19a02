//! The stacked view of where the time went: per second, each phase's mean over the
//! attempts that ended in it (`timeline[].timing_ms`), stacked — each series the sum of the
//! phases up to it, drawn filled, the top band first so the lower ones paint over it.

use super::data::{sig3, Series};
use crate::record::TimelinePoint;
use crate::results::timing::Phase;

/// A colour per phase: the connection's in cool tones, the answer's in warm ones.
fn color(phase: Phase) -> &'static str {
    match phase {
        Phase::Dns => "#9edae5",
        Phase::Connect => "#6baed6",
        Phase::Tls => "#3182bd",
        Phase::Ttfb => "#fd8d3c",
        Phase::Receive => "#fdd0a2",
    }
}

/// The bands, top first; empty when no second has a phase.
pub fn stacked(tl: &[TimelinePoint]) -> Vec<Series> {
    let present: Vec<Phase> = Phase::ALL
        .into_iter()
        .filter(|p| {
            tl.iter()
                .any(|s| s.timing_ms.is_some_and(|t| t.get(*p).count > 0))
        })
        .collect();
    let mut bands: Vec<Series> = Vec::new();
    let mut below: Vec<Option<f64>> = tl.iter().map(|s| s.timing_ms.map(|_| 0.0)).collect();
    for phase in present {
        let top: Vec<Option<f64>> = tl
            .iter()
            .zip(&below)
            .map(|(s, under)| Some((*under)? + s.timing_ms?.get(phase).mean_ms()))
            .collect();
        bands.push(Series {
            label: phase.name().to_string(),
            color: color(phase).to_string(),
            values: top.iter().map(|v| v.map(sig3)).collect(),
            dash: false,
            wide: false,
            step: true,
            fill: true,
        });
        below = top;
    }
    bands.reverse();
    bands
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::timing::SecondTiming;

    #[test]
    fn each_band_tops_the_one_below_and_a_quiet_second_has_none() {
        let second = |t_s, sums: [(u64, u64); 5]| TimelinePoint {
            t_s,
            timing_ms: SecondTiming::of(&sums),
            ..TimelinePoint::default()
        };
        let tl = [
            second(0, [(0, 0), (2, 400), (0, 0), (4, 200_000), (4, 1_000_000)]),
            second(1, [(0, 0); 5]),
            second(2, [(0, 0), (0, 0), (0, 0), (1, 60_000), (1, 240_000)]),
        ];
        let bands = stacked(&tl);
        let labels: Vec<&str> = bands.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(
            labels,
            ["receive", "ttfb", "connect"],
            "no dns or tls: no band"
        );
        assert_eq!(bands[2].values, [Some(0.2), None, Some(0.0)]);
        assert_eq!(bands[1].values, [Some(50.2), None, Some(60.0)]);
        assert_eq!(bands[0].values, [Some(300.0), None, Some(300.0)]);
        assert!(stacked(&[second(0, [(0, 0); 5])]).is_empty());
    }
}
