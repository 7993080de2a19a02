//! `[[requests]]`: the weighted mix of requests a scenario sends. Each entry is compiled
//! once here (its path, header values and body are templates), and the mix's rotation is
//! built from the weights, so that which request logical request k sends is settled
//! before anything runs. Without `[[requests]]` the mix is one entry built from `[target]`
//! ([`Requests::single`]).

use super::data::span_in_string as inner;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use http::{HeaderName, HeaderValue, Method, Uri};
use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::parse::{parse_method, parse_url, HEADER_EXPECTED};
use super::schema::WholeNumber;
use super::{Target, BODY_MAX};
use crate::error::{Error, Result};
use crate::located::{
    read_user_file, read_user_text, size_text, toml_error, Source, TEXT_FILE_MAX,
};
use stampede_mix::capture::Capture;
use stampede_mix::data::{Pick, Source as DataSource};
use stampede_mix::expect::Expect;
use stampede_mix::secret::EnvValues;
use stampede_mix::template::{Position, Scope, Template};
use stampede_mix::Rotation;

use super::flows::Flows;

/// The most `[[requests]]` entries a scenario may have: each is a column of every report
/// and a cell per stage in the recorder.
pub const REQUESTS_MAX: usize = 100;

/// One `[[requests]]` entry: a request of the mix, sent in proportion to its weight.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RequestEntry")]
pub(super) struct RawRequestEntry {
    /// Names the request in the results (`by_request`) and reports: unique, required.
    #[schemars(with = "String", extend("minLength" = 1))]
    name: Option<Spanned<String>>,
    /// An HTTP method, letters only (default "GET").
    #[schemars(with = "Option<String>", extend("pattern" = "^[A-Za-z]+$"))]
    method: Option<Spanned<String>>,
    /// Path and query, starting with "/", appended to [target] url's path. Not with url.
    #[schemars(with = "Option<String>", extend("pattern" = "^/"))]
    path: Option<Spanned<String>>,
    /// A full URL, on the target's scheme, host and port. Not with path.
    #[schemars(with = "Option<String>")]
    url: Option<Spanned<String>>,
    /// Header name = "value", sent on top of [target] headers (replacing one of the same name).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    headers: BTreeMap<Spanned<String>, Spanned<String>>,
    /// The request body. Not together with body_file.
    #[schemars(with = "Option<String>")]
    body: Option<Spanned<String>>,
    /// The body read from this file, relative to the file that names it. Not with body.
    #[schemars(with = "Option<String>")]
    body_file: Option<Spanned<String>>,
    /// Its share of the mix: a whole number ≥ 1 (default 1).
    #[schemars(with = "Option<WholeNumber>")]
    weight: Option<Spanned<Value>>,
    /// What an ok answer must also be (status, JSON pointers, a body substring, headers),
    /// else it counts as `unexpected`.
    #[schemars(with = "Option<super::expect::RawExpect>")]
    expect: Option<Spanned<super::expect::RawExpect>>,
    /// Values taken from the answer for a flow's later steps: name = "json:/POINTER" or
    /// "header:NAME".
    #[schemars(with = "Option<super::expect::RawCapture>")]
    capture: Option<Spanned<super::expect::RawCapture>>,
}

impl RawRequestEntry {
    /// The names its `capture` table sets.
    pub(super) fn capture_names(&self) -> impl Iterator<Item = &str> {
        self.capture.iter().flat_map(|c| c.get_ref().names())
    }
}

/// A file of `[[requests]]` alone (`--requests FILE`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestsFile {
    #[serde(default)]
    requests: Vec<Spanned<RawRequestEntry>>,
}

/// One request of the mix, compiled.
#[derive(Clone, Debug)]
pub struct RequestEntry {
    /// Unique within the scenario; what results and reports key it by.
    pub name: String,
    pub method: Method,
    /// The origin-form request target (`/path?query`), the target's path prefix included.
    pub target: Template,
    /// The path as written (with the prefix), for the preflight.
    pub shown_path: String,
    /// On top of `[target] headers`; a name here replaces the target's.
    pub headers: Vec<(HeaderName, Template)>,
    pub body: Template,
    pub weight: u64,
    /// What an ok answer must also be; `None`: the classification alone.
    pub expect: Option<Expect>,
    /// What a flow's later steps take from the answer.
    pub captures: Vec<Capture>,
}

