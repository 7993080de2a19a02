//! Request authentication: SigV4 (IAM-authorised API Gateway APIs, Lambda function URLs),
//! an API key or a bearer token. Secrets come from the environment, never the scenario
//! file, and never reach output, logs or results: values are marked sensitive, and the
//! `Debug` forms below print names only.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use tokio::sync::Notify;

use crate::scenario::AuthSpec;

/// Authentication ready to apply: secrets read from the environment.
#[derive(Clone)]
pub enum Auth {
    None,
    Header(HeaderName, HeaderValue),
    SigV4 {
        service: String,
        region: String,
        credentials: CredentialSource,
    },
}

/// Refresh credentials this long before they expire.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);
/// While the current credentials still hold, refresh at most this often (a provider that
/// hands out short-lived ones, or fails, is not asked at every attempt).
const REFRESH_RETRY: Duration = Duration::from_secs(5);

/// Credentials from a provider (the standard AWS chain), kept until shortly before they
/// expire and then fetched again — by one lane at a time, while the others go on signing
/// with the old ones. Each lane reads its own copy without a lock; a shared generation
/// count tells it when another lane has fetched newer ones.
pub struct CredentialSource {
    provider: SharedCredentialsProvider,
    shared: Arc<SharedCredentials>,
    /// This lane's copy and the generation it came from.
    local: RefCell<Option<(u64, Credentials)>>,
}

struct SharedCredentials {
    /// Locked only to publish fresh credentials and to copy them after a refresh.
    current: Mutex<Option<Credentials>>,
    generation: AtomicU64,
    refreshing: AtomicBool,
    refreshed: Notify,
    /// When a refresh was last tried (ms since the epoch; 0: never), and how many failed.
    tried_at_ms: AtomicU64,
    failures: AtomicU64,
}

impl Clone for CredentialSource {
    fn clone(&self) -> Self {
        CredentialSource {
            provider: self.provider.clone(),
            shared: Arc::clone(&self.shared),
            local: RefCell::new(self.local.borrow().clone()),
        }
    }
}

impl CredentialSource {
    pub fn new(provider: SharedCredentialsProvider) -> CredentialSource {
        CredentialSource {
            provider,
            shared: Arc::new(SharedCredentials {
                current: Mutex::new(None),
                generation: AtomicU64::new(0),
                refreshing: AtomicBool::new(false),
                refreshed: Notify::new(),
                tried_at_ms: AtomicU64::new(0),
                failures: AtomicU64::new(0),
            }),
            local: RefCell::new(None),
        }
    }

    /// Fixed credentials (tests, and keys given directly).
    pub fn fixed(credentials: Credentials) -> CredentialSource {
        CredentialSource::new(SharedCredentialsProvider::new(credentials))
    }

    /// Credentials good at `now`: this lane's copy, the newest another lane fetched, or
    /// fresh ones from the provider. An error only when none are valid any more.
    pub async fn get(&self, now: SystemTime) -> Result<Credentials, String> {
        loop {
            let generation = self.shared.generation.load(Acquire);
            let mine = self.local.borrow().clone();
            let current = match mine {
                Some((g, c)) if g == generation => Some(c),
                // Another lane refreshed (or none were fetched yet): take the shared copy.
                _ => {
                    let shared = self
                        .shared
                        .current
                        .lock()
                        .expect("credentials lock")
                        .clone();
                    if let Some(c) = &shared {
                        *self.local.borrow_mut() = Some((generation, c.clone()));
                    }
                    shared
                }
            };
            if let Some(c) = current.as_ref().filter(|c| still_good(c, now)) {
                return Ok(c.clone());
            }
            let valid = current.filter(|c| c.expiry().is_none_or(|e| e > now));
            let tried_at = self.shared.tried_at_ms.load(Relaxed);
            let retry_due =
                tried_at == 0 || epoch_ms(now) >= tried_at + REFRESH_RETRY.as_millis() as u64;
            let failures = self.shared.failures.load(Acquire);
            if let (Some(c), false) = (&valid, retry_due) {
                return Ok(c.clone());
            }
            if self
                .shared
                .refreshing
                .compare_exchange(false, true, AcqRel, Acquire)
                .is_ok()
            {
                return self.refresh(now, valid).await;
            }
            // Another lane is refreshing: sign with what still holds, else wait for it.
            if let Some(c) = valid {
                return Ok(c);
            }
            let notified = self.shared.refreshed.notified();
            if self.shared.refreshing.load(Acquire) {
                notified.await;
            }
            if self.shared.generation.load(Acquire) == generation
                && self.shared.failures.load(Acquire) != failures
            {
                return Err("no AWS credentials: the refresh failed".into());
            }
        }
    }

