/* dsr report: the gallery (gallery.html). Filters and page live in the URL hash; only the cards of
   the current page exist, and a card loads its video (the poster frame) when it scrolls into view. */
(function () {
  "use strict";
  const DSR = window.DSR, el = DSR.el;
  const PAGE_SIZES = [24, 48, 96, 192];
  let pageSize = 48;
  let observer = null;

  /** Filters, page and page size in the address (a link keeps them). */
  function setHash(f, page) {
    const p = DSR.filterParams(f);
    if (page > 1) p.set("page", page);
    if (pageSize !== 48) p.set("per", pageSize);
    history.replaceState(null, "", "#" + p.toString());
  }

  function options(values, labels) {
    return values.map((v, i) => el("option", { value: v, text: labels ? labels[i] : v || "all" }));
  }

  function uniq(key) {
    return [...new Set(DSR.entries().map((e) => e[key]).filter((v) => v !== null && v !== undefined && v !== ""))];
  }

  function form(f) {
    const reasons = uniq("reason").sort();
    const select = (name, label, values, labels) => {
      const s = el("select", { name, id: "f-" + name }, ...options(values, labels));
      s.value = f[name];
      return el("label", { for: "f-" + name }, label, s);
    };
    const input = (name, label, attrs) => {
      const i = el("input", Object.assign({ name, id: "f-" + name, value: f[name] }, attrs));
      return el("label", { for: "f-" + name }, label, i);
    };
    const types = typeCodes();
    const node = el("form", { class: "filters", role: "search", "aria-label": "Filter samples" },
      select("split", "Split", ["", ...uniq("split")]),
      select("type", "DSR type", ["", ...types], ["all", ...types.map((t) => `${t} ${DSR.typeName(t)}`.trim())]),
      select("validity", "Validity", ["", "valid", "invalid", ...reasons.map((r) => "reason:" + r)],
        ["all", "valid", "invalid (any reason)", ...reasons.map((r) => "invalid: " + r)]),
      select("role", "Pairs role", ["", "winner", "loser", "none"], ["all", "winner", "loser", "not in pairs"]),
      input("min", "Score ≥", { type: "number", step: "0.05", min: "0", max: "1" }),
      input("max", "Score ≤", { type: "number", step: "0.05", min: "0", max: "1" }),
      input("q", "Animal, object or id", { type: "search", placeholder: "e.g. fox" }),
      select("sort", "Sort", ["", "score-desc", "score-asc"], ["dataset order", "score, high first", "score, low first"]),
      el("button", { type: "reset", text: "Clear filters" }));
    node.addEventListener("input", () => apply(node, 1));
    node.addEventListener("change", () => apply(node, 1));
    node.addEventListener("reset", () => setTimeout(() => apply(node, 1), 0));
    node.addEventListener("submit", (ev) => { ev.preventDefault(); apply(node, 1); });
    return node;
  }

  function typeCodes() {
    const order = ["LT", "TL", "RT", "LR", "TR", "RL"], found = uniq("type");
    return order.filter((t) => found.includes(t)).concat(found.filter((t) => !order.includes(t)));
  }

  function apply(node, page) {
    const f = {};
    for (const k of DSR.FILTER_KEYS) f[k] = node.elements[k] ? node.elements[k].value.trim() : "";
    setHash(f, page);
    renderCards(f, page);
  }

  function thumbSvg(e) {
    const w = e.width || 16, h = e.height || 9;
    const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", "aria-hidden": "true" });
    const lw = Math.max(1.5, w / 110);
    for (const [box, color, dash] of [[e.object_box, DSR.colors.object, `${3 * lw} ${2 * lw}`], [e.animal_box, DSR.colors.animal, null]]) {
      if (box) {
        svg.append(el("rect", { x: box[0], y: box[1], width: box[2] - box[0], height: box[3] - box[1], fill: "none",
          stroke: color, "stroke-width": lw, "stroke-dasharray": dash }));
      }
    }
    return svg;
  }

  function card(e, f) {
    const p = DSR.filterParams(f);
    p.set("id", e.key);
    const thumb = el("div", { class: "thumb", style: e.width && e.height ? `aspect-ratio:${e.width} / ${e.height}` : null });
    if (e.video) thumb.dataset.src = `videos/${encodeURIComponent(e.key)}.mp4#t=${((e.frame + 0.5) / (e.fps || 16)).toFixed(3)}`;
    else thumb.append(el("span", { class: "novideo", text: "no video" }));
    thumb.append(thumbSvg(e));
    const status = e.valid ? el("span", { class: "badge valid", text: "✓ valid" }) : el("span", { class: "badge invalid", text: "✗ " + (e.reason || "invalid") });
    const role = e.role ? el("span", { class: "badge " + e.role, text: e.role === "winner" ? "▲ winner" : "▼ loser" }) : null;
    const label = `${e.id}: ${e.valid ? "DSR-Score " + DSR.fmt(e.score) : "invalid, " + (e.reason || "")}${e.role ? ", " + e.role : ""}`;
    return el("li", {}, el("a", { class: "card", href: "sample.html#" + p.toString(), "aria-label": label }, thumb,
      el("div", { class: "meta" }, el("div", { class: "id", text: e.id }),
        el("div", { class: "line" }, el("span", { class: "score", text: e.valid ? DSR.fmt(e.score) : "–" }), status, role),
        el("div", { class: "line" }, DSR.typeBadge(e.type), `${e.animal || ""} · ${e.object || ""} · ${e.split}`))));
  }

  function loadThumb(thumb) {
    if (!thumb.dataset.src || thumb.querySelector("video")) return;
    const v = el("video", { muted: true, preload: "metadata", playsinline: true, "aria-hidden": "true", tabindex: "-1" });
    v.muted = true;
    v.src = thumb.dataset.src;
    thumb.prepend(v);
  }

  /** "Page [n] of N": type a page number and press Enter (or leave the field) to go there. */
  function pageJump(page, pages, go) {
    const input = el("input", { type: "number", class: "page-jump", min: 1, max: pages, step: 1, value: page,
      "aria-label": `Go to page (1–${pages})`, title: "Type a page number and press Enter" });
    const jump = () => {
      const p = Math.round(Number(input.value));
      if (p >= 1 && p <= pages && p !== page) go(p);
      else input.value = page;
    };
    input.addEventListener("change", jump);
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); jump(); } });
    return el("label", {}, "Page ", input, ` of ${pages}`);
  }

  function sizeSelect(f) {
    const s = el("select", { class: "page-size", "aria-label": "Samples per page" },
      ...PAGE_SIZES.map((n) => el("option", { value: n, text: String(n), selected: n === pageSize })));
    s.addEventListener("change", () => { pageSize = Number(s.value); setHash(f, 1); renderCards(f, 1); });
    return el("label", {}, s, " per page");
  }

  function pager(page, pages, f) {
    const go = (p) => {
      setHash(f, p);
      renderCards(f, p);
      DSR.main().focus();
    };
    return el("nav", { class: "pager", "aria-label": "Gallery pages" },
      el("button", { type: "button", disabled: page <= 1, onclick: () => go(page - 1), "aria-label": "Previous page", text: "← Previous" }),
      pageJump(page, pages, go),
      el("button", { type: "button", disabled: page >= pages, onclick: () => go(page + 1), "aria-label": "Next page", text: "Next →" }),
      sizeSelect(f));
  }

  function countLine(page, total, shown) {
    const first = (page - 1) * pageSize, all = DSR.int(DSR.entries().length);
    return el("p", { class: "note", role: "status", id: "count",
      text: total ? `Showing ${first + 1}–${first + shown} of ${DSR.int(total)} matching samples (${all} in all)`
        : `No sample matches these filters (${all} in all)` });
  }

  function renderCards(f, page) {
    const list = DSR.select(f);
    const pages = Math.max(1, Math.ceil(list.length / pageSize));
    page = Math.max(1, Math.min(pages, page || 1));
    const slice = list.slice((page - 1) * pageSize, page * pageSize);
    const holder = document.getElementById("results");
    if (observer) observer.disconnect();
    for (const v of holder.querySelectorAll("video")) { v.removeAttribute("src"); v.load(); }
    const cards = el("ul", { class: "cards", id: "cards", "data-count": list.length }, ...slice.map((e) => card(e, f)));
    holder.replaceChildren(countLine(page, list.length, slice.length), pager(page, pages, f), cards, pager(page, pages, f));
    const thumbs = cards.querySelectorAll(".thumb");
    if ("IntersectionObserver" in window) {
      observer = new IntersectionObserver((items) => {
        for (const it of items) if (it.isIntersecting) { loadThumb(it.target); observer.unobserve(it.target); }
      }, { rootMargin: "200px" });
      thumbs.forEach((t) => observer.observe(t));
    } else thumbs.forEach(loadThumb);
  }

  function keys(ev) {
    if (DSR.typing(ev)) return;
    const pager = document.querySelector(".pager");
    if (!pager) return;
    const [prev, next] = pager.querySelectorAll("button");
    if (ev.key === "]" || ev.key === "PageDown" && ev.shiftKey) { if (!next.disabled) next.click(); ev.preventDefault(); }
    if (ev.key === "[" || ev.key === "PageUp" && ev.shiftKey) { if (!prev.disabled) prev.click(); ev.preventDefault(); }
    if (ev.key === "/") { document.getElementById("f-q").focus(); ev.preventDefault(); }
  }

  function render() {
    DSR.header("gallery.html");
    if (!DSR.data().index) return DSR.fail("data/index.js is missing: write the report again with `dsr report`.");
    const params = DSR.hashParams();
    const f = DSR.readFilters(params);
    if (PAGE_SIZES.includes(Number(params.get("per")))) pageSize = Number(params.get("per"));
    const main = DSR.main();
    main.replaceChildren(el("h1", { text: "Gallery" }),
      el("p", { class: "note" }, "Filters stay in the address, so a link keeps them. Keys: ",
        el("span", { class: "kbd", text: "/" }), " search, ", el("span", { class: "kbd", text: "[" }), " ",
        el("span", { class: "kbd", text: "]" }), " previous / next page; on a sample page ",
        el("span", { class: "kbd", text: "n" }), " ", el("span", { class: "kbd", text: "p" }), " step through these samples."),
      form(f), DSR.typeLegend(typeCodes()), el("div", { id: "results" }));
    renderCards(f, Number(params.get("page")) || 1);
    document.addEventListener("keydown", keys);
  }

  render();
})();
