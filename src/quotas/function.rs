//! Lambda's calls about one function — its reserved and provisioned concurrency, memory
//! and timeout — shared by the function a command names and each function an API's
//! routes invoke.

use aws_sdk_lambda as lambda;

use super::failure::{of_sdk_error, Failure};
use super::precedence::Read;
use super::{FunctionConfig, QuotaSource};

pub(super) const RESERVED: &str = "lambda:GetFunctionConcurrency";
pub(super) const PROVISIONED: &str = "lambda:GetProvisionedConcurrencyConfig";
pub(super) const CONFIGURATION: &str = "lambda:GetFunctionConfiguration";

/// The function's memory, architecture and timeout.
pub(super) async fn configuration(
    lambda: &lambda::Client,
    function: &str,
    qualifier: Option<&str>,
) -> Read<FunctionConfig> {
    use stampede_lambda::Architecture;
    match lambda
        .get_function_configuration()
        .function_name(function)
        .set_qualifier(qualifier.map(str::to_string))
        .send()
        .await
    {
        Ok(out) => {
            let arm = out.architectures().iter().any(|a| a.as_str() == "arm64");
            Ok(FunctionConfig {
                memory_mb: out.memory_size().unwrap_or(128).max(0) as u64,
                architecture: if arm {
                    Architecture::Arm64
                } else {
                    Architecture::X86_64
                },
                timeout_s: out.timeout().map(|t| t.max(0) as u64),
                source: QuotaSource::Api {
                    action: CONFIGURATION.into(),
                },
            })
        }
        Err(e) => Err(of_sdk_error(&e, &[])),
    }
}

/// Its reserved concurrency; `None`: none set.
pub(super) async fn reserved_concurrency(
    lambda: &lambda::Client,
    function: &str,
) -> Read<Option<f64>> {
    match lambda
        .get_function_concurrency()
        .function_name(function)
        .send()
        .await
    {
        Ok(out) => Ok(out.reserved_concurrent_executions().map(f64::from)),
        Err(e) => Err(of_sdk_error(&e, &[])),
    }
}

/// The provisioned concurrency on `qualifier`: allocated, else requested; `None`: none.
pub(super) async fn provisioned_concurrency(
    lambda: &lambda::Client,
    function: &str,
    qualifier: &str,
) -> Read<Option<f64>> {
    const NONE_SET: &str = "ProvisionedConcurrencyConfigNotFoundException";
    match lambda
        .get_provisioned_concurrency_config()
        .function_name(function)
        .qualifier(qualifier)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .allocated_provisioned_concurrent_executions()
            .or(out.requested_provisioned_concurrent_executions())
            .map(f64::from)),
        Err(e) => match of_sdk_error(&e, &[NONE_SET]) {
            Failure::Code(_) => Ok(None),
            other => Err(other),
        },
    }
}