impl RequestEntry {
    /// Nothing to render: the head is serialised once for the whole run.
    pub fn is_literal(&self) -> bool {
        self.target.as_literal().is_some()
            && self.body.as_literal().is_some()
            && self.headers.iter().all(|(_, v)| v.as_literal().is_some())
    }
}

/// The mix: the entries and which of them logical request k sends.
#[derive(Clone, Debug)]
pub struct Requests {
    pub entries: Vec<RequestEntry>,
    pub rotation: Rotation,
    /// From `[[requests]]` (or `--requests`): the results then say what each did.
    pub declared: bool,
    /// The data sources templates read, with their pick rules, in `Context::rows` order.
    pub data: Vec<(DataSource, Pick)>,
    /// The `{{env.NAME}}` values, read once when the scenario was: secrets, never shown.
    pub env: EnvValues,
    /// `[[flows]]`: the rotation is then over the flows, each sending its steps in turn.
    pub flows: Option<Flows>,
}

impl Requests {
    /// The entries recorded apart: those of a declared mix, none for one request.
    pub fn recorded_entries(&self) -> usize {
        if self.declared {
            self.entries.len()
        } else {
            0
        }
    }

    /// Each request's share of the logical requests sent, by name: its weight over the
    /// total, or with `[[flows]]`, its steps in each flow by the flow's weight over all the
    /// steps they send.
    pub fn shares(&self) -> std::collections::BTreeMap<String, f64> {
        let mut sent = vec![0.0; self.entries.len()];
        match &self.flows {
            Some(flows) => {
                for f in &flows.entries {
                    for &step in &f.steps {
                        sent[step] += f.weight as f64;
                    }
                }
            }
            None => {
                for (i, e) in self.entries.iter().enumerate() {
                    sent[i] = e.weight as f64;
                }
            }
        }
        let total: f64 = sent.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        self.entries
            .iter()
            .zip(sent)
            .map(|(e, n)| (e.name.clone(), n / total))
            .collect()
    }

    /// The one request of a scenario without `[[requests]]`: `[target]`'s method, URL,
    /// headers and body (its headers are the target's own, so none here).
    pub fn single(target: &Target) -> Requests {
        let path = target
            .url
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        Requests {
            entries: vec![RequestEntry {
                name: format!("{} {}", target.method, target.url.path()),
                method: target.method.clone(),
                target: Template::literal(path.as_bytes()),
                shown_path: target.url.path().to_string(),
                headers: Vec::new(),
                body: Template::literal(&target.body),
                weight: 1,
                expect: None,
                captures: Vec::new(),
            }],
            rotation: Rotation::new(&[1]).expect("one entry of weight 1"),
            declared: false,
            data: Vec::new(),
            env: EnvValues::default(),
            flows: None,
        }
    }

    /// Names of the entries, in file order.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.name.as_str()).collect()
    }
}

/// Where the `[[requests]]` were read, for their errors and their `body_file`s.
pub(super) struct EntriesIn<'s, 'a> {
    pub src: &'s Source<'a>,
    /// Where the table list starts (errors about the list as a whole point there).
    pub list_span: Range<usize>,
}

