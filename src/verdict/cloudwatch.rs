//! What CloudWatch's numbers say about the client's guesses: suspected Lambda throttles
//! confirmed or not, the onset's limit checked against the server's concurrency, traffic
//! from others on the same quota, where the time went. Pure; never changes the verdict.

use crate::cloudwatch::query::Window;
use crate::cloudwatch::{CloudWatch, Minute, ServerFinding};
use crate::quotas::LimitKey;
use crate::verdict::quota_check::QuotaCheck;

/// Differences smaller than this (and than [`SLACK_SHARE`] of the count) are the
/// minute edges and late datapoints, not other traffic.
const SLACK: f64 = 5.0;
const SLACK_SHARE: f64 = 0.02;
/// A concurrency within this share of its limit reached it.
const AT_LIMIT: f64 = 0.9;

fn finding(kind: &str, message: String) -> ServerFinding {
    ServerFinding {
        kind: kind.into(),
        message,
    }
}

/// `n` periods, as people say it: AWS's are minutes.
fn periods(cw: &CloudWatch, n: usize) -> String {
    if cw.period_s == 60 {
        format!("{n} minute(s)")
    } else {
        format!("{n} period(s) of {} s", cw.period_s)
    }
}

fn beyond(server: f64, client: f64) -> bool {
    server - client > SLACK.max(client * SLACK_SHARE)
}

