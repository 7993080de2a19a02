//! Reads the quotas with the AWS SDKs: Service Quotas, Lambda and API Gateway.

use super::Quotas;
use crate::error::{Error, Result};

/// What to read, and from where.
#[derive(Clone, Debug, Default)]
pub struct QuotaQuery {
    /// Default: the AWS config chain.
    pub region: Option<String>,
    pub function: Option<String>,
    /// Alias or version, for provisioned concurrency.
    pub qualifier: Option<String>,
    pub rest_api_id: Option<String>,
    pub stage: Option<String>,
    /// Every client's endpoint (the emulator, a local AWS stand-in); also AWS_ENDPOINT_URL.
    pub endpoint_url: Option<String>,
    /// Sign with fixed placeholder credentials instead of the chain (the emulator's
    /// control plane checks no secrets).
    pub placeholder_credentials: bool,
}

/// Reads every quota it can; what it cannot read is named in `not_read`, never an error.
pub async fn fetch(query: &QuotaQuery) -> Quotas {
    let _ = query;
    todo!("quotas::aws::fetch")
}

/// [`fetch`] on a runtime of its own, for the synchronous commands.
pub fn fetch_blocking(query: &QuotaQuery) -> Result<Quotas> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::runtime(format!("cannot start the runtime: {e}")))?;
    Ok(runtime.block_on(fetch(query)))
}