    /// This lane fetches for everyone; `valid` are the old credentials, if they still hold.
    async fn refresh(
        &self,
        now: SystemTime,
        valid: Option<Credentials>,
    ) -> Result<Credentials, String> {
        self.shared.tried_at_ms.store(epoch_ms(now).max(1), Relaxed);
        let fetched = self.provider.provide_credentials().await;
        let result = match fetched {
            Ok(fresh) => {
                *self.shared.current.lock().expect("credentials lock") = Some(fresh.clone());
                let generation = self.shared.generation.fetch_add(1, AcqRel) + 1;
                *self.local.borrow_mut() = Some((generation, fresh.clone()));
                Ok(fresh)
            }
            Err(e) => {
                let why = crate::transport::error_chain(&e);
                self.shared.failures.fetch_add(1, AcqRel);
                match valid {
                    Some(old) => {
                        tracing::warn!("refreshing AWS credentials failed ({why}); signing with the current ones until they expire");
                        Ok(old)
                    }
                    None => Err(format!("no AWS credentials: {why}")),
                }
            }
        };
        self.shared.refreshing.store(false, Release);
        self.shared.refreshed.notify_waiters();
        result
    }
}

fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn still_good(c: &Credentials, now: SystemTime) -> bool {
    c.expiry()
        .is_none_or(|expiry| expiry > now + REFRESH_BEFORE)
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Header(name, _) => write!(f, "Header({name}: <redacted>)"),
            Auth::SigV4 {
                service, region, ..
            } => write!(f, "SigV4({service}, {region}, <credentials>)"),
        }
    }
}

impl Auth {
    /// SigV4 with fixed placeholder credentials, for the built-in emulator (which checks
    /// no signature): the user's own keys never go near it.
    pub fn placeholder(service: &str, region: &str) -> Auth {
        Auth::SigV4 {
            service: service.to_string(),
            region: region.to_string(),
            credentials: CredentialSource::fixed(Credentials::new(
                "AKIDSTAMPEDEEMULATOR",
                "stampede-emulator-placeholder",
                None,
                None,
                "stampede-emulator",
            )),
        }
    }

    /// Reads the secrets `spec` names from the environment (`env` looks a variable up).
    /// The error names the variable, never a value.
    pub fn resolve(spec: &AuthSpec, env: impl Fn(&str) -> Option<String>) -> Result<Auth, String> {
        let secret = |name: &str| {
            env(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("the environment variable {name} is not set"))
        };
        let sensitive = |v: String| {
            let mut value = HeaderValue::from_str(&v)
                .map_err(|_| "the secret is not a valid header value".to_string())?;
            value.set_sensitive(true);
            Ok::<_, String>(value)
        };
        Ok(match spec {
            AuthSpec::None => Auth::None,
            AuthSpec::ApiKey { header, env } => {
                Auth::Header(header.clone(), sensitive(secret(env)?)?)
            }
            AuthSpec::Bearer { env } => Auth::Header(
                http::header::AUTHORIZATION,
                sensitive(format!("Bearer {}", secret(env)?))?,
            ),
            AuthSpec::SigV4 { .. } => {
                return Err(
                    "SigV4 credentials come from the AWS chain, on the command's AWS context (stampede::aws::sigv4_auth)".into(),
                )
            }
        })
    }

