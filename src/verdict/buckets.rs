//! Which API Gateway token bucket emptied first. The stage's throttle and the account's
//! answer the same 429, so the answers cannot say which one refused; the sends can: each
//! candidate bucket (rate, burst) is simulated over the run's per-second sends, and the
//! first to empty is the cause. Pure.

use super::num;
use crate::quotas::{LimitKey, Quotas};

/// One token bucket: `rate` tokens a second, `burst` at most, full when the run began.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Bucket {
    /// The rate limit's key (`StageRate`, `ApigwRate`).
    pub rate_limit: LimitKey,
    pub rate: f64,
    pub burst: f64,
    /// False when the burst was not read and the bucket is taken as one second of rate.
    pub burst_known: bool,
}

/// When a bucket first ran out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Emptied {
    /// The second (index into the sends) it ran out in.
    pub second: usize,
    /// When in the run, in seconds: the sends of a second taken as evenly spread.
    pub at_s: f64,
    /// It was full when that second began, and the sends fell back under the rate the
    /// second after (or the run ended): one second's spike emptied it, not a rate kept up.
    pub spike: bool,
    /// What it refuses over the whole run, taken alone.
    pub refused: f64,
}

impl Bucket {
    /// The API Gateway buckets the quotas know: a route's own and its usage plan's (in a
    /// route's view of the quotas), the stage's and the account's.
    pub fn of(quotas: &Quotas) -> Vec<Bucket> {
        [
            (LimitKey::RouteThrottleRate, LimitKey::RouteThrottleBurst),
            (LimitKey::UsagePlanRate, LimitKey::UsagePlanBurst),
            (LimitKey::StageRate, LimitKey::StageBurst),
            (LimitKey::ApigwRate, LimitKey::ApigwBurst),
        ]
        .into_iter()
        .filter_map(|(r, b)| {
            let rate = quotas.get(r)?;
            let burst = quotas.get(b);
            Some(Bucket {
                rate_limit: r,
                rate,
                burst: burst.unwrap_or(rate),
                burst_known: burst.is_some(),
            })
        })
        .collect()
    }

    /// Its burst's key.
    pub fn burst_limit(&self) -> LimitKey {
        match self.rate_limit {
            LimitKey::RouteThrottleRate => LimitKey::RouteThrottleBurst,
            LimitKey::UsagePlanRate => LimitKey::UsagePlanBurst,
            LimitKey::StageRate => LimitKey::StageBurst,
            _ => LimitKey::ApigwBurst,
        }
    }

    /// What a person calls it.
    pub fn name(&self) -> &'static str {
        match self.rate_limit {
            LimitKey::RouteThrottleRate => "route throttle",
            LimitKey::UsagePlanRate => "usage plan throttle",
            LimitKey::StageRate => "stage throttle",
            _ => "API Gateway account throttle",
        }
    }

    /// "600 req/s, burst 300".
    pub fn describe(&self) -> String {
        format!(
            "{} req/s, burst {}{}",
            num(self.rate),
            num(self.burst),
            if self.burst_known {
                ""
            } else {
                " (not known: taken as one second of rate)"
            }
        )
    }

    /// The limit to name when this bucket runs out: its burst when a one-second spike
    /// emptied it from full, else its rate.
    pub fn limit(&self, e: &Emptied) -> LimitKey {
        if e.spike {
            self.burst_limit()
        } else {
            self.rate_limit
        }
    }

    /// Runs the bucket over `sent` (requests per second): when it first ran out, if it did.
    /// Refill is continuous and a second's sends evenly spread, so within a second the
    /// level moves by `rate − sent`; a refused request takes no token.
    pub fn simulate(&self, sent: &[f64]) -> Option<Emptied> {
        let mut level = self.burst;
        let mut first: Option<Emptied> = None;
        let mut refused = 0.0;
        for (i, &s) in sent.iter().enumerate() {
            let after = level + self.rate - s;
            if after < 0.0 {
                if first.is_none() {
                    // The level falls at s − rate a second from `level`.
                    let into = (level / (s - self.rate)).clamp(0.0, 1.0);
                    first = Some(Emptied {
                        second: i,
                        at_s: i as f64 + into,
                        spike: level >= self.burst
                            && sent.get(i + 1).is_none_or(|next| *next <= self.rate),
                        refused: 0.0,
                    });
                }
                refused += -after;
                level = 0.0;
            } else {
                level = after.min(self.burst);
            }
        }
        first.map(|e| Emptied { refused, ..e })
    }
}

