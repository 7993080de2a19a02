//! The limits a run could hit and where each number came from, as the results'
//! `quota_check` holds them (fetching them is the CLI's `quotas` module).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One limit the quota check knows. The snake_case names are the quotas file's keys.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LimitKey {
    /// Lambda concurrent executions, account and region.
    LambdaConcurrentExecutions,
    /// What is left of it for functions without reserved concurrency.
    LambdaUnreservedConcurrency,
    FunctionReservedConcurrency,
    FunctionProvisionedConcurrency,
    /// New execution environments per function per 10 s (documented, no API).
    LambdaScalingRate,
    /// API Gateway account throttle, req/s, and its bucket.
    ApigwRate,
    ApigwBurst,
    /// Stage (or `*/*` method) throttle.
    StageRate,
    StageBurst,
    RestIntegrationTimeoutMs,
    /// A route's own throttle (a REST method's `methodSettings`, an HTTP API's
    /// `RouteSettings`), req/s, and its bucket. Only in a route's `quotas`.
    RouteThrottleRate,
    RouteThrottleBurst,
    /// A usage plan's throttle on the route's method (per API key). Only in a route's `quotas`.
    UsagePlanRate,
    UsagePlanBurst,
}

/// The keys a route's `quotas` hold, beside the function's reserved and provisioned
/// concurrency; not the quotas file's top-level keys.
pub const ROUTE_KEYS: [LimitKey; 4] = [
    LimitKey::RouteThrottleRate,
    LimitKey::RouteThrottleBurst,
    LimitKey::UsagePlanRate,
    LimitKey::UsagePlanBurst,
];

pub const LIMIT_KEYS: [LimitKey; 10] = [
    LimitKey::LambdaConcurrentExecutions,
    LimitKey::LambdaUnreservedConcurrency,
    LimitKey::FunctionReservedConcurrency,
    LimitKey::FunctionProvisionedConcurrency,
    LimitKey::LambdaScalingRate,
    LimitKey::ApigwRate,
    LimitKey::ApigwBurst,
    LimitKey::StageRate,
    LimitKey::StageBurst,
    LimitKey::RestIntegrationTimeoutMs,
];

impl LimitKey {
    /// The quotas file's key (and the results' name).
    pub fn key(self) -> &'static str {
        match self {
            LimitKey::LambdaConcurrentExecutions => "lambda_concurrent_executions",
            LimitKey::LambdaUnreservedConcurrency => "lambda_unreserved_concurrency",
            LimitKey::FunctionReservedConcurrency => "function_reserved_concurrency",
            LimitKey::FunctionProvisionedConcurrency => "function_provisioned_concurrency",
            LimitKey::LambdaScalingRate => "lambda_scaling_rate",
            LimitKey::ApigwRate => "apigw_rate",
            LimitKey::ApigwBurst => "apigw_burst",
            LimitKey::StageRate => "stage_rate",
            LimitKey::StageBurst => "stage_burst",
            LimitKey::RestIntegrationTimeoutMs => "rest_integration_timeout_ms",
            LimitKey::RouteThrottleRate => "route_throttle_rate",
            LimitKey::RouteThrottleBurst => "route_throttle_burst",
            LimitKey::UsagePlanRate => "usage_plan_rate",
            LimitKey::UsagePlanBurst => "usage_plan_burst",
        }
    }

    /// A quotas file's top-level key (the route keys are not among them).
    pub fn from_key(key: &str) -> Option<LimitKey> {
        LIMIT_KEYS.into_iter().find(|k| k.key() == key)
    }

    /// What a person calls it.
    pub fn title(self) -> &'static str {
        match self {
            LimitKey::LambdaConcurrentExecutions => "Lambda concurrent executions (account)",
            LimitKey::LambdaUnreservedConcurrency => "Lambda unreserved concurrency (account)",
            LimitKey::FunctionReservedConcurrency => "function reserved concurrency",
            LimitKey::FunctionProvisionedConcurrency => "function provisioned concurrency",
            LimitKey::LambdaScalingRate => "Lambda scaling rate (per function)",
            LimitKey::ApigwRate => "API Gateway throttle rate (account)",
            LimitKey::ApigwBurst => "API Gateway throttle burst (account)",
            LimitKey::StageRate => "stage throttle rate",
            LimitKey::StageBurst => "stage throttle burst",
            LimitKey::RestIntegrationTimeoutMs => "REST integration timeout",
            LimitKey::RouteThrottleRate => "route throttle rate",
            LimitKey::RouteThrottleBurst => "route throttle burst",
            LimitKey::UsagePlanRate => "usage plan throttle rate",
            LimitKey::UsagePlanBurst => "usage plan throttle burst",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            LimitKey::LambdaScalingRate => "environments / 10 s",
            LimitKey::ApigwRate
            | LimitKey::StageRate
            | LimitKey::RouteThrottleRate
            | LimitKey::UsagePlanRate => "req/s",
            LimitKey::ApigwBurst
            | LimitKey::StageBurst
            | LimitKey::RouteThrottleBurst
            | LimitKey::UsagePlanBurst => "requests",
            LimitKey::RestIntegrationTimeoutMs => "ms",
            _ => "concurrent",
        }
    }

    /// The Service Quotas (service, quota code) that holds it, where there is one.
    pub fn quota_code(self) -> Option<(&'static str, &'static str)> {
        match self {
            LimitKey::LambdaConcurrentExecutions => Some(("lambda", "L-B99A9384")),
            LimitKey::ApigwRate => Some(("apigateway", "L-8A5B8E43")),
            LimitKey::ApigwBurst => Some(("apigateway", "L-CDF5615A")),
            LimitKey::RestIntegrationTimeoutMs => Some(("apigateway", "L-E5AE38E3")),
            _ => None,
        }
    }

    /// AWS's documented value, for the limits that have one everywhere.
    pub fn documented(self) -> Option<f64> {
        match self {
            LimitKey::LambdaConcurrentExecutions => Some(1000.0),
            LimitKey::LambdaScalingRate => Some(1000.0),
            LimitKey::ApigwRate => Some(10_000.0),
            LimitKey::ApigwBurst => Some(5_000.0),
            LimitKey::RestIntegrationTimeoutMs => Some(29_000.0),
            _ => None,
        }
    }
}

