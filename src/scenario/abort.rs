//! What watches over a run: `[abort]`, stop early to protect the system under test.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::schema::{self, Percentage, WholeNumber};
use super::{AbortRules, Metric, Threshold};
use crate::error::Result;
use crate::located::Source;

/// `[abort]`: stop early (exit 3) when a rate over the last window passes its bound. At
/// least one of the three rates.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Abort", extend("anyOf" = [
    { "required": ["throttle_rate"] }, { "required": ["error_rate"] }, { "required": ["failure_rate"] }
]))]
pub(super) struct RawAbort {
    /// Throttled attempts / attempts answered in the window.
    #[schemars(with = "Option<Percentage>")]
    throttle_rate: Option<Spanned<Value>>,
    /// Requests that ended in an error other than a throttle / requests ended in the window.
    #[schemars(with = "Option<Percentage>")]
    error_rate: Option<Spanned<Value>>,
    /// Requests that ended throttled or failed / requests ended in the window.
    #[schemars(with = "Option<Percentage>")]
    failure_rate: Option<Spanned<Value>>,
    /// How many of the last seconds are counted: whole seconds (default "5s").
    #[schemars(with = "Option<schema::Duration>")]
    window: Option<Spanned<Value>>,
    /// No rule trips while fewer attempts were answered in the window (default 20).
    #[schemars(with = "Option<WholeNumber>")]
    min_attempts: Option<Spanned<Value>>,
}

pub(super) fn abort_rules(src: &Source, r: &Spanned<RawAbort>) -> Result<AbortRules> {
    let raw = r.get_ref();
    let rate = |v: &Option<Spanned<Value>>, metric: Metric| -> Result<Option<f64>> {
        let Some(v) = v else { return Ok(None) };
        let parsed = match v.get_ref() {
            Value::String(s) => Threshold::parse(metric, s).map(|t| t.limit),
            other => Err(format!(
                "`{}` is a {}, not a rate",
                metric.name(),
                other.type_str()
            )),
        };
        parsed
            .map(Some)
            .map_err(|why| src.error(v.span(), &why, metric.expected_form()))
    };
    let mut rules = AbortRules::none();
    for (metric, value) in
        AbortRules::RATES
            .into_iter()
            .zip([&raw.throttle_rate, &raw.error_rate, &raw.failure_rate])
    {
        if let Some(bound) = rules.rate_mut(metric) {
            *bound = rate(value, metric)?;
        }
    }
    if let Some(v) = &raw.window {
        rules.window = window(src, v)?;
    }
    if let Some(v) = &raw.min_attempts {
        rules.min_attempts = src.whole_number(v, "min_attempts")?;
    }
    if !rules.has_rule() {
        return Err(src.error(
            r.span(),
            "[abort] sets no rule",
            "throttle_rate = \"20%\", error_rate = \"10%\" and/or failure_rate = \"20%\" (window = \"5s\" optional)",
        ));
    }
    Ok(rules)
}

/// The window is counted in whole seconds of the timeline.
fn window(src: &Source, v: &Spanned<Value>) -> Result<Duration> {
    let d = src.duration(v, "window")?;
    if d < Duration::from_secs(1) || d.subsec_nanos() != 0 {
        return Err(src.error(
            v.span(),
            "the abort window is counted in whole seconds",
            "a whole number of seconds, at least 1s, such as \"5s\"",
        ));
    }
    Ok(d)
}
