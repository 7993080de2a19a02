//! Ids a logical request carries on every attempt: a correlation id to find it in the
//! service's logs, and an idempotency key so the service can tell a retry from a new order.

use http::{HeaderName, HeaderValue};

use crate::scenario::RequestIds;

/// A lane's random source: from the scenario's seed when it has one (reproducible jitter).
pub fn lane_rng(seed: Option<u64>, lane: usize) -> fastrand::Rng {
    match seed {
        Some(seed) => {
            fastrand::Rng::with_seed(seed ^ (lane as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        }
        None => fastrand::Rng::new(),
    }
}

/// A seed for one request's jitter from the run's seed, its stage and its key (SplitMix64's
/// finaliser: nearby keys give unrelated seeds).
pub fn request_seed(seed: u64, stage: u64, key: u64) -> u64 {
    let mut z =
        seed ^ stage.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The id headers of one logical request: at most two, kept inline so the hot path does
/// not allocate a list for them.
#[derive(Clone, Debug, Default)]
pub struct RequestIdHeaders {
    items: [Option<(HeaderName, HeaderValue)>; 2],
}

impl RequestIdHeaders {
    fn push(&mut self, header: (HeaderName, HeaderValue)) {
        let slot = self
            .items
            .iter_mut()
            .find(|i| i.is_none())
            .expect("at most two id headers");
        *slot = Some(header);
    }

    pub fn iter(&self) -> impl Iterator<Item = &(HeaderName, HeaderValue)> + Clone {
        self.items.iter().flatten()
    }
}

/// Makes the ids of one lane's logical requests.
pub struct IdSource {
    /// `stp-<run>-<lane>-`, or `stp-<run>-s<shard>.<lane>-` in a sharded run: unique per
    /// run, shard and lane, so ids never collide.
    prefix: String,
    next: u64,
    rng: fastrand::Rng,
    /// Reused to format each id without a fresh allocation.
    scratch: String,
}

impl IdSource {
    pub fn new(run_id: u32, shard: Option<u64>, lane: usize, rng: fastrand::Rng) -> IdSource {
        let prefix = match shard {
            Some(s) => format!("stp-{run_id:08x}-s{s}.{lane}-"),
            None => format!("stp-{run_id:08x}-{lane}-"),
        };
        IdSource {
            prefix,
            next: 0,
            rng,
            scratch: String::with_capacity(40),
        }
    }

    /// The headers for the next logical request.
    pub fn next(&mut self, config: &RequestIds) -> RequestIdHeaders {
        use std::fmt::Write as _;
        let mut out = RequestIdHeaders::default();
        if let Some(name) = &config.correlation_header {
            self.scratch.clear();
            self.scratch.push_str(&self.prefix);
            let _ = write!(self.scratch, "{}", self.next);
            out.push((
                name.clone(),
                HeaderValue::from_str(&self.scratch).expect("ascii id"),
            ));
        }
        self.next += 1;
        if let Some(name) = &config.idempotency_header {
            out.push((
                name.clone(),
                HeaderValue::from_str(&self.uuid()).expect("ascii key"),
            ));
        }
        out
    }

    /// A random (version 4) UUID.
    fn uuid(&mut self) -> String {
        let (a, b) = (self.rng.u64(..), self.rng.u64(..));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_per_request_and_keys_look_like_uuids() {
        let config = RequestIds {
            idempotency_header: Some(HeaderName::from_static("idempotency-key")),
            ..RequestIds::default()
        };
        let mut ids = IdSource::new(0xabcdef, None, 1, fastrand::Rng::with_seed(5));
        let first: Vec<_> = ids.next(&config).iter().cloned().collect();
        let second: Vec<_> = ids.next(&config).iter().cloned().collect();
        assert_eq!(first[0].1, "stp-00abcdef-1-0");
        assert_eq!(second[0].1, "stp-00abcdef-1-1");
        let key = first[1].1.to_str().unwrap();
        assert_eq!(key.len(), 36);
        assert_eq!(&key[14..15], "4");
        assert_ne!(first[1].1, second[1].1);
        let none = RequestIds {
            correlation_header: None,
            idempotency_header: None,
        };
        assert_eq!(ids.next(&none).iter().count(), 0);
        let mut sharded = IdSource::new(0xabcdef, Some(2), 1, fastrand::Rng::with_seed(5));
        assert_eq!(
            sharded.next(&config).iter().next().unwrap().1,
            "stp-00abcdef-s2.1-0"
        );
    }
}
