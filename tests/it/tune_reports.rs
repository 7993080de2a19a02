//! A tune's answer in the reports of a results file, and two tunes compared: a real (short)
//! run's results with a `tune` key written by hand — the emulator's memory model at six sizes, its picks
//! computed by hand — valid against schemas/results.schema.json, then `stampede report`'s
//! summary, Markdown and HTML; the HTML's "Memory" chart drawn in headless Chromium with
//! the network blocked (a point per size, each labelled, the picks named, no label on
//! another); `stampede compare` of two tunes (the picks before → after, informational).

use crate::common;
use crate::common::cdp::require_chromium;
use crate::html_report::{attr, drawn_labels, rendered_dom};
use crate::schema::{jsonschema_errors, python_with_jsonschema};

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// One size of the emulator's model (CPU 80 ms at 1,769 MB scaled by the vCPU share the
/// memory buys, plus 20 ms waiting; init 300 ms at 1,769 MB scaled likewise; 10 cold
/// starts in 1,000), its costs per million computed by hand: $0.20 + billed s × GB ×
/// $16.6667, and with 10 inits per 1,000 invocations billed too.
fn size(memory: u64, duration: f64, init: f64, cost: f64, cost_without_init: f64) -> Value {
    let spread = |v: f64| json!({"p50": v, "p90": v, "p99": v, "max": v});
    json!({
        "memory": memory, "version": (memory / 128).to_string(), "invocations": 1000,
        "duration_ms": spread(duration), "init_ms": spread(init), "cold_starts": 10,
        "cost_per_million": cost, "cost_per_million_without_init": cost_without_init,
        "latency_ms": spread(duration + 15.0), "throttles": 0, "errors": 0,
    })
}

/// The `tune` key: strategy speed (so the asked pick, 1,769 MB, is not the balanced one).
/// Picks by hand (src/tune/pick/tests.rs has the arithmetic): cost 128 MB ($2.63), speed
/// 1,769 MB (100 ms; 3,008 MB no faster), balanced 1,024 MB.
fn tune() -> Value {
    json!({
        "original": {"function": "orders-<b>fn</b>", "region": "us-east-1", "memory": 512,
            "published": ["1", "2", "4", "8", "13", "23"]},
        "strategy": "speed",
        "balance": 0.5,
        "memories": [
            size(128, 1125.625, 4146.094, 2.632234, 2.545838),
            size(256, 572.8125, 2073.047, 2.673922, 2.587505),
            size(512, 296.40625, 1036.523, 2.761422, 2.675005),
            size(1024, 158.203125, 518.262, 2.936505, 2.850005),
            size(1769, 100.0, 300.0, 3.165615, 3.079238),
            size(3008, 100.0, 300.0, 5.242718, 5.095843),
        ],
        "picks": {"cost": 128, "speed": 1769, "balanced": 1024, "why": {
            "cost": "128 MB: the cheapest",
            "speed": "1,769 MB: p99 100ms, the fastest; 3,008 MB is no faster",
            "balanced": "1,024 MB: the lowest score at balance 0.5"}},
        "restored": {"memory_restored": true, "deleted": ["1", "2", "4", "8", "13", "23"], "kept": []},
    })
}

/// A short real run's results with the `tune` key added, written to `dir`.
fn results_with_tune(dir: &Path) -> PathBuf {
    results_with(dir, "tuned.json", tune())
}

