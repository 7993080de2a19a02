//! One thread's reader of a source: its own file handle, read buffer and row buffers. The
//! next row in sequence is read on from where the last one ended (no seek, no allocation);
//! any other row seeks to the nearest index entry before it and reads forward.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

use super::blocks::Blocks;

use csv::{ByteRecord, Position};

use super::csv_file::{self, READER_BUFFER};
use super::{jsonl, DataError, Pick, Row, Source};

const CHANGED: &str = "changed since it was first read: rows no longer where they were";

pub struct RowReader {
    source: Source,
    file: Input,
    /// The row the file is positioned at.
    next: u64,
    /// Lines before the file's position (JSON Lines), for errors.
    line: u64,
    buf: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

enum Input {
    Csv {
        rdr: csv::Reader<Blocks>,
        record: ByteRecord,
    },
    Lines {
        input: BufReader<Blocks>,
        line: Vec<u8>,
    },
}

impl RowReader {
    pub(super) fn new(source: Source) -> Result<RowReader, DataError> {
        // A held file is split into rows once, here for the first reader; every reader
        // then takes its rows from the table.
        let _ = source.table();
        RowReader::streaming(source)
    }

    /// A reader that parses each row it reads (the table is made with one).
    pub(super) fn streaming(source: Source) -> Result<RowReader, DataError> {
        let path = source.path();
        let file = match source.whole() {
            Some(bytes) => Blocks::whole(bytes.clone()),
            None => Blocks::file(
                File::open(path)
                    .map_err(|e| DataError::new(path, None, format!("cannot be read: {e}")))?,
            ),
        };
        let (_, byte, line) = source.index().entry_before(0);
        let mut input = match source.format() {
            super::Format::Csv => Input::Csv {
                rdr: csv_file::builder(READER_BUFFER).from_reader(file),
                record: ByteRecord::new(),
            },
            super::Format::JsonLines => Input::Lines {
                input: BufReader::with_capacity(READER_BUFFER, file),
                line: Vec::new(),
            },
        };
        seek(&mut input, byte, line, 0).map_err(|m| DataError::new(path, None, m))?;
        Ok(RowReader {
            source,
            file: input,
            next: 0,
            line: line - 1,
            buf: Vec::new(),
            spans: Vec::new(),
        })
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The row logical request `k` reads under `pick`; `Ok(None)`: the rows ran out.
    pub fn row_for(&mut self, pick: Pick, k: u64) -> Result<Option<Row<'_>>, DataError> {
        match pick.row_of(k, self.source.rows()) {
            Some(row) => self.row(row).map(Some),
            None => Ok(None),
        }
    }

    /// Row `row` (0-based, below [`Source::rows`]).
    pub fn row(&mut self, row: u64) -> Result<Row<'_>, DataError> {
        let rows = self.source.rows();
        if row >= rows {
            return Err(self.error(None, format!("row {row} asked of {rows} rows")));
        }
        if self.source.split_table().is_some() {
            let table = self.source.split_table().expect("split");
            return Ok(table.row(row));
        }
        if row != self.next {
            let (at, byte, line) = self.source.index().entry_before(row);
            // Reading on is cheaper than seeking back to the same entry.
            if !(self.next < row && self.next >= at) {
                seek(&mut self.file, byte, line, at).map_err(|m| self.error(None, m))?;
                self.next = at;
                self.line = line - 1;
            }
            while self.next < row {
                self.read_next()?;
            }
        }
        self.read_next()?;
        Ok(Row::new(&self.buf, &self.spans))
    }

    /// Reads the row the file is positioned at into `buf` and `spans`.
    fn read_next(&mut self) -> Result<(), DataError> {
        let RowReader {
            source,
            file,
            buf,
            spans,
            line: line_no,
            ..
        } = self;
        let fail = |line, message: &str| DataError::new(source.path(), line, message);
        match file {
            Input::Csv { rdr, record } => {
                match rdr.read_byte_record(record) {
                    Ok(true) => {}
                    Ok(false) => return Err(fail(None, CHANGED)),
                    Err(e) => return Err(fail(None, &format!("{CHANGED} ({e})"))),
                }
                csv_file::spans_of(record, spans);
                buf.clear();
                buf.extend_from_slice(record.as_slice());
            }
            Input::Lines { input, line } => loop {
                let used = jsonl::next_line(input, line)
                    .map_err(|e| fail(None, &format!("{CHANGED} ({e})")))?;
                if used.is_none() {
                    return Err(fail(None, CHANGED));
                }
                *line_no += 1;
                if jsonl::is_blank(line) {
                    continue;
                }
                let text = std::str::from_utf8(line)
                    .map_err(|_| fail(Some(*line_no), &format!("{CHANGED} (not UTF-8)")))?;
                jsonl::row_into(text, source.columns(), buf, spans)
                    .map_err(|m| fail(Some(*line_no), &format!("{CHANGED} ({m})")))?;
                break;
            },
        }
        self.next += 1;
        Ok(())
    }

    fn error(&self, line: Option<u64>, message: String) -> DataError {
        DataError::new(self.source.path(), line, message)
    }
}

/// Positions the input at the row starting at `byte` on `line` (row number `row`).
fn seek(input: &mut Input, byte: u64, line: u64, row: u64) -> Result<(), String> {
    match input {
        Input::Csv { rdr, .. } => {
            let mut pos = Position::new();
            pos.set_byte(byte).set_line(line).set_record(row + 1);
            rdr.seek(pos).map_err(|e| format!("cannot be read: {e}"))
        }
        Input::Lines { input, .. } => input
            .seek(SeekFrom::Start(byte))
            .map(|_| ())
            .map_err(|e| format!("cannot be read: {e}")),
    }
}