/// Compiles the entries against `target` (its URL's path is their prefix, its origin the
/// only one they may name).
pub(super) fn entries(
    at: &EntriesIn,
    raw: &[Spanned<RawRequestEntry>],
    target: &Target,
    scope: &Scope,
) -> Result<Requests> {
    let src = at.src;
    if raw.len() > REQUESTS_MAX {
        return Err(src.error(
            raw[REQUESTS_MAX].span(),
            &format!("{} [[requests]] entries; at most {REQUESTS_MAX}", raw.len()),
            &format!("at most {REQUESTS_MAX} requests (each is a row of every report)"),
        ));
    }
    if target.url.query().is_some() {
        return Err(src.error(
            at.list_span.clone(),
            "[target] url has a query string, and [[requests]] paths are appended to it",
            "a [target] url without ?query; put the query in each request's path",
        ));
    }
    let prefix = target.url.path().trim_end_matches('/');
    let mut entries: Vec<RequestEntry> = Vec::with_capacity(raw.len());
    let mut spans = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let entry = entry(src, r, i + 1, prefix, target, scope)?;
        if entries.iter().any(|e| e.name == entry.name) {
            let span = r.get_ref().name.as_ref().map_or(r.span(), |n| n.span());
            return Err(src.error(
                span,
                &format!("duplicate request name `{}`", entry.name),
                "request names that differ: results and reports are keyed by them",
            ));
        }
        spans.push(r.span());
        entries.push(entry);
    }
    let weights: Vec<u64> = entries.iter().map(|e| e.weight).collect();
    let rotation = Rotation::new(&weights).map_err(|why| {
        src.error(
            at.list_span.clone(),
            &format!("the weights of [[requests]] make no mix: {why}"),
            "whole-number weights ≥ 1 whose sum (after dividing out their common factor) is at most 1,000,000",
        )
    })?;
    Ok(Requests {
        entries,
        rotation,
        declared: true,
        data: Vec::new(),
        env: EnvValues::default(),
        flows: None,
    })
}

/// Compiles entry `index` (from 0) of `raw` again in `scope`: the error a template gives
/// there (a `{{captured.X}}` its flow does not capture before it).
pub(super) fn recompile(
    at: &EntriesIn,
    raw: &[Spanned<RawRequestEntry>],
    index: usize,
    target: &Target,
    scope: &Scope,
) -> Result<()> {
    let prefix = target.url.path().trim_end_matches('/');
    entry(at.src, &raw[index], index + 1, prefix, target, scope).map(|_| ())
}

