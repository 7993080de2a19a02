//! A chunked body (RFC 9112 §7.1): chunk-size lines, chunk data, and the trailer.

use super::{Chunked, ParseError, ResponseReader, State, MAX_LINE};

impl ResponseReader {
    pub(super) fn read_chunked(
        &mut self,
        state: Chunked,
        input: &[u8],
    ) -> Result<usize, ParseError> {
        match state {
            Chunked::Size => {
                let Some(line) = line(input)? else {
                    return Ok(0);
                };
                let size = chunk_size(&input[..line - 2])?;
                self.state = State::Chunked(if size == 0 {
                    Chunked::Trailer
                } else {
                    Chunked::Data(size)
                });
                Ok(line)
            }
            Chunked::Data(left) => {
                let n = left.min(input.len() as u64) as usize;
                self.keep_body(&input[..n])?;
                self.state = State::Chunked(match left - n as u64 {
                    0 => Chunked::DataEnd,
                    left => Chunked::Data(left),
                });
                Ok(n)
            }
            Chunked::DataEnd => match input {
                [b'\r', b'\n', ..] => {
                    self.state = State::Chunked(Chunked::Size);
                    Ok(2)
                }
                [] | [b'\r'] => Ok(0),
                _ => Err(ParseError::ChunkEnd),
            },
            Chunked::Trailer => {
                let Some(line) = line(input)? else {
                    return Ok(0);
                };
                if line == 2 {
                    self.state = State::Done;
                }
                Ok(line)
            }
        }
    }
}

/// The length of the first CRLF-ended line of `input` (CRLF included), if it is all there.
/// A CR or LF alone is an error (RFC 9112 §2.2), as is a line over MAX_LINE with its CRLF —
/// whether the bytes after it have come yet or not, so a line's fate does not depend on how
/// the reads fall.
fn line(input: &[u8]) -> Result<Option<usize>, ParseError> {
    let window = &input[..input.len().min(MAX_LINE)];
    let full = window.len() == MAX_LINE;
    match window.iter().position(|b| *b == b'\r' || *b == b'\n') {
        Some(at) if window[at] == b'\r' => match window.get(at + 1) {
            Some(b'\n') => Ok(Some(at + 2)),
            Some(_) => Err(ParseError::ChunkSize),
            None if full => Err(ParseError::LineTooLong),
            None => Ok(None),
        },
        Some(_) => Err(ParseError::ChunkSize),
        None if full => Err(ParseError::LineTooLong),
        None => Ok(None),
    }
}

/// A chunk-size line without its CRLF: hex digits, optional spaces or tabs, extensions.
fn chunk_size(line: &[u8]) -> Result<u64, ParseError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ParseError::ChunkSize);
    }
    let mut size: u64 = 0;
    for b in &line[..digits] {
        let d = (*b as char).to_digit(16).expect("a hex digit") as u64;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(d))
            .ok_or(ParseError::ChunkSize)?;
    }
    // Only SP and HTAB (BWS) before the extensions: not the form feed `trim_ascii` takes.
    let blank = line[digits..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let rest = &line[digits + blank..];
    if rest.is_empty() || rest[0] == b';' {
        Ok(size)
    } else {
        Err(ParseError::ChunkSize)
    }
}
