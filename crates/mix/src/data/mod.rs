//! Data sources: a CSV file (with a header row) or JSON Lines, read once when the run
//! starts — streamed to count its rows and index where they start, never loaded whole —
//! and the row logical request k reads by the source's pick rule.
//!
//! A [`Source`] is the file's shape (columns, row count, a sparse index of row starts) and,
//! for a small file, its bytes — shared by every engine thread. Each thread reads through
//! its own [`RowReader`]: its own file handle and cached block (`blocks`), and the row as
//! field byte slices in buffers it reuses, so reading the next row allocates nothing.

mod blocks;
mod csv_file;
mod index;
mod jsonl;
mod reader;
mod readers;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use index::Index;
pub use reader::RowReader;
pub use readers::{RowsOf, SourceReaders, MAX_SOURCES};

/// The longest row a source may hold: longer is surely not a row of test data, and it
/// bounds what a reader ever buffers.
pub const MAX_ROW_BYTES: usize = 1 << 20;

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

/// One row as field byte slices, in the columns' order. Borrowed from a [`RowReader`]'s
/// buffers (or, in tests, from anything).
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    bytes: &'a [u8],
    spans: &'a [(u32, u32)],
}

impl<'a> Row<'a> {
    /// `spans[i]` is the byte range of field i within `bytes`.
    pub fn new(bytes: &'a [u8], spans: &'a [(u32, u32)]) -> Row<'a> {
        Row { bytes, spans }
    }

    /// Field `i`; empty when there is no such field.
    pub fn field(&self, i: usize) -> &'a [u8] {
        match self.spans.get(i) {
            Some(&(s, e)) => self.bytes.get(s as usize..e as usize).unwrap_or(&[]),
            None => &[],
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// Bad data: the file, the line when one row is at fault, and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct DataError {
    pub file: PathBuf,
    /// 1-based line of the file.
    pub line: Option<u64>,
    pub message: String,
}

impl DataError {
    fn new(file: &Path, line: Option<u64>, message: impl Into<String>) -> DataError {
        DataError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for DataError {}

/// How a source's file is written, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// `.csv`, or `.jsonl` / `.ndjson`.
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// A data source after its one streaming pass: shared by every thread (cheap to clone).
#[derive(Clone, Debug)]
pub struct Source {
    shared: Arc<Shape>,
}

/// What the pass learnt.
#[derive(Debug)]
struct Shape {
    path: PathBuf,
    format: Format,
    columns: Vec<String>,
    index: Index,
    bytes: u64,
    /// Per column: the first line where a value holds a CR, LF or NUL, which a header
    /// value may never send.
    line_break_at: Vec<Option<u64>>,
    /// The file itself when it is small ([`blocks::WHOLE_MAX`]), shared by every reader.
    whole: Option<Arc<[u8]>>,
    /// A held file's rows split into fields once, on the first reader: a request then reads
    /// its row without parsing it again. `None` inside: not held, or too many fields.
    table: OnceLock<Option<Table>>,
}

/// Every row of a held file, its fields' bytes one after another.
#[derive(Debug)]
pub(super) struct Table {
    bytes: Vec<u8>,
    /// Row r's fields are `spans[starts[r]..starts[r + 1]]` (offsets into `bytes`).
    starts: Vec<u32>,
    spans: Vec<(u32, u32)>,
}

/// The most a split table may keep of field offsets (8 bytes a field), beside the file's
/// bytes: a held file of many short fields is read as before rather than tripled.
const TABLE_SPANS_MAX: u64 = 16 << 20;

impl Table {
    pub(super) fn row(&self, row: u64) -> Row<'_> {
        let (a, b) = (self.starts[row as usize], self.starts[row as usize + 1]);
        Row::new(&self.bytes, &self.spans[a as usize..b as usize])
    }
}

/// What the pass of one format returns.
struct Pass {
    columns: Vec<String>,
    index: Index,
    line_break_at: Vec<Option<u64>>,
}

impl Source {
    /// Reads the file once, streaming: checks every row, counts them and indexes where
    /// they start. The format comes from the extension.
    pub fn open(path: &Path) -> Result<Source, DataError> {
        Source::open_held_up_to(path, blocks::WHOLE_MAX)
    }

