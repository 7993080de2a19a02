//! The template language of paths, query strings, headers and bodies: literal text with
//! `{{…}}` placeholders (`uuid`, `seq`, `random_int A B`, `timestamp_ms`, `data.COL` or
//! `SOURCE.COL`, `env.NAME`, `captured.NAME`). Compiled once, when the scenario is read —
//! every error is found then, with its place inside the string — and rendered per logical
//! request by appending bytes to the caller's buffer: no allocation per request.
//!
//! SKELETON (issue 26): the API the engine and the scenario reader use. Only literal text
//! compiles yet; the placeholders arrive with the language itself.

use std::ops::Range;

/// What names a template may use: the data sources' columns and the names captured by
/// earlier steps.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub sources: Vec<SourceColumns>,
    /// Names an earlier step of the same flow captures (`{{captured.NAME}}`).
    pub captures: Vec<String>,
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
    /// Byte range within the template text.
    pub span: Range<usize>,
    pub message: String,
    /// The forms (or names) that would have been accepted.
    pub expected: String,
}

/// A compiled template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Literal(Vec<u8>),
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
    /// The row each data source gives this request, by source index (as in [`Scope`]).
    pub rows: &'a [Option<&'a [&'a [u8]]>],
    /// Values of `env.NAME` read at start, by name.
    pub env: &'a [(String, String)],
    /// Values captured by earlier steps of this flow, by name.
    pub captured: &'a [(String, Vec<u8>)],
}

impl Template {
    pub fn compile(text: &str, _scope: &Scope) -> Result<Template, TemplateError> {
        if let Some(at) = text.find("{{") {
            return Err(TemplateError {
                span: at..text.len(),
                message: "placeholders are not supported yet".into(),
                expected: "literal text".into(),
            });
        }
        Ok(Template::literal(text.as_bytes()))
    }

    /// Text sent as it is.
    pub fn literal(bytes: &[u8]) -> Template {
        Template {
            parts: vec![Part::Literal(bytes.to_vec())],
        }
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
    pub fn render(&self, _ctx: &Context, out: &mut Vec<u8>) {
        for part in &self.parts {
            match part {
                Part::Literal(b) => out.extend_from_slice(b),
            }
        }
    }

    /// Whether it renders a secret (`env.NAME`): what it renders is never shown or stored.
    pub fn has_secret(&self) -> bool {
        false
    }
}
