//! `stampede quotas`: read the quotas (or a quotas file) and show where each came from.

use crate::aws::{Aws, AwsNames, Endpoint};
use crate::cli::QuotasArgs;
use crate::error::{exit, Result};
use crate::pipeline::aws::api_aimed_at;
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

/// The names the flags give (the function's among them), the rest from --url's, and
/// where the calls go.
fn aimed_at(args: &QuotasArgs) -> Result<(AwsNames, Endpoint)> {
    let (names, at) = api_aimed_at(&args.api, args.url.as_deref().map(|u| ("--url", u)))?;
    Ok((args.names().or(names), at))
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
