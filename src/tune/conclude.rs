//! The end of a tune, whatever stopped it: each strategy's pick (a pick that fails must not
//! keep the function from being put back), the function put back (the picked version kept
//! when `--apply --alias` will point at it), then `--apply` when every size was measured and
//! the function is back as found.

use stampede_results::tune::Tune;

use super::control::Control;
use super::restore::{self, Keep};
use super::{apply, pick};
use crate::error::Result;

/// What the user asked of the end.
pub struct Ending<'a> {
    /// Every size was measured (no signal, abort or failure stopped the tune).
    pub measured_all: bool,
    pub apply: bool,
    pub alias: Option<&'a str>,
    pub keep_versions: bool,
}

/// How it ended.
pub struct Ended {
    /// The function is back as found (`tune.restored` says what was done).
    pub put_back: bool,
    /// Why `--apply` applied nothing, when asked and it did not.
    pub not_applied: Option<String>,
}

/// Picks, restores and applies, filling `tune.picks`, `tune.restored` and `tune.applied`;
/// `journal` writes the tune's record as it goes.
pub fn conclude(
    control: &Control,
    tune: &mut Tune,
    ending: &Ending,
    journal: &mut dyn FnMut(&Tune) -> Result<()>,
) -> Ended {
    tune.picks = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pick::picks(&tune.memories, tune.balance)
    }))
    .ok()
    .flatten();
    let picked = tune.picks.as_ref().map(|p| p.of(tune.strategy));
    let picked_version = picked.and_then(|mb| {
        tune.memories
            .iter()
            .find(|m| m.memory == mb)
            .and_then(|m| m.version.clone())
    });
    let applying = ending.apply && ending.measured_all && picked.is_some();
    let mut not_applied = (ending.apply && !applying).then(|| {
        "nothing applied (the tune did not measure every size, or no size was picked)".to_string()
    });
    let keep = match (&picked_version, ending.alias) {
        _ if ending.keep_versions => Keep::All,
        (Some(v), Some(_)) if applying => Keep::Picked(v),
        _ => Keep::None,
    };
    let restored = restore::restore(control, &tune.original, keep, false);
    let put_back = restore::complete(&restored);
    tune.restored = Some(restored);
    let _ = journal(tune);
    if let (true, true, Some(memory)) = (applying, put_back, picked) {
        match apply::apply(
            control,
            tune,
            memory,
            picked_version.as_deref(),
            ending.alias,
            journal,
        ) {
            Ok(applied) => tune.applied = Some(applied),
            Err(why) => not_applied = Some(why),
        }
    }
    Ended {
        put_back,
        not_applied,
    }
}
