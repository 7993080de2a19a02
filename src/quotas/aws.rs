//! Reads the quotas with the AWS SDKs: Service Quotas, Lambda and API Gateway.
//!
//! Every call is made at once and bounded in time; what one call cannot read falls back
//! to the next source (README, "The quota check") and is named in `not_read`, never an error.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use aws_sdk_apigateway as apigateway;
use aws_sdk_lambda as lambda;
use aws_sdk_servicequotas as servicequotas;

use super::failure::{of_sdk_error, Failure};
use super::precedence::{Read, Readings, ServiceQuota};
use super::{FunctionConfig, LimitKey, NotRead, QuotaSource, Quotas};
use crate::error::{Error, Result};

/// What to read, and from where.
#[derive(Clone, Debug, Default)]
pub struct QuotaQuery {
    /// Default: the AWS config chain.
    pub region: Option<String>,
    pub function: Option<String>,
    /// Alias or version, for provisioned concurrency.
    pub qualifier: Option<String>,
    pub rest_api_id: Option<String>,
    pub stage: Option<String>,
    /// Every client's endpoint (the emulator, a local AWS stand-in); also AWS_ENDPOINT_URL.
    pub endpoint_url: Option<String>,
    /// Sign with fixed placeholder credentials instead of the chain (the emulator's
    /// control plane checks no secrets).
    pub placeholder_credentials: bool,
}

/// Quotas are read before a run: a slow or absent API must not hold it up for long.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads every quota it can; what it cannot read is named in `not_read`, never an error.
pub async fn fetch(query: &QuotaQuery) -> Quotas {
    let mut quotas = Quotas {
        origin: if query.placeholder_credentials {
            "emulator"
        } else {
            "aws"
        }
        .into(),
        function: query.function.clone(),
        region: query.region.clone(),
        ..Quotas::default()
    };
    match connect(query).await {
        Ok(config) => {
            quotas.region = config.region().map(|r| r.to_string());
            read(&config, query, &mut quotas).await;
        }
        // Without credentials or a region every call would fail the same way: say it once.
        Err(not_read) => quotas.not_read.push(not_read),
    }
    quotas.fill_documented();
    quotas
}

/// [`fetch`] on a runtime of its own, for the synchronous commands.
pub fn fetch_blocking(query: &QuotaQuery) -> Result<Quotas> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the runtime: {e}")))?;
    Ok(runtime.block_on(fetch(query)))
}

/// The SDK configuration, with credentials that resolved and a region.
pub async fn connect(query: &QuotaQuery) -> std::result::Result<SdkConfig, NotRead> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(crate::transport::aws_http_client())
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    if let Some(url) = &query.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let region = query.region.clone();
    if query.placeholder_credentials {
        loader = loader
            .credentials_provider(Credentials::new(
                "stampede-emulator",
                "not-a-secret",
                None,
                None,
                "stampede-emulator",
            ))
            .region(Region::new(region.unwrap_or_else(|| "us-east-1".into())));
    } else if let Some(r) = region {
        loader = loader.region(Region::new(r));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(NotRead {
            action: "region".into(),
            reason: "no region: pass --region or set AWS_REGION".into(),
        });
    }
    let no_credentials = |detail: String| NotRead {
        action: "credentials".into(),
        reason: format!("no credentials ({detail})"),
    };
    let provider = config
        .credentials_provider()
        .ok_or_else(|| no_credentials("no credentials provider".into()))?;
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(config),
        Ok(Err(e)) => Err(no_credentials(credentials_detail(&e))),
        Err(_) => Err(no_credentials(format!(
            "the chain gave none within {} s",
            CREDENTIALS_TIMEOUT.as_secs()
        ))),
    }
}

