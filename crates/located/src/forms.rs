//! The forms of value the typed readers of [`Source`](crate::Source) accept, as JSON Schema
//! definitions named after them: what a schema says a key takes is what the reader checks.
//! Used by the scenario's schema and the emulator's settings schema alike.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

/// humantime's grammar: numbers with a unit, one or more, such as "1m30s" or "1.5s".
const DURATION: &str = r"\s*([0-9]+(\.[0-9]+)?\s*(nanos|nsec|ns|usec|us|µs|millis|msec|ms|seconds|second|secs|sec|s|minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w|months|month|M|years|year|yrs|yr|y)\s*)+";

/// A form of value the parser checks, as a schema definition named after it.
macro_rules! value_form {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;
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
