//! The target's addresses, looked up once and kept for [`KEEP_FOR`]: a new connection per
//! request must not ask the system resolver each time (a hop to the blocking pool and a
//! lookup per connect cost a quarter of the rate of new connections to `localhost`,
//! measured), and browsers and HTTP clients keep an answer about as long.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a lookup's answer is used before the name is looked up again.
pub const KEEP_FOR: Duration = Duration::from_secs(60);

/// One host and port's addresses, in the resolver's order, and when they were looked up.
#[derive(Default)]
pub struct Addresses {
    cached: Mutex<Option<(Instant, Arc<[SocketAddr]>)>>,
}

impl Addresses {
    /// The addresses of `host`:`port`: the last answer while it is fresh, else a new one
    /// (then `true`: a lookup was made, timed as the attempt's `dns`). A failed or empty
    /// lookup is not kept: the next connect asks again.
    pub async fn of(&self, host: &str, port: u16) -> std::io::Result<(Arc<[SocketAddr]>, bool)> {
        if let Some(fresh) = self.fresh(Instant::now()) {
            return Ok((fresh, false));
        }
        let found: Arc<[SocketAddr]> = tokio::net::lookup_host((host, port)).await?.collect();
        if found.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host} has no address"),
            ));
        }
        *self.cached.lock().expect("not poisoned") = Some((Instant::now(), Arc::clone(&found)));
        Ok((found, true))
    }

    fn fresh(&self, now: Instant) -> Option<Arc<[SocketAddr]>> {
        let cached = self.cached.lock().expect("not poisoned");
        let (at, addresses) = cached.as_ref()?;
        (now.saturating_duration_since(*at) < KEEP_FOR).then(|| Arc::clone(addresses))
    }
}

/// A copy looks the name up afresh (each lane keeps its own answer).
impl Clone for Addresses {
    fn clone(&self) -> Self {
        Addresses::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_is_kept_until_it_is_stale() {
        let a = Addresses::default();
        let (first, looked_up) = a.of("127.0.0.1", 80).await.unwrap();
        assert!(looked_up);
        assert!(!a.of("127.0.0.1", 80).await.unwrap().1, "kept");
        assert_eq!(first[0], "127.0.0.1:80".parse().unwrap());
        let now = Instant::now();
        assert!(a
            .fresh(now)
            .is_some_and(|again| Arc::ptr_eq(&again, &first)));
        assert!(
            a.fresh(now + KEEP_FOR).is_none(),
            "looked up again after a minute"
        );
        assert!(a.clone().fresh(now).is_none(), "a copy keeps no answer");
    }
}
