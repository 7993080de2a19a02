//! `[thresholds]` as written: the whole run's table, `[thresholds.stages."NAME"]`,
//! `[thresholds.requests."NAME"]` (a `[[requests]]` entry alone, also inside a stage's
//! table) and `[thresholds.flows."NAME"]` (a `[[flows]]` entry alone, on its end-to-end
//! latency and failure rate).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::byte_rate::ByteRate;
use super::schema::{Duration, Percentage};
use super::thresholds::{Phase, Stat};
use super::{nearest, Metric, Requests, Stage, Threshold, Thresholds};
use crate::error::Result;
use crate::located::Source;

/// Upper bounds: latencies as durations, rates as percentages. A value equal to its limit passes.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Thresholds")]
pub(super) struct RawThresholds {
    /// Median latency of the logical requests, from each one's scheduled instant.
    #[schemars(with = "Option<Duration>")]
    p50: Option<Spanned<Value>>,
    /// 90th percentile latency.
    #[schemars(with = "Option<Duration>")]
    p90: Option<Spanned<Value>>,
    /// 95th percentile latency.
    #[schemars(with = "Option<Duration>")]
    p95: Option<Spanned<Value>>,
    /// 99th percentile latency.
    #[schemars(with = "Option<Duration>")]
    p99: Option<Spanned<Value>>,
    /// 99.9th percentile latency.
    #[schemars(with = "Option<Duration>")]
    p999: Option<Spanned<Value>>,
    /// The longest latency.
    #[schemars(with = "Option<Duration>")]
    max: Option<Spanned<Value>>,
    /// The mean latency.
    #[schemars(with = "Option<Duration>")]
    mean: Option<Spanned<Value>>,
    /// Median latency of the requests that ended ok alone (throttles and errors left out).
    #[schemars(with = "Option<Duration>")]
    ok_p50: Option<Spanned<Value>>,
    /// 90th percentile latency of the requests that ended ok.
    #[schemars(with = "Option<Duration>")]
    ok_p90: Option<Spanned<Value>>,
    /// 95th percentile latency of the requests that ended ok.
    #[schemars(with = "Option<Duration>")]
    ok_p95: Option<Spanned<Value>>,
    /// 99th percentile latency of the requests that ended ok.
    #[schemars(with = "Option<Duration>")]
    ok_p99: Option<Spanned<Value>>,
    /// 99.9th percentile latency of the requests that ended ok.
    #[schemars(with = "Option<Duration>")]
    ok_p999: Option<Spanned<Value>>,
    /// The longest latency of a request that ended ok.
    #[schemars(with = "Option<Duration>")]
    ok_max: Option<Spanned<Value>>,
    /// The mean latency of the requests that ended ok.
    #[schemars(with = "Option<Duration>")]
    ok_mean: Option<Spanned<Value>>,
    /// Median of the name's lookup (attempts whose new connection made one).
    #[schemars(with = "Option<Duration>")]
    dns_p50: Option<Spanned<Value>>,
    /// 90th percentile of the name's lookup (attempts whose new connection made one).
    #[schemars(with = "Option<Duration>")]
    dns_p90: Option<Spanned<Value>>,
    /// 95th percentile of the name's lookup (attempts whose new connection made one).
    #[schemars(with = "Option<Duration>")]
    dns_p95: Option<Spanned<Value>>,
    /// 99th percentile of the name's lookup (attempts whose new connection made one).
    #[schemars(with = "Option<Duration>")]
    dns_p99: Option<Spanned<Value>>,
    /// 99.9th percentile of the name's lookup (attempts whose new connection made one).
    #[schemars(with = "Option<Duration>")]
    dns_p999: Option<Spanned<Value>>,
    /// The longest the name's lookup (attempts whose new connection made one).
    #[schemars(with = "Option<Duration>")]
    dns_max: Option<Spanned<Value>>,
    /// The mean of the name's lookup (attempts whose new connection made one).
    #[schemars(with = "Option<Duration>")]
    dns_mean: Option<Spanned<Value>>,
    /// Median of TCP's connect (attempts that opened their connection).
    #[schemars(with = "Option<Duration>")]
    connect_p50: Option<Spanned<Value>>,
    /// 90th percentile of TCP's connect (attempts that opened their connection).
    #[schemars(with = "Option<Duration>")]
    connect_p90: Option<Spanned<Value>>,
    /// 95th percentile of TCP's connect (attempts that opened their connection).
    #[schemars(with = "Option<Duration>")]
    connect_p95: Option<Spanned<Value>>,
    /// 99th percentile of TCP's connect (attempts that opened their connection).
    #[schemars(with = "Option<Duration>")]
    connect_p99: Option<Spanned<Value>>,
    /// 99.9th percentile of TCP's connect (attempts that opened their connection).
    #[schemars(with = "Option<Duration>")]
    connect_p999: Option<Spanned<Value>>,
    /// The longest TCP's connect (attempts that opened their connection).
    #[schemars(with = "Option<Duration>")]
    connect_max: Option<Spanned<Value>>,
    /// The mean of TCP's connect (attempts that opened their connection).
    #[schemars(with = "Option<Duration>")]
    connect_mean: Option<Spanned<Value>>,
    /// Median of the TLS handshake (attempts that opened their https connection).
    #[schemars(with = "Option<Duration>")]
    tls_p50: Option<Spanned<Value>>,
    /// 90th percentile of the TLS handshake (attempts that opened their https connection).
    #[schemars(with = "Option<Duration>")]
    tls_p90: Option<Spanned<Value>>,
    /// 95th percentile of the TLS handshake (attempts that opened their https connection).
    #[schemars(with = "Option<Duration>")]
    tls_p95: Option<Spanned<Value>>,
    /// 99th percentile of the TLS handshake (attempts that opened their https connection).
    #[schemars(with = "Option<Duration>")]
    tls_p99: Option<Spanned<Value>>,
    /// 99.9th percentile of the TLS handshake (attempts that opened their https connection).
    #[schemars(with = "Option<Duration>")]
    tls_p999: Option<Spanned<Value>>,
    /// The longest the TLS handshake (attempts that opened their https connection).
    #[schemars(with = "Option<Duration>")]
    tls_max: Option<Spanned<Value>>,
    /// The mean of the TLS handshake (attempts that opened their https connection).
    #[schemars(with = "Option<Duration>")]
    tls_mean: Option<Spanned<Value>>,
    /// Median of time to first byte: request written → first byte of the answer.
    #[schemars(with = "Option<Duration>")]
    ttfb_p50: Option<Spanned<Value>>,
    /// 90th percentile of time to first byte: request written → first byte of the answer.
    #[schemars(with = "Option<Duration>")]
    ttfb_p90: Option<Spanned<Value>>,
    /// 95th percentile of time to first byte: request written → first byte of the answer.
    #[schemars(with = "Option<Duration>")]
    ttfb_p95: Option<Spanned<Value>>,
    /// 99th percentile of time to first byte: request written → first byte of the answer.
    #[schemars(with = "Option<Duration>")]
    ttfb_p99: Option<Spanned<Value>>,
    /// 99.9th percentile of time to first byte: request written → first byte of the answer.
    #[schemars(with = "Option<Duration>")]
    ttfb_p999: Option<Spanned<Value>>,
    /// The longest time to first byte: request written → first byte of the answer.
    #[schemars(with = "Option<Duration>")]
    ttfb_max: Option<Spanned<Value>>,
    /// The mean of time to first byte: request written → first byte of the answer.
    #[schemars(with = "Option<Duration>")]
    ttfb_mean: Option<Spanned<Value>>,
    /// Median of receiving: first byte → last byte of the answer.
    #[schemars(with = "Option<Duration>")]
    receive_p50: Option<Spanned<Value>>,
    /// 90th percentile of receiving: first byte → last byte of the answer.
    #[schemars(with = "Option<Duration>")]
    receive_p90: Option<Spanned<Value>>,
    /// 95th percentile of receiving: first byte → last byte of the answer.
    #[schemars(with = "Option<Duration>")]
    receive_p95: Option<Spanned<Value>>,
    /// 99th percentile of receiving: first byte → last byte of the answer.
    #[schemars(with = "Option<Duration>")]
    receive_p99: Option<Spanned<Value>>,
    /// 99.9th percentile of receiving: first byte → last byte of the answer.
    #[schemars(with = "Option<Duration>")]
    receive_p999: Option<Spanned<Value>>,
    /// The longest receiving: first byte → last byte of the answer.
    #[schemars(with = "Option<Duration>")]
    receive_max: Option<Spanned<Value>>,
    /// The mean of receiving: first byte → last byte of the answer.
    #[schemars(with = "Option<Duration>")]
    receive_mean: Option<Spanned<Value>>,
    /// A floor, not a bound: 99% of the streamed answers (receive phase of 1 ms or more)
    /// came at least this fast, body bytes ÷ receive time — their throughput's p1 ≥ it.
    /// "50KB/s", "1MB/s", "800B/s" (K, M, G = 1000; KiB, MiB, GiB = 1024). Not judged (it
    /// passes, and says so) when no answer was streamed.
    #[schemars(with = "Option<ByteRate>")]
    min_throughput: Option<Spanned<Value>>,
    /// Throttled attempts (retries included) / attempts sent.
    #[schemars(with = "Option<Percentage>")]
    throttle_rate: Option<Spanned<Value>>,
    /// Requests that ended in an error other than a throttle / requests.
    #[schemars(with = "Option<Percentage>")]
    error_rate: Option<Spanned<Value>>,
    /// Requests that did not end ok (throttled, failed, abandoned) / requests.
    #[schemars(with = "Option<Percentage>")]
    failure_rate: Option<Spanned<Value>>,
    /// Per stage, by stage name: the same keys for that stage alone (whole run table only).
    #[schemars(with = "Option<BTreeMap<String, RawThresholds>>")]
    stages: Option<BTreeMap<Spanned<String>, Spanned<RawThresholds>>>,
    /// Per `[[requests]]` entry, by its name: the same keys for that request alone (in the
    /// whole run's table or a stage's).
    #[schemars(with = "Option<BTreeMap<String, RawThresholds>>")]
    requests: Option<BTreeMap<Spanned<String>, Spanned<RawThresholds>>>,
    /// Per `[[flows]]` entry, by its name: failure_rate (failed / started) and the latency
    /// keys (p50 … p999, max, mean) on its end-to-end latency (in the whole run's table or
    /// a stage's).
    #[schemars(with = "Option<BTreeMap<String, RawThresholds>>")]
    flows: Option<BTreeMap<Spanned<String>, Spanned<RawThresholds>>>,
}

