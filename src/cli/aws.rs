//! The arguments of the commands about the account and its stand-in: `quotas`,
//! `cloudwatch` and `emulate`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values::{duration, whole_seconds};
use crate::aws::AwsNames;
use crate::quotas::ApiKind;

/// The API a command reads the map of, and where its calls go: `quotas` and
/// `init --from-api` share them (an API Gateway URL names the rest).
#[derive(Args, Debug, Clone, Default)]
#[command(group(clap::ArgGroup::new("api_id").args(["rest_api_id", "http_api_id"])))]
pub struct ApiFlags {
    /// AWS region [default: the URL's, else the AWS config chain].
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// REST API id: the throttle of --stage and its routes.
    #[arg(long, requires = "stage", value_name = "ID")]
    pub rest_api_id: Option<String>,

    /// HTTP API id: the throttle of --stage and its routes.
    #[arg(long, requires = "stage", value_name = "ID")]
    pub http_api_id: Option<String>,

    /// Stage of --rest-api-id or --http-api-id.
    #[arg(long, requires = "api_id", value_name = "STAGE")]
    pub stage: Option<String>,

    /// Send every AWS call here (the emulator, a local AWS stand-in).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl ApiFlags {
    /// The names the flags give (an empty --region is none), without a URL's.
    pub fn names(&self) -> AwsNames {
        let api_kind = match (&self.rest_api_id, &self.http_api_id) {
            (Some(_), _) => Some(ApiKind::Rest),
            (_, Some(_)) => Some(ApiKind::Http),
            _ => None,
        };
        AwsNames {
            region: self.region.clone().filter(|r| !r.is_empty()),
            api_id: self.rest_api_id.clone().or(self.http_api_id.clone()),
            stage: self.stage.clone(),
            api_kind,
            ..AwsNames::default()
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct QuotasArgs {
    #[command(flatten)]
    pub api: ApiFlags,

    /// Lambda function (name or ARN): its reserved concurrency.
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,

    /// Alias or version of --function: its provisioned concurrency.
    #[arg(long, requires = "function", value_name = "ALIAS")]
    pub qualifier: Option<String>,

    /// An API Gateway URL (https://ID.execute-api.REGION.amazonaws.com/STAGE/…): its API,
    /// stage and region; prints the API's routes, their functions and the limits of each.
    /// Nothing is sent to it.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Read the numbers from this quotas file (docs/quotas.md) instead of AWS.
    #[arg(long, value_name = "FILE")]
    pub quotas: Option<PathBuf>,

    /// Print the quotas as JSON.
    #[arg(long)]
    pub json: bool,
}

impl QuotasArgs {
    /// The names the flags give, without --url's.
    pub fn names(&self) -> AwsNames {
        AwsNames {
            function: self.function.clone(),
            qualifier: self.qualifier.clone(),
            ..self.api.names()
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct CloudWatchArgs {
    /// The results file of a run (or a merge).
    #[arg(value_name = "RESULTS.json")]
    pub results: PathBuf,

    /// AWS region [default: the results file's, else the AWS config chain].
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// Lambda function (name or ARN) [default: the results file's].
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,

    /// Alias or version of the function.
    #[arg(long, value_name = "ALIAS")]
    pub qualifier: Option<String>,

    /// API Gateway API id, REST or HTTP API [default: the results file's, or the URL's].
    #[arg(long, alias = "rest-api-id", value_name = "ID")]
    pub api_id: Option<String>,

    /// Stage of the API.
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<String>,

    /// Send the AWS calls here (the emulator, a local AWS stand-in).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// The length of a period: AWS's Lambda and API Gateway metrics are per minute
    /// [default: the results file's, else 1m].
    #[arg(long, value_name = "DURATION", value_parser = whole_seconds)]
    pub period: Option<u64>,

    /// How long to wait for minutes whose datapoints have not arrived (Ctrl-C or SIGTERM skips).
    #[arg(long, default_value = "3m", value_name = "DURATION", value_parser = duration)]
    pub wait: Duration,

    /// Write the results with `cloudwatch` here [default: back into RESULTS.json].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Print the `cloudwatch` section as JSON instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Print nothing but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

impl CloudWatchArgs {
    /// The names the flags give; the results file's fill the rest.
    pub fn names(&self) -> AwsNames {
        AwsNames {
            region: self.region.clone(),
            function: self.function.clone(),
            qualifier: self.qualifier.clone(),
            api_id: self.api_id.clone(),
            stage: self.stage.clone(),
            api_kind: None,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct EmulateArgs {
    /// Emulator settings (the keys of a scenario's [emulator] table); AWS defaults without it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,

    /// Serve the emulator's own Prometheus metrics (stampede_emulator_*) at
    /// http://ADDR/metrics (docs/live.md).
    #[arg(long, env = "STAMPEDE_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}
