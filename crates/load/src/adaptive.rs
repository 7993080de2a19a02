//! The AWS SDKs' adaptive retry mode: a client-side rate limiter that slows sending when
//! throttled and creeps back up after (CUBIC: β 0.7, scale 0.4; the measured send rate
//! smoothed by 0.8; never below 0.5 req/s). Off until the first throttle. Pure: the
//! caller passes the clock, in seconds.

const BETA: f64 = 0.7;
const SCALE: f64 = 0.4;
const SMOOTH: f64 = 0.8;
const MIN_FILL_RATE: f64 = 0.5;
const MIN_CAPACITY: f64 = 1.0;

#[derive(Clone, Debug)]
pub struct ClientRateLimiter {
    enabled: bool,
    fill_rate: f64,
    max_capacity: f64,
    capacity: f64,
    last_refill: f64,
    measured_rate: f64,
    rate_bucket: f64,
    requests_in_bucket: u64,
    last_max_rate: f64,
    last_throttle: f64,
    time_window: f64,
}

impl ClientRateLimiter {
    pub fn new(now: f64) -> ClientRateLimiter {
        ClientRateLimiter {
            enabled: false,
            fill_rate: 0.0,
            max_capacity: 0.0,
            capacity: 0.0,
            last_refill: now,
            measured_rate: 0.0,
            rate_bucket: (now * 2.0).floor() / 2.0,
            requests_in_bucket: 0,
            last_max_rate: 0.0,
            last_throttle: now,
            time_window: 0.0,
        }
    }

    /// The rate it lets requests through, when it is limiting.
    pub fn rate(&self) -> Option<f64> {
        self.enabled.then_some(self.fill_rate)
    }

    /// Takes a token for one attempt at `now` if there is one (or the limiter is off);
    /// otherwise says how long until there will be. Callers take turns (first come,
    /// first served) and ask again after waiting, so a rate that rises meanwhile helps.
    pub fn try_acquire(&mut self, now: f64) -> Result<(), f64> {
        if !self.enabled {
            return Ok(());
        }
        self.refill(now);
        // A hair under one token counts as one: waiting exactly the computed time must
        // succeed, whatever the rounding.
        if self.capacity >= 1.0 - 1e-9 {
            self.capacity -= 1.0;
            Ok(())
        } else {
            Err((1.0 - self.capacity) / self.fill_rate)
        }
    }

    /// After an answer: `throttled` or not, at `now`.
    pub fn update(&mut self, throttled: bool, now: f64) {
        self.update_measured_rate(now);
        let rate = if throttled {
            let rate = if self.enabled {
                self.measured_rate.min(self.fill_rate)
            } else {
                self.measured_rate
            };
            self.last_max_rate = rate;
            self.time_window = self.window();
            self.last_throttle = now;
            self.enabled = true;
            rate * BETA
        } else {
            self.time_window = self.window();
            let dt = now - self.last_throttle;
            SCALE * (dt - self.time_window).powi(3) + self.last_max_rate
        };
        self.set_fill_rate(rate.min(2.0 * self.measured_rate), now);
    }

    fn window(&self) -> f64 {
        (self.last_max_rate * (1.0 - BETA) / SCALE).cbrt()
    }

    fn refill(&mut self, now: f64) {
        let gained = (now - self.last_refill).max(0.0) * self.fill_rate;
        self.capacity = (self.capacity + gained).min(self.max_capacity);
        self.last_refill = now;
    }

    fn set_fill_rate(&mut self, rate: f64, now: f64) {
        self.refill(now);
        self.fill_rate = rate.max(MIN_FILL_RATE);
        self.max_capacity = rate.max(MIN_CAPACITY);
        self.capacity = self.capacity.min(self.max_capacity);
    }

    fn update_measured_rate(&mut self, now: f64) {
        let bucket = (now * 2.0).floor() / 2.0;
        self.requests_in_bucket += 1;
        if bucket > self.rate_bucket {
            let current = self.requests_in_bucket as f64 / (bucket - self.rate_bucket);
            self.measured_rate = current * SMOOTH + self.measured_rate * (1.0 - SMOOTH);
            self.requests_in_bucket = 0;
            self.rate_bucket = bucket;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends at `rate` req/s for `seconds` from `start`, answering `throttled(t)`.
    fn drive(
        l: &mut ClientRateLimiter,
        start: f64,
        seconds: f64,
        rate: f64,
        throttled: impl Fn(f64) -> bool,
    ) -> f64 {
        let mut t = start;
        while t < start + seconds {
            t = acquire(l, t);
            l.update(throttled(t), t);
            t += 1.0 / rate;
        }
        t
    }

    /// Waits for a token from `now`; returns when it was granted.
    fn acquire(l: &mut ClientRateLimiter, mut now: f64) -> f64 {
        while let Err(wait) = l.try_acquire(now) {
            now += wait;
        }
        now
    }

    #[test]
    fn off_until_the_first_throttle() {
        let mut l = ClientRateLimiter::new(0.0);
        drive(&mut l, 0.0, 5.0, 100.0, |_| false);
        assert_eq!(l.rate(), None);
        assert_eq!(l.try_acquire(5.0), Ok(()));
    }

    #[test]
    fn a_throttle_cuts_the_rate_by_beta_then_it_recovers() {
        let mut l = ClientRateLimiter::new(0.0);
        let t = drive(&mut l, 0.0, 5.0, 100.0, |_| false);
        // The measured rate has settled near 100 req/s.
        l.update(true, t);
        let cut = l.rate().unwrap();
        assert!((60.0..=80.0).contains(&cut), "after a throttle: {cut}");
        // Sending as fast as allowed with no more throttles, the rate climbs back past the old maximum.
        let t = drive(&mut l, t, 10.0, 1000.0, |_| false);
        assert!(
            l.rate().unwrap() > 100.0,
            "recovered to {}",
            l.rate().unwrap()
        );
        let _ = t;
    }

    #[test]
    fn waits_spread_requests_to_the_fill_rate() {
        let mut l = ClientRateLimiter::new(0.0);
        let t = drive(&mut l, 0.0, 3.0, 20.0, |_| false);
        l.update(true, t);
        let rate = l.rate().unwrap();
        // Asking for 100 tokens at once: the waits add up to about 100 / rate.
        let mut now = t;
        for _ in 0..100 {
            now = acquire(&mut l, now);
        }
        let expected = 100.0 / rate;
        assert!(
            (now - t - expected).abs() < expected * 0.1 + 0.1,
            "{} vs {expected}",
            now - t
        );
    }

    #[test]
    fn never_below_the_minimum_rate() {
        let mut l = ClientRateLimiter::new(0.0);
        let mut t = 0.0;
        for _ in 0..200 {
            t += 0.5;
            l.update(true, t);
        }
        assert!(l.rate().unwrap() >= MIN_FILL_RATE);
    }
}
