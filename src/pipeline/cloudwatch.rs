//! The step `run` takes after its traffic, and all of `stampede cloudwatch RESULTS.json`:
//! read what AWS counted over the run's minutes — waiting for the last ones — and set it
//! beside what the client saw. Never changes a run's verdict.

use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::aws::{Aws, AwsNames, Endpoint};
use crate::cloudwatch::by_route;
use crate::cloudwatch::fetch::{Fetcher, Unread};
use crate::cloudwatch::minutes::{client_minutes, rfc3339, server_minutes, side_by_side};
use crate::cloudwatch::query::{function_name, queries, Asked, MetricQuery, MetricTarget, Window};
use crate::cloudwatch::{CloudWatch, ServerMinute};
use crate::report::cloudwatch::WaitBar;
use crate::results::{AwsTarget, Results};
use crate::verdict;

/// Where and what to read, and for how long to wait.
#[derive(Clone, Debug)]
pub struct Reading {
    /// Where the calls go (the emulator gets placeholder credentials).
    pub endpoint: Endpoint,
    /// The region read in, and the function and API whose metrics are read.
    pub names: AwsNames,
    pub period_s: u64,
    pub wait: Duration,
    /// The region the target's URL names, to say so when CloudWatch was read elsewhere.
    pub url_region: Option<String>,
}

/// GetMetricData is cheap but not free: ask again no more often than this.
const MAX_POLL: Duration = Duration::from_secs(15);

/// Reads the side-by-side for `results` on the command's AWS context; every failure is
/// said in it, never an error.
pub fn read(aws: &Aws, results: &Results, reading: &Reading, quiet: bool) -> CloudWatch {
    let started = humantime::parse_rfc3339_weak(&results.started_at)
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    // From time zero to the last answer: the traffic, even when the first send came
    // after time zero (a pause first, or a burst released late after `--start-at`).
    let window = Window::around(started, results.end_s(), reading.period_s);
    let mut cw = CloudWatch {
        status: "unavailable".into(),
        period_s: window.period_s,
        start: rfc3339(window.start),
        end: rfc3339(window.end),
        region: reading.names.region.clone(),
        ..CloudWatch::default()
    };
    aws.block_on(async {
        let fetcher =
            match Fetcher::connect(aws, reading.names.region.as_deref(), &reading.endpoint).await {
                Ok(f) => f,
                Err(unread) => {
                    cw.status = unread.status.into();
                    cw.message = Some(unread.message);
                    return;
                }
            };
        cw.region = fetcher.region.clone();
        let target = target(&fetcher, &reading.names, &mut cw).await;
        let sides = Sides {
            results,
            window: &window,
            started,
            target: &target,
        };
        if let Err(unread) = side(&fetcher, &sides, reading, quiet, &mut cw).await {
            cw.status = unread.status.into();
            cw.message = Some(unread.message);
        }
    });
    if let (Some(url), Some(read_in)) = (&reading.url_region, &cw.region) {
        if url != read_in {
            cw.not_read.push(format!(
                "the target's URL is in {url}, CloudWatch was read in {read_in}: pass --region {url}"
            ));
        }
    }
    if matches!(cw.status.as_str(), "read" | "incomplete") {
        cw.findings = verdict::cloudwatch::findings(&cw, &window, started, &results.quota_check);
        cw.findings.extend(verdict::cloudwatch_routes::findings(
            &cw.by_function,
            &results.quota_check.by_route,
        ));
    }
    cw
}

/// The function and API whose metrics are read, with what could not be named.
async fn target(fetcher: &Fetcher, names: &AwsNames, cw: &mut CloudWatch) -> MetricTarget {
    let mut target = MetricTarget::default();
    match &names.function {
        Some(f) => {
            let (name, from_arn) = function_name(f);
            target.qualifier = names.qualifier.clone().or(from_arn);
            target.function = Some(name);
        }
        None => cw.not_read.push(
            "the function's metrics: no function named (scenario [aws] function, or --function); the account's totals stand in".into(),
        ),
    }
    if let (Some(id), Some(stage)) = (&names.api_id, &names.stage) {
        let (api, note) = fetcher.api(id, stage).await;
        target.api = Some(api);
        cw.not_read.extend(note);
    }
    cw.function = target.function.clone();
    cw.qualifier = target.qualifier.clone();
    cw.api = target.api.clone();
    target
}

/// What both sides are read for: the run, its window and start, whose metrics.
#[derive(Clone, Copy)]
struct Sides<'a> {
    results: &'a Results,
    window: &'a Window,
    started: f64,
    target: &'a MetricTarget,
}

