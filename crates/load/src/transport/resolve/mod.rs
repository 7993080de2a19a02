//! The target's addresses, and which one each new connection goes to.
//!
//! The name is looked up once and the answer kept for `dns_refresh` (60 s by default;
//! "off": the whole run): a new connection per request must not ask the system resolver
//! each time (a hop to the blocking pool and a lookup per connect cost a quarter of the
//! rate of new connections to `localhost`, measured), and browsers and HTTP clients keep
//! an answer about as long. When the answer is stale, the connect that finds it so looks
//! again while the others go on with the old one. The answer comes from `resolve` entries
//! (curl's `--resolve`), else a hosts file read again at each refresh, else the system.
//!
//! New connections take the addresses in turn, round robin over every engine thread
//! ([`order`]); an address whose connect fails is passed over for [`order::SKIP_FOR`] and
//! the connect goes on to the next. What each address served is kept in a [`Book`].
//! One resolver serves the whole run: copies of the transport share it.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

pub mod order;
mod tally;

use crate::classify::LocalReason;
use crate::scenario::dns::read_hosts_file;
use crate::scenario::Dns;
use order::{attempt_order, share_of_time, SKIP_FOR};
use stampede_results::AddressServed;
pub use tally::{Book, Served, Tally};

/// The addresses of one answer, in the resolver's order, each with its tally.
pub type Addresses = Arc<[Arc<Tally>]>;

/// Looks the target's name up and picks the address of each new connection; cheap to
/// clone (copies share everything).
#[derive(Clone)]
pub struct Resolver {
    shared: Arc<Shared>,
}

struct Shared {
    /// As `lookup_host` takes it (an IPv6 literal without brackets).
    host: String,
    port: u16,
    /// `resolve` entries for this host and port: the answer, always.
    pinned: Option<Vec<SocketAddr>>,
    hosts_file: Option<PathBuf>,
    /// `None`: the first answer is kept for the run.
    refresh: Option<Duration>,
    answer: Mutex<Option<Answer>>,
    /// One first lookup at a time: the connects before the first answer wait for it.
    first_lookup: tokio::sync::Mutex<()>,
    /// Connections opened so far: which address the next one takes first.
    turn: AtomicUsize,
    book: Book,
}

struct Answer {
    at: Instant,
    addresses: Addresses,
    /// A connect is looking the name up again.
    refreshing: bool,
}

impl Resolver {
    pub fn new(host: &str, port: u16, dns: &Dns) -> Resolver {
        let pinned: Vec<SocketAddr> = dns
            .pinned
            .iter()
            .filter(|p| p.is_for(host, port))
            .flat_map(|p| p.addresses.iter().map(|ip| SocketAddr::new(*ip, port)))
            .collect();
        Resolver {
            shared: Arc::new(Shared {
                host: host.to_string(),
                port,
                pinned: (!pinned.is_empty()).then(|| dedupe(pinned)),
                hosts_file: dns.hosts_file.clone(),
                refresh: dns.refresh,
                answer: Mutex::new(None),
                first_lookup: tokio::sync::Mutex::new(()),
                turn: AtomicUsize::new(0),
                book: Book::default(),
            }),
        }
    }

    /// The addresses to connect to: the last answer while it is fresh (or while another
    /// connect looks the name up again), else a new one. A failed refresh keeps the last
    /// answer until the next; a failed or empty first lookup is not kept. The first answer
    /// starts a task that looks the name up again every `dns_refresh` on this runtime, so
    /// that kept-alive connections learn that their address vanished without a connect.
    /// The flag: this connect looked the name up (or waited for the first lookup), so its
    /// time is the attempt's `dns`.
    pub async fn addresses(&self) -> io::Result<(Addresses, bool)> {
        let s = &self.shared;
        let stale = {
            let mut answer = s.answer.lock().expect("not poisoned");
            match answer.as_mut() {
                Some(a) if a.refreshing || !s.is_stale(a.at, Instant::now()) => {
                    return Ok((Arc::clone(&a.addresses), false))
                }
                Some(a) => {
                    a.refreshing = true;
                    true
                }
                None => false,
            }
        };
        if stale {
            return Ok((s.refresh().await, true));
        }
        let _gate = s.first_lookup.lock().await;
        if let Some(a) = s.answer.lock().expect("not poisoned").as_ref() {
            return Ok((Arc::clone(&a.addresses), true));
        }
        let found = s.look_up().await?;
        let addresses = s.book.listing(&found);
        *s.answer.lock().expect("not poisoned") = Some(Answer {
            at: Instant::now(),
            addresses: Arc::clone(&addresses),
            refreshing: false,
        });
        if let (Some(every), None) = (s.refresh, &s.pinned) {
            tokio::spawn(refresh_every(Arc::downgrade(s), every));
        }
        Ok((addresses, true))
    }

