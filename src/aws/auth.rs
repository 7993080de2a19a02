//! The load path's authentication, resolved on the command's AWS context: the secrets
//! `[target.auth]` names, and SigV4's credentials from the standard chain. The signer
//! itself (`transport::auth`) only signs with what it is handed.

use std::time::SystemTime;

use http::Uri;

use super::Aws;
use crate::error::{Error, Result};
use crate::scenario::{AuthSpec, Target};
use crate::transport::auth::{Auth, CredentialSource};

/// Reads the secrets `[target.auth]` names: from the environment, or for SigV4 from the
/// standard AWS chain. A missing secret is bad input, named but never shown.
pub fn target_auth(aws: &Aws, target: &Target) -> Result<Auth> {
    let resolved = match &target.auth {
        AuthSpec::SigV4 { service, region } => {
            aws.block_on(sigv4_auth(aws, service, region.as_deref(), &target.url))
        }
        spec => Auth::resolve(spec, |name| std::env::var(name).ok()),
    };
    resolved.map_err(|why| {
        Error::input(format!(
            "[target.auth]: {why}\n  expected: the secret in the environment (or, for sigv4, the AWS credential chain)"
        ))
    })
}

/// SigV4 with credentials and region from the standard AWS chain (environment, profile,
/// SSO, process, IMDS), fetched once now so a missing or denied identity fails before any
/// traffic.
pub async fn sigv4_auth(
    aws: &Aws,
    service: &str,
    region: Option<&str>,
    url: &Uri,
) -> std::result::Result<Auth, String> {
    // A region we know already is not looked up (the chain would end at IMDS).
    let named = region.map(str::to_string).or_else(|| region_of(url));
    let (provider, region) = aws.signing(named.as_deref()).await?;
    let credentials = CredentialSource::new(provider);
    credentials.get(SystemTime::now()).await?;
    Ok(Auth::SigV4 {
        service: service.to_string(),
        region,
        credentials,
    })
}

/// The region in an API Gateway or function URL host name, such as
/// `abc.execute-api.eu-west-1.amazonaws.com` or `xyz.lambda-url.us-east-1.on.aws`.
fn region_of(url: &Uri) -> Option<String> {
    let labels: Vec<&str> = url.host()?.split('.').collect();
    let at = labels
        .iter()
        .position(|l| *l == "execute-api" || *l == "lambda-url")?;
    labels.get(at + 1).map(|r| r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_region_is_read_from_api_gateway_and_function_url_hosts() {
        let of = |u: &str| region_of(&u.parse().unwrap());
        assert_eq!(
            of("https://abc.execute-api.eu-west-1.amazonaws.com/prod/x").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            of("https://xyz.lambda-url.us-east-1.on.aws/").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(of("http://127.0.0.1:8080/"), None);
    }
}
