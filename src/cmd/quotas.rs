//! `stampede quotas`: read the quotas (or a quotas file) and show where each came from.

use crate::aws::{Aws, AwsNames, Endpoint};
use crate::cli::QuotasArgs;
use crate::error::{exit, Error, Result};
use crate::pipeline::aws::check_endpoint;
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
    let mut names = args.names();
    if let Some(url) = &args.url {
        names = names.or(api_of_url(url)?);
    }
    Ok((names, Endpoint::given(args.endpoint_url.as_deref())))
}

/// The API, stage and region an API Gateway URL names (`--url`); exit 2 for any other
/// URL.
fn api_of_url(url: &str) -> Result<AwsNames> {
    let expected = "expected: https://ID.execute-api.REGION.amazonaws.com/STAGE/ (behind a \
                    custom domain, give --rest-api-id or --http-api-id with --stage)";
    let uri: http::Uri = url
        .parse()
        .map_err(|e| Error::input(format!("--url {url}: not a URL ({e})\n  {expected}")))?;
    let names = AwsNames::of_url(uri.host().unwrap_or(""), uri.path());
    if names.api_id.is_none() {
        return Err(Error::input(format!(
            "--url {url}: not an API Gateway URL with a stage\n  {expected}"
        )));
    }
    Ok(names)
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
