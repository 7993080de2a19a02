use super::*;
use crate::classify::Outcome;
use crate::record::{decode, FailureSample, SecondRecord, StageRecord, Timeline};
use crate::results::failure::FAILURE_SAMPLES;
use crate::results::{build, percentiles, RunInput, ShardInfo, StageInput, TargetInfo};
use std::collections::BTreeMap;

/// A run of one open stage that started at `start` (RFC 3339) and ended requests
/// `(second, latency µs, ok)`, with a p99 threshold of `p99`; each with its own run id.
fn run(start: &str, ends: &[(u64, u64, bool)], p99: &str) -> Results {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let mut rec = StageRecord::new();
    let mut seconds: BTreeMap<u64, SecondRecord> = BTreeMap::new();
    for &(sec, us, ok) in ends {
        let c = &mut rec.counts;
        let outcome = if ok {
            Outcome::Ok
        } else {
            Outcome::Throttled(crate::classify::ThrottleKind::Other)
        };
        c.requests += 1;
        c.attempts.sent += 1;
        c.first_sent += 1;
        if ok {
            c.ok += 1;
            c.attempts.ok += 1;
            c.first_try_ok += 1;
        } else {
            c.throttled += 1;
            c.attempts.throttled += 1;
        }
        rec.latency.record(us).unwrap();
        if ok {
            rec.ok_latency.record(us).unwrap();
        }
        rec.service.record(us).unwrap();
        let s = seconds.entry(sec).or_insert_with(|| SecondRecord::new(sec));
        s.sent += 1;
        s.in_flight_max = 1;
        s.count_attempt(outcome);
        s.record_latency(us, outcome);
        s.count_request(outcome);
    }
    rec.peak_in_flight = 1;
    rec.first_scheduled_us = Some(0);
    let last = ends.iter().map(|e| e.0).max().unwrap_or(0);
    rec.last_done_us = Some((last + 1) * 1_000_000);
    let mut t = Timeline::new(1);
    for (_, s) in seconds {
        t.add(0, s);
    }
    t.lane_done(0);
    let overall = rec.clone();
    let mut r = build(RunInput {
        request_names: Vec::new(),
        name: Some("shard"),
        target: TargetInfo {
            url: "http://127.0.0.1/".into(),
            method: "GET".into(),
            ..Default::default()
        },
        started_at: humantime::parse_rfc3339(start).unwrap(),
        interrupted: false,
        stages: vec![StageInput {
            planned_by_request: None,
            name: "steady",
            kind: crate::results::StageKind::Constant,
            record: &rec,
            planned_s: Some((last + 1) as f64),
            planned_requests: Some(ends.len() as u64),
        }],
        overall: &overall,
        faults: Vec::new(),
        open_files_limit: None,
        failures: Vec::new(),
        timeline: t.points,
        seconds: t.histograms,
        thresholds: vec![ThresholdResult {
            name: "p99".into(),
            stage: None,
            request: None,
            flow: None,
            limit: p99.into(),
            observed: 0.0,
            pass: true,
            not_judged: false,
        }],
    });
    r.scenario_id = Some("0123456789abcdef".into());
    let id = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    r.run_id = Some(format!("{id:08x}"));
    r
}

fn fast(n: usize, sec: u64) -> Vec<(u64, u64, bool)> {
    vec![(sec, 10_000, true); n]
}