impl RawThresholds {
    fn limits(&self) -> [(Metric, &Option<Spanned<Value>>); 53] {
        [
            (Metric::P50, &self.p50),
            (Metric::P90, &self.p90),
            (Metric::P95, &self.p95),
            (Metric::P99, &self.p99),
            (Metric::P999, &self.p999),
            (Metric::Max, &self.max),
            (Metric::Mean, &self.mean),
            (Metric::ThrottleRate, &self.throttle_rate),
            (Metric::ErrorRate, &self.error_rate),
            (Metric::FailureRate, &self.failure_rate),
            (Metric::OkP50, &self.ok_p50),
            (Metric::OkP90, &self.ok_p90),
            (Metric::OkP95, &self.ok_p95),
            (Metric::OkP99, &self.ok_p99),
            (Metric::OkP999, &self.ok_p999),
            (Metric::OkMax, &self.ok_max),
            (Metric::OkMean, &self.ok_mean),
            (Metric::Phase(Phase::Dns, Stat::P50), &self.dns_p50),
            (Metric::Phase(Phase::Dns, Stat::P90), &self.dns_p90),
            (Metric::Phase(Phase::Dns, Stat::P95), &self.dns_p95),
            (Metric::Phase(Phase::Dns, Stat::P99), &self.dns_p99),
            (Metric::Phase(Phase::Dns, Stat::P999), &self.dns_p999),
            (Metric::Phase(Phase::Dns, Stat::Max), &self.dns_max),
            (Metric::Phase(Phase::Dns, Stat::Mean), &self.dns_mean),
            (Metric::Phase(Phase::Connect, Stat::P50), &self.connect_p50),
            (Metric::Phase(Phase::Connect, Stat::P90), &self.connect_p90),
            (Metric::Phase(Phase::Connect, Stat::P95), &self.connect_p95),
            (Metric::Phase(Phase::Connect, Stat::P99), &self.connect_p99),
            (
                Metric::Phase(Phase::Connect, Stat::P999),
                &self.connect_p999,
            ),
            (Metric::Phase(Phase::Connect, Stat::Max), &self.connect_max),
            (
                Metric::Phase(Phase::Connect, Stat::Mean),
                &self.connect_mean,
            ),
            (Metric::Phase(Phase::Tls, Stat::P50), &self.tls_p50),
            (Metric::Phase(Phase::Tls, Stat::P90), &self.tls_p90),
            (Metric::Phase(Phase::Tls, Stat::P95), &self.tls_p95),
            (Metric::Phase(Phase::Tls, Stat::P99), &self.tls_p99),
            (Metric::Phase(Phase::Tls, Stat::P999), &self.tls_p999),
            (Metric::Phase(Phase::Tls, Stat::Max), &self.tls_max),
            (Metric::Phase(Phase::Tls, Stat::Mean), &self.tls_mean),
            (Metric::Phase(Phase::Ttfb, Stat::P50), &self.ttfb_p50),
            (Metric::Phase(Phase::Ttfb, Stat::P90), &self.ttfb_p90),
            (Metric::Phase(Phase::Ttfb, Stat::P95), &self.ttfb_p95),
            (Metric::Phase(Phase::Ttfb, Stat::P99), &self.ttfb_p99),
            (Metric::Phase(Phase::Ttfb, Stat::P999), &self.ttfb_p999),
            (Metric::Phase(Phase::Ttfb, Stat::Max), &self.ttfb_max),
            (Metric::Phase(Phase::Ttfb, Stat::Mean), &self.ttfb_mean),
            (Metric::Phase(Phase::Receive, Stat::P50), &self.receive_p50),
            (Metric::Phase(Phase::Receive, Stat::P90), &self.receive_p90),
            (Metric::Phase(Phase::Receive, Stat::P95), &self.receive_p95),
            (Metric::Phase(Phase::Receive, Stat::P99), &self.receive_p99),
            (
                Metric::Phase(Phase::Receive, Stat::P999),
                &self.receive_p999,
            ),
            (Metric::Phase(Phase::Receive, Stat::Max), &self.receive_max),
            (
                Metric::Phase(Phase::Receive, Stat::Mean),
                &self.receive_mean,
            ),
            (Metric::MinThroughput, &self.min_throughput),
        ]
    }
}

