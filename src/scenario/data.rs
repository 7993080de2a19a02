//! `[data]` and `[[data]]`: the data sources templates read (`{{data.COL}}`,
//! `{{NAME.COL}}`), and where a template's error sits in the scenario file.
//!
//! Parsing checks the keys and that each file is there; the files themselves are read
//! (one streaming pass each) when the run starts, by [`open_sources`].

use std::fmt;
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
    let span = value.span();
    let raw = src.text.get(span.clone()).unwrap_or("");
    let start = span.start + raw_offset(raw, e.span.start);
    let end = (span.start + raw_offset(raw, e.span.end)).max(start);
    src.error(start..end, &e.message, &e.expected)
}

/// Where decoded byte `offset` of a TOML string sits in its written form `raw` (quotes
/// included): escapes (`\n`, `\"`, `\u00e9`, …) and a multi-line string's trimmed first
/// newline and line-ending backslashes are counted. `raw` that is not a TOML string
/// (a span off by any means) maps to its start.
pub fn raw_offset(raw: &str, offset: usize) -> usize {
    let (open, basic) = if raw.starts_with("\"\"\"") {
        (3, true)
    } else if raw.starts_with("'''") {
        (3, false)
    } else if raw.starts_with('"') {
        (1, true)
    } else if raw.starts_with('\'') {
        (1, false)
    } else {
        return 0;
    };
    let mut at = open;
    // A newline right after the opening delimiter of a multi-line string is not part of it.
    if open == 3 {
        if raw[at..].starts_with("\r\n") {
            at += 2;
        } else if raw[at..].starts_with('\n') {
            at += 1;
        }
    }
    let close = raw.len().saturating_sub(open).max(at);
    let mut decoded = 0;
    let bytes = raw.as_bytes();
    while at < close && decoded < offset {
        if basic && bytes[at] == b'\\' {
            let (raw_len, decoded_len) = escape(&raw[at..close]);
            at += raw_len;
            decoded += decoded_len;
            continue;
        }
        let len = raw[at..].chars().next().map_or(1, char::len_utf8);
        at += len;
        decoded += len;
    }
    // A line-ending backslash right here decodes to nothing: point past it.
    while basic && at < close && bytes[at] == b'\\' {
        let (raw_len, decoded_len) = escape(&raw[at..close]);
        if decoded_len != 0 {
            break;
        }
        at += raw_len;
    }
    at
}

