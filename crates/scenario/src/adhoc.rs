//! A scenario from ad-hoc flags (`--url --rate …`), and flags that amend a scenario file.

use std::time::Duration;

use bytes::Bytes;
use http::Uri;

use super::parse::{parse_header, parse_method, parse_url, HEADER_EXPECTED};
use super::{
    nearest, AbortRules, Metric, Scenario, Stage, StageKind, Target, Threshold, Thresholds,
    METRIC_NAMES,
};
use crate::error::{Error, Result};
use crate::located::flag_error;

/// The one stage an ad-hoc run drives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LoadShape {
    Rate(f64),
    Concurrency(u64),
    Burst(u64),
}

/// The ad-hoc flags of `stampede run`, as given.
#[derive(Clone, Debug, Default)]
pub struct AdHoc {
    pub url: Option<String>,
    /// `--lambda FUNCTION[:QUALIFIER]`: invoke it (`--url`, if given, is the endpoint).
    pub lambda: Option<String>,
    /// `--invocation`: how `--lambda` invokes (request-response when not given).
    pub invocation: Option<stampede_lambda::Invocation>,
    pub shape: Option<LoadShape>,
    pub duration: Option<Duration>,
    pub method: Option<String>,
    pub headers: Vec<String>,
    pub body: Option<String>,
    /// `--requests FILE`: a file of `[[requests]]` entries.
    pub requests: Option<std::path::PathBuf>,
    /// `--timeout`, `--connect-timeout`: over `[target]`'s.
    pub timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    /// `--no-keepalive`: a new connection per attempt, over `[target] connections`.
    pub no_keepalive: bool,
    /// `--resolve HOST:PORT:ADDR[,ADDR...]` (repeatable), beside `[target] resolve`.
    pub resolve: Vec<String>,
    /// `--dns-refresh DURATION|off`, over `[target] dns_refresh`.
    pub dns_refresh: Option<String>,
    /// `--http2`: HTTP/2, over `[target] http`.
    pub http2: bool,
    pub thresholds: Vec<Threshold>,
    /// `--abort NAME=VALUE`: throttle_rate, error_rate, failure_rate, window.
    pub abort: Vec<AbortFlag>,
}

pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

impl AdHoc {
    pub fn url(&self) -> Result<Option<Uri>> {
        self.url
            .as_deref()
            .map(|u| {
                parse_url(u)
                    .map_err(|why| flag_error("--url", &why, "an absolute http:// or https:// URL"))
            })
            .transpose()
    }

    /// Adds the flags that make sense on top of a scenario file: headers, body, method,
    /// timeouts, thresholds.
    pub fn amend(&self, scenario: &mut Scenario) -> Result<()> {
        if let (Some(_), Some(_)) = (&self.method, &scenario.target.lambda) {
            return Err(flag_error(
                "--method",
                "a Lambda invocation is always a POST",
                "no --method with a lambda target",
            ));
        }
        if scenario.requests.is_some() {
            let flag = match (&self.method, &self.body) {
                (Some(_), _) => Some("--method"),
                (None, Some(_)) => Some("--body"),
                (None, None) => None,
            };
            if let Some(flag) = flag {
                return Err(flag_error(
                    flag,
                    "the scenario has [[requests]]: each says its own method and body",
                    "no --method or --body with [[requests]]",
                ));
            }
        }
        if let Some(m) = &self.method {
            scenario.target.method =
                parse_method(m).map_err(|why| flag_error("--method", &why, "GET, POST, …"))?;
        }
        for h in &self.headers {
            let header = header_flag(h)?;
            if scenario.target.basic_auth.is_some() && header.0 == http::header::AUTHORIZATION {
                return Err(flag_error(
                    "--header",
                    "the URL's user:password@ and this header would both set Authorization",
                    "one of them",
                ));
            }
            scenario.target.headers.push(header);
        }
        if let Some(b) = &self.body {
            scenario.target.body = Bytes::from(b.clone());
        }
        if let Some(path) = &self.requests {
            self.requests_file(path, scenario)?;
        }
        if let Some(t) = self.timeout {
            scenario.target.timeout = t;
        }
        if let Some(t) = self.connect_timeout {
            scenario.target.connect_timeout = t;
        }
        if self.no_keepalive {
            scenario.target.connections = super::ConnectionPolicy::PerRequest;
        }
        self.dns(&mut scenario.target)?;
        if self.http2 {
            scenario.target.http = super::HttpVersion::Http2;
        }
        scenario
            .thresholds
            .overall
            .extend(self.thresholds.iter().cloned());
        for a in &self.abort {
            a.apply(&mut scenario.abort);
        }
        Ok(())
    }
}

