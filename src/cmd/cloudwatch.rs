//! `stampede cloudwatch RESULTS.json`: read (again) what AWS counted during a run
//! (pipeline::cloudwatch), and write it into the results.

use crate::aws::{Aws, Endpoint};
use crate::cli::CloudWatchArgs;
use crate::error::{exit, Result};
use crate::pipeline::aws::check_endpoint;
use crate::pipeline::cloudwatch::{names_of, read, url_region, Reading};
use crate::report::cloudwatch::render;
use crate::results;

/// `stampede cloudwatch RESULTS.json`: read (again) what AWS counted during a run.
pub fn cloudwatch(args: &CloudWatchArgs) -> Result<i32> {
    let mut results = results::file::read(&args.results)?;
    results::file::check_writable(args.out.as_ref().unwrap_or(&args.results))?;
    let wait = args.wait;
    let period_s = args
        .period
        .unwrap_or_else(|| results.cloudwatch.as_ref().map_or(60, |c| c.period_s));
    if let Some(url) = &args.endpoint_url {
        check_endpoint(url)?;
    }
    let reading = Reading {
        endpoint: Endpoint::given(args.endpoint_url.as_deref()),
        names: args.names().or(names_of(results.aws.as_ref())),
        period_s,
        wait,
        url_region: url_region(&results.target.url),
    };
    let cw = read(Aws::shared()?, &results, &reading, args.quiet);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&cw).expect("the section serialises")
        );
    } else if !args.quiet {
        print!("{}", render(&cw));
    }
    results.cloudwatch = Some(cw);
    let out = args.out.as_ref().unwrap_or(&args.results);
    if let Err(why) = results::file::write(out, &results) {
        eprintln!("error: cannot write {}: {why}", out.display());
        return Ok(exit::INTERNAL);
    }
    Ok(exit::OK)
}
