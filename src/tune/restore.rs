//! Putting the function back as the journal found it: `$LATEST`'s memory (waited for),
//! the versions the tune published deleted unless kept, and — for a repair from a journal
//! — the alias `--apply` moved pointed back. Every step is tried whatever failed before
//! it; what failed is said in `problems`.

use stampede_results::tune::{TuneOriginal, TuneRestore};

use super::control::Control;

/// What to keep of the versions published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep<'a> {
    /// Delete them all.
    None,
    /// `--keep-versions`.
    All,
    /// The one `--apply --alias` moves the alias to.
    Picked(&'a str),
}

/// Puts the function back as `original` found it; `repair`: the alias too (a journal
/// read by `--restore`, written by a tune that may have moved it).
pub fn restore(
    control: &Control,
    original: &TuneOriginal,
    keep: Keep,
    repair: bool,
) -> TuneRestore {
    let mut done = TuneRestore::default();
    match control.set_memory(original.memory) {
        Ok(()) => done.memory_restored = true,
        Err(why) => done.problems.push(format!(
            "$LATEST's memory not put back to {} MB: {why}",
            original.memory
        )),
    }
    if repair {
        if let Some(alias) = &original.alias {
            let put_back = match &alias.version {
                Some(version) => control.point_alias(&alias.name, version, true),
                None => control.delete_alias(&alias.name),
            };
            if let Err(why) = put_back {
                done.problems
                    .push(format!("alias {} not put back: {why}", alias.name));
            }
        }
    }
    for version in &original.published {
        let kept = match keep {
            Keep::All => true,
            Keep::Picked(v) => v == version,
            Keep::None => false,
        };
        if kept {
            done.kept.push(version.clone());
            continue;
        }
        match control.delete_version(version) {
            Ok(()) => done.deleted.push(version.clone()),
            Err(why) => {
                done.kept.push(version.clone());
                done.problems
                    .push(format!("version {version} not deleted: {why}"));
            }
        }
    }
    done
}

/// Whether the function is as found (memory back, nothing kept that was to go).
pub fn complete(r: &TuneRestore) -> bool {
    r.memory_restored && r.problems.is_empty()
}