/// An escape at the start of `s`: its written and decoded lengths in bytes.
fn escape(s: &str) -> (usize, usize) {
    let b = s.as_bytes();
    match b.get(1) {
        Some(b'u') | Some(b'U') | Some(b'x') => {
            let digits = match b[1] {
                b'u' => 4,
                b'U' => 8,
                _ => 2,
            };
            let hex = s.get(2..2 + digits).unwrap_or("");
            let c = u32::from_str_radix(hex, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            ((2 + digits).min(s.len()), c.len_utf8())
        }
        // A line-ending backslash: the newline and the whitespace after it are dropped.
        Some(b' ' | b'\t' | b'\r' | b'\n') => {
            let skipped = s[1..]
                .find(|c: char| !c.is_whitespace())
                .map_or(s.len(), |i| i + 1);
            (skipped, 0)
        }
        Some(_) => (2, 1),
        None => (1, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "[target]\nurl = \"http://127.0.0.1:9/\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n";

    /// The scenario `text` in a directory holding o.csv and u.jsonl.
    fn parse(text: &str) -> (tempfile::TempDir, Result<crate::scenario::Scenario>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("o.csv"), "id,email\n1,a@x\n").unwrap();
        std::fs::write(dir.path().join("u.jsonl"), "{\"name\":\"a\"}\n").unwrap();
        let path = dir.path().join("s.toml");
        let parsed = crate::scenario::parse_str(&path, text, None);
        (dir, parsed)
    }

    fn rejected(text: &str) -> String {
        let (_dir, parsed) = parse(text);
        let e = parsed.unwrap_err();
        assert_eq!(e.code, crate::error::exit::BAD_INPUT);
        e.message
    }

    #[test]
    fn one_unnamed_source() {
        let (dir, parsed) = parse(&format!("{HEAD}[data]\nfile = \"o.csv\"\n"));
        let data = parsed.unwrap().data;
        assert_eq!(
            data,
            [DataSpec {
                name: None,
                path: dir.path().join("o.csv"),
                pick: Pick::Sequential,
                seed_from: SeedFrom::None,
            }]
        );
        assert_eq!(data[0].prefix(), "data");
        let sources = open_sources(&data).unwrap();
        assert_eq!(sources[0].rows(), 1);
        let scope = scope_sources(&data, &sources);
        assert_eq!(scope[0].columns, ["id", "email"]);
        let line = preflight_line(&data[0], &sources[0]);
        assert!(
            line.starts_with("data data: ")
                && line.ends_with("o.csv — 1 rows, 2 columns, pick sequential (row k mod rows)"),
            "{line}"
        );
    }

    #[test]
    fn named_sources_and_their_seeds() {
        let text = format!(
            "seed = 9\n{HEAD}[[data]]\nname = \"orders\"\nfile = \"o.csv\"\npick = \"random\"\n\
             [[data]]\nname = \"users\"\nfile = \"u.jsonl\"\npick = \"random\"\nseed = 4\n\
             [[data]]\nfile = \"o.csv\"\npick = \"unique\"\n"
        );
        let (_dir, parsed) = parse(&text);
        let data = parsed.unwrap().data;
        assert_eq!(data[0].pick, Pick::Random { seed: 9 });
        assert_eq!(data[0].seed_from, SeedFrom::Scenario);
        assert_eq!(data[1].pick, Pick::Random { seed: 4 });
        assert_eq!(data[1].seed_from, SeedFrom::Source);
        assert_eq!((data[2].pick, data[2].prefix()), (Pick::Unique, "data"));
        let (_dir, parsed) = parse(&format!(
            "{HEAD}[data]\nfile = \"o.csv\"\npick = \"random\"\n"
        ));
        let data = parsed.unwrap().data;
        assert_eq!(
            (data[0].pick, data[0].seed_from),
            (
                Pick::Random {
                    seed: DEFAULT_DATA_SEED
                },
                SeedFrom::Default
            )
        );
    }

    #[test]
    fn bad_keys_are_located() {
        let err = rejected(&format!("{HEAD}[data]\nfil = \"o.csv\"\n"));
        assert!(
            err.contains("s.toml:7:1:") && err.contains("did you mean `file`?"),
            "{err}"
        );
        let err = rejected(&format!(
            "{HEAD}[[data]]\nname = \"a\"\nfile = \"o.csv\"\npik = 1\n"
        ));
        assert!(
            err.contains("s.toml:9:1:") && err.contains("unknown key `pik`"),
            "{err}"
        );
        let err = rejected(&format!(
            "{HEAD}[data]\nfile = \"o.csv\"\npick = \"shuffle\"\n"
        ));
        assert!(
            err.contains("s.toml:8:8:") && err.contains("sequential, random, unique"),
            "{err}"
        );
        let err = rejected(&format!("{HEAD}[data]\nfile = \"none.csv\"\n"));
        assert!(
            err.contains("s.toml:7:8:") && err.contains("none.csv"),
            "{err}"
        );
        let err = rejected(&format!("{HEAD}[data]\nfile = \"o.txt\"\n"));
        assert!(err.contains("neither .csv nor .jsonl"), "{err}");
        let err = rejected(&format!("{HEAD}[data]\nfile = \"o.csv\"\nseed = 1\n"));
        assert!(err.contains("only read by pick = \"random\""), "{err}");
        let err = rejected(&format!(
            "{HEAD}[[data]]\nname = \"env\"\nfile = \"o.csv\"\n"
        ));
        assert!(err.contains("`env` cannot name a data source"), "{err}");
        let err = rejected(&format!(
            "{HEAD}[[data]]\nfile = \"o.csv\"\n[[data]]\nfile = \"u.jsonl\"\n"
        ));
        assert!(err.contains("only one may be `data`"), "{err}");
        let err = rejected(&format!("data = 3\n{HEAD}"));
        assert!(err.contains("[data] table"), "{err}");
    }

    #[test]
    fn header_templates_refuse_line_breaks_in_what_they_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.csv");
        std::fs::write(&path, "id,note\n1,\"two\nlines\"\n").unwrap();
        let sources = [DataSource::open(&path).unwrap()];
        let scope = stampede_mix::Scope {
            sources: vec![SourceColumns {
                name: None,
                columns: sources[0].columns().to_vec(),
            }],
            captures: vec![],
        };
        let header =
            |t: &str| Template::compile_at(t, &scope, stampede_mix::Position::Header).unwrap();
        let env = EnvValues::read(["K"], |_| Some("a\r\nb".into())).unwrap();
        let none = EnvValues::default();
        assert!(check_header_template(&header("{{data.id}}"), &sources, &none).is_ok());
        let e = check_header_template(&header("{{data.note}}"), &sources, &none).unwrap_err();
        assert!(
            e.message.contains("o.csv:2: column \"note\""),
            "{}",
            e.message
        );
        let e = check_header_template(&header("{{env.K}}"), &sources, &env).unwrap_err();
        assert!(e.message.contains("K holds a line break"), "{}", e.message);
        let t = header("{{env.STAMPEDE_SURELY_UNSET_VAR}}");
        let e = env_values([&t]).unwrap_err();
        assert!(e.contains("STAMPEDE_SURELY_UNSET_VAR is not set"), "{e}");
    }

    #[test]
    fn template_errors_point_inside_the_string() {
        let text = "a = \"x\\\"\\u00e9{{dta.id}}\"\n";
        let table: toml::Table = toml::from_str(text).unwrap();
        assert_eq!(table["a"].as_str(), Some("x\"é{{dta.id}}"));
        #[derive(serde::Deserialize)]
        struct A {
            a: Spanned<String>,
        }
        let a: A = toml::from_str(text).unwrap();
        let e = stampede_mix::Template::compile(a.a.get_ref(), &Default::default()).unwrap_err();
        let src = Source::new(Path::new("s.toml"), text);
        let err = template_error(&src, &a.a, &e).message;
        // `dta` starts at column 17 of `a = "x\"\u00e9{{dta.id}}"`.
        assert!(
            err.starts_with("s.toml:1:17: there is no data source \"dta\""),
            "{err}"
        );
    }

    #[test]
    fn offsets_inside_strings_count_escapes() {
        // Decoded `a"é{{x` — the `{{` at decoded byte 4 (é is 2 bytes).
        let raw = r#""a\"\u00e9{{x""#;
        assert_eq!(&raw[raw_offset(raw, 4)..raw_offset(raw, 4) + 2], "{{");
        assert_eq!(raw_offset(raw, 0), 1);
        let raw = "'a\\{{x'";
        assert_eq!(&raw[raw_offset(raw, 2)..], "{{x'");
        let raw = "\"\"\"\nab \\\n   {{x\"\"\"";
        assert_eq!(&raw[raw_offset(raw, 3)..raw_offset(raw, 3) + 2], "{{");
        let raw = "'''\nab\n{{x'''";
        assert_eq!(&raw[raw_offset(raw, 3)..raw_offset(raw, 3) + 2], "{{");
        assert_eq!(raw_offset("not a string", 3), 0);
        // Past the end stays before the closing quote.
        assert_eq!(raw_offset("\"ab\"", 10), 3);
    }
}
