//! Adding up: counts, maps of counts, and encoded histograms.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::Refusal;
use crate::decode;
use crate::timing::{add_phases, PhaseHistograms, TimingHistograms};
use crate::{Attempts, Totals};

pub(super) fn add_totals(a: &mut Totals, b: &Totals) {
    a.requests += b.requests;
    a.ok += b.ok;
    a.throttled += b.throttled;
    a.errors += b.errors;
    a.retries += b.retries;
    a.gave_up += b.gave_up;
    a.late += b.late;
    a.held_back += b.held_back;
    a.abandoned += b.abandoned;
    a.stale_connection_resends += b.stale_connection_resends;
    a.goaways += b.goaways;
    a.data_exhausted += b.data_exhausted;
    a.bytes_received += b.bytes_received;
}

pub(super) fn add_attempts(a: &mut Attempts, b: &Attempts) {
    a.add(b);
}

pub(super) fn add_map(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, n) in from {
        *into.entry(k.clone()).or_default() += n;
    }
}

pub(super) fn add_opt<T: std::ops::Add<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// Decodes `text` and adds it to `into`; an empty text is an empty histogram.
pub(super) fn add_encoded(
    into: &mut Histogram<u64>,
    text: &str,
    file: usize,
    what: &str,
) -> Result<(), Refusal> {
    if text.is_empty() {
        return Ok(());
    }
    let h = decode(text).ok_or_else(|| Refusal::Unreadable {
        file,
        why: format!("the {what} histogram does not decode (hdrhistogram-v2-deflate-base64)"),
    })?;
    into.add(&h).map_err(|e| Refusal::Unreadable {
        file,
        why: format!("the {what} histogram cannot be added: {e:?}"),
    })
}

/// Adds an optional histogram (absent from files written before it existed): the sum
/// becomes absent as soon as one file lacks it, never a part passed off as the whole.
pub(super) fn add_optional(
    into: &mut Option<Histogram<u64>>,
    text: Option<&str>,
    file: usize,
    what: &str,
) -> Result<(), Refusal> {
    match (into.as_mut(), text) {
        (Some(h), Some(text)) => add_encoded(h, text, file, what),
        (Some(_), None) => {
            *into = None;
            Ok(())
        }
        (None, _) => Ok(()),
    }
}

/// Adds a file's phase histograms (absent from files written before they existed): the
/// sum becomes absent as soon as one file lacks them, as [`add_optional`] does.
pub(super) fn add_timing(
    into: &mut Option<PhaseHistograms>,
    from: Option<&TimingHistograms>,
    file: usize,
    what: &str,
) -> Result<(), Refusal> {
    match (into.as_mut(), from) {
        (Some(h), Some(from)) => {
            let theirs = from.decode().map_err(|phase| Refusal::Unreadable {
                file,
                why: format!("the {what} {phase} histogram does not decode"),
            })?;
            add_phases(h, &theirs);
            Ok(())
        }
        (Some(_), None) => {
            *into = None;
            Ok(())
        }
        (None, _) => Ok(()),
    }
}
