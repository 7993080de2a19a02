//! A HAR recording (a browser's "Save all as HAR") → a `Draft`: one request per route
//! (method and path with ids collapsed to `{id}`), weighted by how often it was sent, on the
//! most common origin. Static assets and other origins are left out and counted. Cookies,
//! credentials and anything that looks like a token become `{{env.NAME}}` placeholders:
//! no recorded secret is ever written.

use std::collections::BTreeMap;

use serde_json::Value;

use super::document::{child, index, DocumentError};
use super::{keep_at_most, literal, Draft, DraftRequest};

const EXPECTED: &str =
    "a HAR file: {\"log\": {\"entries\": [{\"request\": {\"method\": \"GET\", \"url\": \"https://…\", \"headers\": […]}}, …]}}";
/// A recorded body longer than this is not copied (a note says so).
const BODY_MAX: usize = 64 << 10;

/// One recorded request, as far as the draft needs it.
struct Seen {
    method: String,
    origin: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<(Option<String>, String)>,
}

pub fn from_har(doc: &Value) -> Result<Draft, DocumentError> {
    let Some(entries) = doc.pointer("/log/entries").and_then(Value::as_array) else {
        return Err(DocumentError::shape(
            "$.log.entries",
            "missing, or not a list",
            EXPECTED,
        ));
    };
    let mut seen = Vec::new();
    let (mut assets, mut skipped_schemes) = (0usize, 0usize);
    for (i, entry) in entries.iter().enumerate() {
        let at = child(&index("$.log.entries", i), "request");
        let Some(request) = entry.get("request") else {
            return Err(DocumentError::shape(&at, "missing", EXPECTED));
        };
        let method = request.get("method").and_then(Value::as_str);
        let url = request.get("url").and_then(Value::as_str);
        let (Some(method), Some(url)) = (method, url) else {
            return Err(DocumentError::shape(
                &at,
                "without a `method` and `url` string",
                EXPECTED,
            ));
        };
        let Ok(uri) = url.parse::<http::Uri>() else {
            skipped_schemes += 1;
            continue;
        };
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            skipped_schemes += 1;
            continue;
        };
        if !matches!(scheme, "http" | "https") || !method.chars().all(|c| c.is_ascii_alphabetic()) {
            skipped_schemes += 1;
            continue;
        }
        if is_asset(entry, uri.path()) {
            assets += 1;
            continue;
        }
        // The host and port only: a recorded `user:password@` is never kept.
        let host = authority.as_str().rsplit('@').next().unwrap_or("");
        seen.push(Seen {
            method: method.to_ascii_uppercase(),
            origin: format!("{scheme}://{host}"),
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            headers: headers(request),
            body: body(request),
        });
    }
    let mut origins: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &seen {
        *origins.entry(&s.origin).or_default() += 1;
    }
    let Some(origin) = origins
        .iter()
        .max_by_key(|(o, n)| (**n, std::cmp::Reverse(**o)))
        .map(|(o, _)| o.to_string())
    else {
        return Err(DocumentError::shape(
            "$.log.entries",
            format!(
                "no API request to draft from ({}: {}, {skipped_schemes} not http(s))",
                counted(entries.len(), "entry", "entries"),
                counted(assets, "static asset", "static assets")
            ),
            "a recording with requests to an API (not only images, CSS, scripts and fonts)",
        ));
    };
    let mut draft = Draft {
        url: Some(origin.clone()),
        ..Default::default()
    };
    let on_origin: Vec<&Seen> = seen.iter().filter(|s| s.origin == origin).collect();
    let other = seen.len() - on_origin.len();
    draft.about.push(format!(
        "A HAR recording of {} entries: {} requests to {origin}, the most common host.",
        entries.len(),
        on_origin.len()
    ));
    if assets > 0 {
        draft.about.push(format!(
            "Left out: {} (images, CSS, scripts, fonts, media).",
            counted(assets, "static asset", "static assets")
        ));
    }
    if other > 0 {
        let hosts = origins.len() - 1;
        draft.about.push(format!(
            "Left out: {other} requests to {hosts} other host{} (a run sends to one).",
            if hosts == 1 { "" } else { "s" }
        ));
    }
    if skipped_schemes > 0 {
        draft.about.push(format!(
            "Left out: {} not to an http(s) URL.",
            counted(skipped_schemes, "entry", "entries")
        ));
    }
    // Routes in order of first appearance, then by count.
    let mut routes: Vec<(String, Vec<&Seen>)> = Vec::new();
    for s in on_origin {
        let key = format!("{} {}", s.method, route_of(&s.path));
        match routes.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(s),
            None => routes.push((key, vec![s])),
        }
    }
    routes.sort_by_key(|(_, list)| std::cmp::Reverse(list.len()));
    for (name, list) in routes {
        let r = request(name, &list, &mut draft);
        draft.requests.push(r);
    }
    draft.about.push(format!(
        "{} routes; each weight is how often it was recorded.",
        draft.requests.len()
    ));
    super::unique_names(&mut draft.requests);
    keep_at_most(&mut draft, "the most recorded are kept");
    Ok(draft)
}

