//! The results as JUnit XML for CI test reporters (GitLab's `artifacts:reports:junit`,
//! GitHub Actions' JUnit reporters): one testsuite per run, one testcase per threshold,
//! one for the quota check, one each for "requests sent as planned" and "requests
//! succeeded", one for a probe's knee, and one each for an abort, an interruption or a
//! fault of stampede when there was one; with `[[requests]]`, one per request of the mix
//! (classname `stampede.requests`); with `[[flows]]`, one per flow (`stampede.flows`). Pure.
//!
//! Which cases fail is the one verdict's ([`crate::verdict::judge`]): there are failures
//! exactly when it is not a pass. A gate it does not judge in this file (a shard's
//! thresholds and quota check, judged on the merged whole; a probe's quota check and
//! traffic, which go past limits on purpose) is a skipped case that says so.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::outcome::{judge, observed, threshold_name};
use crate::results::Results;
use crate::verdict::judge::Reason;
use crate::verdict::thresholds::ThresholdResult;
use crate::verdict::{ms, num};

pub fn render(r: &Results) -> String {
    let suite_name = r.name.clone().unwrap_or_else(|| "stampede".to_string());
    let run_time = secs(r.duration_s);
    let timestamp = chrono::DateTime::parse_from_rfc3339(&r.started_at).ok();
    let mut suite = TestSuite::new(suite_name.as_str());
    if let Some(at) = timestamp {
        suite.set_timestamp(at);
    }
    suite.set_time(run_time);
    suite.set_system_out(super::summary::render(r));

    let verdict = judge(r);
    // A gate this file does not judge: skipped, saying where it is judged.
    let deferred = |f: &dyn Fn(&Reason) -> bool| verdict.deferred.iter().any(f);
    let not_here = if r.probe.is_some() {
        "not a gate of a probe: its steps go past limits on purpose"
    } else {
        "a shard's share: judged on the merged whole (stampede merge)"
    };
    let mut cases = Vec::new();
    for t in &r.thresholds {
        let time = stage_time(r, t.stage.as_deref());
        cases.push(
            if deferred(&|d| matches!(d, Reason::Threshold(d) if d == t)) {
                skipped(threshold_name(t), not_here, time)
            } else {
                threshold_case(t, time)
            },
        );
    }
    cases.push(if deferred(&|d| matches!(d, Reason::QuotaCheck)) {
        skipped(quota_name(r), not_here, run_time)
    } else {
        quota_case(r, run_time)
    });
    cases.push(sent_case(r, run_time));
    cases.push(if deferred(&|d| matches!(d, Reason::NothingSucceeded(_))) {
        skipped("requests succeeded".to_string(), not_here, run_time)
    } else {
        succeeded_case(r, run_time)
    });
    if let Some(p) = &r.probe {
        let name = "a load met the SLO (a knee)".to_string();
        cases.push(
            match verdict
                .reasons
                .iter()
                .find(|w| matches!(w, Reason::NoKnee(_)))
            {
                Some(why) => failing(
                    name,
                    NonSuccessKind::Failure,
                    "no-knee",
                    why.line(),
                    Some(p.finding.clone()),
                    run_time,
                ),
                None => passing(name, run_time),
            },
        );
    }
    if let Some(trip) = &r.aborted {
        cases.push(failing(
            trip.title(),
            NonSuccessKind::Failure,
            "abort",
            trip.describe(),
            None,
            secs(trip.t_s as f64),
        ));
    }
    if r.interrupted {
        cases.push(failing(
            "not interrupted".to_string(),
            NonSuccessKind::Error,
            "interrupted",
            format!(
                "interrupted by a signal after {:.1} s: the results hold what ran until then",
                r.duration_s
            ),
            None,
            run_time,
        ));
    }
    for fault in &r.faults {
        cases.push(failing(
            "stampede ran without a fault".to_string(),
            NonSuccessKind::Error,
            "fault",
            format!("stampede failed: {fault}"),
            None,
            run_time,
        ));
    }
    for mut case in cases {
        case.set_classname(suite_name.as_str());
        suite.add_test_case(case);
    }
    let threshold_deferred =
        |t: &ThresholdResult| deferred(&|d| matches!(d, Reason::Threshold(d) if d == t));
    let mix = request_cases(r, &threshold_deferred, not_here, run_time);
    for case in mix
        .into_iter()
        .chain(flow_cases(r, &threshold_deferred, not_here, run_time))
    {
        suite.add_test_case(case);
    }
    let mut report = Report::new("stampede");
    if let Some(at) = timestamp {
        report.set_timestamp(at);
    }
    report.set_time(run_time);
    report.add_test_suite(suite);
    report
        .to_string()
        .expect("a report of strings serialises to XML")
}

