//! A function's answer (`answer = { status, headers, body }`), whose body and header
//! values may echo the request: `{{request.id}}` (the invocation's request id),
//! `{{uuid}}`, `{{request.path.NAME}}` (a path parameter) and `{{request.json./pointer}}`
//! (from the request's JSON body). Parsed once, checked when the settings are read; pure.

use std::collections::BTreeMap;

/// What a placeholder inserts.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    RequestId,
    Uuid,
    PathParam(String),
    /// A JSON pointer into the request body.
    Json(String),
}

/// The placeholders a template may use, for error messages.
pub const PLACEHOLDERS: [&str; 4] = [
    "request.id",
    "uuid",
    "request.path.NAME",
    "request.json./pointer",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template(Vec<Part>);

/// What a template may echo of one request.
pub struct Echo<'a> {
    pub request_id: &'a str,
    pub uuid: &'a (dyn Fn() -> String + Sync),
    pub path: &'a BTreeMap<String, String>,
    pub body: &'a [u8],
}

impl Template {
    /// The error names the placeholder that is not one of [`PLACEHOLDERS`].
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` at `{}` is never closed", &rest[open..]))?;
            let name = after[..close].trim();
            parts.push(if name == "request.id" {
                Part::RequestId
            } else if name == "uuid" {
                Part::Uuid
            } else if let Some(p) = name.strip_prefix("request.path.").filter(|p| !p.is_empty()) {
                Part::PathParam(p.to_string())
            } else if name == "request.json" {
                Part::Json(String::new())
            } else if let Some(p) = name.strip_prefix("request.json") {
                match p.strip_prefix('.').filter(|p| p.starts_with('/')) {
                    Some(pointer) => Part::Json(pointer.to_string()),
                    None => {
                        return Err(format!(
                            "`{{{{{name}}}}}`: the JSON pointer after `request.json.` starts with /"
                        ))
                    }
                }
            } else {
                return Err(format!("unknown placeholder `{{{{{name}}}}}`"));
            });
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template(parts))
    }

    /// The path parameters it echoes.
    pub fn path_params(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::PathParam(n) => Some(n.as_str()),
            _ => None,
        })
    }

    pub fn render(&self, echo: &Echo) -> String {
        let mut json: Option<Option<serde_json::Value>> = None;
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::RequestId => out.push_str(echo.request_id),
                Part::Uuid => out.push_str(&(echo.uuid)()),
                Part::PathParam(n) => out.push_str(echo.path.get(n).map_or("", |v| v)),
                Part::Json(pointer) => {
                    let body = json.get_or_insert_with(|| serde_json::from_slice(echo.body).ok());
                    match body.as_ref().and_then(|b| b.pointer(pointer)) {
                        Some(serde_json::Value::String(s)) => out.push_str(s),
                        Some(v) => out.push_str(&v.to_string()),
                        None => {}
                    }
                }
            }
        }
        out
    }
}

/// A function's answer when it succeeds.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionAnswer {
    pub status: u16,
    pub headers: Vec<(String, Template)>,
    pub body: Template,
}

impl Default for FunctionAnswer {
    /// Today's answer: 200 `{"ok":true}`.
    fn default() -> Self {
        FunctionAnswer {
            status: 200,
            headers: vec![(
                "content-type".into(),
                Template(vec![Part::Text("application/json".into())]),
            )],
            body: Template(vec![Part::Text(r#"{"ok":true}"#.into())]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, body: &str) -> String {
        let path = BTreeMap::from([("id".to_string(), "42".to_string())]);
        let uuid = || "u-1".to_string();
        Template::parse(text).unwrap().render(&Echo {
            request_id: "r-1",
            uuid: &uuid,
            path: &path,
            body: body.as_bytes(),
        })
    }

    #[test]
    fn placeholders_echo_the_request() {
        assert_eq!(
            render(r#"{"token":"{{request.id}}"}"#, ""),
            r#"{"token":"r-1"}"#
        );
        assert_eq!(
            render(r#"{"id":"{{request.path.id}}","u":"{{ uuid }}"}"#, ""),
            r#"{"id":"42","u":"u-1"}"#
        );
        let body = r#"{"orderId":"o-9","qty":3,"a":{"b":[1,2]}}"#;
        assert_eq!(
            render(
                "{{request.json./orderId}} {{request.json./qty}} {{request.json./a/b}}",
                body
            ),
            "o-9 3 [1,2]"
        );
        assert_eq!(render("[{{request.json./missing}}]", "not json"), "[]");
        assert_eq!(render("{{request.json}}", "{\"x\":1}"), "{\"x\":1}");
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        assert!(Template::parse("{{request.header.x}}")
            .unwrap_err()
            .contains("unknown placeholder"));
        assert!(Template::parse("{{request.json.orderId}}").is_err());
        assert!(Template::parse("{{uuid")
            .unwrap_err()
            .contains("never closed"));
        let t = Template::parse("{{request.path.id}}/{{request.path.sku}}").unwrap();
        assert_eq!(t.path_params().collect::<Vec<_>>(), ["id", "sku"]);
    }
}
