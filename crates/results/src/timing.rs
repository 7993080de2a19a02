//! Where the time went: each attempt's phases — `dns` (the lookup its connection made),
//! `connect` (TCP), `tls` (the handshake), `ttfb` (request written → first byte of the
//! answer), `receive` (first byte → last byte) — as histograms in µs, their summaries in
//! ms (`timing`), and each second's totals (`timing_ms` on a timeline point).
//!
//! The first three are only part of attempts that opened their connection: a kept-alive
//! connection's later requests have none (no zeros are recorded for them).
//!
//! Beside them, the throughput of streamed answers (`timing.throughput`): an answer's body
//! bytes ÷ its receive phase, in bytes per second, for answers whose receive phase took at
//! least [`STREAMED_US`] (docs/connections.md, "Streamed answers").

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::histogram::{decode, encode, percentiles, Percentiles, REQUEST_SIGFIG};

/// One phase of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Dns,
    Connect,
    Tls,
    Ttfb,
    Receive,
}

impl Phase {
    /// In the order they happen.
    pub const ALL: [Phase; 5] = [
        Phase::Dns,
        Phase::Connect,
        Phase::Tls,
        Phase::Ttfb,
        Phase::Receive,
    ];

    /// As the results, thresholds (`ttfb_p99`) and reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Ttfb => "ttfb",
            Phase::Receive => "receive",
        }
    }

    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// An answer is a streamed one when its receive phase (first byte → last byte) took at
/// least this long, µs: its throughput is then measured. Shorter, the answer came about
/// at once and a rate over it would be noise.
pub const STREAMED_US: u64 = 1_000;

/// The throughput of an answer of `bytes` body bytes received over `receive_us`, bytes/s:
/// `None` when it is not a streamed answer (see [`STREAMED_US`]) or had no body.
#[inline]
pub fn throughput(bytes: u64, receive_us: u64) -> Option<u64> {
    (receive_us >= STREAMED_US && bytes > 0)
        .then(|| (u128::from(bytes) * 1_000_000 / u128::from(receive_us)) as u64)
}

/// One histogram per phase, by [`Phase::index`] (µs), and the streamed answers' throughput
/// (bytes/s).
#[derive(Clone, Debug)]
pub struct PhaseHistograms {
    phases: [Histogram<u64>; 5],
    /// Streamed answers' throughput, bytes/s.
    pub throughput: Histogram<u64>,
}

impl std::ops::Index<usize> for PhaseHistograms {
    type Output = Histogram<u64>;
    fn index(&self, i: usize) -> &Histogram<u64> {
        &self.phases[i]
    }
}

impl std::ops::IndexMut<usize> for PhaseHistograms {
    fn index_mut(&mut self, i: usize) -> &mut Histogram<u64> {
        &mut self.phases[i]
    }
}

/// A phase's histogram: 2 significant digits (within 1%), grown as far as the values
/// recorded reach (a phase is mostly far below the latency's hour).
pub fn new_phase_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 2, REQUEST_SIGFIG).expect("valid bounds");
    h.auto(true);
    h
}

pub fn new_phase_histograms() -> PhaseHistograms {
    PhaseHistograms {
        phases: std::array::from_fn(|_| new_phase_histogram()),
        throughput: new_phase_histogram(),
    }
}

/// Records `us` (an auto-sized histogram only fails past u64's range).
pub fn record_phase(h: &mut Histogram<u64>, us: u64) {
    let _ = h.record(us);
}

/// Adds `from` into `into`, phase by phase (auto-sized: it grows to hold them).
pub fn add_phases(into: &mut PhaseHistograms, from: &PhaseHistograms) {
    let theirs = from.phases.iter().chain([&from.throughput]);
    for (a, b) in into
        .phases
        .iter_mut()
        .chain([&mut into.throughput])
        .zip(theirs)
    {
        a.add(b)
            .expect("an auto-sized histogram grows to hold the values");
    }
}

/// A phase over a run, a stage or a request: how many attempts had it, and its
/// percentiles, max and mean in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PhaseSummary {
    pub count: u64,
    /// p50 … max and mean, as latency's.
    #[serde(flatten)]
    pub ms: Percentiles,
}

impl PhaseSummary {
    pub fn of(h: &Histogram<u64>) -> PhaseSummary {
        PhaseSummary {
            count: h.len(),
            ms: percentiles(h),
        }
    }
}

impl std::ops::Deref for PhaseSummary {
    type Target = Percentiles;
    fn deref(&self) -> &Percentiles {
        &self.ms
    }
}

