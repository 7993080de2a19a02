//! `stampede quotas` against moto, an AWS stand-in we did not write: what it serves must
//! be read, and what it does not serve must be named in `not_read` without failing.
//!
//! Needs a running moto server: `STAMPEDE_MOTO_ENDPOINT=http://127.0.0.1:5055` (.ci/run
//! starts one). Without it the test is skipped, unless `STAMPEDE_REQUIRE_MOTO=1`.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_apigateway as apigateway;
use aws_sdk_lambda as lambda;
use common::{stampede_aws, stderr, stdout, DUMMY_KEYS};
use serde_json::Value;

const RESERVED: i32 = 7;

pub(crate) fn moto_endpoint() -> Option<String> {
    common::moto_endpoint("tests/it/moto.rs")
}

macro_rules! client {
    ($krate:ident, $endpoint:expr) => {{
        let config = $krate::Config::builder()
            .behavior_version($krate::config::BehaviorVersion::latest())
            .http_client(stampede::aws::http_client())
            .region($krate::config::Region::new("us-east-1"))
            .credentials_provider($krate::config::Credentials::new(
                DUMMY_KEYS[0].1,
                DUMMY_KEYS[1].1,
                None,
                None,
                "test",
            ))
            .endpoint_url($endpoint)
            .build();
        $krate::Client::from_conf(config)
    }};
}
pub(crate) use client;

/// IAM CreateRole as a plain form POST: moto routes by the SigV4 scope and checks no
/// signature, and this saves a whole SDK crate for one call. Returns the role's ARN.
pub(crate) fn create_role(endpoint: &str, name: &str) -> String {
    let authority = endpoint.trim_start_matches("http://");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument={}",
        form_encode(policy)
    );
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        DUMMY_KEYS[0].1,
        body.len()
    );
    let mut stream = TcpStream::connect(authority).expect("moto answers");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let arn = answer
        .split("<Arn>")
        .nth(1)
        .and_then(|rest| rest.split("</Arn>").next())
        .unwrap_or_else(|| panic!("CreateRole failed:\n{answer}"));
    arn.to_string()
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The smallest valid zip archive: an empty one (its end-of-directory record alone).
pub(crate) fn empty_zip() -> Vec<u8> {
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend([0u8; 18]);
    zip
}

/// A function with reserved concurrency and a REST API whose `prod` stage has a `*/*`
/// throttle; returns the REST API's id.
async fn set_up(endpoint: &str, function: &str, role_arn: &str) -> String {
    let l = client!(lambda, endpoint);
    l.create_function()
        .function_name(function)
        .runtime(lambda::types::Runtime::Python312)
        .role(role_arn)
        .handler("index.handler")
        .code(
            lambda::types::FunctionCode::builder()
                .zip_file(lambda::primitives::Blob::new(empty_zip()))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");
    l.put_function_concurrency()
        .function_name(function)
        .reserved_concurrent_executions(RESERVED)
        .send()
        .await
        .expect("PutFunctionConcurrency");

    let a = client!(apigateway, endpoint);
    let api = a
        .create_rest_api()
        .name(format!("{function}-api"))
        .send()
        .await
        .expect("CreateRestApi");
    let api_id = api.id().unwrap().to_string();
    let resources = a
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .expect("GetResources");
    let root = resources.items()[0].id().unwrap().to_string();
    a.put_method()
        .rest_api_id(&api_id)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .expect("PutMethod");
    a.put_integration()
        .rest_api_id(&api_id)
        .resource_id(&root)
        .http_method("GET")
        .r#type(apigateway::types::IntegrationType::Mock)
        .send()
        .await
        .expect("PutIntegration");
    a.create_deployment()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .expect("CreateDeployment");
    let replace = |path: &str, value: &str| {
        apigateway::types::PatchOperation::builder()
            .op(apigateway::types::Op::Replace)
            .path(path)
            .value(value)
            .build()
    };
    a.update_stage()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .patch_operations(replace("/*/*/throttling/rateLimit", "400"))
        .patch_operations(replace("/*/*/throttling/burstLimit", "200"))
        .send()
        .await
        .expect("UpdateStage");
    api_id
}

fn reading<'q>(q: &'q Value, key: &str) -> &'q Value {
    q["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {q:#}"))
}

#[test]
fn moto_serves_what_it_can_and_the_rest_is_named() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    // moto is shared between runs: names of our own.
    let unique = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let function = format!("stampede-{}-{unique}", std::process::id());
    let role_arn = create_role(&endpoint, &format!("{function}-role"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api_id = runtime.block_on(set_up(&endpoint, &function, &role_arn));

    let dir = tempfile::tempdir().unwrap();
    let o = stampede_aws(
        dir.path(),
        &[
            "quotas",
            "--endpoint-url",
            &endpoint,
            "--region",
            "us-east-1",
            "--function",
            &function,
            "--qualifier",
            "live",
            "--rest-api-id",
            &api_id,
            "--stage",
            "prod",
            "--json",
        ],
        &DUMMY_KEYS,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let q: Value = serde_json::from_str(&stdout(&o)).unwrap();

    let reserved = reading(&q, "function_reserved_concurrency");
    assert_eq!(reserved["value"], f64::from(RESERVED), "{q:#}");
    assert_eq!(
        reserved["source"]["action"],
        "lambda:GetFunctionConcurrency"
    );
    for (key, value) in [("stage_rate", 400.0), ("stage_burst", 200.0)] {
        let r = reading(&q, key);
        assert_eq!(r["value"], value, "{q:#}");
        assert_eq!(r["source"]["action"], "apigateway:GetStage");
    }
    let rate = reading(&q, "apigw_rate");
    assert_eq!(rate["value"], 10_000.0, "{q:#}");
    assert_eq!(rate["source"]["action"], "apigateway:GetAccount");
    // Not served by moto: named, and AWS's documented numbers stand in.
    let not_read: Vec<(&str, &str)> = q["not_read"]
        .as_array()
        .unwrap_or_else(|| panic!("nothing in not_read: {q:#}"))
        .iter()
        .map(|n| (n["action"].as_str().unwrap(), n["reason"].as_str().unwrap()))
        .collect();
    for action in [
        "lambda:GetAccountSettings",
        "lambda:GetProvisionedConcurrencyConfig",
        "servicequotas:GetAWSDefaultServiceQuota",
    ] {
        assert!(
            not_read
                .iter()
                .any(|(a, reason)| *a == action
                    && reason.starts_with("not supported by this endpoint")),
            "{action} not named as unsupported: {not_read:?}"
        );
    }
    let account = reading(&q, "lambda_concurrent_executions");
    assert_eq!(account["value"], 1000.0);
    assert_eq!(account["source"]["kind"], "documented");
}
