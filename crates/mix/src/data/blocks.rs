//! A reader's bytes of its file: the whole file when it is small (shared by every reader,
//! read once), else one cached block of the file per reader. A seek within the cached
//! block (or anywhere in a whole file) costs no system call; the parsers above read
//! through small buffers, so a random row copies a few KiB rather than a block.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Files up to this size are held whole: measured, a 64 KiB read after every seek costs
/// ~10 µs per random row; from memory it is well under 1 µs.
pub const WHOLE_MAX: u64 = 8 << 20;
/// The cached block of a larger file: a sparse index entry's rows fit in a few KiB.
pub const BLOCK: usize = 16 << 10;

pub(super) enum Blocks {
    Whole {
        bytes: Arc<[u8]>,
        pos: u64,
    },
    File {
        file: File,
        block: Vec<u8>,
        /// Offset of `block[0]` in the file.
        block_at: u64,
        pos: u64,
    },
}

impl Blocks {
    pub(super) fn whole(bytes: Arc<[u8]>) -> Blocks {
        Blocks::Whole { bytes, pos: 0 }
    }

    pub(super) fn file(file: File) -> Blocks {
        Blocks::File {
            file,
            block: Vec::with_capacity(BLOCK),
            block_at: 0,
            pos: 0,
        }
    }
}

impl Read for Blocks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Blocks::Whole { bytes, pos } => {
                let from = (*pos as usize).min(bytes.len());
                let n = buf.len().min(bytes.len() - from);
                buf[..n].copy_from_slice(&bytes[from..from + n]);
                *pos += n as u64;
                Ok(n)
            }
            Blocks::File {
                file,
                block,
                block_at,
                pos,
            } => {
                let cached = *pos >= *block_at && *pos < *block_at + block.len() as u64;
                if !cached {
                    let start = *pos - *pos % BLOCK as u64;
                    block.resize(BLOCK, 0);
                    let n = read_at_full(file, block, start)?;
                    block.truncate(n);
                    *block_at = start;
                    if *pos >= start + n as u64 {
                        return Ok(0); // at or past the end
                    }
                }
                let from = (*pos - *block_at) as usize;
                let n = buf.len().min(block.len() - from);
                buf[..n].copy_from_slice(&block[from..from + n]);
                *pos += n as u64;
                Ok(n)
            }
        }
    }
}

/// Fills `buf` from `at` unless the file ends first; the bytes read.
fn read_at_full(file: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], at + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl Seek for Blocks {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match self {
            Blocks::Whole { pos, .. } | Blocks::File { pos, .. } => pos,
        };
        *pos = match to {
            SeekFrom::Start(at) => at,
            SeekFrom::Current(d) => pos
                .checked_add_signed(d)
                .ok_or(io::ErrorKind::InvalidInput)?,
            SeekFrom::End(_) => return Err(io::ErrorKind::Unsupported.into()),
        };
        Ok(*pos)
    }
}
