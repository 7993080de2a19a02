//! Where the time went: the phases of the attempts (dns, connect, tls, ttfb, receive) as
//! the summary's line and the Markdown report's table. Pure.

use std::fmt::Write as _;

use crate::results::timing::{Phase, Timing};
use crate::results::Results;
use crate::scenario::byte_rate::{byte_rate_text, bytes_text};
use crate::verdict::ms;

/// What came: the answers' body bytes, and the streamed answers' throughput when some
/// answer was streamed (its receive phase took 1 ms or more). The summary's line, and a
/// line under the Markdown and HTML tables. `None` when no body byte came.
pub fn received(r: &Results) -> Option<String> {
    let bytes = r.totals.bytes_received;
    let streams = r.timing.as_ref().and_then(|t| t.throughput);
    if bytes == 0 && streams.is_none() {
        return None;
    }
    let mut line = format!("{} received (answers' bodies)", bytes_text(bytes));
    if let Some(t) = streams {
        let _ = write!(
            line,
            " · {} streamed answers: throughput p50 {} · p1 {} (the low percentiles are the slow streams)",
            t.count,
            byte_rate_text(t.p50),
            byte_rate_text(t.p1)
        );
    }
    Some(line)
}

/// What a phase is, in a few words, for tables.
pub fn meaning(phase: Phase) -> &'static str {
    match phase {
        Phase::Dns => "name lookup (new connections that made one)",
        Phase::Connect => "TCP connect (attempts that opened their connection)",
        Phase::Tls => "TLS handshake (attempts that opened their connection)",
        Phase::Ttfb => "request written → first byte of the answer",
        Phase::Receive => "first byte → last byte of the answer",
    }
}

/// The phases some attempt had (a kept-alive run's connect and tls are few; a plain-HTTP
/// run has no tls).
pub fn seen(t: &Timing) -> impl Iterator<Item = Phase> + '_ {
    Phase::ALL.into_iter().filter(|p| t.get(*p).count > 0)
}

/// The summary's line: each phase's p50 / p99 and how many attempts had it.
pub fn line(t: &Timing) -> Option<String> {
    let parts: Vec<String> = seen(t)
        .map(|p| {
            let s = t.get(p);
            format!("{} {} / {} ({})", p.name(), ms(s.p50), ms(s.p99), s.count)
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "where the time went (p50 / p99, attempts): {}",
            parts.join(" · ")
        )
    })
}

/// The Markdown report's table, with a line on what is left out of keep-alive runs.
pub fn markdown(r: &Results) -> String {
    let Some(t) = &r.timing else {
        return String::new();
    };
    if seen(t).next().is_none() {
        return String::new();
    }
    let mut out = String::from(
        "\n### Where the time went\n\n| phase | attempts | p50 | p90 | p99 | max | mean |\n|---|--:|--:|--:|--:|--:|--:|\n",
    );
    for p in seen(t) {
        let s = t.get(p);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            p.name(),
            s.count,
            ms(s.p50),
            ms(s.p90),
            ms(s.p99),
            ms(s.max),
            ms(s.mean)
        );
    }
    out.push_str(
        "\ndns, connect and tls are counted for the attempts that opened their connection (a kept-alive connection's later requests have none); ttfb runs from the request written to the first byte of the answer, receive from it to the last.\n",
    );
    if let Some(line) = received(r) {
        let _ = writeln!(out, "\n{line}.");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::timing::PhaseSummary;
    use stampede_results::Percentiles;

    #[test]
    fn phases_no_attempt_had_are_left_out() {
        let s = |count, p50, p99| PhaseSummary {
            count,
            ms: Percentiles {
                p50,
                p99,
                ..Percentiles::default()
            },
        };
        let t = Timing {
            connect: s(8, 0.2, 0.5),
            ttfb: s(400, 50.0, 61.0),
            receive: s(400, 250.0, 262.0),
            ..Timing::default()
        };
        let line = line(&t).unwrap();
        assert_eq!(
            line,
            "where the time went (p50 / p99, attempts): connect 0.20ms / 0.50ms (8) · ttfb 50.0ms / 61.0ms (400) · receive 250ms / 262ms (400)"
        );
        assert!(super::line(&Timing::default()).is_none());
    }
}