fn n(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The findings of a side-by-side; `started`: the run's start (epoch seconds), to put
/// the onset's second in its minute.
pub fn findings(
    cw: &CloudWatch,
    window: &Window,
    started: f64,
    check: &QuotaCheck,
) -> Vec<ServerFinding> {
    let mut out = Vec::new();
    suspected(cw, &mut out);
    gateway_throttles(cw, &mut out);
    onset(cw, window, started, check, &mut out);
    other_traffic(cw, &mut out);
    time_split(cw, &mut out);
    out
}

/// Suspected Lambda throttles against Lambda's `Throttles` in the same minutes.
fn suspected(cw: &CloudWatch, out: &mut Vec<ServerFinding>) {
    let seen: Vec<&Minute> = cw
        .minutes
        .iter()
        .filter(|m| m.client.suspected_lambda > 0)
        .collect();
    let suspected: u64 = seen.iter().map(|m| m.client.suspected_lambda).sum();
    if suspected == 0 {
        return;
    }
    // A client second is counted in the period its middle falls in, the server counts each
    // request when it came: half a second either way. In periods of a few seconds (the
    // emulator's) that is a large share, so the periods either side count too; in AWS's
    // minutes it is not, and a neighbour would bring other traffic's throttles in.
    let reach = usize::from(cw.period_s < 60);
    let near: Vec<&Minute> = (0..cw.minutes.len())
        .filter(|&i| {
            (i.saturating_sub(reach)..=(i + reach).min(cw.minutes.len() - 1))
                .any(|j| cw.minutes[j].client.suspected_lambda > 0)
        })
        .map(|i| &cw.minutes[i])
        .collect();
    let (whose, throttles): (&str, Vec<Option<f64>>) = match &cw.function {
        Some(f) => (
            f.as_str(),
            near.iter().map(|m| m.server.throttles).collect(),
        ),
        None => (
            "the account's functions",
            near.iter().map(|m| m.server.account_throttles).collect(),
        ),
    };
    let any_data = throttles.iter().any(Option::is_some)
        || near.iter().any(|m| m.server.invocations.is_some());
    if !any_data {
        return;
    }
    let counted: f64 = throttles.iter().flatten().sum();
    let minutes = periods(cw, seen.len());
    let around = if reach > 0 { "(or next to) " } else { "" };
    if counted > 0.0 {
        out.push(finding(
            "confirmed",
            format!(
                "confirmed: Lambda counted {} throttles of {whose} in {around}the {minutes} in which stampede saw {suspected} suspected Lambda throttles (500s with API Gateway's body) — they were Lambda throttles",
                n(counted)
            ),
        ));
    } else {
        let errors: f64 = seen.iter().filter_map(|m| m.server.errors).sum();
        let api_5xx: f64 = seen.iter().filter_map(|m| m.server.api_5xx).sum();
        let what = if errors > 0.0 {
            format!(
                "Lambda counted {} function errors there: look at the function's logs",
                n(errors)
            )
        } else if api_5xx > 0.0 {
            format!(
                "API Gateway counted {} 5XX errors: look at the integration and its logs",
                n(api_5xx)
            )
        } else {
            "look at the integration and the function's logs".to_string()
        };
        out.push(finding(
            "not_confirmed",
            format!(
                "not confirmed: Lambda counted no throttles of {whose} in {around}the {minutes} in which stampede saw {suspected} suspected Lambda throttles — those 500s were something else; {what}"
            ),
        ));
    }
}

/// The client's API Gateway 429s against the stage's 4XX count.
fn gateway_throttles(cw: &CloudWatch, out: &mut Vec<ServerFinding>) {
    let client = cw.total.client.throttled_gateway as f64;
    let Some(counted) = cw.total.server.api_4xx else {
        return;
    };
    if client == 0.0 {
        return;
    }
    if counted + SLACK.max(client * SLACK_SHARE) >= client {
        out.push(finding(
            "confirmed",
            format!(
                "confirmed: API Gateway counted {} 4XX errors on the stage; stampede saw {} of its 429s — the throttling was API Gateway's",
                n(counted),
                n(client)
            ),
        ));
    } else {
        out.push(finding(
            "not_confirmed",
            format!(
                "not confirmed: stampede saw {} 429s with API Gateway's body, API Gateway counted only {} 4XX errors on this stage — another stage, region or a proxy in front answered them",
                n(client),
                n(counted)
            ),
        ));
    }
}

/// The limit the onset was attributed to, against the server's concurrency then.
fn onset(
    cw: &CloudWatch,
    window: &Window,
    started: f64,
    check: &QuotaCheck,
    out: &mut Vec<ServerFinding>,
) {
    let Some(onset) = &check.onset else { return };
    let Some(limit) = onset.limit else { return };
    let Some(value) = check.quotas.get(limit) else {
        return;
    };
    let Some(minute) = cw.minutes.get(window.period_of(started, onset.t_s)) else {
        return;
    };
    let (measured, what) = match limit {
        LimitKey::FunctionReservedConcurrency | LimitKey::FunctionProvisionedConcurrency => (
            minute.server.concurrent_max,
            "the function's ConcurrentExecutions",
        ),
        LimitKey::LambdaConcurrentExecutions | LimitKey::LambdaUnreservedConcurrency => (
            minute.server.account_concurrent_max,
            "the account's ConcurrentExecutions",
        ),
        LimitKey::ApigwRate | LimitKey::StageRate | LimitKey::ApigwBurst | LimitKey::StageBurst => {
            if let Some(count) = minute.server.api_count {
                out.push(finding(
                    "limit_checked",
                    format!(
                        "the onset at {} s was put on the {} ({} {}); API Gateway counted {} requests in that period ({} req/s on average; a bucket empties within seconds, so the average is below the peak)",
                        onset.t_s,
                        limit.title(),
                        n(value),
                        limit.unit(),
                        n(count),
                        n((count / window.period_s as f64 * 10.0).round() / 10.0)
                    ),
                ));
            }
            return;
        }
        _ => return,
    };
    let Some(measured) = measured else { return };
    let title = limit.title();
    if measured >= value * AT_LIMIT {
        out.push(finding(
            "limit_checked",
            format!(
                "confirmed: {what} peaked at {} in the onset's period ({}), at the {title} of {} — that limit throttled",
                n(measured),
                minute.start,
                n(value)
            ),
        ));
    } else {
        out.push(finding(
            "limit_not_reached",
            format!(
                "not confirmed: {what} peaked at only {} in the onset's period ({}), below the {title} of {} — something else throttled (another limit, or the count is of another alias or version)",
                n(measured),
                minute.start,
                n(value)
            ),
        ));
    }
}

/// AWS counted more than stampede sent: others share the quota.
fn other_traffic(cw: &CloudWatch, out: &mut Vec<ServerFinding>) {
    let sent = cw.total.client.sent as f64;
    let s = &cw.total.server;
    if let (Some(count), Some(api)) = (s.api_count, &cw.api) {
        let name = api.name.as_deref().unwrap_or(&api.id);
        if beyond(count, sent) {
            out.push(finding(
                "other_traffic",
                format!(
                    "other traffic: API Gateway counted {} requests on {name}/{}, stampede sent {} — {} more came from elsewhere in the window, and they drew on the same stage and account throttle buckets",
                    n(count),
                    api.stage,
                    n(sent),
                    n(count - sent)
                ),
            ));
        } else if beyond(sent, count) {
            out.push(finding(
                "lost",
                format!(
                    "API Gateway counted {} requests on {name}/{}, stampede sent {}: {} never reached this stage (connection errors, another stage or region, a proxy in front)",
                    n(count),
                    api.stage,
                    n(sent),
                    n(sent - count)
                ),
            ));
        }
    }
    if let (Some(f), Some(inv)) = (&cw.function, s.invocations) {
        let reached = inv + s.throttles.unwrap_or(0.0);
        if beyond(reached, sent) {
            out.push(finding(
                "other_traffic",
                format!(
                    "other traffic: Lambda counted {} invocations and throttles of {f}, stampede sent {} requests — other callers used the same function concurrency",
                    n(reached),
                    n(sent)
                ),
            ));
        }
    }
    // The account's concurrency beyond the function's: other functions, same pool.
    let others = cw
        .minutes
        .iter()
        .filter_map(|m| {
            let account = m.server.account_concurrent_max?;
            let function = m.server.concurrent_max?;
            (account - function > 1.0).then_some((account - function, account, &m.start))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let (Some((extra, account, at)), Some(f)) = (others, &cw.function) {
        out.push(finding(
            "other_traffic",
            format!(
                "other functions: the account ran up to {} concurrent executions in the period from {at}, {f} {} of them — the others eat the same account concurrency",
                n(account),
                n(account - extra)
            ),
        ));
    }
}

/// Client latency against API Gateway's, the integration's and the function's, at p99:
/// each layer's share is the difference to the one inside it.
fn time_split(cw: &CloudWatch, out: &mut Vec<ServerFinding>) {
    let s = &cw.total.server;
    let Some(client) = cw.total.client.p99_ms else {
        return;
    };
    // Outermost first: (name, p99, what lies between it and the next one in). Invoked
    // directly, nothing stands between the client and the function's Duration but the
    // network, Lambda's invoke and the cold starts' init (which Duration leaves out).
    let direct = s.api_latency_p99_ms.is_none() && s.api_integration_latency_p99_ms.is_none();
    let outside = if direct {
        "outside the function (network, TLS, the client's queue, Lambda's invoke, cold starts' init)"
    } else {
        "outside AWS (network, TLS, the client's queue)"
    };
    let layers: Vec<(&str, f64, &str)> = [
        (Some(client), "client", outside),
        (
            s.api_latency_p99_ms,
            "API Gateway Latency",
            "in API Gateway itself",
        ),
        (
            s.api_integration_latency_p99_ms,
            "IntegrationLatency",
            "between API Gateway and the handler (invoke, cold starts' init)",
        ),
        (s.duration_p99_ms, "Duration", "in the function"),
    ]
    .into_iter()
    .filter_map(|(v, name, between)| v.map(|v| (name, v, between)))
    .collect();
    if layers.len() < 2 {
        return;
    }
    let parts: Vec<String> = layers
        .iter()
        .map(|(name, v, _)| format!("{name} {} ms", n(v.round())))
        .collect();
    let mut shares = Vec::new();
    let mut inverted = false;
    for pair in layers.windows(2) {
        let gap = pair[0].1 - pair[1].1;
        inverted |= gap < 0.0;
        shares.push(format!("≈ {} ms {}", n(gap.max(0.0).round()), pair[0].2));
    }
    let last = layers.last().expect("two or more");
    shares.push(format!("≈ {} ms {}", n(last.1.round()), last.2));
    let caveat = if inverted {
        "; an outer p99 below an inner one means the outer one counts fast answers the inner never saw (throttles), so read the shares as rough"
    } else {
        " (percentiles do not add up exactly)"
    };
    out.push(finding(
        "time_split",
        format!(
            "where the time went (p99): {}; roughly {}{caveat}",
            parts.join(" · "),
            shares.join(", ")
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudwatch::{ApiKind, ApiRef, ClientMinute, ServerMinute};
    use crate::quotas::{QuotaSource, Quotas};
    use crate::verdict::quota_check::OnsetExplained;

    fn minute(start: &str, client: ClientMinute, server: ServerMinute) -> Minute {
        Minute {
            start: start.into(),
            client,
            server,
        }
    }

    fn cw(minutes: Vec<Minute>, total: Minute) -> CloudWatch {
        CloudWatch {
            status: "read".into(),
            period_s: 60,
            function: Some("orders".into()),
            api: Some(ApiRef {
                kind: ApiKind::Rest,
                id: "a1".into(),
                name: Some("shop".into()),
                stage: "prod".into(),
            }),
            minutes,
            total,
            ..CloudWatch::default()
        }
    }

    #[test]
    fn suspected_throttles_are_confirmed_by_lambda_throttles_in_the_same_minutes() {
        let m = |suspected, throttles| {
            minute(
                "t",
                ClientMinute {
                    suspected_lambda: suspected,
                    ..ClientMinute::default()
                },
                ServerMinute {
                    throttles: Some(throttles),
                    invocations: Some(100.0),
                    ..ServerMinute::default()
                },
            )
        };
        let confirmed = cw(vec![m(0, 7.0), m(40, 38.0)], Minute::default());
        let f = findings(
            &confirmed,
            &Window::around(0.0, 120.0, 60),
            0.0,
            &QuotaCheck::default(),
        );
        assert_eq!(f[0].kind, "confirmed", "{f:?}");
        assert!(
            f[0].message.contains("counted 38 throttles"),
            "{}",
            f[0].message
        );
        let not = cw(vec![m(40, 0.0)], Minute::default());
        let f = findings(
            &not,
            &Window::around(0.0, 60.0, 60),
            0.0,
            &QuotaCheck::default(),
        );
        assert_eq!(f[0].kind, "not_confirmed");
        // In periods of a second, the server's count of a second the client put in the
        // next period still confirms it.
        let mut short = cw(vec![m(0, 30.0), m(30, 0.0)], Minute::default());
        short.period_s = 1;
        let f = findings(
            &short,
            &Window::around(0.0, 2.0, 1),
            0.0,
            &QuotaCheck::default(),
        );
        assert_eq!(f[0].kind, "confirmed", "{f:?}");
        assert!(
            f[0].message.contains("counted 30 throttles"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn more_counted_than_sent_is_other_traffic() {
        let total = minute(
            "t",
            ClientMinute {
                sent: 1000,
                ..ClientMinute::default()
            },
            ServerMinute {
                api_count: Some(1500.0),
                ..ServerMinute::default()
            },
        );
        let f = findings(
            &cw(vec![], total.clone()),
            &Window::around(0.0, 60.0, 60),
            0.0,
            &QuotaCheck::default(),
        );
        assert_eq!(f[0].kind, "other_traffic");
        assert!(f[0].message.contains("500 more"), "{}", f[0].message);
        // Within the slack: nothing.
        let mut close = total;
        close.server.api_count = Some(1010.0);
        assert!(findings(
            &cw(vec![], close),
            &Window::around(0.0, 60.0, 60),
            0.0,
            &QuotaCheck::default()
        )
        .is_empty());
    }

    #[test]
    fn the_onsets_limit_is_checked_against_the_servers_concurrency() {
        let mut quotas = Quotas::default();
        quotas.offer(
            LimitKey::FunctionReservedConcurrency,
            Some(50.0),
            QuotaSource::Documented,
        );
        let check = |t_s| QuotaCheck {
            quotas: quotas.clone(),
            onset: Some(OnsetExplained {
                t_s,
                rate: 0,
                in_flight: 50,
                kinds: Default::default(),
                limit: Some(LimitKey::FunctionReservedConcurrency),
                reached: true,
                explanation: String::new(),
                evidence: vec![],
                too_close: vec![],
            }),
            ..QuotaCheck::default()
        };
        let at = |conc| {
            minute(
                "m",
                ClientMinute::default(),
                ServerMinute {
                    concurrent_max: Some(conc),
                    ..ServerMinute::default()
                },
            )
        };
        let w = Window::around(0.0, 120.0, 60);
        let data = cw(vec![at(12.0), at(50.0)], Minute::default());
        // Second 70 is in the second minute: 50 of 50.
        let f = findings(&data, &w, 0.0, &check(70));
        assert_eq!(f[0].kind, "limit_checked", "{f:?}");
        let f = findings(&data, &w, 0.0, &check(5));
        assert_eq!(f[0].kind, "limit_not_reached", "{f:?}");
    }

    #[test]
    fn invoked_directly_the_time_outside_the_function_names_the_cold_starts() {
        let total = minute(
            "t",
            ClientMinute {
                p99_ms: Some(525.0),
                ..ClientMinute::default()
            },
            ServerMinute {
                duration_p99_ms: Some(60.0),
                ..ServerMinute::default()
            },
        );
        let mut direct = cw(vec![], total);
        direct.api = None;
        let mut out = Vec::new();
        time_split(&direct, &mut out);
        let m = &out[0].message;
        assert!(m.contains("≈ 465 ms outside the function"), "{m}");
        assert!(m.contains("cold starts' init"), "{m}");
    }
}
