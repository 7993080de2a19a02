//! The HTML report of a real run, opened in headless Chromium with the network blocked:
//! the page's script writes its own status into the DOM (charts drawn, points per chart,
//! script errors), which `--dump-dom` shows. Also a screenshot (target/html-report.png, a
//! CI artifact) and the time a one-hour report takes to draw. Skipped without Chromium
//! unless `STAMPEDE_REQUIRE_TOOLS=1` (scripts/test installs it).

use crate::common;
use crate::common::cdp::require_chromium;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use stampede::results::Results;

const SCENARIO: &str = r#"
name = "html report </script><b>bold</b>"
seed = 11

[emulator]
api = "rest"
account_concurrency = 100
reserved_concurrency = 30
rate = 150
burst = 40
cold_start = "50ms"
duration = "20ms"

[target]
url = "/orders"
method = "GET"

[[stages]]
name = "steady"
kind = "constant"
rate = 60
duration = "2s"

[[stages]]
name = "over the limit"
kind = "constant"
rate = 400
duration = "2s"

[thresholds]
p99 = "10s"
"#;

/// The target directory (for the screenshot kept as an artifact).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Headless Chromium on `page` with the network blocked, and `extra` options.
fn headless(chromium: &Path, profile: &Path, page: &Path, extra: &[&str]) -> common::Run {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        // No network: every name resolves to nothing, every connection goes to a dead proxy.
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .env("HOME", profile);
    common::run_bounded(cmd, Duration::from_secs(90))
}

/// `page` opened in headless Chromium (a fresh profile under `dir`), and the DOM its
/// scripts left; Chromium must have run cleanly.
pub(crate) fn rendered_dom(chromium: &Path, dir: &Path, page: &Path) -> String {
    let run = headless(chromium, &dir.join("profile"), page, &["--dump-dom"]);
    assert!(
        run.output.status.success(),
        "chromium failed: {}",
        common::stderr(&run.output)
    );
    String::from_utf8_lossy(&run.output.stdout).into_owned()
}

/// The value of `attr` on the first `<tag` in `dom`.
pub(crate) fn attr(dom: &str, tag: &str, attr: &str) -> Option<String> {
    let at = dom.find(tag)?;
    let end = at + dom[at..].find('>')?;
    let open = &dom[at..end];
    let key = format!("{attr}=\"");
    let v = open.find(&key)? + key.len();
    Some(open[v..v + open[v..].find('"')?].to_string())
}

/// The text of the element with `id`, up to its first tag.
fn text_of(dom: &str, id: &str) -> String {
    let key = format!("id=\"{id}\">");
    let at = dom.find(&key).unwrap_or_else(|| panic!("no #{id}")) + key.len();
    dom[at..at + dom[at..].find('<').unwrap()].to_string()
}

/// Checks the dumped DOM: no script error, all five charts drawn (the four of every run
/// and where the time went), each with points.
fn check_drawn(dom: &str) {
    assert!(dom.contains("<body"), "no DOM dumped:\n{dom}");
    assert_eq!(
        attr(dom, "<body", "data-errors").as_deref(),
        Some("0"),
        "script errors"
    );
    assert_eq!(
        attr(dom, "<body", "data-drawn").as_deref(),
        Some("5"),
        "charts drawn"
    );
    for id in [
        "chart-rate",
        "chart-latency",
        "chart-inflight",
        "chart-spectrum",
        "chart-timing",
    ] {
        let tag = format!("id=\"{id}\"");
        let at = dom.find(&tag).unwrap_or_else(|| panic!("no #{id}"));
        let start = dom[..at].rfind('<').unwrap();
        let points: u64 = attr(&dom[start..], "<div", "data-points")
            .unwrap()
            .parse()
            .unwrap();
        assert!(points > 0, "#{id} has no points");
        assert_eq!(
            attr(&dom[start..], "<div", "data-drawn").as_deref(),
            Some("1")
        );
        assert!(
            dom[at..].contains("<canvas"),
            "#{id} has no canvas (uPlot did not draw)"
        );
    }
}

