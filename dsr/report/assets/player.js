/* dsr report: a sample's video with its stored boxes drawn over it, frame by frame.

   FrameView keeps an overlay canvas in step with the frame the video shows: the frame index is
   floor(mediaTime * fps), where mediaTime is the timestamp of the frame actually presented, as
   requestVideoFrameCallback reports it. One callback is always armed (it fires only when a new
   frame reaches the screen, so a paused video costs nothing), and a pause keeps the last presented
   frame: the video's currentTime can lag behind or run ahead of that frame by a fraction of a frame,
   so drawing floor(currentTime * fps) on pause would be one frame off now and then. After a seek the
   frame shown is the one holding currentTime, which is exact. Browsers without the callback use the
   current time on every animation frame while playing and after every pause or seek. The canvas has
   the video's own pixel size, so a stored box [x1, y1, x2, y2] is drawn at exactly those canvas
   pixels. A sample without a video gets a plain stage and a timer as its clock. */
(function () {
  "use strict";
  const DSR = (window.DSR = window.DSR || {});
  const el = DSR.el;
  const EPS = 1e-4;

  class FrameView {
    /** sample: the page data of one sample; opts: {compact: bool, label: string} */
    constructor(sample, opts) {
      this.sample = sample;
      this.opts = opts || {};
      this.n = Math.max(sample.num_frames || 0, sample.animal_boxes.length, sample.classes.length);
      this.fps = sample.fps || 16;
      this.frame = -1;
      this.listeners = [];
      this.clockTime = 0;
      this.playing = false;
      this.build();
    }

    build() {
      const s = this.sample;
      const w = s.width || 16, h = s.height || 9;
      this.stage = el("div", { class: "stage", style: `aspect-ratio: ${w} / ${h}` });
      this.canvas = el("canvas", { width: w, height: h, "data-frame": "-1", role: "img",
        "aria-label": `Boxes of ${s.fields.animal || "the animal"} (orange, solid) and ${s.fields.object || "the object"} (blue, dashed) over the video` });
      this.status = el("p", { class: "sr-only", "aria-live": "off" });
      if (s.video) {
        this.video = el("video", { src: s.video, muted: true, playsinline: true, preload: "auto",
          controls: this.opts.compact ? null : true, "aria-label": `Video of sample ${s.id}` });
        this.video.muted = true;
        this.frameCallbacks = typeof this.video.requestVideoFrameCallback === "function";
        this.video.addEventListener("loadedmetadata", () => this.fitCanvas());
        this.video.addEventListener("seeked", () => this.update(this.video.currentTime));
        this.video.addEventListener("loadeddata", () => { this.update(this.video.currentTime); this.watchFrames(); });
        this.video.addEventListener("play", () => { this.playing = true; this.loop(); this.emit("play"); });
        this.video.addEventListener("pause", () => {
          this.playing = false;
          if (!this.frameCallbacks) this.update(this.video.currentTime);
          this.emit("pause");
        });
        this.video.addEventListener("error", () => this.noVideo("the video could not be played by this browser"));
        this.stage.append(this.video, this.canvas);
      } else {
        this.stage.append(this.canvas, el("div", { class: "novideo", text: "No video stored for this sample: the stored boxes are drawn on a blank frame." }));
      }
      this.stage.append(this.status);
      this.draw(0);
    }

    noVideo(why) {
      this.stage.append(el("div", { class: "novideo", text: why }));
    }

    fitCanvas() {
      const v = this.video;
      if (v.videoWidth && v.videoHeight && (this.canvas.width !== v.videoWidth || this.canvas.height !== v.videoHeight)) {
        this.canvas.width = v.videoWidth;
        this.canvas.height = v.videoHeight;
        this.stage.style.aspectRatio = `${v.videoWidth} / ${v.videoHeight}`;
        this.frame = -1;
        this.update(v.currentTime);
      }
    }

    frameAt(t) {
      return Math.max(0, Math.min(this.n - 1, Math.floor(t * this.fps + EPS)));
    }

    /** Redraw for media time t (seconds) when it falls on another frame. */
    update(t) {
      const f = this.frameAt(t);
      if (f !== this.frame) this.draw(f);
    }

    /** Arm the one standing frame callback: every presented frame redraws the overlay for its
     *  mediaTime, playing or paused (a seek's frame, a frame still queued when the pause came). */
    watchFrames() {
      if (!this.frameCallbacks || this.watching) return;
      this.watching = true;
      const v = this.video;
      const tick = (_now, meta) => {
        if (!this.watching) return;
        this.update(meta.mediaTime);
        v.requestVideoFrameCallback(tick);
      };
      v.requestVideoFrameCallback(tick);
    }

    /** While playing without frame callbacks: follow the current time on every animation frame. */
    loop() {
      if (!this.video || this.frameCallbacks) return this.watchFrames();
      const v = this.video;
      const tick = () => {
        this.update(v.currentTime);
        if (this.playing) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }

    draw(f) {
      const s = this.sample, c = this.canvas, ctx = c.getContext("2d");
      this.frame = f;
      ctx.clearRect(0, 0, c.width, c.height);
      if (!this.video) { ctx.fillStyle = "#3a3a3a"; ctx.fillRect(0, 0, c.width, c.height); }
      const lw = Math.max(2, Math.round(c.width / 300));
      const animal = s.animal_boxes[f] || null, object = s.object_boxes[f] || null;
      this.box(ctx, object, DSR.colors.object, [3 * lw, 2 * lw], lw);
      this.box(ctx, animal, DSR.colors.animal, [], lw);
      // labels after both boxes: the animal's above its box, the object's below (the animal is
      // often on top of the object, so its box would cover a label above the object's)
      this.label(ctx, animal, DSR.colors.animal, s.fields.animal || "animal", true);
      this.label(ctx, object, DSR.colors.object, s.fields.object || "object", false);
      if (s.key_frame !== null && s.key_frame !== undefined && f === s.key_frame) this.keyBadge(ctx, lw);
      c.dataset.frame = String(f);
      c.dataset.animalBox = animal ? animal.join(",") : "";
      c.dataset.objectBox = object ? object.join(",") : "";
      const describe = (name, b) => `${name} ${b ? "box " + b.map((v) => v.toFixed(1)).join(", ") : "absent"}`;
      this.status.textContent = `Frame ${f} (frames 0–${this.n - 1}): ${describe(s.fields.animal || "animal", animal)}; ` +
        `${describe(s.fields.object || "object", object)}` + (f === s.key_frame ? "; key frame" : "");
      this.emit("frame", f);
    }

    box(ctx, b, color, dash, lw) {
      if (!b) return;
      const [x1, y1, x2, y2] = b;
      ctx.setLineDash(dash);
      ctx.lineWidth = lw + 2;
      ctx.strokeStyle = DSR.colors.halo;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.lineWidth = lw;
      ctx.strokeStyle = color;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.setLineDash([]);
    }

    /** A name tag on a box: above it (or below when it is at the top edge), or the other way round. */
    label(ctx, b, color, label, above) {
      if (!b || this.opts.compact) return;
      const [x1, y1, , y2] = b;
      const size = Math.max(10, Math.round(this.canvas.width / 45));
      ctx.font = `600 ${size}px system-ui, sans-serif`;
      const tw = ctx.measureText(label).width + 6;
      const up = y1 - size - 4, down = y2 + 2;
      const ty = above ? (up >= 0 ? up : down) : (down + size + 4 <= this.canvas.height ? down : up);
      ctx.fillStyle = color;
      ctx.fillRect(x1, ty, tw, size + 4);
      ctx.fillStyle = "#000";
      ctx.fillText(label, x1 + 3, ty + size);
    }

    keyBadge(ctx, lw) {
      const c = this.canvas, size = Math.max(10, Math.round(c.width / 40));
      ctx.font = `700 ${size}px system-ui, sans-serif`;
      const text = "KEY FRAME";
      const w = ctx.measureText(text).width + 10;
      ctx.fillStyle = "#000";
      ctx.fillRect(c.width - w - lw, lw, w, size + 8);
      ctx.fillStyle = "#fff";
      ctx.fillText(text, c.width - w - lw + 5, lw + size + 2);
    }

    on(fn) { this.listeners.push(fn); }
    emit(kind, value) { for (const fn of this.listeners) fn(kind, value, this); }

    /** Show frame f (seeks the video to the middle of that frame). */
    seekFrame(f) {
      f = Math.max(0, Math.min(this.n - 1, f));
      if (this.video) {
        this.video.currentTime = (f + 0.5) / this.fps;
      } else {
        this.clockTime = (f + 0.5) / this.fps;
        this.draw(f);
      }
    }

    play() {
      if (this.video) return this.video.play().catch(() => {});
      if (this.playing) return Promise.resolve();
      this.playing = true;
      this.emit("play");
      let last = performance.now();
      const tick = (now) => {
        if (!this.playing) return;
        this.clockTime += (now - last) / 1000;
        last = now;
        if (this.clockTime * this.fps >= this.n) { this.clockTime = (this.n - 0.5) / this.fps; this.pause(); }
        this.update(this.clockTime);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      return Promise.resolve();
    }

    pause() {
      if (this.video) { this.video.pause(); return; }
      if (!this.playing) return;
      this.playing = false;
      this.emit("pause");
    }

    isPaused() { return this.video ? this.video.paused : !this.playing; }
    time() { return this.video ? this.video.currentTime : this.clockTime; }
    setTime(t) {
      if (this.video) this.video.currentTime = t;
      else { this.clockTime = t; this.update(t); }
    }

    dispose() {
      this.playing = false;
      this.watching = false;
      if (this.video) { this.video.pause(); this.video.removeAttribute("src"); this.video.load(); }
    }
  }
  DSR.FrameView = FrameView;

  /** The per-frame class strip: one cell per frame (valid / miss / redundant), the key frame marked
   *  below, the current frame outlined. Clicking a cell shows that frame. */
  DSR.classStrip = function (sample, onPick) {
    const n = Math.max(1, sample.classes.length), W = 800, cell = W / n, H = 34;
    const counts = { v: 0, m: 0, r: 0 };
    for (const c of sample.classes) counts[c] = (counts[c] || 0) + 1;
    const svg = el("svg", { class: "strip", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `Frame classes: ${counts.v} valid, ${counts.m} miss, ${counts.r} redundant` +
        (sample.key_frame !== null && sample.key_frame !== undefined ? `; key frame ${sample.key_frame}` : "") });
    [...sample.classes].forEach((c, i) => {
      const name = DSR.classNames[c] || "unknown";
      const r = el("rect", { x: i * cell, y: 0, width: Math.max(0.5, cell - (cell > 4 ? 1 : 0)), height: 20,
        fill: DSR.colors[name] || "#777", "data-frame": i });
      r.append(el("title", { text: `frame ${i}: ${name}` }));
      svg.append(r);
      if (c === "m" && cell > 3) svg.append(el("line", { x1: i * cell, y1: 20, x2: (i + 1) * cell - 1, y2: 0, stroke: "#6b6b6b", "stroke-width": 1 }));
      if (c === "r" && cell > 3) svg.append(el("rect", { x: i * cell + cell / 2 - 1.5, y: 8, width: 3, height: 4, fill: "#fff" }));
    });
    if (sample.key_frame !== null && sample.key_frame !== undefined) {
      const x = (sample.key_frame + 0.5) * cell;
      svg.append(el("polygon", { points: `${x},21 ${x - 6},33 ${x + 6},33`, fill: "#1b1b1b" },
        el("title", { text: `key frame ${sample.key_frame}` })));
    }
    const cursor = el("rect", { x: 0, y: 0, width: cell, height: 20, fill: "none", stroke: "#000", "stroke-width": 2.5 });
    svg.append(cursor);
    svg.setCursor = (f) => cursor.setAttribute("x", f * cell);
    svg.addEventListener("click", (ev) => {
      const box = svg.getBoundingClientRect();
      onPick(Math.floor(((ev.clientX - box.left) / box.width) * n));
    });
    return svg;
  };

  /** The SSR curves of the initial and final relation over the frames (gaps where unusable), the
   *  first and last m usable frames shaded (the windows of r_init and r_f), the key frame dashed. */
  DSR.ssrChart = function (sample, onPick) {
    const n = Math.max(2, sample.ssr_initial.length, sample.num_frames || 0);
    const xs = [...Array(n).keys()];
    const usable = xs.filter((i) => sample.ssr_initial[i] !== null && sample.ssr_initial[i] !== undefined);
    const m = sample.m || 3, windows = [];
    if (usable.length >= m) {
      windows.push([usable[0] - 0.5, usable[m - 1] + 0.5], [usable[usable.length - m] - 0.5, usable[usable.length - 1] + 0.5]);
    }
    const f = sample.fields;
    const chart = DSR.lineChart({
      xs, xMin: 0, xMax: n - 1, yMin: -1.05, yMax: 1.05, yTicks: [-1, -0.5, 0, 0.5, 1],
      xTicks: xs.filter((i) => i % Math.max(1, Math.ceil(n / 8)) === 0), width: 640, height: 240,
      xLabel: "frame", yLabel: "SSR score", windows, cursor: true, onPick: (x) => onPick(Math.round(x)),
      vlines: sample.key_frame !== null && sample.key_frame !== undefined ? [{ x: sample.key_frame, label: "key frame" }] : [],
      label: `SSR curves: r(·, ${f.initial}) and r(·, ${f.final}) per frame`,
      series: [
        { name: `r(·, ${f.initial})`, values: xs.map((i) => sample.ssr_initial[i] ?? null), color: DSR.colors.initial },
        { name: `r(·, ${f.final})`, values: xs.map((i) => sample.ssr_final[i] ?? null), color: DSR.colors.final, dash: "7 4" },
      ],
    });
    return chart;
  };

  /** The depth values of a sample placed in depth: the median relative distance of the animal and
   *  of the object per frame (0 = the frame's nearest pixel, 1 = its farthest; gaps where a mask
   *  is absent), and the occlusion sign (+1 the animal hides the object, −1 the object hides it). */
  DSR.depthChart = function (sample, onPick) {
    const d = sample.depth;
    const n = Math.max(2, d.animal.length, sample.num_frames || 0);
    const xs = [...Array(n).keys()];
    return DSR.lineChart({
      xs, xMin: 0, xMax: n - 1, yMin: -1.05, yMax: 1.05, yTicks: [-1, -0.5, 0, 0.5, 1],
      xTicks: xs.filter((i) => i % Math.max(1, Math.ceil(n / 8)) === 0), width: 640, height: 200,
      xLabel: "frame", yLabel: "distance / occlusion", cursor: true, onPick: (x) => onPick(Math.round(x)),
      label: `Depth per frame: ${sample.fields.animal} and ${sample.fields.object} (0 nearest, 1 farthest), and occlusion`,
      series: [
        { name: "animal depth", values: xs.map((i) => d.animal[i] ?? null), color: DSR.colors.animal, width: 2.5 },
        { name: "object depth", values: xs.map((i) => d.object[i] ?? null), color: DSR.colors.object, dash: "7 4", width: 2.5 },
        { name: "occlusion", values: xs.map((i) => d.occlusion[i] ?? null), color: "#555555", dash: "2 3" },
      ],
    });
  };
})();