fn request(name: String, list: &[&Seen], draft: &mut Draft) -> DraftRequest {
    let first = list[0];
    let mut r = DraftRequest {
        name,
        method: first.method.clone(),
        weight: list.len() as u64,
        ..Default::default()
    };
    r.notes.push(format!(
        "{} recorded {} time{}.",
        r.name,
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    ));
    r.path = templated_path(&first.path, list, &mut r.notes);
    if let Some(q) = &first.query {
        r.path = format!("{}?{}", r.path, query(q, "QUERY", &mut r.notes, draft));
    }
    // A SigV4 signature is good for one request at one time: sign afresh instead.
    let signed = first
        .headers
        .iter()
        .any(|(n, v)| n == "authorization" && v.trim_start().starts_with("AWS4-HMAC-SHA256"));
    if signed {
        r.notes.push(
            "recorded signed with SigV4: its signature headers are left out; sign with [target.auth] kind = \"sigv4\"."
                .into(),
        );
    }
    for (name, value) in &first.headers {
        if signed && (name == "authorization" || name.starts_with("x-amz-")) {
            continue;
        }
        let value = match secret_header(name, value) {
            Some((env, prefix)) => {
                draft.needs_env(
                    &env,
                    &format!(
                        "the recorded `{name}` header's value{}",
                        if prefix.is_empty() {
                            ""
                        } else {
                            " after its scheme"
                        }
                    ),
                );
                format!("{prefix}{{{{env.{env}}}}}")
            }
            None => literal(value),
        };
        r.headers.push((name.clone(), value));
    }
    if let Some((content_type, text)) = &first.body {
        if let Some(ct) = content_type {
            if !r.headers.iter().any(|(n, _)| n == "content-type") {
                r.headers.push(("content-type".into(), literal(ct)));
            }
        }
        if text.len() > BODY_MAX {
            r.notes.push(format!(
                "its recorded body ({} bytes) is not copied: add one.",
                text.len()
            ));
        } else {
            r.body = Some(scrub_body(text, &mut r.notes, draft));
        }
    }
    r
}

/// Images, CSS, scripts, fonts and media: by the browser's resource type, the answer's
/// MIME type or the path's extension.
fn is_asset(entry: &Value, path: &str) -> bool {
    let kind = entry
        .get("_resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if matches!(
        kind,
        "image" | "stylesheet" | "script" | "font" | "media" | "manifest"
    ) {
        return true;
    }
    let mime = entry
        .pointer("/response/content/mimeType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    if [
        "image/",
        "font/",
        "text/css",
        "javascript",
        "video/",
        "audio/",
    ]
    .iter()
    .any(|m| mime.contains(m))
    {
        return true;
    }
    let ext = path.rsplit('/').next().unwrap_or("").rsplit_once('.');
    matches!(
        ext.map(|(_, e)| e.to_ascii_lowercase()).as_deref(),
        Some(
            "png"
                | "jpg"
                | "jpeg"
                | "gif"
                | "svg"
                | "webp"
                | "avif"
                | "ico"
                | "bmp"
                | "css"
                | "js"
                | "mjs"
                | "map"
                | "woff"
                | "woff2"
                | "ttf"
                | "otf"
                | "eot"
                | "mp4"
                | "webm"
                | "mp3"
        )
    )
}