    /// [`Source::open`], holding the file whole only up to `whole_max` bytes.
    pub fn open_held_up_to(path: &Path, whole_max: u64) -> Result<Source, DataError> {
        let Some(format) = Format::of(path) else {
            return Err(DataError::new(
                path,
                None,
                "a data file must be .csv (with a header row) or .jsonl / .ndjson (JSON Lines)",
            ));
        };
        let meta = std::fs::metadata(path)
            .map_err(|e| DataError::new(path, None, format!("cannot be read: {e}")))?;
        if !meta.is_file() {
            return Err(DataError::new(path, None, "is not a regular file"));
        }
        if meta.len() == 0 {
            return Err(DataError::new(
                path,
                None,
                "is empty: no header row and no rows",
            ));
        }
        let cannot = |e: std::io::Error| DataError::new(path, None, format!("cannot be read: {e}"));
        let file = std::fs::File::open(path).map_err(cannot)?;
        let (pass, whole) = if meta.len() <= whole_max {
            let mut bytes = Vec::with_capacity(meta.len() as usize);
            file.take(whole_max + 1)
                .read_to_end(&mut bytes)
                .map_err(cannot)?;
            let pass = match format {
                Format::Csv => csv_file::pass(path, &bytes[..])?,
                Format::JsonLines => jsonl::pass(path, &bytes[..])?,
            };
            (pass, Some(Arc::from(bytes)))
        } else {
            let pass = match format {
                Format::Csv => csv_file::pass(path, file)?,
                Format::JsonLines => jsonl::pass(path, file)?,
            };
            (pass, None)
        };
        if pass.index.rows() == 0 {
            return Err(DataError::new(path, None, "has no rows (only a header)"));
        }
        Ok(Source {
            shared: Arc::new(Shape {
                path: path.to_path_buf(),
                format,
                columns: pass.columns,
                index: pass.index,
                bytes: meta.len(),
                line_break_at: pass.line_break_at,
                whole,
                table: OnceLock::new(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    pub fn format(&self) -> Format {
        self.shared.format
    }

    pub fn columns(&self) -> &[String] {
        &self.shared.columns
    }

    /// The row count, which the preflight says.
    pub fn rows(&self) -> u64 {
        self.shared.index.rows()
    }

    /// The file's size in bytes.
    pub fn bytes(&self) -> u64 {
        self.shared.bytes
    }

    /// Whether the file is held whole in memory (small files), else read in blocks.
    pub fn held_whole(&self) -> bool {
        self.shared.whole.is_some()
    }

    fn whole(&self) -> Option<&Arc<[u8]>> {
        self.shared.whole.as_ref()
    }

    /// The index's memory, for the preflight and the memory check.
    pub fn index(&self) -> &Index {
        &self.shared.index
    }

    /// Refuses a column sent in a header value when some row of it holds a CR, LF or NUL
    /// (header injection), naming the first such line.
    pub fn check_header_safe(&self, column: usize) -> Result<(), DataError> {
        match self.shared.line_break_at.get(column).copied().flatten() {
            None => Ok(()),
            Some(line) => Err(DataError::new(
                &self.shared.path,
                Some(line),
                format!(
                    "column {:?} is sent in a header, and this row's value holds a CR, LF \
                     or NUL, which a header may never carry",
                    self.shared.columns[column]
                ),
            )),
        }
    }

    /// A reader for one thread: its own file handle and buffers.
    pub fn reader(&self) -> Result<RowReader, DataError> {
        RowReader::new(self.clone())
    }

    /// The table when it is already split (never splits: a streaming reader asks this).
    pub(super) fn split_table(&self) -> Option<&Table> {
        self.shared.table.get().and_then(Option::as_ref)
    }

    /// A held file's rows split once (the first caller splits them), or `None`.
    pub(super) fn table(&self) -> Option<&Table> {
        self.shared.table.get_or_init(|| self.split()).as_ref()
    }

    /// Reads every row of a held file once, as a reader would, into a [`Table`].
    fn split(&self) -> Option<Table> {
        let whole = self.whole()?;
        let fields = self
            .rows()
            .saturating_mul(self.columns().len().max(1) as u64);
        if fields.saturating_mul(8) > TABLE_SPANS_MAX || whole.len() > u32::MAX as usize {
            return None;
        }
        let mut reader = RowReader::streaming(self.clone()).ok()?;
        let mut table = Table {
            bytes: Vec::with_capacity(whole.len()),
            starts: Vec::with_capacity(self.rows() as usize + 1),
            spans: Vec::with_capacity(fields as usize),
        };
        for r in 0..self.rows() {
            let row = reader.row(r).ok()?;
            table.starts.push(table.spans.len() as u32);
            for i in 0..row.len() {
                let field = row.field(i);
                let start = table.bytes.len() as u32;
                table.bytes.extend_from_slice(field);
                table.spans.push((start, table.bytes.len() as u32));
            }
        }
        table.starts.push(table.spans.len() as u32);
        Some(table)
    }
}

/// Bytes that may never be sent in a header value.
fn has_line_break(field: &[u8]) -> bool {
    field.iter().any(|b| matches!(b, b'\r' | b'\n' | 0))
}
