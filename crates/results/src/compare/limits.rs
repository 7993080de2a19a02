//! What `compare` calls a regression: a bound per metric (`--max-regress p99=10%,…`), the
//! defaults, and the parsing of the flag. Pure.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::{Error, Result};

/// What `compare` sets side by side, per stage and for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompareMetric {
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
    Mean,
    /// Achieved requests per second.
    Rate,
    ThrottleRate,
    ErrorRate,
    FailureRate,
    /// Retries per logical request.
    Retries,
}

impl CompareMetric {
    pub const ALL: [CompareMetric; 12] = [
        CompareMetric::P50,
        CompareMetric::P90,
        CompareMetric::P95,
        CompareMetric::P99,
        CompareMetric::P999,
        CompareMetric::Max,
        CompareMetric::Mean,
        CompareMetric::Rate,
        CompareMetric::ThrottleRate,
        CompareMetric::ErrorRate,
        CompareMetric::FailureRate,
        CompareMetric::Retries,
    ];

    const NAMES: [&'static str; 12] = [
        "p50",
        "p90",
        "p95",
        "p99",
        "p999",
        "max",
        "mean",
        "rate",
        "throttle_rate",
        "error_rate",
        "failure_rate",
        "retries",
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    fn from_name(name: &str) -> Option<CompareMetric> {
        let i = Self::NAMES.iter().position(|n| *n == name)?;
        Some(Self::ALL[i])
    }

    /// Latency in milliseconds (p50 … mean).
    pub fn is_latency(self) -> bool {
        (self as usize) <= CompareMetric::Mean as usize
    }

    /// A share of requests or attempts (0..1), bounded in percentage points.
    pub fn is_share(self) -> bool {
        matches!(
            self,
            CompareMetric::ThrottleRate
                | CompareMetric::ErrorRate
                | CompareMetric::FailureRate
                | CompareMetric::Retries
        )
    }

    /// True when a higher value is worse (all but the achieved rate).
    pub fn higher_is_worse(self) -> bool {
        self != CompareMetric::Rate
    }
}

/// How far a metric may move the wrong way before it is a regression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// A fraction of the base value (0.1 = 10 %).
    Relative(f64),
    /// Milliseconds (latency only).
    Ms(f64),
    /// Percentage points, as a fraction (0.005 = 0.5 pp; shares only).
    Points(f64),
}

impl Bound {
    /// As the user writes it, with the worse direction's sign: "+10%", "-5%", "+0.5pp".
    pub fn describe(&self, metric: CompareMetric) -> String {
        let sign = if metric.higher_is_worse() { '+' } else { '-' };
        match self {
            Bound::Relative(f) => format!("{sign}{}%", trim(f * 100.0)),
            Bound::Ms(ms) => format!("{sign}{}ms", trim(*ms)),
            Bound::Points(p) => format!("{sign}{}pp", trim(p * 100.0)),
        }
    }

    /// True when moving from `base` to `head` the wrong way goes past this bound.
    pub fn exceeded(&self, metric: CompareMetric, base: f64, head: f64) -> bool {
        let worse_by = if metric.higher_is_worse() {
            head - base
        } else {
            base - head
        };
        if worse_by <= 0.0 {
            return false;
        }
        match self {
            Bound::Relative(f) => base <= 0.0 || worse_by > f * base,
            Bound::Ms(ms) | Bound::Points(ms) => worse_by > *ms,
        }
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The bound of each gated metric; a metric not in the map is shown but not gated.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits(pub BTreeMap<CompareMetric, Bound>);

impl Default for Limits {
    /// p50, p90, p99 +10 %; throttle and failure rate +0.5 pp; achieved rate -5 %. The
    /// others (p95, p99.9, max, mean, error rate, retries) are shown, not gated: max is one
    /// request, and the rest move with the gated ones.
    fn default() -> Limits {
        use CompareMetric::*;
        Limits(BTreeMap::from([
            (P50, Bound::Relative(0.10)),
            (P90, Bound::Relative(0.10)),
            (P99, Bound::Relative(0.10)),
            (ThrottleRate, Bound::Points(0.005)),
            (FailureRate, Bound::Points(0.005)),
            (Rate, Bound::Relative(0.05)),
        ]))
    }
}

const FLAG: &str = "--max-regress";
const FORM: &str =
    "NAME=BOUND, comma-separated: p99=10% or p99=+50ms (latency: % of the base or ms), \
throttle_rate=+0.5pp (shares: percentage points), rate=-5% (achieved req/s), NAME=off (not gated)";

impl Limits {
    /// Applies `--max-regress` values over the defaults, in order. Each bad item is named
    /// with its position in the flag's value.
    pub fn apply(&mut self, flag_values: &[String]) -> Result<()> {
        for value in flag_values {
            let mut at = 0;
            for item in value.split(',') {
                self.apply_one(item.trim(), value, at)?;
                at += item.chars().count() + 1;
            }
        }
        Ok(())
    }

    fn apply_one(&mut self, item: &str, value: &str, at: usize) -> Result<()> {
        let bad = |why: String| {
            Error::flag(
                FLAG,
                &format!("{why} (at column {} of `{value}`)", at + 1),
                FORM,
            )
        };
        let (name, bound) = item
            .split_once('=')
            .ok_or_else(|| bad(format!("`{item}` has no `=`")))?;
        let (name, bound) = (name.trim(), bound.trim());
        let metric = CompareMetric::from_name(name).ok_or_else(|| {
            let mut why = format!("unknown metric `{name}`");
            if let Some(near) = nearest(name, &CompareMetric::NAMES) {
                why.push_str(&format!(" (did you mean `{near}`?)"));
            }
            bad(why)
        })?;
        if bound.eq_ignore_ascii_case("off") {
            self.0.remove(&metric);
            return Ok(());
        }
        let parsed = parse_bound(metric, bound).map_err(|why| bad(format!("{name}: {why}")))?;
        self.0.insert(metric, parsed);
        Ok(())
    }
}

/// "10%", "+10%", "+50ms", "0.5pp" for `metric`; the sign, when given, must be the worse
/// direction's.
fn parse_bound(metric: CompareMetric, text: &str) -> std::result::Result<Bound, String> {
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (Some('+'), &text[1..]),
        Some(b'-') => (Some('-'), &text[1..]),
        _ => (None, text),
    };
    let worse = if metric.higher_is_worse() { '+' } else { '-' };
    if let Some(s) = sign.filter(|s| *s != worse) {
        return Err(format!(
            "`{text}`: {} gets worse {}, so its bound is written {worse}N (or N), not {s}N",
            metric.name(),
            if worse == '+' { "upward" } else { "downward" }
        ));
    }
    let number = |digits: &str| {
        digits
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("`{text}` is not a number with a unit"))
    };
    if let Some(d) = rest.strip_suffix("pp") {
        if !metric.is_share() {
            return Err(format!("`{text}`: percentage points bound shares (throttle_rate, error_rate, failure_rate, retries), not {}", metric.name()));
        }
        return Ok(Bound::Points(number(d)? / 100.0));
    }
    if let Some(d) = rest.strip_suffix('%') {
        if metric.is_share() {
            return Err(format!(
                "`{text}`: {} is itself a percentage; bound it in percentage points, such as +0.5pp",
                metric.name()
            ));
        }
        return Ok(Bound::Relative(number(d)? / 100.0));
    }
    if metric.is_latency() {
        if let Ok(d) = humantime::parse_duration(rest.trim()) {
            return Ok(Bound::Ms(d.as_secs_f64() * 1000.0));
        }
    }
    Err(format!("`{text}` has no unit we know"))
}

