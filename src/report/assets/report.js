// stampede's HTML report: draws the charts from the JSON in #data with uPlot.
// Text from the data reaches the page only through textContent and canvas fillText.
// The page's status goes into the DOM: <body data-drawn> counts the charts drawn with
// data, data-errors the script errors; each .chart has data-points (non-null values).
(function () {
  "use strict";
  var body = document.body;
  var t0 = performance.now();
  function countError(e) {
    body.dataset.errors = String((+body.dataset.errors || 0) + 1);
    if (window.console) console.error(e);
  }

  var data = JSON.parse(document.getElementById("data").textContent);
  var timeCharts = [];
  var drawn = {};
  var syncing = false;
  var ready = false;

  function fmtNum(v) {
    if (v == null || isNaN(v)) return "--";
    var a = Math.abs(v);
    if (a >= 100 || v === Math.round(v)) return String(Math.round(v * 10) / 10);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return String(+v.toPrecision(3));
  }
  function fmtMs(v) {
    if (v == null || isNaN(v)) return "--";
    if (v >= 10000) return (v / 1000).toFixed(1) + " s";
    return fmtNum(v) + " ms";
  }
  // x of the spectrum is 1/(1-q): 1 → 0%, 10 → 90%, 100 → 99%, 1000 → 99.9%.
  function fmtPct(x) {
    if (x == null) return "--";
    if (x <= 1) return "0%";
    var p = 100 * (1 - 1 / x);
    var d = Math.max(0, Math.ceil(Math.log10(x)) - 2);
    return p.toFixed(Math.min(d, 8)) + "%";
  }
  function decadeLabel(x) {
    var n = Math.round(Math.log10(x));
    if (n <= 0) return "0%";
    if (n === 1) return "90%";
    if (n === 2) return "99%";
    return "99." + "9".repeat(n - 2) + "%";
  }

  function width(el) {
    return Math.max(300, (el.clientWidth || 1000) - 10);
  }

  function countPoints(cols) {
    var n = 0;
    for (var i = 1; i < cols.length; i++) {
      var c = cols[i];
      for (var j = 0; j < c.length; j++) if (c[j] != null) n++;
    }
    return n;
  }

  function markDrawn(el) {
    if (drawn[el.id]) return;
    drawn[el.id] = true;
    el.dataset.drawn = "1";
    body.dataset.drawn = String(Object.keys(drawn).length);
    body.dataset.drawMs = String(Math.round(performance.now() - t0));
  }

  function note(el, text) {
    var p = document.createElement("p");
    p.className = "note";
    p.textContent = text;
    el.parentNode.appendChild(p);
  }

  // Every text drawn on a chart's canvas, as a box in canvas pixels: kept in the chart's
  // data-labels so a test can see that none lies on another.
  function label(u, kind, text, x, y, w, h) {
    u._labels.push({ kind: kind, text: text, x: Math.round(x), y: Math.round(y), w: Math.round(w), h: Math.round(h) });
    u.root.parentNode.dataset.labels = JSON.stringify(u._labels);
  }

  // Stage bands (alternating shades, named at the top) and vertical marks (throttle onset).
  function stagesPlugin() {
    return {
      hooks: {
        drawClear: [
          function (u) {
            u._labels = [];
            var ctx = u.ctx;
            var top = u.bbox.top, h = u.bbox.height;
            ctx.save();
            data.stages.forEach(function (s, i) {
              var x0 = u.valToPos(s.start, "x", true);
              var x1 = u.valToPos(s.end, "x", true);
              var l = Math.max(x0, u.bbox.left), r = Math.min(x1, u.bbox.left + u.bbox.width);
              if (r <= l) return;
              ctx.fillStyle = i % 2 ? "rgba(0,0,0,0.06)" : "rgba(31,119,180,0.07)";
              ctx.fillRect(l, top, r - l, h);
            });
            ctx.restore();
          },
        ],
        draw: [
          function (u) {
            var ctx = u.ctx;
            var top = u.bbox.top, h = u.bbox.height;
            var px = window.devicePixelRatio || 1;
            ctx.save();
            ctx.font = 11 * px + "px sans-serif";
            ctx.textBaseline = "top";
            // uPlot leaves the axes' alignment set: ours is from the left.
            ctx.textAlign = "left";
            var feet = [];
            data.stages.forEach(function (s) {
              var x0 = u.valToPos(s.start, "x", true);
              var x1 = u.valToPos(s.end, "x", true);
              var l = Math.max(x0, u.bbox.left), r = Math.min(x1, u.bbox.left + u.bbox.width);
              if (r <= l) return;
              ctx.fillStyle = "#555";
              var w = ctx.measureText(s.name).width;
              if (w <= r - l - 6 * px) {
                ctx.fillText(s.name, l + 3 * px, top + 2 * px);
                label(u, "stage", s.name, l + 3 * px, top + 2 * px, w, 13 * px);
                return;
              }
              // A narrow band (a burst, a short pause): its whole name at the foot of the
              // chart, ending at the band's right edge, on a pale ground; a row up when the
              // name before is in the way (a probe's short steps), left out after two rows (the
              // table of stages names them all) so the names hide little of the traffic.
              var x = Math.max(u.bbox.left, Math.min(r - w - 3 * px, u.bbox.left + u.bbox.width - w));
              var row = 0;
              while (row < 2 && feet.some(function (f) { return f.row === row && x < f.x + f.w + 6 * px && f.x < x + w + 6 * px; })) row++;
              if (row === 2) return;
              feet.push({ x: x, w: w, row: row });
              var y = top + h - (15 + 15 * row) * px;
              ctx.fillStyle = "rgba(255,255,255,0.7)";
              ctx.fillRect(x - 2 * px, y - 1 * px, w + 4 * px, 14 * px);
              ctx.fillStyle = "#555";
              ctx.fillText(s.name, x, y);
              label(u, "stage", s.name, x, y, w, 13 * px);
            });
            data.marks.forEach(function (m, i) {
              var x = u.valToPos(m.t, "x", true);
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
              ctx.strokeStyle = "#c62828";
              ctx.lineWidth = 1.5 * px;
              ctx.setLineDash([4 * px, 3 * px]);
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + h);
              ctx.stroke();
              ctx.fillStyle = "#c62828";
              var text = m.label + " (" + m.t + " s)";
              ctx.fillText(text, x + 3 * px, top + (16 + 14 * i) * px);
              label(u, "mark", text, x + 3 * px, top + (16 + 14 * i) * px, ctx.measureText(text).width, 13 * px);
            });
            ctx.restore();
          },
        ],
      },
    };
  }

  // Horizontal limit lines, labelled; drawn when within the y range. A label goes above its
  // line, or below it (and below the strip at the top where the stages and marks are named)
  // when above would reach that strip.
  function limitsPlugin(limits) {
    return {
      hooks: {
        draw: [
          function (u) {
            if (!limits.length) return;
            var ctx = u.ctx;
            var px = window.devicePixelRatio || 1;
            var top = u.bbox.top;
            var marks = data.marks.length;
            ctx.save();
            ctx.font = 11 * px + "px sans-serif";
            ctx.textBaseline = "top";
            ctx.textAlign = "left";
            var placed = [];
            limits.forEach(function (l) {
              if (l.value > u.scales.y.max || l.value < u.scales.y.min) return;
              var y = u.valToPos(l.value, "y", true);
              ctx.strokeStyle = "#6a1b9a";
              ctx.lineWidth = 1.5 * px;
              ctx.setLineDash([8 * px, 4 * px]);
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.fillStyle = "#6a1b9a";
              var text = l.label + " " + fmtNum(l.value);
              var w = ctx.measureText(text).width;
              // The stage names' strip at the top, and the marks' labels under it.
              var strip = top + (16 + 14 * marks) * px;
              var ty = y - 15 * px >= strip ? y - 15 * px : Math.max(y + 3 * px, strip);
              // Limits at (nearly) the same value: each label left of the one before.
              var x = u.bbox.left + u.bbox.width - w - 4 * px;
              placed.forEach(function (p) {
                if (Math.abs(p.y - ty) < 13 * px && x + w > p.x - 8 * px) x = p.x - w - 16 * px;
              });
              placed.push({ x: x, y: ty });
              x = Math.max(u.bbox.left, x);
              ctx.fillText(text, x, ty);
              label(u, "limit", text, x, ty, w, 13 * px);
            });
            ctx.restore();
          },
        ],
      },
    };
  }

  // Zoom on one time chart: every other follows.
  function syncX(u, key) {
    if (key !== "x" || syncing || !ready) return;
    syncing = true;
    try {
      var min = u.scales.x.min, max = u.scales.x.max;
      timeCharts.forEach(function (o) {
        if (o !== u) o.setScale("x", { min: min, max: max });
      });
    } finally {
      syncing = false;
    }
  }

  // Values with no neighbour (a burst's one second) draw no line: mark them as points.
  function isolated(u, si, show) {
    if (show) return null;
    var d = u.data[si], out = [];
    for (var i = 0; i < d.length; i++) {
      if (d[i] != null && (i === 0 || d[i - 1] == null) && (i === d.length - 1 || d[i + 1] == null)) out.push(i);
    }
    return out.length ? out : null;
  }

  // A count holds for its whole second (or CloudWatch period): drawn as steps, the value
  // at t from t to the next point, never a ramp from the second before.
  var stepped = uPlot.paths && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : null;

  function seriesOpts(s, fmt) {
    var o = {
      label: s.label,
      stroke: s.color,
      width: s.wide ? 5 : 1.5,
      dash: s.dash ? [6, 4] : undefined,
      points: { show: false, filter: isolated, size: 6 },
      spanGaps: false,
      value: function (u, v) { return fmt(v); },
    };
    if (s.step && stepped) o.paths = stepped;
    // A band of a stacked chart: filled to the axis, the next band drawn over it.
    if (s.fill) o.fill = s.color;
    return o;
  }

  // A limit is drawn when it is at most this many times the chart's highest value: further
  // up, the scale it needs would flatten the traffic into the floor.
  var LIMIT_SPAN = 2;

  // A chart of per-second series on the shared time axis.
  function timeChart(id, series, o) {
    var el = document.getElementById(id);
    if (!el) return;
    if (!data.t.length || !series.length) {
      el.textContent = o.empty || "No data: the run recorded no seconds.";
      return;
    }
    // The last second ends a second after it starts: a stepped series holds its last
    // value to there. The axis runs on to the end of the last stage.
    var t = data.t.slice();
    var last = t[t.length - 1] + 1;
    t.push(last);
    var end = Math.ceil(data.stages.reduce(function (m, s) { return Math.max(m, s.end); }, 0));
    var more = end > last;
    if (more) t.push(end);
    var cols = [t].concat(
      series.map(function (s) {
        var v = o.log
          ? s.values.map(function (v) { return v != null && v > 0 ? v : null; })
          : s.values.slice();
        v.push(s.step ? v[v.length - 1] : null);
        if (more) v.push(null);
        return v;
      })
    );
    var points = countPoints(cols);
    el.dataset.points = String(points);
    // The live page's next second, same lines: new data into the same chart.
    var key = JSON.stringify(series.map(function (s) { return s.label; }));
    if (el._uplot && el._key === key) {
      el._points = points;
      el._uplot.setData(cols);
      timeCharts.push(el._uplot);
      return el._uplot;
    }
    clearChart(el);
    el._key = key;
    el._points = points;
    var limits = o.limits || [];
    var hidden = [];
    var yScale = o.log
      ? { distr: 3 }
      : {
          range: function (u, min, max) {
            var hi = Math.max(max, 1);
            limits.forEach(function (l) {
              if (l.value <= LIMIT_SPAN * Math.max(max, 1)) hi = Math.max(hi, l.value);
            });
            return [0, hi * 1.08];
          },
        };
    limits.forEach(function (l) {
      var max = 0;
      cols.slice(1).forEach(function (c) {
        c.forEach(function (v) { if (v != null && v > max) max = v; });
      });
      if (l.value > LIMIT_SPAN * Math.max(max, 1)) hidden.push(l.label + " " + fmtNum(l.value));
    });
    var u = new uPlot(
      {
        width: width(el),
        height: o.height || 300,
        cursor: { sync: { key: "time" }, drag: { x: true, y: false } },
        scales: { x: { time: false }, y: yScale },
        axes: [
          { label: "seconds from the start" },
          { label: o.yLabel, size: 60, values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : o.fmt(v); }); } },
        ],
        series: [{ label: "t (s)", value: function (u, v) { return v == null ? "--" : v + " s"; } }].concat(
          series.map(function (s) { return seriesOpts(s, o.fmt); })
        ),
        plugins: [stagesPlugin(), limitsPlugin(limits)],
        hooks: {
          setScale: [syncX],
          draw: [function (u) { el.dataset.yMax = String(u.scales.y.max); if (el._points > 0) markDrawn(el); }],
        },
      },
      cols,
      el
    );
    timeCharts.push(u);
    el._uplot = u;
    if (hidden.length) {
      note(el, "Limits far above the traffic, not drawn: " + hidden.join(", ") + ".");
    }
    return u;
  }

  function spectrumChart(id) {
    var el = document.getElementById(id);
    if (!el) return;
    var sp = data.spectrum;
    if (!sp.x.length || !sp.series.length) {
      el.textContent = "No data: no request ended.";
      return;
    }
    var cols = [sp.x].concat(sp.series.map(function (s) { return s.values; }));
    var points = countPoints(cols);
    el.dataset.points = String(points);
    el._uplot = new uPlot(
      {
        width: width(el),
        height: 340,
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: false, distr: 3 }, y: { range: function (u, min, max) { return [0, Math.max(max, 0.001) * 1.05]; } } },
        axes: [
          {
            label: "percentile",
            splits: function (u, i, min, max) {
              var s = [];
              for (var p = 1; p <= max * 1.0001; p *= 10) if (p >= min * 0.9999) s.push(p);
              return s;
            },
            values: function (u, vals) { return vals.map(decadeLabel); },
          },
          { label: "latency", size: 60, values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : fmtMs(v); }); } },
        ],
        series: [{ label: "percentile", value: function (u, v) { return fmtPct(v); } }].concat(
          sp.series.map(function (s) {
            var o = seriesOpts(s, fmtMs);
            o.spanGaps = true;
            o.width = s.label === "all" ? 2.5 : 1.5;
            return o;
          })
        ),
        hooks: { draw: [function () { if (points > 0) markDrawn(el); }] },
      },
      cols,
      el
    );
  }

  // A probe's steps by offered load: achieved req/s on the left, p99 and throttled % on
  // the right.
  function kneeChart(id) {
    var el = document.getElementById(id);
    var k = data.knee;
    if (!el || !k) return;
    var cols = [k.x, k.achieved, k.p99_ms, k.throttled_pct];
    var points = countPoints(cols);
    el.dataset.points = String(points);
    el._uplot = new uPlot(
      {
        width: width(el),
        height: 300,
        scales: { x: { time: false }, rps: {}, ms: {}, pct: { range: [0, 100] } },
        axes: [
          { label: "offered (" + k.unit + ")" },
          { scale: "rps", label: "achieved req/s", size: 60 },
          { scale: "ms", label: "p99", side: 1, size: 60, values: function (u, vals) { return vals.map(fmtMs); } },
        ],
        series: [
          { label: "offered" },
          { label: "achieved req/s", scale: "rps", stroke: "#1f77b4", width: 2, points: { show: true, size: 6 }, value: function (u, v) { return fmtNum(v); } },
          { label: "p99", scale: "ms", stroke: "#ff7f0e", width: 2, points: { show: true, size: 6 }, value: function (u, v) { return fmtMs(v); } },
          { label: "throttled %", scale: "pct", stroke: "#d62728", dash: [6, 4], width: 1.5, points: { show: true, size: 5 }, value: function (u, v) { return v == null ? "--" : fmtNum(v) + "%"; } },
        ],
        hooks: {
          draw: [
            function (u) {
              if (k.knee != null) {
                var x = Math.round(u.valToPos(k.knee, "x", true));
                var ctx = u.ctx;
                ctx.save();
                ctx.strokeStyle = "#2ca02c";
                ctx.lineWidth = 2;
                ctx.beginPath();
                ctx.moveTo(x, u.bbox.top);
                ctx.lineTo(x, u.bbox.top + u.bbox.height);
                ctx.stroke();
                ctx.restore();
              }
              if (points > 0) markDrawn(el);
            },
          ],
        },
      },
      cols,
      el
    );
  }

  // A chart's drawing and its notes gone, for the live page to draw it anew.
  function clearChart(el) {
    if (el._uplot) el._uplot.destroy();
    el._uplot = null;
    el.textContent = "";
    el.parentNode.querySelectorAll(".note").forEach(function (n) { n.remove(); });
  }

  function attempt(f) {
    try {
      f();
    } catch (e) {
      countError(e);
    }
  }

  function drawAll() {
    timeCharts = [];
    attempt(function () {
      timeChart("chart-rate", data.rate, { yLabel: "per second", fmt: fmtNum, limits: data.rate_limits, height: 320, empty: data.empty });
    });
    attempt(function () {
      timeChart("chart-latency", data.latency, { yLabel: "latency", fmt: fmtMs, log: true, empty: data.empty });
    });
    attempt(function () {
      timeChart("chart-inflight", data.in_flight, { yLabel: "in flight", fmt: fmtNum, limits: data.concurrency_limits, height: 260, empty: data.empty });
    });
    attempt(function () { spectrumChart("chart-spectrum"); });
    // A mix's requests, each its own line: only when the page has their sections.
    if (document.getElementById("chart-request-rate")) {
      attempt(function () {
        timeChart("chart-request-rate", data.request_rate || [], { yLabel: "sent per second", fmt: fmtNum, height: 280 });
      });
      attempt(function () {
        timeChart("chart-request-p99", data.request_p99 || [], { yLabel: "p99", fmt: fmtMs, log: true, height: 280 });
      });
    }
    // Where the time went: only when the page has its section.
    if (document.getElementById("chart-timing")) {
      attempt(function () {
        timeChart("chart-timing", data.timing || [], { yLabel: "mean", fmt: fmtMs, height: 280 });
      });
    }
    attempt(function () { kneeChart("chart-knee"); });
    ready = true;
  }
  drawAll();

  // The live page (docs/live.md) feeds the charts each second: the same drawing, new data.
  window.stampedeReport = {
    redraw: function (next) {
      data = next;
      ready = false;
      drawAll();
    },
    // For the charts drawn by the page's other parts (tune_chart.js).
    helpers: { attempt: attempt, label: label, markDrawn: markDrawn, width: width, fmtMs: fmtMs, fmtNum: fmtNum },
  };

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      attempt(function () {
        document.querySelectorAll(".chart").forEach(function (el) {
          var u = el._uplot;
          if (u) u.setSize({ width: width(el), height: u.height });
        });
      });
    }, 150);
  });
})();
