//! An OpenAPI 3.x or Swagger 2.0 document → a `Draft`: one request per operation, its path
//! parameters templated, a JSON body from the examples or the schema, the auth header its
//! security scheme names (the secret from `{{env.API_TOKEN}}`, never from the file), and
//! API Gateway's `x-amazon-apigateway-integration` (which function serves it) as a note.

use serde_json::Value;

use super::document::{child, DocumentError};
use super::sample::{resolve, sample};
use super::{keep_at_most, literal, tidy_url, unique_names, Draft, DraftRequest};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const EXPECTED: &str =
    "an OpenAPI 3.x document (`openapi: 3.0.3`) or Swagger 2.0 (`swagger: \"2.0\"`) with `paths`";
/// Where the token an API's security scheme asks for is read from.
pub const TOKEN_ENV: &str = "API_TOKEN";
/// What a path parameter is sent as: any id in a range, until a data file gives real ones.
const ID_TEMPLATE: &str = "{{random_int 1 1000}}";

#[derive(Clone, Copy, PartialEq)]
enum Version {
    V3,
    V2,
}

/// The draft of `doc`; `url` (`--url`) replaces the document's server.
pub fn from_openapi(doc: &Value, url: Option<&str>) -> Result<Draft, DocumentError> {
    let version = version(doc)?;
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Err(DocumentError::shape(
            "$.paths",
            "missing, or not an object of paths",
            EXPECTED,
        ));
    };
    let mut draft = Draft::default();
    let title = doc.pointer("/info/title").and_then(Value::as_str);
    let spec = match version {
        Version::V3 => format!("OpenAPI {}", doc["openapi"].as_str().unwrap_or("3").trim()),
        Version::V2 => "Swagger 2.0".to_string(),
    };
    draft.about.push(match title {
        Some(t) => format!("{spec}: \"{t}\"."),
        None => format!("{spec}."),
    });
    draft.url = match url {
        Some(u) => Some(tidy_url(u)),
        None => base_url(doc, version, &mut draft.about),
    };
    for (path, item) in paths {
        let at = child("$.paths", path);
        let item = resolve(doc, item);
        let Some(item) = item.as_object() else {
            return Err(DocumentError::shape(
                &at,
                "not an object of operations",
                "a path item: { get: {…}, post: {…}, … }",
            ));
        };
        let shared = item.get("parameters");
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let op_at = child(&at, method);
            if !op.is_object() {
                return Err(DocumentError::shape(
                    &op_at,
                    "not an operation object",
                    "an operation: { operationId: …, parameters: […], … }",
                ));
            }
            let params = parameters(doc, shared, op.get("parameters"), &op_at)?;
            let r = request(doc, version, path, method, op, &params, &mut draft);
            draft.requests.push(r);
        }
    }
    if draft.requests.is_empty() {
        return Err(DocumentError::shape(
            "$.paths",
            "no operations",
            "at least one path with an operation (get, post, put, …)",
        ));
    }
    let n = draft.requests.len();
    draft.about.push(format!(
        "{n} operation{}, one request each, weight 1.",
        if n == 1 { "" } else { "s" }
    ));
    unique_names(&mut draft.requests);
    keep_at_most(&mut draft, "the first in the document are kept");
    Ok(draft)
}

fn version(doc: &Value) -> Result<Version, DocumentError> {
    if !doc.is_object() {
        return Err(DocumentError::shape("$", "not an object", EXPECTED));
    }
    if let Some(v) = doc.get("openapi") {
        return match v.as_str() {
            Some(s) if s.trim().starts_with("3.") => Ok(Version::V3),
            _ => Err(DocumentError::shape(
                "$.openapi",
                format!("version {v} is not read"),
                EXPECTED,
            )),
        };
    }
    match doc.get("swagger") {
        Some(Value::String(s)) if s == "2.0" => Ok(Version::V2),
        Some(v) => Err(DocumentError::shape(
            "$.swagger",
            format!("version {v} is not read"),
            EXPECTED,
        )),
        None => Err(DocumentError::shape(
            "$",
            "neither `openapi` nor `swagger` is set",
            EXPECTED,
        )),
    }
}

