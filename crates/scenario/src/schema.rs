//! The scenario format as a JSON Schema (draft 7) for editors — Taplo / Even Better TOML read
//! it through a file's `#:schema` directive — and for `stampede schema scenario`.
//!
//! It is generated from the types the parser deserialises (`Raw*`, with `deny_unknown_fields`),
//! so the keys it allows are the keys the parser accepts. The value forms (`stampede_located::forms`) describe what
//! the parser's checks accept; where a rule spans keys (a stage kind's keys, `to` ≥ `from`)
//! the parser stays the judge and its error names the line.

use schemars::generate::SchemaSettings;
use schemars::transform::{transform_subschemas, Transform};
use schemars::{Schema, SchemaGenerator};
use serde_json::Value;

/// The value forms the readers of `stampede-located` check, as schema definitions.
pub(crate) use stampede_located::forms::{
    Count, Duration, Percentage, Rate, RateOrZero, WholeNumber,
};

/// The settings every schema of ours is generated with: draft 7, which Taplo and most
/// validators read, and no `null` (TOML has none: an absent key is how "not set" is written).
pub fn generator() -> SchemaGenerator {
    SchemaSettings::draft07()
        .with(|s| s.transforms.push(Box::new(NoNull)))
        .into_generator()
}

/// The scenario file's schema (`stampede schema scenario`, schemas/scenario.schema.json).
pub fn scenario() -> Schema {
    let mut schema = generator().into_root_schema_for::<super::parse::RawScenario>();
    schema.insert("title".into(), "stampede scenario".into());
    // `[[stages]]` may be absent for serde (the parser then names what is missing).
    schema.insert("required".into(), serde_json::json!(["stages"]));
    schema
}

/// The `stampede emulate --config FILE` file's schema: the keys of a scenario's `[emulator]`.
pub fn emulator() -> Schema {
    let mut schema = generator().into_root_schema_for::<stampede_emulator::config::RawEmulator>();
    schema.insert("title".into(), "stampede emulator settings".into());
    schema
}

/// Per value of `kind` in `table` (kind, the keys it takes): the keys it must have (where
/// `required(kind, key)`) and, of the keys other kinds take, those it must not have.
pub(crate) fn kind_rules(
    schema: &mut Schema,
    table: &[(&str, &[&str])],
    required: impl Fn(&str, &str) -> bool,
) {
    let every: Vec<&str> = table
        .iter()
        .flat_map(|(_, keys)| keys.iter().copied())
        .collect();
    let rules: Vec<Value> = table
        .iter()
        .map(|(kind, keys)| {
            let foreign: serde_json::Map<String, Value> = every
                .iter()
                .filter(|k| !keys.contains(k))
                .map(|k| (k.to_string(), false.into()))
                .collect();
            let needed: Vec<&str> = keys.iter().copied().filter(|k| required(kind, k)).collect();
            serde_json::json!({
                "if": { "properties": { "kind": { "const": kind } }, "required": ["kind"] },
                "then": { "required": needed, "properties": foreign },
            })
        })
        .collect();
    schema.insert("allOf".into(), rules.into());
}

/// Drops the `null` that schemars allows for `Option` fields.
#[derive(Clone, Debug)]
struct NoNull;

impl Transform for NoNull {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(Value::Array(types)) = schema.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                schema.insert("type".into(), only);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(choices)) = schema.get_mut(key) {
                choices.retain(|c| c.get("type").and_then(Value::as_str) != Some("null"));
                if choices.len() == 1 {
                    let only = choices.remove(0);
                    schema.remove(key);
                    if let Value::Object(fields) = only {
                        for (k, v) in fields {
                            schema.insert(k, v);
                        }
                    }
                }
            }
        }
        transform_subschemas(self, schema);
    }
}
