
// A tune's chart (the "Memory" section, from #tune-data): cost per million invocations
// against duration p99, a point per memory size, each labelled; the picks ringed with the
// strategies' names, the strategy asked for in a thick red ring. Text reaches the page only
// through canvas fillText; each text drawn is kept in the chart's data-labels.
(function () {
  "use strict";
  var el = document.getElementById("chart-tune");
  var source = document.getElementById("tune-data");
  if (!el || !source || !window.stampedeReport) return;
  var h = window.stampedeReport.helpers;
  h.attempt(function () {
    var t = JSON.parse(source.textContent);
    var pts = t.points;
    if (!pts.length) {
      el.textContent = "No data: no memory size ran.";
      return;
    }
    var x = pts.map(function (p) { return p.p99_ms; });
    var y = pts.map(function (p) { return p.cost; });
    el.dataset.points = String(pts.length);
    var lo = Math.min.apply(null, y), hi = Math.max.apply(null, y);
    var pad = Math.max((hi - lo) * 0.15, hi * 0.02, 0.0001);
    var xlo = Math.min.apply(null, x), xhi = Math.max.apply(null, x);
    var ASKED = "#c62828", PICK = "#2ca02c", POINT = "#1f77b4";
    el._uplot = new uPlot(
      {
        width: h.width(el),
        height: 340,
        cursor: { drag: { x: false, y: false } },
        legend: { show: false },
        scales: {
          x: { time: false, distr: 3, range: function () { return [Math.max(xlo / 1.35, 0.001), xhi * 1.35]; } },
          y: { range: function () { return [Math.max(0, lo - pad), hi + pad * 1.5]; } },
        },
        axes: [
          {
            label: "duration p99 (log scale)",
            // 1, 2 and 5 of each decade within the range.
            splits: function (u, i, min, max) {
              var s = [];
              for (var d = Math.pow(10, Math.floor(Math.log10(min))); d <= max; d *= 10) {
                [1, 2, 5].forEach(function (m) { if (d * m >= min && d * m <= max) s.push(d * m); });
              }
              return s;
            },
            // Each of them labelled (uPlot would label the decades alone).
            filter: function (u, splits) { return splits; },
            values: function (u, vals) { return vals.map(function (v) { return v == null ? "" : h.fmtMs(v); }); },
          },
          { label: "USD per million invocations", size: 70, values: function (u, vals) { return vals.map(function (v) { return "$" + h.fmtNum(v); }); } },
        ],
        series: [
          { label: "duration p99", value: function (u, v) { return h.fmtMs(v); } },
          {
            label: "cost per million (init billed)",
            stroke: POINT,
            width: 0,
            paths: function () { return null; },
            points: { show: true, size: 9, fill: POINT },
            value: function (u, v) { return v == null ? "--" : "$" + h.fmtNum(v); },
          },
        ],
        hooks: {
          drawClear: [function (u) { u._labels = []; }],
          draw: [
            function (u) {
              var ctx = u.ctx;
              var px = window.devicePixelRatio || 1;
              var right = u.bbox.left + u.bbox.width;
              ctx.save();
              ctx.textBaseline = "top";
              ctx.textAlign = "left";
              // Each point's ring first, then its label where it lies on no other label
              // and no point: right of it, left, above or below, whichever is free first.
              var placed = [];
              var dots = pts.map(function (p) {
                return { x: u.valToPos(p.p99_ms, "x", true), y: u.valToPos(p.cost, "y", true) };
              });
              pts.forEach(function (p, i) {
                if (!p.picks.length) return;
                var asked = p.picks.indexOf(t.asked) >= 0;
                ctx.strokeStyle = asked ? ASKED : PICK;
                ctx.lineWidth = (asked ? 3.5 : 2) * px;
                ctx.beginPath();
                ctx.arc(dots[i].x, dots[i].y, (asked ? 11 : 9) * px, 0, 2 * Math.PI);
                ctx.stroke();
              });
              function hits(b) {
                if (b.x < u.bbox.left || b.x + b.w > right || b.y < u.bbox.top || b.y + b.h > u.bbox.top + u.bbox.height) return true;
                var r = 12 * px;
                return placed.some(function (o) {
                  return b.x < o.x + o.w && o.x < b.x + b.w && b.y < o.y + o.h && o.y < b.y + b.h;
                }) || dots.some(function (d) {
                  return d.x + r > b.x && d.x - r < b.x + b.w && d.y + r > b.y && d.y - r < b.y + b.h;
                });
              }
              pts.forEach(function (p, i) {
                var cx = dots[i].x, cy = dots[i].y;
                var asked = p.picks.indexOf(t.asked) >= 0;
                // The size, then the strategies that picked it.
                var lines = [{ text: p.label + (p.left_out ? " (not picked)" : ""), color: "#333", bold: false }];
                if (p.picks.length) {
                  lines.push({
                    text: p.picks.map(function (s) { return s === t.asked ? s + " (asked for)" : s; }).join(", "),
                    color: asked ? ASKED : PICK,
                    bold: asked,
                  });
                }
                var w = 0;
                lines.forEach(function (l) {
                  ctx.font = (l.bold ? "bold " : "") + 11 * px + "px sans-serif";
                  l.w = ctx.measureText(l.text).width;
                  w = Math.max(w, l.w);
                });
                var hgt = lines.length * 14 * px, gap = 15 * px;
                var spots = [
                  [cx + gap, cy - hgt / 2], [cx - gap - w, cy - hgt / 2],
                  [cx + gap, cy - gap - hgt], [cx + gap, cy + gap],
                  [cx - gap - w, cy - gap - hgt], [cx - gap - w, cy + gap],
                  [cx - w / 2, cy - gap - hgt], [cx - w / 2, cy + gap],
                ];
                var box = null;
                for (var k = 0; k < spots.length && !box; k++) {
                  var b = { x: spots[k][0], y: spots[k][1], w: w, h: hgt };
                  if (!hits(b)) box = b;
                }
                box = box || { x: spots[0][0], y: spots[0][1], w: w, h: hgt };
                placed.push(box);
                lines.forEach(function (l, j) {
                  var ty = box.y + j * 14 * px;
                  ctx.font = (l.bold ? "bold " : "") + 11 * px + "px sans-serif";
                  ctx.fillStyle = l.color;
                  ctx.fillText(l.text, box.x, ty);
                  h.label(u, "tune", l.text, box.x, ty, l.w, 13 * px);
                });
              });
              ctx.restore();
              h.markDrawn(el);
            },
          ],
        },
      },
      [x, y],
      el
    );
  });
})();
