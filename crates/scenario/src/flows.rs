//! `[[flows]]`: sequences of `[[requests]]` run one after another, as a user's session is
//! (log in, create an order, read it back). The rotation then picks a flow, not a
//! request, from each logical number; a step's captures feed the later steps' templates.
//! Read here: the names, weights, steps (names of requests) and think time, and the rule
//! that a `{{captured.X}}` needs an earlier step of every flow that sends it to capture X.

use std::ops::Range;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::data::span_in_string as inner;
use super::requests::RequestEntry;
use super::schema::WholeNumber;
use crate::error::Result;
use crate::located::Source;
use stampede_mix::Rotation;

/// The most `[[flows]]` a scenario may have (each is a row of the results and reports).
pub const FLOWS_MAX: usize = 100;
/// The most steps a flow may have: also how many logical request numbers each flow
/// reserves (step `s` of flow number `f` is request `f × STEP_SPAN + s`).
pub const STEP_SPAN: u64 = 32;

/// The forms `think` takes, for errors and the schema.
pub const THINK_FORM: &str =
    "a duration such as \"2s\" (a fixed pause) or \"1s..3s\" (drawn uniformly between them)";

/// One `[[flows]]` entry: requests sent one after another by one simulated user.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "FlowEntry")]
pub(super) struct RawFlowEntry {
    /// Names the flow in the results (`by_flow`) and thresholds: unique, required.
    #[schemars(with = "String", extend("minLength" = 1))]
    name: Option<Spanned<String>>,
    /// Its share of the flows started: a whole number ≥ 1 (default 1).
    #[schemars(with = "Option<WholeNumber>")]
    weight: Option<Spanned<Value>>,
    /// Names of [[requests]] entries, sent in this order (1 to 32; repeats allowed).
    #[schemars(with = "Vec<String>", extend("minItems" = 1, "maxItems" = 32))]
    steps: Option<Spanned<Vec<Spanned<String>>>>,
    /// A pause between consecutive steps: "2s", or "1s..3s" drawn uniformly.
    #[schemars(with = "Option<String>")]
    think: Option<Spanned<Value>>,
}

/// A pause between steps: fixed (`min == max`) or drawn uniformly from `min..=max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Think {
    pub min: Duration,
    pub max: Duration,
}

impl Think {
    /// `"2s"` or `"1s..3s"`; the error says what is wrong, and at which byte of the text.
    pub fn parse(text: &str) -> std::result::Result<Think, (Range<usize>, String)> {
        let one = |part: &str, at: usize| {
            let trimmed = part.trim();
            let lead = part.len() - part.trim_start().len();
            humantime::parse_duration(trimmed).map_err(|_| {
                let start = at + lead;
                (
                    start..start + trimmed.len(),
                    format!("bad duration `{trimmed}` in think"),
                )
            })
        };
        let think = match text.split_once("..") {
            None => {
                let d = one(text, 0)?;
                Think { min: d, max: d }
            }
            Some((a, b)) => {
                let min = one(a, 0)?;
                let max = one(b, a.len() + 2)?;
                if min > max {
                    return Err((
                        0..text.len(),
                        format!("think `{text}` goes from longer to shorter"),
                    ));
                }
                Think { min, max }
            }
        };
        Ok(think)
    }

    /// The pause for a draw `u` (any u64: uniform over the range).
    pub fn pick(&self, u: u64) -> Duration {
        let span = self.max.saturating_sub(self.min).as_nanos();
        if span == 0 {
            return self.min;
        }
        let offset = (u as u128 * (span + 1)) >> 64;
        self.min + Duration::from_nanos(offset as u64)
    }
}

impl std::fmt::Display for Think {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = |d: Duration| humantime::format_duration(d).to_string();
        if self.min == self.max {
            f.write_str(&text(self.min))
        } else {
            write!(f, "{}..{}", text(self.min), text(self.max))
        }
    }
}

/// One flow, compiled: its steps are indices into the mix's entries.
#[derive(Clone, Debug)]
pub struct Flow {
    pub name: String,
    pub weight: u64,
    pub steps: Vec<usize>,
    pub think: Option<Think>,
}

/// The flows and which of them flow number f runs.
#[derive(Clone, Debug)]
pub struct Flows {
    pub entries: Vec<Flow>,
    pub rotation: Rotation,
    /// Requests no flow names: never sent (the preflight says so).
    pub unused: Vec<usize>,
}

