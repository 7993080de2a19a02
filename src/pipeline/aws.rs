//! What the commands that talk to AWS share.

use crate::error::{Error, Result};

/// The SDKs take any string and fail on every call; a bad URL is bad input instead.
pub fn check_endpoint(url: &str) -> Result<()> {
    if url.is_empty() {
        return Ok(());
    }
    let ok = url
        .parse::<http::Uri>()
        .ok()
        .is_some_and(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
    if ok {
        Ok(())
    } else {
        Err(Error::input(format!(
            "--endpoint-url: bad URL `{url}`\n  expected: http:// or https:// and a host, such as http://127.0.0.1:8080"
        )))
    }
}