fn threshold_case(t: &ThresholdResult, time: Duration) -> TestCase {
    let name = threshold_name(t);
    if t.pass {
        return passing(name, time);
    }
    let message = format!("observed {}, limit {}", observed(t), t.limit);
    failing(
        name,
        NonSuccessKind::Failure,
        "threshold",
        message,
        None,
        time,
    )
}

fn quota_name(r: &Results) -> String {
    format!("quota check ({} limits)", r.quota_check.quotas.origin)
}

fn quota_case(r: &Results, time: Duration) -> TestCase {
    let c = &r.quota_check;
    let name = quota_name(r);
    if c.pass {
        return passing(name, time);
    }
    // The limits the traffic went past, with what it did against them.
    let over: Vec<String> = c
        .usage
        .iter()
        .filter(|u| u.percent >= 100.0)
        .map(|u| {
            format!(
                "{}: observed {} {}, limit {} ({:.0}%)",
                u.limit.title(),
                u.measure,
                num(u.observed),
                num(u.value),
                u.percent
            )
        })
        .collect();
    let message = match (&c.onset, over.is_empty()) {
        (_, false) => over.join("; "),
        (Some(o), true) => o.explanation.clone(),
        (None, true) => "the traffic went past a limit".to_string(),
    };
    let details = super::check::findings(c);
    failing(
        name,
        NonSuccessKind::Failure,
        "quota",
        message,
        Some(details),
        time,
    )
}

fn sent_case(r: &Results, time: Duration) -> TestCase {
    let name = "requests sent as planned".to_string();
    match r.short_of_plan() {
        None => passing(name, time),
        Some(why) => failing(
            name,
            NonSuccessKind::Failure,
            "short-of-plan",
            why,
            None,
            time,
        ),
    }
}

fn succeeded_case(r: &Results, time: Duration) -> TestCase {
    let name = "requests succeeded".to_string();
    match r.nothing_succeeded() {
        None => passing(name, time),
        Some(why) => failing(name, NonSuccessKind::Failure, "no-success", why, None, time),
    }
}

/// The classname of the mix's testcases, so reporters group them apart from the gates.
pub const REQUESTS_CLASSNAME: &str = "stampede.requests";

/// The classname of the flows' testcases.
pub const FLOWS_CLASSNAME: &str = "stampede.flows";

/// With `[[requests]]`: a testcase per request, named after it, failed when a threshold
/// on that request failed (skipped when those are judged elsewhere, a shard's); its
/// figures over the run are its `<system-out>`.
fn request_cases(
    r: &Results,
    deferred: &dyn Fn(&ThresholdResult) -> bool,
    not_here: &str,
    time: Duration,
) -> Vec<TestCase> {
    let Some(requests) = &r.by_request else {
        return Vec::new();
    };
    requests
        .iter()
        .map(|(name, q)| {
            let t = &q.totals;
            let figures = format!(
                "{} requests: {} ok, {} throttled, {} errors; p50 {}, p99 {}; {:.1} req/s",
                t.requests,
                t.ok,
                t.throttled,
                t.errors,
                ms(q.latency_ms.p50),
                ms(q.latency_ms.p99),
                q.achieved_rps
            );
            let on_it = |t: &ThresholdResult| t.request.as_deref() == Some(name.as_str());
            let mut case = named_case(r, name, &on_it, deferred, not_here, time);
            case.set_system_out(figures);
            case.set_classname(REQUESTS_CLASSNAME);
            case
        })
        .collect()
}