/// The keys a table of limits holds, for errors.
fn limit_keys() -> String {
    super::METRIC_NAMES.join(" ")
}

/// Reads `[thresholds]`: its names checked against the stages and the mix's requests.
pub(super) fn thresholds(
    src: &Source,
    raw: &RawThresholds,
    stages: &[Stage],
    mix: Option<&Requests>,
) -> Result<Thresholds> {
    let request_names: Vec<&str> = mix.map_or(Vec::new(), |m| m.names());
    let flow_names: Vec<&str> = mix
        .and_then(|m| m.flows.as_ref())
        .map_or(Vec::new(), |f| f.names());
    let mut out = Thresholds {
        overall: limits(src, raw)?,
        ..Thresholds::default()
    };
    read_requests(src, raw, None, &request_names, &mut out)?;
    flows(src, raw, None, &flow_names, &mut out)?;
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    for (name, table) in raw.stages.iter().flatten() {
        let stage = known(src, name, "[thresholds.stages] names no stage", &names)?;
        if table.get_ref().stages.is_some() {
            return Err(src.error(
                table.span(),
                "per-stage thresholds cannot hold `stages`",
                &format!("{} (and `requests`)", limit_keys()),
            ));
        }
        out.stages
            .push((stage.to_string(), limits(src, table.get_ref())?));
        read_requests(src, table.get_ref(), Some(stage), &request_names, &mut out)?;
        flows(src, table.get_ref(), Some(stage), &flow_names, &mut out)?;
    }
    Ok(out)
}

