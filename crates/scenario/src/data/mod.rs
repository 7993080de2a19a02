//! `[data]` and `[[data]]`: the data sources templates read (`{{data.COL}}`,
//! `{{NAME.COL}}`), and where a template's error sits in the scenario file.
//!
//! Parsing checks the keys and that each file is there; the files themselves are read
//! (one streaming pass each) when the run starts, by [`open_sources`].

mod string_offset;
#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::{Spanned, Value};

use crate::error::{Error, Result};
use crate::located::Source;
use stampede_mix::data::{Pick, Source as DataSource, MAX_SOURCES};
use stampede_mix::template::{SourceColumns, Template, TemplateError};
use stampede_mix::EnvValues;

/// The seed of `pick = "random"` when neither the source nor the scenario sets one.
pub const DEFAULT_DATA_SEED: u64 = 0;
pub const PICKS: [&str; 3] = ["sequential", "random", "unique"];
/// Names a source may not take: the template's own prefixes and placeholders.
const RESERVED: [&str; 7] = [
    "data",
    "env",
    "captured",
    "uuid",
    "seq",
    "timestamp_ms",
    "random_int",
];

/// One data source as the scenario says it; opened when the run starts.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSpec {
    /// `None`: the unnamed source, `{{data.COL}}`.
    pub name: Option<String>,
    /// Resolved against the scenario file's directory.
    pub path: PathBuf,
    pub pick: Pick,
    /// Where a random pick's seed came from, for the preflight to say.
    pub seed_from: SeedFrom,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedFrom {
    /// Not a random pick.
    None,
    /// The source's own `seed`.
    Source,
    /// The scenario's `seed`.
    Scenario,
    /// Neither: [`DEFAULT_DATA_SEED`].
    Default,
}

impl DataSpec {
    /// How templates name it: `data` or its name.
    pub fn prefix(&self) -> &str {
        self.name.as_deref().unwrap_or("data")
    }
}

/// `[data]` (one source) or `[[data]]` (several).
#[derive(JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "DataSources")]
pub(super) enum RawDataTables {
    One(RawData),
    Many(Vec<RawData>),
}

/// A data source: a CSV file with a header row, or JSON Lines.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DataSource")]
pub(super) struct RawData {
    /// `[[data]]`: templates read it as `{{NAME.COLUMN}}` (letters, digits, _ and -). One
    /// source may go unnamed: `{{data.COLUMN}}`.
    #[schemars(with = "Option<String>", extend("pattern" = "^[A-Za-z0-9_-]+$"))]
    name: Option<Spanned<String>>,
    /// A .csv (a header row first) or .jsonl / .ndjson file, relative to the scenario file.
    #[schemars(with = "String")]
    file: Spanned<String>,
    /// "sequential" (default: row k mod rows), "random" (seeded, by k) or "unique" (row k,
    /// each at most once in the whole run; the stage ends when they run out).
    #[schemars(with = "Option<String>", extend("enum" = PICKS))]
    pick: Option<Spanned<String>>,
    /// pick = "random": its seed (default: the scenario's seed, else 0).
    #[schemars(with = "Option<u64>")]
    seed: Option<Spanned<Value>>,
}

/// A table or an array of tables, each read with its keys' own spans and errors.
impl<'de> Deserialize<'de> for RawDataTables {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Tables;
        impl<'de> Visitor<'de> for Tables {
            type Value = RawDataTables;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a [data] table or [[data]] tables")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                RawData::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawDataTables::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(RawDataTables::Many)
            }
        }
        d.deserialize_any(Tables)
    }
}