/// Where a number came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuotaSource {
    /// Service Quotas `GetServiceQuota`: the account's applied value.
    Applied { service: String, code: String },
    /// `GetAWSDefaultServiceQuota`, after `GetServiceQuota` said NoSuchResourceException.
    AwsDefault { service: String, code: String },
    /// A Lambda or API Gateway call, such as `lambda:GetAccountSettings`.
    Api { action: String },
    /// AWS's documentation; nothing was read from an account.
    Documented,
    /// A quotas file.
    File { path: String },
    /// The built-in emulator's settings, for a number no AWS API gives (its scaling rate).
    Emulator,
}

impl QuotaSource {
    /// One line for the terminal.
    pub fn describe(&self) -> String {
        match self {
            QuotaSource::Applied { service, code } => {
                format!("Service Quotas, applied ({service} {code})")
            }
            QuotaSource::AwsDefault { service, code } => {
                format!("Service Quotas, AWS default ({service} {code}; never changed)")
            }
            QuotaSource::Api { action } => action.clone(),
            QuotaSource::Documented => "documented AWS default (not read)".into(),
            QuotaSource::File { path } => format!("quotas file {path}"),
            QuotaSource::Emulator => "the emulator's settings".into(),
        }
    }

    /// Read from an account (or the emulator's control plane, or a file the user wrote),
    /// rather than assumed.
    pub fn is_known(&self) -> bool {
        !matches!(self, QuotaSource::Documented)
    }
}

/// One limit's value. `value: None` means it was read and nothing is set (a function
/// without reserved concurrency), which is not the same as not knowing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Quota {
    pub key: LimitKey,
    pub value: Option<f64>,
    pub source: QuotaSource,
    /// More about this reading, such as a second source that disagreed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A call that could not be made or answered: denied, no credentials, not supported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotRead {
    /// The IAM action, such as `lambda:GetFunctionConcurrency`.
    pub action: String,
    pub reason: String,
}

/// What stands in front of the function, which decides the limits that apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Front {
    /// A REST or HTTP API: its throttles apply, then Lambda's.
    ApiGateway,
    /// A Lambda function URL: only Lambda's limits.
    FunctionUrl,
    /// The Lambda Invoke API, called directly: only Lambda's limits.
    LambdaInvoke,
    /// Not known (a plain URL): every known limit is checked.
    Unknown,
}

impl Front {
    /// From the target's host: `*.execute-api.*.amazonaws.com`, `*.lambda-url.*.on.aws`,
    /// `lambda.*.amazonaws.com`.
    pub fn from_host(host: &str) -> Front {
        if host.contains(".execute-api.") {
            Front::ApiGateway
        } else if host.contains(".lambda-url.") {
            Front::FunctionUrl
        } else if host.starts_with("lambda.") && host.contains(".amazonaws.com") {
            Front::LambdaInvoke
        } else {
            Front::Unknown
        }
    }

    /// Whether API Gateway's throttles can be what the traffic meets.
    pub fn has_api_gateway(self) -> bool {
        !matches!(self, Front::FunctionUrl | Front::LambdaInvoke)
    }
}

