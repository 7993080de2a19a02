//! A rate of bytes, as `min_throughput` takes it: `"50KB/s"`, `"1.5MB/s"`, `"800B/s"`. K, M
//! and G are powers of 1000 (as network rates are written); KiB, MiB and GiB of 1024.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

/// The form, for error messages.
pub const BYTE_RATE_FORM: &str =
    "a rate of bytes such as \"50KB/s\", \"1MB/s\" or \"800B/s\" (KB = 1000 bytes, KiB = 1024)";

/// Units by their name, in bytes; matched without regard to case (`kb/s` is `KB/s`).
const UNITS: [(&str, f64); 7] = [
    ("b", 1.0),
    ("kb", 1e3),
    ("mb", 1e6),
    ("gb", 1e9),
    ("kib", 1024.0),
    ("mib", 1024.0 * 1024.0),
    ("gib", 1024.0 * 1024.0 * 1024.0),
];

/// Bytes per second, or `None` when `text` is not of the form (a number ≥ 0, a unit, `/s`).
pub fn parse_byte_rate(text: &str) -> Option<f64> {
    let lower = text.trim().to_ascii_lowercase();
    let rate = lower.strip_suffix("/s")?.trim_end();
    let split = rate
        .find(|c: char| c.is_ascii_alphabetic())
        .filter(|at| *at > 0)?;
    let (number, unit) = rate.split_at(split);
    let number: f64 = number.trim().parse().ok()?;
    let (_, scale) = UNITS.iter().find(|(name, _)| *name == unit)?;
    (number.is_finite() && number >= 0.0).then_some(number * scale)
}

/// Bytes per second as the reports write them: `812 B/s`, `48.2 KB/s`, `1.25 MB/s` (1000s).
pub fn byte_rate_text(bytes_per_s: f64) -> String {
    let (value, unit) = scaled(bytes_per_s);
    format!("{} {unit}/s", short(value))
}

/// Bytes as the reports write them: `812 B`, `48.2 KB`, `1.25 MB` (1000s).
pub fn bytes_text(bytes: u64) -> String {
    let (value, unit) = scaled(bytes as f64);
    format!("{} {unit}", short(value))
}

fn scaled(v: f64) -> (f64, &'static str) {
    match v {
        v if v >= 1e9 => (v / 1e9, "GB"),
        v if v >= 1e6 => (v / 1e6, "MB"),
        v if v >= 1e3 => (v / 1e3, "KB"),
        v => (v, "B"),
    }
}

/// Three significant digits, whole below 1000 of a unit's smallest.
fn short(v: f64) -> String {
    if v >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The schema's form of a byte rate.
pub struct ByteRate;

impl JsonSchema for ByteRate {
    fn schema_name() -> Cow<'static, str> {
        "ByteRate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A rate of bytes: a string such as \"50KB/s\", \"1MB/s\", \"800B/s\" (KB, MB, GB = 1000s; KiB, MiB, GiB = 1024s).",
            "type": "string",
            "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*([kKmMgG][iI]?)?[bB]/[sS]\\s*$",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_units_kb_in_thousands_kib_in_1024s() {
        assert_eq!(parse_byte_rate("50KB/s"), Some(50_000.0));
        assert_eq!(parse_byte_rate("1MB/s"), Some(1_000_000.0));
        assert_eq!(parse_byte_rate("800B/s"), Some(800.0));
        assert_eq!(parse_byte_rate(" 1.5 mb/s "), Some(1_500_000.0));
        assert_eq!(parse_byte_rate("2KiB/s"), Some(2048.0));
        assert_eq!(parse_byte_rate("1GB/s"), Some(1e9));
        for bad in [
            "50KB",
            "50/s",
            "KB/s",
            "-1KB/s",
            "50Kb/h",
            "50 kilobytes/s",
            "",
            "1e3XB/s",
        ] {
            assert_eq!(parse_byte_rate(bad), None, "{bad}");
        }
    }

    #[test]
    fn writes_three_digits() {
        assert_eq!(byte_rate_text(812.0), "812 B/s");
        assert_eq!(byte_rate_text(48_200.0), "48.2 KB/s");
        assert_eq!(byte_rate_text(1_250_000.0), "1.25 MB/s");
        assert_eq!(bytes_text(40_000), "40 KB");
        assert_eq!(bytes_text(0), "0 B");
    }
}