impl AdHoc {
    /// `--resolve` and `--dns-refresh`, over the scenario's.
    fn dns(&self, target: &mut Target) -> Result<()> {
        use super::dns::{parse_pinned, parse_refresh, unused_pinned, PINNED_FORM, REFRESH_FORM};
        if let Some(r) = &self.dns_refresh {
            target.dns.refresh =
                parse_refresh(r).map_err(|why| flag_error("--dns-refresh", &why, REFRESH_FORM))?;
        }
        for entry in &self.resolve {
            let pinned =
                parse_pinned(entry).map_err(|why| flag_error("--resolve", &why, PINNED_FORM))?;
            target.dns.pinned.push(pinned);
        }
        if let (Some(why), false) = (unused_pinned(target), self.resolve.is_empty()) {
            return Err(flag_error(
                "--resolve",
                &why,
                "HOST:PORT of the target's URL",
            ));
        }
        Ok(())
    }

    /// `--requests FILE`: the mix of the file, on the target's URL. Refused beside a
    /// scenario's own `[[requests]]`, a lambda target, `--method` or `--body`.
    fn requests_file(&self, path: &std::path::Path, scenario: &mut Scenario) -> Result<()> {
        let refuse = |why: &str, expected: &str| Err(flag_error("--requests", why, expected));
        if scenario.requests.is_some() {
            return refuse(
                "the scenario has [[requests]] of its own",
                "either [[requests]] in the scenario or --requests",
            );
        }
        if scenario.target.lambda.is_some() {
            return refuse(
                "a lambda target sends its one payload",
                "an http target (--url)",
            );
        }
        if self.method.is_some() || self.body.is_some() {
            return refuse(
                "--method and --body would say a second thing about every request",
                "each entry's own method and body, and no --method or --body",
            );
        }
        scenario.requests = Some(super::requests::from_file(path, &scenario.target)?);
        Ok(())
    }
}

/// Builds the one-stage scenario of an ad-hoc run.
pub fn from_flags(flags: &AdHoc) -> Result<Scenario> {
    let url = flags.url()?;
    let target = match (&flags.lambda, url.clone()) {
        (Some(function), url) => lambda_flag(function, flags.invocation, url.as_ref())?,
        (None, Some(url)) => Target::from_url(url),
        (None, None) => {
            return Err(Error::input(
                "no target: give a scenario file, or --url URL (or --lambda FUNCTION) with --rate N, --concurrency N or --burst N",
            ))
        }
    };
    let Some(shape) = flags.shape else {
        return Err(Error::input(
            "no load: give --rate N (requests per second), --concurrency N (workers) or --burst N (requests at once)",
        ));
    };
    let duration = flags.duration.unwrap_or(DEFAULT_DURATION);
    let kind = match shape {
        LoadShape::Rate(rate) if rate.is_finite() && rate > 0.0 => {
            StageKind::Constant { rate, duration }
        }
        LoadShape::Rate(rate) => {
            return Err(flag_error(
                "--rate",
                &format!("rate {rate} is not positive"),
                "a number > 0 (requests per second)",
            ))
        }
        LoadShape::Concurrency(0) => {
            return Err(flag_error(
                "--concurrency",
                "0 workers",
                "a whole number ≥ 1",
            ))
        }
        LoadShape::Concurrency(workers) => StageKind::Concurrency { workers, duration },
        LoadShape::Burst(0) => {
            return Err(flag_error("--burst", "0 requests", "a whole number ≥ 1"))
        }
        LoadShape::Burst(_) if flags.duration.is_some() => {
            return Err(flag_error(
                "--duration",
                "a burst has no duration: its requests are released at one instant",
                "--burst N alone, or --rate/--concurrency with --duration",
            ))
        }
        LoadShape::Burst(requests) => StageKind::Burst { requests },
    };
    if let (StageKind::Constant { rate, duration }, true) = (&kind, kind.plans_no_request()) {
        return Err(flag_error(
            "--rate",
            &format!(
                "--rate {rate} over --duration {} plans no request (rate × duration is below 1)",
                humantime::format_duration(*duration)
            ),
            "--rate and --duration that make at least one request, such as --rate 2 --duration 1s",
        ));
    }
    let mut scenario = Scenario {
        name: None,
        seed: None,
        target,
        stages: vec![Stage {
            name: kind.label().to_string(),
            kind,
        }],
        thresholds: Thresholds::default(),
        emulator: None,
        retry: Default::default(),
        request: Default::default(),
        abort: None,
        aws: None,
        data: Vec::new(),
        data_sources: Vec::new(),
        requests: None,
        stage_think: vec![None],
    };
    scenario.aws = super::parse::aws_for(None, &scenario.target, url.as_ref());
    flags.amend(&mut scenario)?;
    Ok(scenario)
}

