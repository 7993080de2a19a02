use super::*;
use serde_json::json;

#[test]
fn the_function_is_read_from_an_integration_uri() {
    let uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:orders-create:live/invocations";
    assert_eq!(lambda_function(uri), Some("orders-create:live"));
    assert_eq!(lambda_function("https://example.com/x"), None);
}

#[test]
fn an_operation_becomes_a_templated_request() {
    let doc = json!({
        "openapi": "3.0.1",
        "servers": [{"url": "https://abc.execute-api.us-east-1.amazonaws.com/{basePath}",
                     "variables": {"basePath": {"default": "/prod"}}}],
        "security": [{"key": []}],
        "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "x-api-key"}}},
        "paths": {"/orders/{id}": {"put": {
            "operationId": "putOrder",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "requestBody": {"content": {"application/json": {"example": {"qty": 2, "note": "{{x}}"}}}},
            "x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:orders-put/invocations"}
        }}}
    });
    let d = from_openapi(&doc, None).unwrap();
    assert_eq!(
        d.url.as_deref(),
        Some("https://abc.execute-api.us-east-1.amazonaws.com/prod")
    );
    let r = &d.requests[0];
    assert_eq!(r.name, "putOrder");
    assert_eq!(r.path, "/orders/{{random_int 1 1000}}");
    assert_eq!(
        r.body.as_deref(),
        Some("{\"note\":\"{{\"{{\"}}x}}\",\"qty\":2}")
    );
    assert!(r
        .headers
        .contains(&("x-api-key".into(), "{{env.API_TOKEN}}".into())));
    assert!(r
        .notes
        .iter()
        .any(|n| n.ends_with("Lambda function orders-put")));
    assert_eq!(d.env[0].0, "API_TOKEN");
}

#[test]
fn swagger_2_gives_host_base_path_and_body_samples() {
    let doc = json!({
        "swagger": "2.0", "host": "api.example.com", "basePath": "/v1/",
        "securityDefinitions": {"b": {"type": "basic"}}, "security": [{"b": []}],
        "paths": {"/pets": {"post": {"parameters": [{"in": "body", "name": "p",
            "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}]}}}
    });
    let d = from_openapi(&doc, None).unwrap();
    assert_eq!(d.url.as_deref(), Some("https://api.example.com/v1"));
    let r = &d.requests[0];
    assert_eq!(r.name, "POST /pets");
    assert_eq!(r.body.as_deref(), Some("{\"name\":\"string\"}"));
    assert!(r
        .headers
        .contains(&("authorization".into(), "Basic {{env.API_TOKEN}}".into())));
}

#[test]
fn swagger_form_fields_and_required_headers() {
    let doc = json!({
        "swagger": "2.0",
        "paths": {"/login": {"post": {"parameters": [
            {"in": "formData", "name": "user", "type": "string", "example": "ann b"},
            {"in": "formData", "name": "age", "type": "integer"},
            {"in": "header", "name": "X-Tenant", "required": true, "type": "string", "example": "t1"},
            {"in": "header", "name": "X-Other", "required": true, "type": "string"}
        ]}}}
    });
    let r = &from_openapi(&doc, None).unwrap().requests[0];
    assert_eq!(r.body.as_deref(), Some("age=1&user=ann%20b"));
    assert!(r.headers.contains(&("x-tenant".into(), "t1".into())));
    assert!(r.notes.iter().any(|n| n.contains("`x-other` is required")));
}

#[test]
fn odd_paths_and_servers_still_give_a_scenario_that_parses() {
    let doc = json!({
        "openapi": "3.1.0",
        "servers": [{"url": "https://{region}.example.com/v1?x=1"}],
        "paths": {"/caf\u{e9} menu/{id}|x": {"get": {}}, "no-slash": {"get": {}}}
    });
    let d = from_openapi(&doc, None).unwrap();
    assert_eq!(d.url, None);
    let paths: Vec<&str> = d.requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/caf%C3%A9%20menu/{{random_int 1 1000}}%7Cx", "/no-slash"]
    );
    assert_eq!(
        tidy_url("https://h.example//v1/?q=1"),
        "https://h.example/v1"
    );
}

#[test]
fn a_document_of_neither_kind_is_refused_at_its_root() {
    let e = from_openapi(&json!({"info": {}}), None).unwrap_err();
    assert!(
        matches!(e, DocumentError::Shape { ref at, .. } if at == "$"),
        "{e:?}"
    );
    let e = from_openapi(
        &json!({"openapi": "3.0.0", "paths": {"/a": {"get": 3}}}),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(e, DocumentError::Shape { ref at, .. } if at == "$.paths./a.get"),
        "{e:?}"
    );
}
