//! `stampede quotas`: read the quotas (or a quotas file) and show where each came from.

use crate::aws::{Aws, AwsNames, Endpoint};
use crate::cli::QuotasArgs;
use crate::error::{exit, Error, Result};
use crate::quotas::aws::fetch_blocking;
use crate::quotas::{file, Quotas};
use crate::report;

pub fn quotas(args: &QuotasArgs) -> Result<i32> {
    let quotas = match &args.quotas {
        Some(path) => file::load(path)?,
        None => {
            let (names, at) = aimed_at(args)?;
            fetch_blocking(Aws::shared()?, &names, &at)
        }
    };
    print(&quotas, args.json);
    // Calls that failed are reported, not fatal: the documented defaults stand in.
    Ok(exit::OK)
}

/// The names the flags give, and where the calls go.
fn aimed_at(args: &QuotasArgs) -> Result<(AwsNames, Endpoint)> {
    if let Some(url) = &args.endpoint_url {
        check_endpoint(url)?;
    }
    Ok((args.names(), Endpoint::given(args.endpoint_url.as_deref())))
}

/// The SDKs take any string and fail on every call; a bad URL is bad input instead.
pub(crate) fn check_endpoint(url: &str) -> Result<()> {
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

fn print(quotas: &Quotas, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(quotas).expect("quotas serialise")
        );
    } else {
        print!("{}", report::quotas::render(quotas));
    }
}