/// The throughput of streamed answers, bytes per second (answers whose receive phase
/// took at least 1 ms: docs/connections.md). The low percentiles are the slow streams:
/// `min_throughput` judges `p1`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Throughput {
    /// Streamed answers measured.
    pub count: u64,
    pub min: f64,
    pub p1: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub max: f64,
    pub mean: f64,
}

impl Throughput {
    /// `None` when no streamed answer was measured.
    pub fn of(h: &Histogram<u64>) -> Option<Throughput> {
        if h.is_empty() {
            return None;
        }
        let at = |q: f64| h.value_at_quantile(q) as f64;
        Some(Throughput {
            count: h.len(),
            min: h.min() as f64,
            p1: at(0.01),
            p10: at(0.10),
            p50: at(0.50),
            p90: at(0.90),
            max: h.max() as f64,
            mean: h.mean(),
        })
    }
}

/// Where the time went (`timing` in the run, each stage and each `by_request` entry).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Timing {
    /// The name's lookup, for attempts whose new connection made one (answers are kept a
    /// minute: most connections make none).
    pub dns: PhaseSummary,
    /// TCP's handshake, for attempts that opened their connection.
    pub connect: PhaseSummary,
    /// TLS's handshake, for attempts that opened their `https` connection.
    pub tls: PhaseSummary,
    /// Request written → first byte of the answer.
    pub ttfb: PhaseSummary,
    /// First byte → last byte of the answer.
    pub receive: PhaseSummary,
    /// Streamed answers' body bytes ÷ their receive phase, bytes/s; absent when no answer
    /// was streamed (and in files written before it was added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
}

impl Timing {
    pub fn of(h: &PhaseHistograms) -> Timing {
        let s = |p: Phase| PhaseSummary::of(&h[p.index()]);
        Timing {
            dns: s(Phase::Dns),
            connect: s(Phase::Connect),
            tls: s(Phase::Tls),
            ttfb: s(Phase::Ttfb),
            receive: s(Phase::Receive),
            throughput: Throughput::of(&h.throughput),
        }
    }

    pub fn get(&self, phase: Phase) -> &PhaseSummary {
        match phase {
            Phase::Dns => &self.dns,
            Phase::Connect => &self.connect,
            Phase::Tls => &self.tls,
            Phase::Ttfb => &self.ttfb,
            Phase::Receive => &self.receive,
        }
    }
}

/// The phases' histograms as the results file writes them (`histograms.*.timing`), so
/// merged runs give exact phase percentiles.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TimingHistograms {
    pub dns: String,
    pub connect: String,
    pub tls: String,
    pub ttfb: String,
    pub receive: String,
    /// Streamed answers' throughput, bytes/s; absent when none was (and in older files).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub throughput: String,
}

impl TimingHistograms {
    pub fn encode(h: &PhaseHistograms) -> TimingHistograms {
        let e = |p: Phase| encode(&h[p.index()]);
        TimingHistograms {
            dns: e(Phase::Dns),
            connect: e(Phase::Connect),
            tls: e(Phase::Tls),
            ttfb: e(Phase::Ttfb),
            receive: e(Phase::Receive),
            throughput: if h.throughput.is_empty() {
                String::new()
            } else {
                encode(&h.throughput)
            },
        }
    }

    /// The histograms, or the name of the first phase that cannot be read.
    pub fn decode(&self) -> Result<PhaseHistograms, &'static str> {
        let mut out = new_phase_histograms();
        for p in Phase::ALL {
            let text = match p {
                Phase::Dns => &self.dns,
                Phase::Connect => &self.connect,
                Phase::Tls => &self.tls,
                Phase::Ttfb => &self.ttfb,
                Phase::Receive => &self.receive,
            };
            let h = decode(text).ok_or(p.name())?;
            out[p.index()].add(&h).map_err(|_| p.name())?;
        }
        if !self.throughput.is_empty() {
            let h = decode(&self.throughput).ok_or("throughput")?;
            out.throughput.add(&h).map_err(|_| "throughput")?;
        }
        Ok(out)
    }
}

/// One phase in one second: attempts that had it and its total, in ms (the mean is
/// `total_ms / count`; totals add exactly when runs are merged).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PhaseSecond {
    pub count: u64,
    pub total_ms: f64,
}

impl PhaseSecond {
    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_ms / self.count as f64
        }
    }
}

