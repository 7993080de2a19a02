//! Where `plan` and `run` get the limits they check — the one rule for which source
//! wins: `--quotas` > `[aws] quotas_file` > the in-process emulator's control plane > AWS
//! (with `[aws]`, or an AWS endpoint as the target) > AWS's documented defaults. Within AWS,
//! which API's answer wins is `precedence`'s.

use std::path::PathBuf;

use super::{aws::QuotaQuery, ApiKind, Front, LimitKey, QuotaSource, Quotas};
use crate::error::Result;
use crate::scenario::{AwsContext, Scenario};
use stampede_emulator::{ApiMode, EmulatorConfig};

/// The quotas a scenario is checked against, what stands in front of its function, and
/// the names the next steps quote.
pub struct Limits {
    pub quotas: Quotas,
    pub front: Front,
    pub aws: AwsContext,
    /// A REST or an HTTP API, when known (the in-process emulator's `api`).
    pub api: Option<ApiKind>,
}

/// Picks the source: `--quotas` > `[aws] quotas_file` > the emulator's control plane
/// (`emulator_url`: it is running) > AWS (with `[aws]`, or an AWS endpoint as the target)
/// > documented defaults.
pub fn resolve(
    scenario: &Scenario,
    quotas_flag: Option<&PathBuf>,
    emulator_url: Option<String>,
) -> Result<Limits> {
    let in_process = emulator_url.is_some();
    let host = scenario.target.url.host().unwrap_or("").to_string();
    let mut aws = scenario.aws.clone().unwrap_or_default();
    infer_from_url(&host, scenario.target.url.path(), &mut aws);
    let front = match (&scenario.emulator, in_process) {
        _ if scenario.target.lambda.is_some() => Front::LambdaInvoke,
        (Some(e), true) => match e.api {
            ApiMode::FunctionUrl => Front::FunctionUrl,
            _ => Front::ApiGateway,
        },
        _ => Front::from_host(&host),
    };
    let file = quotas_flag.cloned().or_else(|| aws.quotas_file.clone());
    let quotas = if let Some(path) = file {
        super::file::load(&path)?
    } else if let (Some(url), Some(config)) = (emulator_url, &scenario.emulator) {
        let mut q = super::aws::fetch_blocking(&emulator_query(url, config))?;
        q.origin = "emulator".into();
        // No API gives the scaling rate: the emulator's own setting stands in for AWS's.
        let per_10s =
            config.scaling_environments as f64 * 10.0 / config.scaling_per.as_secs_f64().max(1e-3);
        q.replace_documented(LimitKey::LambdaScalingRate, per_10s, QuotaSource::Emulator);
        match &scenario.target.lambda {
            // Invoked directly: that function and qualifier, no API in front.
            Some(l) => {
                aws.function = Some(l.function.name().to_string());
                aws.qualifier = l.function.qualifier.clone();
            }
            None => {
                aws.function = Some(config.function.clone());
                aws.qualifier = Some(config.qualifier.clone());
                aws.rest_api_id = Some(config.rest_api_id.clone());
                aws.stage = Some(config.stage.clone());
            }
        }
        q
    } else if scenario.aws.is_some() || front != Front::Unknown {
        super::aws::fetch_blocking(&QuotaQuery {
            region: aws.region.clone(),
            function: aws.function.clone(),
            qualifier: aws.qualifier.clone(),
            rest_api_id: aws.rest_api_id.clone(),
            stage: aws.stage.clone(),
            endpoint_url: aws.endpoint_url.clone(),
            placeholder_credentials: false,
        })?
    } else {
        Quotas::documented()
    };
    let api = match (&scenario.emulator, in_process) {
        (Some(e), true) if scenario.target.lambda.is_none() => match e.api {
            ApiMode::Rest => Some(ApiKind::Rest),
            ApiMode::Http => Some(ApiKind::Http),
            ApiMode::FunctionUrl => None,
        },
        _ => None,
    };
    Ok(Limits {
        quotas,
        front,
        aws,
        api,
    })
}

fn emulator_query(url: String, c: &EmulatorConfig) -> QuotaQuery {
    QuotaQuery {
        region: Some(c.region.clone()),
        function: Some(c.function.clone()),
        qualifier: Some(c.qualifier.clone()),
        rest_api_id: Some(c.rest_api_id.clone()),
        stage: Some(c.stage.clone()),
        endpoint_url: Some(url),
        placeholder_credentials: true,
    }
}

/// An API Gateway URL names its API, region and stage; a function URL its region.
fn infer_from_url(host: &str, path: &str, aws: &mut AwsContext) {
    let labels: Vec<&str> = host.split('.').collect();
    match labels.as_slice() {
        [api, "execute-api", region, "amazonaws", "com"] => {
            aws.region.get_or_insert_with(|| region.to_string());
            if aws.rest_api_id.is_none() {
                let stage = path.trim_start_matches('/').split('/').next().unwrap_or("");
                if !stage.is_empty() {
                    aws.rest_api_id = Some(api.to_string());
                    aws.stage = Some(stage.to_string());
                }
            }
        }
        [_, "lambda-url", region, "on", "aws"] => {
            aws.region.get_or_insert_with(|| region.to_string());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_gateway_urls_name_their_api_region_and_stage() {
        let mut aws = AwsContext::default();
        infer_from_url(
            "abc123.execute-api.eu-west-1.amazonaws.com",
            "/prod/orders",
            &mut aws,
        );
        assert_eq!(aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(aws.rest_api_id.as_deref(), Some("abc123"));
        assert_eq!(aws.stage.as_deref(), Some("prod"));
        let mut given = AwsContext {
            region: Some("us-east-1".into()),
            ..AwsContext::default()
        };
        infer_from_url("x.lambda-url.eu-west-1.on.aws", "/", &mut given);
        assert_eq!(given.region.as_deref(), Some("us-east-1"), "[aws] wins");
        let mut plain = AwsContext::default();
        infer_from_url("127.0.0.1", "/prod", &mut plain);
        assert_eq!(plain, AwsContext::default());
    }
}
