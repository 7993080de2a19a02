//! What a Lambda target's preflight warns about before traffic: a payload Lambda would
//! refuse, and an attempt timeout shorter than the function's own. Pure.

use std::time::Duration;

use stampede_lambda::Invocation;

/// Lambda's largest request payload: 6 MB synchronous, 1 MB asynchronous (since 2025).
pub fn payload_limit(invocation: Invocation) -> usize {
    match invocation {
        Invocation::RequestResponse | Invocation::Stream => 6 * 1024 * 1024,
        Invocation::Event => 1024 * 1024,
    }
}

pub fn warnings(
    payload_bytes: usize,
    invocation: Invocation,
    attempt_timeout: Duration,
    function_timeout_s: Option<u64>,
) -> Vec<String> {
    let mut out = Vec::new();
    let limit = payload_limit(invocation);
    if payload_bytes > limit {
        out.push(format!(
            "the payload is {payload_bytes} bytes; Lambda refuses {} invocations above {limit} (413 RequestEntityTooLargeException): every attempt would be a client error",
            invocation.key()
        ));
    }
    if let Some(f) = function_timeout_s.filter(|_| invocation.is_synchronous()) {
        if Duration::from_secs(f) > attempt_timeout {
            out.push(format!(
                "the function may run {f} s (its timeout) but an attempt waits {} s ([target] timeout): slow invocations would count as timeouts while the function runs on and holds its environment",
                attempt_timeout.as_secs_f64()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_past_lambdas_limits_are_warned_about() {
        let t = Duration::from_secs(29);
        assert!(warnings(6 * 1024 * 1024, Invocation::RequestResponse, t, None).is_empty());
        assert_eq!(
            warnings(6 * 1024 * 1024 + 1, Invocation::RequestResponse, t, None).len(),
            1
        );
        assert_eq!(warnings(2_000_000, Invocation::Event, t, None).len(), 1);
    }

    #[test]
    fn a_function_that_outlasts_the_attempt_timeout_is_warned_about() {
        let t = Duration::from_secs(29);
        let w = warnings(2, Invocation::RequestResponse, t, Some(900));
        assert!(w[0].contains("900 s"), "{w:?}");
        assert!(warnings(2, Invocation::RequestResponse, t, Some(10)).is_empty());
        assert!(
            warnings(2, Invocation::Event, t, Some(900)).is_empty(),
            "not waited for"
        );
    }
}
