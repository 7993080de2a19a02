use super::*;
use serde_json::json;

#[test]
fn ids_collapse_to_one_route() {
    assert_eq!(route_of("/orders/123/items"), "/orders/{id}/items");
    assert_eq!(
        route_of("/u/3f2c8a8e-1b2c-4d5e-8f90-123456789abc"),
        "/u/{id}"
    );
    assert_eq!(route_of("/blob/deadbeefdeadbeef00"), "/blob/{id}");
    assert_eq!(route_of("/v2/orders"), "/v2/orders");
    assert_eq!(
        route_of("/reset/Zx81kQ2mN7pL0sR4tU6vW9yB"),
        "/reset/{id}",
        "a token in a path is never written"
    );
}

#[test]
fn tokens_are_recognised_and_words_are_not() {
    assert!(looks_like_token("eyJhbGciOi.eyJzdWIi.sig"));
    assert!(looks_like_token("a8f9c0d7e6b5a4c3d2e1f0a9"));
    assert!(!looks_like_token("descending"));
    assert!(!looks_like_token("2024-01-01"));
}

#[test]
fn a_recording_becomes_weighted_routes_without_its_secrets() {
    let entry = |method: &str, url: &str, headers: Value| {
        json!({"request": {"method": method, "url": url, "headers": headers},
               "response": {"content": {"mimeType": "application/json"}}})
    };
    let auth = json!([{"name": "Authorization", "value": "Bearer s3cr3t-t0ken-abcdefghijkl"},
                      {"name": "Cookie", "value": "sid=chocolate"},
                      {"name": "Accept", "value": "application/json"}]);
    let har = json!({"log": {"entries": [
        {"request": {"method": "POST", "url": "https://api.example.com/login", "headers": [],
            "postData": {"mimeType": "application/json", "text": "{\"user\":\"ann\",\"password\":\"hunter2\"}"}}},
        entry("GET", "https://api.example.com/orders/123", auth.clone()),
        entry("GET", "https://api.example.com/orders/456?access_token=zz9plural", auth.clone()),
        entry("GET", "https://api.example.com/orders/123", auth),
        {"request": {"method": "GET", "url": "https://api.example.com/logo.png", "headers": []}},
        entry("GET", "https://cdn.example.com/x", json!([])),
    ]}});
    let d = from_har(&har).unwrap();
    assert_eq!(d.url.as_deref(), Some("https://api.example.com"));
    let get = &d.requests[0];
    assert_eq!(get.name, "GET /orders/{id}");
    assert_eq!(get.weight, 3);
    assert_eq!(get.path, "/orders/{{random_int 123 456}}");
    let login = &d.requests[1];
    assert_eq!(
        login.body.as_deref(),
        Some("{\"password\":\"{{env.BODY_PASSWORD}}\",\"user\":\"ann\"}")
    );
    let text = super::super::render(&d, "x.har");
    for secret in ["s3cr3t", "chocolate", "hunter2"] {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
    }
    assert!(
        text.contains("authorization = \"Bearer {{env.API_TOKEN}}\""),
        "{text}"
    );
    assert!(text.contains("1 static asset "), "{text}");
}

#[test]
fn a_sigv4_signature_is_left_out_and_noted() {
    let har = json!({"log": {"entries": [{"request": {"method": "GET",
    "url": "https://abc.execute-api.us-east-1.amazonaws.com/prod/items",
    "headers": [
        {"name": "Authorization", "value": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request, Signature=abc"},
        {"name": "X-Amz-Date", "value": "20260101T000000Z"},
        {"name": "X-Amz-Security-Token", "value": "FwoGZXIvYXdzEXAMPLE"},
        {"name": "Accept", "value": "application/json"}
    ]}}]}});
    let d = from_har(&har).unwrap();
    let r = &d.requests[0];
    assert_eq!(
        r.headers,
        [("accept".to_string(), "application/json".to_string())]
    );
    assert!(r.notes.iter().any(|n| n.contains("sigv4")), "{:?}", r.notes);
    assert!(d.env.is_empty());
}

#[test]
fn a_recording_without_entries_is_refused_where() {
    let e = from_har(&json!({"log": {}})).unwrap_err();
    assert!(matches!(e, DocumentError::Shape { ref at, .. } if at == "$.log.entries"));
    let e = from_har(&json!({"log": {"entries": [{"request": {"method": "GET"}}]}})).unwrap_err();
    assert!(matches!(e, DocumentError::Shape { ref at, .. } if at == "$.log.entries[0].request"));
}