/// `servers[0].url` with its variables' defaults, or Swagger's scheme, `host` and `basePath`.
fn base_url(doc: &Value, version: Version, about: &mut Vec<String>) -> Option<String> {
    let (url, origin) = match version {
        Version::V3 => {
            let server = doc.pointer("/servers/0")?;
            let mut url = server.get("url")?.as_str()?.to_string();
            if let Some(vars) = server.get("variables").and_then(Value::as_object) {
                for (name, var) in vars {
                    if let Some(d) = var.get("default").and_then(Value::as_str) {
                        url = url.replace(&format!("{{{name}}}"), d);
                    }
                }
            }
            let origin = url.contains("://");
            (url, origin)
        }
        Version::V2 => {
            let base = doc.get("basePath").and_then(Value::as_str).unwrap_or("");
            match doc.get("host").and_then(Value::as_str) {
                Some(host) => {
                    let scheme = doc
                        .pointer("/schemes/0")
                        .and_then(Value::as_str)
                        .unwrap_or("https");
                    (format!("{scheme}://{host}/{base}"), true)
                }
                None => (base.to_string(), false),
            }
        }
    };
    if !origin {
        about.push(format!(
            "EDIT [target] url: the document's server is the path \"{url}\", with no host."
        ));
        return Some(tidy_url(&format!("https://api.example.com/{url}")));
    }
    if url.contains('{') {
        about.push(format!(
            "EDIT [target] url: the document's server \"{url}\" has variables without defaults."
        ));
        return None;
    }
    Some(tidy_url(&url))
}

/// The operation's parameters over the path item's (the operation's win, by name and place).
fn parameters<'d>(
    doc: &'d Value,
    shared: Option<&'d Value>,
    own: Option<&'d Value>,
    at: &str,
) -> Result<Vec<&'d Value>, DocumentError> {
    let mut out: Vec<&Value> = Vec::new();
    for (list, list_at) in [(shared, "parameters"), (own, "parameters")] {
        let Some(list) = list else { continue };
        let Some(list) = list.as_array() else {
            return Err(DocumentError::shape(
                &child(at, list_at),
                "not a list",
                "a list of parameter objects",
            ));
        };
        for p in list {
            let p = resolve(doc, p);
            let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
            out.retain(|q| key(q) != key(p));
            out.push(p);
        }
    }
    Ok(out)
}

fn request(
    doc: &Value,
    version: Version,
    path: &str,
    method: &str,
    op: &Value,
    params: &[&Value],
    draft: &mut Draft,
) -> DraftRequest {
    let method_up = method.to_ascii_uppercase();
    let route = format!("{method_up} {path}");
    let mut r = DraftRequest {
        name: op
            .get("operationId")
            .and_then(Value::as_str)
            .map_or_else(|| route.clone(), str::to_string),
        method: method_up,
        weight: 1,
        ..Default::default()
    };
    r.notes
        .push(match op.get("summary").and_then(Value::as_str) {
            Some(s) => format!("{route} — {s}"),
            None => route.clone(),
        });
    if let Some(integration) = op.get("x-amazon-apigateway-integration") {
        r.notes.push(integration_note(integration));
    }
    r.path = templated_path(path, params, &mut r.notes);
    let mut query: Vec<String> = params
        .iter()
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
        .filter(|p| p.get("required").and_then(Value::as_bool) == Some(true))
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?;
            let value = match example_of(p) {
                Some(v) => literal(&encode(&v)),
                None => ID_TEMPLATE.to_string(),
            };
            Some(format!("{}={value}", literal(&encode(name))))
        })
        .collect();
    if let Some((content_type, body)) = body(doc, version, op, params) {
        r.headers.push(("content-type".into(), content_type));
        r.body = body;
    }
    auth(doc, version, op, &mut r, &mut query, draft);
    // Required headers other than auth: their example, or a note to set them.
    for p in params {
        let (Some("header"), Some(true), Some(name)) = (
            p.get("in").and_then(Value::as_str),
            p.get("required").and_then(Value::as_bool),
            p.get("name").and_then(Value::as_str),
        ) else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        if r.headers.iter().any(|(n, _)| *n == name) {
            continue;
        }
        match example_of(p).filter(|e| http::HeaderValue::from_str(e).is_ok()) {
            Some(e) if http::HeaderName::from_bytes(name.as_bytes()).is_ok() => {
                r.headers.push((name, literal(&e)))
            }
            _ => r
                .notes
                .push(format!("header `{name}` is required: add it to headers.")),
        }
    }
    if !query.is_empty() {
        r.path = format!("{}?{}", r.path, query.join("&"));
    }
    r
}