#[test]
fn percentiles_come_from_the_added_histograms_and_thresholds_are_checked_again() {
    // Two fast shards (10 ms) and one slow (500 ms), 100 requests each. The union's p99
    // is 500 ms; the mean of the shards' p99s, what averaging gives, 173 ms.
    let t = "2026-01-01T00:00:00Z";
    let slow = vec![(0, 500_000, true); 100];
    let runs = vec![
        run(t, &fast(100, 0), "200ms"),
        run(t, &fast(100, 0), "200ms"),
        run(t, &slow, "200ms"),
    ];
    let mut added = new_histogram();
    for r in &runs {
        added
            .add(decode(&r.histograms.overall.latency).unwrap())
            .unwrap();
    }
    let m = merge(runs).unwrap();
    assert_eq!(m.latency_ms, percentiles(&added));
    assert!((m.latency_ms.p50 - 10.0).abs() < 0.05, "{:?}", m.latency_ms);
    assert!((m.latency_ms.p99 - 500.0).abs() < 1.0, "{:?}", m.latency_ms);
    assert_eq!(m.totals.requests, 300);
    assert_eq!(m.stages[0].totals.ok, 300);
    assert_eq!(m.stages[0].planned_requests, Some(300));
    assert_eq!(m.thresholds.len(), 1);
    assert!(!m.thresholds[0].pass, "{:?}", m.thresholds);
    assert_eq!(m.thresholds[0].observed, m.latency_ms.p99);
    let p = &m.timeline[0];
    assert_eq!((p.sent, p.requests, p.ok), (300, 300, 300));
    assert_eq!(p.p99_ms, m.latency_ms.p99);
    assert_eq!(p.ok_ms.unwrap().count, 300);
    assert_eq!(decode(&m.histograms.seconds[0].latency).unwrap().len(), 300);
    let info = m.merged.unwrap();
    assert_eq!((info.files, info.per_second_exact), (3, true));
    assert!(info.shards.is_empty());
    assert_eq!(info.runs.len(), 3, "every run's id: {:?}", info.runs);
}

#[test]
fn seconds_align_on_the_wall_clock() {
    let a = run(
        "2026-01-01T00:00:00Z",
        &[(0, 1000, true), (1, 1000, true)],
        "1s",
    );
    // 2.4 s later: its second 0 is mostly the merged second 2.
    let b = run(
        "2026-01-01T00:00:02.400Z",
        &[(0, 2000, true), (1, 2000, false)],
        "1s",
    );
    // 0.6 s later: its second 0 is mostly the merged second 1.
    let c = run("2026-01-01T00:00:00.600Z", &[(0, 3000, true)], "1s");
    let m = merge(vec![b, a, c]).unwrap();
    assert_eq!(m.started_at, "2026-01-01T00:00:00.000Z");
    let sent: Vec<u64> = m.timeline.iter().map(|p| p.sent).collect();
    assert_eq!(sent, vec![1, 2, 1, 1]);
    assert_eq!(m.timeline[3].throttled, 1);
    assert_eq!(m.throttle_onset.unwrap().t_s, 3);
    assert!((m.duration_s - 4.4).abs() < 1e-9, "{}", m.duration_s);
    assert_eq!(m.stages[0].started_s, Some(0.0));
    assert_eq!(m.histograms.seconds.len(), 4);
}

#[test]
fn runs_one_after_another_keep_a_seconds_peak_in_flight() {
    let a = run("2026-01-01T00:00:00Z", &[(0, 1000, true)], "1s");
    let b = run("2026-01-01T00:00:00.300Z", &[(0, 1000, true)], "1s");
    let at_once = align(&[a.clone(), b.clone()], true).unwrap();
    let after = align(&[a, b], false).unwrap();
    assert_eq!(at_once.timeline[0].in_flight_max, 2);
    assert_eq!(after.timeline[0].in_flight_max, 1);
    assert_eq!(after.timeline[0].sent, 2);
    assert_eq!(after.offsets, vec![0.0, 0.3]);
    assert!(
        (after.duration_s - 1.3).abs() < 1e-9,
        "{}",
        after.duration_s
    );
}

#[test]
fn the_first_try_rate_is_recomputed_from_counts() {
    let t = "2026-01-01T00:00:00Z";
    let mut a = run(t, &fast(10, 0), "1s");
    a.retry.first_try_success_rate = 0.5;
    let b = run(t, &fast(30, 0), "1s");
    let m = merge(vec![a, b]).unwrap();
    // (5 + 30) / 40, not (0.5 + 1.0) / 2.
    assert_eq!(m.retry.first_try_success_rate, 35.0 / 40.0);
}