impl Flows {
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|f| f.name.as_str()).collect()
    }

    /// The requests a flow sends on average: its steps, weighted as the flows are picked.
    pub fn steps_per_flow(&self) -> f64 {
        let weights: u64 = self.entries.iter().map(|f| f.weight).sum();
        let steps: u64 = self
            .entries
            .iter()
            .map(|f| f.weight * f.steps.len() as u64)
            .sum();
        steps as f64 / weights.max(1) as f64
    }

    /// The think time a flow spends on average (its mean pause between each two steps),
    /// weighted as the flows are picked: with its steps' latency, how long a flow holds
    /// its connection.
    pub fn think_per_flow(&self) -> std::time::Duration {
        let weights: u64 = self.entries.iter().map(|f| f.weight).sum();
        let total: f64 = self
            .entries
            .iter()
            .filter_map(|f| {
                let think = f.think?;
                let pauses = f.steps.len().saturating_sub(1) as f64;
                let mean = (think.min + think.max).as_secs_f64() / 2.0;
                Some(f.weight as f64 * pauses * mean)
            })
            .sum();
        std::time::Duration::from_secs_f64(total / weights.max(1) as f64)
    }

    /// How many times each request of the mix is a step of flows run `counts[f]` times.
    pub fn requests_of(&self, flow_counts: &[u64], requests: usize) -> Vec<u64> {
        let mut out = vec![0u64; requests];
        for (flow, n) in self.entries.iter().zip(flow_counts) {
            for step in &flow.steps {
                out[*step] += n;
            }
        }
        out
    }
}

/// Compiles request `entry` again with only the names given captured, and a note saying
/// which flow and step (see [`flows`]).
pub(super) type Recheck<'a> = dyn Fn(usize, &[String], String) -> Result<()> + 'a;

/// The logical request number of step `step` of flow number `f`.
#[inline]
pub fn step_number(f: u64, step: usize) -> u64 {
    f.wrapping_mul(STEP_SPAN).wrapping_add(step as u64)
}

/// Reads `[[flows]]` against the compiled requests. `recheck(entry, captured, note)`
/// compiles request `entry` again with only `captured` in scope, to place the error of a
/// `{{captured.X}}` no earlier step sets inside its template.
pub(super) fn flows(
    src: &Source,
    raw: &[Spanned<RawFlowEntry>],
    requests: &[RequestEntry],
    recheck: &Recheck,
) -> Result<Flows> {
    if raw.len() > FLOWS_MAX {
        return Err(src.error(
            raw[FLOWS_MAX].span(),
            &format!("{} [[flows]] entries; at most {FLOWS_MAX}", raw.len()),
            &format!("at most {FLOWS_MAX} flows"),
        ));
    }
    let names: Vec<&str> = requests.iter().map(|r| r.name.as_str()).collect();
    let mut entries: Vec<Flow> = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let flow = flow(src, r, i + 1, &names)?;
        if entries.iter().any(|e| e.name == flow.name) {
            let span = r.get_ref().name.as_ref().map_or(r.span(), |n| n.span());
            return Err(src.error(
                span,
                &format!("duplicate flow name `{}`", flow.name),
                "flow names that differ: results and thresholds are keyed by them",
            ));
        }
        check_captures(&flow, requests, recheck)?;
        entries.push(flow);
    }
    let weights: Vec<u64> = entries.iter().map(|f| f.weight).collect();
    let rotation = Rotation::new(&weights).map_err(|why| {
        src.error(
            raw[0].span(),
            &format!("the weights of [[flows]] make no mix: {why}"),
            "whole-number weights ≥ 1 whose sum (after dividing out their common factor) is at most 1,000,000",
        )
    })?;
    let unused = (0..requests.len())
        .filter(|r| !entries.iter().any(|f| f.steps.contains(r)))
        .collect();
    Ok(Flows {
        entries,
        rotation,
        unused,
    })
}

