//! The AWS plumbing of a command, in one place: the SDK configuration — the credential
//! chain, region, endpoint override, timeouts and retries — loaded once; the one small
//! runtime every SDK call runs on; and the names a command aims at ([`AwsNames`]).
//!
//! A process runs one command, so the context is one per process ([`Aws::shared`]), built
//! on first use: a command that never calls AWS reads no credentials. Commands pass it
//! down to what calls AWS (the quota fetch, the CloudWatch read, SigV4's credentials); the
//! results store's S3 calls, made from a watcher thread too, reach the same one.
//!
//! Secrets never leave it: errors name providers and files, never a key.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use tokio::sync::OnceCell;

use crate::error::{Error, Result};

mod auth;

pub use auth::{sigv4_auth, target_auth};
pub use stampede_scenario::AwsNames;

/// Where the SDK calls of a command go, and with which identity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Endpoint {
    /// AWS itself, or what `AWS_ENDPOINT_URL` names, as the AWS CLI reads it.
    #[default]
    Aws,
    /// A local AWS stand-in (`--endpoint-url`, `[aws] endpoint_url`), with the chain's
    /// credentials.
    Url(String),
    /// The built-in emulator: fixed placeholder credentials (it checks no signature), so
    /// the user's own never go near it, and us-east-1 unless a region is named.
    Emulator(String),
}

impl Endpoint {
    /// `--endpoint-url` / `[aws] endpoint_url`: an empty one is none.
    pub fn given(url: Option<&str>) -> Endpoint {
        match url.filter(|u| !u.is_empty()) {
            Some(u) => Endpoint::Url(u.to_string()),
            None => Endpoint::Aws,
        }
    }

    fn url(&self) -> Option<&str> {
        match self {
            Endpoint::Aws => None,
            Endpoint::Url(u) | Endpoint::Emulator(u) => Some(u),
        }
    }
}

/// How long the calls of a kind may take, and how often they are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calls {
    /// Read before or after a run (quotas, CloudWatch): a slow or absent API must not hold
    /// it up for long. Two attempts, 3 s each, 6 s in all.
    Quick,
    /// The results store (S3): a shard's file may be large and the store far away.
    Store,
}

impl Calls {
    fn timeouts(self) -> TimeoutConfig {
        match self {
            Calls::Quick => TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(6))
                .build(),
            Calls::Store => TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        }
    }

    fn retries(self) -> RetryConfig {
        match self {
            Calls::Quick => RetryConfig::standard().with_max_attempts(2),
            Calls::Store => RetryConfig::standard(),
        }
    }
}

/// Why no call could be made: every one would fail the same way, so it is said once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    /// "region" or "credentials".
    pub what: &'static str,
    pub reason: String,
}

/// The credential chain is given this long to answer.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);

/// A command's AWS context: the runtime, and the SDK configuration loaded once.
pub struct Aws {
    runtime: tokio::runtime::Runtime,
    /// The chain's configuration, and whether it was loaded for a region named up front
    /// (then the chain's own region was never looked up).
    chain: OnceCell<(SdkConfig, bool)>,
    /// Whether the chain gave credentials: asked once.
    credentials: OnceCell<std::result::Result<(), String>>,
}

impl Aws {
    /// A context of its own (the process's is [`Aws::shared`]).
    pub fn new() -> Result<Aws> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::internal(format!("cannot start the AWS calls' runtime: {e}")))?;
        Ok(Aws {
            runtime,
            chain: OnceCell::new(),
            credentials: OnceCell::new(),
        })
    }

    /// The process's context: one command, one context.
    pub fn shared() -> Result<&'static Aws> {
        static SHARED: OnceLock<std::result::Result<Aws, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| Aws::new().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|why| Error::internal(why.clone()))
    }

    /// Runs SDK calls to their end, from synchronous code (never from inside a runtime).
    /// Several threads may wait on it at once (the store's watcher and the command).
    pub fn block_on<F: Future>(&self, calls: F) -> F::Output {
        self.runtime.block_on(calls)
    }

    /// The configuration for `calls` to `at` in `region` (`None`: the chain's), with
    /// credentials that resolved and a region; or why every call would fail.
    pub async fn config(
        &self,
        region: Option<&str>,
        at: &Endpoint,
        calls: Calls,
    ) -> std::result::Result<SdkConfig, Unavailable> {
        let config = self.unchecked(region, at, calls).await;
        if config.region().is_none() {
            return Err(Unavailable {
                what: "region",
                reason: "no region: pass --region or set AWS_REGION".into(),
            });
        }
        if !matches!(at, Endpoint::Emulator(_)) {
            self.check_credentials()
                .await
                .map_err(|detail| Unavailable {
                    what: "credentials",
                    reason: format!("no credentials ({detail})"),
                })?;
        }
        Ok(config)
    }

    /// The configuration for `calls` to `at` in `region`, its credentials not asked for:
    /// the store's calls say what failed themselves.
    pub async fn unchecked(&self, region: Option<&str>, at: &Endpoint, calls: Calls) -> SdkConfig {
        let (base, region) = match at {
            Endpoint::Emulator(_) => (
                placeholder_config().await,
                Some(Region::new(region.unwrap_or("us-east-1").to_string())),
            ),
            _ => {
                let (base, hinted) = self.chain(region).await;
                let region = match region {
                    Some(r) => Some(Region::new(r.to_string())),
                    None if *hinted => chain_region().await.or(base.region().cloned()),
                    None => base.region().cloned(),
                };
                (base.clone(), region)
            }
        };
        let mut config = base.to_builder();
        config
            .set_region(region)
            .set_timeout_config(Some(calls.timeouts()))
            .set_retry_config(Some(calls.retries()));
        if let Some(url) = at.url() {
            config.set_endpoint_url(Some(url.to_string()));
        }
        config.build()
    }

    /// SigV4's credentials and region for a target: the chain's credentials, resolved now
    /// so a missing or denied identity fails before any traffic.
    pub async fn signing(
        &self,
        region: Option<&str>,
    ) -> std::result::Result<(SharedCredentialsProvider, String), String> {
        let (base, hinted) = self.chain(region).await;
        let region = match region {
            Some(r) => Some(r.to_string()),
            None if *hinted => chain_region().await.map(|r| r.to_string()),
            None => base.region().map(|r| r.to_string()),
        }
        .ok_or("no region: set [target.auth] region, AWS_REGION or a profile's region")?;
        let provider = base
            .credentials_provider()
            .ok_or("no AWS credentials provider could be built")?;
        Ok((provider, region))
    }

    /// The chain's configuration, loaded on first use. A region known already is not
    /// looked up (the chain would end at instance metadata, seconds away off EC2).
    async fn chain(&self, region: Option<&str>) -> &(SdkConfig, bool) {
        self.chain
            .get_or_init(|| async {
                let mut loader =
                    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
                if let Some(r) = region {
                    loader = loader.region(Region::new(r.to_string()));
                }
                (loader.load().await, region.is_some())
            })
            .await
    }

    async fn check_credentials(&self) -> std::result::Result<(), String> {
        self.credentials
            .get_or_init(|| async {
                let (base, _) = self.chain(None).await;
                let provider = base
                    .credentials_provider()
                    .ok_or_else(|| "no credentials provider".to_string())?;
                match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials())
                    .await
                {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(credentials_detail(&e)),
                    Err(_) => Err(format!(
                        "the chain gave none within {} s",
                        CREDENTIALS_TIMEOUT.as_secs()
                    )),
                }
            })
            .await
            .clone()
    }
}