/// Every limit that is known, with its source, and what could not be read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Quotas {
    /// Where the set as a whole came from: "aws", "emulator", "file", "documented".
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    pub quotas: Vec<Quota>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_read: Vec<NotRead>,
    /// The function's memory and architecture (`lambda:GetFunctionConfiguration`), for what
    /// its invocations cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_config: Option<FunctionConfig>,
    /// The API whose routes were read (`stampede quotas --url`, a run against API Gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<crate::routes::ApiMapped>,
    /// One entry per route of that API, with the limits behind it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<crate::routes::RouteLimits>,
}

/// What Lambda says of the function itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionConfig {
    pub memory_mb: u64,
    pub architecture: crate::cost::Architecture,
    /// The function's own timeout, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<u64>,
    pub source: QuotaSource,
}

impl Quotas {
    /// Only AWS's documented numbers: for targets no account or file describes.
    pub fn documented() -> Quotas {
        let mut q = Quotas {
            origin: "documented".into(),
            ..Quotas::default()
        };
        q.fill_documented();
        q
    }

    /// The reading for `key`, if there is one.
    pub fn quota(&self, key: LimitKey) -> Option<&Quota> {
        self.quotas.iter().find(|q| q.key == key)
    }

    /// The number for `key`; `None` when unknown or not set.
    pub fn get(&self, key: LimitKey) -> Option<f64> {
        self.quota(key).and_then(|q| q.value)
    }

    /// Sets `key` unless it already has a reading (the first source wins).
    pub fn offer(&mut self, key: LimitKey, value: Option<f64>, source: QuotaSource) {
        if self.quota(key).is_none() {
            self.quotas.push(Quota {
                key,
                value,
                source,
                note: None,
            });
        }
    }

    /// Puts `value` in place of a documented (assumed) one; a read value stays.
    pub fn replace_documented(&mut self, key: LimitKey, value: f64, source: QuotaSource) {
        match self.quotas.iter_mut().find(|q| q.key == key) {
            Some(q) if q.source == QuotaSource::Documented => {
                q.value = Some(value);
                q.source = source;
            }
            Some(_) => {}
            None => self.offer(key, Some(value), source),
        }
    }

    /// Adds the documented value of every limit that has none yet, then orders the list.
    pub fn fill_documented(&mut self) {
        for key in LIMIT_KEYS {
            if let Some(v) = key.documented() {
                self.offer(key, Some(v), QuotaSource::Documented);
            }
        }
        self.quotas.sort_by_key(|q| q.key);
    }

    /// The concurrency limits that bind the function: its reserved concurrency alone when
    /// set (it draws on nothing else), else the unreserved pool and the account limit — the
    /// pool left out when it is the whole account, so the limit is named as the account's.
    pub fn concurrency_limits(&self) -> Vec<LimitKey> {
        if self.get(LimitKey::FunctionReservedConcurrency).is_some() {
            return vec![LimitKey::FunctionReservedConcurrency];
        }
        let account = self.get(LimitKey::LambdaConcurrentExecutions);
        let unreserved = self.get(LimitKey::LambdaUnreservedConcurrency);
        let whole_pool = matches!((unreserved, account), (Some(u), Some(a)) if u >= a);
        [
            LimitKey::LambdaUnreservedConcurrency,
            LimitKey::LambdaConcurrentExecutions,
        ]
        .into_iter()
        .filter(|k| self.get(*k).is_some())
        .filter(|k| !(whole_pool && *k == LimitKey::LambdaUnreservedConcurrency))
        .collect()
    }

    /// The concurrency the function can reach: the first of [`Quotas::concurrency_limits`].
    pub fn function_ceiling(&self) -> Option<(LimitKey, f64)> {
        self.concurrency_limits()
            .into_iter()
            .find_map(|k| self.get(k).map(|v| (k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_the_first_source_wins() {
        for k in LIMIT_KEYS {
            assert_eq!(LimitKey::from_key(k.key()), Some(k));
        }
        let mut q = Quotas::default();
        q.offer(
            LimitKey::ApigwRate,
            Some(400.0),
            QuotaSource::Api {
                action: "apigateway:GetAccount".into(),
            },
        );
        q.fill_documented();
        assert_eq!(q.get(LimitKey::ApigwRate), Some(400.0));
        assert_eq!(q.get(LimitKey::ApigwBurst), Some(5000.0));
        assert_eq!(q.get(LimitKey::FunctionReservedConcurrency), None);
    }

    #[test]
    fn the_function_ceiling_is_reserved_then_unreserved_then_account() {
        let mut q = Quotas::documented();
        assert_eq!(
            q.function_ceiling(),
            Some((LimitKey::LambdaConcurrentExecutions, 1000.0))
        );
        q.offer(
            LimitKey::FunctionReservedConcurrency,
            Some(50.0),
            QuotaSource::Documented,
        );
        assert_eq!(
            q.function_ceiling(),
            Some((LimitKey::FunctionReservedConcurrency, 50.0))
        );
    }
}
