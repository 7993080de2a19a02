//! Which address a new connection tries first, and then which: round robin over the
//! addresses not being skipped, then the skipped ones, soonest back first (a connect only
//! fails when every address failed). Pure.

use std::time::{Duration, Instant};

/// How long an address that refused a connect (refused, reset, unreachable, timed out) is
/// passed over before it is tried again.
pub const SKIP_FOR: Duration = Duration::from_secs(5);

/// The order in which a connection tries the addresses, by index. `skipped_until[i]`:
/// address i is passed over until then; `turn` counts the connections opened so far, so
/// that each takes the next of the addresses in use.
pub fn attempt_order(skipped_until: &[Option<Instant>], now: Instant, turn: usize) -> Vec<usize> {
    let skipped = |i: usize| skipped_until[i].filter(|until| *until > now);
    let live: Vec<usize> = (0..skipped_until.len())
        .filter(|i| skipped(*i).is_none())
        .collect();
    let mut order = Vec::with_capacity(skipped_until.len());
    if !live.is_empty() {
        let first = turn % live.len();
        order.extend_from_slice(&live[first..]);
        order.extend_from_slice(&live[..first]);
    }
    let mut resting: Vec<usize> = (0..skipped_until.len())
        .filter(|i| skipped(*i).is_some())
        .collect();
    resting.sort_by_key(|i| skipped_until[*i]);
    order.extend(resting);
    order
}

/// How long one try of `left` remaining may take, out of what is left until `deadline`:
/// an equal share, as curl gives each address, so that one address that never answers
/// leaves time for the others.
pub fn share_of_time(deadline: Instant, now: Instant, left: usize) -> Duration {
    deadline.saturating_duration_since(now) / left.max(1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_take_the_addresses_in_turn() {
        let now = Instant::now();
        let none = [None, None, None];
        let firsts: Vec<usize> = (0..6).map(|t| attempt_order(&none, now, t)[0]).collect();
        assert_eq!(firsts, [0, 1, 2, 0, 1, 2]);
        assert_eq!(attempt_order(&none, now, 1), [1, 2, 0], "then the others");
        assert!(attempt_order(&[], now, 3).is_empty());
    }

    #[test]
    fn a_skipped_address_is_tried_last_until_its_time_is_up() {
        let now = Instant::now();
        let later = Some(now + SKIP_FOR);
        let skips = [None, later, None];
        let firsts: Vec<usize> = (0..4).map(|t| attempt_order(&skips, now, t)[0]).collect();
        assert_eq!(firsts, [0, 2, 0, 2], "evenly over the two in use");
        assert_eq!(
            attempt_order(&skips, now, 0),
            [0, 2, 1],
            "tried when all else failed"
        );
        // Its time is up: back in turn.
        let after = now + SKIP_FOR + Duration::from_millis(1);
        assert_eq!(attempt_order(&skips, after, 1), [1, 2, 0]);
        // All skipped: the soonest back first.
        let all = [
            Some(now + SKIP_FOR),
            Some(now + Duration::from_secs(1)),
            later,
        ];
        assert_eq!(attempt_order(&all, now, 7), [1, 0, 2]);
    }

    #[test]
    fn each_try_gets_an_equal_share_of_the_time_left() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(9);
        assert_eq!(share_of_time(deadline, now, 3), Duration::from_secs(3));
        assert_eq!(share_of_time(deadline, now, 1), Duration::from_secs(9));
        assert_eq!(share_of_time(now, deadline, 2), Duration::ZERO);
    }
}
