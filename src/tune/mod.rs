//! `stampede tune` (docs/tune.md): a function's memory sizes measured under the scenario's
//! load — set, published, run against, compared — and the function always put back as
//! found. `pick` chooses a size per strategy (pure).

pub mod pick;
