//! How the connections went, as the Markdown report's summary says it: requests sent again
//! because the server had not processed them, the HTTP/2 GOAWAYs, and what each of the
//! target's addresses served (docs/connections.md). Nothing when there is nothing to say.

use std::fmt::Write as _;

use super::{bar, percent, section, table};
use crate::report::addresses::worth_showing;
use crate::report::html::esc;
use crate::results::Results;
use crate::transport::ADDRESS_SKIP_FOR;

pub fn connections(out: &mut String, r: &Results) {
    let t = &r.totals;
    let addresses = worth_showing(r);
    if t.stale_connection_resends == 0 && t.goaways == 0 && !addresses {
        return;
    }
    section(out, "connections", "Connections");
    let mut keys = Vec::new();
    if t.stale_connection_resends > 0 {
        keys.push((
            "resent",
            "sent again, not processed",
            t.stale_connection_resends,
            "a kept-alive connection closed unannounced, or an HTTP/2 server's GOAWAY or \
             REFUSED_STREAM: sent again at once, not counted as attempts",
        ));
    }
    if t.goaways > 0 {
        keys.push((
            "goaways",
            "HTTP/2 GOAWAYs",
            t.goaways,
            "HTTP/2 connections the server ended",
        ));
    }
    if !keys.is_empty() {
        out.push_str("<dl class=\"keys\">");
        for (id, name, n, title) in keys {
            let _ = write!(
                out,
                "<div title=\"{}\"><dt>{}</dt><dd id=\"key-{id}\">{n}</dd></div>",
                esc(title),
                esc(name)
            );
        }
        out.push_str("</dl>\n");
    }
    if addresses {
        address_table(out, r);
    }
    out.push_str("</section>\n");
}

/// Each address the target's name resolved to: attempts sent on its connections, those
/// it answered, connections opened, connects refused, and its share of the attempts.
fn address_table(out: &mut String, r: &Results) {
    let _ = writeln!(
        out,
        "<h3>Addresses</h3><p class=\"help\">{}</p>",
        esc(&format!(
            "What each address the target's name resolved to served. A connect it refused \
             passed it over for {} s, and the connect went on to the next address.",
            ADDRESS_SKIP_FOR.as_secs()
        ))
    );
    let total: u64 = r.addresses.values().map(|s| s.requests).sum();
    let max = r.addresses.values().map(|s| s.requests).max().unwrap_or(0);
    let rows: Vec<Vec<String>> = r
        .addresses
        .iter()
        .map(|(address, s)| {
            vec![
                esc(address),
                bar(s.requests, max),
                s.answered.to_string(),
                s.connections.to_string(),
                s.refused.to_string(),
                esc(&percent(s.requests, total)),
            ]
        })
        .collect();
    table(
        out,
        "num addresses",
        &[
            "address",
            "requests",
            "answered",
            "connections",
            "refused",
            "share",
        ],
        &rows,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use stampede_results::AddressServed;

    #[test]
    fn resends_goaways_and_addresses_when_there_are_some() {
        let mut r = crate::report::fixture::passed();
        let mut html = String::new();
        connections(&mut html, &r);
        assert_eq!(html, "", "nothing to say");
        r.totals.stale_connection_resends = 12;
        r.totals.goaways = 3;
        let served = |requests, refused| AddressServed {
            requests,
            answered: requests - 1,
            connections: 2,
            refused,
        };
        r.addresses.insert("127.0.0.1:443".into(), served(300, 0));
        r.addresses.insert("<b>:443".into(), served(100, 1));
        connections(&mut html, &r);
        assert!(html.contains(r#"<dd id="key-resent">12</dd>"#), "{html}");
        assert!(html.contains(r#"<dd id="key-goaways">3</dd>"#), "{html}");
        assert!(
            html.contains("<tr><td>127.0.0.1:443</td><td><span class=\"bar\" style=\"width:100.0%\"></span> 300</td><td>299</td><td>2</td><td>0</td><td>75.0%</td></tr>"),
            "{html}"
        );
        assert!(html.contains("<td>&lt;b&gt;:443</td>"), "text: {html}");
        // One address and no resend: the section says nothing.
        r.addresses.remove("<b>:443");
        r.totals.stale_connection_resends = 0;
        r.totals.goaways = 0;
        let mut html = String::new();
        connections(&mut html, &r);
        assert_eq!(html, "");
    }
}
