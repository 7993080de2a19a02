//! `[aws]`: which account, function and API the quota check and CloudWatch look at, from
//! where (an endpoint, a quotas file), and what the function's invocations cost.

use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::schema::{self, WholeNumber};
use crate::error::Result;
use crate::located::Source;
use crate::names::AwsNames;
use stampede_lambda::cost::{Architecture, Prices, ARCHITECTURES};

/// `[aws]`: what the quota check reads, and from where.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Aws")]
pub(super) struct RawAws {
    /// The region quotas are read in (default: the target's host, else the AWS config chain).
    region: Option<String>,
    /// The function (name or ARN) whose reserved concurrency is read.
    function: Option<String>,
    /// An alias or version of function, for its provisioned concurrency.
    qualifier: Option<String>,
    /// With stage: the REST API whose stage throttle is read (default: from an execute-api host).
    rest_api_id: Option<String>,
    /// The stage of rest_api_id (default: the first path segment of an execute-api URL).
    stage: Option<String>,
    /// Send every AWS call here: a local AWS stand-in (http:// or https://).
    #[schemars(with = "Option<String>", extend("pattern" = "^https?://"))]
    endpoint_url: Option<Spanned<String>>,
    /// Read the limits from this quotas file instead, relative to the scenario file.
    #[schemars(with = "Option<String>")]
    quotas_file: Option<Spanned<String>>,
    /// The function's architecture, for its price (default: read with
    /// GetFunctionConfiguration, else "x86_64").
    #[schemars(with = "Option<String>", extend("enum" = ARCHITECTURES))]
    architecture: Option<Spanned<String>>,
    /// The function's memory in MB, for its price (default: read with GetFunctionConfiguration).
    #[schemars(with = "Option<WholeNumber>")]
    memory: Option<Spanned<Value>>,
    /// What one invocation is expected to take, for `plan`'s cost estimate (default: the
    /// emulator's handler time, else "100ms").
    #[schemars(with = "Option<schema::Duration>")]
    expected_duration: Option<Spanned<Value>>,
    /// Lambda's prices in US dollars (default: us-east-1's published on-demand prices).
    prices: Option<RawPrices>,
}

/// `[aws.prices]`: any of them; the others keep their defaults.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Prices")]
pub(super) struct RawPrices {
    /// Per million requests (default 0.20).
    per_million_requests: Option<f64>,
    /// Per GB-second on x86_64 (default 0.0000166667).
    per_gb_second_x86_64: Option<f64>,
    /// Per GB-second on arm64 (default 0.0000133334).
    per_gb_second_arm64: Option<f64>,
    /// Provisioned concurrency per GB-second kept configured, x86_64 (default 0.0000041667).
    per_gb_second_provisioned_x86_64: Option<f64>,
    /// Provisioned concurrency per GB-second kept configured, arm64 (default 0.0000033334).
    per_gb_second_provisioned_arm64: Option<f64>,
}

/// The `[aws]` table: what the quota check and CloudWatch read, and from where.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AwsSettings {
    /// Region, function, qualifier, API (`rest_api_id`) and stage.
    pub names: AwsNames,
    /// Every AWS client's endpoint (a local AWS stand-in).
    pub endpoint_url: Option<String>,
    /// Quotas from this file instead of AWS; relative to the scenario file.
    pub quotas_file: Option<PathBuf>,
    /// The function's architecture and memory, when the scenario says (else read from AWS).
    pub architecture: Option<Architecture>,
    pub memory_mb: Option<u64>,
    pub expected_duration: Option<Duration>,
    pub prices: Prices,
}

pub(super) fn aws_settings(src: &Source, r: &Spanned<RawAws>) -> Result<AwsSettings> {
    let raw = r.get_ref();
    if let Some(e) = &raw.endpoint_url {
        if super::parse::parse_url(e.get_ref()).is_err() {
            return Err(src.error(
                e.span(),
                &format!("`{}` is not a URL", e.get_ref()),
                "an http:// or https:// URL, such as \"http://127.0.0.1:5000\"",
            ));
        }
    }
    if raw.qualifier.is_some() && raw.function.is_none() {
        return Err(src.error(
            r.span(),
            "[aws] qualifier without function",
            "function = \"NAME\" beside qualifier (an alias or version of that function)",
        ));
    }
    if raw.rest_api_id.is_some() != raw.stage.is_some() {
        return Err(src.error(
            r.span(),
            "[aws] needs rest_api_id and stage together",
            "both rest_api_id = \"ID\" and stage = \"NAME\" (for the stage's throttling), or neither",
        ));
    }
    let quotas_file = match &raw.quotas_file {
        Some(f) => {
            let dir = src.name.parent().unwrap_or(std::path::Path::new("."));
            let path = dir.join(f.get_ref());
            if !path.is_file() {
                return Err(src.error(
                    f.span(),
                    &format!("quotas_file {}: no such file", path.display()),
                    "a quotas file (docs/quotas.md), relative to the scenario file",
                ));
            }
            Some(path)
        }
        None => None,
    };
    let architecture =
        match &raw.architecture {
            Some(a) => Some(Architecture::parse(a.get_ref()).ok_or_else(|| {
                src.unknown(a.span(), "architecture", a.get_ref(), &ARCHITECTURES)
            })?),
            None => None,
        };
    let memory_mb = match &raw.memory {
        Some(m) => {
            let mb = src.whole_number(m, "memory")?;
            if !(128..=10240).contains(&mb) {
                return Err(src.error(
                    m.span(),
                    &format!("memory {mb} MB is outside Lambda's range"),
                    "a whole number of MB from 128 to 10240",
                ));
            }
            Some(mb)
        }
        None => None,
    };
    let expected_duration = raw
        .expected_duration
        .as_ref()
        .map(|d| src.duration(d, "expected_duration"))
        .transpose()?;
    let mut prices = Prices::default();
    if let Some(p) = &raw.prices {
        for (given, into) in [
            (p.per_million_requests, &mut prices.per_million_requests),
            (p.per_gb_second_x86_64, &mut prices.per_gb_second_x86_64),
            (p.per_gb_second_arm64, &mut prices.per_gb_second_arm64),
            (
                p.per_gb_second_provisioned_x86_64,
                &mut prices.per_gb_second_provisioned_x86_64,
            ),
            (
                p.per_gb_second_provisioned_arm64,
                &mut prices.per_gb_second_provisioned_arm64,
            ),
        ] {
            if let Some(v) = given {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(src.error(
                        r.span(),
                        &format!("[aws.prices]: {v} is not a price"),
                        "a number of US dollars ≥ 0",
                    ));
                }
                *into = v;
            }
        }
    }
    Ok(AwsSettings {
        architecture,
        memory_mb,
        expected_duration,
        prices,
        names: AwsNames {
            region: raw.region.clone(),
            function: raw.function.clone(),
            qualifier: raw.qualifier.clone(),
            api_id: raw.rest_api_id.clone(),
            stage: raw.stage.clone(),
            api_kind: None,
        },
        endpoint_url: raw.endpoint_url.as_ref().map(|e| e.get_ref().clone()),
        quotas_file,
    })
}
