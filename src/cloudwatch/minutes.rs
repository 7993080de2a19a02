//! Both sides per period: the client's from the results' seconds, the server's from
//! GetMetricData's datapoints. Pure.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::query::{MetricQuery, Window};
use super::{ClientMinute, Minute, ServerMinute};
use crate::record::{decode, SecondHistograms, TimelinePoint};

/// A query's datapoints: (period start, epoch seconds; value).
pub type Datapoints = BTreeMap<String, Vec<(i64, f64)>>;

/// RFC 3339, UTC, to the second.
pub fn rfc3339(epoch_s: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(epoch_s.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The client's side of each period, and of the whole window. A second belongs to the
/// period its middle falls in (the last period, past the window's end), so a run that
/// starts on a whole second splits exactly.
pub fn client_minutes(
    window: &Window,
    started: f64,
    timeline: &[TimelinePoint],
    seconds: &[SecondHistograms],
) -> (Vec<ClientMinute>, ClientMinute) {
    let starts = window.minutes();
    let mut minutes = vec![ClientMinute::default(); starts.len()];
    let mut latency: Vec<Option<Histogram<u64>>> = vec![None; starts.len()];
    let mut whole: Option<Histogram<u64>> = None;
    let index = |t_s: u64| Some(window.period_of(started, t_s));
    let mut total = ClientMinute::default();
    for p in timeline {
        for m in [index(p.t_s).map(|i| &mut minutes[i]), Some(&mut total)]
            .into_iter()
            .flatten()
        {
            add_second(m, p);
        }
    }
    for s in seconds {
        let Some(h) = decode(&s.latency) else {
            continue;
        };
        if let Some(i) = index(s.t_s) {
            merge(&mut latency[i], &h);
        }
        merge(&mut whole, &h);
    }
    for (m, h) in minutes.iter_mut().zip(&latency) {
        set_latency(m, h.as_ref());
    }
    set_latency(&mut total, whole.as_ref());
    (minutes, total)
}

fn add_second(m: &mut ClientMinute, p: &TimelinePoint) {
    m.sent += p.sent;
    m.ok += p.ok;
    m.errors += p.errors;
    m.suspected_lambda += p.suspected_lambda_throttles;
    m.peak_in_flight = m.peak_in_flight.max(p.in_flight_max);
    for (kind, n) in &p.throttles {
        match kind.as_str() {
            "api_gateway" | "usage_plan" => m.throttled_gateway += n,
            k if k.starts_with("lambda_") => m.throttled_lambda += n,
            _ => m.throttled_other += n,
        }
    }
}

fn merge(into: &mut Option<Histogram<u64>>, h: &Histogram<u64>) {
    match into {
        Some(all) => {
            let _ = all.add(h);
        }
        None => *into = Some(h.clone()),
    }
}

fn set_latency(m: &mut ClientMinute, h: Option<&Histogram<u64>>) {
    if let Some(h) = h.filter(|h| !h.is_empty()) {
        let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        m.p50_ms = Some(ms(0.5));
        m.p99_ms = Some(ms(0.99));
    }
}

/// The server's side of each period and of the whole window, from the datapoints.
pub fn server_minutes(
    window: &Window,
    queries: &[MetricQuery],
    points: &Datapoints,
) -> (Vec<ServerMinute>, ServerMinute) {
    let starts = window.minutes();
    let mut minutes = vec![ServerMinute::default(); starts.len()];
    let mut total = ServerMinute::default();
    for q in queries {
        for &(t, v) in points.get(&q.id).map_or(&[][..], Vec::as_slice) {
            if q.whole {
                q.field.set(&mut total, v);
            } else if let Some(i) = starts.iter().position(|&s| s == t) {
                q.field.set(&mut minutes[i], v);
            }
        }
    }
    (minutes, total)
}

/// Both sides together, per period and for the whole window.
pub fn side_by_side(
    window: &Window,
    client: (Vec<ClientMinute>, ClientMinute),
    server: (Vec<ServerMinute>, ServerMinute),
) -> (Vec<Minute>, Minute) {
    let minutes = window
        .minutes()
        .into_iter()
        .zip(client.0)
        .zip(server.0)
        .map(|((start, client), server)| Minute {
            start: rfc3339(start),
            client,
            server,
        })
        .collect();
    let total = Minute {
        start: rfc3339(window.start),
        client: client.1,
        server: server.1,
    };
    (minutes, total)
}

#[cfg(test)]
mod tests {
    use super::super::query::{queries, Field, MetricTarget};
    use super::*;

    fn point(t_s: u64, sent: u64) -> TimelinePoint {
        TimelinePoint {
            t_s,
            sent,
            ok: sent,
            in_flight_max: t_s,
            ..TimelinePoint::default()
        }
    }

    #[test]
    fn seconds_fall_in_the_period_their_middle_is_in() {
        // Started 0.7 s into second 59 of a minute: second 0's middle is at 60.2.
        let w = Window::around(59.7, 3.0, 60);
        assert_eq!(w.minutes(), vec![0, 60]);
        let timeline = [point(0, 10), point(1, 20), point(2, 30)];
        let (minutes, total) = client_minutes(&w, 59.7, &timeline, &[]);
        assert_eq!(minutes[0].sent, 0);
        assert_eq!(minutes[1].sent, 60);
        assert_eq!(total.sent, 60);
        assert_eq!(minutes[1].peak_in_flight, 2);
        // Started at 59.2: second 0's middle is 59.7.
        let (minutes, _) = client_minutes(&w, 59.2, &timeline, &[]);
        assert_eq!((minutes[0].sent, minutes[1].sent), (10, 50));
    }

    #[test]
    fn throttles_are_split_by_whose() {
        let mut p = point(0, 10);
        p.throttles.insert("api_gateway".into(), 3);
        p.throttles.insert("lambda_reserved_concurrency".into(), 2);
        p.throttles.insert("other_429".into(), 1);
        p.suspected_lambda_throttles = 4;
        let w = Window::around(0.0, 1.0, 60);
        let (_, total) = client_minutes(&w, 0.0, &[p], &[]);
        assert_eq!(
            (
                total.throttled_gateway,
                total.throttled_lambda,
                total.throttled_other,
                total.suspected_lambda
            ),
            (3, 2, 1, 4)
        );
    }

    #[test]
    fn datapoints_land_in_their_periods() {
        let w = Window::around(0.0, 150.0, 60);
        let target = MetricTarget {
            function: Some("f".into()),
            ..MetricTarget::default()
        };
        let qs = queries(&target);
        let id = |field, whole| {
            qs.iter()
                .find(|q| q.field == field && q.whole == whole)
                .unwrap()
                .id
                .clone()
        };
        let mut points = Datapoints::new();
        points.insert(id(Field::Invocations, false), vec![(0, 100.0), (60, 80.0)]);
        points.insert(id(Field::Invocations, true), vec![(0, 180.0)]);
        let server = server_minutes(&w, &qs, &points);
        assert_eq!(server.0[1].invocations, Some(80.0));
        assert_eq!(server.1.invocations, Some(180.0));
        let timeline = [point(0, 1), point(70, 1), point(130, 1)];
        let client = client_minutes(&w, 0.0, &timeline, &[]);
        let (minutes, _) = side_by_side(&w, client, server);
        assert_eq!(minutes.len(), 3);
        assert_eq!(minutes[0].start, "1970-01-01T00:00:00Z");
    }
}
