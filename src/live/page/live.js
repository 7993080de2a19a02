// stampede's live page: reads the run's seconds from /events (server-sent events) and
// redraws the report's charts (report.js) with them each second; when the run ends, loads
// its HTML report (/report). Text reaches the page only through textContent.
// Its status goes into the DOM: <body data-events> counts the events read,
// data-last-second is the last second drawn, data-ended is set at the end.
(function () {
  "use strict";
  var body = document.body;
  var base = JSON.parse(document.getElementById("data").textContent);
  var points = [];
  var state = null;
  var ended = false;

  function countError(e) {
    body.dataset.errors = String((+body.dataset.errors || 0) + 1);
    if (window.console) console.error(e);
  }
  function byId(id) {
    return document.getElementById(id);
  }
  function say(id, text) {
    var el = byId(id);
    if (el) el.textContent = text;
  }

  // The report's series (src/report/html/data.rs), from the seconds so far.
  function series(label, color, values, o) {
    var s = { label: label, color: color, values: values, step: true };
    if (o) for (var k in o) s[k] = o[k];
    return s;
  }
  function col(f) {
    return points.map(function (p) { return f(p); });
  }
  function rateSeries() {
    var out = [];
    if (points.some(function (p) { return p.planned != null; })) {
      out.push(series("planned", "rgba(127,127,127,0.45)", col(function (p) { return p.planned == null ? null : p.planned; }), { wide: true }));
    }
    out.push(series("sent", "#1f77b4", col(function (p) { return p.sent; })));
    out.push(series("ok", "#2ca02c", col(function (p) { return p.ok; })));
    var kinds = {};
    points.forEach(function (p) { Object.keys(p.throttles || {}).forEach(function (k) { kinds[k] = true; }); });
    kinds = Object.keys(kinds).sort();
    var colors = ["#ff7f0e", "#d62728", "#e377c2", "#bcbd22", "#8c564b", "#9467bd"];
    if (!kinds.length) out.push(series("throttled", "#ff7f0e", col(function (p) { return p.throttled; })));
    kinds.forEach(function (k, i) {
      out.push(series("throttled: " + k, colors[i % colors.length], col(function (p) { return (p.throttles || {})[k] || 0; })));
    });
    if (points.some(function (p) { return p.suspected_lambda_throttles > 0; })) {
      out.push(series("other errors", "#000000", col(function (p) { return Math.max(0, p.errors - (p.suspected_lambda_throttles || 0)); })));
      out.push(series("suspected Lambda throttles", "#9467bd", col(function (p) { return p.suspected_lambda_throttles || 0; })));
    } else {
      out.push(series("errors", "#000000", col(function (p) { return p.errors; })));
    }
    return out;
  }
  function latencySeries() {
    var picks = ["p50", "p90", "p99", "max"];
    var okColors = ["#2ca02c", "#1f77b4", "#9467bd", "#000000"];
    var thrColors = ["#ffbb78", "#ff7f0e", "#d62728", "#8c564b"];
    var out = [];
    [["ok_ms", "ok ", okColors, false], ["throttled_ms", "throttled ", thrColors, true]].forEach(function (w) {
      if (!points.some(function (p) { return p[w[0]]; })) return;
      picks.forEach(function (name, i) {
        out.push(series(w[1] + name, w[2][i], col(function (p) { return p[w[0]] ? p[w[0]][name] : null; }), { step: false, dash: w[3] }));
      });
    });
    return out;
  }
  function inFlightSeries() {
    var out = [series("in flight (max)", "#1f77b4", col(function (p) { return p.in_flight_max; }))];
    if (points.some(function (p) { return p.cold_starts > 0; })) {
      out.push(series("cold starts (per second)", "#9467bd", col(function (p) { return p.cold_starts || 0; })));
    }
    return out;
  }

  function draw() {
    var data = {
      t: col(function (p) { return p.t_s; }),
      stages: state ? state.stage_spans : [],
      marks: [],
      rate: rateSeries(),
      rate_limits: base.rate_limits,
      latency: latencySeries(),
      in_flight: inFlightSeries(),
      concurrency_limits: base.concurrency_limits,
      spectrum: { x: [], series: [] },
      empty: "Waiting for the run's first second to end.",
    };
    window.stampedeReport.redraw(data);
    if (points.length) body.dataset.lastSecond = String(points[points.length - 1].t_s);
  }

  function clock(s) {
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return (h ? h + ":" + two(m) : String(m)) + ":" + two(r);
  }
  function pct(n, of) {
    return of ? " (" + ((100 * n) / of).toFixed(1) + "%)" : "";
  }
  function showState() {
    var s = state, t = s.totals;
    say("live-stage", s.stages ? s.stage + " (" + s.stage_number + "/" + s.stages + ")" : "–");
    say("live-elapsed", clock(s.elapsed_s));
    say("live-left", clock(s.left_s));
    say("live-in-flight", String(s.in_flight));
    say("live-requests", String(t.requests));
    say("live-ok", t.ok + pct(t.ok, t.requests));
    say("live-throttled", t.throttled + pct(t.throttled, t.requests));
    say("live-errors", t.errors + pct(t.errors, t.requests));
    var badge = byId("live-state");
    badge.textContent = s.ended ? "ended: writing the results" : s.stopping ? "stopping" : "running";
    badge.className = "verdict " + (s.ended || s.stopping ? "warn" : "ok");
    var button = byId("abort");
    if (button && (s.stopping || s.ended)) button.disabled = true;
  }

  function onSecond(e) {
    var m = JSON.parse(e.data);
    var last = points.length ? points[points.length - 1].t_s : -1;
    // A reconnect resumes after what we have; a second seen already is not drawn twice.
    m.points.forEach(function (p) { if (p.t_s > last) { points.push(p); last = p.t_s; } });
    state = m.state;
    body.dataset.events = String((+body.dataset.events || 0) + 1);
    say("live-note", "");
    showState();
    draw();
  }

  draw();
  var events = new EventSource("events");
  events.onmessage = function (e) {
    try { onSecond(e); } catch (err) { countError(err); }
  };
  events.addEventListener("end", function (e) {
    ended = true;
    events.close();
    body.dataset.ended = "1";
    say("live-state", "ended");
    say("live-note", "The run is over: loading its report…");
    location.replace(JSON.parse(e.data).report);
  });
  events.onerror = function () {
    if (ended) return;
    say("live-note", state && state.ended
      ? "The run is over and stampede has stopped serving this page; its results are in the files it wrote."
      : "Lost the connection to stampede; trying again…");
  };

  // The abort button: a first click arms it, a second within 5 s stops the run. The
  // header is what /abort requires: a form on another site cannot send it.
  var button = byId("abort");
  if (button) {
    var disarm = null;
    button.addEventListener("click", function () {
      if (button.dataset.armed !== "1") {
        button.dataset.armed = "1";
        button.textContent = "Click again to stop the run";
        disarm = setTimeout(function () {
          button.dataset.armed = "0";
          button.textContent = "Stop the run";
        }, 5000);
        return;
      }
      clearTimeout(disarm);
      button.disabled = true;
      button.textContent = "Stopping…";
      fetch("abort", { method: "POST", headers: { "X-Stampede-Control": "abort" } })
        .then(function (r) {
          say("abort-said", r.ok ? "Asked the run to stop: it stops as an abort rule would (exit 3, results written)." : "The run did not take the stop: HTTP " + r.status);
          body.dataset.abort = String(r.status);
        })
        .catch(function (err) {
          say("abort-said", "Could not reach stampede to stop the run.");
          countError(err);
        });
    });
  }
})();
