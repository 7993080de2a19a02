//! The APIs and functions of the test, set up in moto with the real SDK.

use aws_sdk_apigateway as apigateway;
use aws_sdk_apigatewayv2 as apigatewayv2;
use aws_sdk_lambda as lambda;

use crate::common::DUMMY_KEYS;
use crate::moto::{client, empty_zip};

pub const RESERVED: i32 = 7;

/// The names of one test's resources: moto is shared between runs.
pub struct Names {
    pub create: String,
    pub get: String,
}

pub async fn functions(endpoint: &str, n: &Names, role_arn: &str) -> String {
    let l = client!(lambda, endpoint);
    let mut get_arn = String::new();
    for name in [&n.create, &n.get] {
        let f = l
            .create_function()
            .function_name(name)
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
        get_arn = f.function_arn().unwrap().to_string();
    }
    l.put_function_concurrency()
        .function_name(&n.create)
        .reserved_concurrent_executions(RESERVED)
        .send()
        .await
        .expect("PutFunctionConcurrency");
    l.create_alias()
        .function_name(&n.get)
        .name("live")
        .function_version("$LATEST")
        .send()
        .await
        .expect("CreateAlias");
    get_arn
}

/// `POST /orders` → create (throttled 50/10, a usage plan's 5/2), `GET /orders/{id}` →
/// get on the alias its stage variable names; returns the API's id.
pub async fn rest_api(endpoint: &str, n: &Names) -> String {
    use apigateway::types::{ApiStage, Op, PatchOperation, ThrottleSettings};
    let a = client!(apigateway, endpoint);
    let id = a
        .create_rest_api()
        .name(format!("{}-api", n.create))
        .send()
        .await
        .expect("CreateRestApi")
        .id()
        .unwrap()
        .to_string();
    let root = a
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap()
        .items()[0]
        .id()
        .unwrap()
        .to_string();
    let orders = a
        .create_resource()
        .rest_api_id(&id)
        .parent_id(&root)
        .path_part("orders")
        .send()
        .await
        .expect("CreateResource")
        .id()
        .unwrap()
        .to_string();
    let order = a
        .create_resource()
        .rest_api_id(&id)
        .parent_id(&orders)
        .path_part("{id}")
        .send()
        .await
        .expect("CreateResource")
        .id()
        .unwrap()
        .to_string();
    let uri = |function: &str| {
        format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:{function}/invocations")
    };
    for (resource, method, function) in [
        (&orders, "POST", n.create.clone()),
        (
            &order,
            "GET",
            format!("{}:${{stageVariables.alias}}", n.get),
        ),
    ] {
        a.put_method()
            .rest_api_id(&id)
            .resource_id(resource)
            .http_method(method)
            .authorization_type("NONE")
            .send()
            .await
            .expect("PutMethod");
        a.put_integration()
            .rest_api_id(&id)
            .resource_id(resource)
            .http_method(method)
            .r#type(apigateway::types::IntegrationType::AwsProxy)
            .integration_http_method("POST")
            .uri(uri(&function))
            .send()
            .await
            .expect("PutIntegration");
    }
    a.create_deployment()
        .rest_api_id(&id)
        .stage_name("prod")
        .variables("alias", "live")
        .send()
        .await
        .expect("CreateDeployment");
    let replace = |path: &str, value: &str| {
        PatchOperation::builder()
            .op(Op::Replace)
            .path(path)
            .value(value)
            .build()
    };
    a.update_stage()
        .rest_api_id(&id)
        .stage_name("prod")
        .patch_operations(replace("/~1orders/POST/throttling/rateLimit", "50"))
        .patch_operations(replace("/~1orders/POST/throttling/burstLimit", "10"))
        .send()
        .await
        .expect("UpdateStage");
    let throttle = |rate: f64, burst: i32| {
        ThrottleSettings::builder()
            .rate_limit(rate)
            .burst_limit(burst)
            .build()
    };
    a.create_usage_plan()
        .name(format!("{}-plan", n.create))
        .api_stages(
            ApiStage::builder()
                .api_id(&id)
                .stage("prod")
                .throttle("/orders/POST", throttle(5.0, 2))
                .build(),
        )
        .throttle(throttle(20.0, 4))
        .send()
        .await
        .expect("CreateUsagePlan");
    id
}

/// `GET /orders/{id}` → get (its ARN; throttled 30/6), `ANY /legacy` → an HTTP endpoint;
/// the stage's default route throttle 100/50. Returns the API's id.
pub async fn http_api(endpoint: &str, get_arn: &str) -> String {
    use apigatewayv2::types::{IntegrationType, ProtocolType, RouteSettings};
    let v2 = client!(apigatewayv2, endpoint);
    let id = v2
        .create_api()
        .name("stampede-http")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .expect("CreateApi")
        .api_id()
        .unwrap()
        .to_string();
    let integration = |kind: IntegrationType, uri: &str| {
        let v2 = v2.clone();
        let (id, uri) = (id.clone(), uri.to_string());
        async move {
            let method = if kind == IntegrationType::HttpProxy {
                "ANY"
            } else {
                "POST"
            };
            v2.create_integration()
                .api_id(id)
                .integration_type(kind)
                .integration_uri(uri)
                .integration_method(method)
                .payload_format_version("1.0")
                .send()
                .await
                .expect("CreateIntegration")
                .integration_id()
                .unwrap()
                .to_string()
        }
    };
    let function = integration(IntegrationType::AwsProxy, get_arn).await;
    let legacy = integration(IntegrationType::HttpProxy, "https://example.com").await;
    for (key, target) in [("GET /orders/{id}", &function), ("ANY /legacy", &legacy)] {
        v2.create_route()
            .api_id(&id)
            .route_key(key)
            .target(format!("integrations/{target}"))
            .send()
            .await
            .expect("CreateRoute");
    }
    let settings = |rate: f64, burst: i32| {
        RouteSettings::builder()
            .throttling_rate_limit(rate)
            .throttling_burst_limit(burst)
            .build()
    };
    v2.create_stage()
        .api_id(&id)
        .stage_name("prod")
        .route_settings("GET /orders/{id}", settings(30.0, 6))
        .default_route_settings(settings(100.0, 50))
        .send()
        .await
        .expect("CreateStage");
    id
}
