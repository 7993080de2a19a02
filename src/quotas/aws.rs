//! Reads the quotas with the AWS SDKs: Service Quotas, Lambda and API Gateway.
//!
//! Every call is made at once and bounded in time; what one call cannot read falls back
//! to the next source (DESIGN.md, "Quotas") and is named in `not_read`, never an error.

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
use super::{LimitKey, NotRead, QuotaSource, Quotas};
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
        .map_err(|e| Error::runtime(format!("cannot start the runtime: {e}")))?;
    Ok(runtime.block_on(fetch(query)))
}

/// The SDK configuration, with credentials that resolved and a region.
async fn connect(query: &QuotaQuery) -> std::result::Result<SdkConfig, NotRead> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
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

/// What one call gave: a value, or a failure to name.
type Read<T> = std::result::Result<T, Failure>;

/// Service Quotas answers for one quota: the applied value, then (only when the applied
/// one was never set and nothing better is known) the AWS default.
struct ServiceQuota {
    key: LimitKey,
    applied: Read<f64>,
    default: Option<Read<f64>>,
}

/// Every answer, before deciding which source wins.
struct Readings {
    quotas: Vec<ServiceQuota>,
    /// `AccountLimit.ConcurrentExecutions` and `UnreservedConcurrentExecutions`.
    account_settings: Read<(f64, Option<f64>)>,
    reserved: Option<Read<Option<f64>>>,
    provisioned: Option<Read<Option<f64>>>,
    /// API Gateway `throttleSettings` (rate, burst), when the account has them.
    apigw_account: Read<Option<(f64, f64)>>,
    /// The stage's `*/*` throttle (rate, burst).
    stage: Option<Read<(Option<f64>, Option<f64>)>>,
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

fn api(action: &str) -> QuotaSource {
    QuotaSource::Api {
        action: action.into(),
    }
}

impl Readings {
    fn service_quota(&self, key: LimitKey) -> Option<&ServiceQuota> {
        self.quotas.iter().find(|q| q.key == key)
    }

    /// The quotas whose applied value was never set and that no other call answered.
    fn defaults_wanted(&self) -> Vec<LimitKey> {
        let answered_elsewhere = |key| match key {
            LimitKey::LambdaConcurrentExecutions => self.account_settings.is_ok(),
            LimitKey::ApigwRate | LimitKey::ApigwBurst => {
                matches!(self.apigw_account, Ok(Some(_)))
            }
            _ => false,
        };
        self.quotas
            .iter()
            .filter(|q| q.applied == Err(Failure::NoSuchResource) && !answered_elsewhere(q.key))
            .map(|q| q.key)
            .collect()
    }

