//! An API's routes and the limits behind each: `stampede quotas --url`'s route table and
//! `--json` `routes`, and what the quota check reads per route. Filled by the CLI's
//! `quotas::routes` from API Gateway and Lambda (or the emulator's control plane).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cloudwatch::ApiKind;
use crate::quotas::{FunctionConfig, LimitKey, Quota};

/// The API whose map was read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiMapped {
    pub kind: ApiKind,
    pub id: String,
    pub stage: String,
}

/// What a route hands its requests to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationKind {
    /// A Lambda function (proxy or not).
    Lambda,
    /// An HTTP endpoint (`HTTP`, `HTTP_PROXY`).
    Http,
    /// Another AWS service (`AWS` other than Lambda, HTTP APIs' service integrations).
    Aws,
    /// API Gateway answers itself (`MOCK`).
    Mock,
    /// No integration set, or one that could not be read.
    None,
}

impl IntegrationKind {
    pub fn name(self) -> &'static str {
        match self {
            IntegrationKind::Lambda => "lambda",
            IntegrationKind::Http => "http",
            IntegrationKind::Aws => "aws",
            IntegrationKind::Mock => "mock",
            IntegrationKind::None => "none",
        }
    }
}

/// One route of the API and the limits that apply to it alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RouteLimits {
    /// `METHOD /path/{param}` as the API defines it (`ANY /{proxy+}`; an HTTP API's
    /// `$default`).
    pub route: String,
    pub integration: IntegrationKind,
    /// The function the integration invokes (its name), for Lambda integrations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Its alias or version, when the integration names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// The route's own limits: `route_throttle_rate`/`_burst` (a REST method's or an HTTP
    /// route's throttle), `usage_plan_rate`/`_burst`, and its function's
    /// `function_reserved_concurrency`/`function_provisioned_concurrency`. `value: None`:
    /// read, and nothing is set.
    pub quotas: Vec<Quota>,
    /// The function's memory, architecture and timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_config: Option<FunctionConfig>,
}

impl RouteLimits {
    /// The number for `key` on this route; `None` when unknown or not set.
    pub fn get(&self, key: LimitKey) -> Option<f64> {
        self.quotas
            .iter()
            .find(|q| q.key == key)
            .and_then(|q| q.value)
    }

    /// `function:qualifier`, or the function alone.
    pub fn function_label(&self) -> Option<String> {
        self.function.as_ref().map(|f| match &self.qualifier {
            Some(q) => format!("{f}:{q}"),
            None => f.clone(),
        })
    }
}