/// Reads until every minute the client sent in has settled, the wait ends, or a stop
/// signal (INT, TERM, HUP).
async fn side(
    fetcher: &Fetcher,
    sides: &Sides<'_>,
    reading: &Reading,
    quiet: bool,
    cw: &mut CloudWatch,
) -> std::result::Result<(), Unread> {
    let Sides {
        results,
        window,
        started,
        target,
    } = *sides;
    let client = client_minutes(
        window,
        started,
        &results.timeline,
        &results.histograms.seconds,
    );
    let asked = queries(target);
    // The quota check's routes: each function's and route's totals, in the same calls.
    let per_route = by_route::plan(target.api.as_ref(), &results.quota_check.by_route);
    let all: Vec<Asked> = asked
        .iter()
        .map(MetricQuery::asked)
        .chain(per_route.queries.iter().map(by_route::RouteQuery::asked))
        .collect();
    let poll =
        (Duration::from_secs(reading.period_s) / 4).clamp(Duration::from_millis(250), MAX_POLL);
    let began = Instant::now();
    let mut bar: Option<WaitBar> = None;
    // Ctrl-C, SIGTERM or SIGHUP (one heard already, during the run's end, too) ends the
    // wait; the reports are still written.
    let mut signals = crate::signals::Signals::listen().ok();
    let stop = async {
        match signals.as_mut() {
            Some(s) => s.next().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop);
    let (server, unsettled, points) = loop {
        let points = fetcher.read(window, &all).await?;
        let server = server_minutes(window, &asked, &points);
        let unsettled = not_arrived(&server.0);
        // Settled: everything the client sent is counted (in whichever period: a second at
        // a period's edge may be counted in the next), or every period has its datapoints.
        let counted = client.1.sent > 0 && enough(target, client.1.sent, &summed(&server.0));
        if unsettled.is_empty() || counted {
            let unsettled = if counted { Vec::new() } else { unsettled };
            break (server, unsettled, points);
        }
        let waited = began.elapsed();
        if unsettled.is_empty() || waited >= reading.wait {
            break (server, unsettled, points);
        }
        let mut waiting_for: Vec<String> = unsettled
            .iter()
            .map(|&i| rfc3339(window.start + (i as u64 * window.period_s) as i64))
            .collect();
        if waiting_for.is_empty() {
            waiting_for.push(rfc3339(window.end - window.period_s as i64));
        }
        bar.get_or_insert_with(|| {
            if !quiet {
                eprintln!(
                    "waiting up to {} for CloudWatch's datapoints (Ctrl-C or SIGTERM skips the wait)",
                    humantime::format_duration(reading.wait)
                );
            }
            WaitBar::start(reading.wait, quiet)
        })
        .update(waited, &waiting_for, window.period_s);
        tokio::select! {
            _ = tokio::time::sleep(poll.min(reading.wait - waited)) => {}
            signal = &mut stop => {
                if let Some(b) = bar.take() { b.finish(); }
                eprintln!("CloudWatch: wait skipped ({}); minutes not yet in are marked incomplete", signal.name());
                // What is in so far, read once more.
                let points = fetcher.read(window, &all).await?;
                let server = server_minutes(window, &asked, &points);
                let unsettled = not_arrived(&server.0);
                break (server, unsettled, points);
            }
        }
    };
    if let Some(b) = bar {
        b.finish();
    }
    cw.waited_s = (began.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    let no_data = server.0.iter().all(ServerMinute::is_empty) && server.1.is_empty();
    let stage_counted = server.1.api_count.is_some();
    (cw.by_function, cw.by_route) = by_route::read(&per_route, &points);
    cw.not_read.extend(per_route.not_asked);
    if let Some(api) = &target.api {
        cw.not_read.extend(by_route::detailed_metrics_off(
            api,
            &cw.by_route,
            stage_counted,
        ));
    }
    let (minutes, total) = side_by_side(window, client, server);
    cw.incomplete = unsettled
        .iter()
        .map(|&i| minutes[i].start.clone())
        .collect();
    cw.minutes = minutes;
    cw.total = total;
    cw.status = if no_data {
        cw.message = Some(format!(
            "CloudWatch has no datapoints for these metrics in {} between {} and {}: check the region, the function and API names, and that the stage publishes metrics; AWS's arrive a few minutes late, so `stampede cloudwatch RESULTS.json` may find them later",
            cw.region.as_deref().unwrap_or("the region"),
            cw.start,
            cw.end
        ));
        "no_data"
    } else if cw.incomplete.is_empty() {
        "read"
    } else {
        "incomplete"
    }
    .into();
    Ok(())
}

/// The periods of the run with no datapoint yet (of any metric).
fn not_arrived(server: &[ServerMinute]) -> Vec<usize> {
    (0..server.len())
        .filter(|&i| server[i].is_empty())
        .collect()
}

/// The counts of every minute, added.
fn summed(server: &[ServerMinute]) -> ServerMinute {
    let add = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    };
    server
        .iter()
        .fold(ServerMinute::default(), |t, m| ServerMinute {
            api_count: add(t.api_count, m.api_count),
            invocations: add(t.invocations, m.invocations),
            throttles: add(t.throttles, m.throttles),
            ..ServerMinute::default()
        })
}

/// The server has counted at least what the client sent.
fn enough(target: &MetricTarget, sent: u64, s: &ServerMinute) -> bool {
    let sent = sent as f64;
    if target.api.is_some() {
        s.api_count.is_some_and(|c| c >= sent)
    } else if target.function.is_some() {
        s.invocations.unwrap_or(0.0) + s.throttles.unwrap_or(0.0) >= sent
    } else {
        false
    }
}

/// The names a results file recorded (`aws`).
pub fn names_of(recorded: Option<&AwsTarget>) -> AwsNames {
    let Some(t) = recorded else {
        return AwsNames::default();
    };
    AwsNames {
        region: t.region.clone(),
        function: t.function.clone(),
        qualifier: t.qualifier.clone(),
        api_id: t.api_id.clone(),
        stage: t.stage.clone(),
        api_kind: None,
    }
}

/// The region an AWS URL names (execute-api, lambda-url).
pub fn url_region(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    AwsNames::of_url(host, "").region
}