/// `{param}` → an id template; a note says which, and the example the document gives.
fn templated_path(path: &str, params: &[&Value], notes: &mut Vec<String>) -> String {
    let mut out = String::new();
    if !path.starts_with('/') {
        out.push('/');
    }
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&path_text(&rest[..open]));
        let name = &rest[open + 1..open + close];
        let bare = name.trim_end_matches('+');
        let param = params.iter().find(|p| {
            p.get("in").and_then(Value::as_str) == Some("path")
                && p.get("name").and_then(Value::as_str) == Some(bare)
        });
        let format = param.and_then(|p| {
            p.pointer("/schema/format")
                .or_else(|| p.get("format"))
                .and_then(Value::as_str)
        });
        let template = if format == Some("uuid") {
            "{{uuid}}"
        } else {
            ID_TEMPLATE
        };
        let example = param
            .and_then(|p| example_of(p))
            .map(|e| format!(" (the document's example: {e})"))
            .unwrap_or_default();
        notes.push(format!(
            "{{{name}}} is sent as {template}{example}; for real ones add a [data] file and write {{{{data.{bare}}}}}."
        ));
        out.push_str(template);
        rest = &rest[open + close + 1..];
    }
    out.push_str(&path_text(rest));
    out
}

/// A path's own text as it may be sent: a character a request line cannot hold (a space,
/// a quote, a brace, non-ASCII…) percent-encoded — so no `{{` is left either.
fn path_text(text: &str) -> String {
    const SENT_ENCODED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'\\')
        .add(b'^')
        .add(b'`')
        .add(b'{')
        .add(b'|')
        .add(b'}');
    percent_encoding::utf8_percent_encode(text, SENT_ENCODED).to_string()
}

