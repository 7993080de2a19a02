//! Where `plan` and `run` get the limits they check — the one rule for which source
//! wins: `--quotas` > `[aws] quotas_file` > the in-process emulator's control plane > AWS
//! (with `[aws]`, or an AWS endpoint as the target) > AWS's documented defaults. Within AWS,
//! which API's answer wins is `precedence`'s.

use std::path::PathBuf;

use super::{ApiKind, Front, LimitKey, QuotaSource, Quotas};
use crate::aws::{Aws, AwsNames, Endpoint};
use crate::error::Result;
use crate::scenario::{AwsSettings, Scenario};
use stampede_emulator::{ApiMode, EmulatorConfig};

/// The quotas a scenario is checked against, what stands in front of its function, and
/// the names the next steps quote.
pub struct Limits {
    pub quotas: Quotas,
    pub front: Front,
    pub aws: AwsSettings,
    /// A REST or an HTTP API, when known (the in-process emulator's `api`).
    pub api: Option<ApiKind>,
}

/// Picks the source: `--quotas` > `[aws] quotas_file` > the emulator's control plane
/// (`emulator_url`: it is running) > AWS (with `[aws]`, or an AWS endpoint as the target)
/// > documented defaults. `aws` is the command's AWS context.
pub fn resolve(
    aws_context: &Aws,
    scenario: &Scenario,
    quotas_flag: Option<&PathBuf>,
    emulator_url: Option<String>,
) -> Result<Limits> {
    let in_process = emulator_url.is_some();
    let host = scenario.target.url.host().unwrap_or("").to_string();
    let mut aws = scenario.aws.clone().unwrap_or_default();
    // An API Gateway URL names its API, region and stage; a function URL its region.
    aws.names =
        std::mem::take(&mut aws.names).or(AwsNames::of_url(&host, scenario.target.url.path()));
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
        let mut q = super::aws::fetch_blocking(
            aws_context,
            &emulator_names(config),
            &Endpoint::Emulator(url),
        );
        q.origin = "emulator".into();
        // No API gives the scaling rate: the emulator's own setting stands in for AWS's.
        let per_10s =
            config.scaling_environments as f64 * 10.0 / config.scaling_per.as_secs_f64().max(1e-3);
        q.replace_documented(LimitKey::LambdaScalingRate, per_10s, QuotaSource::Emulator);
        match &scenario.target.lambda {
            // Invoked directly: that function and qualifier, no API in front.
            Some(l) => {
                aws.names.function = Some(l.function.name().to_string());
                aws.names.qualifier = l.function.qualifier.clone();
            }
            None => {
                let emulated = emulator_names(config);
                aws.names = AwsNames {
                    region: aws.names.region.take(),
                    ..emulated
                };
            }
        }
        q
    } else if scenario.aws.is_some() || front != Front::Unknown {
        super::aws::fetch_blocking(
            aws_context,
            &aws.names,
            &Endpoint::given(aws.endpoint_url.as_deref()),
        )
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

/// What the emulator's control plane is asked about: its own function, API and stage.
/// A function URL has no API in front, so none is named; an API with routes has a function
/// per route (its map names them), so no one function is.
fn emulator_names(c: &EmulatorConfig) -> AwsNames {
    let api = c.api != ApiMode::FunctionUrl;
    let one_function = c.routes.is_empty();
    AwsNames {
        region: Some(c.region.clone()),
        function: one_function.then(|| c.function.clone()),
        qualifier: one_function.then(|| c.qualifier.clone()),
        api_id: api.then(|| c.rest_api_id.clone()),
        stage: api.then(|| c.stage.clone()),
        api_kind: match c.api {
            ApiMode::Http => Some(ApiKind::Http),
            ApiMode::Rest => Some(ApiKind::Rest),
            ApiMode::FunctionUrl => None,
        },
    }
}
