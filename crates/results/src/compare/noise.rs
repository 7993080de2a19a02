//! How big a change must be before `compare` believes it: the statistical noise of each
//! kind of metric, from the data in the two results files. Pure.
//!
//! A difference is "within noise" when it is no larger than the sum of the two sides'
//! uncertainties at about 95 % each (so two equal setups are called within noise far more
//! often than 95 % of the time: `compare` errs towards not crying wolf).

use hdrhistogram::Histogram;

/// The normal quantile for a two-sided 95 % interval.
const Z95: f64 = 1.96;

/// The interval (ms) that holds the `q`-quantile of the population a histogram sampled, at
/// 95 %: the values at ranks n·q ± 1.96·√(n·q·(1−q)), distribution-free (the rank of a
/// sample quantile is binomial). With 200 requests p99's interval runs from p97.6 to the
/// maximum: it is cut there, since a sample says nothing past its largest value, so a small
/// run's p99 is judged by its last few requests (which can understate the noise).
pub fn quantile_interval_ms(h: &Histogram<u64>, q: f64) -> Option<(f64, f64)> {
    let n = h.len();
    if n == 0 {
        return None;
    }
    let half = Z95 * (q * (1.0 - q) / n as f64).sqrt();
    let lo = h.lowest_equivalent(h.value_at_quantile((q - half).max(0.0)));
    let hi = h.value_at_quantile((q + half).min(1.0));
    Some((lo as f64 / 1000.0, hi as f64 / 1000.0))
}

/// The noise of a percentile change from `base` to `head` (ms): how far apart the values may
/// be while their intervals still meet. Going up, that is the base's upper reach plus the
/// head's lower reach; going down, the other two.
pub fn quantile_change_noise(base: (f64, (f64, f64)), head: (f64, (f64, f64))) -> f64 {
    let (b, (b_lo, b_hi)) = base;
    let (h, (h_lo, h_hi)) = head;
    if h >= b {
        (b_hi - b).max(0.0) + (h - h_lo).max(0.0)
    } else {
        (b - b_lo).max(0.0) + (h_hi - h).max(0.0)
    }
}

/// The noise of a change of mean (ms): 1.96 standard errors of the difference.
pub fn mean_change_noise(base: &Histogram<u64>, head: &Histogram<u64>) -> f64 {
    let se2 = |h: &Histogram<u64>| {
        if h.is_empty() {
            0.0
        } else {
            (h.stdev() / 1000.0).powi(2) / h.len() as f64
        }
    };
    Z95 * (se2(base) + se2(head)).sqrt()
}

/// The resolution of the histograms at `ms`: values closer than this are recorded as one.
pub fn resolution_ms(h: &Histogram<u64>, ms: f64) -> f64 {
    h.equivalent_range((ms * 1000.0) as u64) as f64 / 1000.0
}

/// The noise of a change of a share (k of n), as a fraction: 1.96 standard errors of the
/// difference of two proportions.
pub fn share_change_noise(base: (u64, u64), head: (u64, u64)) -> f64 {
    let var = |(k, n): (u64, u64)| {
        if n == 0 {
            return 0.0;
        }
        let p = k as f64 / n as f64;
        p * (1.0 - p) / n as f64
    };
    Z95 * (var(base) + var(head)).sqrt()
}

/// The noise of a change of events per unit (retries per request, requests per second),
/// counting the events as Poisson: `(events, per)` each side, value = events / per.
pub fn count_change_noise(base: (u64, f64), head: (u64, f64)) -> f64 {
    let var = |(k, per): (u64, f64)| {
        if per > 0.0 {
            k as f64 / (per * per)
        } else {
            0.0
        }
    };
    Z95 * (var(base) + var(head)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::new_histogram;

    fn histogram(values_ms: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = new_histogram();
        for v in values_ms {
            h.record(v * 1000).unwrap();
        }
        h
    }

    #[test]
    fn a_small_sample_gives_a_wide_tail_interval() {
        // 200 requests, 1..=200 ms: p99's interval reaches the maximum.
        let h = histogram(1..=200);
        let (lo, hi) = quantile_interval_ms(&h, 0.99).unwrap();
        assert!((195.0..=197.0).contains(&lo), "{lo}");
        assert!(hi >= 199.9, "{hi}");
        // 20,000 requests: p50's interval is ±1.4 % of the ranks, ±2.8 ms here.
        let h = histogram((0..20_000).map(|i| 1 + i % 200));
        let (lo, hi) = quantile_interval_ms(&h, 0.5).unwrap();
        assert!(lo >= 97.0 && hi <= 104.0, "{lo}..{hi}");
        assert!(quantile_interval_ms(&new_histogram(), 0.5).is_none());
    }

    #[test]
    fn change_noise_adds_the_reaches_that_face_each_other() {
        assert_eq!(
            quantile_change_noise((10.0, (9.0, 12.0)), (20.0, (15.0, 21.0))),
            7.0
        );
        assert_eq!(
            quantile_change_noise((20.0, (15.0, 21.0)), (10.0, (9.0, 12.0))),
            7.0
        );
    }

    #[test]
    fn share_noise_shrinks_with_the_sample() {
        let small = share_change_noise((1, 100), (3, 100));
        let large = share_change_noise((100, 10_000), (300, 10_000));
        assert!(small > 0.02, "{small}: 1 % vs 3 % of 100 is noise");
        assert!(large < 0.005, "{large}: 1 % vs 3 % of 10,000 is not");
        assert_eq!(share_change_noise((0, 100), (0, 100)), 0.0);
        assert!(count_change_noise((10, 100.0), (12, 100.0)) > 0.02);
        let h = histogram([1, 2, 3]);
        assert!(mean_change_noise(&h, &h) > 0.0);
        assert!(resolution_ms(&h, 100.0) <= 0.1);
    }
}
