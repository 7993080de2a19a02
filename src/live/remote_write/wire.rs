//! Remote write 1.0 on the wire: `prometheus.WriteRequest` (the few messages of
//! prometheus/prompb it uses, derived here rather than generated), protobuf-encoded and
//! compressed with raw (block) snappy. Pure: families and a time in, bytes out.

use std::collections::BTreeMap;

use prost::Message;

use crate::live::metrics::Family;

/// `prometheus.WriteRequest`: field 2 is reserved, field 3 (metadata) is not sent.
#[derive(Clone, PartialEq, Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: labels sorted by name (`__name__` among them), samples in
/// time order.
#[derive(Clone, PartialEq, Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

impl TimeSeries {
    /// The value of label `name`, if the series has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.value.as_str())
    }
}

/// Every sample of `families` as a series of one sample at `at_ms`: a histogram's as its
/// `_bucket`, `_sum` and `_count` series.
pub fn series(families: &[Family], at_ms: i64) -> Vec<TimeSeries> {
    families
        .iter()
        .flat_map(|family| {
            family.samples.iter().map(move |s| {
                let mut labels: Vec<Label> = s
                    .labels
                    .iter()
                    .map(|(name, value)| Label {
                        name: name.to_string(),
                        value: value.clone(),
                    })
                    .collect();
                labels.push(Label {
                    name: "__name__".into(),
                    value: format!("{}{}", family.name, s.suffix),
                });
                // The protocol asks for labels sorted by name; `__name__` sorts first.
                labels.sort();
                TimeSeries {
                    labels,
                    samples: vec![Sample {
                        value: s.value,
                        timestamp: at_ms,
                    }],
                }
            })
        })
        .collect()
}

/// `older` and `newer` as one request: a series in both gets the older samples first (a
/// push that failed and is sent again beside the next one).
pub fn merge(older: Vec<TimeSeries>, newer: Vec<TimeSeries>) -> Vec<TimeSeries> {
    let mut by_labels: BTreeMap<Vec<Label>, Vec<Sample>> = BTreeMap::new();
    for s in older.into_iter().chain(newer) {
        by_labels.entry(s.labels).or_default().extend(s.samples);
    }
    by_labels
        .into_iter()
        .map(|(labels, mut samples)| {
            samples.sort_by_key(|s| s.timestamp);
            samples.dedup_by_key(|s| s.timestamp);
            TimeSeries { labels, samples }
        })
        .collect()
}

/// The request body: the encoded `WriteRequest`, block-snappy compressed.
pub fn body(timeseries: Vec<TimeSeries>) -> Vec<u8> {
    let encoded = WriteRequest { timeseries }.encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&encoded)
        .expect("snappy compresses any input below 4 GiB")
}

/// A body back to its request (what a receiver does; for tests and checks).
pub fn decode(body: &[u8]) -> Result<WriteRequest, String> {
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| format!("not block snappy: {e}"))?;
    WriteRequest::decode(raw.as_slice()).map_err(|e| format!("not a WriteRequest: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::metrics::{Kind, Sample as Point};

    fn families() -> Vec<Family> {
        vec![Family {
            name: "stampede_latency_seconds",
            help: "",
            kind: Kind::Histogram,
            samples: vec![
                Point {
                    suffix: "_bucket",
                    labels: vec![("scenario", "s".into()), ("le", "0.001".into())],
                    value: 2.0,
                },
                Point {
                    suffix: "_count",
                    labels: vec![("scenario", "s".into())],
                    value: 3.0,
                },
            ],
        }]
    }

    #[test]
    fn each_sample_is_a_series_named_with_its_suffix_and_labels_sorted() {
        let all = series(&families(), 1_700_000_000_123);
        assert_eq!(all.len(), 2);
        let names: Vec<&str> = all[0].labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["__name__", "le", "scenario"]);
        assert_eq!(
            all[0].label("__name__"),
            Some("stampede_latency_seconds_bucket")
        );
        assert_eq!(
            all[1].label("__name__"),
            Some("stampede_latency_seconds_count")
        );
        assert_eq!(
            all[1].samples,
            [Sample {
                value: 3.0,
                timestamp: 1_700_000_000_123
            }]
        );
    }

    #[test]
    fn a_body_decodes_to_the_same_series() {
        let all = series(&families(), 5);
        let body = body(all.clone());
        assert_eq!(decode(&body).unwrap().timeseries, all);
        // Raw snappy, not the framed format (which starts with a stream identifier).
        assert_ne!(body[0], 0xff);
        assert!(decode(b"not snappy").is_err());
    }

    #[test]
    fn a_retried_push_rides_with_the_next_one_in_time_order() {
        let merged = merge(series(&families(), 10), series(&families(), 20));
        assert_eq!(merged.len(), 2);
        for s in &merged {
            let times: Vec<i64> = s.samples.iter().map(|p| p.timestamp).collect();
            assert_eq!(times, [10, 20]);
        }
    }
}