/// A parameter's example as text: its own, its schema's, or its first enum value.
fn example_of(p: &Value) -> Option<String> {
    let v = p
        .get("example")
        .or_else(|| p.pointer("/schema/example"))
        .or_else(|| p.pointer("/examples").and_then(first_example))
        .or_else(|| p.pointer("/schema/enum/0"))
        .or_else(|| p.pointer("/enum/0"))?;
    Some(match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn first_example(examples: &Value) -> Option<&Value> {
    examples.as_object()?.values().next()?.get("value")
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The content type and body template: the media type's `example`, else its first of
/// `examples`, else a sample built from its schema. Swagger: the `in: body` parameter.
fn body(
    doc: &Value,
    version: Version,
    op: &Value,
    params: &[&Value],
) -> Option<(String, Option<String>)> {
    let (media, value) = match version {
        Version::V3 => {
            let rb = resolve(doc, op.get("requestBody")?);
            let content = rb.get("content")?.as_object()?;
            let (media, mt) = content
                .iter()
                .find(|(m, _)| m.contains("json"))
                .or_else(|| content.iter().next())?;
            let value = mt
                .get("example")
                .cloned()
                .or_else(|| {
                    mt.get("examples")
                        .and_then(Value::as_object)
                        .and_then(|e| e.values().next())
                        .map(|e| resolve(doc, e))
                        .and_then(|e| e.get("value"))
                        .cloned()
                })
                .or_else(|| mt.get("schema").map(|s| sample(doc, s)));
            (media.clone(), value)
        }
        Version::V2 => {
            let consumes = op
                .pointer("/consumes/0")
                .or_else(|| doc.pointer("/consumes/0"))
                .and_then(Value::as_str);
            let of = |place: &'static str| {
                params
                    .iter()
                    .filter(move |p| p.get("in").and_then(Value::as_str) == Some(place))
            };
            match of("body").next() {
                Some(p) => (
                    consumes.unwrap_or("application/json").to_string(),
                    p.get("schema").map(|s| sample(doc, s)),
                ),
                None => {
                    // Form fields: each parameter is its own schema in Swagger 2.0.
                    let fields: serde_json::Map<String, Value> = of("formData")
                        .filter_map(|p| {
                            Some((p.get("name")?.as_str()?.to_string(), sample(doc, p)))
                        })
                        .collect();
                    if fields.is_empty() {
                        return None;
                    }
                    let media = consumes.unwrap_or("application/x-www-form-urlencoded");
                    (media.to_string(), Some(Value::Object(fields)))
                }
            }
        }
    };
    let text = match value {
        Some(Value::String(s)) if !media.contains("json") => s,
        Some(v) if media.contains("json") => v.to_string(),
        Some(Value::Object(fields)) if media.starts_with("application/x-www-form-urlencoded") => {
            form(&fields)
        }
        _ => return Some((media, None)),
    };
    Some((media, Some(literal(&text))))
}

/// Fields as a form body: `name=value&…`, each percent-encoded.
fn form(fields: &serde_json::Map<String, Value>) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{}={}", encode(k), encode(&v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The operation's security (else the document's) as an auth header or query value read
/// from `{{env.API_TOKEN}}`; SigV4 and unknown schemes as a note.
fn auth(
    doc: &Value,
    version: Version,
    op: &Value,
    r: &mut DraftRequest,
    query: &mut Vec<String>,
    draft: &mut Draft,
) {
    let requirement = op.get("security").or_else(|| doc.get("security"));
    let Some(name) = requirement
        .and_then(Value::as_array)
        .and_then(|list| list.iter().find_map(|o| o.as_object()?.keys().next()))
    else {
        return;
    };
    let schemes = match version {
        Version::V3 => doc.pointer("/components/securitySchemes"),
        Version::V2 => doc.get("securityDefinitions"),
    };
    let Some(scheme) = schemes.and_then(|s| s.get(name)).map(|s| resolve(doc, s)) else {
        r.notes.push(format!(
            "security scheme \"{name}\" is not defined: add its auth header."
        ));
        return;
    };
    let token = format!("{{{{env.{TOKEN_ENV}}}}}");
    let kind = scheme.get("type").and_then(Value::as_str).unwrap_or("");
    let auth_type = scheme
        .get("x-amazon-apigateway-authtype")
        .and_then(Value::as_str)
        .unwrap_or("");
    if auth_type.eq_ignore_ascii_case("awsSigv4") {
        r.notes.push(format!(
            "security \"{name}\": IAM (SigV4); sign with [target.auth] kind = \"sigv4\"."
        ));
        return;
    }
    let (what, holds) = match (kind, scheme.get("in").and_then(Value::as_str)) {
        ("apiKey", Some(place)) => {
            let key = scheme
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("x-api-key");
            match place {
                "query" => query.push(format!("{}={token}", literal(&encode(key)))),
                "cookie" => r
                    .headers
                    .push(("cookie".into(), format!("{}={token}", literal(key)))),
                _ if http::HeaderName::from_bytes(key.as_bytes()).is_err() => {
                    r.notes.push(format!(
                        "security \"{name}\": its header name `{key}` is not one HTTP allows: add the header."
                    ));
                    return;
                }
                _ => r.headers.push((key.to_ascii_lowercase(), token.clone())),
            }
            (
                format!("the API key, sent in {place} `{key}`"),
                "the API key",
            )
        }
        ("http", _) | ("basic", _) => {
            let s = scheme
                .get("scheme")
                .and_then(Value::as_str)
                .unwrap_or("basic")
                .to_ascii_lowercase();
            let (prefix, holds) = match s.as_str() {
                "bearer" => ("Bearer ", "a bearer token"),
                "basic" => ("Basic ", "base64 of user:password"),
                _ => ("", "the Authorization header's value"),
            };
            r.headers
                .push(("authorization".into(), format!("{prefix}{token}")));
            (format!("HTTP {s} auth"), holds)
        }
        ("oauth2", _) | ("openIdConnect", _) => {
            r.headers
                .push(("authorization".into(), format!("Bearer {token}")));
            (format!("{kind}, sent as a bearer token"), "an access token")
        }
        _ => {
            r.notes.push(format!(
                "security \"{name}\" ({kind}) is not drafted: add its auth header."
            ));
            return;
        }
    };
    r.notes
        .push(format!("security \"{name}\": {what}, from {TOKEN_ENV}."));
    draft.needs_env(TOKEN_ENV, holds);
}

/// API Gateway's integration: its type and, for Lambda, the function (and qualifier) the
/// URI invokes; another integration's URI as it is.
fn integration_note(integration: &Value) -> String {
    let kind = integration
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_ascii_lowercase();
    let uri = match integration.get("uri") {
        Some(Value::String(s)) => Some(s.as_str()),
        // CloudFormation: `{"Fn::Sub": "arn:…"}` or `{"Fn::Sub": ["arn:…", {…}]}`.
        Some(Value::Object(o)) => o.get("Fn::Sub").and_then(|s| match s {
            Value::String(s) => Some(s.as_str()),
            Value::Array(a) => a.first().and_then(Value::as_str),
            _ => None,
        }),
        _ => None,
    };
    match uri.and_then(lambda_function) {
        Some(function) => format!("API Gateway integration: {kind} → Lambda function {function}"),
        None => match uri {
            Some(uri) => format!("API Gateway integration: {kind} → {uri}"),
            None => format!("API Gateway integration: {kind}"),
        },
    }
}

/// `arn:aws:apigateway:R:lambda:path/2015-03-31/functions/arn:aws:lambda:R:A:function:NAME[:Q]/invocations`
/// → `NAME[:Q]`.
pub fn lambda_function(uri: &str) -> Option<&str> {
    let at = uri.find(":function:")? + ":function:".len();
    let rest = &uri[at..];
    let end = rest.find("/invocations").unwrap_or(rest.len());
    Some(&rest[..end]).filter(|f| !f.is_empty())
}

#[cfg(test)]
mod tests;