    /// Offers every reading in precedence order (the first source wins) and names what
    /// could not be read. Pure, so the precedence is tested without an endpoint.
    fn apply(&self, quotas: &mut Quotas) {
        let mut failures = Failures::default();
        let applied_source = |key: LimitKey| {
            let (service, code) = key.quota_code().expect("a key with a quota code");
            QuotaSource::Applied {
                service: service.into(),
                code: code.into(),
            }
        };
        let default_source = |key: LimitKey| {
            let (service, code) = key.quota_code().expect("a key with a quota code");
            QuotaSource::AwsDefault {
                service: service.into(),
                code: code.into(),
            }
        };
        let offer_applied = |quotas: &mut Quotas, failures: &mut Failures, key: LimitKey| {
            if let Some(q) = self.service_quota(key) {
                match &q.applied {
                    Ok(v) => quotas.offer(key, Some(*v), applied_source(key)),
                    Err(f) => failures.add("servicequotas:GetServiceQuota", f, Some(key)),
                }
            }
        };
        let offer_default = |quotas: &mut Quotas, failures: &mut Failures, key: LimitKey| match self
            .service_quota(key)
            .and_then(|q| q.default.as_ref())
        {
            Some(Ok(v)) => quotas.offer(key, Some(*v), default_source(key)),
            Some(Err(f)) => failures.add("servicequotas:GetAWSDefaultServiceQuota", f, Some(key)),
            None => {}
        };

        // Lambda concurrent executions: applied, GetAccountSettings, AWS default.
        let account_key = LimitKey::LambdaConcurrentExecutions;
        offer_applied(quotas, &mut failures, account_key);
        const SETTINGS: &str = "lambda:GetAccountSettings";
        match &self.account_settings {
            Ok((total, unreserved)) => {
                quotas.offer(account_key, Some(*total), api(SETTINGS));
                if let Some(u) = unreserved {
                    quotas.offer(
                        LimitKey::LambdaUnreservedConcurrency,
                        Some(*u),
                        api(SETTINGS),
                    );
                }
                disagreement_note(quotas, *total);
            }
            Err(f) => failures.add(SETTINGS, f, None),
        }
        offer_default(quotas, &mut failures, account_key);

        const RESERVED: &str = "lambda:GetFunctionConcurrency";
        match &self.reserved {
            Some(Ok(v)) => quotas.offer(LimitKey::FunctionReservedConcurrency, *v, api(RESERVED)),
            Some(Err(f)) => failures.add(RESERVED, f, None),
            None => {}
        }
        const PROVISIONED: &str = "lambda:GetProvisionedConcurrencyConfig";
        match &self.provisioned {
            Some(Ok(v)) => quotas.offer(
                LimitKey::FunctionProvisionedConcurrency,
                *v,
                api(PROVISIONED),
            ),
            Some(Err(f)) => failures.add(PROVISIONED, f, None),
            None => {}
        }

        // API Gateway account throttle: GetAccount is authoritative, then Service Quotas.
        const ACCOUNT: &str = "apigateway:GetAccount";
        match &self.apigw_account {
            Ok(Some((rate, burst))) => {
                quotas.offer(LimitKey::ApigwRate, Some(*rate), api(ACCOUNT));
                quotas.offer(LimitKey::ApigwBurst, Some(*burst), api(ACCOUNT));
            }
            Ok(None) => {}
            Err(f) => failures.add(ACCOUNT, f, None),
        }
        for key in [LimitKey::ApigwRate, LimitKey::ApigwBurst] {
            offer_applied(quotas, &mut failures, key);
            offer_default(quotas, &mut failures, key);
        }

        const STAGE: &str = "apigateway:GetStage";
        match &self.stage {
            Some(Ok((rate, burst))) => {
                quotas.offer(LimitKey::StageRate, *rate, api(STAGE));
                quotas.offer(LimitKey::StageBurst, *burst, api(STAGE));
            }
            Some(Err(f)) => failures.add(STAGE, f, None),
            None => {}
        }

        let timeout_key = LimitKey::RestIntegrationTimeoutMs;
        offer_applied(quotas, &mut failures, timeout_key);
        offer_default(quotas, &mut failures, timeout_key);

        quotas.not_read.extend(failures.into_not_read());
    }
}

/// When Service Quotas' applied value won but GetAccountSettings says otherwise, the
/// account is mid-change (or one API lags): keep both on record.
fn disagreement_note(quotas: &mut Quotas, from_settings: f64) {
    let key = LimitKey::LambdaConcurrentExecutions;
    if let Some(q) = quotas.quotas.iter_mut().find(|q| q.key == key) {
        if matches!(q.source, QuotaSource::Applied { .. }) && q.value != Some(from_settings) {
            q.note = Some(format!(
                "lambda:GetAccountSettings says {from_settings}; the applied quota is used"
            ));
        }
    }
}

/// Failed calls, one entry per action and reason, naming the quotas it concerned.
#[derive(Default)]
struct Failures(Vec<(String, String, Vec<String>)>);

impl Failures {
    fn add(&mut self, action: &str, failure: &Failure, key: Option<LimitKey>) {
        let reason = match failure {
            Failure::Reason(r) => r.clone(),
            // "Never changed" is an answer, unless it came where no default exists.
            Failure::NoSuchResource => return,
            Failure::Code(c) => c.clone(),
        };
        let subject = key
            .and_then(LimitKey::quota_code)
            .map(|(service, code)| format!("{service} {code}"));
        match self
            .0
            .iter_mut()
            .find(|(a, r, _)| a == action && *r == reason)
        {
            Some((_, _, subjects)) => subjects.extend(subject),
            None => self
                .0
                .push((action.to_string(), reason, subject.into_iter().collect())),
        }
    }