fn run_once(dir: &Path) -> Results {
    let scenario = common::write(dir, "html.toml", SCENARIO);
    let out = dir.join("results.json");
    let o = common::stampede(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        common::stderr(&o)
    );
    stampede::results::file::read(&out).expect("the results read back")
}

#[test]
fn a_real_run_draws_offline_in_chromium() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let r = run_once(dir.path());
    assert!(r.attempts.throttled > 0, "the emulator throttled");
    assert!(r.timeline.len() >= 3);

    let html = stampede::report::html::render(&r);
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let dom = rendered_dom(&chromium, dir.path(), &page);
    check_drawn(&dom);
    // The key numbers, as the results have them; the run's name stays text.
    assert_eq!(text_of(&dom, "key-requests"), r.totals.requests.to_string());
    assert_eq!(text_of(&dom, "key-peak"), r.peak_in_flight.to_string());
    assert!(text_of(&dom, "key-throttled").starts_with(&r.totals.throttled.to_string()));
    assert_eq!(
        text_of(&dom, "key-p99"),
        stampede::report::summary::ms(r.latency_ms.p99)
    );
    assert!(dom.contains("html report &lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"));
    assert!(!dom.contains("<b>bold</b>"));
    for section in ["Stages", "Thresholds", "Quota check", "Emulator", "Retries"] {
        assert!(dom.contains(&format!(">{section}")), "{section} missing");
    }
    // Where the time went: its table has the results' figures, its stacked chart a band
    // per phase the attempts had (the legend names them), each band over the one below.
    assert!(dom.contains(">Where the time went"));
    let t = r.timing.as_ref().expect("a run records its phases");
    let ttfb = format!(
        "<td>ttfb</td><td>{}</td><td>{}</td><td>{}</td>",
        stampede::report::timing::meaning(stampede::results::timing::Phase::Ttfb)
            .replace('>', "&gt;"),
        t.ttfb.count,
        stampede::report::summary::ms(t.ttfb.p50)
    );
    assert!(dom.contains(&ttfb), "{ttfb}");
    let timing = &dom[dom.find("id=\"chart-timing\"").unwrap()..];
    let legend = &timing[..timing.find("</section>").unwrap()];
    for phase in ["connect", "ttfb", "receive"] {
        assert!(
            legend.contains(&format!(">{phase}<")),
            "{phase} in the legend"
        );
    }
    let data = data_of(&html);
    let bands = data["timing"].as_array().expect("the stacked bands");
    let top = |label: &str| -> Vec<f64> {
        let band = bands.iter().find(|b| b["label"] == label).unwrap();
        band["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap_or(0.0))
            .collect()
    };
    let (ttfb, receive) = (top("ttfb"), top("receive"));
    assert!(ttfb.iter().zip(&receive).all(|(a, b)| a <= b), "stacked");
    assert!(ttfb.iter().any(|v| *v > 0.0), "{ttfb:?}");
    // The throttle onset and API Gateway's limit are in the data the charts drew.
    assert!(r.throttle_onset.is_some());

    // A screenshot for people (kept by CI).
    let shot = target_dir().join("html-report.png");
    let _ = std::fs::remove_file(&shot);
    let shot_arg = format!("--screenshot={}", shot.display());
    let run = headless(
        &chromium,
        &dir.path().join("profile"),
        &page,
        &[
            shot_arg.as_str(),
            "--window-size=1400,3000",
            "--hide-scrollbars",
        ],
    );
    assert!(
        run.output.status.success(),
        "chromium failed: {}",
        common::stderr(&run.output)
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}

/// A Lambda target's report: its section, and its cold starts on the in-flight chart.
#[test]
fn a_lambda_runs_cold_starts_are_drawn_in_chromium() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::write(
        dir.path(),
        "lambda.toml",
        "[emulator]\nwarm = 10\ncold_start = \"50ms..90ms\"\nduration = \"20ms\"\n\
         [target]\nkind = \"lambda\"\nfunction = \"emulated-function\"\n\
         [[stages]]\nname = \"steady\"\nkind = \"constant\"\nrate = 50\nduration = \"1500ms\"\n\
         [[stages]]\nname = \"launch\"\nkind = \"burst\"\nrequests = 150\n",
    );
    let out = dir.path().join("results.json");
    let o = common::stampede(&[
        "run",
        scenario.to_str().unwrap(),
        "--no-cloudwatch",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        common::stderr(&o)
    );
    let r = stampede::results::file::read(&out).unwrap();
    let cold = r.lambda.as_ref().unwrap().seen.cold_starts;
    assert!(cold > 100, "{cold}");
    let page = dir.path().join("report.html");
    std::fs::write(&page, stampede::report::html::render(&r)).unwrap();
    let dom = rendered_dom(&chromium, dir.path(), &page);
    check_drawn(&dom);
    assert!(
        dom.contains(">Lambda: cold starts, billed time, cost"),
        "no Lambda section"
    );
    assert!(
        dom.contains("cold starts (per second)"),
        "no cold start series in the legend"
    );
    assert!(
        dom.contains(&format!("cold starts {cold} (")),
        "the count as the results have it"
    );
}

/// The JSON the charts draw, as the page embeds it.
fn data_of(html: &str) -> serde_json::Value {
    let open = r#"<script type="application/json" id="data">"#;
    let start = html.find(open).expect("the data element") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

/// The text boxes the page drew on chart `id`'s canvas (its data-labels).
pub(crate) fn drawn_labels(dom: &str, id: &str) -> Vec<serde_json::Value> {
    let at = dom.find(&format!("id=\"{id}\"")).unwrap();
    let start = dom[..at].rfind('<').unwrap();
    let Some(raw) = attr(&dom[start..], "<div", "data-labels") else {
        return Vec::new();
    };
    let json = raw
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str::<Vec<serde_json::Value>>(&json).unwrap()
}

/// A probe's report: the knee chart and the steps table drawn; its time axis runs forward
/// with each step where it ran; the limit lines' labels lie on no other text, and a limit
/// far above the traffic does not set the scale.
#[test]
fn a_probes_knee_is_drawn_in_chromium() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Reserved 6 of an account's 20: limits at 6, 14 (unreserved) and 20 (the account).
    let scenario = common::write(
        dir.path(),
        "probe.toml",
        "[emulator]\napi = \"function-url\"\naccount_concurrency = 20\nreserved_concurrency = 6\n\
         duration = \"20ms\"\ncold_start = \"0ms\"\n[target]\nurl = \"/\"\n[[stages]]\nkind = \"pause\"\nduration = \"1s\"\n",
    );
    let out = dir.path().join("results.json");
    let o = common::stampede(&[
        "probe",
        scenario.to_str().unwrap(),
        "--step",
        "400ms",
        "--settle",
        "300ms",
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let r = stampede::results::file::read(&out).unwrap();
    let html = stampede::report::html::render(&r);
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let dom = rendered_dom(&chromium, dir.path(), &page);
    assert_eq!(attr(&dom, "<body", "data-errors").as_deref(), Some("0"));
    assert_eq!(
        attr(&dom, "<body", "data-drawn").as_deref(),
        Some("6"),
        "the knee chart too"
    );
    let at = dom.find("id=\"chart-knee\"").expect("the knee chart");
    let start = dom[..at].rfind('<').unwrap();
    assert_eq!(
        attr(&dom[start..], "<div", "data-drawn").as_deref(),
        Some("1")
    );
    assert!(dom.contains(">Probe: the steps"), "the steps table");
    assert!(
        dom.contains("≈ function reserved concurrency 6"),
        "the finding"
    );

    // The time axis: every second once, forward; each stage band after the one before.
    let data = data_of(&html);
    let t: Vec<u64> = data["t"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(t, (0..t.len() as u64).collect::<Vec<_>>());
    assert!(t.len() >= 4, "a probe of several seconds: {t:?}");
    let bands: Vec<(f64, f64)> = data["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap()))
        .collect();
    assert_eq!(bands.len(), r.stages.len());
    assert!(bands.windows(2).all(|w| w[0].0 < w[1].0), "{bands:?}");
    assert!(bands.iter().all(|(a, b)| a < b), "{bands:?}");
    assert!(bands.last().unwrap().1 <= t.len() as f64 + 1.0, "{bands:?}");

    // In flight: the account's 20 is more than twice the traffic, so it is named in a note,
    // not drawn, and the scale stays the traffic's.
    let peak = data["in_flight"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap())
        .filter_map(|v| v.as_f64())
        .fold(0.0, f64::max);
    let at = dom.find("id=\"chart-inflight\"").unwrap();
    let start = dom[..at].rfind('<').unwrap();
    let y_max: f64 = attr(&dom[start..], "<div", "data-y-max")
        .unwrap()
        .parse()
        .unwrap();
    assert!(peak < 10.0 && y_max < 20.0, "peak {peak}, y max {y_max}");
    assert!(dom.contains("not drawn: lambda_concurrent_executions 20"));

    // No text on another: the limits' labels, the stages' names (a probe's short steps
    // stacked at the foot) and the marks.
    for id in ["chart-rate", "chart-inflight"] {
        let boxes = drawn_labels(&dom, id);
        let overlap = |a: &serde_json::Value, b: &serde_json::Value| {
            let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
            f(a, "x") < f(b, "x") + f(b, "w")
                && f(b, "x") < f(a, "x") + f(a, "w")
                && f(a, "y") < f(b, "y") + f(b, "h")
                && f(b, "y") < f(a, "y") + f(a, "h")
        };
        let limits: Vec<_> = boxes.iter().filter(|b| b["kind"] == "limit").collect();
        if id == "chart-inflight" {
            assert!(limits.len() >= 2, "{boxes:?}");
        }
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert!(!overlap(a, b), "{id}: {a} on {b}");
            }
        }
    }
}

/// The real run stretched to an hour: 3,600 seconds, 10 stages.
fn one_hour(r: &Results) -> Results {
    let mut h = r.clone();
    let n = r.timeline.len() as u64;
    h.timeline = (0..3600)
        .map(|t| {
            let mut p = r.timeline[(t % n) as usize].clone();
            p.t_s = t;
            p
        })
        .collect();
    let stage = r.stages.last().unwrap().clone();
    let hist = r.histograms.stages.last().unwrap().clone();
    h.stages = (0..10)
        .map(|i| {
            let mut s = stage.clone();
            s.name = format!("stage {i}");
            s.started_s = Some(i as f64 * 360.0);
            s
        })
        .collect();
    h.histograms.stages = (0..10)
        .map(|i| {
            let mut s = hist.clone();
            s.name = format!("stage {i}");
            s
        })
        .collect();
    h.histograms.seconds = (0..3600)
        .map(|t| {
            let mut s =
                r.histograms.seconds[(t % r.histograms.seconds.len() as u64) as usize].clone();
            s.t_s = t;
            s
        })
        .collect();
    h.duration_s = 3600.0;
    h
}

#[test]
fn a_one_hour_report_is_small_and_draws_quickly() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let r = one_hour(&run_once(dir.path()));
    let start = Instant::now();
    let html = stampede::report::html::render(&r);
    let rendered = start.elapsed();
    assert!(html.len() < 1_500_000, "{} bytes", html.len());
    let page = dir.path().join("hour.html");
    std::fs::write(&page, &html).unwrap();
    let run = headless(
        &chromium,
        &dir.path().join("profile"),
        &page,
        &["--dump-dom"],
    );
    let dom = String::from_utf8_lossy(&run.output.stdout).into_owned();
    check_drawn(&dom);
    eprintln!(
        "one-hour report: {} KB, rendered in {rendered:?}; chromium loaded and drew it in {:?} \
         (the page's own measure: {} ms)",
        html.len() / 1024,
        run.elapsed,
        attr(&dom, "<body", "data-draw-ms").unwrap_or_default()
    );
    assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
}

/// A mix of three requests against a loopback server where "create order" slows down
/// in the second stage: its table, and each request's rate and p99 per second, drawn.
#[test]
fn a_mixs_requests_are_drawn_per_second_in_chromium() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let server = common::TestServer::start(|a| common::Reply {
        status: 200,
        delay: match a.uri.path() {
            // The peak stage's requests: the steady stage sends 60/s for 2 s first (counted
            // in requests, not time: a loaded machine may start the run late).
            "/api/orders" if a.index >= 120 => Duration::from_millis(60),
            "/api/orders" => Duration::from_millis(15),
            _ => Duration::from_millis(3),
        },
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::write(
        dir.path(),
        "mix.toml",
        &format!(
            r#"name = "orders mix"
[target]
url = "{}api"

[[requests]]
name = "create order"
method = "POST"
path = "/orders"
weight = 2

[[requests]]
name = "get order"
path = "/orders/1"
weight = 6

[[requests]]
name = "list <orders>"
path = "/orders/recent?page=2"

[[stages]]
name = "steady"
kind = "constant"
rate = 60
duration = "2s"

[[stages]]
name = "peak"
kind = "constant"
rate = 120
duration = "2s"
"#,
            server.url()
        ),
    );
    let out = dir.path().join("results.json");
    let o = common::stampede(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let r = stampede::results::file::read(&out).expect("the results read back");
    let requests = r.by_request.as_ref().expect("by_request");
    for (name, q) in requests {
        let sent: u64 = q.timeline.iter().map(|p| p.sent).sum();
        let ended: u64 = q.timeline.iter().map(|p| p.requests).sum();
        assert_eq!(sent, q.attempts.sent, "{name}: its seconds add up");
        assert_eq!(ended, q.totals.requests, "{name}");
    }
    let html = stampede::report::html::render(&r);
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let dom = rendered_dom(&chromium, dir.path(), &page);
    assert_eq!(attr(&dom, "<body", "data-errors").as_deref(), Some("0"));
    assert_eq!(
        attr(&dom, "<body", "data-drawn").as_deref(),
        Some("7"),
        "the five charts and the two of the requests"
    );
    for id in ["chart-request-rate", "chart-request-p99"] {
        let at = dom.find(&format!("id=\"{id}\"")).unwrap();
        let start = dom[..at].rfind('<').unwrap();
        let points: u64 = attr(&dom[start..], "<div", "data-points")
            .unwrap()
            .parse()
            .unwrap();
        assert!(points >= 3 * 4, "#{id}: {points} points");
        assert_eq!(
            attr(&dom[start..], "<div", "data-drawn").as_deref(),
            Some("1")
        );
        let chart = &dom[at..];
        assert!(chart.contains("<canvas"), "#{id} has no canvas");
        // uPlot's legend names each request, as text.
        let legend = &chart[..chart.find("</section>").unwrap()];
        for name in ["create order", "get order", "list &lt;orders&gt;"] {
            assert!(legend.contains(name), "#{id}'s legend has no {name}");
        }
    }
    assert!(dom.contains("<section id=\"requests\"><h2>Requests</h2>"));
    // The data drawn: "create order"'s p99 rises past 50 ms in the peak; "get order"'s not.
    let data = data_of(&html);
    let p99 = |name: &str| -> Vec<f64> {
        data["request_p99"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["label"] == name)
            .unwrap()["values"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_f64())
            .collect()
    };
    let slow = p99("create order");
    assert!(slow.iter().any(|&v| v > 50.0), "{slow:?}");
    assert!(slow.iter().any(|&v| v < 30.0), "{slow:?}");
    // "get order" (3 ms) stays fast: typically under 30 ms, and below "create order" at its
    // slowest even when a loaded machine stalls both for a moment.
    let mut fast = p99("get order");
    fast.sort_by(f64::total_cmp);
    assert!(fast[fast.len() / 2] < 30.0, "{fast:?}");
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    assert!(max(&fast) < max(&slow), "{fast:?} against {slow:?}");

    let shot = target_dir().join("html-report-requests.png");
    let _ = std::fs::remove_file(&shot);
    let shot_arg = format!("--screenshot={}", shot.display());
    let run = headless(
        &chromium,
        &dir.path().join("profile"),
        &page,
        &[
            shot_arg.as_str(),
            "--window-size=1400,4200",
            "--hide-scrollbars",
        ],
    );
    assert!(
        run.output.status.success(),
        "{}",
        common::stderr(&run.output)
    );
    assert!(std::fs::read(&shot).unwrap().starts_with(b"\x89PNG"));
    eprintln!("screenshot: {}", shot.display());
}

/// The cells of the rows of the first `<tbody>` after `from` in `dom`, as text.
fn rows_after(dom: &str, from: &str) -> Vec<Vec<String>> {
    let at = dom.find(from).unwrap_or_else(|| panic!("no {from}"));
    let body = &dom[at..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|c| c[..c.find("</td>").unwrap()].to_string())
                .collect()
        })
        .collect()
}

/// A real login flow (1 login in 10 failing, two stages), its HTML report opened in
/// headless Chromium: no script error, the charts drawn, and the Flows table in the DOM
/// with the figures of the results file, where the failed flows ended, and each stage's.
#[test]
fn a_flows_table_shows_the_results_figures_in_chromium() {
    use crate::report_flows::{run_flows, FAILURE_RATE_1_PERCENT};
    use stampede::verdict::ms;
    let Some(chromium) = require_chromium() else {
        return;
    };
    let server = common::login::LoginServer::start(true);
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = run_flows(dir.path(), &server, FAILURE_RATE_1_PERCENT, "r", 1);
    let page = dir.path().join("report.html");
    let o = common::stampede(&[
        "report",
        file.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let r = stampede::results::file::read(&file).expect("the results read back");
    let dom = rendered_dom(&chromium, dir.path(), &page);
    assert_eq!(
        attr(&dom, "<body", "data-errors").as_deref(),
        Some("0"),
        "script errors"
    );
    assert_eq!(
        attr(&dom, "<body", "data-drawn").as_deref(),
        Some("7"),
        "the five charts and the two of the requests"
    );
    assert!(dom.contains("<section id=\"flows\"><h2>Flows</h2>"));
    let figures = |name: &str, f: &stampede_results::flows::FlowResult| -> Vec<String> {
        let p = &f.latency_ms;
        vec![
            name.to_string(),
            f.planned.map_or("-".into(), |n| n.to_string()),
            f.started.to_string(),
            f.completed.to_string(),
            f.failed.to_string(),
            f.abandoned.to_string(),
            stampede::report::outcome::percent(f.failure_rate()),
            format!("{:.1}", f.achieved_fps),
            ms(p.p50),
            ms(p.p90),
            ms(p.p99),
            ms(p.max),
        ]
    };
    let buy = &r.by_flow.as_ref().expect("by_flow")["buy"];
    assert_eq!((buy.started, buy.failed), (100, 10));
    assert_eq!(
        rows_after(&dom, "<table class=\"num flows\">"),
        [figures("buy", buy)]
    );
    assert!(
        dom.contains("<li>buy: 10 ended at login (server_errors 10)</li>"),
        "where the failed flows ended"
    );
    let by_stage: Vec<Vec<String>> = r
        .stages
        .iter()
        .map(|s| {
            let f = &s.by_flow.as_ref().expect("a stage's by_flow")["buy"];
            [vec![s.name.clone()], figures("buy", f)].concat()
        })
        .collect();
    assert_eq!(
        rows_after(&dom, "<table class=\"num flows-by-stage\">"),
        by_stage
    );
}

/// An HTTP/2 run over the two addresses of one name (127.0.0.1 and 127.0.0.2 at one port,
/// given by `resolve`), against `h2` servers that refuse every 5th stream once and end each
/// connection with GOAWAY after 20 streams: its report, opened in headless Chromium, shows
/// the requests sent again, the GOAWAYs and what each address served, as the results
/// counted them.
#[test]
fn resends_goaways_and_addresses_are_shown_in_chromium() {
    use common::h2_server::{Behaviour, H2Server};
    let Some(chromium) = require_chromium() else {
        return;
    };
    let behaviour = Behaviour {
        reset_every: Some((5, h2::Reason::REFUSED_STREAM)),
        goaway_after: Some(20),
        ..Behaviour::default()
    };
    let (port, _one, _two) = (0..20)
        .find_map(|_| {
            let one = H2Server::start(behaviour);
            let port = one.address.port();
            let two = H2Server::start_at(format!("127.0.0.2:{port}").parse().unwrap(), behaviour);
            Some((port, one, two.ok()?))
        })
        .expect("a port free on both 127.0.0.1 and 127.0.0.2");
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::write(
        dir.path(),
        "h2.toml",
        &format!(
            "[target]\nurl = \"http://api.test:{port}/\"\nhttp = \"2\"\ntimeout = \"5s\"\n\
             resolve = [\"api.test:{port}:127.0.0.1,127.0.0.2\"]\n\n\
             [[stages]]\nkind = \"constant\"\nrate = 100\nduration = \"2s\"\n"
        ),
    );
    let (out, page) = (dir.path().join("r.json"), dir.path().join("report.html"));
    let o = common::stampede(&[
        "run",
        scenario.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let r = stampede::results::file::read(&out).expect("the results read back");
    let t = &r.totals;
    assert_eq!(t.ok, t.requests, "{t:?}: {:?}", r.failures);
    assert!(t.stale_connection_resends > 0 && t.goaways > 0, "{t:?}");

    let dom = rendered_dom(&chromium, dir.path(), &page);
    assert_eq!(attr(&dom, "<body", "data-errors").as_deref(), Some("0"));
    assert!(dom.contains("<section id=\"connections\"><h2>Connections</h2>"));
    assert_eq!(
        text_of(&dom, "key-resent"),
        t.stale_connection_resends.to_string()
    );
    assert_eq!(text_of(&dom, "key-goaways"), t.goaways.to_string());
    let rows = rows_after(&dom, "<table class=\"num addresses\">");
    let total: u64 = r.addresses.values().map(|s| s.requests).sum();
    let expected: Vec<Vec<String>> = r
        .addresses
        .iter()
        .map(|(address, s)| {
            vec![
                address.clone(),
                s.requests.to_string(),
                s.answered.to_string(),
                s.connections.to_string(),
                s.refused.to_string(),
                format!("{:.1}%", s.requests as f64 * 100.0 / total as f64),
            ]
        })
        .collect();
    // The requests cell: its bar, then the count.
    let shown: Vec<Vec<String>> = rows
        .into_iter()
        .map(|mut row| {
            row[1] = row[1].rsplit(' ').next().unwrap().to_string();
            row
        })
        .collect();
    assert_eq!(shown, expected);
    let addresses: Vec<&str> = shown.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(
        addresses,
        [format!("127.0.0.1:{port}"), format!("127.0.0.2:{port}")],
        "both took load"
    );
    assert!(shown.iter().all(|row| row[1] != "0"), "{shown:?}");
}
