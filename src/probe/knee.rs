//! What the knee is set against: the quotas read (or the quotas file) and what broke first.
//! "knee 48 concurrent ≈ function reserved concurrency 50 → the reservation is the limit";
//! "knee 380 req/s, far from every quota known → the limit is not a quota". Pure.

use crate::classify::ThrottleKind;
use crate::quotas::{Front, LimitKey, Quotas};

/// What the search varied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// Requests per second (open model).
    Rate,
    /// Workers (closed model): requests in flight.
    Concurrency,
}

impl By {
    pub fn unit(self) -> &'static str {
        match self {
            By::Rate => "req/s",
            By::Concurrency => "concurrent",
        }
    }
}

/// A knee within this share of a limit is put on it.
pub const NEAR: f64 = 0.15;

/// What the search saw around the knee.
#[derive(Clone, Debug, PartialEq)]
pub struct KneeSeen {
    pub by: By,
    /// The highest load that met the SLO.
    pub knee: f64,
    /// In flight at the knee (the peak), for a rate search.
    pub in_flight_at_knee: f64,
    /// The throttle kinds of the first bad step, most frequent first.
    pub throttled_by: Vec<ThrottleKind>,
    /// p99 (ms) at the first step and at the knee.
    pub p99_first_ms: f64,
    pub p99_knee_ms: f64,
}

/// The knee set against one limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribution {
    /// The limit the knee is put on; `None`: no quota explains it.
    pub limit: Option<(LimitKey, f64)>,
    pub message: String,
}

/// The limit a throttle kind names, where it names one.
fn limit_of(kind: ThrottleKind, quotas: &Quotas) -> Option<LimitKey> {
    match kind {
        ThrottleKind::LambdaReserved => Some(LimitKey::FunctionReservedConcurrency),
        ThrottleKind::LambdaAccount => quotas
            .concurrency_limits()
            .into_iter()
            .find(|k| *k != LimitKey::FunctionReservedConcurrency),
        ThrottleKind::LambdaRate => Some(LimitKey::LambdaScalingRate),
        ThrottleKind::ApiGateway => Some(if quotas.get(LimitKey::StageRate).is_some() {
            LimitKey::StageRate
        } else {
            LimitKey::ApigwRate
        }),
        _ => None,
    }
}

/// The limits the knee may stand at, with what the knee is compared with: for a
/// concurrency limit, what was in flight; for a rate limit, the rate.
fn candidates(seen: &KneeSeen, quotas: &Quotas, front: Front) -> Vec<(LimitKey, f64, f64)> {
    let in_flight = match seen.by {
        By::Concurrency => seen.knee,
        By::Rate => seen.in_flight_at_knee,
    };
    let mut out: Vec<(LimitKey, f64, f64)> = quotas
        .concurrency_limits()
        .into_iter()
        .filter_map(|k| Some((k, quotas.get(k)?, in_flight)))
        .collect();
    if seen.by == By::Rate && front.has_api_gateway() {
        for k in [LimitKey::StageRate, LimitKey::ApigwRate] {
            if let Some(v) = quotas.get(k) {
                out.push((k, v, seen.knee));
            }
        }
    }
    out
}