/// With `[[flows]]`: a testcase per flow, as the requests have, failed when a threshold on
/// that flow (`[thresholds.flows."NAME"]`) failed; its figures over the run and where its
/// failed flows ended are its `<system-out>`.
fn flow_cases(
    r: &Results,
    deferred: &dyn Fn(&ThresholdResult) -> bool,
    not_here: &str,
    time: Duration,
) -> Vec<TestCase> {
    let Some(flows) = &r.by_flow else {
        return Vec::new();
    };
    flows
        .iter()
        .map(|(name, f)| {
            let mut out = super::flows::figures(f);
            if let Some(ended) = super::flows::failed_by_step(name, f) {
                out.push('\n');
                out.push_str(&ended);
            }
            let on_it = |t: &ThresholdResult| t.flow.as_deref() == Some(name.as_str());
            let mut case = named_case(r, name, &on_it, deferred, not_here, time);
            case.set_system_out(out);
            case.set_classname(FLOWS_CLASSNAME);
            case
        })
        .collect()
}

/// The testcase of one request or flow of the mix: passing, or failed by the failed
/// thresholds `on_it` picks (each with what was observed and the limit), or skipped when
/// every one of those is judged elsewhere.
fn named_case(
    r: &Results,
    name: &str,
    on_it: &dyn Fn(&ThresholdResult) -> bool,
    deferred: &dyn Fn(&ThresholdResult) -> bool,
    not_here: &str,
    time: Duration,
) -> TestCase {
    let failed: Vec<&ThresholdResult> = r
        .thresholds
        .iter()
        .filter(|t| !t.pass && on_it(t))
        .collect();
    if failed.is_empty() {
        passing(name.to_string(), time)
    } else if failed.iter().all(|t| deferred(t)) {
        skipped(name.to_string(), not_here, time)
    } else {
        let why: Vec<String> = failed
            .iter()
            .map(|t| {
                format!(
                    "{}: observed {}, limit {}",
                    threshold_name(t),
                    observed(t),
                    t.limit
                )
            })
            .collect();
        failing(
            name.to_string(),
            NonSuccessKind::Failure,
            "threshold",
            why.join("; "),
            None,
            time,
        )
    }
}

fn skipped(name: String, why: &str, time: Duration) -> TestCase {
    let mut status = TestCaseStatus::skipped();
    status.set_message(why);
    let mut case = TestCase::new(name, status);
    case.set_time(time);
    case
}

fn passing(name: String, time: Duration) -> TestCase {
    let mut case = TestCase::new(name, TestCaseStatus::success());
    case.set_time(time);
    case
}

fn failing(
    name: String,
    kind: NonSuccessKind,
    ty: &str,
    message: String,
    details: Option<String>,
    time: Duration,
) -> TestCase {
    let mut status = TestCaseStatus::non_success(kind);
    status.set_message(message.as_str());
    status.set_type(ty);
    status.set_description(details.unwrap_or(message));
    let mut case = TestCase::new(name, status);
    case.set_time(time);
    case
}