    /// A TCP connection to one of `addresses`, by [`attempt_order`], before `deadline`:
    /// each address tried gets an equal share of the time left. An address that fails is
    /// passed over for a while; the connect fails when every address failed (with the
    /// last one's error), or at once when the machine itself ran out of something.
    pub async fn connect(
        &self,
        addresses: &[Arc<Tally>],
        deadline: Instant,
    ) -> io::Result<(TcpStream, Served)> {
        let s = &*self.shared;
        let skipped: Vec<Option<Instant>> =
            addresses.iter().map(|t| s.book.skipped_until(t)).collect();
        let order = attempt_order(&skipped, Instant::now(), s.turn.fetch_add(1, Relaxed));
        let mut last = None;
        for (k, i) in order.iter().enumerate() {
            let t = &addresses[*i];
            let time = share_of_time(deadline, Instant::now(), order.len() - k);
            let error = match tokio::time::timeout(time, TcpStream::connect(t.address)).await {
                Ok(Ok(tcp)) => return Ok((tcp, Served::opened(Arc::clone(t)))),
                Ok(Err(e)) if is_local(&e) => return Err(e),
                Ok(Err(e)) => e,
                Err(_) => io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connect to {} timed out", t.address),
                ),
            };
            s.book.refused(t, Instant::now() + SKIP_FOR);
            last = Some(error);
        }
        Err(last.unwrap_or_else(|| no_address(&s.host)))
    }

    /// What each address served, by `ip:port`: read once the connections are closed.
    pub fn served(&self) -> BTreeMap<String, AddressServed> {
        self.shared.book.served()
    }
}

/// Looks the name up again each time the answer has been kept `every`, while the
/// resolver lives.
async fn refresh_every(shared: std::sync::Weak<Shared>, every: Duration) {
    let mut wake = Instant::now() + every;
    loop {
        tokio::time::sleep_until(wake.into()).await;
        let Some(s) = shared.upgrade() else {
            return;
        };
        let due = {
            let mut answer = s.answer.lock().expect("not poisoned");
            let Some(a) = answer.as_mut() else { return };
            // A connect may have looked it up meanwhile: wake when that answer is stale.
            wake = a.at + every;
            let due = !a.refreshing && s.is_stale(a.at, Instant::now());
            a.refreshing |= due;
            due
        };
        if due {
            s.refresh().await;
            wake = Instant::now() + every;
        } else if wake <= Instant::now() {
            // Another refresh is under way: look again in a moment.
            wake = Instant::now() + every.min(Duration::from_millis(100));
        }
    }
}

impl Shared {
    /// Looks the name up again, its answer marked `refreshing` by the caller: the new
    /// answer, or the last one when the lookup failed.
    async fn refresh(&self) -> Addresses {
        let _refreshing = Refreshing(self);
        let found = self.look_up().await;
        let mut answer = self.answer.lock().expect("not poisoned");
        let a = answer.as_mut().expect("an answer is never taken away");
        a.at = Instant::now();
        match found {
            Ok(found) => a.addresses = self.book.listing(&found),
            Err(e) => tracing::warn!("looking {} up again: {e}; the last answer stays", self.host),
        }
        Arc::clone(&a.addresses)
    }

    fn is_stale(&self, at: Instant, now: Instant) -> bool {
        self.pinned.is_none()
            && self
                .refresh
                .is_some_and(|r| now.saturating_duration_since(at) >= r)
    }

    /// The name's addresses now: the pinned ones, else the hosts file's (read on the
    /// blocking pool), else the system resolver's (`lookup_host` runs there too).
    async fn look_up(&self) -> io::Result<Vec<SocketAddr>> {
        if let Some(pinned) = &self.pinned {
            return Ok(pinned.clone());
        }
        let port = self.port;
        if let Some(path) = &self.hosts_file {
            let (path, host) = (path.clone(), self.host.clone());
            let shown = path.display().to_string();
            let read = tokio::task::spawn_blocking(move || read_hosts_file(&path, &host))
                .await
                .map_err(io::Error::other)?
                .map_err(|why| io::Error::other(format!("hosts_file {shown}: {why}")))?;
            if !read.is_empty() {
                return Ok(dedupe(
                    read.into_iter()
                        .map(|ip| SocketAddr::new(ip, port))
                        .collect(),
                ));
            }
        }
        let found: Vec<SocketAddr> = tokio::net::lookup_host((self.host.as_str(), port))
            .await?
            .collect();
        if found.is_empty() {
            return Err(no_address(&self.host));
        }
        Ok(dedupe(found))
    }
}

/// Clears `refreshing` however the refresh ends (the connect may time out meanwhile).
struct Refreshing<'s>(&'s Shared);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        if let Some(a) = self.0.answer.lock().expect("not poisoned").as_mut() {
            a.refreshing = false;
        }
    }
}

fn dedupe(mut addresses: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let mut seen = std::collections::HashSet::new();
    addresses.retain(|a| seen.insert(*a));
    addresses
}

fn no_address(host: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"))
}

/// The machine ran out of something (ports, descriptors): no other address would help.
fn is_local(e: &io::Error) -> bool {
    e.raw_os_error()
        .and_then(LocalReason::from_os_error)
        .is_some()
}

#[cfg(test)]
mod tests;