#[test]
fn failures_are_kept_earliest_first_on_the_merged_clock_to_the_cap() {
    let sample = |t_s: f64| FailureSample {
        request: None,
        correlation_id: None,
        t_s,
        stage: "steady".into(),
        attempt: 1,
        status: Some(500),
        kind: "server_error".into(),
        body_excerpt: None,
    };
    let mut a = run("2026-01-01T00:00:01Z", &fast(1, 0), "1s");
    let mut b = run("2026-01-01T00:00:00Z", &fast(1, 0), "1s");
    a.failures = (0..20).map(|i| sample(i as f64 * 0.01)).collect();
    b.failures = (0..20).map(|i| sample(0.5 + i as f64 * 0.1)).collect();
    let m = merge(vec![a, b]).unwrap();
    assert_eq!(m.failures.len(), FAILURE_SAMPLES);
    assert_eq!(m.failures[0].t_s, 0.5);
    assert!(m.failures.windows(2).all(|w| w[0].t_s <= w[1].t_s));
    // a's failures are 1 s later on the merged clock: from 1.0.
    assert!(m.failures.iter().any(|f| (f.t_s - 1.0).abs() < 1e-9));
}

#[test]
fn files_without_second_histograms_merge_with_approximate_seconds() {
    let t = "2026-01-01T00:00:00Z";
    let a = run(t, &fast(100, 0), "1s");
    let mut b = run(t, &vec![(0, 300_000, true); 100], "1s");
    b.histograms.seconds.clear();
    let m = merge(vec![a, b]).unwrap();
    let info = m.merged.as_ref().unwrap();
    assert!(!info.per_second_exact);
    assert!(m.histograms.seconds.is_empty());
    let p = &m.timeline[0];
    assert_eq!(p.requests, 200);
    // The bound: the higher of the two files' p99s.
    assert!((p.p99_ms - 300.0).abs() < 1.0, "{p:?}");
    // The whole run's histograms are still exact.
    assert!((m.latency_ms.p99 - 300.0).abs() < 1.0);
    assert!((m.latency_ms.p50 - 10.0).abs() < 0.05, "{:?}", m.latency_ms);
    // A merged file merged again stays marked approximate and counts its runs.
    let c = run(t, &fast(1, 0), "1s");
    let again = merge(vec![m, c]).unwrap();
    assert_eq!(again.merged.unwrap().files, 3);
}

#[test]
fn runs_of_other_scenarios_or_stages_are_refused_by_file() {
    let t = "2026-01-01T00:00:00Z";
    let names: Vec<String> = ["a.json", "b.json", "c.json"].map(String::from).to_vec();
    let mut b = run(t, &fast(1, 0), "1s");
    b.scenario_id = Some("fedcba9876543210".into());
    let e = merge(vec![
        run(t, &fast(1, 0), "1s"),
        b,
        run(t, &fast(1, 0), "1s"),
    ])
    .unwrap_err();
    assert_eq!(
        e,
        Refusal::DifferentScenarios(vec![
            ("0123456789abcdef".into(), vec![0, 2]),
            ("fedcba9876543210".into(), vec![1])
        ])
    );
    let text = e.describe(&names);
    assert!(
        text.contains("a.json, c.json ran scenario 0123456789abcdef"),
        "{text}"
    );
    assert!(
        text.contains("b.json ran scenario fedcba9876543210"),
        "{text}"
    );

    let mut c = run(t, &fast(1, 0), "1s");
    c.stages[0].name = "other".into();
    let e = merge(vec![
        run(t, &fast(1, 0), "1s"),
        run(t, &fast(1, 0), "1s"),
        c,
    ])
    .unwrap_err();
    let text = e.describe(&names);
    assert!(
        text.contains("a.json has stages [steady (constant)], c.json has [other (constant)]"),
        "{text}"
    );

    let e = merge(vec![run(t, &fast(1, 0), "1s")]).unwrap_err();
    assert_eq!(e, Refusal::TooFew(1));
}

