//! What watches over a run: `[abort]`, stop early to protect the system under test.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::schema::{self, Percentage, WholeNumber};
use super::{nearest, AbortRules, Metric, RequestAbort, Requests, Threshold};
use crate::error::Result;
use crate::located::Source;

/// `[abort]`: stop early (exit 3) when a rate over the last window passes its bound. At
/// least one of the three rates, here or in `requests`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Abort", extend("anyOf" = [
    { "required": ["throttle_rate"] }, { "required": ["error_rate"] }, { "required": ["failure_rate"] },
    { "required": ["requests"] }
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
    /// Per `[[requests]]` entry, by its name: the three rates (only) for that request
    /// alone, counted over its own attempts and requests in the same window.
    #[schemars(with = "Option<BTreeMap<String, RawAbort>>")]
    requests: Option<BTreeMap<Spanned<String>, Spanned<RawAbort>>>,
}

/// The three rates of a table, read.
type Rates = [Option<f64>; 3];

fn rates(src: &Source, raw: &RawAbort) -> Result<Rates> {
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
    Ok([
        rate(&raw.throttle_rate, Metric::ThrottleRate)?,
        rate(&raw.error_rate, Metric::ErrorRate)?,
        rate(&raw.failure_rate, Metric::FailureRate)?,
    ])
}

/// `[abort.requests."NAME"]`: each name a `[[requests]]` entry's, each table rates only.
fn request_rules(
    src: &Source,
    raw: &RawAbort,
    mix: Option<&Requests>,
) -> Result<Vec<RequestAbort>> {
    let names: Vec<&str> = mix.map_or(Vec::new(), |m| m.names());
    let mut out = Vec::new();
    for (name, table) in raw.requests.iter().flatten() {
        if names.is_empty() {
            return Err(src.error(
                name.span(),
                &format!(
                    "[abort.requests] names request `{}`, but the scenario has no [[requests]]",
                    name.get_ref()
                ),
                "[[requests]] entries with a `name`, or the rates in [abort] itself",
            ));
        }
        let Some(entry) = names.iter().position(|n| *n == name.get_ref()) else {
            let mut msg = format!("[abort.requests] names no request `{}`", name.get_ref());
            if let Some(near) = nearest(name.get_ref(), &names) {
                msg.push_str(&format!(" (did you mean `{near}`?)"));
            }
            let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            return Err(src.error(name.span(), &msg, &format!("one of: {}", list.join(", "))));
        };
        let t = table.get_ref();
        if t.window.is_some() || t.min_attempts.is_some() || t.requests.is_some() {
            return Err(src.error(
                table.span(),
                "a request's abort rules take rates only",
                "throttle_rate, error_rate and/or failure_rate (window and min_attempts are [abort]'s, for every rule)",
            ));
        }
        let [throttle_rate, error_rate, failure_rate] = rates(src, t)?;
        if throttle_rate.is_none() && error_rate.is_none() && failure_rate.is_none() {
            return Err(src.error(
                table.span(),
                &format!("[abort.requests.\"{}\"] sets no rule", name.get_ref()),
                "throttle_rate = \"20%\", error_rate = \"10%\" and/or failure_rate = \"20%\"",
            ));
        }
        out.push(RequestAbort {
            request: name.get_ref().clone(),
            entry,
            throttle_rate,
            error_rate,
            failure_rate,
        });
    }
    Ok(out)
}

pub(super) fn abort_rules(
    src: &Source,
    r: &Spanned<RawAbort>,
    mix: Option<&Requests>,
) -> Result<AbortRules> {
    let raw = r.get_ref();
    let mut rules = AbortRules::none();
    for (metric, value) in AbortRules::RATES.into_iter().zip(rates(src, raw)?) {
        if let Some(bound) = rules.rate_mut(metric) {
            *bound = value;
        }
    }
    rules.requests = request_rules(src, raw, mix)?;
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
            "throttle_rate = \"20%\", error_rate = \"10%\" and/or failure_rate = \"20%\" (window = \"5s\" optional), or [abort.requests.\"NAME\"] with them",
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
