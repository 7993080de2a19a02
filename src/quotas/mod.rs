//! The limits a run can hit, and where each number came from: Service Quotas, the Lambda
//! and API Gateway APIs (the emulator's control plane answers the same calls), a quotas
//! file, or AWS's documented defaults. Fetching lives in [`aws`], the file in [`file`].

pub mod aws;
pub(crate) mod failure;
pub mod file;
mod function;
mod precedence;
mod routes;
pub mod sources;

pub use stampede_results::quotas::{
    Front, FunctionConfig, LimitKey, NotRead, Quota, QuotaSource, Quotas, LIMIT_KEYS, ROUTE_KEYS,
};

/// Which kind of API Gateway API stands in front, when known: a REST API's stage is set
/// with `apigateway`, an HTTP API's with `apigatewayv2`.
pub use stampede_results::cloudwatch::ApiKind;
pub use stampede_results::routes::{ApiMapped, IntegrationKind, RouteLimits};
