//! Which entry of a weighted mix logical request k is: a smooth weighted round robin
//! (nginx's) over one period of the total weight, precomputed once. Entry of k is
//! `table[k mod period]`, so any N × period requests send exactly weight-proportional
//! counts, the mix is spread evenly within a period (3:6:1 is not 3 A's, then 6 B's), and
//! a shard or a lane — which take every `parts`-th k — gets its share by a count over one
//! period, never by a scan of the run.

/// The most a period may hold: the weights' sum after dividing out their common factor.
pub const PERIOD_MAX: u64 = 1_000_000;

/// A weighted rotation over entries `0..weights.len()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rotation {
    /// Entry of each k in one period.
    table: Vec<u16>,
    weights: Vec<u64>,
}

/// Why a set of weights makes no rotation.
#[derive(Clone, Debug, PartialEq)]
pub enum RotationError {
    Empty,
    TooMany(usize),
    ZeroWeight(usize),
    PeriodTooLong(u64),
}

impl std::fmt::Display for RotationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RotationError::Empty => f.write_str("a mix needs at least one entry"),
            RotationError::TooMany(n) => write!(f, "{n} entries; at most {}", u16::MAX),
            RotationError::ZeroWeight(i) => write!(f, "entry {i} has weight 0"),
            RotationError::PeriodTooLong(p) => write!(
                f,
                "the weights add up to {p} after dividing out their common factor; at most {PERIOD_MAX}"
            ),
        }
    }
}

impl Rotation {
    pub fn new(weights: &[u64]) -> Result<Rotation, RotationError> {
        if weights.is_empty() {
            return Err(RotationError::Empty);
        }
        if weights.len() > u16::MAX as usize {
            return Err(RotationError::TooMany(weights.len()));
        }
        if let Some(i) = weights.iter().position(|w| *w == 0) {
            return Err(RotationError::ZeroWeight(i));
        }
        let common = weights.iter().copied().fold(0, gcd);
        let weights: Vec<u64> = weights.iter().map(|w| w / common).collect();
        let period = weights
            .iter()
            .try_fold(0u64, |a, w| a.checked_add(*w))
            .filter(|p| *p <= PERIOD_MAX)
            .ok_or_else(|| {
                RotationError::PeriodTooLong(weights.iter().fold(0u64, |a, w| a.saturating_add(*w)))
            })?;
        // nginx's smooth weighted round robin: each turn every entry gains its weight, the
        // richest is picked and pays the total.
        let mut current = vec![0i64; weights.len()];
        let mut table = Vec::with_capacity(period as usize);
        for _ in 0..period {
            for (c, w) in current.iter_mut().zip(&weights) {
                *c += *w as i64;
            }
            let (best, _) = current
                .iter()
                .enumerate()
                .max_by(|(i, a), (j, b)| a.cmp(b).then(j.cmp(i)))
                .expect("at least one entry");
            current[best] -= period as i64;
            table.push(best as u16);
        }
        Ok(Rotation { table, weights })
    }

    /// The entry of logical request `k`.
    #[inline]
    pub fn entry(&self, k: u64) -> usize {
        self.table[(k % self.table.len() as u64) as usize] as usize
    }

    pub fn period(&self) -> u64 {
        self.table.len() as u64
    }

    pub fn entries(&self) -> usize {
        self.weights.len()
    }

    /// How many of the requests `k` in `0..n` with `k % parts == part` go to each entry:
    /// a lane's or a shard's share of a stage, counted over one period.
    pub fn counts(&self, n: u64, part: u64, parts: u64) -> Vec<u64> {
        let period = self.period();
        let mut out = vec![0u64; self.entries()];
        if n == 0 || parts == 0 || part >= parts {
            return out;
        }
        // k = part + j·parts. k mod period repeats with period / gcd(parts, period) in j.
        let cycle = period / gcd(parts % period, period).max(1);
        let taken = if part < n {
            (n - part).div_ceil(parts)
        } else {
            0
        };
        let (whole, rest) = (taken / cycle, taken % cycle);
        for j in 0..cycle.min(taken) {
            let e = self.entry(part + j * parts);
            out[e] += whole + u64::from(j < rest);
        }
        out
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(r: &Rotation, n: u64, part: u64, parts: u64) -> Vec<u64> {
        let mut out = vec![0; r.entries()];
        for k in (part..n).step_by(parts as usize) {
            out[r.entry(k)] += 1;
        }
        out
    }

    #[test]
    fn a_period_sends_each_entry_its_weight_spread_out() {
        let r = Rotation::new(&[3, 6, 1]).unwrap();
        assert_eq!(r.period(), 10);
        assert_eq!(scan(&r, 1000, 0, 1), vec![300, 600, 100]);
        // Smooth: never three of the heaviest in a row.
        let first: Vec<usize> = (0..10).map(|k| r.entry(k)).collect();
        assert!(
            first
                .windows(3)
                .all(|w| !(w[0] == 1 && w[1] == 1 && w[2] == 1)),
            "{first:?}"
        );
    }

    #[test]
    fn common_factors_are_divided_out_and_bad_weights_refused() {
        assert_eq!(Rotation::new(&[30, 60, 10]).unwrap().period(), 10);
        assert_eq!(Rotation::new(&[]), Err(RotationError::Empty));
        assert_eq!(Rotation::new(&[1, 0]), Err(RotationError::ZeroWeight(1)));
        assert!(matches!(
            Rotation::new(&[999_999, 2]),
            Err(RotationError::PeriodTooLong(1_000_001))
        ));
    }

    #[test]
    fn counted_shares_equal_a_scan_and_add_up() {
        let r = Rotation::new(&[3, 6, 1, 7]).unwrap();
        for n in [0, 1, 16, 17, 100, 1001] {
            for parts in 1..8 {
                let mut sum = vec![0; 4];
                for part in 0..parts {
                    let c = r.counts(n, part, parts);
                    assert_eq!(c, scan(&r, n, part, parts), "n={n} {part}/{parts}");
                    for (s, x) in sum.iter_mut().zip(c) {
                        *s += x;
                    }
                }
                assert_eq!(sum, r.counts(n, 0, 1));
            }
        }
    }
}
