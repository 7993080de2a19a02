//! The names a command aims at on AWS: one type for the flags (`quotas`, `cloudwatch`), the
//! scenario's `[aws]` table, the quota fetch and the CloudWatch read.

use stampede_results::cloudwatch::ApiKind;

/// Region, function, qualifier, API and stage, each as far as it is known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsNames {
    /// `None`: the AWS config chain's (environment, profile, instance metadata).
    pub region: Option<String>,
    /// A Lambda function: a name, partial ARN or ARN.
    pub function: Option<String>,
    /// An alias or version of `function`.
    pub qualifier: Option<String>,
    /// An API Gateway API's id (REST or HTTP API); `[aws] rest_api_id`, `--rest-api-id`.
    pub api_id: Option<String>,
    /// The stage of `api_id`.
    pub stage: Option<String>,
    /// Whether `api_id` is a REST or an HTTP API, when known (`--rest-api-id`,
    /// `--http-api-id`); `None`: asked of API Gateway.
    pub api_kind: Option<ApiKind>,
}

impl AwsNames {
    /// What an AWS URL names: an API Gateway URL (`ID.execute-api.REGION.amazonaws.com/STAGE/…`)
    /// its API, region and stage; a function URL (`ID.lambda-url.REGION.on.aws`) its region.
    pub fn of_url(host: &str, path: &str) -> AwsNames {
        let labels: Vec<&str> = host.split('.').collect();
        match labels.as_slice() {
            [api, "execute-api", region, "amazonaws", "com"] => {
                let stage = path.trim_start_matches('/').split('/').next().unwrap_or("");
                let (api_id, stage) = if stage.is_empty() {
                    (None, None)
                } else {
                    (Some(api.to_string()), Some(stage.to_string()))
                };
                AwsNames {
                    region: Some(region.to_string()),
                    api_id,
                    stage,
                    ..AwsNames::default()
                }
            }
            [_, "lambda-url", region, "on", "aws"] => AwsNames {
                region: Some(region.to_string()),
                ..AwsNames::default()
            },
            _ => AwsNames::default(),
        }
    }

    /// These names, each missing one taken from `other`.
    pub fn or(self, other: AwsNames) -> AwsNames {
        AwsNames {
            region: self.region.or(other.region),
            function: self.function.or(other.function),
            qualifier: self.qualifier.or(other.qualifier),
            api_id: self.api_id.or(other.api_id),
            stage: self.stage.or(other.stage),
            api_kind: self.api_kind.or(other.api_kind),
        }
    }

    /// Nothing named.
    pub fn is_empty(&self) -> bool {
        *self == AwsNames::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_gateway_urls_name_their_api_region_and_stage() {
        let n = AwsNames::of_url("abc123.execute-api.eu-west-1.amazonaws.com", "/prod/orders");
        assert_eq!(n.region.as_deref(), Some("eu-west-1"));
        assert_eq!(n.api_id.as_deref(), Some("abc123"));
        assert_eq!(n.stage.as_deref(), Some("prod"));
        let bare = AwsNames::of_url("abc123.execute-api.eu-west-1.amazonaws.com", "/");
        assert_eq!((bare.api_id, bare.stage), (None, None), "no stage, no API");
        let url = AwsNames::of_url("x.lambda-url.eu-west-1.on.aws", "/");
        assert_eq!(url.region.as_deref(), Some("eu-west-1"));
        assert!(AwsNames::of_url("127.0.0.1", "/prod").is_empty());
    }

    #[test]
    fn given_names_win() {
        let given = AwsNames {
            region: Some("us-east-1".into()),
            ..AwsNames::default()
        };
        let url = AwsNames::of_url("abc.execute-api.eu-west-1.amazonaws.com", "/prod");
        let n = given.or(url);
        assert_eq!(n.region.as_deref(), Some("us-east-1"));
        assert_eq!(n.api_id.as_deref(), Some("abc"));
        assert_eq!(n.stage.as_deref(), Some("prod"));
    }
}
