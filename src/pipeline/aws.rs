//! What the commands that talk to AWS share.

use crate::aws::{AwsNames, Endpoint};
use crate::cli::ApiFlags;
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

/// The names `flags` give, each missing one taken from the API Gateway URL `url` (flag
/// `--url`, `--from-api`), and where the calls go. A URL that names no API is exit 2 unless
/// the flags name one (a custom domain: the flags say which API is behind it).
pub fn api_aimed_at(flags: &ApiFlags, url: Option<(&str, &str)>) -> Result<(AwsNames, Endpoint)> {
    if let Some(endpoint) = &flags.endpoint_url {
        check_endpoint(endpoint)?;
    }
    let mut names = flags.names();
    if let Some((flag, url)) = url {
        let expected = "expected: https://ID.execute-api.REGION.amazonaws.com/STAGE/ (behind a \
                        custom domain, give --rest-api-id or --http-api-id with --stage)";
        let uri: http::Uri = url
            .parse()
            .map_err(|e| Error::input(format!("{flag} {url}: not a URL ({e})\n  {expected}")))?;
        let of_url = AwsNames::of_url(uri.host().unwrap_or(""), uri.path());
        if of_url.api_id.is_none() && names.api_id.is_none() {
            return Err(Error::input(format!(
                "{flag} {url}: not an API Gateway URL with a stage\n  {expected}"
            )));
        }
        names = names.or(of_url);
    }
    Ok((names, Endpoint::given(flags.endpoint_url.as_deref())))
}
