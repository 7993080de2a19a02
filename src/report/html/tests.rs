use super::*;
use serde_json::{json, Value};

/// A histogram of `n` latencies from `lo_ms` up, encoded as the results hold it.
fn hist(n: u64, lo_ms: u64) -> String {
    let mut h = crate::record::new_histogram();
    for i in 0..n {
        h.record(lo_ms * 1000 + (i * 37) % 50_000).unwrap();
    }
    crate::record::encode(&h)
}

fn latency(count: u64, base: f64) -> Value {
    json!({"count": count, "p50": base, "p90": base * 1.8, "p99": base * 3.1, "max": base * 5.7})
}

/// A one-hour run: 3,600 seconds with every key of a point, 10 stages, per-second
/// histograms (which the report must not embed), limits and failures.
pub(super) fn synthetic_hour(name: &str) -> Results {
    let seconds = 3600u64;
    let timeline: Vec<Value> = (0..seconds)
        .map(|t| {
            let sent = 100 + t % 700;
            let thr = if t > 1800 { sent / 7 } else { 0 };
            let mut p = json!({
                "t_s": t, "sent": sent, "ok": sent - thr - 1, "throttled": thr,
                "errors": 1, "in_flight_max": 20 + t % 90, "requests": sent,
                "failed": 1, "throttled_requests": thr, "planned": sent,
                "p50_ms": 41.234567, "p90_ms": 77.7777, "p99_ms": 123.456789,
                "max_ms": 456.789123, "ok_ms": latency(sent - thr, 40.123456),
                "suspected_lambda_throttles": t % 3,
            });
            if thr > 0 {
                p["throttles"] =
                    json!({"api_gateway": thr / 2, "lambda_reserved_concurrency": thr - thr / 2});
                p["throttled_ms"] = latency(thr, 3.3333);
            }
            p
        })
        .collect();
    let per = json!({"p50": 40.1, "p90": 70.2, "p95": 90.3, "p99": 120.4, "p999": 300.5, "max": 900.6, "mean": 45.7});
    let totals = json!({"requests": 1_500_000, "ok": 1_400_000, "throttled": 90_000, "errors": 10_000,
        "retries": 5_000, "gave_up": 10, "late": 0, "held_back": 0, "abandoned": 0});
    let attempts = json!({"sent": 1_505_000, "ok": 1_400_000, "throttled": 95_000,
        "suspected_lambda_throttles": 1_200, "server_errors": 8_800, "client_errors": 0,
        "timeouts": 0, "connect_errors": 0, "tls_errors": 0});
    let stages: Vec<Value> = (0..10)
        .map(|i| {
            json!({"name": format!("stage {i}"), "kind": "constant", "released": 150_000,
            "totals": totals, "attempts": attempts, "achieved_rps": 416.7,
            "planned_requests": 150_000, "latency_ms": per, "service_ms": per,
            "peak_in_flight": 110, "started_s": i as f64 * 360.0})
        })
        .collect();
    let quota =
        |key: &str, value: f64| json!({"key": key, "value": value, "source": {"kind": "emulator"}});
    let value = json!({
        "schema": crate::results::SCHEMA, "name": name, "started_at": "2026-01-01T00:00:00.000Z",
        "duration_s": 3600.0, "interrupted": false,
        "target": {"url": "http://127.0.0.1:1/x", "method": "GET"},
        "totals": totals, "attempts": attempts,
        "throttles": {"api_gateway": 50_000, "lambda_reserved_concurrency": 45_000},
        "latency_ms": per, "service_ms": per, "peak_in_flight": 110,
        "throttle_onset": {"t_s": 1801, "rate": 601, "in_flight": 90},
        "retry": {"first_try_success_rate": 0.97, "attempts": {"1": 1_495_000, "2": 4_000, "3": 1_000},
            "by_cause": {"throttle": 4_500, "server-error": 500}, "gave_up": 10, "gave_up_budget": 2, "backoff_s": 812.5},
        "failures": [{"correlation_id": "c-1", "t_s": 1801.25, "stage": "stage 5", "attempt": 1,
            "status": 429, "kind": "api_gateway", "body_excerpt": "<img src=x onerror=alert(1)>"}],
        "stages": stages,
        "timeline": timeline,
        "histograms": {"encoding": "hdrhistogram-v2-deflate-base64", "unit": "us",
            "overall": {"latency": hist(5_000, 20), "service": hist(5_000, 20)},
            "stages": (0..10).map(|i| json!({"name": format!("stage {i}"), "latency": hist(500, 10 + i), "service": hist(500, 10 + i)})).collect::<Vec<_>>(),
            "seconds": (0..seconds).map(|t| json!({"t_s": t, "latency": hist(100, 30), "ok": hist(90, 30), "throttled": hist(10, 1)})).collect::<Vec<_>>()},
        "quota_check": {"origin": "emulator",
            "quotas": [quota("apigw_rate", 500.0), quota("stage_rate", 400.0),
                quota("function_reserved_concurrency", 100.0), quota("lambda_concurrent_executions", 1000.0)],
            "usage": [], "onset": null, "suspected_lambda_throttles": null,
            "findings": [{"level": "exceeded", "message": "peak rate <b>800</b> is 160% of 500"}],
            "next_steps": ["aws lambda put-function-concurrency --function-name f --reserved-concurrent-executions 200"],
            "pass": false},
        "thresholds": [{"name": "p99", "limit": "1s", "observed": 120.4, "pass": true},
            {"name": "throttle_rate", "limit": "5%", "observed": 0.063, "pass": false}],
    });
    serde_json::from_value(value).expect("a valid Results")
}

