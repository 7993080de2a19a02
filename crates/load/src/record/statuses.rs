//! Answers counted by status code, so a run shows what the server said (200, 301, 429, 502…)
//! beside what each answer was taken for. One fixed array per stage in each lane: counting
//! an answer is an index and an add, never an allocation.

use std::collections::BTreeMap;

/// The lowest code counted: the parser refuses three digits below 100.
const FIRST: u16 = 100;
/// Codes 100 to 999: httparse takes any three digits.
const SLOTS: usize = 900;

/// A count per status code.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusCounts {
    counts: Box<[u64; SLOTS]>,
}

impl StatusCounts {
    pub fn new() -> StatusCounts {
        StatusCounts {
            counts: Box::new([0; SLOTS]),
        }
    }

    /// One answer with `status`.
    pub fn add(&mut self, status: u16) {
        if let Some(n) = self.counts.get_mut(usize::from(status.wrapping_sub(FIRST))) {
            *n += 1;
        }
    }

    pub fn merge(&mut self, other: &StatusCounts) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
    }

    /// The codes seen, as the results have them: `{"200": n, "429": n, …}`.
    pub fn by_code(&self) -> BTreeMap<String, u64> {
        (FIRST..)
            .zip(self.counts.iter())
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (code.to_string(), *n))
            .collect()
    }
}

impl Default for StatusCounts {
    fn default() -> Self {
        StatusCounts::new()
    }
}

impl std::fmt::Debug for StatusCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.by_code()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_counted_apart_and_merged_exactly() {
        let mut a = StatusCounts::new();
        for code in [200, 200, 301, 429, 999, 100] {
            a.add(code);
        }
        let mut b = StatusCounts::new();
        b.add(429);
        b.add(503);
        a.merge(&b);
        let seen: Vec<(String, u64)> = a.by_code().into_iter().collect();
        let want = [
            ("100", 1),
            ("200", 2),
            ("301", 1),
            ("429", 2),
            ("503", 1),
            ("999", 1),
        ];
        assert_eq!(
            seen,
            want.map(|(c, n)| (c.to_string(), n)).to_vec(),
            "three-digit keys sort as numbers do"
        );
        // Nothing a server can send is out of range; a code that is is not counted.
        a.add(99);
        a.add(1000);
        assert_eq!(a.by_code().values().sum::<u64>(), 8);
    }
}