fn flow(src: &Source, r: &Spanned<RawFlowEntry>, index: usize, names: &[&str]) -> Result<Flow> {
    let raw = r.get_ref();
    let name = match &raw.name {
        None => {
            return Err(src.error(
                r.span(),
                &format!("flow {index} has no name"),
                "name = \"…\": a short unique name such as \"buy\"",
            ))
        }
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(src.error(n.span(), "empty flow name", "a short unique name"))
        }
        Some(n) => n.get_ref().clone(),
    };
    let weight = match &raw.weight {
        Some(w) => src.whole_number(w, "weight")?,
        None => 1,
    };
    let Some(steps_raw) = &raw.steps else {
        return Err(src.error(
            r.span(),
            &format!("flow `{name}` has no steps"),
            "steps = [\"login\", \"create order\"]: names of [[requests]] entries",
        ));
    };
    let list = steps_raw.get_ref();
    if list.is_empty() || list.len() > STEP_SPAN as usize {
        return Err(src.error(
            steps_raw.span(),
            &format!("flow `{name}` has {} steps", list.len()),
            &format!("1 to {STEP_SPAN} names of [[requests]] entries"),
        ));
    }
    let mut steps = Vec::with_capacity(list.len());
    for step in list {
        match names.iter().position(|n| *n == step.get_ref()) {
            Some(i) => steps.push(i),
            None => {
                let span = inner(src, step.span(), 0..step.get_ref().len());
                return Err(src.unknown(span, "request", step.get_ref(), names));
            }
        }
    }
    let think = match &raw.think {
        None => None,
        Some(v) => Some(think(src, v)?),
    };
    Ok(Flow {
        name,
        weight,
        steps,
        think,
    })
}

/// `think = "2s"` or `"1s..3s"`, its errors inside the string.
pub(super) fn think(src: &Source, v: &Spanned<Value>) -> Result<Think> {
    let Value::String(text) = v.get_ref() else {
        return Err(src.error(
            v.span(),
            &format!("`think` is a {}, not a duration", v.get_ref().type_str()),
            THINK_FORM,
        ));
    };
    Think::parse(text).map_err(|(at, why)| src.error(inner(src, v.span(), at), &why, THINK_FORM))
}

/// Every `{{captured.X}}` of a step is captured by an earlier step of the flow.
fn check_captures(flow: &Flow, requests: &[RequestEntry], recheck: &Recheck) -> Result<()> {
    let mut before: Vec<String> = Vec::new();
    for (s, &e) in flow.steps.iter().enumerate() {
        let entry = &requests[e];
        let templates = [&entry.target, &entry.body]
            .into_iter()
            .chain(entry.headers.iter().map(|(_, v)| v));
        let missing = templates
            .flat_map(|t| t.captured_names())
            .any(|n| !before.iter().any(|b| b == n));
        if missing {
            let captured = if before.is_empty() {
                "nothing is captured before it".to_string()
            } else {
                format!("captured before it: {}", before.join(", "))
            };
            let note = format!(
                "in flow `{}`, step {} `{}`; {captured}",
                flow.name,
                s + 1,
                entry.name
            );
            recheck(e, &before, note)?;
        }
        for c in &entry.captures {
            if !before.contains(&c.name) {
                before.push(c.name.clone());
            }
        }
    }
    Ok(())
}