/// The buckets that ran out, first first.
pub(super) fn emptied_in_order(buckets: &[Bucket], sent: &[f64]) -> Vec<(Bucket, Emptied)> {
    let mut out: Vec<(Bucket, Emptied)> = buckets
        .iter()
        .filter_map(|b| b.simulate(sent).map(|e| (*b, e)))
        .collect();
    out.sort_by(|a, b| a.1.at_s.total_cmp(&b.1.at_s));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(rate_limit: LimitKey, rate: f64, burst: f64) -> Bucket {
        Bucket {
            rate_limit,
            rate,
            burst,
            burst_known: true,
        }
    }

    /// A ramp from `from` to `to` req/s over `seconds`, as the per-second sends.
    fn ramp(from: f64, to: f64, seconds: usize) -> Vec<f64> {
        (0..seconds)
            .map(|i| from + (to - from) * (i as f64 + 0.5) / seconds as f64)
            .collect()
    }

    #[test]
    fn the_stage_under_the_account_empties_first_on_a_ramp() {
        // The run: a stage of 600/300 under an account of 800/400, 50 → 900 req/s.
        let stage = bucket(LimitKey::StageRate, 600.0, 300.0);
        let account = bucket(LimitKey::ApigwRate, 800.0, 400.0);
        let sent = ramp(50.0, 900.0, 20);
        let order = emptied_in_order(&[account, stage], &sent);
        assert_eq!(order[0].0, stage, "{order:?}");
        assert_eq!(stage.limit(&order[0].1), LimitKey::StageRate);
        // 600 is passed at 13 s; its 300 tokens last until the excess adds up to them.
        assert!((16..=17).contains(&order[0].1.second), "{order:?}");
        assert!(order.len() == 1 || order[1].1.second > order[0].1.second + 1);
    }

    #[test]
    fn a_bucket_never_passed_never_empties_and_refill_is_capped() {
        let b = bucket(LimitKey::StageRate, 100.0, 50.0);
        assert_eq!(b.simulate(&[90.0; 30]), None);
        // A long quiet spell fills it only to its burst: 200 in one second is 50 too many
        // for a full bucket (burst 50 + 100 refilled), so a spike empties it: its burst.
        let mut sent = vec![0.0; 10];
        sent.push(200.0);
        let e = b.simulate(&sent).unwrap();
        assert_eq!((e.second, e.spike, e.refused), (10, true, 50.0));
        assert_eq!(b.limit(&e), LimitKey::StageBurst);
        // The same second kept up is its rate: the burst only says how long it lasted.
        sent.push(200.0);
        let e = b.simulate(&sent).unwrap();
        assert_eq!((e.second, e.spike), (10, false));
        assert_eq!(b.limit(&e), LimitKey::StageRate);
    }

    #[test]
    fn the_refused_count_is_what_a_fresh_bucket_refuses() {
        // 150 req/s against 100/50: 50 extra a second; the 50 tokens last one second.
        let b = bucket(LimitKey::ApigwRate, 100.0, 50.0);
        let e = b.simulate(&[150.0; 5]).unwrap();
        assert_eq!(e.second, 1);
        assert_eq!(e.refused, 5.0 * 50.0 - 50.0);
        assert!((e.at_s - 1.0).abs() < 1e-9, "{e:?}");
        assert_eq!(b.limit(&e), LimitKey::ApigwRate);
    }

    #[test]
    fn two_buckets_emptying_in_one_second_are_both_listed() {
        let stage = bucket(LimitKey::StageRate, 100.0, 100.0);
        let account = bucket(LimitKey::ApigwRate, 120.0, 80.0);
        let order = emptied_in_order(&[stage, account], &[50.0, 400.0, 400.0]);
        assert_eq!(order.len(), 2);
        assert_eq!(order[0].1.second, order[1].1.second);
    }

    #[test]
    fn an_unknown_burst_is_one_second_of_rate() {
        let mut q = Quotas::default();
        q.offer(
            LimitKey::StageRate,
            Some(200.0),
            crate::quotas::QuotaSource::Documented,
        );
        let b = Bucket::of(&q);
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].burst, b[0].burst_known), (200.0, false));
    }
}
