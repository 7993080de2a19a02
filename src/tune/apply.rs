//! `--apply`, after the restore: the alias moved to the picked version (created when
//! missing; the version it pointed at recorded in the journal first), or without an alias
//! the picked memory set on `$LATEST`.

use stampede_results::tune::{Tune, TuneAlias, TuneApplied};

use super::control::Control;
use crate::error::Result;

/// Applies `memory` (published as `version`); `journal` is called once the alias's old
/// version is recorded, before it moves.
pub fn apply(
    control: &Control,
    tune: &mut Tune,
    memory: u64,
    version: Option<&str>,
    alias: Option<&str>,
    journal: &mut dyn FnMut(&Tune) -> Result<()>,
) -> std::result::Result<TuneApplied, String> {
    let Some(alias) = alias else {
        control.set_memory(memory)?;
        return Ok(TuneApplied {
            memory,
            alias: None,
        });
    };
    let version = version.ok_or("the picked size has no version to point the alias at")?;
    let before = control.alias(alias)?;
    tune.original.alias = Some(TuneAlias {
        name: alias.to_string(),
        version: before.clone(),
    });
    journal(tune).map_err(|e| e.message)?;
    control.point_alias(alias, version, before.is_some())?;
    Ok(TuneApplied {
        memory,
        alias: Some(TuneAlias {
            name: alias.to_string(),
            version: Some(version.to_string()),
        }),
    })
}
