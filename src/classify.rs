//! What one attempt's answer means: ok, throttled, a client or server error, a timeout or
//! a connection failure. Pure.

/// The outcome of one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx and 3xx.
    Ok,
    /// 429: API Gateway, a function URL, or any rate limiter said "too many".
    Throttled,
    /// Any other 4xx.
    ClientError,
    /// 5xx.
    ServerError,
    /// No answer within the attempt timeout.
    Timeout,
    /// The connection could not be opened, or broke before the answer ended.
    ConnectError,
}

impl Outcome {
    pub fn from_status(status: u16) -> Outcome {
        match status {
            429 => Outcome::Throttled,
            400..=499 => Outcome::ClientError,
            500..=599 => Outcome::ServerError,
            // 1xx never reaches us as a final answer; 2xx and 3xx are successes.
            _ => Outcome::Ok,
        }
    }

    /// Neither a success nor a throttle.
    pub fn is_error(self) -> bool {
        !matches!(self, Outcome::Ok | Outcome::Throttled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(Outcome::from_status(200), Outcome::Ok);
        assert_eq!(Outcome::from_status(204), Outcome::Ok);
        assert_eq!(Outcome::from_status(302), Outcome::Ok);
        assert_eq!(Outcome::from_status(429), Outcome::Throttled);
        assert_eq!(Outcome::from_status(403), Outcome::ClientError);
        assert_eq!(Outcome::from_status(404), Outcome::ClientError);
        assert_eq!(Outcome::from_status(500), Outcome::ServerError);
        assert_eq!(Outcome::from_status(503), Outcome::ServerError);
    }

    #[test]
    fn errors_exclude_ok_and_throttles() {
        assert!(!Outcome::Ok.is_error());
        assert!(!Outcome::Throttled.is_error());
        assert!(Outcome::Timeout.is_error());
        assert!(Outcome::ConnectError.is_error());
        assert!(Outcome::ServerError.is_error());
    }
}
