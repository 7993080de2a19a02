//! Which memory size each strategy picks from the sizes measured. Pure.

use stampede_results::tune::{TuneMemory, TunePicks};

/// Each strategy's pick from `memories` (`balance`: the weight of speed against cost for
/// `balanced`); `None` when no size was measured.
pub fn picks(memories: &[TuneMemory], balance: f64) -> Option<TunePicks> {
    let _ = (memories, balance);
    unimplemented!("issue 30: the picks (helper 'picks' writes them)")
}