/// `1 entry`, `2 entries`.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What kind of id a path segment is, if it is one: digits, a UUID, or long hex; or a
/// segment that looks like a token (a reset link's), which must not be written either.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Id {
    Number,
    Uuid,
    Hex,
    Token,
}

/// [`id_kind`], or a token.
fn segment_id(segment: &str) -> Option<Id> {
    id_kind(segment).or_else(|| looks_like_token(segment).then_some(Id::Token))
}

fn id_kind(segment: &str) -> Option<Id> {
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
        return Some(Id::Number);
    }
    let parts: Vec<&str> = segment.split('-').collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    if lens == [8, 4, 4, 4, 12] && parts.iter().all(|p| hex(p)) {
        return Some(Id::Uuid);
    }
    if segment.len() >= 16 && hex(segment) {
        return Some(Id::Hex);
    }
    None
}

/// The route a path belongs to: each id segment as `{id}`.
pub fn route_of(path: &str) -> String {
    path.split('/')
        .map(|s| if segment_id(s).is_some() { "{id}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The route's path with each id segment templated: numbers as `{{random_int MIN MAX}}` over
/// the ids recorded there, UUIDs and long hex as `{{uuid}}`.
fn templated_path(path: &str, list: &[&Seen], notes: &mut Vec<String>) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        match segment_id(s) {
            None => out.push(literal(s)),
            Some(Id::Number) => {
                let nums: Vec<i64> = list
                    .iter()
                    .filter_map(|l| l.path.split('/').nth(i)?.parse().ok())
                    .collect();
                let (lo, hi) = (
                    nums.iter().min().copied().unwrap_or(1),
                    nums.iter().max().copied().unwrap_or(1000),
                );
                out.push(format!("{{{{random_int {lo} {hi}}}}}"));
            }
            Some(_) => out.push("{{uuid}}".into()),
        }
    }
    if out.iter().any(|s| s.starts_with("{{")) {
        let distinct: std::collections::BTreeSet<&str> =
            list.iter().map(|l| l.path.as_str()).collect();
        notes.push(format!(
            "{{id}}: {} distinct recorded; sent as a number in their range or a random UUID. For real ids, a [data] file and {{{{data.id}}}}.",
            distinct.len()
        ));
    }
    out.join("/")
}

/// The recorded query (or form body: `place` is `BODY`), a token-like value or a
/// secret-named parameter replaced by `{{env.PLACE_NAME}}`.
fn query(q: &str, place: &str, notes: &mut Vec<String>, draft: &mut Draft) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if secret_name(k) || looks_like_token(v) => {
                let env = env_name(place, k);
                let what = if place == "BODY" {
                    "form field"
                } else {
                    "query value"
                };
                draft.needs_env(&env, &format!("the recorded `{k}` {what}"));
                notes.push(format!("{what} `{k}` is read from {env}."));
                format!("{}={{{{env.{env}}}}}", literal(k))
            }
            _ => literal(pair),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The headers worth sending again: not the browser's own, not the connection's, not
/// HTTP/2's pseudo-headers.
fn headers(request: &Value) -> Vec<(String, String)> {
    const DROP: [&str; 22] = [
        "host",
        "connection",
        "content-length",
        "transfer-encoding",
        "keep-alive",
        "te",
        "upgrade",
        "proxy-connection",
        "user-agent",
        "accept-encoding",
        "accept-language",
        "referer",
        "origin",
        "cache-control",
        "pragma",
        "dnt",
        "priority",
        "upgrade-insecure-requests",
        "if-none-match",
        "if-modified-since",
        "range",
        "expect",
    ];
    let mut out: Vec<(String, String)> = Vec::new();
    for h in request
        .get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(value)) = (
            h.get("name").and_then(Value::as_str),
            h.get("value").and_then(Value::as_str),
        ) else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let printable = value.chars().all(|c| c == '\t' || !c.is_control());
        if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || name.starts_with(':')
            || name.starts_with("sec-")
            || DROP.contains(&name.as_str())
            || !printable
            || out.iter().any(|(n, _)| *n == name)
        {
            continue;
        }
        out.push((name, value.trim().to_string()));
    }
    out
}

