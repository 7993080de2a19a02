//! A sample value built from a JSON Schema (OpenAPI's dialect): the schema's own `example`,
//! `default` or first `enum` value where it gives one, else a plain value of its type.
//! `$ref`s are followed within the document, to a bounded depth (schemas may recurse).

use serde_json::{json, Map, Value};

/// How deep a sample nests: deeper branches are left out (a recursive schema ends).
const DEPTH_MAX: usize = 6;

pub fn sample(doc: &Value, schema: &Value) -> Value {
    build(doc, schema, 0)
}

/// The value a local `$ref` (`#/components/schemas/Order`) points at, followed a few times.
pub fn resolve<'d>(doc: &'d Value, mut v: &'d Value) -> &'d Value {
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => match doc.pointer(&unescape(&r[1..])) {
                Some(target) => v = target,
                None => return v,
            },
            _ => return v,
        }
    }
    v
}

/// A `$ref`'s fragment as a JSON pointer (its `%XX` escapes decoded).
fn unescape(fragment: &str) -> String {
    percent_encoding::percent_decode_str(fragment)
        .decode_utf8_lossy()
        .into_owned()
}

fn build(doc: &Value, schema: &Value, depth: usize) -> Value {
    let s = resolve(doc, schema);
    for given in ["example", "default"] {
        if let Some(v) = s.get(given) {
            return v.clone();
        }
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if depth >= DEPTH_MAX {
        return Value::Null;
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            match build(doc, part, depth + 1) {
                Value::Object(o) => merged.extend(o),
                other if all.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    for one in ["oneOf", "anyOf"] {
        if let Some(first) = s.get(one).and_then(Value::as_array).and_then(|o| o.first()) {
            return build(doc, first, depth + 1);
        }
    }
    let kind = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        // OpenAPI 3.1: a list of types; the first that is not null.
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.get("properties").is_some() => "object",
        _ if s.get("items").is_some() => "array",
        _ => "",
    };
    match kind {
        "object" => {
            let mut o = Map::new();
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    let v = build(doc, prop, depth + 1);
                    if !v.is_null() {
                        o.insert(name.clone(), v);
                    }
                }
            }
            Value::Object(o)
        }
        "array" => match s.get("items") {
            Some(items) => match build(doc, items, depth + 1) {
                Value::Null => json!([]),
                v => json!([v]),
            },
            None => json!([]),
        },
        "integer" => json!(number_from(s, 1.0) as i64),
        "number" => json!(number_from(s, 1.5)),
        "boolean" => json!(true),
        "string" => json!(string_for(s.get("format").and_then(Value::as_str))),
        _ => Value::Null,
    }
}

fn number_from(s: &Value, otherwise: f64) -> f64 {
    s.get("minimum")
        .and_then(Value::as_f64)
        .unwrap_or(otherwise)
}

fn string_for(format: Option<&str>) -> &'static str {
    match format {
        Some("date") => "2024-01-01",
        Some("date-time") => "2024-01-01T00:00:00Z",
        Some("email") => "user@example.com",
        Some("uuid") => "00000000-0000-4000-8000-000000000000",
        Some("uri") | Some("url") => "https://example.com",
        Some("ipv4") => "192.0.2.1",
        _ => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_follows_refs_and_prefers_examples() {
        let doc = json!({"components": {"schemas": {
            "Item": {"type": "object", "properties": {
                "sku": {"type": "string", "example": "A-1"},
                "qty": {"type": "integer", "minimum": 2},
                "when": {"type": "string", "format": "date"},
                "kind": {"type": "string", "enum": ["box", "bag"]}
            }},
            "Order": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                "gift": {"type": "boolean"}
            }}
        }}});
        let order = json!({"$ref": "#/components/schemas/Order"});
        assert_eq!(
            sample(&doc, &order),
            json!({"items": [{"sku": "A-1", "qty": 2, "when": "2024-01-01", "kind": "box"}], "gift": true})
        );
    }

    #[test]
    fn a_recursive_schema_ends() {
        let doc = json!({"definitions": {"Node": {"type": "object", "properties": {
            "name": {"type": "string"},
            "child": {"$ref": "#/definitions/Node"}
        }}}});
        let v = sample(&doc, &json!({"$ref": "#/definitions/Node"}));
        assert_eq!(v["name"], "string");
        assert!(v.to_string().len() < 200, "{v}");
    }
}
