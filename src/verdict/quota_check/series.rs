//! The run's per-second measures the limits are weighed against: requests in flight, the
//! rate sent, bursts, and new environments (counted, or modelled from requests in flight).

use super::RunSeen;
use crate::quotas::{LimitKey, Quotas};
use crate::verdict::environments;

#[derive(Clone, Copy, PartialEq)]
pub(in crate::verdict) enum Measure {
    InFlight,
    Rate,
    Burst,
    NewEnvironments,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::InFlight => "peak in flight",
            Measure::Rate => "peak rate",
            Measure::Burst => "burst",
            Measure::NewEnvironments => "new environments in 10 s",
        }
    }

    /// Seconds a limit may be past before throttles show: concurrency bites at once (a
    /// token bucket's own time is simulated, `buckets`); a rate limit without its bucket
    /// is given 10 s.
    pub fn slack(self) -> u64 {
        match self {
            Measure::Rate => 10,
            _ => 2,
        }
    }
}

/// Per-second measures of the run, from the timeline.
pub(in crate::verdict) struct Series {
    in_flight: Vec<f64>,
    rate: Vec<f64>,
    /// Environments created in the 10 s ending with each second.
    new_environments: Vec<f64>,
    /// How those were had.
    pub(super) new_environments_basis: String,
}

impl Series {
    pub fn of(quotas: &Quotas, seen: &RunSeen) -> Series {
        let in_flight: Vec<f64> = seen
            .timeline
            .iter()
            .map(|p| p.in_flight_max as f64)
            .collect();
        let rate = seen.timeline.iter().map(|p| p.sent as f64).collect();
        let counted = seen.counted;
        let (created, mut basis) = if counted.cold_starts_per_second {
            let cold: Vec<f64> = seen.timeline.iter().map(|p| p.cold_starts as f64).collect();
            (
                cold,
                "cold starts counted in the answers' REPORT lines".to_string(),
            )
        } else {
            // The function runs at most its ceiling; warm environments are reused.
            let ceiling = quotas.function_ceiling().map(|(_, v)| v);
            let concurrency: Vec<f64> = in_flight
                .iter()
                .map(|f| ceiling.map_or(*f, |c| f.min(c)))
                .collect();
            let warm = quotas
                .get(LimitKey::FunctionProvisionedConcurrency)
                .unwrap_or(0.0);
            let made = environments::created_per_second(
                &concurrency,
                warm,
                quotas.get(LimitKey::LambdaScalingRate),
            );
            (
                made,
                "modelled from requests in flight: new only past the environments already made, up to the function's ceiling and the scaling rate".to_string(),
            )
        };
        let mut new_environments = environments::in_10s(&created);
        if let Some(total) = counted
            .environments_created
            .filter(|_| !counted.cold_starts_per_second)
        {
            // No 10 s holds more than the whole run's count.
            for n in &mut new_environments {
                *n = n.min(total as f64);
            }
            basis.push_str(&format!(
                "; at most the {total} the emulator created in the run"
            ));
        }
        Series {
            in_flight,
            rate,
            new_environments,
            new_environments_basis: basis,
        }
    }

    /// The function's own concurrency at its busiest: Lambda's count where there is one,
    /// else the client's peak in flight up to the function's ceiling.
    pub fn peak_concurrency(&self, quotas: &Quotas, seen: &RunSeen) -> f64 {
        if let Some(n) = seen.counted.peak_concurrency {
            return n as f64;
        }
        let flight = self.peak(Measure::InFlight, seen);
        quotas
            .function_ceiling()
            .map_or(flight, |(_, c)| flight.min(c))
    }

    /// Attempts sent each second: what API Gateway's buckets saw.
    pub fn sends(&self) -> &[f64] {
        &self.rate
    }

    pub fn at(&self, m: Measure, i: usize, seen: &RunSeen) -> f64 {
        match m {
            Measure::InFlight => self.in_flight[i],
            Measure::Rate => self.rate[i],
            Measure::NewEnvironments => self.new_environments[i],
            Measure::Burst => burst_in(seen, i).map_or(0.0, |(_, n)| n as f64),
        }
    }

    pub fn peak(&self, m: Measure, seen: &RunSeen) -> f64 {
        match m {
            Measure::Burst => seen.bursts.iter().map(|b| b.1 as f64).fold(0.0, f64::max),
            // The run's own peak in flight is exact; the timeline's is per second.
            Measure::InFlight => self
                .in_flight
                .iter()
                .copied()
                .fold(seen.peak_in_flight as f64, f64::max),
            _ => (0..self.rate.len())
                .map(|i| self.at(m, i, seen))
                .fold(0.0, f64::max),
        }
    }
}

/// The burst stage released in second `i`, if any.
fn burst_in<'s>(seen: &'s RunSeen, i: usize) -> Option<(&'s str, u64)> {
    seen.bursts
        .iter()
        .find(|b| b.2 as usize == i)
        .map(|b| (b.0.as_str(), b.1))
}
