//! Data sources: a CSV file (with a header row) or JSON Lines, read once when the run
//! starts — streamed to count its rows and index where they start, never loaded whole —
//! and the row logical request k reads by the source's pick rule.
//!
//! SKELETON (issue 26): the pick rule is here; the reader arrives with the data sources.

/// How a source's row is chosen for logical request k.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// Row k mod rows: the same row for the same k in every shard.
    Sequential,
    /// A row drawn from the seed and k: repeatable, and the same in every shard.
    Random { seed: u64 },
    /// Row k, each at most once across the whole run and every shard; none once k
    /// reaches the row count (the stage ends, counted as `data_exhausted`).
    Unique,
}

impl Pick {
    /// The row of logical request `k` among `rows` rows; `None`: the rows ran out.
    pub fn row_of(self, k: u64, rows: u64) -> Option<u64> {
        if rows == 0 {
            return None;
        }
        match self {
            Pick::Sequential => Some(k % rows),
            Pick::Random { seed } => {
                Some(mix64(seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % rows)
            }
            Pick::Unique => (k < rows).then_some(k),
        }
    }
}

/// SplitMix64's finaliser: nearby inputs give unrelated outputs.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