/// The names any request captures: what templates may name when there are flows (each
/// flow's steps are then checked against what is captured before them).
pub(super) fn all_capture_names(raw: &[Spanned<super::requests::RawRequestEntry>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in raw {
        for name in r.get_ref().capture_names() {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_is_a_duration_or_a_range() {
        let ms = Duration::from_millis;
        assert_eq!(
            Think::parse("200ms"),
            Ok(Think {
                min: ms(200),
                max: ms(200)
            })
        );
        assert_eq!(
            Think::parse("1s..3s"),
            Ok(Think {
                min: ms(1000),
                max: ms(3000)
            })
        );
        assert_eq!(Think::parse(" 1s .. 2s").unwrap().max, ms(2000));
        let (at, why) = Think::parse("1s..3x").unwrap_err();
        assert_eq!(at, 4..6);
        assert!(why.contains("3x"), "{why}");
        assert_eq!(Think::parse("soon").unwrap_err().0, 0..4);
        assert!(Think::parse("3s..1s").is_err());
        assert_eq!(Think::parse("1s..3s").unwrap().to_string(), "1s..3s");
        assert_eq!(Think::parse("2s").unwrap().to_string(), "2s");
    }

    #[test]
    fn a_pause_is_drawn_within_its_range() {
        let t = Think::parse("1s..3s").unwrap();
        assert_eq!(t.pick(0), Duration::from_secs(1));
        assert_eq!(t.pick(u64::MAX), Duration::from_secs(3));
        let mid = t.pick(u64::MAX / 2);
        assert!(mid > Duration::from_millis(1990) && mid < Duration::from_millis(2010));
        let fixed = Think::parse("200ms").unwrap();
        assert_eq!(fixed.pick(12345), Duration::from_millis(200));
    }

    #[test]
    fn steps_are_numbered_within_their_flows_span() {
        assert_eq!(step_number(0, 0), 0);
        assert_eq!(step_number(3, 2), 98);
        // Distinct for every (flow, step) within the span.
        let mut seen: Vec<u64> = (0..10)
            .flat_map(|f| (0..STEP_SPAN as usize).map(move |s| step_number(f, s)))
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 10 * STEP_SPAN as usize);
    }
}

#[cfg(test)]
mod parse_tests {
    use crate::parse_str;
    use std::path::Path;

    const MIX: &str = r#"
[target]
url = "http://127.0.0.1:9"
[[requests]]
name = "login"
method = "POST"
path = "/login"
capture = { token = "json:/token" }
[[requests]]
name = "create order"
method = "POST"
path = "/orders"
headers = { authorization = "Bearer {{captured.token}}" }
capture = { id = "json:/id" }
[[requests]]
name = "get order"
path = "/orders/{{captured.id}}"
headers = { authorization = "Bearer {{captured.token}}" }
[[requests]]
name = "health"
path = "/health"
[[stages]]
name = "steady"
kind = "constant"
rate = 10
duration = "1s"
"#;

    fn parse(flows: &str) -> Result<crate::Scenario, String> {
        parse_str(Path::new("s.toml"), &format!("{MIX}{flows}"), None).map_err(|e| e.to_string())
    }

    /// The line and column of the first `needle` in the whole scenario text.
    fn place(flows: &str, needle: &str) -> String {
        let text = format!("{MIX}{flows}");
        let at = text.find(needle).unwrap();
        let line = text[..at].matches('\n').count() + 1;
        let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("s.toml:{line}:{col}:")
    }

    #[test]
    fn flows_name_their_steps_and_the_rotation_is_over_them() {
        let s = parse(
            "[[flows]]\nname = \"buy\"\nweight = 3\nsteps = [\"login\", \"create order\", \"get order\"]\nthink = \"1s..2s\"\n\
             [[flows]]\nname = \"browse\"\nsteps = [\"login\", \"get order\", \"get order\"]\n",
        );
        // browse reads {{captured.id}} no step of it captured.
        let e = s.unwrap_err();
        assert!(e.contains("no earlier step captures \"id\""), "{e}");
        assert!(e.contains("flow `browse`, step 2 `get order`"), "{e}");
        assert!(e.contains("captured before it: token"), "{e}");
        let flows = "[[flows]]\nname = \"buy\"\nweight = 3\nsteps = [\"login\", \"create order\", \"get order\"]\nthink = \"1s..2s\"\n";
        let s = parse(flows).unwrap();
        let f = s.requests.unwrap().flows.unwrap();
        assert_eq!(f.entries[0].steps, vec![0, 1, 2]);
        assert_eq!(f.entries[0].think.unwrap().to_string(), "1s..2s");
        assert_eq!(f.unused, vec![3]);
        assert_eq!(f.requests_of(&[10], 4), vec![10, 10, 10, 0]);
        assert_eq!(f.steps_per_flow(), 3.0);
        // Two pauses of 1.5 s on average: the flow holds its connection 3 s besides its steps.
        assert_eq!(f.think_per_flow(), std::time::Duration::from_secs(3));
    }

    #[test]
    fn bad_flows_are_located_inside_the_string() {
        let flows = "[[flows]]\nname = \"buy\"\nsteps = [\"login\", \"create ordr\"]\n";
        let e = parse(flows).unwrap_err();
        assert!(e.starts_with(&place(flows, "create ordr")), "{e}");
        assert!(e.contains("did you mean `create order`"), "{e}");
        assert!(e.contains("health"), "{e}");
        let flows = "[[flows]]\nname = \"buy\"\nsteps = [\"get order\"]\n";
        let e = parse(flows).unwrap_err();
        // The template of get order's path, at the name inside {{captured.id}}.
        assert!(e.starts_with(&place(flows, "id}}")), "{e}");
        assert!(e.contains("nothing is captured before it"), "{e}");
        let flows = "[[flows]]\nname = \"buy\"\nsteps = [\"login\"]\nthink = \"1s..3x\"\n";
        let e = parse(flows).unwrap_err();
        assert!(e.starts_with(&place(flows, "3x")), "{e}");
        let flows = "[[flows]]\nname = \"buy\"\nsteps = []\n";
        assert!(parse(flows).unwrap_err().contains("has 0 steps"));
        let twice = "[[flows]]\nname = \"a\"\nsteps = [\"login\"]\n[[flows]]\nname = \"a\"\nsteps = [\"login\"]\n";
        assert!(parse(twice).unwrap_err().contains("duplicate flow name"));
        // Without flows, a captured name stays an error wherever it is.
        let e = parse("").unwrap_err();
        assert!(e.contains("no earlier step captures \"token\""), "{e}");
    }
}
