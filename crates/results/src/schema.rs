//! The results file as a JSON Schema (draft 7), generated from the types that are written,
//! for `stampede schema results` and schemas/results.schema.json.

use schemars::generate::{Contract, SchemaSettings};
use schemars::Schema;

use super::compare::Comparison;
use super::Results;

/// What `stampede run --out` writes: every key, with its meaning from the type's docs.
pub fn results() -> Schema {
    let mut schema = SchemaSettings::draft07()
        .with(|s| s.contract = Contract::Serialize)
        .into_generator()
        .into_root_schema_for::<Results>();
    schema.insert("title".into(), "stampede results".into());
    schema
}

/// What `stampede compare --json` writes.
pub fn comparison() -> Schema {
    let mut schema = SchemaSettings::draft07()
        .with(|s| s.contract = Contract::Serialize)
        .into_generator()
        .into_root_schema_for::<Comparison>();
    schema.insert("title".into(), "stampede comparison".into());
    schema
}