fn entry(
    src: &Source,
    r: &Spanned<RawRequestEntry>,
    index: usize,
    prefix: &str,
    target: &Target,
    scope: &Scope,
) -> Result<RequestEntry> {
    let raw = r.get_ref();
    let name = match &raw.name {
        None => {
            return Err(src.error(
                r.span(),
                &format!("request {index} has no name"),
                "name = \"…\": a short unique name such as \"get order\"",
            ))
        }
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(src.error(n.span(), "empty request name", "a short unique name"))
        }
        Some(n) => n.get_ref().clone(),
    };
    let method = match &raw.method {
        Some(m) => parse_method(m.get_ref())
            .map_err(|why| src.error(m.span(), &why, "an HTTP method such as GET, POST, PUT"))?,
        None => Method::GET,
    };
    let (target_text, shown_path) = match (&raw.path, &raw.url) {
        (Some(_), Some(u)) => {
            return Err(src.error(u.span(), "both path and url are set", "one of them"))
        }
        (None, None) => {
            return Err(src.error(
                r.span(),
                &format!("request `{name}` has neither path nor url"),
                "path = \"/orders\" (after [target] url) or url = \"https://…\"",
            ))
        }
        (Some(p), None) => {
            let text = p.get_ref();
            if !text.starts_with('/') {
                return Err(src.error(
                    inner(src, p.span(), 0..0),
                    &format!("path `{text}` does not start with `/`"),
                    "a path such as \"/orders/{{seq}}\", appended to [target] url",
                ));
            }
            // Compiled with the prefix before it, errors placed after taking it off.
            let full = format!("{prefix}{text}");
            let template = compile(src, p, &full, prefix.len(), scope, Position::Path)?;
            (template, full)
        }
        (None, Some(u)) => {
            let text = u.get_ref();
            let origin_and_rest = split_origin(text).ok_or_else(|| {
                src.error(
                    u.span(),
                    &format!("bad URL `{text}`"),
                    "an absolute http:// or https:// URL",
                )
            })?;
            let (origin, rest) = origin_and_rest;
            let parsed = parse_url(&format!("{origin}/"))
                .map_err(|why| src.error(u.span(), &why, "an absolute http:// or https:// URL"))?;
            if !same_origin(&parsed, &target.url) {
                return Err(src.error(
                    u.span(),
                    &format!(
                        "request `{name}` is on another origin than the target ({})",
                        origin_of(&target.url)
                    ),
                    "a URL on the target's scheme, host and port: one run sends to one origin (several origins are not supported yet)",
                ));
            }
            let template = match rest.as_bytes().first() {
                None => Template::literal(b"/"),
                Some(b'/') => {
                    compile_at(src, u, rest, text.len() - rest.len(), scope, Position::Path)?
                }
                Some(_) => {
                    return Err(src.error(
                        u.span(),
                        &format!("URL `{text}` has a query but no path"),
                        "a URL with a path before its query, such as https://host/?q=1",
                    ))
                }
            };
            let rest = if rest.is_empty() { "/" } else { rest };
            (template, rest.to_string())
        }
    };
    let mut headers = Vec::with_capacity(raw.headers.len());
    for (n, v) in &raw.headers {
        let header = HeaderName::from_bytes(n.get_ref().trim().as_bytes()).map_err(|_| {
            src.error(
                n.span(),
                &format!("bad header name `{}`", n.get_ref()),
                HEADER_EXPECTED,
            )
        })?;
        // The same checks as [target] headers, on a stand-in value.
        super::parse::parse_header(n.get_ref(), "x")
            .map_err(|why| src.error(n.span(), &why, HEADER_EXPECTED))?;
        let trimmed = v.get_ref().trim();
        let lead = v.get_ref().len() - v.get_ref().trim_start().len();
        let value = compile_at(src, v, trimmed, lead, scope, Position::Header)?;
        if let Some(b) = value.as_literal() {
            HeaderValue::from_bytes(b).map_err(|_| {
                src.error(
                    v.span(),
                    &format!("bad value for header `{}`", n.get_ref()),
                    HEADER_EXPECTED,
                )
            })?;
        }
        if target.basic_auth.is_some() && header == http::header::AUTHORIZATION {
            return Err(src.error(
                n.span(),
                "the URL's user:password@ and this header would both set Authorization",
                "one of them",
            ));
        }
        headers.push((header, value));
    }
    let body = match (&raw.body, &raw.body_file) {
        (Some(_), Some(f)) => {
            return Err(src.error(f.span(), "both body and body_file are set", "one of them"))
        }
        (Some(b), None) => compile(src, b, b.get_ref(), 0, scope, Position::Body)?,
        (None, Some(f)) => {
            let dir = src.name.parent().unwrap_or(Path::new("."));
            let path = dir.join(f.get_ref());
            let data = read_user_file(&path, BODY_MAX).map_err(|why| {
                src.error(
                    f.span(),
                    &format!("cannot read body_file {}: {why}", path.display()),
                    &format!(
                        "a regular file of at most {}, relative to the file that names it",
                        size_text(BODY_MAX)
                    ),
                )
            })?;
            // A body file is a template too when it is text; its errors point at the key.
            match std::str::from_utf8(&data) {
                Ok(text) => Template::compile(text, scope).map_err(|e| {
                    src.error(
                        f.span(),
                        &format!(
                            "in body_file {} at byte {}: {}",
                            path.display(),
                            e.span.start,
                            e.message
                        ),
                        &e.expected,
                    )
                })?,
                Err(_) => Template::literal(&data),
            }
        }
        (None, None) => Template::literal(b""),
    };
    let weight = match &raw.weight {
        Some(w) => src.whole_number(w, "weight")?,
        None => 1,
    };
    let expect = match &raw.expect {
        Some(e) => Some(super::expect::read_expect(src, e)?),
        None => None,
    };
    let captures = match &raw.capture {
        Some(c) => super::expect::read_capture(src, c)?,
        None => Vec::new(),
    };
    Ok(RequestEntry {
        name,
        method,
        target: target_text,
        shown_path,
        headers,
        body,
        weight,
        expect,
        captures,
    })
}

/// `scheme://authority` and the rest (path and query) of an absolute URL's text.
fn split_origin(text: &str) -> Option<(&str, &str)> {
    let after = text.find("://")? + 3;
    let end = text[after..]
        .find(['/', '?'])
        .map_or(text.len(), |i| after + i);
    Some((&text[..end], &text[end..]))
}