/// The JSON in `<script type="application/json" id="data">`.
fn data_of(html: &str) -> Value {
    let open = r#"<script type="application/json" id="data">"#;
    let start = html.find(open).expect("the data element") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

fn labels(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_data_has_every_series() {
    let r = synthetic_hour("hour");
    let d = data_of(&render(&r));
    assert_eq!(d["t"].as_array().unwrap().len(), 3600);
    let rate = labels(&d["rate"]);
    for want in [
        "planned",
        "sent",
        "ok",
        "throttled: api_gateway",
        "throttled: lambda_reserved_concurrency",
        "suspected Lambda throttles",
        "other errors",
    ] {
        assert!(rate.contains(&want.to_string()), "{want} in {rate:?}");
    }
    for s in d["rate"].as_array().unwrap() {
        assert_eq!(s["values"].as_array().unwrap().len(), 3600);
    }
    let latency = labels(&d["latency"]);
    for want in [
        "ok p50",
        "ok p90",
        "ok p99",
        "ok max",
        "throttled p50",
        "throttled max",
    ] {
        assert!(latency.contains(&want.to_string()), "{want} in {latency:?}");
    }
    // Rounded to 3 significant digits; null where no request ended throttled.
    assert_eq!(d["latency"][0]["values"][0], 40.1);
    let thr = d["latency"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == "throttled p50")
        .unwrap();
    assert!(thr["values"][0].is_null());
    assert_eq!(thr["values"][1801], 3.33);
    assert_eq!(d["in_flight"][0]["values"][5], 25.0);
    let limit_keys = |k: &str| -> Vec<String> {
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|l| l["label"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(limit_keys("rate_limits"), ["apigw_rate", "stage_rate"]);
    assert_eq!(
        limit_keys("concurrency_limits"),
        [
            "function_reserved_concurrency",
            "lambda_concurrent_executions"
        ]
    );
    let stages = d["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 10);
    assert_eq!(stages[1]["start"], 360.0);
    assert_eq!(stages[1]["end"], 720.0);
    assert_eq!(stages[9]["end"], 3600.0);
    assert_eq!(d["marks"][0]["t"], 1801.0);
    let spectrum = labels(&d["spectrum"]["series"]);
    assert_eq!(spectrum.len(), 11, "{spectrum:?}");
    assert_eq!(spectrum[0], "all");
    let x = d["spectrum"]["x"].as_array().unwrap();
    assert_eq!(x[0], 1.0);
    for s in d["spectrum"]["series"].as_array().unwrap() {
        assert_eq!(s["values"].as_array().unwrap().len(), x.len());
        assert!(s["values"][0].as_f64().unwrap() > 0.0);
    }
}

fn series<'a>(d: &'a Value, chart: &str, label: &str) -> &'a Value {
    d[chart]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == label)
        .unwrap_or_else(|| panic!("no {label} in {chart}"))
}

#[test]
fn suspected_throttles_are_not_hidden_under_the_errors() {
    // Every error of second 1 and 2 is a suspected Lambda throttle: an errors line would
    // lie on theirs. The other errors are the rest.
    let d = data_of(&render(&synthetic_hour("errors")));
    let other = &series(&d, "rate", "other errors")["values"];
    let suspected = &series(&d, "rate", "suspected Lambda throttles")["values"];
    assert_eq!(
        (other[0].as_f64(), other[1].as_f64(), other[2].as_f64()),
        (Some(1.0), Some(0.0), Some(0.0))
    );
    assert_eq!(suspected[2], 2.0);
    assert!(!labels(&d["rate"]).contains(&"errors".to_string()));
}

#[test]
fn counts_are_drawn_as_steps_and_cloudwatch_as_one_step_per_period() {
    use crate::cloudwatch::{CloudWatch, Minute};
    let mut r = synthetic_hour("steps");
    r.timeline.truncate(30);
    r.histograms.seconds.truncate(30);
    // 5 s periods; CloudWatch counted 207 throttles in the fourth (15–20 s).
    let minute = |i: u64| {
        let mut m = Minute {
            start: format!("2026-01-01T00:00:{:02}Z", i * 5),
            ..Minute::default()
        };
        m.server.throttles = Some(if i == 3 { 207.0 } else { 0.0 });
        m
    };
    r.cloudwatch = Some(CloudWatch {
        status: "read".into(),
        message: None,
        region: None,
        period_s: 5,
        start: "2026-01-01T00:00:00Z".into(),
        end: "2026-01-01T00:00:30Z".into(),
        function: None,
        qualifier: None,
        api: None,
        waited_s: 0.0,
        incomplete: Vec::new(),
        minutes: (0..6).map(minute).collect(),
        total: Minute::default(),
        not_read: Vec::new(),
        findings: Vec::new(),
        ..CloudWatch::default()
    });
    let d = data_of(&render(&r));
    for label in ["sent", "ok", "throttled", "other errors"] {
        assert_eq!(series(&d, "rate", label)["step"], true, "{label}");
    }
    assert_eq!(series(&d, "in_flight", "in flight (max)")["step"], true);
    assert!(series(&d, "latency", "ok p99").get("step").is_none());
    let aws = series(&d, "rate", "AWS Lambda Throttles (per 5 s period, avg /s)");
    assert_eq!(aws["step"], true);
    let v: Vec<f64> = aws["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    // One flat step over the period's seconds, none before or after.
    assert_eq!(v[14], 0.0);
    assert!(v[15..20].iter().all(|x| (x - 41.4).abs() < 1e-9), "{v:?}");
    assert_eq!(v[20], 0.0);
}

#[test]
fn a_one_hour_run_stays_small() {
    let html = render(&synthetic_hour("hour"));
    assert!(html.len() < 1_500_000, "{} bytes", html.len());
    assert!(!html.contains("\"hdrhistogram"), "no histograms embedded");
}

#[test]
fn user_text_stays_text() {
    let evil = "x</script><script>alert(1)</script><!--";
    let html = render(&synthetic_hour(evil));
    // Only the page's own four scripts end.
    assert_eq!(
        html.matches("</script>").count(),
        4,
        "the run name closed a script"
    );
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("<title>stampede: x&lt;/script&gt;&lt;script&gt;alert(1)"));
    assert!(html.contains("<h1>x&lt;/script&gt;"));
    assert!(!html.contains("<img src=x"), "a failure body is escaped");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("peak rate &lt;b&gt;800&lt;/b&gt;"));
    assert_eq!(
        data_of(&html)
            .get("stages")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[test]
fn the_header_has_the_verdict_and_key_numbers() {
    let html = render(&synthetic_hour("hour"));
    assert!(html.contains(r#"<div class="verdict fail" id="verdict">FAIL</div>"#));
    assert!(html.contains("threshold throttle_rate ≤ 5% failed: observed 6.30%"));
    assert!(html.contains(r#"<dd id="key-requests">1500000</dd>"#));
    assert!(html.contains(r#"<dd id="key-p99">120ms</dd>"#));
    assert!(html.contains(r#"<dd id="key-peak">110</dd>"#));
    assert!(html.contains("Throttling began at 1801 s"));
}

#[test]
fn a_mix_has_a_table_of_its_requests_and_of_them_by_stage() {
    let mut r = crate::report::fixture::mixed();
    let q = r.by_request.as_mut().unwrap();
    let evil = q.remove("get order").unwrap();
    q.insert("<b>get</b>".into(), evil);
    let html = render(&r);
    assert!(html.contains("<section id=\"requests\"><h2>Requests</h2>"));
    assert!(
        html.contains("<tr><td>create order</td><td>-</td><td>30</td><td>25</td><td>0</td><td>5</td><td>16.7%</td><td>3.0</td>"),
        "{html}"
    );
    assert!(
        html.contains("<td>&lt;b&gt;get&lt;/b&gt;</td>"),
        "a name is text"
    );
    assert!(html.contains("<summary>By stage (2 rows)</summary>"));
    let plain = render(&crate::report::fixture::passed());
    assert!(!plain.contains("id=\"requests\""));
}

#[test]
fn flows_have_a_table_with_where_they_failed_and_of_them_by_stage() {
    let mut r = crate::report::fixture::flowed();
    let f = r.by_flow.as_mut().unwrap();
    let evil = f.remove("browse").unwrap();
    f.insert("<b>browse</b>".into(), evil);
    let html = render(&r);
    let requests = html.find("<section id=\"requests\">").unwrap();
    let flows = html.find("<section id=\"flows\"><h2>Flows</h2>").unwrap();
    assert!(requests < flows);
    assert!(
        html.contains("<tr><td>buy</td><td>100</td><td>100</td><td>86</td><td>12</td><td>2</td><td>12.0%</td><td>9.8</td><td>80.0ms</td>"),
        "{html}"
    );
    assert!(
        html.contains("<td>&lt;b&gt;browse&lt;/b&gt;</td>"),
        "a name is text"
    );
    assert!(html.contains(
        "<ul class=\"flows-failed\"><li>buy: 10 ended at login (server_errors 7, timeouts 3); 2 at get order (capture_missing 2)</li></ul>"
    ));
    assert!(html.contains("<table class=\"num flows-by-stage\">"));
    let mixed = render(&crate::report::fixture::mixed());
    assert!(!mixed.contains("id=\"flows\""));
}

#[test]
fn escapes_markup_and_quotes() {
    assert_eq!(
        esc(r#"<a href="x">'&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
}

#[test]
fn vendored_scripts_cannot_end_their_element() {
    for (name, text) in [
        ("uPlot.iife.min.js", UPLOT_JS),
        ("report.js", REPORT_JS),
        ("uPlot.min.css", UPLOT_CSS),
        ("report.css", REPORT_CSS),
    ] {
        let lower = text.to_ascii_lowercase();
        assert!(!lower.contains("</script"), "{name}");
        assert!(!lower.contains("</style"), "{name}");
        assert!(!lower.contains("<!--"), "{name}");
    }
}

#[test]
fn nothing_is_fetched() {
    for (name, text) in [
        ("uPlot.iife.min.js", UPLOT_JS),
        ("report.js", REPORT_JS),
        ("uPlot.min.css", UPLOT_CSS),
        ("report.css", REPORT_CSS),
    ] {
        for word in ["url(", "@import", "fetch(", "XMLHttpRequest", "import("] {
            assert!(!text.contains(word), "{name} has {word}");
        }
    }
}
