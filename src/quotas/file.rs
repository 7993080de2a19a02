//! The quotas file (docs/quotas.md): for offline runs and accounts that may not read quotas.
//! Every key is optional; a missing key means "unknown", never zero.

use std::path::Path;

use toml::{Spanned, Value};

use super::{LimitKey, QuotaSource, Quotas, LIMIT_KEYS};
use crate::error::{Error, Result};
use crate::located::{toml_error, Source};

/// Reads a quotas file; a bad one is bad input (exit 2) with its line and column.
pub fn load(path: &Path) -> Result<Quotas> {
    let max = crate::located::TEXT_FILE_MAX;
    let text = crate::located::read_user_text(path, max).map_err(|why| {
        Error::input(format!(
            "cannot read quotas file {}: {why}\n  expected: a quotas file (TOML) of at most {}",
            path.display(),
            crate::located::size_text(max)
        ))
    })?;
    parse(path, &text)
}

/// Parses the text of a quotas file named `path`.
pub fn parse(path: &Path, text: &str) -> Result<Quotas> {
    let src = Source::new(path, text);
    // Spanned keys and values, so each error can point at its line and column.
    let spanned: std::collections::BTreeMap<Spanned<String>, Spanned<Value>> =
        toml::from_str(text).map_err(|e| toml_error(&src, &e))?;
    let names: Vec<&str> = LIMIT_KEYS.iter().map(|k| k.key()).collect();
    let source = QuotaSource::File {
        path: path.display().to_string(),
    };
    let mut quotas = Quotas {
        origin: "file".into(),
        ..Quotas::default()
    };
    for (name, value) in &spanned {
        let Some(key) = LimitKey::from_key(name.get_ref()) else {
            return Err(src.unknown(name.span(), "quota", name.get_ref(), &names));
        };
        let n = src.number_in(value, key.key(), true, key.unit())?;
        quotas.offer(key, Some(n), source.clone());
    }
    // The scaling rate has no API and no account-specific value: AWS's number stands.
    if let Some(v) = LimitKey::LambdaScalingRate.documented() {
        quotas.offer(
            LimitKey::LambdaScalingRate,
            Some(v),
            QuotaSource::Documented,
        );
    }
    quotas.quotas.sort_by_key(|q| q.key);
    Ok(quotas)
}

/// The quotas file as a JSON Schema (`stampede schema quotas`): the keys this parser reads.
pub fn schema() -> schemars::Schema {
    let properties: serde_json::Map<String, serde_json::Value> = LIMIT_KEYS
        .iter()
        .map(|k| {
            let about = format!("{} ({}). Absent: unknown.", k.title(), k.unit());
            let form = serde_json::json!({ "description": about, "type": "number", "minimum": 0 });
            (k.key().to_string(), form)
        })
        .collect();
    schemars::json_schema!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "stampede quotas file",
        "description": "The limits a run can hit, for offline runs and accounts that may not read quotas. Every key is optional.",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Quotas> {
        parse(Path::new("q.toml"), text)
    }

    #[test]
    fn every_key_is_optional_and_a_missing_one_stays_unknown() {
        let q = parse_str("apigw_rate = 400\nfunction_reserved_concurrency = 50\n").unwrap();
        assert_eq!(q.origin, "file");
        assert_eq!(q.get(LimitKey::ApigwRate), Some(400.0));
        assert_eq!(q.get(LimitKey::FunctionReservedConcurrency), Some(50.0));
        assert!(q.quota(LimitKey::LambdaConcurrentExecutions).is_none());
        assert_eq!(q.get(LimitKey::LambdaScalingRate), Some(1000.0));
        assert_eq!(
            q.quota(LimitKey::ApigwRate).unwrap().source,
            QuotaSource::File {
                path: "q.toml".into()
            }
        );
    }

    #[test]
    fn bad_files_name_the_line_and_what_was_expected() {
        let e = parse_str("apigw_rate = 400\napigw_brust = 10\n").unwrap_err();
        assert_eq!(e.code, 2);
        assert!(
            e.message
                .starts_with("q.toml:2:1: unknown quota `apigw_brust`"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("did you mean `apigw_burst`"),
            "{}",
            e.message
        );
        let e = parse_str("stage_rate = \"fast\"\n").unwrap_err();
        assert!(e.message.starts_with("q.toml:1:14:"), "{}", e.message);
        assert!(
            e.message.contains("expected: a number ≥ 0 (req/s)"),
            "{}",
            e.message
        );
        let e = parse_str("\n\nstage_burst = -5\n").unwrap_err();
        assert!(e.message.starts_with("q.toml:3:15:"), "{}", e.message);
        assert!(e.message.contains("negative"), "{}", e.message);
        let e = parse_str("stage_burst = \n").unwrap_err();
        assert!(e.message.starts_with("q.toml:1:"), "{}", e.message);
    }
}
