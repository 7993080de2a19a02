//! CSV (RFC 4180 quoting, by the `csv` crate) with a header row: the checking pass, and
//! reading one record into a row's buffers.

use std::io::{self, Read};
use std::path::Path;

use csv::{ByteRecord, ErrorKind, Position, ReaderBuilder};

use super::{has_line_break, DataError, Index, Pass, MAX_ROW_BYTES};

/// Read buffer of the pass.
pub(super) const BUFFER: usize = 64 << 10;
/// Read buffer of each reader, over its block cache: what a seek discards.
pub(super) const READER_BUFFER: usize = 4 << 10;

pub(super) fn builder(buffer: usize) -> ReaderBuilder {
    let mut b = ReaderBuilder::new();
    b.has_headers(true).buffer_capacity(buffer);
    b
}

pub(super) fn pass(path: &Path, input: impl Read) -> Result<Pass, DataError> {
    let mut rdr = builder(BUFFER).from_reader(Bounded::new(input));
    let header = rdr
        .byte_headers()
        .map_err(|e| csv_error(path, &e, 1))?
        .clone();
    let columns = columns(path, &header)?;
    let mut index = Index::new();
    let mut line_break_at = vec![None; columns.len()];
    let mut record = ByteRecord::new();
    let mut last_line = 1;
    loop {
        rdr.get_mut().mark();
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(path, &e, last_line)),
        }
        let pos = record.position().cloned().unwrap_or_else(Position::new);
        last_line = pos.line();
        if record.as_slice().len() > MAX_ROW_BYTES {
            return Err(too_long(path, Some(pos.line())));
        }
        for (i, field) in record.iter().enumerate() {
            if std::str::from_utf8(field).is_err() {
                return Err(DataError::new(
                    path,
                    Some(pos.line()),
                    format!("column {:?} is not valid UTF-8", columns[i]),
                ));
            }
            if line_break_at[i].is_none() && has_line_break(field) {
                line_break_at[i] = Some(pos.line());
            }
        }
        index.push(pos.byte(), pos.line());
    }
    index.finish();
    Ok(Pass {
        columns,
        index,
        line_break_at,
    })
}

fn columns(path: &Path, header: &ByteRecord) -> Result<Vec<String>, DataError> {
    let mut columns = Vec::with_capacity(header.len());
    for field in header.iter() {
        let Ok(name) = std::str::from_utf8(field) else {
            return Err(DataError::new(
                path,
                Some(1),
                "the header row is not valid UTF-8",
            ));
        };
        let name = name.trim().to_string();
        if columns.contains(&name) {
            return Err(DataError::new(
                path,
                Some(1),
                format!("the header row names column {name:?} twice"),
            ));
        }
        columns.push(name);
    }
    if columns.iter().all(String::is_empty) {
        return Err(DataError::new(
            path,
            Some(1),
            "the first line must be a header row naming the columns (e.g. id,email)",
        ));
    }
    Ok(columns)
}

fn csv_error(path: &Path, e: &csv::Error, last_line: u64) -> DataError {
    match e.kind() {
        ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => DataError::new(
            path,
            pos.as_ref().map(|p| p.line()),
            format!("this row has {len} fields; the header row has {expected_len}"),
        ),
        ErrorKind::Io(io) if io.kind() == io::ErrorKind::FileTooLarge => {
            too_long(path, Some(last_line + 1))
        }
        ErrorKind::Io(io) => DataError::new(path, None, format!("cannot be read: {io}")),
        _ => DataError::new(path, e.position().map(|p| p.line()), e.to_string()),
    }
}

fn too_long(path: &Path, line: Option<u64>) -> DataError {
    DataError::new(
        path,
        line,
        format!(
            "a row longer than {} MiB (an unclosed quote?)",
            MAX_ROW_BYTES >> 20
        ),
    )
}

/// Field spans of `record` into `spans` (reused).
pub(super) fn spans_of(record: &ByteRecord, spans: &mut Vec<(u32, u32)>) {
    spans.clear();
    let mut at = 0u32;
    for field in record.iter() {
        let end = at + field.len() as u32;
        spans.push((at, end));
        at = end;
    }
}

/// The file as the pass reads it: fails once more than a row's bound (plus the read
/// buffer) is read without a record ending, so an unclosed quote or one endless line
/// never makes the pass hold the whole file.
struct Bounded<R> {
    file: R,
    since_mark: usize,
}

impl<R: Read> Bounded<R> {
    fn new(file: R) -> Bounded<R> {
        Bounded {
            file,
            since_mark: 0,
        }
    }

    fn mark(&mut self) {
        self.since_mark = 0;
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_mark > MAX_ROW_BYTES + 2 * BUFFER {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, "row too long"));
        }
        let n = self.file.read(buf)?;
        self.since_mark += n;
        Ok(n)
    }
}