fn origin_of(url: &Uri) -> String {
    let scheme = url.scheme_str().unwrap_or("http");
    let host = url.host().unwrap_or("");
    format!("{scheme}://{host}:{}", port_of(url))
}

fn port_of(url: &Uri) -> u16 {
    url.port_u16()
        .unwrap_or(if url.scheme_str() == Some("https") {
            443
        } else {
            80
        })
}

fn same_origin(a: &Uri, b: &Uri) -> bool {
    a.scheme_str() == b.scheme_str()
        && a.host().map(str::to_ascii_lowercase) == b.host().map(str::to_ascii_lowercase)
        && port_of(a) == port_of(b)
}

/// The origin a scenario without `[target] url` takes from its first request's `url`.
pub(super) fn first_origin(raw: &[Spanned<RawRequestEntry>], src: &Source) -> Result<Option<Uri>> {
    let Some(first) = raw.first() else {
        return Ok(None);
    };
    let Some(u) = &first.get_ref().url else {
        return Ok(None);
    };
    let (origin, _) = split_origin(u.get_ref()).ok_or_else(|| {
        src.error(
            u.span(),
            &format!("bad URL `{}`", u.get_ref()),
            "an absolute http:// or https:// URL",
        )
    })?;
    parse_url(&format!("{origin}/"))
        .map(Some)
        .map_err(|why| src.error(u.span(), &why, "an absolute http:// or https:// URL"))
}

/// Compiles `text` for `position` (the string of `value`, with `skip` bytes put before it
/// that are not in the file) and places a template error inside the string, escapes
/// counted.
fn compile(
    src: &Source,
    value: &Spanned<String>,
    text: &str,
    skip: usize,
    scope: &Scope,
    position: Position,
) -> Result<Template> {
    Template::compile_at(text, scope, position).map_err(|mut e| {
        let start = e.span.start.saturating_sub(skip);
        e.span = start..start + e.span.len();
        super::data::template_error(src, value, &e)
    })
}

/// Compiles `text`, which starts `at` bytes into the string of `value`.
fn compile_at(
    src: &Source,
    value: &Spanned<String>,
    text: &str,
    at: usize,
    scope: &Scope,
    position: Position,
) -> Result<Template> {
    Template::compile_at(text, scope, position).map_err(|mut e| {
        e.span = at + e.span.start..at + e.span.end;
        super::data::template_error(src, value, &e)
    })
}

/// `--requests FILE`: the `[[requests]]` of a TOML file, compiled against `target`.
pub fn from_file(path: &Path, target: &Target) -> Result<Requests> {
    let text = read_user_text(path, TEXT_FILE_MAX).map_err(|why| {
        Error::input(format!(
            "cannot read --requests file {}: {why}\n  expected: a TOML file of [[requests]] of at most {}",
            path.display(),
            size_text(TEXT_FILE_MAX)
        ))
    })?;
    let src = Source::new(path, &text);
    let raw: RequestsFile = toml::from_str(&text).map_err(|e| toml_error(&src, &e))?;
    if raw.requests.is_empty() {
        return Err(src.error(
            0..0,
            "no [[requests]] in the file",
            "[[requests]] tables with name and path (or url)",
        ));
    }
    let at = EntriesIn {
        src: &src,
        list_span: raw.requests[0].span(),
    };
    entries(&at, &raw.requests, target, &Scope::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_splits_into_its_origin_and_the_rest() {
        assert_eq!(
            split_origin("http://h:1/a?b=1"),
            Some(("http://h:1", "/a?b=1"))
        );
        assert_eq!(split_origin("https://h?x"), Some(("https://h", "?x")));
        assert_eq!(split_origin("h/a"), None);
    }

    #[test]
    fn default_ports_are_the_same_origin() {
        let a: Uri = "https://Example.com/".parse().unwrap();
        let b: Uri = "https://example.com:443/x".parse().unwrap();
        let c: Uri = "http://example.com/".parse().unwrap();
        assert!(same_origin(&a, &b));
        assert!(!same_origin(&a, &c));
    }
}
