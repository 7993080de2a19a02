//! What AWS counted, beside what the client saw: CloudWatch's Lambda and API Gateway
//! metrics over the run's minutes (`query`: what to ask; `fetch`: GetMetricData with the
//! SDK; `minutes`: both sides per minute; `by_route`: per function and per route over the
//! whole run). The `cloudwatch` key of the results file.

pub mod by_route;
pub mod fetch;
pub mod minutes;
pub mod query;

pub use query::{ApiKind, ApiRef, MetricTarget, Window};
pub use stampede_results::cloudwatch::{
    ClientMinute, CloudWatch, Minute, ServerFinding, ServerMinute,
};
