//! `stampede cloudwatch RESULTS.json`: read (again) what AWS counted during a run
//! (pipeline::cloudwatch), and write it into the results.

use crate::cli::CloudWatchArgs;
use crate::error::{exit, Result};
use crate::located::duration_flag;
use crate::pipeline::aws::check_endpoint;
use crate::pipeline::cloudwatch::{period_flag, read, url_region, Reading};
use crate::quotas::aws::QuotaQuery;
use crate::report::cloudwatch::render;
use crate::results::{self, AwsTarget};

/// `stampede cloudwatch RESULTS.json`: read (again) what AWS counted during a run.
pub fn cloudwatch(args: &CloudWatchArgs) -> Result<i32> {
    let mut results = results::file::read(&args.results)?;
    results::file::check_writable(args.out.as_ref().unwrap_or(&args.results))?;
    let wait = duration_flag("--wait", &args.wait, true)?;
    let period_s = match &args.period {
        Some(p) => period_flag("--period", p)?,
        None => results.cloudwatch.as_ref().map_or(60, |c| c.period_s),
    };
    if let Some(url) = &args.endpoint_url {
        check_endpoint(url)?;
    }
    let known = results.aws.clone().unwrap_or_default();
    let names = AwsTarget {
        region: args.region.clone().or(known.region),
        function: args.function.clone().or(known.function),
        qualifier: args.qualifier.clone().or(known.qualifier),
        api_id: args.api_id.clone().or(known.api_id),
        stage: args.stage.clone().or(known.stage),
    };
    let reading = Reading {
        connect: QuotaQuery {
            region: names.region.clone(),
            endpoint_url: args.endpoint_url.clone().filter(|u| !u.is_empty()),
            ..QuotaQuery::default()
        },
        names,
        period_s,
        wait,
        url_region: url_region(&results.target.url),
    };
    let cw = read(&results, &reading, args.quiet);
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
