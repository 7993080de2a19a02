//! What each address served. Counting must cost the hot path nothing it notices: a
//! connection counts its own requests in plain fields ([`Served`]) and adds them to its
//! address's shared tally once, when it closes; the tally is touched otherwise only by
//! connects and refreshes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use stampede_results::AddressServed;

/// One address's counts over the run, shared by every engine thread, and whether it is
/// passed over for now.
#[derive(Debug)]
pub struct Tally {
    pub address: SocketAddr,
    requests: AtomicU64,
    answered: AtomicU64,
    connections: AtomicU64,
    refused: AtomicU64,
    /// In the last answer of the resolver: a kept-alive connection to an address that is
    /// no longer is closed when it is next checked in (see docs/connections.md).
    listed: AtomicBool,
    /// Passed over until this many µs after the book's `base` (0: not passed over).
    skip_until_us: AtomicU64,
}

impl Tally {
    fn new(address: SocketAddr) -> Tally {
        Tally {
            address,
            requests: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            listed: AtomicBool::new(true),
            skip_until_us: AtomicU64::new(0),
        }
    }

    pub fn is_listed(&self) -> bool {
        self.listed.load(Relaxed)
    }
}

/// Every address the run connected to or was given, by address.
#[derive(Debug)]
pub struct Book {
    base: Instant,
    tallies: Mutex<BTreeMap<SocketAddr, Arc<Tally>>>,
}

impl Default for Book {
    fn default() -> Self {
        Book {
            base: Instant::now(),
            tallies: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Book {
    /// The tallies of a resolver's new answer, in its order; every other address is no
    /// longer listed.
    pub fn listing(&self, answer: &[SocketAddr]) -> Arc<[Arc<Tally>]> {
        let mut tallies = self.tallies.lock().expect("not poisoned");
        for (address, t) in tallies.iter() {
            t.listed.store(answer.contains(address), Relaxed);
        }
        answer
            .iter()
            .map(|a| {
                let t = tallies
                    .entry(*a)
                    .or_insert_with(|| Arc::new(Tally::new(*a)));
                t.listed.store(true, Relaxed);
                Arc::clone(t)
            })
            .collect()
    }

    pub fn skipped_until(&self, t: &Tally) -> Option<Instant> {
        match t.skip_until_us.load(Relaxed) {
            0 => None,
            us => Some(self.base + std::time::Duration::from_micros(us)),
        }
    }

    /// A connect to `t` failed: it is passed over until `until`.
    pub fn refused(&self, t: &Tally, until: Instant) {
        t.refused.fetch_add(1, Relaxed);
        let us = until.saturating_duration_since(self.base).as_micros() as u64;
        t.skip_until_us.store(us.max(1), Relaxed);
    }

    /// What each address served, by its `address:port`. Connections still open have not
    /// added theirs: read it once they are closed.
    pub fn served(&self) -> BTreeMap<String, AddressServed> {
        let tallies = self.tallies.lock().expect("not poisoned");
        tallies
            .values()
            .map(|t| {
                let served = AddressServed {
                    requests: t.requests.load(Relaxed),
                    answered: t.answered.load(Relaxed),
                    connections: t.connections.load(Relaxed),
                    refused: t.refused.load(Relaxed),
                };
                (t.address.to_string(), served)
            })
            .filter(|(_, s)| *s != AddressServed::default())
            .collect()
    }
}

/// One connection's requests, added to its address's tally when it closes.
#[derive(Debug)]
pub struct Served {
    tally: Arc<Tally>,
    sent: u64,
    answered: u64,
}

impl Served {
    /// A new connection to `tally`'s address.
    pub fn opened(tally: Arc<Tally>) -> Served {
        tally.connections.fetch_add(1, Relaxed);
        Served {
            tally,
            sent: 0,
            answered: 0,
        }
    }

    #[inline]
    pub fn sent(&mut self) {
        self.sent += 1;
    }

    #[inline]
    pub fn answered(&mut self) {
        self.answered += 1;
    }

    /// Requests counted elsewhere (an HTTP/2 session's streams), added at once.
    pub fn add(&mut self, sent: u64, answered: u64) {
        self.sent += sent;
        self.answered += answered;
    }

    /// Its address is still one the name resolves to.
    #[inline]
    pub fn is_listed(&self) -> bool {
        self.tally.is_listed()
    }

    #[cfg(test)]
    pub fn address(&self) -> SocketAddr {
        self.tally.address
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.sent > 0 {
            self.tally.requests.fetch_add(self.sent, Relaxed);
            self.tally.answered.fetch_add(self.answered, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_adds_its_requests_when_it_closes() {
        let book = Book::default();
        let a: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let b: SocketAddr = "127.0.0.2:80".parse().unwrap();
        let tallies = book.listing(&[a, b]);
        let mut conn = Served::opened(Arc::clone(&tallies[0]));
        for _ in 0..3 {
            conn.sent();
            conn.answered();
        }
        conn.sent(); // cut off: no answer
        assert!(book.served()[&a.to_string()].requests == 0, "not yet");
        drop(conn);
        let served = book.served();
        let got = &served[&a.to_string()];
        assert_eq!((got.requests, got.answered, got.connections), (4, 3, 1));
        assert!(!served.contains_key(&b.to_string()), "nothing to say of b");
    }

    #[test]
    fn a_vanished_address_is_no_longer_listed_and_a_refusal_is_remembered() {
        let book = Book::default();
        let a: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let b: SocketAddr = "[::1]:80".parse().unwrap();
        let first = book.listing(&[a, b]);
        let conn = Served::opened(Arc::clone(&first[1]));
        assert!(conn.is_listed());
        let again = book.listing(&[a]);
        assert!(!conn.is_listed(), "b vanished");
        assert!(Arc::ptr_eq(&again[0], &first[0]), "one tally per address");
        let until = Instant::now() + std::time::Duration::from_secs(5);
        assert_eq!(book.skipped_until(&first[0]), None);
        book.refused(&first[0], until);
        let back = book.skipped_until(&first[0]).unwrap();
        assert!(back <= until && until - back < std::time::Duration::from_millis(1));
        assert_eq!(book.served()[&a.to_string()].refused, 1);
        book.listing(&[a, b]);
        assert!(conn.is_listed(), "back");
        assert_eq!(conn.address(), b);
    }
}
