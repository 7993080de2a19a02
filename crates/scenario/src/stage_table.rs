//! One `[[stages]]` table read: its kind, the keys that kind takes (and refuses), and the
//! stage it makes. The scenario's parser reads each table with [`stage`].

use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use super::schema::{Duration, Rate, RateOrZero, WholeNumber};
use super::{Stage, StageKind, STAGE_KEYS, STAGE_KINDS};
use crate::error::Result;
use crate::located::Source;

/// One `[[stages]]` table. Its kind says which other keys it takes.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Stage", transform = stage_kinds)]
pub(super) struct RawStage {
    /// Names the stage in reports, results and [thresholds.stages] (default "<kind> <position>").
    #[schemars(with = "Option<String>", extend("minLength" = 1))]
    pub(super) name: Option<Spanned<String>>,
    /// constant, ramp, steps, burst, concurrency or pause.
    #[schemars(with = "String", extend("enum" = STAGE_KINDS))]
    kind: Option<Spanned<String>>,
    /// constant: requests per second.
    #[schemars(with = "Option<Rate>")]
    rate: Option<Spanned<Value>>,
    /// ramp (≥ 0) and steps (> 0): the starting rate.
    #[schemars(with = "Option<RateOrZero>")]
    from: Option<Spanned<Value>>,
    /// ramp (≥ 0) and steps (> 0, ≥ from): the final rate.
    #[schemars(with = "Option<RateOrZero>")]
    to: Option<Spanned<Value>>,
    /// steps: how much each level adds.
    #[schemars(with = "Option<Rate>")]
    step: Option<Spanned<Value>>,
    /// constant, ramp, concurrency, pause: how long the stage lasts.
    #[schemars(with = "Option<Duration>")]
    duration: Option<Spanned<Value>>,
    /// steps: how long each level is held.
    #[schemars(with = "Option<Duration>")]
    hold: Option<Spanned<Value>>,
    /// burst: requests released at one instant.
    #[schemars(with = "Option<WholeNumber>")]
    requests: Option<Spanned<Value>>,
    /// concurrency: closed-loop workers.
    #[schemars(with = "Option<WholeNumber>")]
    workers: Option<Spanned<Value>>,
    /// concurrency (optional): each worker's pause between two requests (or flows):
    /// "2s", or "1s..3s" drawn uniformly.
    #[schemars(with = "Option<String>")]
    pub(super) think: Option<Spanned<Value>>,
}

/// Per kind, the keys a stage needs and must not have: the parser's [`STAGE_KEYS`].
fn stage_kinds(schema: &mut schemars::Schema) {
    super::schema::kind_rules(schema, &STAGE_KEYS, |_, key| {
        !super::OPTIONAL_STAGE_KEYS.contains(&key)
    });
}

pub(super) fn stage(src: &Source, s: &Spanned<RawStage>, index: usize) -> Result<Stage> {
    let raw = s.get_ref();
    let Some(kind) = &raw.kind else {
        return Err(src.error(
            s.span(),
            &format!("stage {index} has no kind"),
            &format!("kind = one of {}", STAGE_KINDS.join(", ")),
        ));
    };
    let Some(&(_, allowed)) = STAGE_KEYS.iter().find(|(k, _)| k == kind.get_ref()) else {
        return Err(src.unknown(kind.span(), "stage kind", kind.get_ref(), &STAGE_KINDS));
    };
    let present = [
        ("rate", &raw.rate),
        ("from", &raw.from),
        ("to", &raw.to),
        ("step", &raw.step),
        ("duration", &raw.duration),
        ("hold", &raw.hold),
        ("requests", &raw.requests),
        ("workers", &raw.workers),
        ("think", &raw.think),
    ];
    let kind_name = kind.get_ref();
    for (key, value) in present {
        if let Some(v) = value {
            if !allowed.contains(&key) {
                return Err(src.error(
                    v.span(),
                    &format!("`{key}` does not apply to a {kind_name} stage"),
                    &format!("for kind = \"{kind_name}\": name, {}", allowed.join(", ")),
                ));
            }
        }
    }
    let need = |key: &str, v: &Option<Spanned<Value>>| -> Result<Spanned<Value>> {
        v.clone().ok_or_else(|| {
            src.error(
                s.span(),
                &format!("{kind_name} stage {index} is missing `{key}`"),
                &format!("for kind = \"{kind_name}\": {}", allowed.join(", ")),
            )
        })
    };
    let kind = match kind_name.as_str() {
        "constant" => StageKind::Constant {
            rate: src.number(&need("rate", &raw.rate)?, "rate", false)?,
            duration: src.duration(&need("duration", &raw.duration)?, "duration")?,
        },
        "ramp" => {
            let from_v = need("from", &raw.from)?;
            let from = src.number(&from_v, "from", true)?;
            let to = src.number(&need("to", &raw.to)?, "to", true)?;
            if from == 0.0 && to == 0.0 {
                return Err(src.error(
                    from_v.span(),
                    "a ramp from 0 to 0 sends nothing",
                    "from or to > 0",
                ));
            }
            let duration = src.duration(&need("duration", &raw.duration)?, "duration")?;
            StageKind::Ramp { from, to, duration }
        }
        "steps" => {
            let from = src.number(&need("from", &raw.from)?, "from", false)?;
            let to_v = need("to", &raw.to)?;
            let to = src.number(&to_v, "to", false)?;
            let step = src.number(&need("step", &raw.step)?, "step", false)?;
            if to < from {
                return Err(src.error(to_v.span(), "`to` is below `from`", "to ≥ from"));
            }
            let hold = src.duration(&need("hold", &raw.hold)?, "hold")?;
            StageKind::Steps {
                from,
                to,
                step,
                hold,
            }
        }
        "burst" => StageKind::Burst {
            requests: src.whole_number(&need("requests", &raw.requests)?, "requests")?,
        },
        "concurrency" => StageKind::Concurrency {
            workers: src.whole_number(&need("workers", &raw.workers)?, "workers")?,
            duration: src.duration(&need("duration", &raw.duration)?, "duration")?,
        },
        _ => StageKind::Pause {
            duration: src.duration(&need("duration", &raw.duration)?, "duration")?,
        },
    };
    if kind.plans_no_request() {
        return Err(src.error(
            s.span(),
            &format!("{kind_name} stage {index} plans no request: its rate × duration is below 1"),
            "a rate and a duration that make at least one request, such as rate = 2 with duration = \"1s\"",
        ));
    }
    let name = match &raw.name {
        Some(n) if n.get_ref().trim().is_empty() => {
            return Err(src.error(n.span(), "empty stage name", "a short name, or no name"))
        }
        Some(n) => n.get_ref().clone(),
        None => format!("{} {index}", kind.label()),
    };
    Ok(Stage { name, kind })
}
