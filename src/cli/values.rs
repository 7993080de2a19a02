//! The typed values of flags: a bad one is clap's error (exit 2) naming the flag, the
//! value and the form expected.

use std::time::{Duration, SystemTime};

use crate::scenario::shard::{parse_start_at, SHARD_FORM};
use crate::scenario::{Metric, Shard, Threshold, METRIC_NAMES};

/// A duration ("30s", "250ms", "2m"; zero too), for clap.
pub(super) fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|_| "expected a duration, such as 30s, 250ms or 2m".into())
}

/// A duration above zero ("30s", "250ms", "2m"), for clap.
pub(super) fn positive_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err("expected a duration above zero, such as 30s, 250ms or 2m".into()),
    }
}

/// `--rate`: requests per second, a number above zero ("200", "0.5").
pub(super) fn rate(text: &str) -> Result<f64, String> {
    let expected = "expected a number > 0 (requests per second), such as 200 or 0.5";
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        Ok(r) => Err(format!("rate {r} is not positive; {expected}")),
        Err(_) => Err(expected.into()),
    }
}

/// `--invocation`: how `--lambda` invokes ("request-response", "event", "stream").
pub(super) fn invocation(text: &str) -> Result<stampede_lambda::Invocation, String> {
    stampede_lambda::Invocation::parse(text.trim()).ok_or_else(|| {
        format!(
            "expected one of {}",
            stampede_lambda::function::INVOCATIONS.join(", ")
        )
    })
}

/// A CloudWatch period: a duration of whole seconds, at least one; in seconds.
pub(super) fn whole_seconds(text: &str) -> Result<u64, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d.subsec_nanos() == 0 && d.as_secs() > 0 => Ok(d.as_secs()),
        _ => Err(
            "expected a whole number of seconds, at least 1s: such as 1m (AWS), or 1s against the emulator"
                .into(),
        ),
    }
}

/// A share written as a percentage ("5%"), kept as a fraction (0.05).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percent(f64);

impl Percent {
    /// The share as a fraction of one: 5% is 0.05.
    pub fn fraction(self) -> f64 {
        self.0
    }
}

/// `--precision`: a percentage strictly between 0% and 100%.
pub(super) fn precision(text: &str) -> Result<Percent, String> {
    let number = text
        .trim()
        .strip_suffix('%')
        .and_then(|n| n.trim().parse::<f64>().ok());
    match number {
        Some(n) if n > 0.0 && n < 100.0 => Ok(Percent(n / 100.0)),
        _ => Err("expected a percentage between 0% and 100%, such as 5%".into()),
    }
}

/// `--slo`: the bounds a step must meet, and each as written (`NAME=LIMIT`).
#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    pub bounds: Vec<Threshold>,
    pub written: Vec<String>,
}

