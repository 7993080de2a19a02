//! The results' `addresses`: what each address the target's name resolved to served
//! (docs/connections.md, "Every address").

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What one address (`ip:port`) served over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AddressServed {
    /// Attempts sent on connections to it.
    pub requests: u64,
    /// Of those, the ones it answered (any status); the rest broke or timed out.
    pub answered: u64,
    /// Connections opened to it.
    pub connections: u64,
    /// Connects to it that failed (refused, reset, unreachable, timed out): after each, it
    /// was passed over for a few seconds and the connect went on to the next address.
    pub refused: u64,
}

impl AddressServed {
    pub fn add(&mut self, other: &AddressServed) {
        self.requests += other.requests;
        self.answered += other.answered;
        self.connections += other.connections;
        self.refused += other.refused;
    }
}

/// Adds runs' `addresses`, address by address.
pub fn add_addresses(
    into: &mut BTreeMap<String, AddressServed>,
    from: &BTreeMap<String, AddressServed>,
) {
    for (address, served) in from {
        into.entry(address.clone()).or_default().add(served);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_add_up_address_by_address() {
        let served = |requests, refused| AddressServed {
            requests,
            answered: requests - 1,
            connections: 2,
            refused,
        };
        let mut into = BTreeMap::from([("10.0.0.1:443".to_string(), served(10, 0))]);
        let from = BTreeMap::from([
            ("10.0.0.1:443".to_string(), served(5, 1)),
            ("[::1]:443".to_string(), served(3, 0)),
        ]);
        add_addresses(&mut into, &from);
        assert_eq!(
            into["10.0.0.1:443"],
            AddressServed {
                requests: 15,
                answered: 13,
                connections: 4,
                refused: 1
            }
        );
        assert_eq!(into["[::1]:443"], served(3, 0));
    }
}
