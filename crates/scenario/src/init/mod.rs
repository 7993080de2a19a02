//! `stampede init`: a starting scenario drafted from what describes or recorded an API —
//! an OpenAPI 3 / Swagger 2 document (`openapi`) or a browser's HAR recording (`har`).
//! Pure: the command reads the file into a JSON value and writes the text this returns.
//! Every value taken from the file is written as template text that sends it as written
//! (`{{` escaped), and secrets are never written: they become `{{env.NAME}}` placeholders.

pub mod api;
pub mod document;
pub mod har;
pub mod openapi;
mod render;
mod sample;

pub use document::{parse_document, DocumentError};
pub use render::render;

/// A scenario to be written: the target, the requests and what to say about them.
#[derive(Debug, Default)]
pub struct Draft {
    /// Lines of the header comment: where it came from, what to edit.
    pub about: Vec<String>,
    /// `[target] url`; `None` writes a placeholder to edit.
    pub url: Option<String>,
    pub requests: Vec<DraftRequest>,
    /// Environment variables the requests read (`{{env.NAME}}`), each with what to put in it.
    pub env: Vec<(String, String)>,
}

/// One `[[requests]]` entry.
#[derive(Debug, Default, Clone)]
pub struct DraftRequest {
    pub name: String,
    pub method: String,
    /// A template: the path and query.
    pub path: String,
    /// Template values.
    pub headers: Vec<(String, String)>,
    /// A template.
    pub body: Option<String>,
    pub weight: u64,
    /// Comment lines written above the entry.
    pub notes: Vec<String>,
}

impl Draft {
    /// Names a variable the requests read, once, with what it should hold.
    pub fn needs_env(&mut self, name: &str, holds: &str) {
        if !self.env.iter().any(|(n, _)| n == name) {
            self.env.push((name.to_string(), holds.to_string()));
        }
    }
}

/// `text` as template text that sends exactly `text`: only `{{` means anything to a template.
pub fn literal(text: &str) -> String {
    text.replace("{{", "{{\"{{\"}}")
}

/// One slash between path segments, none at the end (the requests' paths start with one);
/// no query or fragment (a target's URL has none).
pub fn tidy_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let mut path = rest.to_string();
    while path.contains("//") {
        path = path.replace("//", "/");
    }
    format!("{scheme}://{}", path.trim_end_matches('/'))
}

/// Names on one line (they head the summary's rows) and unique within the scenario (the
/// parser refuses a repeated one): `name (2)`, …
pub fn unique_names(requests: &mut [DraftRequest]) {
    let mut seen = std::collections::HashSet::new();
    for r in requests.iter_mut() {
        r.name = r
            .name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_string();
        if r.name.is_empty() {
            r.name = format!("{} {}", r.method, r.path);
        }
        let mut name = r.name.clone();
        let mut n = 2;
        while !seen.insert(name.clone()) {
            name = format!("{} ({n})", r.name);
            n += 1;
        }
        r.name = name;
    }
}

/// At most `REQUESTS_MAX` requests (the parser's bound); a note says how many were left out.
pub fn keep_at_most(draft: &mut Draft, why: &str) {
    let max = crate::REQUESTS_MAX;
    if draft.requests.len() > max {
        let left = draft.requests.len() - max;
        draft.requests.truncate(max);
        draft.about.push(format!(
            "{left} more left out: a scenario holds at most {max} requests ({why})."
        ));
        // Only the variables the kept requests read.
        let reads = |name: &str| {
            let placeholder = format!("{{{{env.{name}}}}}");
            draft.requests.iter().any(|r| {
                r.path.contains(&placeholder)
                    || r.body.as_deref().is_some_and(|b| b.contains(&placeholder))
                    || r.headers.iter().any(|(_, v)| v.contains(&placeholder))
            })
        };
        let env = std::mem::take(&mut draft.env);
        draft.env = env.into_iter().filter(|(n, _)| reads(n)).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_text_escapes_only_template_openers() {
        assert_eq!(literal("a {b} }} {{c}}"), "a {b} }} {{\"{{\"}}c}}");
    }

    #[test]
    fn repeated_names_are_numbered() {
        let mut r = vec![
            DraftRequest {
                name: "a".into(),
                ..Default::default()
            };
            3
        ];
        r[2].name = "a\n".into();
        unique_names(&mut r);
        let names: Vec<_> = r.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "a (2)", "a (3)"]);
    }
}