/// How long a stage ran: from its start to the next stage's, or to the end of the run.
/// The whole run for run-wide thresholds.
fn stage_time(r: &Results, stage: Option<&str>) -> Duration {
    let Some(name) = stage else {
        return secs(r.duration_s);
    };
    let Some(i) = r.stages.iter().position(|s| s.name == name) else {
        return secs(r.duration_s);
    };
    let start = r.stages[i].started_s.unwrap_or(0.0);
    let end = r.stages[i + 1..]
        .iter()
        .find_map(|s| s.started_s)
        .unwrap_or(r.duration_s);
    secs(end - start)
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn every_gate_is_a_testcase_and_failures_say_observed_and_limit() {
        let xml = render(&fixture::failed());
        assert!(xml.starts_with("<?xml"), "{xml}");
        assert!(xml.contains("<testsuite name=\"checkout | api\""), "{xml}");
        assert!(xml.contains("testcase name=\"p99 ≤ 800ms\""), "{xml}");
        assert!(
            xml.contains("testcase name=\"stage ramp: throttle_rate ≤ 1%\""),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"observed 12.5%, limit 1%\" type=\"threshold\""),
            "{xml}"
        );
        assert!(
            xml.contains("testcase name=\"quota check (emulator limits)\""),
            "{xml}"
        );
        assert!(
            xml.contains("testcase name=\"requests succeeded\""),
            "{xml}"
        );
        assert!(
            xml.contains("testcase name=\"abort rule: throttle_rate ≤ 20.0%\""),
            "{xml}"
        );
        assert!(
            xml.contains("testcase name=\"requests sent as planned\""),
            "{xml}"
        );
        assert!(xml.contains("tests=\"6\""), "{xml}");
        assert!(xml.contains("failures=\"3\""), "{xml}");
        assert!(xml.contains("timestamp=\"2027-01-15T08:00:00"), "{xml}");
    }

    #[test]
    fn a_mix_has_a_testcase_per_request_beside_the_gates() {
        let xml = render(&fixture::mixed());
        assert!(
            xml.contains("<testcase name=\"create order\" classname=\"stampede.requests\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase name=\"get order\" classname=\"stampede.requests\""),
            "{xml}"
        );
        assert!(
            xml.contains(
                "30 requests: 25 ok, 0 throttled, 5 errors; p50 30.0ms, p99 120ms; 3.0 req/s"
            ),
            "{xml}"
        );
        // The gates stay: a threshold, the quota check, sent, succeeded; and the two requests.
        assert!(xml.contains("tests=\"6\""), "{xml}");
        assert!(xml.contains("failures=\"0\""), "{xml}");
        assert!(!render(&fixture::passed()).contains("stampede.requests"));
    }

    #[test]
    fn a_flow_is_a_testcase_failed_by_a_threshold_on_it() {
        let mut r = fixture::flowed();
        let xml = render(&r);
        assert!(
            xml.contains("<testcase name=\"buy\" classname=\"stampede.flows\""),
            "{xml}"
        );
        assert!(
            xml.contains("started 100, completed 86, failed 12 (12.0%), abandoned 2, p50 80.0ms, p99 320ms, 9.8 flows/s\nbuy: 10 ended at login (server_errors 7, timeouts 3); 2 at get order (capture_missing 2)"),
            "{xml}"
        );
        // The gates, the two requests and the two flows.
        assert!(xml.contains("tests=\"8\""), "{xml}");
        assert!(xml.contains("failures=\"0\""), "{xml}");
        r.thresholds.push(ThresholdResult {
            name: "failure_rate".into(),
            stage: None,
            request: None,
            flow: Some("buy".into()),
            limit: "1%".into(),
            observed: 0.12,
            pass: false,
            not_judged: false,
        });
        let xml = render(&r);
        let buy = xml.find("<testcase name=\"buy\"").unwrap();
        let failure = xml[buy..].find("<failure").unwrap() + buy;
        assert!(
            xml[failure..].starts_with(
                "<failure message=\"flow &quot;buy&quot;: failure_rate ≤ 1%: observed 12.0%, limit 1%\""
            ),
            "{xml}"
        );
        let browse = xml.find("<testcase name=\"browse\"").unwrap();
        assert!(!xml[browse..]
            .split("</testcase>")
            .next()
            .unwrap()
            .contains("<failure"));
        // The threshold's own case and the flow's fail.
        assert!(xml.contains("failures=\"2\""), "{xml}");
        assert!(!render(&fixture::mixed()).contains("stampede.flows"));
    }

    #[test]
    fn a_dead_endpoint_fails_requests_succeeded() {
        let mut r = fixture::passed();
        r.totals.ok = 0;
        r.totals.errors = 100;
        r.attempts.ok = 0;
        r.attempts.connect_errors = 100;
        let xml = render(&r);
        assert!(
            xml.contains("<failure message=\"no request succeeded: 100 requests, 100 attempts (100 connect errors)\""),
            "{xml}"
        );
        assert!(render(&fixture::passed()).contains("failures=\"0\""));
    }
}