/// `requests."NAME"` tables of `raw` (the run's, or stage `stage`'s).
fn read_requests(
    src: &Source,
    raw: &RawThresholds,
    stage: Option<&str>,
    names: &[&str],
    out: &mut Thresholds,
) -> Result<()> {
    let Some(tables) = &raw.requests else {
        return Ok(());
    };
    for (name, table) in tables {
        if names.is_empty() {
            return Err(src.error(
                name.span(),
                &format!(
                    "[thresholds.requests] names request `{}`, but the scenario has no [[requests]]",
                    name.get_ref()
                ),
                "[[requests]] entries with a `name`, or thresholds in [thresholds] itself",
            ));
        }
        let request = known(src, name, "[thresholds.requests] names no request", names)?;
        let inner = table.get_ref();
        if inner.stages.is_some() || inner.requests.is_some() || inner.flows.is_some() {
            return Err(src.error(
                table.span(),
                "a request's thresholds cannot hold `stages`, `requests` or `flows`",
                &format!(
                    "{} (per stage: [thresholds.stages.\"STAGE\".requests.\"REQUEST\"])",
                    limit_keys()
                ),
            ));
        }
        out.requests.push(super::RequestThresholds {
            request: request.to_string(),
            stage: stage.map(str::to_string),
            limits: limits(src, inner)?,
        });
    }
    Ok(())
}

