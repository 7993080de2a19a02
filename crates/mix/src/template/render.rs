//! Parts into bytes, appended to the caller's buffer: numbers and the UUID are formatted
//! into stack buffers, values are escaped for their position on the way in. Nothing here
//! allocates except `out` growing, which stops once it has held the largest request.

use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{Context, Part, Position};
use crate::data::mix64;

/// What a path or query value keeps as it is: RFC 3986's unreserved characters.
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(super) fn render(parts: &[Part], position: Position, ctx: &Context, out: &mut Vec<u8>) {
    for part in parts {
        match part {
            Part::Literal(bytes) => out.extend_from_slice(bytes),
            // Digits, '-' and hex need no escaping anywhere.
            Part::Uuid => out.extend_from_slice(&uuid_text(ctx.uuid)),
            Part::Seq => decimal(ctx.seq, out),
            Part::TimestampMs => decimal(ctx.timestamp_ms, out),
            Part::RandomInt { low, high, salt } => {
                let draw = mix64(ctx.random_seed ^ mix64(salt.wrapping_add(1)));
                signed(random_in(*low, *high, draw), out);
            }
            Part::Column { source, column } => {
                if let Some(Some(row)) = ctx.rows.get(*source) {
                    value(row.field(*column), position, out);
                }
            }
            Part::Env(name) => {
                if let Some((_, v)) = ctx.env.iter().find(|(n, _)| n == name) {
                    value(v.as_bytes(), position, out);
                }
            }
            Part::Captured(name) => {
                if let Some((_, v)) = ctx.captured.iter().find(|(n, _)| n == name) {
                    value(v, position, out);
                }
            }
        }
    }
}

/// A value read at run time, escaped for where it is sent.
fn value(bytes: &[u8], position: Position, out: &mut Vec<u8>) {
    match position {
        Position::Body => out.extend_from_slice(bytes),
        Position::Path => {
            for chunk in percent_encode(bytes, PATH_VALUE) {
                out.extend_from_slice(chunk.as_bytes());
            }
        }
        // Never a header line break or a NUL, whatever a value holds (data and env values
        // are checked when read; a captured value is only known now).
        Position::Header => out.extend(
            bytes
                .iter()
                .copied()
                .filter(|b| !matches!(b, b'\r' | b'\n' | 0)),
        ),
    }
}

/// An inclusive draw from `low..=high`: the 64-bit draw scaled to the span (a multiply
/// and shift — no modulo bias worth naming, and exact for the full i64 range).
fn random_in(low: i64, high: i64, draw: u64) -> i64 {
    let span = (high as i128 - low as i128 + 1) as u128; // 1..=2^64
    let offset = (draw as u128 * span) >> 64;
    (low as i128 + offset as i128) as i64
}

/// `n` in decimal, via a stack buffer.
pub(crate) fn decimal(mut n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn signed(n: i64, out: &mut Vec<u8>) {
    if n < 0 {
        out.push(b'-');
    }
    decimal(n.unsigned_abs(), out);
}

/// The UUID in its 8-4-4-4-12 lower-case form, with the version (4) and variant (RFC 9562)
/// bits set.
pub(crate) fn uuid_text(raw: u128) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let v = (raw & !(0xF << 76) & !(0b11 << 62)) | (0x4 << 76) | (0b10 << 62);
    let mut text = [b'-'; 36];
    let mut nibble = 32;
    for (i, slot) in text.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            continue;
        }
        nibble -= 1;
        *slot = HEX[((v >> (nibble * 4)) & 0xF) as usize];
    }
    text
}