pub fn attribute(seen: &KneeSeen, quotas: &Quotas, front: Front) -> Attribution {
    let knee = format!("knee {} {}", num(seen.knee), seen.by.unit());
    let all = candidates(seen, quotas, front);
    // What broke first names its limit: the strongest evidence there is.
    let named = seen
        .throttled_by
        .iter()
        .find_map(|k| limit_of(*k, quotas))
        .and_then(|k| all.iter().find(|c| c.0 == k).copied());
    let near = all
        .iter()
        .filter(|(_, v, at)| *v > 0.0 && (at - v).abs() <= v * NEAR)
        .min_by(|a, b| ((a.2 - a.1).abs() / a.1).total_cmp(&((b.2 - b.1).abs() / b.1)))
        .copied();
    if let Some((key, value, at)) = named.or(near) {
        let measure = if key.unit() == "req/s" || seen.by == By::Concurrency {
            String::new()
        } else {
            format!(" (in flight there: {})", num(at))
        };
        let evidence = if named.is_some() {
            format!(
                "; the first step past it was throttled by {}",
                seen.throttled_by[0].key()
            )
        } else {
            String::new()
        };
        return Attribution {
            limit: Some((key, value)),
            message: format!(
                "{knee}{measure} ≈ {} {} → that limit is the limit{evidence}",
                key.title(),
                num(value)
            ),
        };
    }
    let read: Vec<String> = all
        .iter()
        .map(|(k, v, _)| format!("{} {}", k.title(), num(*v)))
        .collect();
    let grew = if seen.p99_knee_ms > seen.p99_first_ms * 1.5 {
        format!(
            ": p99 grew from {} ms to {} ms before any throttle, look at the function or what it calls",
            num(seen.p99_first_ms),
            num(seen.p99_knee_ms)
        )
    } else {
        String::new()
    };
    Attribution {
        limit: None,
        message: if read.is_empty() {
            format!("{knee}; no quota is known to set it against{grew}")
        } else {
            format!(
                "{knee}, far from every quota known ({}) → the limit is not a quota{grew}",
                read.join("; ")
            )
        },
    }
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 || v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quotas::QuotaSource;

    fn quotas(limits: &[(LimitKey, f64)]) -> Quotas {
        let mut q = Quotas::default();
        for (k, v) in limits {
            q.offer(*k, Some(*v), QuotaSource::Emulator);
        }
        q
    }

    fn seen(by: By, knee: f64, in_flight: f64, throttled_by: Vec<ThrottleKind>) -> KneeSeen {
        KneeSeen {
            by,
            knee,
            in_flight_at_knee: in_flight,
            throttled_by,
            p99_first_ms: 40.0,
            p99_knee_ms: 45.0,
        }
    }

    #[test]
    fn a_knee_at_the_reservation_is_put_on_it() {
        let q = quotas(&[
            (LimitKey::FunctionReservedConcurrency, 50.0),
            (LimitKey::LambdaConcurrentExecutions, 1000.0),
        ]);
        let a = attribute(
            &seen(By::Concurrency, 48.0, 48.0, vec![]),
            &q,
            Front::LambdaInvoke,
        );
        assert_eq!(a.limit, Some((LimitKey::FunctionReservedConcurrency, 50.0)));
        assert!(
            a.message
                .starts_with("knee 48 concurrent ≈ function reserved concurrency 50"),
            "{}",
            a.message
        );
    }

    #[test]
    fn a_rate_knee_is_put_on_the_gateway_or_on_concurrency_at_the_latency() {
        let q = quotas(&[
            (LimitKey::ApigwRate, 300.0),
            (LimitKey::FunctionReservedConcurrency, 20.0),
        ]);
        let a = attribute(&seen(By::Rate, 290.0, 9.0, vec![]), &q, Front::ApiGateway);
        assert_eq!(a.limit, Some((LimitKey::ApigwRate, 300.0)));
        // 400 req/s × 50 ms = 20 in flight: the reservation, at that latency.
        let a = attribute(
            &seen(By::Rate, 390.0, 19.5, vec![ThrottleKind::LambdaReserved]),
            &q,
            Front::LambdaInvoke,
        );
        assert_eq!(a.limit, Some((LimitKey::FunctionReservedConcurrency, 20.0)));
        assert!(a.message.contains("in flight there: 19.5"), "{}", a.message);
        assert!(a
            .message
            .contains("throttled by lambda_reserved_concurrency"));
    }

    #[test]
    fn what_broke_first_wins_over_nearness() {
        // The knee is near the account's 100, but the throttles were the stage's.
        let q = quotas(&[
            (LimitKey::LambdaConcurrentExecutions, 100.0),
            (LimitKey::StageRate, 5000.0),
        ]);
        let a = attribute(
            &seen(By::Rate, 4000.0, 95.0, vec![ThrottleKind::ApiGateway]),
            &q,
            Front::ApiGateway,
        );
        assert_eq!(a.limit, Some((LimitKey::StageRate, 5000.0)));
    }

    #[test]
    fn far_from_every_quota_it_is_not_a_quota() {
        let q = quotas(&[
            (LimitKey::ApigwRate, 10_000.0),
            (LimitKey::LambdaConcurrentExecutions, 1000.0),
        ]);
        let mut s = seen(By::Rate, 380.0, 60.0, vec![]);
        s.p99_knee_ms = 900.0;
        let a = attribute(&s, &q, Front::ApiGateway);
        assert_eq!(a.limit, None);
        assert!(
            a.message.contains("the limit is not a quota"),
            "{}",
            a.message
        );
        assert!(a
            .message
            .contains("API Gateway throttle rate (account) 10000"));
        assert!(
            a.message.contains("p99 grew from 40 ms to 900 ms"),
            "{}",
            a.message
        );
    }
}
