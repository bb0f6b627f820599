/* dsr report: one prompt of the pairs config (pair.html#id=<pair key>): its winners and losers side
   by side, each with its boxes, all playing in sync with one set of controls. */
(function () {
  "use strict";
  const DSR = window.DSR, el = DSR.el;
  let views = [];
  let syncing = false;

  function member(m, side) {
    const s = (window.DSR_DATA.samples || {})[m.key];
    const box = el("div", { class: "member", "data-id": m.id, "data-side": side });
    const title = el("h4", {}, el("a", { href: "sample.html#id=" + encodeURIComponent(m.key), text: m.id }));
    if (!s) {
      box.append(title, el("p", { class: "note", text: "This sample is not in the report (another split or config)." }));
      return { box, view: null };
    }
    const view = new DSR.FrameView(s, { compact: true });
    box.append(title, view.stage, el("p", { class: "line" }, el("span", { class: "score", text: `DSR-Score ${DSR.fmt(m.score)}` }), " ",
      el("span", { class: "badge " + (side === "winners" ? "winner" : "loser"), text: side === "winners" ? "▲ winner" : "▼ loser" }), " ",
      el("span", { class: "note", text: `seed ${s.seed}` })));
    return { box, view };
  }

  function master() {
    return views.find((v) => v.video) || views[0];
  }

  /** Every other view follows the master's time (within one frame) and its play/pause state. */
  function follow() {
    const lead = master();
    if (!lead) return;
    const t = lead.time();
    for (const v of views) {
      if (v === lead) continue;
      if (Math.abs(v.time() - t) > 1 / (v.fps || 16)) v.setTime(Math.min(t, (v.n - 0.5) / v.fps));
      if (lead.isPaused() !== v.isPaused()) (lead.isPaused() ? v.pause() : v.play());
    }
  }

  function syncLoop() {
    if (syncing) return;
    syncing = true;
    const tick = () => {
      follow();
      const lead = master();
      if (lead && !lead.isPaused()) requestAnimationFrame(tick);
      else syncing = false;
    };
    requestAnimationFrame(tick);
  }

  function controls(n) {
    const count = el("span", { class: "framecount", id: "framecount" });
    const slider = el("input", { type: "range", min: 0, max: Math.max(0, n - 1), value: 0, step: 1, id: "pair-frame", "aria-label": "Frame of all videos" });
    const play = el("button", { type: "button", id: "play-all", text: "▶ Play all" });
    const seek = (f) => { for (const v of views) { v.pause(); v.seekFrame(f); } };
    play.addEventListener("click", () => toggle());
    slider.addEventListener("input", () => seek(Number(slider.value)));
    const lead = master();
    if (lead) {
      count.textContent = `frame ${Math.max(0, lead.frame)} of 0–${lead.n - 1}`;
      lead.on((kind, f) => {
        if (kind === "frame") { slider.value = f; count.textContent = `frame ${f} of 0–${lead.n - 1}`; }
        if (kind === "play") { play.textContent = "❚❚ Pause all"; syncLoop(); }
        if (kind === "pause") { play.textContent = "▶ Play all"; follow(); }
      });
    }
    return el("div", { class: "controls", role: "group", "aria-label": "Controls of all videos" },
      el("button", { type: "button", "aria-label": "Previous frame", text: "◀ frame (,)", onclick: () => lead && seek(lead.frame - 1) }),
      play, el("button", { type: "button", "aria-label": "Next frame", text: "frame (.) ▶", onclick: () => lead && seek(lead.frame + 1) }),
      slider, count);
  }

  function toggle() {
    const lead = master();
    if (!lead) return;
    if (lead.isPaused()) { for (const v of views) v.play(); syncLoop(); } else for (const v of views) v.pause();
  }

  function show(p) {
    for (const v of views) v.dispose();
    views = [];
    const cols = {};
    for (const side of ["winners", "losers"]) {
      const grid = el("div", { class: "tiles-small", id: side });
      for (const m of p[side]) {
        const { box, view } = member(m, side);
        grid.append(box);
        if (view) views.push(view);
      }
      cols[side] = grid;
    }
    const n = Math.max(1, ...views.map((v) => v.n));
    const list = window.DSR_DATA.pairs || [];
    const i = list.findIndex((q) => q.key === p.key);
    const link = (q, text, id) => (q ? el("a", { href: "pair.html#id=" + encodeURIComponent(q.key), text, id }) : el("span", { class: "note", text: "–" }));
    DSR.main().replaceChildren(
      el("nav", { class: "navline", "aria-label": "Pairs" }, el("a", { href: "index.html#pairs-h", text: "← Overview: pairs" }),
        el("span", { class: "note", text: `Prompt ${i + 1} of ${list.length} with pairs` }), el("span", { class: "spacer" }),
        link(list[i - 1], "◀ Previous (p)", "prev"), link(list[i + 1], "Next (n) ▶", "next")),
      el("h1", { text: `Pairs of ${p.prompt_id}` }),
      el("blockquote", { class: "prompt", text: p.prompt || "" }),
      el("p", { class: "note" }, DSR.typeBadge(p.dsr_type), ` ${DSR.typeName(p.dsr_type)} · split ${p.split} · τ = ${p.tau} · ` +
        `${p.n_valid} valid of ${p.n_samples} samples · ${p.winners.length} winner(s), ${p.losers.length} loser(s)`),
      controls(n), DSR.legend([{ label: "animal box", color: DSR.colors.animal }, { label: "object box", color: DSR.colors.object, dash: true }]),
      el("div", { class: "pair-cols" },
        el("section", { "aria-labelledby": "w-h" }, el("h2", { id: "w-h", text: `Winners (DSR-Score ≥ ${p.tau})` }), cols.winners),
        el("section", { "aria-labelledby": "l-h" }, el("h2", { id: "l-h", text: `Losers (DSR-Score < ${p.tau})` }), cols.losers)),
      p.missing.length ? el("p", { class: "note", text: `Not in this report: ${p.missing.join(", ")}` }) : "",
      el("p", { class: "note" }, "Keys: ", el("span", { class: "kbd", text: "space" }), " play / pause all, ",
        el("span", { class: "kbd", text: "," }), " ", el("span", { class: "kbd", text: "." }), " frame, ",
        el("span", { class: "kbd", text: "n" }), " ", el("span", { class: "kbd", text: "p" }), " next / previous prompt."));
    document.title = `DSR report · pairs of ${p.prompt_id}`;
  }

  function load() {
    const list = window.DSR_DATA.pairs || [];
    const key = DSR.hashParams().get("id") || (list[0] || {}).key;
    const p = list.find((q) => q.key === key);
    if (!p) return DSR.fail(list.length ? `No pair ${key} in this report.` : "This report has no pairs config.");
    const members = [...p.winners, ...p.losers].filter((m) => !p.missing.includes(m.id));
    Promise.allSettled(members.map((m) => ((window.DSR_DATA.samples || {})[m.key] ? Promise.resolve()
      : DSR.loadScript(`data/samples/${encodeURIComponent(m.key)}.js`)))).then(() => show(p));
  }

  function keys(ev) {
    if (DSR.typing(ev)) return;
    const lead = master();
    const seek = (d) => { if (lead) for (const v of views) { v.pause(); v.seekFrame(lead.frame + d); } };
    const go = (id) => { const a = document.getElementById(id); if (a && a.tagName === "A") location.hash = a.getAttribute("href").split("#")[1]; };
    const actions = { " ": toggle, ",": () => seek(-1), ".": () => seek(1), n: () => go("next"), p: () => go("prev") };
    if (!actions[ev.key] || (ev.key === " " && ev.target.tagName === "BUTTON")) return;
    ev.preventDefault();
    actions[ev.key]();
  }

  DSR.header("index.html");
  window.DSR_DATA = window.DSR_DATA || {};
  window.addEventListener("hashchange", load);
  document.addEventListener("keydown", keys);
  DSR.pairViews = () => views;
  load();
})();
