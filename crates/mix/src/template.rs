//! The template language of paths, query strings, headers and bodies: literal text with
//! `{{…}}` placeholders (`uuid`, `seq`, `random_int A B`, `timestamp_ms`, `data.COL` or
//! `SOURCE.COL`, `env.NAME`, `captured.NAME`, and `"…"` for text sent as written, such as
//! `{{"{{"}}`). Compiled once, when the scenario is read — every error is found then, with
//! its place inside the string — and rendered per logical request by appending bytes to the
//! caller's buffer: no allocation per request.
//!
//! Where a template sits decides how values are written ([`Position`]): percent-encoded in
//! a path or query, without CR, LF or NUL in a header value, as they are in a body.

mod parse;
mod render;
#[cfg(test)]
mod tests;

use std::ops::Range;

use crate::data::Row;

/// Where a template is sent, which decides how rendered values are escaped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Position {
    /// Path and query: values percent-encoded except the unreserved characters of RFC
    /// 3986 (`A-Z a-z 0-9 - . _ ~`), so a value is always one segment or one query value.
    Path,
    /// A header value: CR, LF and NUL are never sent (a data column a header uses is
    /// checked when the source is read; captured values have them dropped at render).
    Header,
    /// A body: values as they are.
    #[default]
    Body,
}

/// What names a template may use: the data sources' columns and the names captured by
/// earlier steps.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub sources: Vec<SourceColumns>,
    /// Names an earlier step of the same flow captures (`{{captured.NAME}}`).
    pub captures: Vec<String>,
    /// Where `captures` comes from, said when a name is not among them (a flow and step).
    pub captures_note: Option<String>,
}

/// One data source as templates see it.
#[derive(Clone, Debug)]
pub struct SourceColumns {
    /// `None`: the unnamed `[data]` table, read as `{{data.COL}}`.
    pub name: Option<String>,
    pub columns: Vec<String>,
}

/// A compile error, placed inside the template's text.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateError {
    /// Byte range within the template text (`start <= end <= text.len()`).
    pub span: Range<usize>,
    pub message: String,
    /// The forms (or names) that would have been accepted.
    pub expected: String,
}

/// A compiled template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
    position: Position,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Literal(Vec<u8>),
    Uuid,
    Seq,
    /// `salt` tells `random_int`s apart: the template's text and the draw's place in it.
    RandomInt {
        low: i64,
        high: i64,
        salt: u64,
    },
    TimestampMs,
    /// Column `column` of source `source` (indices into [`Scope::sources`]).
    Column {
        source: usize,
        column: usize,
    },
    Env(String),
    Captured(String),
}

/// Everything a render may read for one logical request. The same values for every
/// attempt of the request, so a retry sends what the first attempt sent.
pub struct Context<'a> {
    /// k: the logical request's number, unique across lanes and shards.
    pub seq: u64,
    /// The request's UUID (version 4 bits set by the renderer).
    pub uuid: u128,
    /// The seed of `random_int` for this request.
    pub random_seed: u64,
    /// Milliseconds since the Unix epoch when the request was first sent.
    pub timestamp_ms: u64,
    /// The row each data source gives this request, by source index (as in [`Scope`]);
    /// `None` renders nothing (the caller counts `data_exhausted` before rendering).
    pub rows: &'a [Option<Row<'a>>],
    /// Values of `env.NAME` read at start, by name ([`crate::secret::EnvValues`]).
    pub env: &'a [(String, String)],
    /// Values captured by earlier steps of this flow, by name.
    pub captured: &'a [(String, Vec<u8>)],
}

impl Template {
    /// Compiles a body template (values as they are). Paths and headers: [`Self::compile_at`].
    pub fn compile(text: &str, scope: &Scope) -> Result<Template, TemplateError> {
        Self::compile_at(text, scope, Position::Body)
    }

    /// Compiles a template for the place it is sent.
    pub fn compile_at(
        text: &str,
        scope: &Scope,
        position: Position,
    ) -> Result<Template, TemplateError> {
        let parts = parse::parts(text, scope, position)?;
        Ok(Template { parts, position })
    }

    /// Text sent as it is.
    pub fn literal(bytes: &[u8]) -> Template {
        Template {
            parts: vec![Part::Literal(bytes.to_vec())],
            position: Position::Body,
        }
    }

    pub fn position(&self) -> Position {
        self.position
    }

    /// The bytes when there is nothing to render: the engine then serialises the request
    /// once for the whole run.
    pub fn as_literal(&self) -> Option<&[u8]> {
        match self.parts.as_slice() {
            [Part::Literal(b)] => Some(b),
            [] => Some(&[]),
            _ => None,
        }
    }

    /// Appends this request's rendering to `out`.
    pub fn render(&self, ctx: &Context, out: &mut Vec<u8>) {
        render::render(&self.parts, self.position, ctx, out)
    }

    /// Whether it renders a secret (`env.NAME`): what it renders is never shown or stored.
    pub fn has_secret(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Env(_)))
    }

    /// The `env.NAME` names it reads, to be read once at start.
    pub fn env_names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Env(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The `(source, column)` pairs it reads. For a header template, the data reader is
    /// told these so a CR, LF or NUL in them is bad input when the file is read.
    pub fn columns(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Column { source, column } => Some((*source, *column)),
            _ => None,
        })
    }

    /// The `captured.NAME` names it reads.
    pub fn captured_names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Captured(name) => Some(name.as_str()),
            _ => None,
        })
    }
}