#[test]
fn a_run_is_merged_once_whichever_file_holds_it() {
    let t = "2026-01-01T00:00:00Z";
    let names: Vec<String> = ["a.json", "b.json", "c.json"].map(String::from).to_vec();
    let (a, b) = (run(t, &fast(400, 0), "1s"), run(t, &fast(400, 0), "1s"));
    // A copy of a file: 800 requests from a 400-request run, were it merged.
    let e = merge(vec![a.clone(), b.clone(), a.clone()]).unwrap_err();
    let id = a.run_id.clone().unwrap();
    assert_eq!(
        e,
        Refusal::SameRun {
            run: format!("run_id {id}"),
            files: vec![0, 2]
        }
    );
    let text = e.describe(&names);
    assert!(
        text.contains(&format!(
            "a.json and c.json hold the same run (run_id {id})"
        )),
        "{text}"
    );
    // A merged file already holds its runs.
    let ab = merge(vec![a.clone(), b.clone()]).unwrap();
    assert!(matches!(
        merge(vec![ab.clone(), b.clone()]),
        Err(Refusal::SameRun { files, .. }) if files == [0, 1]
    ));
    let c = run(t, &fast(10, 0), "1s");
    let abc = merge(vec![ab, c]).unwrap();
    assert_eq!(abc.totals.requests, 810);
    assert_eq!(abc.merged.unwrap().runs.len(), 3);
    // Files from before run ids: the same start and counts are the same run.
    let (mut old_a, mut old_b) = (a.clone(), a);
    (old_a.run_id, old_b.run_id) = (None, None);
    assert!(matches!(
        merge(vec![old_a.clone(), old_b]),
        Err(Refusal::SameRun { .. })
    ));
    let mut later = b;
    later.run_id = None;
    later.started_at = "2026-01-01T00:00:00.001Z".into();
    assert_eq!(merge(vec![old_a, later]).unwrap().totals.requests, 800);
}

#[test]
fn the_same_file_twice_and_out_over_an_input_are_refused() {
    let names: Vec<String> = ["a.json", "b.json", "a-link.json"]
        .map(String::from)
        .to_vec();
    // Files by (device, inode); b is not on disk (a store's).
    let files = [Some((1, 10)), None, Some((1, 10))];
    let e = check_files(&files, None).unwrap_err();
    assert_eq!(e, Refusal::SameFile(vec![0, 2]));
    assert!(e
        .describe(&names)
        .contains("a.json and a-link.json are one file"));
    let e = check_files(&[Some((1, 10)), Some((1, 11))], Some((1, 11))).unwrap_err();
    assert_eq!(e, Refusal::OutIsInput(1));
    assert!(e
        .describe(&names)
        .contains("--out b.json is one of the files to merge"));
    assert_eq!(
        check_files(&[Some((1, 10)), None, None], Some((2, 10))),
        Ok(())
    );
}

#[test]
fn shards_started_at_different_instants_are_different_tests() {
    let shard = |i: u64, start_at: Option<&str>| {
        let mut r = run("2026-01-01T00:00:00Z", &fast(10, 0), "1s");
        r.shard = Some(ShardInfo {
            index: i,
            count: 2,
            source: "--shard".into(),
            start_at: start_at.map(String::from),
            late_s: 0.0,
            skipped_requests: 0,
            clock_offset_ms: None,
            clock_within_ms: None,
        });
        r
    };
    let (t, t3) = ("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:03.000Z");
    let names: Vec<String> = ["s0.json", "s1.json"].map(String::from).to_vec();
    let e = merge(vec![shard(0, Some(t)), shard(1, Some(t3))]).unwrap_err();
    let text = e.describe(&names);
    assert!(
        text.contains(&format!("s0.json --start-at {t}; s1.json --start-at {t3}")),
        "{text}"
    );
    let e = merge(vec![shard(0, Some(t)), shard(1, None)]).unwrap_err();
    assert!(e.describe(&names).contains("s1.json without --start-at"));
    assert!(merge(vec![shard(0, Some(t)), shard(1, Some(t))]).is_ok());
    assert!(merge(vec![shard(0, None), shard(1, None)]).is_ok());
}

