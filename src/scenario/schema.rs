//! The scenario format as a JSON Schema (draft 7) for editors — Taplo / Even Better TOML read
//! it through a file's `#:schema` directive — and for `stampede schema scenario`.
//!
//! It is generated from the types the parser deserialises (`Raw*`, with `deny_unknown_fields`),
//! so the keys it allows are the keys the parser accepts. The value forms below describe what
//! the parser's checks accept; where a rule spans keys (a stage kind's keys, `to` ≥ `from`)
//! the parser stays the judge and its error names the line.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::transform::{transform_subschemas, Transform};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;

/// humantime's grammar: numbers with a unit, one or more, such as "1m30s" or "1.5s".
const DURATION: &str = r"\s*([0-9]+(\.[0-9]+)?\s*(nanos|nsec|ns|usec|us|µs|millis|msec|ms|seconds|second|secs|sec|s|minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w|months|month|M|years|year|yrs|yr|y)\s*)+";

/// A form of value the parser checks, as a schema definition named after it.
macro_rules! value_form {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub(crate) struct $name;
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

value_form!(
    /// A positive duration written as a string.
    Duration => json_schema!({
        "description": "A duration: a string such as \"250ms\", \"30s\", \"2m\", \"1m30s\". Longer than zero.",
        "type": "string",
        "pattern": format!("^{DURATION}$"),
    })
);
value_form!(
    /// A duration where zero is allowed.
    DurationOrZero => json_schema!({
        "description": "A duration such as \"250ms\"; \"0s\" allowed.",
        "type": "string",
        "pattern": format!("^{DURATION}$"),
    })
);
value_form!(
    /// The emulator's handler time: a duration or a range.
    DurationOrRange => json_schema!({
        "description": "A duration such as \"40ms\", or a range such as \"20ms..80ms\" (uniform).",
        "type": "string",
        "pattern": format!(r"^{DURATION}(\.\.{DURATION})?$"),
    })
);
value_form!(
    /// A percentage string, what rate thresholds and abort rules take.
    Percentage => json_schema!({
        "description": "A percentage from \"0%\" to \"100%\", decimals allowed: \"0.1%\".",
        "type": "string",
        "pattern": r"^\s*\+?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*%\s*$",
    })
);
value_form!(
    /// Requests per second, > 0.
    Rate => json_schema!({
        "description": "Requests per second: a number > 0.",
        "type": "number",
        "exclusiveMinimum": 0,
    })
);
value_form!(
    /// Requests per second, ≥ 0 (a ramp may start or end at 0).
    RateOrZero => json_schema!({
        "description": "Requests per second: a number ≥ 0.",
        "type": "number",
        "minimum": 0,
    })
);
value_form!(
    /// An integer ≥ 1.
    WholeNumber => json_schema!({
        "description": "A whole number ≥ 1.",
        "type": "integer",
        "minimum": 1,
    })
);
value_form!(
    /// An integer ≥ 0.
    Count => json_schema!({
        "description": "A whole number ≥ 0.",
        "type": "integer",
        "minimum": 0,
    })
);

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
    let mut schema = generator().into_root_schema_for::<super::emulator_config::RawEmulator>();
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