/// The metrics a flow's thresholds take: its failure rate and its end-to-end latency.
pub const FLOW_METRICS: [Metric; 8] = [
    Metric::FailureRate,
    Metric::P50,
    Metric::P90,
    Metric::P95,
    Metric::P99,
    Metric::P999,
    Metric::Max,
    Metric::Mean,
];

/// `flows."NAME"` tables of `raw` (the run's, or stage `stage`'s): names of `[[flows]]`.
fn flows(
    src: &Source,
    raw: &RawThresholds,
    stage: Option<&str>,
    flow_names: &[&str],
    out: &mut Thresholds,
) -> Result<()> {
    let Some(tables) = &raw.flows else {
        return Ok(());
    };
    for (name, table) in tables {
        if flow_names.is_empty() {
            return Err(src.error(
                name.span(),
                &format!(
                    "[thresholds.flows] names flow `{}`, but the scenario has no [[flows]]",
                    name.get_ref()
                ),
                "[[flows]] entries with a `name`, or thresholds per request: [thresholds.requests.\"NAME\"]",
            ));
        }
        let flow = known(src, name, "[thresholds.flows] names no flow", flow_names)?;
        let inner = table.get_ref();
        let allowed = FLOW_METRICS.map(Metric::name).join(" ");
        if inner.stages.is_some() || inner.requests.is_some() || inner.flows.is_some() {
            return Err(src.error(
                table.span(),
                "a flow's thresholds cannot hold `stages`, `requests` or `flows`",
                &format!("{allowed} (per stage: [thresholds.stages.\"STAGE\".flows.\"FLOW\"])"),
            ));
        }
        for (metric, value) in inner.limits() {
            if let (Some(v), false) = (value, FLOW_METRICS.contains(&metric)) {
                return Err(src.error(
                    v.span(),
                    &format!(
                        "`{}` is not a flow's: a flow has a failure rate and an end-to-end latency",
                        metric.name()
                    ),
                    &format!("one of: {allowed}"),
                ));
            }
        }
        out.flows.push(super::FlowThresholds {
            flow: flow.to_string(),
            stage: stage.map(str::to_string),
            limits: limits(src, inner)?,
        });
    }
    Ok(())
}

/// `name` if it is one of `names`; else exit 2 at it, with the nearest and the names that exist.
fn known<'n>(
    src: &Source,
    name: &Spanned<String>,
    what: &str,
    names: &[&'n str],
) -> Result<&'n str> {
    if let Some(found) = names.iter().find(|n| **n == name.get_ref()) {
        return Ok(found);
    }
    let mut msg = format!("{what} `{}`", name.get_ref());
    if let Some(near) = nearest(name.get_ref(), names) {
        msg.push_str(&format!(" (did you mean `{near}`?)"));
    }
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(src.error(name.span(), &msg, &format!("one of: {list}")))
}