/// The sources, checked: keys, names, picks, and that each file is a file.
pub(super) fn data_specs(
    src: &Source,
    raw: &Spanned<RawDataTables>,
    scenario_seed: Option<u64>,
) -> Result<Vec<DataSpec>> {
    let tables: Vec<&RawData> = match raw.get_ref() {
        RawDataTables::One(t) => vec![t],
        RawDataTables::Many(ts) => ts.iter().collect(),
    };
    if tables.is_empty() {
        return Err(src.error(
            raw.span(),
            "[[data]] lists no source",
            "[data] file = \"orders.csv\", or [[data]] tables each with name and file",
        ));
    }
    if tables.len() > MAX_SOURCES {
        return Err(src.error(
            raw.span(),
            &format!("{} data sources", tables.len()),
            &format!("at most {MAX_SOURCES} [[data]] tables"),
        ));
    }
    let dir = src.name.parent().unwrap_or(Path::new(""));
    let mut specs: Vec<DataSpec> = Vec::with_capacity(tables.len());
    for t in tables {
        let spec = data_spec(src, t, dir, scenario_seed)?;
        if specs.iter().any(|s| s.name == spec.name) {
            let span = t.name.as_ref().map_or(t.file.span(), |n| n.span());
            let message = match &spec.name {
                Some(n) => format!("two data sources are named `{n}`"),
                None => "two data sources have no name; only one may be `data`".into(),
            };
            return Err(src.error(span, &message, "a name = \"…\" of its own for each source"));
        }
        specs.push(spec);
    }
    Ok(specs)
}

fn data_spec(
    src: &Source,
    t: &RawData,
    dir: &Path,
    scenario_seed: Option<u64>,
) -> Result<DataSpec> {
    let name = match &t.name {
        None => None,
        Some(n) => {
            let given = n.get_ref();
            let ok = !given.is_empty()
                && given
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok || RESERVED.contains(&given.as_str()) {
                return Err(src.error(
                    n.span(),
                    &format!("`{given}` cannot name a data source"),
                    "letters, digits, _ and - (not data, env, captured or a placeholder's name); templates then read {{NAME.COLUMN}}",
                ));
            }
            Some(given.clone())
        }
    };
    let file = t.file.get_ref();
    let path = dir.join(file);
    if stampede_mix::data::Format::of(&path).is_none() {
        return Err(src.error(
            t.file.span(),
            &format!("`{file}` is neither .csv nor .jsonl"),
            "a .csv file with a header row, or a .jsonl / .ndjson file (one JSON object a line)",
        ));
    }
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => {}
        Ok(m) => {
            return Err(src.error(
                t.file.span(),
                &format!(
                    "{} is a {}, not a file",
                    path.display(),
                    crate::located::kind_of(&m)
                ),
                "a data file, relative to the scenario file",
            ))
        }
        Err(e) => {
            return Err(src.error(
                t.file.span(),
                &format!(
                    "cannot read {}: {}",
                    path.display(),
                    crate::located::io_reason(&e)
                ),
                "a data file, relative to the scenario file",
            ))
        }
    }
    let pick = t.pick.as_ref().map_or(Ok("sequential"), |p| {
        PICKS
            .iter()
            .find(|k| **k == p.get_ref())
            .copied()
            .ok_or_else(|| src.unknown(p.span(), "pick", p.get_ref(), &PICKS))
    })?;
    let own_seed = match &t.seed {
        Some(v) => Some(src.whole_number(v, "seed")?),
        None => None,
    };
    if let (Some(v), false) = (&t.seed, pick == "random") {
        return Err(src.error(
            v.span(),
            "`seed` is only read by pick = \"random\"",
            "pick = \"random\" with it, or no seed",
        ));
    }
    let (pick, seed_from) = match pick {
        "random" => {
            let (seed, from) = match (own_seed, scenario_seed) {
                (Some(s), _) => (s, SeedFrom::Source),
                (None, Some(s)) => (s, SeedFrom::Scenario),
                (None, None) => (DEFAULT_DATA_SEED, SeedFrom::Default),
            };
            (Pick::Random { seed }, from)
        }
        "unique" => (Pick::Unique, SeedFrom::None),
        _ => (Pick::Sequential, SeedFrom::None),
    };
    Ok(DataSpec {
        name,
        path,
        pick,
        seed_from,
    })
}