/// `p99=800ms,throttle_rate=1%,failure_rate=0.5%`.
pub(super) fn slo(text: &str) -> Result<Slo, String> {
    let expected = "expected NAME=LIMIT,… such as p99=800ms,throttle_rate=1%,failure_rate=0.5%";
    let mut slo = Slo {
        bounds: Vec::new(),
        written: Vec::new(),
    };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` has no `=`; {expected}"))?;
        let metric = Metric::from_name(name.trim()).ok_or_else(|| {
            format!(
                "unknown metric `{}`; expected one of {}",
                name.trim(),
                METRIC_NAMES.join(", ")
            )
        })?;
        let bound = Threshold::parse(metric, value.trim())?;
        slo.written
            .push(format!("{}={}", metric.name(), value.trim()));
        slo.bounds.push(bound);
    }
    if slo.bounds.is_empty() {
        return Err(format!("no bound given; {expected}"));
    }
    Ok(slo)
}

/// `--shard I/N`.
pub(super) fn shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text).map_err(|why| format!("{why}; expected {SHARD_FORM}"))
}

/// `--start-at`: RFC 3339 with its offset, or Unix seconds.
pub(super) fn start_at(text: &str) -> Result<SystemTime, String> {
    parse_start_at(text).map_err(|why| {
        format!(
            "{why}; expected such as 2026-11-27T21:00:00Z, 2026-11-27T22:00:00+01:00 or 1795813200"
        )
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::scenario::threshold_flag;

    /// The error clap gives for `args`, as the user sees it.
    fn refused(args: &[&str]) -> String {
        let e = Cli::try_parse_from(std::iter::once("stampede").chain(args.iter().copied()))
            .expect_err("refused");
        assert_eq!(e.exit_code(), 2, "{e}");
        e.to_string()
    }

    #[test]
    fn latencies_of_ok_requests_are_metrics_of_slo_and_threshold() {
        let bounds = slo("ok_p99=300ms,failure_rate=1%").unwrap().bounds;
        assert_eq!(bounds[0].metric, Metric::OkP99);
        assert_eq!(bounds[0].limit, 300.0);
        let t = threshold_flag("ok_mean=50ms").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::OkMean, 50.0));
        assert!(slo("ok_p42=1s").unwrap_err().contains("ok_p99"));
    }

    #[test]
    fn bad_values_name_the_flag_and_the_form_expected() {
        let url = ["run", "--url", "http://127.0.0.1:9/", "--burst", "1"];
        for (flag, bad, says) in [
            ("--grace", "soon", "a duration, such as 30s"),
            (
                "--rate",
                "-5",
                "rate -5 is not positive; expected a number > 0",
            ),
            (
                "--rate",
                "lots",
                "expected a number > 0 (requests per second)",
            ),
            ("--cloudwatch-wait", "x", "a duration, such as 30s"),
            ("--cloudwatch-period", "1500ms", "a whole number of seconds"),
            ("--cloudwatch-period", "0s", "at least 1s"),
            ("--expect-latency", "0ms", "a duration above zero"),
            ("--shard", "3/3", "shards are numbered 0 to 2; expected I/N"),
            ("--shard", "1-3", "`1-3` is not I/N"),
            ("--start-at", "tomorrow", "neither an RFC 3339 time"),
        ] {
            let mut args = url.to_vec();
            args.extend([flag, bad]);
            let e = refused(&args);
            assert!(
                e.contains(&format!("invalid value '{bad}' for '{flag} <")) && e.contains(says),
                "{flag} {bad}: {e:?}"
            );
        }
        let e = refused(&["probe", "--url", "http://127.0.0.1:9/", "--precision", "0%"]);
        assert!(
            e.contains("'--precision <PERCENT>'") && e.contains("between 0% and 100%"),
            "{e}"
        );
        let e = refused(&[
            "probe",
            "--url",
            "http://127.0.0.1:9/",
            "--slo",
            "latency=1s",
        ]);
        assert!(
            e.contains("'--slo <NAME=LIMIT,…>'") && e.contains("unknown metric `latency`"),
            "{e}"
        );
        let e = refused(&["probe", "--url", "http://127.0.0.1:9/", "--slo", "p99=fast"]);
        assert!(e.contains("`fast` is not a valid limit for p99"), "{e}");
        let e = refused(&["probe", "--url", "http://127.0.0.1:9/", "--step", "0s"]);
        assert!(
            e.contains("'--step <DURATION>'") && e.contains("above zero"),
            "{e}"
        );
        let e = refused(&[
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--burst",
            "1",
            "--abort",
            "throttle_rat=5%",
        ]);
        assert!(
            e.contains("'--abort <NAME=RATE>'") && e.contains("did you mean `throttle_rate`?"),
            "{e}"
        );
        let e = refused(&[
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--burst",
            "1",
            "--threshold",
            "p99",
        ]);
        assert!(
            e.contains("'--threshold <NAME=LIMIT>'") && e.contains("`p99` has no `=`"),
            "{e}"
        );
        let e = refused(&["merge", "a.json", "--out", "m.json", "--wait", "long"]);
        assert!(e.contains("'--wait <DURATION>'"), "{e}");
        let e = refused(&["compare", "a.json", "b.json", "--noise-floor", "loud"]);
        assert!(e.contains("'--noise-floor <DURATION>'"), "{e}");
    }

    #[test]
    fn commands_get_typed_values() {
        let cli = Cli::try_parse_from([
            "stampede",
            "probe",
            "--url",
            "http://127.0.0.1:9/",
            "--precision",
            "2.5%",
            "--settle",
            "0s",
            "--shard",
            "1/3",
            "--expect-latency",
            "250ms",
        ])
        .unwrap();
        let Command::Probe(p) = cli.command else {
            panic!("a probe")
        };
        assert_eq!(p.precision.fraction(), 0.025);
        assert_eq!(p.settle, Duration::ZERO);
        assert_eq!(p.step, Duration::from_secs(10), "the default, parsed");
        assert_eq!(p.load.shard, Some(Shard::new(1, 3).unwrap()));
        assert_eq!(p.load.expect_latency, Some(Duration::from_millis(250)));
        let cli = Cli::try_parse_from([
            "stampede",
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--burst",
            "1",
            "--cloudwatch-period",
            "1m",
            "--start-at",
            "1795813200",
        ])
        .unwrap();
        let Command::Run(r) = cli.command else {
            panic!("a run")
        };
        assert_eq!(r.cloudwatch_period, Some(60));
        assert_eq!(r.traffic.grace, Duration::from_secs(5));
        assert_eq!(
            r.start_at,
            Some(std::time::UNIX_EPOCH + Duration::from_secs(1_795_813_200))
        );
    }
}