/// The phases of the attempts that ended in one second (`timeline[].timing_ms`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SecondTiming {
    pub dns: PhaseSecond,
    pub connect: PhaseSecond,
    pub tls: PhaseSecond,
    pub ttfb: PhaseSecond,
    pub receive: PhaseSecond,
}

impl SecondTiming {
    /// From each phase's count and total in µs, by [`Phase::index`]; `None` when no phase
    /// has a count.
    pub fn of(sums: &[(u64, u64); 5]) -> Option<SecondTiming> {
        if sums.iter().all(|(n, _)| *n == 0) {
            return None;
        }
        let s = |p: Phase| {
            let (count, total_us) = sums[p.index()];
            PhaseSecond {
                count,
                total_ms: total_us as f64 / 1000.0,
            }
        };
        Some(SecondTiming {
            dns: s(Phase::Dns),
            connect: s(Phase::Connect),
            tls: s(Phase::Tls),
            ttfb: s(Phase::Ttfb),
            receive: s(Phase::Receive),
        })
    }

    pub fn get(&self, phase: Phase) -> &PhaseSecond {
        match phase {
            Phase::Dns => &self.dns,
            Phase::Connect => &self.connect,
            Phase::Tls => &self.tls,
            Phase::Ttfb => &self.ttfb,
            Phase::Receive => &self.receive,
        }
    }

    /// Adds another run's same second.
    pub fn add(&mut self, o: &SecondTiming) {
        for p in Phase::ALL {
            let theirs = *o.get(p);
            let mine = match p {
                Phase::Dns => &mut self.dns,
                Phase::Connect => &mut self.connect,
                Phase::Tls => &mut self.tls,
                Phase::Ttfb => &mut self.ttfb,
                Phase::Receive => &mut self.receive,
            };
            mine.count += theirs.count;
            mine.total_ms += theirs.total_ms;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_round_trip_and_add_exactly() {
        let mut h = new_phase_histograms();
        record_phase(&mut h[Phase::Ttfb.index()], 50_000);
        record_phase(&mut h[Phase::Ttfb.index()], 52_000);
        record_phase(&mut h[Phase::Receive.index()], 250_000);
        let back = TimingHistograms::encode(&h).decode().unwrap();
        let mut sum = back.clone();
        add_phases(&mut sum, &back);
        let t = Timing::of(&sum);
        assert_eq!((t.ttfb.count, t.receive.count, t.dns.count), (4, 2, 0));
        assert!((t.ttfb.max - 52.0).abs() < 0.6, "{t:?}");
        assert!((t.receive.p50 - 250.0).abs() < 2.5, "{t:?}");
        assert_eq!(
            Phase::ALL.map(Phase::name).map(Phase::from_name),
            Phase::ALL.map(Some)
        );
        assert_eq!(t.throughput, None);
        assert!(TimingHistograms::encode(&h).throughput.is_empty());
    }

    #[test]
    fn streamed_answers_throughput_round_trips_and_adds_exactly() {
        // 1 MB over 2 s, and 10 KB in 0.999 ms (not a stream: about at once).
        assert_eq!(throughput(1_000_000, 2_000_000), Some(500_000));
        assert_eq!(throughput(10_000, 999), None);
        assert_eq!(throughput(0, 5_000), None);
        let mut h = new_phase_histograms();
        for bps in [500_000, 40_000, 2_000_000] {
            record_phase(&mut h.throughput, bps);
        }
        let back = TimingHistograms::encode(&h).decode().unwrap();
        let mut sum = back.clone();
        add_phases(&mut sum, &back);
        let t = Timing::of(&sum).throughput.unwrap();
        assert_eq!(t.count, 6);
        assert!((t.p1 - 40_000.0).abs() <= 400.0, "{t:?}");
        assert!((t.min - 40_000.0).abs() <= 400.0, "{t:?}");
        assert!((t.max - 2_000_000.0).abs() <= 20_000.0, "{t:?}");
    }

    #[test]
    fn a_second_adds_counts_and_totals() {
        let mut a = SecondTiming::of(&[(0, 0), (2, 3_000), (0, 0), (4, 8_000), (4, 0)]).unwrap();
        assert!(SecondTiming::of(&[(0, 0); 5]).is_none());
        a.add(&a.clone());
        assert_eq!(a.connect.count, 4);
        assert!((a.ttfb.mean_ms() - 2.0).abs() < 1e-9);
        assert_eq!(a.dns.mean_ms(), 0.0);
    }
}
