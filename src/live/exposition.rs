//! Prometheus's text exposition format (version 0.0.4), which every Prometheus 2.x
//! scrapes and `promtool check metrics` lints. Written here rather than by a client
//! crate: `prometheus-client` writes only OpenMetrics, which Debian's `promtool` 2.42
//! does not lint, and our families are read from the lanes' counters at scrape time, not
//! kept in a client registry. Pure.

use std::fmt::Write;

use super::metrics::{format_value, Family};

/// The `Content-Type` of what [`render`] writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `families` in the text format. A family with no sample is left out whole.
pub fn render(families: &[Family]) -> String {
    let mut out = String::with_capacity(16 * 1024);
    for f in families.iter().filter(|f| !f.samples.is_empty()) {
        let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.word());
        for s in &f.samples {
            out.push_str(f.name);
            out.push_str(s.suffix);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label(value));
                }
                out.push('}');
            }
            out.push(' ');
            out.push_str(&format_value(s.value));
            out.push('\n');
        }
    }
    out
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::metrics::{Kind, Sample};

    #[test]
    fn families_are_written_with_help_type_and_escaped_labels() {
        let families = vec![
            Family {
                name: "stampede_requests_total",
                help: "Requests \\ ended.",
                kind: Kind::Counter,
                samples: vec![Sample {
                    suffix: "",
                    labels: vec![("request", "say \"hi\"\nthere".into())],
                    value: 3.0,
                }],
            },
            Family {
                name: "stampede_empty",
                help: "none",
                kind: Kind::Gauge,
                samples: vec![],
            },
        ];
        assert_eq!(
            render(&families),
            "# HELP stampede_requests_total Requests \\\\ ended.\n\
             # TYPE stampede_requests_total counter\n\
             stampede_requests_total{request=\"say \\\"hi\\\"\\nthere\"} 3\n"
        );
    }
}