fn limits(src: &Source, raw: &RawThresholds) -> Result<Vec<Threshold>> {
    let mut out = Vec::new();
    for (metric, value) in raw.limits() {
        let Some(v) = value else { continue };
        let parsed = match v.get_ref() {
            Value::String(s) => Threshold::parse(metric, s),
            other => Err(format!(
                "`{}` is a {}, not a limit",
                metric.name(),
                other.type_str()
            )),
        };
        out.push(parsed.map_err(|why| src.error(v.span(), &why, metric.expected_form()))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::parse_str;
    use std::path::Path;

    const MIX: &str = r#"
[target]
url = "http://127.0.0.1:9"
[[requests]]
name = "create order"
method = "POST"
path = "/orders"
[[requests]]
name = "get order"
path = "/orders/1"
[[stages]]
name = "steady"
kind = "constant"
rate = 10
duration = "1s"
"#;

    fn parse(extra: &str) -> Result<crate::Scenario, String> {
        parse_str(Path::new("s.toml"), &format!("{MIX}{extra}"), None).map_err(|e| e.to_string())
    }

    #[test]
    fn request_tables_are_read_at_the_run_and_in_a_stage() {
        let s = parse(
            "[thresholds.requests.\"create order\"]\np99 = \"300ms\"\nfailure_rate = \"1%\"\n\
             [thresholds.stages.steady.requests.\"get order\"]\nmax = \"1s\"\n",
        )
        .unwrap();
        let r = &s.thresholds.requests;
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].request.as_str(), r[0].stage.as_deref()),
            ("create order", None)
        );
        assert_eq!(r[0].limits.len(), 2);
        assert_eq!(
            (r[1].request.as_str(), r[1].stage.as_deref()),
            ("get order", Some("steady"))
        );
        assert!(!s.thresholds.is_empty());
    }

    #[test]
    fn an_unknown_request_is_located_with_the_names_and_the_nearest() {
        let e = parse("[thresholds.requests.\"create ordr\"]\np99 = \"300ms\"\n").unwrap_err();
        assert!(e.contains("s.toml:"), "{e}");
        assert!(e.contains("did you mean `create order`"), "{e}");
        assert!(e.contains("`get order`"), "{e}");
    }

    #[test]
    fn flows_need_flows_and_requests_need_a_mix() {
        let e = parse("[thresholds.flows.buy]\nfailure_rate = \"1%\"\n").unwrap_err();
        assert!(e.contains("the scenario has no [[flows]]"), "{e}");
        assert!(e.contains("s.toml:"), "{e}");
        let plain =
            "[target]\nurl = \"http://127.0.0.1:9\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n\
                     [thresholds.requests.x]\np99 = \"1s\"\n";
        let e = parse_str(Path::new("s.toml"), plain, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no [[requests]]"), "{e}");
    }

    #[test]
    fn flow_tables_take_the_failure_rate_and_latencies_only() {
        let flow = "[[flows]]\nname = \"buy\"\nsteps = [\"create order\", \"get order\"]\n";
        let s = parse(&format!(
            "{flow}[thresholds.flows.buy]\nfailure_rate = \"1%\"\np99 = \"2s\"\n\
             [thresholds.stages.steady.flows.buy]\nmax = \"5s\"\n"
        ))
        .unwrap();
        let f = &s.thresholds.flows;
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].flow.as_str(), f[0].stage.as_deref()), ("buy", None));
        assert_eq!(f[0].limits.len(), 2);
        assert_eq!(f[1].stage.as_deref(), Some("steady"));
        let e = parse(&format!(
            "{flow}[thresholds.flows.buy]\nthrottle_rate = \"1%\"\n"
        ))
        .unwrap_err();
        assert!(e.contains("`throttle_rate` is not a flow's"), "{e}");
        assert!(e.contains("failure_rate p50"), "{e}");
        let e = parse(&format!("{flow}[thresholds.flows.by]\np99 = \"1s\"\n")).unwrap_err();
        assert!(e.contains("one of: `buy`"), "{e}");
    }
}
