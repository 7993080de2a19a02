//! One thread's readers of every source, and the rows logical request k reads from them
//! — on the stack, so a request's rows cost no allocation.

use super::{DataError, Pick, Row, RowReader, Source};

/// The most data sources a scenario may declare (the rows of one request live in an array
/// of this size).
pub const MAX_SOURCES: usize = 16;

/// A thread's readers, one per source, in the scenario's order (that of `Scope::sources`
/// and `Context::rows`).
pub struct SourceReaders {
    readers: Vec<(RowReader, Pick)>,
}

/// The rows of one logical request, by source index.
pub struct RowsOf<'a> {
    rows: [Option<Row<'a>>; MAX_SOURCES],
    len: usize,
}

impl<'a> RowsOf<'a> {
    /// As `Context::rows` takes them.
    pub fn as_slice(&self) -> &[Option<Row<'a>>] {
        &self.rows[..self.len]
    }
}

impl SourceReaders {
    /// Opens a reader of each source (its own file handle when the file is not held
    /// whole). At most [`MAX_SOURCES`].
    pub fn new(sources: &[(Source, Pick)]) -> Result<SourceReaders, DataError> {
        if sources.len() > MAX_SOURCES {
            let first = &sources[0].0;
            return Err(DataError::new(
                first.path(),
                None,
                format!("{} data sources; at most {MAX_SOURCES}", sources.len()),
            ));
        }
        let readers = sources
            .iter()
            .map(|(s, pick)| Ok((s.reader()?, *pick)))
            .collect::<Result<_, DataError>>()?;
        Ok(SourceReaders { readers })
    }

    /// The row of each source for logical request `k`; `Ok(None)` when a `unique` source
    /// has run out (the caller counts `data_exhausted` and ends the stage).
    pub fn rows_of(&mut self, k: u64) -> Result<Option<RowsOf<'_>>, DataError> {
        let mut rows = [None; MAX_SOURCES];
        let len = self.readers.len();
        for (slot, (reader, pick)) in rows.iter_mut().zip(self.readers.iter_mut()) {
            match reader.row_for(*pick, k)? {
                Some(row) => *slot = Some(row),
                None => return Ok(None),
            }
        }
        Ok(Some(RowsOf { rows, len }))
    }
}
