/* dsr report: one sample (sample.html#id=<key>&<gallery filters>). Loads data/samples/<key>.js and
   draws the video with its boxes, the frame classes, the SSR curves, the detections of the current
   frame, the prompt and the score. n / p step through the samples the gallery filters select. */
(function () {
  "use strict";
  const DSR = window.DSR, el = DSR.el;
  let view = null;

  function neighbours(key, f) {
    const list = DSR.select(f);
    const i = list.findIndex((e) => e.key === key);
    return { list, i, prev: i > 0 ? list[i - 1] : null, next: i >= 0 && i < list.length - 1 ? list[i + 1] : null };
  }

  function hrefFor(key, f) {
    const p = DSR.filterParams(f);
    p.set("id", key);
    return "sample.html#" + p.toString();
  }

  function navline(key, f) {
    const nb = neighbours(key, f);
    const gallery = "gallery.html#" + DSR.filterParams(f).toString();
    const position = nb.i >= 0 ? `Sample ${nb.i + 1} of ${DSR.int(nb.list.length)} in this selection` : "Not in the gallery's current selection";
    return el("nav", { class: "navline", "aria-label": "Samples" },
      el("a", { href: gallery, text: "← Gallery" }), el("span", { class: "note", text: position }), el("span", { class: "spacer" }),
      nb.prev ? el("a", { href: hrefFor(nb.prev.key, f), id: "prev", rel: "prev", text: "◀ Previous (p)" }) : el("span", { class: "note", text: "first" }),
      nb.next ? el("a", { href: hrefFor(nb.next.key, f), id: "next", rel: "next", text: "Next (n) ▶" }) : el("span", { class: "note", text: "last" }));
  }

  function badges(s) {
    return el("p", { class: "line" },
      s.valid ? el("span", { class: "badge valid", text: "✓ valid" }) : el("span", { class: "badge invalid", text: "✗ invalid: " + (s.reason || "?") }),
      " ", s.role ? el("span", { class: "badge " + s.role, text: s.role === "winner" ? "▲ winner" : "▼ loser" }) : null,
      " ", DSR.typeBadge(s.fields.dsr_type), ` ${DSR.typeName(s.fields.dsr_type)} · `,
      el("span", { text: `split ${s.split} · seed ${s.seed} · ${s.num_frames} frames at ${s.fps} fps, ${s.width}×${s.height}` }));
  }

  function controls(v) {
    const count = el("span", { class: "framecount", id: "framecount", text: "" });
    const playBtn = el("button", { type: "button", id: "play", "aria-label": "Play or pause", text: "▶ Play" });
    playBtn.addEventListener("click", () => (v.isPaused() ? v.play() : v.pause()));
    v.on((kind) => {
      if (kind === "play") playBtn.textContent = "❚❚ Pause";
      if (kind === "pause") playBtn.textContent = "▶ Play";
    });
    const keyBtn = el("button", { type: "button", id: "keyframe", text: "Key frame (f)", disabled: v.sample.key_frame === null || v.sample.key_frame === undefined,
      onclick: () => v.seekFrame(v.sample.key_frame) });
    return { count, node: el("div", { class: "controls", role: "group", "aria-label": "Frame controls" },
      el("button", { type: "button", "aria-label": "Previous frame", text: "◀ frame (,)", onclick: () => { v.pause(); v.seekFrame(v.frame - 1); } }),
      playBtn,
      el("button", { type: "button", "aria-label": "Next frame", text: "frame (.) ▶", onclick: () => { v.pause(); v.seekFrame(v.frame + 1); } }),
      keyBtn, count) };
  }

  /** The detections of frame f as [label, score, x1, y1, x2, y2] (stored in columns, see data.py). */
  function detectionsAt(s, f) {
    const d = s.detections, out = [];
    if (!d || f + 1 >= d.offsets.length) return out;
    for (let i = d.offsets[f]; i < d.offsets[f + 1]; i++) out.push([d.labels[i], d.scores[i], ...d.boxes[i]]);
    return out;
  }

  function detectionsTable(s, f) {
    const dets = detectionsAt(s, f);
    const known = [s.fields.animal, s.fields.object].map((x) => String(x || "").toLowerCase());
    if (!s.detections.labels.length) return el("p", { class: "note", text: "This tracker stores no detector output." });
    if (!dets.length) return el("p", { class: "note", text: `No detection in frame ${f}.` });
    const rows = dets.map((d) => [el("span", {}, d[0], known.includes(String(d[0]).toLowerCase()) ? "" : " (not a prompt noun)"),
      DSR.fmt(d[1], 3), d.slice(2).map((x) => DSR.fmt(x, 1)).join(", ")]);
    return DSR.table(`Detections in frame ${f} (${dets.length})`, ["label", "score", "box x1, y1, x2, y2"], rows, [1]);
  }

  function fields(s) {
    const dl = el("dl", { class: "fields" });
    const add = (k, v) => dl.append(el("dt", { text: k }), el("dd", {}, v === null || v === undefined ? "–" : v));
    for (const k of ["scene", "animal", "object", "initial", "final", "dsr_type", "verb"]) add(k, s.fields[k]);
    add("prompt id", s.prompt_id);
    if (s.pair) add("pair", el("a", { href: "pair.html#id=" + encodeURIComponent(s.pair), text: `${s.role} — open the pair page` }));
    return dl;
  }

  function scoreTable(s) {
    const c = s.scores;
    const rows = [["DSR-Score", DSR.fmt(c.dsr_score, 4)], ["r_init (first m usable frames, initial relation)", DSR.fmt(c.r_init, 4)],
      ["r_f (last m usable frames, final relation)", DSR.fmt(c.r_final, 4)], ["g_init (half the drop of r(·, initial))", DSR.fmt(c.g_init, 4)],
      ["g_f (half the rise of r(·, final))", DSR.fmt(c.g_final, 4)]];
    return el("div", {}, DSR.table(null, ["component", "value"], rows, [1]),
      el("p", { class: "note", text: `DSR-Score = (r_init + r_f + g_init + g_f) / 8 + 0.5, with m = ${s.m ?? "?"}.` }));
  }

  function frameCounts(s) {
    const n = s.counts;
    const rows = [["frames", n.num_frames], ["valid", n.n_valid_frames], ["miss", n.n_miss_frames], ["redundant", n.n_redundant_frames],
      ["usable for the score", n.n_usable_frames], ["degenerate boxes", n.n_degenerate_frames], ["key frame (index)", s.key_frame === null || s.key_frame === undefined ? "–" : s.key_frame]];
    return DSR.table(null, ["", "frames"], rows.map(([k, v]) => [k, v === null || v === undefined ? "–" : String(v)]), [1]);
  }

  function side(s) {
    const out = el("div", {},
      el("h2", { text: "Prompt" }), el("blockquote", { class: "prompt", text: s.fields.prompt || "–" }), fields(s),
      el("h2", { text: "Score" }), scoreTable(s),
      el("h2", { text: "Frames" }), frameCounts(s));
    if (!s.valid) out.append(el("h2", { text: "Why invalid" }), el("p", {}, el("strong", { text: s.reason || "?" }), ": " + (s.reason_detail || "")));
    if (s.deviations.length) out.append(el("p", { class: "note", text: "Changed by rules beyond the authors' code: " + s.deviations.join(", ") }));
    if (Object.keys(s.eval || {}).length) {
      out.append(el("h2", { text: "Eval values" }), DSR.table(null, ["metric", "value"], Object.entries(s.eval).map(([k, v]) => [k, DSR.fmt(v, 4)]), [1]));
    }
    out.append(el("h2", { text: "Settings" }),
      el("details", {}, el("summary", { text: `generator: ${s.generator || "–"}` }), DSR.json(s.generator_settings)),
      el("details", {}, el("summary", { text: `tracker: ${s.tracker || "–"}` }), DSR.json(s.tracker_settings)),
      el("details", {}, el("summary", { text: "score and encoding" }), DSR.json({ score: s.score_settings, encode: s.encode_settings })),
      el("details", {}, el("summary", { text: "tracker notes" }), DSR.json(s.notes)));
    return out;
  }

  function show(s, f) {
    if (view) view.dispose();
    view = new DSR.FrameView(s);
    const ctl = controls(view);
    const strip = DSR.classStrip(s, (i) => { view.pause(); view.seekFrame(i); });
    const chart = DSR.ssrChart(s, (i) => { view.pause(); view.seekFrame(i); });
    const depth = s.depth ? DSR.depthChart(s, (i) => { view.pause(); view.seekFrame(i); }) : null;
    const dets = el("div", { id: "detections" });
    view.on((kind, frame) => {
      if (kind !== "frame") return;
      ctl.count.textContent = `frame ${frame} of 0–${view.n - 1}` + (frame === s.key_frame ? " · key" : "") +
        ` · ${DSR.classNames[s.classes[frame]] || "–"}`;
      strip.setCursor(frame);
      chart.setCursor(frame);
      if (depth) depth.setCursor(frame);
      dets.replaceChildren(detectionsTable(s, frame));
    });
    const legend = DSR.legend([{ label: `${s.fields.animal || "animal"} box`, color: DSR.colors.animal },
      { label: `${s.fields.object || "object"} box`, color: DSR.colors.object, dash: true }]);
    const classLegend = DSR.legend([{ label: "valid", color: DSR.colors.valid, box: true }, { label: "miss (hatched)", color: DSR.colors.miss, box: true },
      { label: "redundant (dotted)", color: DSR.colors.redundant, box: true }, { label: "▲ key frame", color: "#1b1b1b", box: true }]);
    const ssrLegend = DSR.legend([{ label: `r(·, ${s.fields.initial}): initial relation`, color: DSR.colors.initial },
      { label: `r(·, ${s.fields.final}): final relation`, color: DSR.colors.final, dash: true }, { label: "shaded: the m frames of r_init and r_f", color: "#e9e9e4", box: true }]);
    const left = el("div", {}, view.stage, ctl.node, legend,
      el("h2", { text: "Frame classes" }), classLegend, strip,
      el("h2", { text: "SSR curves" }), ssrLegend, chart);
    if (depth) {
      const depthLegend = DSR.legend([{ label: `${s.fields.animal || "animal"}: median relative distance`, color: DSR.colors.animal },
        { label: `${s.fields.object || "object"}`, color: DSR.colors.object, dash: true },
        { label: "occlusion: +1 animal in front, −1 object in front", color: "#555555", dash: true }]);
      left.append(el("h2", { text: "Depth" }), depthLegend, depth,
        el("p", { class: "note", text: "Relative distance within each frame: 0 is its nearest pixel, 1 its farthest." }));
    }
    left.append(el("h2", { text: "Detections" }), dets);
    DSR.main().replaceChildren(navline(s.key, f), el("h1", { class: "mono", text: s.id }), badges(s),
      el("div", { class: "sample-layout" }, left, side(s)),
      el("p", { class: "note" }, "Frames are numbered from 0, as in the data. Keys: ", ...[["n", "next sample"], ["p", "previous"], ["space", "play / pause"], [",", "previous frame"],
        [".", "next frame"], ["f", "key frame"], ["g", "gallery"]].flatMap(([k, t]) => [el("span", { class: "kbd", text: k }), ` ${t}  `])));
    view.draw(Math.max(0, view.frame));
    document.title = `DSR report · ${s.id}`;
  }

  function load() {
    const params = DSR.hashParams();
    const key = params.get("id") || (DSR.entries()[0] || {}).key;
    const f = DSR.readFilters(params);
    if (!key) return DSR.fail("This report has no samples.");
    const have = (window.DSR_DATA.samples || {})[key];
    const ready = have ? Promise.resolve() : DSR.loadScript(`data/samples/${encodeURIComponent(key)}.js`);
    ready.then(() => show(window.DSR_DATA.samples[key], f))
      .catch(() => DSR.fail(`No data for sample ${key}: the link is stale, or the report was written without it. Open the gallery.`));
  }

  function keys(ev) {
    if (DSR.typing(ev) || !view) return;
    const go = (id) => { const a = document.getElementById(id); if (a) location.hash = a.getAttribute("href").split("#")[1]; };
    const onButton = ev.target && ev.target.tagName === "BUTTON";
    const actions = {
      n: () => go("next"), ArrowRight: () => go("next"), p: () => go("prev"), ArrowLeft: () => go("prev"),
      ",": () => { view.pause(); view.seekFrame(view.frame - 1); }, ".": () => { view.pause(); view.seekFrame(view.frame + 1); },
      f: () => { if (view.sample.key_frame !== null && view.sample.key_frame !== undefined) { view.pause(); view.seekFrame(view.sample.key_frame); } },
      g: () => { location.href = "gallery.html#" + DSR.filterParams(DSR.readFilters(DSR.hashParams())).toString(); },
      " ": () => (onButton ? null : view.isPaused() ? view.play() : view.pause()),
    };
    const act = actions[ev.key];
    if (!act || (ev.key === " " && onButton)) return;
    ev.preventDefault();
    act();
  }

  DSR.header("gallery.html");
  window.DSR_DATA = window.DSR_DATA || {};
  window.addEventListener("hashchange", load);
  document.addEventListener("keydown", keys);
  DSR.sampleView = () => view;
  load();
})();