/// A short real run's results with `tune`, written to `dir` as `name`.
fn results_with(dir: &Path, name: &str, tune: Value) -> PathBuf {
    let scenario = common::write(
        dir,
        "tune.toml",
        "[emulator]\nduration = \"5ms\"\n[target]\nurl = \"/\"\n\
         [[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"1s\"\n",
    );
    let run = dir.join("run.json");
    let o = common::stampede(&[
        "run",
        scenario.to_str().unwrap(),
        "-q",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let mut results = common::read_json(&run);
    results["tune"] = tune;
    common::write(dir, name, &results.to_string())
}

#[test]
fn a_tunes_answer_is_in_every_report_and_its_chart_draws_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let file = results_with_tune(dir.path());
    if let Some(python) = python_with_jsonschema() {
        let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/results.schema.json");
        let errors = jsonschema_errors(&python, &schema, std::slice::from_ref(&file));
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
    let file = file.to_str().unwrap();

    // The summary: the table's 1,769 MB row, the picks with the asked one first.
    let o = common::stampede(&["report", file]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let summary = common::stdout(&o);
    assert!(summary.contains(
        "tune of orders-<b>fn</b> (us-east-1): 6 memory sizes under load · strategy speed · found at 512 MB"
    ), "{summary}");
    let row = summary
        .lines()
        .find(|l| l.trim_start().starts_with("1,769 MB"))
        .expect("the 1,769 MB row");
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        [
            "1,769", "MB", "1000", "100ms", "100ms", "300ms", "300ms", "10", "$3.17", "$3.08",
            "115ms", "0", "0", "speed*"
        ]
    );
    let speed = summary
        .find("  speed (asked for) → 1,769 MB: p99 100ms")
        .unwrap();
    let cost = summary.find("  cost → 128 MB: the cheapest").unwrap();
    assert!(speed < cost, "the asked strategy first");
    assert!(summary.contains("restored: memory back at 512 MB · 6 versions deleted"));

    // The Markdown.
    let o = common::stampede(&["report", file, "--markdown", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let md = common::stdout(&o);
    assert!(
        md.contains("### Memory: tune of orders-&lt;b&gt;fn&lt;/b&gt;"),
        "{md}"
    );
    assert!(md.contains("| 128 MB | 1000 | 1126ms | 1126ms | 4146ms | 4146ms | 10 | $2.63 | $2.55 | 1141ms | 0 | 0 | cost |"));

    // The HTML, drawn.
    let Some(chromium) = require_chromium() else {
        return;
    };
    let page = dir.path().join("report.html");
    let o = common::stampede(&["report", file, "--html", page.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let dom = rendered_dom(&chromium, dir.path(), &page);
    assert_eq!(attr(&dom, "<body", "data-errors").as_deref(), Some("0"));
    let at = dom.find("id=\"chart-tune\"").expect("the Memory chart");
    let start = dom[..at].rfind('<').unwrap();
    assert_eq!(
        attr(&dom[start..], "<div", "data-points").as_deref(),
        Some("6")
    );
    assert_eq!(
        attr(&dom[start..], "<div", "data-drawn").as_deref(),
        Some("1")
    );
    assert!(dom[at..].contains("<canvas"), "uPlot drew");
    assert!(dom.contains("<h2>Memory</h2>"));
    assert!(dom.contains("<strong class=\"asked-pick\">speed*</strong>"));
    assert!(!dom.contains("<b>fn</b>"), "the function's name is text");
    // Every size labelled where drawn, the picks named under theirs, the asked one marked.
    let boxes = drawn_labels(&dom, "chart-tune");
    let texts: Vec<&str> = boxes.iter().map(|b| b["text"].as_str().unwrap()).collect();
    for want in [
        "128 MB",
        "256 MB",
        "512 MB",
        "1,024 MB",
        "1,769 MB",
        "3,008 MB",
        "cost",
        "balanced",
        "speed (asked for)",
    ] {
        assert!(texts.contains(&want), "{want} not drawn: {texts:?}");
    }
    let overlap = |a: &Value, b: &Value| {
        let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
        f(a, "x") < f(b, "x") + f(b, "w")
            && f(b, "x") < f(a, "x") + f(a, "w")
            && f(a, "y") < f(b, "y") + f(b, "h")
            && f(b, "y") < f(a, "y") + f(a, "h")
    };
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            assert!(!overlap(a, b), "{a} on {b}");
        }
    }
    // Cheaper is lower: 128 MB's label sits below 3,008 MB's (canvas y grows downwards).
    let y_of = |text: &str| {
        boxes.iter().find(|b| b["text"] == text).unwrap()["y"]
            .as_f64()
            .unwrap()
    };
    assert!(y_of("128 MB") > y_of("3,008 MB"));
}

/// Two tunes compared: the handler got faster at 1,024 MB (158 → 120 ms, −24.1%; $2.94 →
/// $2.40, −18.3%), so cost and balanced pick it; 3,008 MB was left out. Picks that moved
/// are "changed", not regressions: compare exits 0 on that alone.
#[test]
fn two_tunes_compare_their_picks_without_gating_them() {
    let dir = tempfile::tempdir().unwrap();
    let base = results_with_tune(dir.path());
    let mut head_tune = tune();
    let sizes = head_tune["memories"].as_array_mut().unwrap();
    sizes.pop();
    sizes[3] = size(1024, 120.0, 400.0, 2.40, 2.35);
    head_tune["picks"] = json!({"cost": 1024, "speed": 1769, "balanced": 1024});
    let head = results_with(dir.path(), "head.json", head_tune);
    let json_out = dir.path().join("compare.json");
    let o = common::stampede(&[
        "compare",
        base.to_str().unwrap(),
        head.to_str().unwrap(),
        "--json",
        json_out.to_str().unwrap(),
        "--noise-floor",
        "1s",
    ]);
    let text = common::stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", common::stderr(&o));
    assert!(
        text.contains("memory (two tunes, strategy speed): informational, not gated"),
        "{text}"
    );
    let words = |start: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap();
        line.split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(
        words("cost "),
        ["cost", "128", "MB", "1,024", "MB", "changed"]
    );
    assert_eq!(
        words("speed "),
        ["speed", "1,769", "MB", "1,769", "MB", "same"]
    );
    assert_eq!(
        words("1,024 MB"),
        ["1,024", "MB", "158ms", "120ms", "-24.1%", "$2.94", "$2.40", "-18.3%"]
    );
    assert!(text.contains("sizes only in the base: 3,008 MB"));
    let c = common::read_json(&json_out);
    assert_eq!(
        c["tune"]["picks"][2],
        json!({"strategy": "balanced", "base": 1024, "head": 1024, "changed": false})
    );
    assert_eq!(c["tune"]["memories"].as_array().unwrap().len(), 5);
    assert_eq!(c["regressions"], 0);
    if let Some(python) = python_with_jsonschema() {
        let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/compare.schema.json");
        let errors = jsonschema_errors(&python, &schema, &[json_out]);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
    // Markdown has the same tables.
    let o = common::stampede(&[
        "compare",
        base.to_str().unwrap(),
        head.to_str().unwrap(),
        "--markdown",
        "-",
        "-q",
    ]);
    let md = common::stdout(&o);
    assert!(
        md.contains("| cost | 128 MB | 1,024 MB | changed |"),
        "{md}"
    );
    assert!(
        md.contains("| 1,024 MB | 158ms | 120ms | -24.1% | $2.94 | $2.40 | -18.3% |"),
        "{md}"
    );
}
