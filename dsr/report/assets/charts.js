/* dsr report: small SVG charts (line chart with gaps, bar chart). Every chart is an image with a
   text label; pages put the numbers in a table beside it. */
(function () {
  "use strict";
  const DSR = (window.DSR = window.DSR || {});
  const el = DSR.el;

  function scale(d0, d1, r0, r1) {
    const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
    return (v) => r0 + (v - d0) * k;
  }

  function frame(opts) {
    const W = opts.width || 560, H = opts.height || 300;
    const m = Object.assign({ top: 12, right: 14, bottom: 40, left: 52 }, opts.margin || {});
    const svg = el("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
      "aria-label": opts.label || opts.title || "chart" });
    if (opts.title) svg.append(el("title", { text: opts.title }));
    const x = scale(opts.xMin, opts.xMax, m.left, W - m.right);
    const y = scale(opts.yMin, opts.yMax, H - m.bottom, m.top);
    return { svg, x, y, W, H, m };
  }

  function axes(f, opts) {
    const g = el("g", { class: "axis" });
    for (const t of opts.yTicks) {
      g.append(el("line", { class: "gridline", x1: f.m.left, x2: f.W - f.m.right, y1: f.y(t), y2: f.y(t) }));
      g.append(el("text", { x: f.m.left - 6, y: f.y(t) + 4, "text-anchor": "end", text: opts.yFormat ? opts.yFormat(t) : t }));
    }
    for (const t of opts.xTicks) {
      g.append(el("text", { x: f.x(t), y: f.H - f.m.bottom + 16, "text-anchor": "middle", text: opts.xFormat ? opts.xFormat(t) : t }));
    }
    g.append(el("line", { x1: f.m.left, x2: f.W - f.m.right, y1: f.H - f.m.bottom, y2: f.H - f.m.bottom }));
    g.append(el("line", { x1: f.m.left, x2: f.m.left, y1: f.m.top, y2: f.H - f.m.bottom }));
    if (opts.xLabel) g.append(el("text", { x: (f.m.left + f.W - f.m.right) / 2, y: f.H - 6, "text-anchor": "middle", text: opts.xLabel }));
    if (opts.yLabel) {
      g.append(el("text", { x: 12, y: (f.m.top + f.H - f.m.bottom) / 2, "text-anchor": "middle",
        transform: `rotate(-90 12 ${(f.m.top + f.H - f.m.bottom) / 2})`, text: opts.yLabel }));
    }
    f.svg.append(g);
  }

  /** Polyline pieces of one series: null values break the line; lone points become dots. */
  function seriesPaths(f, xs, values, color, dash, width) {
    const g = el("g", {});
    let run = [];
    const flush = () => {
      if (run.length === 1) g.append(el("circle", { cx: run[0][0], cy: run[0][1], r: 2.2, fill: color }));
      else if (run.length > 1) {
        g.append(el("polyline", { points: run.map((p) => p.join(",")).join(" "), fill: "none", stroke: color,
          "stroke-width": width || 2, "stroke-dasharray": dash || null, "stroke-linejoin": "round" }));
      }
      run = [];
    };
    values.forEach((v, i) => {
      if (v === null || v === undefined) flush();
      else run.push([f.x(xs[i]).toFixed(2), f.y(v).toFixed(2)]);
    });
    flush();
    return g;
  }

  /** The shaded band between low[i] and high[i] (one polygon per run of points that have both). */
  function bandPaths(f, xs, band, color) {
    const g = el("g", { class: "band" });
    let run = [];
    const flush = () => {
      if (run.length > 1) {
        const top = run.map((p) => `${f.x(p[0]).toFixed(2)},${f.y(p[2]).toFixed(2)}`);
        const bottom = run.slice().reverse().map((p) => `${f.x(p[0]).toFixed(2)},${f.y(p[1]).toFixed(2)}`);
        g.append(el("polygon", { points: [...top, ...bottom].join(" "), fill: color, "fill-opacity": 0.18, stroke: "none" }));
      } else if (run.length === 1) {
        g.append(el("line", { x1: f.x(run[0][0]), x2: f.x(run[0][0]), y1: f.y(run[0][1]), y2: f.y(run[0][2]), stroke: color, "stroke-opacity": 0.5, "stroke-width": 4 }));
      }
      run = [];
    };
    xs.forEach((x, i) => {
      const lo = band.low[i], hi = band.high[i];
      if (lo === null || lo === undefined || hi === null || hi === undefined) flush();
      else run.push([x, lo, hi]);
    });
    flush();
    return g;
  }

  /** A vertical line across the plot, with its label (e.g. "τ = 0.7") at the top. */
  function vline(f, v) {
    const g = el("g", { class: "vline" }, el("line", { class: v.cls || "keyline", x1: f.x(v.x), x2: f.x(v.x), y1: f.m.top, y2: f.H - f.m.bottom }));
    if (v.label) {
      const right = f.x(v.x) + 4 + 7 * v.label.length < f.W - f.m.right;
      g.append(el("text", { class: "vline-label", x: f.x(v.x) + (right ? 4 : -4), y: f.m.top + 11, "text-anchor": right ? "start" : "end", text: v.label }));
    }
    return g;
  }

  /** opts: {xs, series: [{name, values, color, dash, markers, band: {low, high}}], xMin, xMax, yMin, yMax,
   *  xTicks, yTicks, title, label, xLabel, yLabel, windows: [[x0, x1]], vlines: [{x, cls, label}], cursor: bool,
   *  onPick(x)} */
  DSR.lineChart = function (opts) {
    const f = frame(opts);
    for (const [a, b] of opts.windows || []) {
      f.svg.append(el("rect", { class: "window", x: f.x(a), y: f.m.top, width: Math.max(1, f.x(b) - f.x(a)),
        height: f.H - f.m.bottom - f.m.top }));
    }
    axes(f, opts);
    for (const s of opts.series) if (s.band) f.svg.append(bandPaths(f, s.xs || opts.xs, s.band, s.color));
    for (const s of opts.series) {
      f.svg.append(seriesPaths(f, s.xs || opts.xs, s.values, s.color, s.dash, s.width));
      if (s.markers) {
        s.values.forEach((v, i) => {
          if (v !== null && v !== undefined) {
            f.svg.append(el("circle", { cx: f.x((s.xs || opts.xs)[i]), cy: f.y(v), r: 3, fill: s.color }));
          }
        });
      }
    }
    for (const v of opts.vlines || []) f.svg.append(vline(f, v));
    let cursor = null;
    if (opts.cursor) {
      cursor = el("line", { class: "cursor", x1: f.x(opts.xMin), x2: f.x(opts.xMin), y1: f.m.top, y2: f.H - f.m.bottom });
      f.svg.append(cursor);
    }
    if (opts.onPick) {
      f.svg.style.cursor = "pointer";
      f.svg.addEventListener("click", (ev) => {
        const box = f.svg.getBoundingClientRect();
        const px = ((ev.clientX - box.left) / box.width) * f.W;
        const value = opts.xMin + ((px - f.m.left) / (f.W - f.m.left - f.m.right)) * (opts.xMax - opts.xMin);
        opts.onPick(Math.max(opts.xMin, Math.min(opts.xMax, value)));
      });
    }
    f.svg.setCursor = (x) => {
      if (cursor) { cursor.setAttribute("x1", f.x(x)); cursor.setAttribute("x2", f.x(x)); }
    };
    return f.svg;
  };

  /** opts: {edges (n+1), groups: [{name, counts, color}], title, label, xLabel, yLabel} */
  DSR.barChart = function (opts) {
    const maxCount = Math.max(1, ...opts.groups.flatMap((g) => g.counts));
    const top = Math.max(1, Math.ceil(maxCount * 1.1));
    const step = Math.max(1, Math.ceil(top / 5));
    const yTicks = [];
    for (let t = 0; t <= top; t += step) yTicks.push(t);
    const edges = opts.edges;
    const f = frame(Object.assign({}, opts, { xMin: edges[0], xMax: edges[edges.length - 1], yMin: 0, yMax: top }));
    const xTicks = edges.filter((_, i) => i % 4 === 0);
    axes(f, Object.assign({}, opts, { yTicks, xTicks, xFormat: (t) => t.toFixed(1) }));
    const n = opts.groups.length;
    opts.groups.forEach((g, gi) => {
      g.counts.forEach((c, i) => {
        const x0 = f.x(edges[i]), x1 = f.x(edges[i + 1]);
        const w = (x1 - x0 - 2) / n;
        const bar = el("rect", { x: x0 + 1 + gi * w, y: f.y(c), width: Math.max(0.5, w), height: f.y(0) - f.y(c),
          fill: g.color, stroke: gi % 2 ? "#1b1b1b" : null, "stroke-width": gi % 2 ? 0.6 : null });
        bar.append(el("title", { text: `${g.name}: ${c} in [${edges[i].toFixed(2)}, ${edges[i + 1].toFixed(2)})` }));
        f.svg.append(bar);
      });
    });
    return f.svg;
  };
})();