/// The region the environment or the profile names, when the chain was loaded for
/// another one.
async fn chain_region() -> Option<Region> {
    use aws_config::meta::region::RegionProviderChain;
    RegionProviderChain::first_try(
        aws_config::environment::EnvironmentVariableRegionProvider::new(),
    )
    .or_else(aws_config::profile::ProfileFileRegionProvider::new())
    .region()
    .await
}

/// The emulator's configuration: placeholder credentials, nothing read from the chain.
async fn placeholder_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .credentials_provider(Credentials::new(
            "stampede-emulator",
            "not-a-secret",
            None,
            None,
            "stampede-emulator",
        ))
        .region(Region::new("us-east-1"))
        .load()
        .await
}

/// One line on why the chain gave no credentials. Its errors name providers and files,
/// never a secret; the full chain (every provider tried) is for -v.
fn credentials_detail(e: &aws_credential_types::provider::error::CredentialsError) -> String {
    use aws_credential_types::provider::error::CredentialsError;
    let full = aws_smithy_types::error::display::DisplayErrorContext(e).to_string();
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

/// The HTTPS client for AWS API calls (quotas, CloudWatch, S3, credentials from SSO or
/// instance metadata): rustls with ring and the system's trusted roots — the SDKs'
/// default, without a second crypto library beside the load path's.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulator_gets_placeholder_credentials_and_a_region() {
        let aws = Aws::new().unwrap();
        let at = Endpoint::Emulator("http://127.0.0.1:9".into());
        let config = aws.block_on(aws.config(None, &at, Calls::Quick)).unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:9"));
        let credentials = aws
            .block_on(config.credentials_provider().unwrap().provide_credentials())
            .unwrap();
        assert_eq!(credentials.access_key_id(), "stampede-emulator");
        assert!(aws.chain.get().is_none(), "the chain was never read");
    }

    #[test]
    fn one_chain_serves_calls_of_every_kind_each_with_its_region_endpoint_and_timeouts() {
        let aws = Aws::new().unwrap();
        let stand_in = Endpoint::Url("http://127.0.0.1:9".into());
        let quick = aws.block_on(aws.unchecked(Some("eu-west-1"), &stand_in, Calls::Quick));
        let store = aws.block_on(aws.unchecked(Some("us-east-2"), &Endpoint::Aws, Calls::Store));
        assert!(aws.chain.get().is_some_and(|(_, hinted)| *hinted));
        assert_eq!(quick.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(store.region().map(|r| r.as_ref()), Some("us-east-2"));
        assert_eq!(quick.endpoint_url(), Some("http://127.0.0.1:9"));
        let timeout = |c: &SdkConfig| c.timeout_config().and_then(|t| t.operation_timeout());
        assert_eq!(timeout(&quick), Some(Duration::from_secs(6)));
        assert_eq!(timeout(&store), Some(Duration::from_secs(60)));
        let attempts = |c: &SdkConfig| c.retry_config().map(|r| r.max_attempts());
        assert_eq!((attempts(&quick), attempts(&store)), (Some(2), Some(3)));
    }

    #[test]
    fn an_empty_endpoint_is_none() {
        assert_eq!(Endpoint::given(Some("")), Endpoint::Aws);
        assert_eq!(
            Endpoint::given(Some("http://127.0.0.1:5000")),
            Endpoint::Url("http://127.0.0.1:5000".into())
        );
    }
}
