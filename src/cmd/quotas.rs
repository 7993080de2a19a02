//! `stampede quotas`: read the quotas (or a quotas file) and show where each came from.

use crate::cli::QuotasArgs;
use crate::error::{exit, Result};
use crate::pipeline::aws::check_endpoint;
use crate::quotas::aws::{fetch_blocking, QuotaQuery};
use crate::quotas::{file, Quotas};
use crate::report;

pub fn quotas(args: &QuotasArgs) -> Result<i32> {
    let quotas = match &args.quotas {
        Some(path) => file::load(path)?,
        None => fetch_blocking(&query(args)?)?,
    };
    print(&quotas, args.json);
    // Calls that failed are reported, not fatal: the documented defaults stand in.
    Ok(exit::OK)
}

fn query(args: &QuotasArgs) -> Result<QuotaQuery> {
    if let Some(url) = &args.endpoint_url {
        check_endpoint(url)?;
    }
    Ok(QuotaQuery {
        region: args.region.clone().filter(|r| !r.is_empty()),
        function: args.function.clone(),
        qualifier: args.qualifier.clone(),
        rest_api_id: args.rest_api_id.clone(),
        stage: args.stage.clone(),
        endpoint_url: args.endpoint_url.clone().filter(|u| !u.is_empty()),
        placeholder_credentials: false,
    })
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
