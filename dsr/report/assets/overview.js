/* dsr report: the overview page (index.html) from DSR_DATA.overview. */
(function () {
  "use strict";
  const DSR = window.DSR, el = DSR.el;
  /** The headline threshold, drawn and labelled in every correctness plot. */
  const TAU = { x: 0.7, label: "τ = 0.7" };

  const galleryLink = (params, text) => el("a", { href: "gallery.html#" + new URLSearchParams(params).toString(), text });

  function tiles(o) {
    const out = el("div", { class: "tiles" });
    const tile = (value, label) => out.append(el("div", { class: "tile" }, el("div", { class: "value", text: value }),
      el("div", { class: "label", text: label })));
    for (const [split, s] of Object.entries(o.splits)) {
      tile(DSR.int(s.samples), `${split}: samples`);
      tile(s.samples ? DSR.pct(s.valid / s.samples) : "–", `${split}: valid`);
      tile(DSR.fmt(s["correct_0.7"]), `${split}: Correct@0.7`);
      tile(DSR.fmt(s.mean_score), `${split}: mean DSR-Score (valid)`);
    }
    const kept = Object.values(o.pairs.counts || {}).reduce((a, c) => a + (c.kept || 0), 0);
    if (o.pairs.present) tile(DSR.int(kept), "prompts with pairs");
    return out;
  }

  function problems(o) {
    if (!o.problems.length) return null;
    return el("section", { class: "problems", "aria-labelledby": "problems-h" },
      el("h2", { id: "problems-h", text: `Problems met while writing this report (${o.problems.length})` }),
      el("ul", {}, ...o.problems.map((p) => el("li", { text: p }))));
  }

  function counts(o) {
    const splits = Object.keys(o.splits);
    const head = ["DSR type", ...splits.flatMap((s) => [`${s}: samples`, `${s}: valid`, `${s}: Correct@0.7`])];
    const rows = o.types.map((t) => [el("span", {}, galleryLink({ type: t }, t), " ", el("span", { class: "note", title: (o.type_names[t] || {}).title, text: DSR.typeName(t) })), ...splits.flatMap((s) => {
      const c = (o.per_type[s] || {})[t];
      return c ? [galleryLink({ split: s, type: t }, DSR.int(c.samples)), DSR.int(c.valid), DSR.fmt(c["correct_0.7"])] : ["–", "–", "–"];
    })]);
    const numeric = head.map((_, i) => i).filter((i) => i > 0);
    return el("section", { "aria-labelledby": "counts-h" }, el("h2", { id: "counts-h", text: "Samples per split and DSR type" }),
      DSR.table(null, head, rows, numeric));
  }

  function validity(o) {
    const section = el("section", { "aria-labelledby": "validity-h" }, el("h2", { id: "validity-h", text: "Validity" }),
      el("p", { class: "note", text: "Invalid samples count as failures in Correctness and never enter pairs." }));
    for (const [split, s] of Object.entries(o.splits)) {
      const rows = Object.entries(s.validity).map(([reason, n]) => {
        const filter = reason === "valid" ? { split, validity: "valid" } : { split, validity: "reason:" + reason };
        return [galleryLink(filter, reason), DSR.int(n), el("span", {},
          el("span", { class: "bar", style: `width:${Math.round((160 * n) / Math.max(1, s.samples))}px;` +
            `background:${reason === "valid" ? DSR.colors.valid : DSR.colors.redundant}` }), DSR.pct(n / Math.max(1, s.samples)))];
      });
      section.append(DSR.table(`${split} (${DSR.int(s.samples)} samples)`, ["reason", "samples", "share"], rows, [1]));
      if (s.no_video) section.append(el("p", { class: "note", text: `${s.no_video} sample(s) of ${split} have no video.` }));
    }
    return section;
  }

  function curves(o) {
    const section = el("section", { "aria-labelledby": "curves-h" }, el("h2", { id: "curves-h", text: "Correctness@τ" }),
      el("p", { class: "note", text: "Share of all samples (invalid ones included, as failures) with DSR-Score ≥ τ." }));
    const grid = el("div", { class: "grid2" });
    const taus = o.thresholds;
    const common = { xs: taus, xMin: 0, xMax: 0.9, yMin: 0, yMax: 1, xTicks: taus.filter((_, i) => i % 3 === 0),
      yTicks: [0, 0.25, 0.5, 0.75, 1], xLabel: "threshold τ", yLabel: "Correctness@τ", vlines: [TAU] };
    const splits = Object.entries(o.splits);
    const series = splits.map(([split, s], i) => ({ name: split, values: s.curve, color: DSR.colors.series[i % 7],
      dash: DSR.colors.dashes[i % 6], markers: true }));
    grid.append(el("div", { class: "panel" }, el("h3", { text: "Per split" }),
      DSR.legend(series.map((s) => ({ label: s.name, color: s.color, dash: !!s.dash }))),
      DSR.lineChart(Object.assign({ series, label: "Correctness curve per split" }, common))));
    for (const [split] of splits) {
      const per = o.per_type[split] || {};
      const ts = o.types.filter((t) => per[t]).map((t, i) => ({ name: t, values: per[t].curve,
        color: DSR.colors.series[i % 7], dash: DSR.colors.dashes[i % 6], markers: true }));
      grid.append(el("div", { class: "panel" }, el("h3", { text: `Per DSR type (${split})` }),
        DSR.legend(ts.map((s) => ({ label: `${s.name} ${DSR.typeName(s.name)}`, color: s.color, dash: !!s.dash }))),
        DSR.lineChart(Object.assign({ series: ts, label: `Correctness curve per DSR type, ${split}` }, common))));
    }
    section.append(grid);
    const rows = [];
    for (const [split, s] of splits) {
      rows.push([`${split} (all)`, ...s.curve.map((v) => DSR.fmt(v))]);
      for (const t of o.types) if ((o.per_type[split] || {})[t]) rows.push([`${split} ${t}`, ...o.per_type[split][t].curve.map((v) => DSR.fmt(v))]);
    }
    section.append(el("details", {}, el("summary", { text: "Correctness values (table)" }),
      DSR.table(null, ["", ...taus.map((t) => "τ=" + t.toFixed(1))], rows, taus.map((_, i) => i + 1))));
    return section;
  }

  function histogram(o) {
    const n = o.histogram_bins, edges = [...Array(n + 1).keys()].map((i) => i / n);
    const groups = Object.entries(o.splits).map(([split, s], i) => ({ name: split, counts: s.histogram, color: DSR.colors.series[i % 7] }));
    const section = el("section", { "aria-labelledby": "hist-h" }, el("h2", { id: "hist-h", text: "DSR-Score of valid samples" }),
      DSR.legend(groups.map((g) => ({ label: g.name, color: g.color, box: true }))),
      DSR.barChart({ edges, groups, xLabel: "DSR-Score", yLabel: "samples", label: "Histogram of the DSR-Scores of valid samples" }));
    const rows = edges.slice(0, n).map((e, i) => [`${e.toFixed(2)}–${edges[i + 1].toFixed(2)}`, ...groups.map((g) => DSR.int(g.counts[i]))]);
    section.append(el("details", {}, el("summary", { text: "Histogram counts (table)" }),
      DSR.table(null, ["score bin", ...groups.map((g) => g.name)], rows, groups.map((_, i) => i + 1))));
    return section;
  }

  function pairs(o) {
    const p = o.pairs;
    const section = el("section", { "aria-labelledby": "pairs-h" }, el("h2", { id: "pairs-h", text: "Preference pairs" }));
    if (!p.present && !Object.keys(p.counts).length) {
      section.append(el("p", { class: "note", text: "This folder has no pairs config." }));
      return section;
    }
    section.append(el("p", { class: "note", text: `τ_train = ${p.tau}: a valid sample scoring ≥ τ is a winner, below τ a loser. ` +
      "A prompt qualifies with ≥ 2 valid samples, ≥ 1 winner and ≥ 1 loser." + (p.derived ? " Counts re-derived from the samples (the build record has none)." : "") }));
    const head = ["split", "prompts", "kept", ...p.reasons];
    const rows = Object.entries(p.counts).map(([split, c]) => [split, DSR.int(c.prompts), DSR.int(c.kept), ...p.reasons.map((r) => DSR.int(c[r]))]);
    section.append(DSR.table(null, head, rows, head.map((_, i) => i).filter((i) => i > 0)));
    if (DSR.data().pairs_list) section.append(DSR.data().pairs_list);
    return section;
  }

  /* The evaluation: the paper's Table 2 (one row for the model), a table per DSR type, the
     correctness curve with its band, the reasons samples were invalid; the JSON only as a link. */
  const interval = (c) => (c.low === null || c.low === undefined || c.high === null || c.high === undefined ? null
    : `[${DSR.fmt(c.low)}, ${DSR.fmt(c.high)}]`);

  function metricCell(c) {
    if (!c.present) return el("span", { class: "note", title: c.how ? `measure it with ${c.how}` : null, text: "not measured" });
    const ci = interval(c);
    return el("span", { class: "metric" }, el("strong", { class: "value", text: DSR.fmt(c.estimate) }),
      ci ? el("span", { class: "ci", text: ci }) : null,
      el("span", { class: "n", text: c.n === null ? "" : `n = ${DSR.int(c.n)} ${c.unit}` }));
  }

  function table2(e) {
    const label = (c) => el("span", {}, c.label, c.variant ? el("span", { class: "variant", text: ` [${c.variant}]` }) : null, " ↑");
    const valid = e.validity;
    const share = valid.samples ? valid.valid / valid.samples : null;
    const head = ["model", ...e.table.map(label), "valid"];
    const row = [e.about.name, ...e.table.map(metricCell), el("span", { class: "metric" }, el("strong", { class: "value", text: DSR.pct(share) }),
      el("span", { class: "n", text: `${DSR.int(valid.valid)} of ${DSR.int(valid.samples)} samples` }))];
    const b = e.about.bootstrap;
    const t = DSR.table(null, head, [row], head.map((_, i) => i).filter((i) => i > 0));
    t.id = "eval-table";
    t.classList.add("table2");
    return el("div", {}, t, el("p", { class: "note", text: `Columns as in the paper's Table 2 (higher is better), then ours. ` +
      `[low, high]: ${Math.round(100 * b.level)} % bootstrap interval over the ${DSR.int(b.n_prompts)} prompts ` +
      `(${DSR.int(b.n_resamples)} resamples, seed ${b.seed}). n: Correct@0.7 counts every sample (an invalid one as a failure), ` +
      "the mean DSR-Score the valid samples, the other metrics the videos they could be measured on." }));
  }

  function typesTable(e) {
    const keys = e.types.keys;
    const head = ["DSR type", "samples", "valid", ...keys.map((k) => e.types.labels[k])];
    const rows = e.types.rows.map((r) => [el("span", {}, DSR.typeBadge(r.type, ""), ` ${r.name}`), DSR.int(r.samples), DSR.int(r.valid),
      ...keys.map((k) => {
        const c = r.cells[k] || {}, ci = interval(c);
        return el("span", { class: "metric" }, el("span", { class: "value", text: DSR.fmt(c.estimate) }), ci ? el("span", { class: "ci", text: ci }) : null);
      })]);
    const t = DSR.table(null, head, rows, head.map((_, i) => i).filter((i) => i > 0));
    t.id = "eval-types";
    return el("div", {}, t, el("p", { class: "note", text: e.has_rows ? "Intervals: each type's prompts resampled on their own, as above."
      : "No intervals per type: they are drawn from per_sample.parquet, which was not found beside eval_results.json." }));
  }

  function evalCurve(e) {
    const c = e.curve, color = DSR.colors.series[0];
    const band = c.low ? { low: c.low, high: c.high } : null;
    const chart = DSR.lineChart({ xs: c.thresholds, xMin: 0, xMax: Math.max(0.9, ...c.thresholds), yMin: 0, yMax: 1,
      xTicks: c.thresholds, yTicks: [0, 0.25, 0.5, 0.75, 1], xLabel: "threshold τ", yLabel: "Correct@τ", vlines: [TAU],
      series: [{ name: e.about.name, values: c.values, color, markers: true, band }],
      label: `Correctness curve of ${e.about.name}` + (band ? " with its bootstrap interval band" : "") });
    chart.id = "eval-curve";
    const legend = DSR.legend([{ label: e.about.name, color }, ...(band ? [{ label: "bootstrap interval", color: "rgba(0,114,178,0.25)", box: true }] : [])]);
    const rows = c.thresholds.map((t, i) => [t.toFixed(1), DSR.fmt(c.values[i]), band ? interval({ low: c.low[i], high: c.high[i] }) || "–" : "–"]);
    return el("div", { class: "panel" }, el("h3", { text: "Correctness@τ" }), legend, chart,
      el("details", {}, el("summary", { text: "Curve values (table)" }), DSR.table(null, ["τ", "Correct@τ", "interval"], rows, [1, 2])));
  }

  function evalValidity(e) {
    const v = e.validity, total = Math.max(1, v.samples || 0);
    const rows = [["valid", DSR.int(v.valid), DSR.pct(v.valid / total)],
      ...Object.entries(v.reasons).map(([r, n]) => [`invalid: ${r}`, DSR.int(n), DSR.pct(n / total)])];
    return el("div", { class: "panel" }, el("h3", { text: "Validity" }),
      DSR.table(`${DSR.int(v.samples)} samples`, ["outcome", "samples", "share"], rows, [1, 2]),
      el("p", { class: "note", text: "Invalid samples count as failures at every τ." }));
  }

  function evalAbout(e) {
    const a = e.about, dl = el("dl", { class: "fields" });
    const add = (k, v) => { if (v !== null && v !== undefined && v !== "") dl.append(el("dt", { text: k }), el("dd", {}, v)); };
    const d = a.dataset;
    add("model", a.name);
    add("samples", [d.repo_id || d.local_folder, d.revision ? `@${d.revision}` : "", d.config ? ` · config ${d.config}` : "", d.split ? ` · split ${d.split}` : ""].join(""));
    add("generator", Object.entries(a.generator).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", "));
    add("command", a.command ? el("code", { text: a.command }) : null);
    add("dsr version", a.dsr_version);
    return dl;
  }

  function rawLink(e) {
    return el("p", { class: "note" }, "Every number and setting as written: ", el("a", { href: e.raw, id: "eval-json", text: "eval_results.json" }), ".");
  }

  function otherLayout(e) {
    const ints = (m) => (m.integer ? DSR.int(m.value) : DSR.fmt(m.value, 4));
    const hasN = e.metrics.some((m) => m.n !== null), hasCi = e.metrics.some((m) => m.low !== null);
    const head = ["metric", "value", ...(hasCi ? ["interval"] : []), ...(hasN ? ["n"] : [])];
    const rows = e.metrics.map((m) => [m.name, ints(m), ...(hasCi ? [m.low === null ? "–" : `[${DSR.fmt(m.low, 4)}, ${DSR.fmt(m.high, 4)}]`] : []),
      ...(hasN ? [m.n === null ? "–" : DSR.int(m.n)] : [])]);
    return rows.length ? DSR.table(null, head, rows, head.map((_, i) => i).filter((i) => i > 0))
      : el("p", { class: "note", text: "This eval_results.json holds no numbers this report recognizes." });
  }

  function evalResults(o) {
    const e = o.eval;
    if (!e) return null;
    const section = el("section", { "aria-labelledby": "eval-h" }, el("h2", { id: "eval-h", text: "Evaluation" }));
    if (e.layout !== "dsr-eval") {
      section.append(el("p", { class: "note", text: "This eval_results.json was not written by dsr eval: its numbers as found." }), otherLayout(e), rawLink(e));
      return section;
    }
    section.append(evalAbout(e), table2(e), el("h3", { text: "Per DSR type" }), typesTable(e),
      el("div", { class: "grid2" }, evalCurve(e), evalValidity(e)), rawLink(e));
    return section;
  }

  function build(o) {
    const b = o.build;
    const section = el("section", { "aria-labelledby": "build-h" }, el("h2", { id: "build-h", text: "Build settings" }));
    if (!b.present) {
      section.append(el("p", { class: "note", text: "The build record has no entry for this config." }));
      return section;
    }
    const settings = b.settings || {};
    const perSplit = Object.values(settings).every((v) => v && typeof v === "object" && !Array.isArray(v)) ? settings : { "": settings };
    const rows = [];
    for (const [split, s] of Object.entries(perSplit)) {
      const gen = s.generator || {}, trk = s.tracker || {}, score = s.score || {};
      const pick = (obj, ...keys) => keys.filter((k) => obj[k] !== undefined).map((k) => `${k}=${JSON.stringify(obj[k])}`).join(", ");
      rows.push([split || "all", typeof gen === "object" ? (gen.generator || "") + " " + pick(gen, "num_frames", "height", "width", "fps", "num_inference_steps", "guidance_scale", "sampler", "flow_shift") : String(gen),
        typeof trk === "object" ? (trk.tracker || "") + " " + pick(trk, "detector", "sam2", "box_threshold", "text_threshold", "label_match", "lost_track_fraction", "min_valid", "max_redundant", "min_run") : String(trk),
        pick(score, "m", "min_frames"), s.paper_exact === undefined ? "–" : String(s.paper_exact)]);
    }
    section.append(el("dl", { class: "fields" }, el("dt", { text: "dsr version" }), el("dd", { text: b.dsr_version || "–" }),
      el("dt", { text: "format version" }), el("dd", { text: String(b.format_version ?? "–") })));
    if (b.command) section.append(el("h3", { text: "Command" }), el("pre", { text: b.command }));
    section.append(DSR.table(null, ["split", "generator", "tracker", "score", "paper exact"], rows));
    if (Object.keys(b.deviations || {}).length) {
      const drows = Object.entries(b.deviations).map(([split, c]) => [split, Object.entries(c).map(([k, v]) => `${k}: ${v}`).join(", ")]);
      section.append(el("h3", { text: "Samples changed by rules beyond the authors' code" }), DSR.table(null, ["split", "counts"], drows));
    }
    section.append(el("details", {}, el("summary", { text: "All settings (JSON)" }), DSR.json(settings)));
    return section;
  }

  function pairList() {
    const list = DSR.data().pairs || [];
    if (!list.length) return null;
    const rows = list.map((p) => [el("a", { href: "pair.html#id=" + encodeURIComponent(p.key), text: p.prompt_id }), p.split, p.dsr_type,
      DSR.int(p.winners.length), DSR.int(p.losers.length), p.prompt || ""]);
    return el("details", {}, el("summary", { text: `Pair pages (${list.length} prompts)` }),
      DSR.table(null, ["prompt", "split", "type", "winners", "losers", "prompt text"], rows, [3, 4]));
  }

  function render() {
    const o = DSR.data().overview;
    DSR.header("index.html");
    if (!o) return DSR.fail("data/overview.js is missing: write the report again with `dsr report`.");
    const s = o.source;
    document.title = `DSR report · ${s.label}`;
    const where = [s.revision ? `revision ${s.revision}` : null, s.commit ? `commit ${String(s.commit).slice(0, 10)}` : null].filter(Boolean).join(", ");
    const main = DSR.main();
    main.replaceChildren(...[
      el("h1", { text: `DSR report: ${s.label}` }),
      el("p", { class: "sub" }, `config ${s.config}${where ? " · " + where : ""} · `, el("a", { href: "gallery.html", text: "browse all samples" }),
        s.videos ? "" : " · this config holds no videos: sample pages draw the boxes on a blank frame"),
      problems(o), tiles(o), counts(o), validity(o), curves(o), histogram(o)].filter(Boolean));
    DSR.data().pairs_list = pairList();
    main.append(pairs(o));
    const ev = evalResults(o);
    if (ev) main.append(ev);
    main.append(build(o), el("p", { class: "note" }, "Written by ", el("code", { text: `dsr report` }),
      ` (spatialalign ${s.report_version}). Re-run `, el("code", { text: s.command }), " to bring it up to date: only what changed is written."));
  }

  render();
})();