    /// The headers one attempt adds: the static secret, or a fresh signature of this
    /// exact request (its method, URL, headers and body) at `now`.
    pub async fn headers_for(
        &self,
        method: &Method,
        url: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        let (service, region, credentials) = match self {
            Auth::None => return Ok(Vec::new()),
            Auth::Header(name, value) => return Ok(vec![(name.clone(), value.clone())]),
            Auth::SigV4 {
                service,
                region,
                credentials,
            } => (service, region, credentials),
        };
        let identity: Identity = credentials.get(now).await?.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        // Hop-by-hop `Connection` (per-request's `close`) is not signed: a proxy on the way
        // may drop it before the signature is checked.
        let signable_headers = headers
            .iter()
            .filter(|(n, _)| *n != http::header::CONNECTION)
            .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)));
        let signable = SignableRequest::new(
            method.as_str(),
            url.to_string(),
            signable_headers,
            SignableBody::Bytes(body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        let (signed, _) = instructions.into_parts();
        signed
            .into_iter()
            .map(|h| {
                let name =
                    HeaderName::from_bytes(h.name().as_bytes()).map_err(|e| e.to_string())?;
                let mut value = HeaderValue::from_str(h.value()).map_err(|e| e.to_string())?;
                value.set_sensitive(h.sensitive());
                Ok((name, value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// The "get-vanilla" case of AWS's SigV4 test suite.
    #[test]
    fn signs_the_aws_test_suite_vector() {
        let auth = Auth::SigV4 {
            service: "service".into(),
            region: "us-east-1".into(),
            credentials: CredentialSource::fixed(Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                None,
                None,
                "test",
            )),
        };
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        let now = humantime::parse_rfc3339("2015-08-30T12:36:00Z").unwrap();
        let url: Uri = "https://example.amazonaws.com/".parse().unwrap();
        let added = block_on(auth.headers_for(&Method::GET, &url, &headers, b"", now)).unwrap();
        let get = |n: &str| {
            added
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.to_str().unwrap().to_string())
        };
        assert_eq!(get("x-amz-date").as_deref(), Some("20150830T123600Z"));
        assert_eq!(
            get("authorization").as_deref(),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            )
        );
    }

    #[test]
    fn secrets_come_from_the_environment_and_stay_out_of_debug_output() {
        let env = |name: &str| match name {
            "ORDERS_API_KEY" => Some("s3cr3t-key".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("AKIDTEST".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("top-secret".to_string()),
            _ => None,
        };
        let spec = AuthSpec::ApiKey {
            header: HeaderName::from_static("x-api-key"),
            env: "ORDERS_API_KEY".into(),
        };
        let auth = Auth::resolve(&spec, env).unwrap();
        assert!(!format!("{auth:?}").contains("s3cr3t"));
        let missing = AuthSpec::Bearer { env: "NOPE".into() };
        assert_eq!(
            Auth::resolve(&missing, env).unwrap_err(),
            "the environment variable NOPE is not set"
        );
        assert!(Auth::resolve(
            &AuthSpec::SigV4 {
                service: "lambda".into(),
                region: None
            },
            env
        )
        .is_err());
        let sig = Auth::SigV4 {
            service: "execute-api".into(),
            region: "eu-west-1".into(),
            credentials: CredentialSource::fixed(Credentials::new(
                "AKIDTEST",
                "top-secret",
                None,
                None,
                "t",
            )),
        };
        let shown = format!("{sig:?}");
        assert!(
            shown.contains("eu-west-1") && !shown.contains("top-secret"),
            "{shown}"
        );
    }

    #[test]
    fn credentials_are_fetched_again_before_they_expire() {
        let now = SystemTime::now();
        let lasting = Credentials::new("A", "s", None, Some(now + Duration::from_secs(3600)), "t");
        let expiring = Credentials::new("A", "s", None, Some(now + Duration::from_secs(60)), "t");
        assert!(still_good(&lasting, now));
        assert!(
            !still_good(&expiring, now),
            "within five minutes of expiry: refresh"
        );
        assert!(still_good(
            &Credentials::new("A", "s", None, None, "t"),
            now
        ));
    }

    /// A provider that counts its calls and hands out credentials expiring `expires_in`
    /// from now, or fails from call `fail_from` on.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<std::sync::atomic::AtomicUsize>,
        expires_in: Duration,
        fail_from: usize,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            use aws_credential_types::provider::{error::CredentialsError, future};
            let n = self.calls.fetch_add(1, Relaxed);
            if n >= self.fail_from {
                return future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
                    "the role session ended",
                )));
            }
            let expiry = SystemTime::now() + self.expires_in;
            future::ProvideCredentials::ready(Ok(Credentials::new(
                "AKIDCOUNT",
                "count-secret",
                None,
                Some(expiry),
                "t",
            )))
        }
    }

    fn counting(
        expires_in: Duration,
        fail_from: usize,
    ) -> (CredentialSource, Arc<std::sync::atomic::AtomicUsize>) {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let provider = Counting {
            calls: Arc::clone(&calls),
            expires_in,
            fail_from,
        };
        (
            CredentialSource::new(SharedCredentialsProvider::new(provider)),
            calls,
        )
    }

    #[test]
    fn lasting_credentials_are_fetched_once_for_every_lane() {
        let (source, calls) = counting(Duration::from_secs(3600), usize::MAX);
        let lanes: Vec<CredentialSource> = (0..4).map(|_| source.clone()).collect();
        block_on(async {
            for _ in 0..1000 {
                for lane in &lanes {
                    lane.get(SystemTime::now()).await.unwrap();
                }
            }
        });
        assert_eq!(calls.load(Relaxed), 1);
    }

    #[test]
    fn near_expiry_one_refresh_then_the_old_ones_until_the_retry_is_due() {
        // Inside the refresh window from the start: every fetch gives near-expiry ones.
        let (source, calls) = counting(Duration::from_secs(120), usize::MAX);
        let now = SystemTime::now();
        block_on(async {
            for _ in 0..1000 {
                source.get(now).await.unwrap();
            }
        });
        assert!(
            calls.load(Relaxed) <= 2,
            "{} provider calls",
            calls.load(Relaxed)
        );
    }

    #[test]
    fn a_failed_refresh_keeps_valid_credentials_and_errs_once_they_expire() {
        let (source, calls) = counting(Duration::from_secs(120), 1);
        let now = SystemTime::now();
        block_on(async {
            source.get(now).await.unwrap();
            // Near expiry: the refresh fails, the current ones still sign.
            let c = source.get(now + Duration::from_secs(10)).await.unwrap();
            assert_eq!(c.access_key_id(), "AKIDCOUNT");
            // Not retried at every attempt.
            for _ in 0..100 {
                source.get(now + Duration::from_secs(11)).await.unwrap();
            }
            assert_eq!(calls.load(Relaxed), 2);
            // Expired and still no fresh ones: an error that names it, without secrets.
            let e = source
                .get(now + Duration::from_secs(300))
                .await
                .unwrap_err();
            assert!(e.contains("no AWS credentials"), "{e}");
            assert!(!e.contains("count-secret"));
        });
    }
}
