//! `stampede tune` (docs/tune.md): a function's memory sizes measured under the scenario's
//! load — set, published, run against, compared — and the function always put back as
//! found. `sizes` reads `--memory`; `control` makes the Lambda calls; `run` is the loop;
//! `measure` turns a size's run into its entry (the runs become one results file in
//! `pipeline::tune`); `restore` puts the function back; `pick` chooses a size per strategy (pure);
//! `conclude` picks, puts back and applies, whatever stopped the tune.

pub mod apply;
pub mod conclude;
pub mod control;
pub mod measure;
pub mod pick;
pub mod restore;
pub mod run;
pub mod sizes;