    fn into_not_read(self) -> Vec<NotRead> {
        self.0
            .into_iter()
            .map(|(action, reason, subjects)| NotRead {
                action,
                reason: if subjects.is_empty() {
                    reason
                } else {
                    format!("{reason} ({})", subjects.join(", "))
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings() -> Readings {
        Readings {
            quotas: [
                LimitKey::LambdaConcurrentExecutions,
                LimitKey::ApigwRate,
                LimitKey::ApigwBurst,
                LimitKey::RestIntegrationTimeoutMs,
            ]
            .into_iter()
            .map(|key| ServiceQuota {
                key,
                applied: Err(Failure::NoSuchResource),
                default: None,
            })
            .collect(),
            account_settings: Ok((1000.0, Some(900.0))),
            reserved: None,
            provisioned: None,
            apigw_account: Ok(Some((10_000.0, 5_000.0))),
            stage: None,
        }
    }

    fn denied() -> Failure {
        Failure::Reason("access denied".into())
    }

    #[test]
    fn applied_wins_over_account_settings_and_a_disagreement_is_noted() {
        let mut r = readings();
        r.quotas[0].applied = Ok(3000.0);
        let mut q = Quotas::default();
        r.apply(&mut q);
        let account = q.quota(LimitKey::LambdaConcurrentExecutions).unwrap();
        assert_eq!(account.value, Some(3000.0));
        assert!(matches!(account.source, QuotaSource::Applied { .. }));
        assert!(account.note.as_deref().unwrap().contains("1000"));
        assert_eq!(q.get(LimitKey::LambdaUnreservedConcurrency), Some(900.0));
        assert!(q.not_read.is_empty(), "{:?}", q.not_read);
    }

    #[test]
    fn defaults_are_asked_only_when_nothing_better_answered() {
        let mut r = readings();
        assert_eq!(r.defaults_wanted(), [LimitKey::RestIntegrationTimeoutMs]);
        r.account_settings = Err(denied());
        r.apigw_account = Err(denied());
        assert_eq!(r.defaults_wanted().len(), 4);
        r.quotas[0].default = Some(Ok(1000.0));
        r.quotas[1].default = Some(Err(denied()));
        r.quotas[2].default = Some(Err(denied()));
        let mut q = Quotas::default();
        r.apply(&mut q);
        assert!(matches!(
            q.quota(LimitKey::LambdaConcurrentExecutions)
                .unwrap()
                .source,
            QuotaSource::AwsDefault { .. }
        ));
        assert_eq!(q.get(LimitKey::ApigwRate), None);
        let actions: Vec<(&str, &str)> = q
            .not_read
            .iter()
            .map(|n| (n.action.as_str(), n.reason.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("lambda:GetAccountSettings", "access denied"),
                ("apigateway:GetAccount", "access denied"),
                (
                    "servicequotas:GetAWSDefaultServiceQuota",
                    "access denied (apigateway L-8A5B8E43, apigateway L-CDF5615A)"
                ),
            ]
        );
    }

    #[test]
    fn none_set_is_a_reading_not_a_gap() {
        let mut r = readings();
        r.reserved = Some(Ok(None));
        r.stage = Some(Ok((Some(400.0), None)));
        let mut q = Quotas::default();
        r.apply(&mut q);
        let reserved = q.quota(LimitKey::FunctionReservedConcurrency).unwrap();
        assert_eq!(reserved.value, None);
        assert!(reserved.source.is_known());
        assert_eq!(q.get(LimitKey::StageRate), Some(400.0));
        assert!(q.quota(LimitKey::FunctionProvisionedConcurrency).is_none());
    }
}
