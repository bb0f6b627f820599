/* dsr report: shared helpers (DOM building, number formats, the gallery index and its filters,
   the page header). Classic script: browsers refuse ES modules and fetch() from file:// URLs. */
(function () {
  "use strict";
  const DSR = (window.DSR = window.DSR || {});

  DSR.colors = {
    animal: "#e69f00", object: "#56b4e9", valid: "#009e73", miss: "#bdbdbd", redundant: "#d55e00",
    initial: "#0072b2", final: "#d55e00", halo: "rgba(0,0,0,0.8)",
    series: ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"],
    dashes: ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4"],
  };
  DSR.classNames = { v: "valid", m: "miss", r: "redundant" };

  /** el("div", {class: "x", text: "hi", onclick: fn, "aria-label": "..."}, child, ...) */
  DSR.el = function (tag, attrs, ...children) {
    const svg = ["svg", "g", "path", "line", "rect", "text", "polyline", "title", "circle", "polygon", "tspan"].includes(tag);
    const node = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  DSR.fmt = (x, digits = 3) => (x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(digits));
  DSR.pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%");
  DSR.int = (x) => (x === null || x === undefined ? "–" : Number(x).toLocaleString("en-US"));

  DSR.loadScript = function (src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = () => resolve(src);
      s.onerror = () => reject(new Error("cannot load " + src));
      document.head.appendChild(s);
    });
  };

  DSR.data = () => window.DSR_DATA || {};
  DSR.hashParams = () => new URLSearchParams(location.hash.replace(/^#/, ""));

  /** Entries of the gallery index as objects, in dataset order (cached). */
  DSR.entries = function () {
    if (DSR._entries) return DSR._entries;
    const index = DSR.data().index || { columns: [], rows: [] };
    DSR._entries = index.rows.map((row, position) => {
      const entry = { position };
      index.columns.forEach((c, i) => { entry[c] = row[i]; });
      return entry;
    });
    return DSR._entries;
  };

  /* Filters: one definition shared by the gallery (which shows them) and the sample page (which
     steps through the same selection). They live in the URL hash, so links keep them. */
  DSR.FILTER_KEYS = ["split", "type", "validity", "role", "min", "max", "q", "sort"];
  DSR.readFilters = function (params) {
    const f = {};
    for (const k of DSR.FILTER_KEYS) f[k] = params.get(k) || "";
    return f;
  };
  DSR.filterParams = function (f) {
    const p = new URLSearchParams();
    for (const k of DSR.FILTER_KEYS) if (f[k]) p.set(k, f[k]);
    return p;
  };
  DSR.matches = function (e, f) {
    if (f.split && e.split !== f.split) return false;
    if (f.type && e.type !== f.type) return false;
    if (f.validity === "valid" && !e.valid) return false;
    if (f.validity === "invalid" && e.valid) return false;
    if (f.validity.startsWith("reason:") && (e.valid || e.reason !== f.validity.slice(7))) return false;
    if (f.role === "none" ? !!e.role : f.role && e.role !== f.role) return false;
    const min = f.min === "" ? null : Number(f.min), max = f.max === "" ? null : Number(f.max);
    if ((min !== null || max !== null) && (e.score === null || e.score === undefined)) return false;
    if (min !== null && e.score < min) return false;
    if (max !== null && e.score > max) return false;
    if (f.q) {
      const q = f.q.toLowerCase();
      const hay = [e.animal, e.object, e.prompt_id, e.id].join(" ").toLowerCase();
      if (!hay.includes(q)) return false;
    }
    return true;
  };
  DSR.select = function (f) {
    const out = DSR.entries().filter((e) => DSR.matches(e, f));
    if (f.sort === "score-asc" || f.sort === "score-desc") {
      const sign = f.sort === "score-asc" ? 1 : -1;
      const missing = (e) => e.score === null || e.score === undefined;
      out.sort((a, b) => (missing(a) - missing(b)) || (missing(a) ? a.position - b.position
        : sign * (a.score - b.score) || a.position - b.position));
    }
    return out;
  };

  /** The page header: navigation with the current page marked, and the report's source. */
  DSR.header = function (current) {
    const overview = DSR.data().overview || {};
    const source = overview.source || {};
    const nav = DSR.el("nav", { "aria-label": "Report pages" },
      ...[["index.html", "Overview"], ["gallery.html", "Gallery"]].map(([href, label]) =>
        DSR.el("a", { href, "aria-current": current === href ? "page" : null, text: label })));
    const label = source.label ? source.label + (source.config ? " · " + source.config : "") : "";
    const header = DSR.el("header", { class: "top" }, DSR.el("span", { class: "brand", text: "DSR report" }), nav,
      DSR.el("span", { class: "source", text: label }));
    document.body.prepend(header);
    document.body.prepend(DSR.el("a", { class: "skip", href: "#main", text: "Skip to content" }));
  };

  DSR.main = () => document.getElementById("main");
  DSR.fail = function (message) {
    const main = DSR.main();
    main.replaceChildren(DSR.el("div", { class: "problems", role: "alert" }, DSR.el("p", { text: message })));
  };
  /** Whether a key press belongs to a form field or a media element rather than to the page. */
  DSR.typing = function (event) {
    const t = event.target;
    return event.ctrlKey || event.metaKey || event.altKey ||
      (t && (t.isContentEditable || ["INPUT", "SELECT", "TEXTAREA", "VIDEO"].includes(t.tagName)));
  };
  DSR.legend = function (items) {
    return DSR.el("div", { class: "legend" }, ...items.map((it) => DSR.el("span", {},
      it.box ? DSR.el("span", { class: "box", style: `background:${it.color}` })
        : DSR.el("span", { class: "swatch", style: `border-top-color:${it.color};border-top-style:${it.dash ? "dashed" : "solid"}` }),
      it.label)));
  };
  DSR.table = function (caption, head, rows, numeric) {
    const isNum = (i) => (numeric || []).includes(i);
    return DSR.el("table", {}, caption ? DSR.el("caption", { text: caption }) : null,
      DSR.el("thead", {}, DSR.el("tr", {}, ...head.map((h, i) => DSR.el("th", { scope: "col", class: isNum(i) ? "num" : null }, h)))),
      DSR.el("tbody", {}, ...rows.map((r) => DSR.el("tr", {}, ...r.map((c, i) =>
        i === 0 ? DSR.el("th", { scope: "row" }, c) : DSR.el("td", { class: isNum(i) ? "num" : null }, c))))));
  };
  DSR.json = (value) => DSR.el("pre", { text: JSON.stringify(value, null, 2) });

  /* DSR types: the codes (LT … RL) spelled out, from the overview data (one definition, in
     dsr.prompts), on hover and in a legend. */
  const spelled = (code) => ((DSR.data().overview || {}).type_names || {})[code] || {};
  DSR.typeName = (code) => spelled(code).name || "";
  /** A DSR type code with its meaning on hover. */
  DSR.typeBadge = (code, cls) => DSR.el("abbr", { class: cls === undefined ? "badge type" : cls,
    title: spelled(code).title || null, text: code || "?" });
  /** "DSR types: LT left → top (A) · TL top → left (B) · …" for the codes given (default: all known). */
  DSR.typeLegend = function (codes) {
    const names = (DSR.data().overview || {}).type_names || {};
    const list = (codes || Object.keys(names)).filter((c) => names[c]);
    if (!list.length) return null;
    return DSR.el("p", { class: "note type-legend" }, "DSR types, initial → final relation of the animal to the object (the paper's letter): ",
      ...list.flatMap((c, i) => [i ? " · " : "", DSR.el("abbr", { title: names[c].title, text: c }), ` ${names[c].name}` +
        (names[c].letter ? ` (${names[c].letter})` : "")]));
  };
})();