#[test]
fn ok_latencies_are_added_and_a_file_without_them_leaves_none() {
    let t = "2026-01-01T00:00:00Z";
    let mut a = run(t, &[(0, 10_000, true), (0, 1_000, false)], "1s");
    a.thresholds[0].name = "ok_p99".into();
    let b = run(t, &[(0, 500_000, true), (0, 1_000, false)], "1s");
    let m = merge(vec![a.clone(), b.clone()]).unwrap();
    let ok = m.ok_latency_ms.expect("both files have them");
    assert!((ok.max - 500.0).abs() < 1.0, "{ok:?}");
    assert!(ok.p50 >= 10.0, "the throttles are left out: {ok:?}");
    assert_eq!(m.thresholds[0].observed, ok.p99);
    assert!(m.stages[0].ok_latency_ms.is_some());
    // A file written before ok latencies existed: none in the merge, and a threshold
    // on them cannot be judged.
    let mut old = b;
    old.histograms.overall.ok_latency = None;
    old.ok_latency_ms = None;
    assert!(matches!(
        merge(vec![a, old]),
        Err(Refusal::Unreadable { file: 0, .. })
    ));
}

#[test]
fn stage_thresholds_use_the_stage_and_bad_ones_are_refused() {
    let t = "2026-01-01T00:00:00Z";
    let mut a = run(t, &fast(10, 0), "1s");
    a.thresholds.push(ThresholdResult {
        name: "failure_rate".into(),
        stage: Some("steady".into()),
        request: None,
        flow: None,
        limit: "10%".into(),
        observed: 0.0,
        pass: true,
        not_judged: false,
    });
    let b = run(t, &[(0, 1000, false); 2], "1s");
    let m = merge(vec![a.clone(), b.clone()]).unwrap();
    let f = &m.thresholds[1];
    assert_eq!(f.stage.as_deref(), Some("steady"));
    assert_eq!(f.observed, 2.0 / 12.0);
    assert!(!f.pass);
    a.thresholds[1].name = "p42".into();
    assert!(matches!(
        merge(vec![a, b]),
        Err(Refusal::Unreadable { file: 0, .. })
    ));
}

#[test]
fn shards_must_make_a_whole() {
    let shard = |i: u64, n: u64| {
        let mut r = run("2026-01-01T00:00:00Z", &fast(10, 0), "1s");
        r.shard = Some(ShardInfo {
            index: i,
            count: n,
            source: "--shard".into(),
            start_at: None,
            late_s: 0.0,
            skipped_requests: 0,
            clock_offset_ms: None,
            clock_within_ms: None,
        });
        r
    };
    let why = |runs: Vec<Results>| match merge(runs) {
        Err(Refusal::Shards(why)) => why,
        other => panic!("{:?}", other.map(|r| r.totals)),
    };
    assert_eq!(
        why(vec![shard(0, 3), shard(2, 3)]),
        "1 of 3 shards missing: shard-1-of-3.json"
    );
    assert_eq!(
        why(vec![shard(0, 2), shard(0, 2), shard(1, 2)]),
        "shard 0 of 2 given more than once"
    );
    assert!(why(vec![shard(0, 2), shard(1, 3)]).contains("different splits"));
    let plain = run("2026-01-01T00:00:00Z", &fast(10, 0), "1s");
    assert!(why(vec![shard(0, 2), plain]).contains("is not a shard"));
    // One shard of one is a whole; every index once merges, keeping each shard's start.
    assert_eq!(merge(vec![shard(0, 1)]).unwrap().totals.requests, 10);
    let m = merge(vec![shard(1, 2), shard(0, 2)]).unwrap();
    let indices: Vec<u64> = m.merged.unwrap().shards.iter().map(|s| s.index).collect();
    assert_eq!(indices, [0, 1]);
}

#[test]
fn what_each_address_served_is_added_by_address() {
    let t = "2026-01-01T00:00:00Z";
    let served = |requests| stampede_results::AddressServed {
        requests,
        answered: requests,
        connections: 1,
        refused: 0,
    };
    let mut a = run(t, &fast(10, 0), "200ms");
    let mut b = run(t, &fast(10, 0), "200ms");
    a.addresses.insert("127.0.0.1:80".into(), served(6));
    a.addresses.insert("127.0.0.2:80".into(), served(4));
    b.addresses.insert("127.0.0.2:80".into(), served(10));
    let m = merge(vec![a, b]).unwrap();
    assert_eq!(m.addresses.len(), 2);
    assert_eq!(m.addresses["127.0.0.1:80"], served(6));
    assert_eq!(m.addresses["127.0.0.2:80"].requests, 14);
    assert_eq!(m.addresses["127.0.0.2:80"].connections, 2);
}
