//! The summary's line on the target's addresses, when more than one served requests or
//! one refused connects: how the load spread, and what was passed over.

use crate::results::Results;
use crate::transport::ADDRESS_SKIP_FOR;

/// Addresses named on the line; the rest are counted.
const SHOWN: usize = 6;

/// More than one address served requests, or one refused connects: the spread says
/// something (one address alone says nothing).
pub fn worth_showing(r: &Results) -> bool {
    let serving = r.addresses.values().filter(|s| s.requests > 0).count();
    serving >= 2 || r.addresses.values().any(|s| s.refused > 0)
}

pub fn line(r: &Results) -> Option<String> {
    if !worth_showing(r) {
        return None;
    }
    let serving: Vec<(&String, u64)> = r
        .addresses
        .iter()
        .filter(|(_, s)| s.requests > 0)
        .map(|(a, s)| (a, s.requests))
        .collect();
    let refused: u64 = r.addresses.values().map(|s| s.refused).sum();
    let total: u64 = serving.iter().map(|(_, n)| n).sum();
    let mut parts: Vec<String> = serving
        .iter()
        .take(SHOWN)
        .map(|(a, n)| format!("{a} {n} ({:.0}%)", *n as f64 * 100.0 / total.max(1) as f64))
        .collect();
    if serving.len() > SHOWN {
        parts.push(format!("{} more", serving.len() - SHOWN));
    }
    let mut text = format!("addresses (attempts each served): {}", parts.join(" · "));
    if refused > 0 {
        let by: Vec<String> = r
            .addresses
            .iter()
            .filter(|(_, s)| s.refused > 0)
            .map(|(a, s)| format!("{a} {}", s.refused))
            .collect();
        text.push_str(&format!(
            "\nconnects refused, the address passed over for {} s and the next one tried: {}",
            ADDRESS_SKIP_FOR.as_secs(),
            by.join(" · ")
        ));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stampede_results::AddressServed;

    fn served(requests: u64, refused: u64) -> AddressServed {
        AddressServed {
            requests,
            answered: requests,
            connections: 1,
            refused,
        }
    }

    #[test]
    fn one_address_says_nothing_two_say_how_the_load_spread() {
        let mut r = crate::report::fixture::passed();
        assert_eq!(line(&r), None, "no addresses recorded");
        r.addresses.insert("127.0.0.1:80".into(), served(300, 0));
        assert_eq!(line(&r), None, "one address served");
        r.addresses.insert("127.0.0.2:80".into(), served(100, 2));
        assert_eq!(
            line(&r).unwrap(),
            "addresses (attempts each served): 127.0.0.1:80 300 (75%) · 127.0.0.2:80 100 (25%)\n\
             connects refused, the address passed over for 5 s and the next one tried: \
             127.0.0.2:80 2"
        );
    }
}