/// Reads every source once (a streaming pass each): bad data is exit 2 naming the file
/// and line.
pub fn open_sources(specs: &[DataSpec]) -> Result<Vec<DataSource>> {
    specs
        .iter()
        .map(|s| {
            DataSource::open(&s.path).map_err(|e| {
                Error::input(format!(
                    "{e}\n  expected: a .csv file with a header row, or JSON Lines (one object a line)"
                ))
            })
        })
        .collect()
}

/// What the preflight says of a source once read: its name, file, row count and pick.
pub fn preflight_line(spec: &DataSpec, source: &DataSource) -> String {
    let rows = source.rows();
    let pick = match (spec.pick, spec.seed_from) {
        (Pick::Sequential, _) => "sequential (row k mod rows)".to_string(),
        (Pick::Unique, _) => format!("unique (each row once: at most {rows} requests read it)"),
        (Pick::Random { seed }, from) => {
            let from = match from {
                SeedFrom::Source => "its seed",
                SeedFrom::Scenario => "the scenario's seed",
                _ => "the default seed",
            };
            format!("random (seed {seed}, {from})")
        }
    };
    format!(
        "data {}: {} — {rows} rows, {} columns, pick {pick}",
        spec.prefix(),
        spec.path.display(),
        source.columns().len()
    )
}

/// The sources as templates see them: in the order of `specs`, which is the order of
/// `Context::rows`.
pub fn scope_sources(specs: &[DataSpec], sources: &[DataSource]) -> Vec<SourceColumns> {
    specs
        .iter()
        .zip(sources)
        .map(|(spec, source)| SourceColumns {
            name: spec.name.clone(),
            columns: source.columns().to_vec(),
        })
        .collect()
}

/// The `env.NAME` values `templates` read, each read once now; an unset one is named.
pub fn env_values<'t>(
    templates: impl IntoIterator<Item = &'t Template>,
) -> std::result::Result<EnvValues, String> {
    let names: Vec<&str> = templates
        .into_iter()
        .flat_map(Template::env_names)
        .collect();
    EnvValues::read(names, |n| std::env::var(n).ok()).map_err(|missing| {
        format!(
            "environment variable {} is not set (or not UTF-8), and a template reads it as {{{{env.{}}}}}",
            missing.0, missing.0
        )
    })
}

/// A header template never sends a CR, LF or NUL: refused when a data column it reads
/// holds one in some row (the data file and line named) or an env value it reads does.
pub fn check_header_template(
    template: &Template,
    sources: &[DataSource],
    env: &EnvValues,
) -> Result<()> {
    for (source, column) in template.columns() {
        if let Some(s) = sources.get(source) {
            s.check_header_safe(column).map_err(|e| {
                Error::input(format!(
                    "{e}\n  expected: values on one line (or the column sent in a body instead)"
                ))
            })?;
        }
    }
    let unsafe_env: Vec<&str> = env.with_line_break().collect();
    if let Some(name) = template.env_names().find(|n| unsafe_env.contains(n)) {
        return Err(Error::input(format!(
            "environment variable {name} holds a line break or NUL, and a header sends it\n  expected: a value on one line"
        )));
    }
    Ok(())
}

/// A template's error in the scenario: `value` is the TOML string the template came from,
/// and the error's column points at the character inside it, escapes counted.
pub fn template_error(src: &Source, value: &Spanned<String>, e: &TemplateError) -> Error {
    src.error(
        span_in_string(src, value.span(), e.span.clone()),
        &e.message,
        &e.expected,
    )
}

/// The file span of decoded bytes `within` a TOML string or key written at `string`:
/// quoted (its quotes and escapes counted) or bare, kept on character boundaries.
pub fn span_in_string(src: &Source, string: Range<usize>, within: Range<usize>) -> Range<usize> {
    let raw = src.text.get(string.clone()).unwrap_or("");
    let quoted = raw.starts_with('"') || raw.starts_with('\'');
    let at = |offset: usize| {
        let inside = if quoted {
            string_offset::raw_offset(raw, offset)
        } else {
            offset.min(raw.len())
        };
        let mut p = (string.start + inside).min(string.end);
        while !src.text.is_char_boundary(p) {
            p -= 1;
        }
        p
    };
    let start = at(within.start);
    start..at(within.end).max(start)
}