/// The name in `valid` closest to `given`, when it is close enough to be a typo.
fn nearest<'n>(given: &str, valid: &[&'n str]) -> Option<&'n str> {
    valid
        .iter()
        .map(|v| (strsim::jaro_winkler(given, v), *v))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(values: &[&str]) -> Result<Limits> {
        let mut l = Limits::default();
        l.apply(&values.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
        Ok(l)
    }

    #[test]
    fn flags_set_bounds_over_the_defaults() {
        let l = limits(&["p99=20%,max=+50ms", "throttle_rate=+1pp,rate=-10%,p50=off"]).unwrap();
        assert_eq!(l.0[&CompareMetric::P99], Bound::Relative(0.2));
        assert_eq!(l.0[&CompareMetric::Max], Bound::Ms(50.0));
        assert_eq!(l.0[&CompareMetric::ThrottleRate], Bound::Points(0.01));
        assert_eq!(l.0[&CompareMetric::Rate], Bound::Relative(0.1));
        assert!(!l.0.contains_key(&CompareMetric::P50));
        assert_eq!(
            l.0[&CompareMetric::P90],
            Bound::Relative(0.1),
            "default kept"
        );
        assert_eq!(
            l.0[&CompareMetric::Max].describe(CompareMetric::Max),
            "+50ms"
        );
        assert_eq!(
            l.0[&CompareMetric::Rate].describe(CompareMetric::Rate),
            "-10%"
        );
    }

    #[test]
    fn bad_bounds_say_where_and_what_was_expected() {
        for (value, says) in [
            (
                "p99=10%,p98=5%",
                "unknown metric `p98` (did you mean `p99`?) (at column 9",
            ),
            ("throttle_rate=1%", "bound it in percentage points"),
            ("p99=+10pp", "percentage points bound shares"),
            ("rate=+5%", "gets worse downward"),
            ("p99", "has no `=`"),
            ("p99=fast", "no unit we know"),
            ("p99=-5%", "written +N"),
        ] {
            let e = limits(&[value]).unwrap_err().to_string();
            assert!(e.contains(says), "{value}: {e}");
            assert!(e.starts_with("--max-regress: "), "{e}");
            assert!(e.contains("expected: NAME=BOUND"), "{e}");
        }
    }

    #[test]
    fn a_bound_is_exceeded_only_the_worse_way() {
        let p99 = CompareMetric::P99;
        assert!(Bound::Relative(0.1).exceeded(p99, 100.0, 111.0));
        assert!(!Bound::Relative(0.1).exceeded(p99, 100.0, 110.0));
        assert!(!Bound::Relative(0.1).exceeded(p99, 100.0, 50.0));
        assert!(Bound::Relative(0.05).exceeded(CompareMetric::Rate, 100.0, 94.0));
        assert!(!Bound::Relative(0.05).exceeded(CompareMetric::Rate, 100.0, 200.0));
        assert!(Bound::Points(0.005).exceeded(CompareMetric::ThrottleRate, 0.0, 0.006));
        assert!(Bound::Ms(5.0).exceeded(p99, 10.0, 15.5));
    }
}
