//! Reads the quotas with the AWS SDKs: Service Quotas, Lambda and API Gateway, and the
//! map of the API named, when one is (`routes`).
//!
//! Every call is made at once and bounded in time; what one call cannot read falls back
//! to the next source (README, "The quota check") and is named in `not_read`, never an error.

use aws_config::SdkConfig;
use aws_sdk_apigateway as apigateway;
use aws_sdk_lambda as lambda;
use aws_sdk_servicequotas as servicequotas;

use super::failure::{of_sdk_error, Failure};
use super::function;
use super::precedence::{Read, Readings, ServiceQuota};
use super::routes;
use super::{LimitKey, NotRead, Quotas};
use crate::aws::{Aws, AwsNames, Calls, Endpoint};

/// Reads every quota it can of what `names` names, at `at`; what it cannot read is named
/// in `not_read`, never an error.
pub async fn fetch(aws: &Aws, names: &AwsNames, at: &Endpoint) -> Quotas {
    let mut quotas = Quotas {
        origin: match at {
            Endpoint::Emulator(_) => "emulator",
            _ => "aws",
        }
        .into(),
        function: names.function.clone(),
        region: names.region.clone(),
        ..Quotas::default()
    };
    match aws.config(names.region.as_deref(), at, Calls::Quick).await {
        Ok(config) => {
            quotas.region = config.region().map(|r| r.to_string());
            read(&config, names, &mut quotas).await;
        }
        // Without credentials or a region every call would fail the same way: say it once.
        Err(why) => quotas.not_read.push(NotRead {
            action: why.what.into(),
            reason: why.reason,
        }),
    }
    quotas.fill_documented();
    quotas
}

/// [`fetch`] on the context's runtime, for the synchronous commands.
pub fn fetch_blocking(aws: &Aws, names: &AwsNames, at: &Endpoint) -> Quotas {
    aws.block_on(fetch(aws, names, at))
}

async fn read(config: &SdkConfig, names: &AwsNames, quotas: &mut Quotas) {
    let sq = servicequotas::Client::new(config);
    let lambda = lambda::Client::new(config);
    let apigw = apigateway::Client::new(config);
    let function = names.function.as_deref();
    let (
        lambda_q,
        rate_q,
        burst_q,
        timeout_q,
        account_settings,
        reserved,
        provisioned,
        account,
        mut map,
        configuration,
    ) = tokio::join!(
        applied(&sq, LimitKey::LambdaConcurrentExecutions),
        applied(&sq, LimitKey::ApigwRate),
        applied(&sq, LimitKey::ApigwBurst),
        applied(&sq, LimitKey::RestIntegrationTimeoutMs),
        account_settings(&lambda),
        optional(function, |f| function::reserved_concurrency(&lambda, f)),
        optional(function.zip(names.qualifier.as_deref()), |(f, q)| {
            function::provisioned_concurrency(&lambda, f, q)
        }),
        apigw_account(&apigw),
        // The API's map, its stage throttle among it.
        optional(
            names.api_id.as_deref().zip(names.stage.as_deref()),
            |(api, stage)| routes::read(config, api, stage, names.api_kind)
        ),
        optional(function, |f| function::configuration(
            &lambda,
            f,
            names.qualifier.as_deref()
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
        stage: map.as_mut().and_then(|m| m.stage.take()),
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
    if let Some(map) = map {
        quotas.api = map.api;
        quotas.routes = map.routes;
        quotas.not_read.extend(map.failures.into_not_read());
    }
    match configuration {
        Some(Ok(config)) => quotas.function_config = Some(config),
        Some(Err(Failure::Reason(reason) | Failure::Code(reason))) => {
            quotas.not_read.push(NotRead {
                action: function::CONFIGURATION.into(),
                reason,
            })
        }
        Some(Err(Failure::NoSuchResource)) => {}
        None => {}
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

async fn apigw_account(apigw: &apigateway::Client) -> Read<Option<(f64, f64)>> {
    match apigw.get_account().send().await {
        Ok(out) => Ok(out
            .throttle_settings()
            .map(|t| (t.rate_limit(), f64::from(t.burst_limit())))),
        Err(e) => Err(of_sdk_error(&e, &[])),
    }
}