/// One line on why the chain gave no credentials. Its errors name providers and files,
/// never a secret; the full chain (every provider tried) is for -v.
fn credentials_detail(e: &aws_credential_types::provider::error::CredentialsError) -> String {
    use aws_credential_types::provider::error::CredentialsError;
    let full = lambda::error::DisplayErrorContext(e).to_string();
    tracing::info!("credentials: {full}");
    if let CredentialsError::CredentialsNotLoaded(_) = e {
        return "the AWS chain found none: environment, profile, SSO, web identity, \
                container, instance metadata"
            .into();
    }
    let line = full.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

async fn read(config: &SdkConfig, query: &QuotaQuery, quotas: &mut Quotas) {
    let sq = servicequotas::Client::new(config);
    let lambda = lambda::Client::new(config);
    let apigw = apigateway::Client::new(config);
    let function = query.function.as_deref();
    let (
        lambda_q,
        rate_q,
        burst_q,
        timeout_q,
        account_settings,
        reserved,
        provisioned,
        account,
        stage,
        configuration,
    ) = tokio::join!(
        applied(&sq, LimitKey::LambdaConcurrentExecutions),
        applied(&sq, LimitKey::ApigwRate),
        applied(&sq, LimitKey::ApigwBurst),
        applied(&sq, LimitKey::RestIntegrationTimeoutMs),
        account_settings(&lambda),
        optional(function, |f| reserved_concurrency(&lambda, f)),
        optional(function.zip(query.qualifier.as_deref()), |(f, q)| {
            provisioned_concurrency(&lambda, f, q)
        }),
        apigw_account(&apigw),
        optional(
            query.rest_api_id.as_deref().zip(query.stage.as_deref()),
            |(api, stage)| { stage_throttle(&apigw, api, stage) }
        ),
        optional(function, |f| function_configuration(
            &lambda,
            f,
            query.qualifier.as_deref()
        )),
    );
    let mut readings = Readings {
        quotas: [lambda_q, rate_q, burst_q, timeout_q]
            .into_iter()
            .map(|(key, applied)| ServiceQuota {
                key,
                applied,
                default: None,
            })
            .collect(),
        account_settings,
        reserved,
        provisioned,
        apigw_account: account,
        stage,
    };
    // The AWS defaults, only for the quotas nothing better answered.
    let wanted = readings.defaults_wanted();
    let want = |key| wanted.contains(&key).then_some(key);
    let defaults = tokio::join!(
        optional(want(LimitKey::LambdaConcurrentExecutions), |k| aws_default(
            &sq, k
        )),
        optional(want(LimitKey::ApigwRate), |k| aws_default(&sq, k)),
        optional(want(LimitKey::ApigwBurst), |k| aws_default(&sq, k)),
        optional(want(LimitKey::RestIntegrationTimeoutMs), |k| aws_default(
            &sq, k
        )),
    );
    for (q, default) in readings
        .quotas
        .iter_mut()
        .zip([defaults.0, defaults.1, defaults.2, defaults.3])
    {
        q.default = default;
    }
    readings.apply(quotas);
    const CONFIGURATION: &str = "lambda:GetFunctionConfiguration";
    match configuration {
        Some(Ok(config)) => quotas.function_config = Some(config),
        Some(Err(Failure::Reason(reason) | Failure::Code(reason))) => {
            quotas.not_read.push(NotRead {
                action: CONFIGURATION.into(),
                reason,
            })
        }
        Some(Err(Failure::NoSuchResource)) => {}
        None => {}
    }
}

/// The function's memory, architecture and timeout.
async fn function_configuration(
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
                    action: "lambda:GetFunctionConfiguration".into(),
                },
            })
        }
        Err(e) => Err(of_sdk_error(&e, &[])),
    }
}

/// Runs `call` when its input is there.
async fn optional<I, T, F: std::future::Future<Output = T>>(
    input: Option<I>,
    call: impl FnOnce(I) -> F,
) -> Option<T> {
    match input {
        Some(i) => Some(call(i).await),
        None => None,
    }
}

async fn applied(sq: &servicequotas::Client, key: LimitKey) -> (LimitKey, Read<f64>) {
    let (service, code) = key.quota_code().expect("a key with a quota code");
    let answer = sq
        .get_service_quota()
        .service_code(service)
        .quota_code(code)
        .send()
        .await;
    let read = match answer {
        Ok(out) => out
            .quota()
            .and_then(|q| q.value())
            .ok_or_else(|| Failure::Reason("the answer had no value".into())),
        Err(e) => Err(of_sdk_error(&e, &[])),
    };
    (key, read)
}

async fn aws_default(sq: &servicequotas::Client, key: LimitKey) -> Read<f64> {
    let (service, code) = key.quota_code().expect("a key with a quota code");
    match sq
        .get_aws_default_service_quota()
        .service_code(service)
        .quota_code(code)
        .send()
        .await
    {
        Ok(out) => out
            .quota()
            .and_then(|q| q.value())
            .ok_or_else(|| Failure::Reason("the answer had no value".into())),
        Err(e) => Err(of_sdk_error(&e, &[])),
    }
}

async fn account_settings(lambda: &lambda::Client) -> Read<(f64, Option<f64>)> {
    match lambda.get_account_settings().send().await {
        Ok(out) => out
            .account_limit()
            .map(|l| {
                (
                    f64::from(l.concurrent_executions()),
                    l.unreserved_concurrent_executions().map(f64::from),
                )
            })
            .ok_or_else(|| Failure::Reason("the answer had no AccountLimit".into())),
        Err(e) => Err(of_sdk_error(&e, &[])),
    }
}

async fn reserved_concurrency(lambda: &lambda::Client, function: &str) -> Read<Option<f64>> {
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

async fn provisioned_concurrency(
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

async fn apigw_account(apigw: &apigateway::Client) -> Read<Option<(f64, f64)>> {
    match apigw.get_account().send().await {
        Ok(out) => Ok(out
            .throttle_settings()
            .map(|t| (t.rate_limit(), f64::from(t.burst_limit())))),
        Err(e) => Err(of_sdk_error(&e, &[])),
    }
}

async fn stage_throttle(
    apigw: &apigateway::Client,
    rest_api_id: &str,
    stage: &str,
) -> Read<(Option<f64>, Option<f64>)> {
    match apigw
        .get_stage()
        .rest_api_id(rest_api_id)
        .stage_name(stage)
        .send()
        .await
    {
        Ok(out) => {
            let all = out.method_settings().and_then(|m| m.get("*/*"));
            // API Gateway writes -1 for "no throttle set".
            let set = |v: f64| (v >= 0.0).then_some(v);
            Ok(all.map_or((None, None), |m| {
                (
                    set(m.throttling_rate_limit()),
                    set(f64::from(m.throttling_burst_limit())),
                )
            }))
        }
        Err(e) => Err(of_sdk_error(&e, &[])),
    }
}