/// `--lambda FUNCTION[:QUALIFIER]`: an invocation (`--invocation`, request-response when not
/// given) with the log tail where Lambda sends one, at the regional endpoint or `--url`.
fn lambda_flag(
    function: &str,
    invocation: Option<stampede_lambda::Invocation>,
    endpoint: Option<&Uri>,
) -> Result<Target> {
    use super::lambda::{invoke_target, region_of, Endpoint, LambdaTarget};
    let expected = "a function name, name:qualifier or an ARN";
    let f = stampede_lambda::FunctionRef::parse(function)
        .map_err(|why| flag_error("--lambda", &why, expected))?;
    let region = region_of(&f, None, |n| std::env::var(n).ok()).ok_or_else(|| {
        flag_error(
            "--lambda",
            "no region for the function",
            "a full ARN, or AWS_REGION in the environment",
        )
    })?;
    let invocation = invocation.unwrap_or(stampede_lambda::Invocation::RequestResponse);
    let lambda = LambdaTarget {
        function: f,
        invocation,
        // Lambda sends no log tail for an event invocation.
        log_tail: invocation != stampede_lambda::Invocation::Event,
        region,
    };
    let at = endpoint.map_or(Endpoint::Aws, Endpoint::Given);
    invoke_target(lambda, Bytes::from_static(b"{}"), at)
        .map_err(|why| flag_error("--lambda", &why, expected))
}

fn header_flag(text: &str) -> Result<(http::HeaderName, http::HeaderValue)> {
    let expected = "NAME: VALUE, such as \"content-type: application/json\"";
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| flag_error("--header", &format!("`{text}` has no colon"), expected))?;
    parse_header(name, value).map_err(|why| flag_error("--header", &why, HEADER_EXPECTED))
}

/// `--abort NAME=VALUE`: one rate's bound, or the window; over what `[abort]` says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AbortFlag {
    /// throttle_rate, error_rate or failure_rate, as a fraction.
    Rate(Metric, f64),
    /// How many of the last seconds are counted.
    Window(Duration),
}

impl AbortFlag {
    /// `throttle_rate=20%`, `window=5s`, …; Err: what is wrong and the form expected.
    pub fn parse(text: &str) -> std::result::Result<AbortFlag, String> {
        let expected = "expected throttle_rate=20%, error_rate=10%, failure_rate=20% or window=5s";
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` has no `=`; {expected}"))?;
        let name = name.trim();
        if let Some(metric) = Metric::from_name(name).filter(|m| AbortRules::RATES.contains(m)) {
            return Ok(AbortFlag::Rate(
                metric,
                Threshold::parse(metric, value)?.limit,
            ));
        }
        match name {
            "window" => humantime::parse_duration(value.trim())
                .ok()
                .filter(|d| d.as_secs() >= 1 && d.subsec_nanos() == 0)
                .map(AbortFlag::Window)
                .ok_or_else(|| format!("`{value}` is not a whole number of seconds; {expected}")),
            other => {
                let mut why = format!("unknown abort rule `{other}`");
                let names = ["throttle_rate", "error_rate", "failure_rate", "window"];
                if let Some(near) = nearest(other, &names) {
                    why.push_str(&format!(" (did you mean `{near}`?)"));
                }
                Err(format!("{why}; {expected}"))
            }
        }
    }

    fn apply(self, rules: &mut Option<AbortRules>) {
        let r = rules.get_or_insert_with(AbortRules::none);
        match self {
            AbortFlag::Rate(metric, limit) => {
                if let Some(bound) = r.rate_mut(metric) {
                    *bound = Some(limit);
                }
            }
            AbortFlag::Window(window) => r.window = window,
        }
    }
}

/// `--threshold NAME=LIMIT`, such as `p99=800ms` or `error_rate=0.1%`; Err: what is wrong
/// and the form expected.
pub fn threshold_flag(text: &str) -> std::result::Result<Threshold, String> {
    let expected = "expected NAME=LIMIT, such as p99=800ms or error_rate=0.1%";
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` has no `=`; {expected}"))?;
    let name = name.trim();
    let metric = Metric::from_name(name).ok_or_else(|| {
        let mut why = format!("unknown threshold `{name}`");
        if let Some(near) = nearest(name, &METRIC_NAMES) {
            why.push_str(&format!(" (did you mean `{near}`?)"));
        }
        format!("{why}; expected one of {}", METRIC_NAMES.join(", "))
    })?;
    Threshold::parse(metric, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abort_flags_set_each_rate_and_the_window() {
        let mut rules = None;
        for flag in ["failure_rate=20%", "throttle_rate=5%", "window=3s"] {
            AbortFlag::parse(flag).unwrap().apply(&mut rules);
        }
        let r = rules.unwrap();
        assert_eq!(
            (r.failure_rate, r.throttle_rate, r.error_rate),
            (Some(0.2), Some(0.05), None)
        );
        assert_eq!(r.window, Duration::from_secs(3));
        let e = AbortFlag::parse("p99=20%").unwrap_err();
        assert!(e.contains("unknown abort rule `p99`"), "{e}");
        let e = AbortFlag::parse("failure_rat=20%").unwrap_err();
        assert!(e.contains("did you mean `failure_rate`?"), "{e}");
        let e = AbortFlag::parse("error_rate=lots").unwrap_err();
        assert!(e.contains("percentage"), "{e}");
        let e = AbortFlag::parse("window=1500ms").unwrap_err();
        assert!(e.contains("whole number of seconds"), "{e}");
    }
}