/// A secret header: the variable its value is read from and the scheme kept before it
/// (`Bearer ` of a bearer token, the cookie is read whole).
fn secret_header(name: &str, value: &str) -> Option<(String, String)> {
    match name {
        "cookie" => Some(("COOKIE".into(), String::new())),
        "authorization" => {
            let (scheme, rest) = value.split_once(' ').unwrap_or(("", value));
            let env = match scheme.to_ascii_lowercase().as_str() {
                "bearer" => "API_TOKEN",
                "basic" => "BASIC_AUTH",
                _ => "AUTHORIZATION",
            };
            let prefix = if rest.is_empty() || scheme.is_empty() {
                String::new()
            } else {
                format!("{scheme} ")
            };
            Some((env.into(), prefix))
        }
        "x-api-key" => Some(("API_KEY".into(), String::new())),
        _ if secret_name(name) || looks_like_token(value) => {
            Some((env_name("HEADER", name), String::new()))
        }
        _ => None,
    }
}

/// A name that says it holds a secret.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', '_'], "");
    [
        "token",
        "auth",
        "key",
        "secret",
        "password",
        "passwd",
        "session",
        "signature",
        "sig",
        "credential",
        "csrf",
        "xsrf",
        "otp",
        "code",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// A value that looks like a token: a JWT, or a long run of letters and digits with both.
fn looks_like_token(value: &str) -> bool {
    let v = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
    let v = v.trim();
    if v.starts_with("eyJ") && v.matches('.').count() >= 2 {
        return true;
    }
    let tokenish = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.+/=~".contains(c));
    let has_digit = v.chars().any(|c| c.is_ascii_digit());
    let has_alpha = v.chars().any(|c| c.is_ascii_alphabetic());
    v.len() >= 20 && tokenish && has_digit && has_alpha && id_kind(v) != Some(Id::Uuid)
}

/// `HEADER_X_CSRF_TOKEN`: the place and the name, as an environment variable's name.
fn env_name(place: &str, name: &str) -> String {
    let n: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{place}_{n}")
}

/// The recorded body, its secret fields (JSON or a form) read from `{{env.…}}`.
fn scrub_body(text: &str, notes: &mut Vec<String>, draft: &mut Draft) -> String {
    if let Ok(mut json) = serde_json::from_str::<Value>(text) {
        let mut secrets = Vec::new();
        scrub_json(&mut json, &mut secrets);
        for name in &secrets {
            let env = env_name("BODY", name);
            draft.needs_env(&env, &format!("the recorded body's `{name}`"));
            notes.push(format!("body field `{name}` is read from {env}."));
        }
        // Placeholders were left as markers; the rest is sent as recorded.
        let mut out = literal(&json.to_string());
        for name in secrets {
            let env = env_name("BODY", &name);
            out = out.replace(&marker(&name), &format!("{{{{env.{env}}}}}"));
        }
        return out;
    }
    if text.contains('=') && !text.contains(char::is_whitespace) {
        return query(text, "BODY", notes, draft);
    }
    literal(text)
}

fn marker(name: &str) -> String {
    // A private-use character: JSON writes it as it is (a control character it would escape).
    format!("\u{E000}secret:{name}\u{E000}")
}

fn scrub_json(v: &mut Value, secrets: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, field) in o.iter_mut() {
                let secret_value =
                    matches!(field, Value::String(s) if secret_name(k) || looks_like_token(s));
                if secret_value {
                    *field = Value::String(marker(k));
                    if !secrets.contains(k) {
                        secrets.push(k.clone());
                    }
                } else {
                    scrub_json(field, secrets);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| scrub_json(x, secrets)),
        _ => {}
    }
}

/// The body and its recorded content type.
fn body(request: &Value) -> Option<(Option<String>, String)> {
    let post = request.get("postData")?;
    let text = post.get("text").and_then(Value::as_str)?;
    let mime = post
        .get("mimeType")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    Some((mime, text.to_string()))
}

#[cfg(test)]
mod tests;
