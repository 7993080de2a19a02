//! The arguments of the commands about the account and its stand-in: `quotas`,
//! `cloudwatch` and `emulate`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values::{duration, whole_seconds};
use crate::aws::AwsNames;

#[derive(Args, Debug, Clone)]
pub struct QuotasArgs {
    /// AWS region [default: the AWS config chain].
    #[arg(long, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// Lambda function (name or ARN): its reserved concurrency.
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,

    /// Alias or version of --function: its provisioned concurrency.
    #[arg(long, requires = "function", value_name = "ALIAS")]
    pub qualifier: Option<String>,

    /// REST API id: the throttle of --stage.
    #[arg(long, requires = "stage", value_name = "ID")]
    pub rest_api_id: Option<String>,

    /// Stage of --rest-api-id.
    #[arg(long, requires = "rest_api_id", value_name = "STAGE")]
    pub stage: Option<String>,

    /// Send every AWS call here (the emulator, a local AWS stand-in).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Read the numbers from this quotas file (docs/quotas.md) instead of AWS.
    #[arg(long, value_name = "FILE")]
    pub quotas: Option<PathBuf>,

    /// Print the quotas as JSON.
    #[arg(long)]
    pub json: bool,
}

impl QuotasArgs {
    /// The names the flags give (an empty --region is none).
    pub fn names(&self) -> AwsNames {
        AwsNames {
            region: self.region.clone().filter(|r| !r.is_empty()),
            function: self.function.clone(),
            qualifier: self.qualifier.clone(),
            api_id: self.rest_api_id.clone(),
            stage: self.stage.clone(),
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
}
