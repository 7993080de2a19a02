//! CloudWatch's GetMetricData, as the AWS SDK speaks it today: Smithy RPC v2 CBOR, `POST
//! /service/GraniteServiceVersion20100801/operation/GetMetricData`. Answers from the
//! emulator's own per-period counts (`metrics`).

use std::time::SystemTime;

use aws_smithy_cbor::data::Type;
use aws_smithy_cbor::{Decoder, Encoder};
use aws_smithy_types::DateTime;
use serde_json::{Map, Value};

use crate::metrics::{MetricName, Metrics};

/// A CBOR answer: status, body, and the error code for `x-amzn-query-error`.
pub struct CborReply {
    pub status: u16,
    pub body: Vec<u8>,
    pub query_error: Option<String>,
}

fn error(status: u16, code: &str, message: &str) -> CborReply {
    let mut e = Encoder::new(Vec::new());
    e.map(2).str("__type").str(code).str("message").str(message);
    CborReply {
        status,
        body: e.into_writer(),
        query_error: Some(format!("{code};Sender")),
    }
}

/// The operation a request's path names.
pub fn operation(path: &str) -> Option<&str> {
    path.strip_prefix("/service/GraniteServiceVersion20100801/operation/")
}

pub fn answer(
    metrics: &Metrics,
    operation: &str,
    body: &[u8],
    denied: bool,
    now: SystemTime,
) -> CborReply {
    if denied {
        return error(
            400,
            "AccessDenied",
            &format!("User is not authorized to perform: cloudwatch:{operation}"),
        );
    }
    if operation != "GetMetricData" {
        return error(
            400,
            "UnknownOperationException",
            &format!("the emulator does not serve {operation}"),
        );
    }
    let input = match value(&mut Decoder::new(body), 0) {
        Ok(v) => v,
        Err(why) => return error(400, "SerializationException", &why),
    };
    get_metric_data(metrics, &input, now)
        .unwrap_or_else(|why| error(400, "InvalidParameterValue", &why))
}

fn get_metric_data(metrics: &Metrics, input: &Value, now: SystemTime) -> Result<CborReply, String> {
    let time = |key: &str| {
        input[key]
            .as_f64()
            .ok_or_else(|| format!("The parameter {key} is required."))
    };
    let (start, end) = (time("StartTime")?, time("EndTime")?);
    if start >= end {
        return Err("The parameter EndTime must be greater than StartTime.".into());
    }
    let ascending = input["ScanBy"].as_str() == Some("TimestampAscending");
    let queries = input["MetricDataQueries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut results = Vec::new();
    for q in &queries {
        let id = q["Id"].as_str().unwrap_or("").to_string();
        let stat = &q["MetricStat"];
        if stat.is_null() {
            return Err(format!(
                "{id}: the emulator answers MetricStat queries only"
            ));
        }
        let metric = &stat["Metric"];
        let dimensions: Vec<(&str, &str)> = metric["Dimensions"]
            .as_array()
            .map(|ds| {
                ds.iter()
                    .map(|d| {
                        (
                            d["Name"].as_str().unwrap_or(""),
                            d["Value"].as_str().unwrap_or(""),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = MetricName {
            namespace: metric["Namespace"].as_str().unwrap_or(""),
            name: metric["MetricName"].as_str().unwrap_or(""),
            dimensions,
        };
        let period = stat["Period"].as_u64().unwrap_or(0);
        let points = metrics.datapoints(
            &name,
            stat["Stat"].as_str().unwrap_or(""),
            (start, end, period),
            now,
            ascending,
        )?;
        let label = q["Label"].as_str().unwrap_or(name.name).to_string();
        results.push((id, label, points));
    }
    let mut e = Encoder::new(Vec::new());
    e.map(2).str("MetricDataResults").array(results.len());
    for (id, label, points) in &results {
        e.map(5).str("Id").str(id).str("Label").str(label);
        e.str("Timestamps").array(points.len());
        for (t, _) in points {
            e.timestamp(&DateTime::from_secs_f64(*t));
        }
        e.str("Values").array(points.len());
        for (_, v) in points {
            e.double(*v);
        }
        e.str("StatusCode").str("Complete");
    }
    e.str("Messages").array(0);
    Ok(CborReply {
        status: 200,
        body: e.into_writer(),
        query_error: None,
    })
}

/// Deep enough for any CloudWatch input.
const MAX_DEPTH: usize = 32;

/// One CBOR item as JSON; a timestamp (tag 1) becomes its epoch seconds.
fn value(d: &mut Decoder, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("nested too deeply".into());
    }
    let e = |e: aws_smithy_cbor::decode::DeserializeError| e.to_string();
    Ok(match d.datatype().map_err(e)? {
        Type::Bool => Value::Bool(d.boolean().map_err(e)?),
        Type::Null | Type::Undefined => {
            d.skip().map_err(e)?;
            Value::Null
        }
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int => Value::from(d.long().map_err(e)?),
        Type::F16 | Type::F32 | Type::F64 => Value::from(d.double().map_err(e)?),
        Type::String | Type::StringIndef => Value::String(d.string().map_err(e)?),
        Type::Bytes | Type::BytesIndef => {
            d.blob().map_err(e)?;
            Value::Null
        }
        Type::Array | Type::ArrayIndef => {
            let mut items = Vec::new();
            match d.list().map_err(e)? {
                Some(n) => {
                    for _ in 0..n {
                        items.push(value(d, depth + 1)?);
                    }
                }
                None => {
                    while d.datatype().map_err(e)? != Type::Break {
                        items.push(value(d, depth + 1)?);
                    }
                    d.skip().map_err(e)?;
                }
            }
            Value::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let mut map = Map::new();
            let mut entry = |d: &mut Decoder| -> Result<(), String> {
                let key = d.string().map_err(e)?;
                map.insert(key, value(d, depth + 1)?);
                Ok(())
            };
            match d.map().map_err(e)? {
                Some(n) => {
                    for _ in 0..n {
                        entry(d)?;
                    }
                }
                None => {
                    while d.datatype().map_err(e)? != Type::Break {
                        entry(d)?;
                    }
                    d.skip().map_err(e)?;
                }
            }
            Value::Object(map)
        }
        Type::Tag => Value::from(d.timestamp().map_err(e)?.as_secs_f64()),
        other => return Err(format!("unexpected CBOR item {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_the_sdk_would_send_decodes() {
        let mut e = Encoder::new(Vec::new());
        e.begin_map()
            .str("StartTime")
            .timestamp(&DateTime::from_secs(600))
            .str("EndTime")
            .timestamp(&DateTime::from_secs_f64(720.5))
            .str("MetricDataQueries")
            .begin_array()
            .map(1)
            .str("Id")
            .str("m0")
            .end()
            .str("Period")
            .integer(60)
            .end();
        let v = value(&mut Decoder::new(&e.into_writer()), 0).unwrap();
        assert_eq!(v["StartTime"], 600.0);
        assert_eq!(v["EndTime"], 720.5);
        assert_eq!(v["MetricDataQueries"][0]["Id"], "m0");
        assert_eq!(v["Period"], 60);
        assert!(value(&mut Decoder::new(&[0xff]), 0).is_err());
    }
}
