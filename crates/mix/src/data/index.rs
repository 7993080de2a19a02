//! The sparse index of where rows start: every `stride`-th row's byte offset and line.
//! It starts with every row and, whenever it would pass [`MAX_ENTRIES`], keeps every
//! other entry and doubles the stride — so it is built in one pass without knowing the
//! row count, and never holds more than `MAX_ENTRIES` entries (16 bytes each: 4 MiB at
//! most). A file of up to 262,144 rows is indexed row by row (a random row is one seek);
//! 10 million rows (about 1 GB of 100-byte rows) give a stride of 64 and 156,250 entries
//! (2.5 MB), and reaching a row reads at most 63 rows past its entry.

/// The most entries the index holds.
pub const MAX_ENTRIES: usize = 1 << 18;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    /// Rows between two entries: a power of two.
    stride: u64,
    /// `(byte offset, 1-based line)` of rows 0, stride, 2 × stride, …
    entries: Vec<(u64, u64)>,
    rows: u64,
}

impl Index {
    pub fn new() -> Index {
        Index {
            stride: 1,
            entries: Vec::new(),
            rows: 0,
        }
    }

    /// The next row starts at `byte`, on `line`.
    pub fn push(&mut self, byte: u64, line: u64) {
        if self.rows % self.stride == 0 {
            if self.entries.len() == MAX_ENTRIES {
                self.halve();
            }
            // After halving, this row may no longer fall on the stride.
            if self.rows % self.stride == 0 {
                self.entries.push((byte, line));
            }
        }
        self.rows += 1;
    }

    fn halve(&mut self) {
        let mut keep = 0;
        for i in (0..self.entries.len()).step_by(2) {
            self.entries[keep] = self.entries[i];
            keep += 1;
        }
        self.entries.truncate(keep);
        self.stride *= 2;
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn stride(&self) -> u64 {
        self.stride
    }

    pub fn entries(&self) -> usize {
        self.entries.len()
    }

    /// Bytes the entries take.
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(u64, u64)>()
    }

    /// The nearest indexed row at or before `row`: `(that row, its byte offset, its line)`.
    pub fn entry_before(&self, row: u64) -> (u64, u64, u64) {
        let i = ((row / self.stride) as usize).min(self.entries.len() - 1);
        let (byte, line) = self.entries[i];
        (i as u64 * self.stride, byte, line)
    }

    /// Gives back the slack of the doubling vector once the pass is done.
    pub fn finish(&mut self) {
        self.entries.shrink_to_fit();
    }
}
