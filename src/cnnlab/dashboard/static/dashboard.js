// cnnlab dashboard: draws the pages served by cnnlab.dashboard.app (no library, no network).
// Text from the server goes into the page through textContent only, never innerHTML.
"use strict";
(function () {
  const body = document.body;
  const page = body.dataset.page;
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f"];

  // ------------------------------------------------------------------------------ helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const $ = (id) => document.getElementById(id);
  const fmt = (v, d = 4) => (v === null || v === undefined ? "-" : Number(v).toFixed(d));
  const fmtLr = (v) => (v === null || v === undefined ? "-" : Number(v).toPrecision(3));
  function duration(s) {
    if (s === null || s === undefined) return "-";
    if (s < 60) return s.toFixed(1) + " s";
    const m = Math.floor(Math.round(s) / 60), r = Math.round(s) % 60;
    return m < 60 ? `${m} min ${String(r).padStart(2, "0")} s`
      : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
  }
  function when(stamp) {
    if (!stamp) return "-";
    const d = new Date(stamp * 1000), p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
      `${p(d.getHours())}:${p(d.getMinutes())}`;
  }
  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }
  function setText(id, text) { const n = $(id); if (n) n.textContent = text; }
  function setConnection(text, kind) {
    const n = $("connection");
    if (!n) return;
    n.textContent = text;
    n.className = "connection " + (kind || "");
  }
  function message(container, text) {
    container.replaceChildren(el("p", { class: "sub" }, text));
  }
  function bytes(picture) {
    const raw = atob(picture.data), out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  // ------------------------------------------------------------------------------ pictures
  // picture: {shape: [n, h, w, c], data: base64 uint8}; draws picture k on a new canvas.
  function canvasOf(picture, k, size, colormap) {
    const [, h, w, c] = picture.shape, data = picture._bytes || (picture._bytes = bytes(picture));
    const canvas = el("canvas", { width: w, height: h });
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
    const offset = k * h * w * c;
    for (let i = 0; i < h * w; i++) {
      let r, g, b;
      if (c === 3) {
        r = data[offset + 3 * i]; g = data[offset + 3 * i + 1]; b = data[offset + 3 * i + 2];
      } else if (colormap) {
        [r, g, b] = colormap(data[offset + i * c] / 255);
      } else {
        r = g = b = data[offset + i * c];
      }
      img.data.set([r, g, b, 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
    const scale = Math.max(1, Math.floor(size / Math.max(h, w)));
    canvas.style.width = w * scale + "px";
    canvas.style.height = h * scale + "px";
    return canvas;
  }
  function heat(t) { // a blue-cyan-yellow-red map, t in [0, 1]
    const stops = [[0, 0, 128], [0, 160, 255], [255, 230, 0], [220, 0, 0]];
    const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1), i = Math.floor(x), f = x - i;
    return stops[i].map((v, j) => Math.round(v + f * (stops[i + 1][j] - v)));
  }
  function overlay(image, heatmap, size) {
    const base = canvasOf(image, 0, size), ctx = base.getContext("2d");
    const cam = canvasOf(heatmap, 0, size, heat);
    ctx.globalAlpha = 0.45;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(cam, 0, 0, base.width, base.height);
    return base;
  }

  // -------------------------------------------------------------------------------- charts
  function niceTicks(lo, hi, count) {
    const span = hi - lo || Math.abs(hi) || 1;
    let step = Math.pow(10, Math.floor(Math.log10(span / count)));
    const err = span / count / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    const ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(v);
    return ticks;
  }
  function label(v) {
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(1) : String(+v.toPrecision(4));
  }
  function thin(points, max) {
    if (points.length <= max) return points;
    const step = points.length / max, out = [];
    for (let i = 0; i < max; i++) out.push(points[Math.floor(i * step)]);
    out.push(points[points.length - 1]);
    return out;
  }
  // series: [{label, color, points: [[x, y]], width, dots, dash}]
  function drawChart(svg, series, xlabel) {
    const W = 440, H = 262, m = { l: 56, r: 12, t: 26, b: 36 };
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    const all = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p[1])));
    svg.dataset.points = String(all.length);
    if (!all.length) {
      svg.append(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty" },
        "no data yet"));
      return;
    }
    let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
    let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
    if (x0 > 0 && x0 <= 1) x0 = 0;
    if (x1 === x0) x1 = x0 + 1;
    const pad = (y1 - y0) * 0.06 || Math.abs(y1) * 0.1 || 0.1;
    y0 -= pad; y1 += pad;
    const sx = (x) => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r);
    const sy = (y) => H - m.b - (y - y0) / (y1 - y0) * (H - m.t - m.b);
    for (const t of niceTicks(y0, y1, 5)) {
      svg.append(svgEl("line", { x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t), class: "grid" }));
      svg.append(svgEl("text", { x: m.l - 6, y: sy(t) + 4, "text-anchor": "end", class: "tick" },
        label(t)));
    }
    for (const t of niceTicks(x0, x1, 6)) {
      svg.append(svgEl("line", { x1: sx(t), x2: sx(t), y1: m.t, y2: H - m.b, class: "grid" }));
      svg.append(svgEl("text", { x: sx(t), y: H - m.b + 15, "text-anchor": "middle",
        class: "tick" }, label(t)));
    }
    svg.append(svgEl("text", { x: (W + m.l) / 2, y: H - 4, "text-anchor": "middle",
      class: "axis" }, xlabel || "epoch"));
    let legendX = m.l;
    for (const s of series) {
      const pts = thin(s.points.filter((p) => Number.isFinite(p[1])), 1500);
      if (!pts.length) continue;
      const d = pts.map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`);
      const path = svgEl("path", { d: d.join(""), fill: "none", stroke: s.color,
        "stroke-width": s.width || 2, class: "series" });
      if (s.dash) path.setAttribute("stroke-dasharray", s.dash);
      if (s.opacity) path.setAttribute("stroke-opacity", s.opacity);
      svg.append(path);
      if (s.dots) {
        for (const p of pts) {
          svg.append(svgEl("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 3, fill: s.color }));
        }
      }
      svg.append(svgEl("rect", { x: legendX, y: 9, width: 14, height: 4, fill: s.color }));
      const text = svgEl("text", { x: legendX + 18, y: 14, class: "legend" }, s.label);
      svg.append(text);
      legendX += 26 + Math.max(40, 5.2 * s.label.length);
    }
  }

  // ------------------------------------------------------------------------------ run page
  function runPage() {
    const runId = body.dataset.run, live = body.dataset.live === "1";
    const api = `/api/runs/${encodeURIComponent(runId)}`;
    const state = { epochs: [], batches: [], cursor: [0, 0], status: null, image: 0,
      classes: [], drawPending: false, refreshTimer: null };

    // Batch logs are running means of the epoch: m_k = (v_0 + ... + v_k)/(k + 1), so each
    // batch's own value is v_k = (k + 1)·m_k − k·m_(k−1); the chart shows them smoothed
    // (exponential moving average, weight 0.9, bias-corrected as TensorBoard does).
    function perBatch(index) {
      const out = [];
      let previous = null, average = 0, weight = 0;
      for (const p of state.batches) {
        const mean = p[index], k = p[3];
        if (!Number.isFinite(mean)) { previous = null; continue; }
        const value = k > 0 && previous !== null ? (k + 1) * mean - k * previous : mean;
        previous = mean;
        average = 0.9 * average + 0.1 * value;
        weight = 0.9 * weight + 0.1;
        out.push([p[0], average / weight]);
      }
      return out;
    }
    function series(key, valKey) {
      const s = [];
      if (state.batches.length) {
        s.push({ label: "train (batches, smoothed)", color: "#9ecae1", width: 1.5,
          points: perBatch(key === "loss" ? 1 : 2) });
      }
      s.push({ label: "train (epochs)", color: COLORS[0], dots: true,
        points: state.epochs.map((r) => [r.epoch, r[key]]) });
      s.push({ label: "validation", color: COLORS[1], dots: true,
        points: state.epochs.map((r) => [r.epoch, r[valKey]]) });
      return s;
    }
    function draw() {
      state.drawPending = false;
      drawChart($("loss-chart"), series("loss", "val_loss"));
      drawChart($("accuracy-chart"), series("accuracy", "val_accuracy"));
      drawChart($("lr-chart"), [{ label: "learning rate", color: COLORS[2], dots: true,
        points: state.epochs.map((r) => [r.epoch, r.lr]) }]);
      const rows = state.epochs.map((r) => el("tr", {}, el("td", {}, r.epoch),
        el("td", {}, fmt(r.loss)), el("td", {}, fmt(r.accuracy)), el("td", {}, fmt(r.val_loss)),
        el("td", {}, fmt(r.val_accuracy)), el("td", {}, fmtLr(r.lr))));
      $("epoch-table").tBodies[0].replaceChildren(...rows);
    }
    function scheduleDraw() {
      if (!state.drawPending) {
        state.drawPending = true;
        requestAnimationFrame(draw);
      }
    }
    function showSummary(s) {
      state.status = s.status;
      state.summary = s;
      const badge = $("status");
      const quiet = Date.now() / 1000 - (s.updated || s.created);
      badge.textContent = s.status === "running" && !live && quiet > 600
        ? `running? no news for ${Math.round(quiet / 60)} min (its process may have stopped)`
        : s.status;
      badge.className = "status " + s.status;
      setText("meta-epochs", s.epochs);
      setText("meta-duration", duration(s.seconds));
      setText("meta-best", fmt(s.best_val_accuracy));
    }
    function fillLayers(layers) {
      const select = $("layer-select");
      if (select.options.length || !layers || !layers.length) return;
      for (const name of layers) {
        select.append(el("option", { value: name }, name));
        $("cam-layer-select").append(el("option", { value: name }, name));
      }
    }

    async function showSamples() {
      const grid = $("sample-grid");
      let data;
      try { data = await getJSON(`${api}/samples`); } catch (e) { message(grid, e.message); return; }
      setText("samples-what", `(${data.what}, weights of the latest ${live ? "batch" : "epoch"})`);
      state.classes = data.class_names;
      const cards = data.probabilities.map((probs, k) => {
        const truth = data.labels ? data.labels[k] : null, guess = data.predicted[k];
        const card = el("div", { class: "sample" + (k === state.image ? " chosen" : "") +
          (truth !== null && truth !== guess ? " wrong" : "") });
        card.append(canvasOf(data.images, k, 84));
        card.append(el("div", { class: "sub" }, truth === null ? `#${k}`
          : `#${k} true: ${data.class_names[truth]}`));
        const order = probs.map((p, c) => [p, c]);
        const shown = order.length > 10 ? order.sort((a, b) => b[0] - a[0]).slice(0, 5) : order;
        for (const [p, c] of shown) {
          const bar = el("span", { class: "bar" });
          bar.style.width = (100 * p).toFixed(1) + "%";
          const row = el("div", { class: "prob" + (c === guess ? " guess" : "") +
            (c === truth ? " truth" : "") }, el("span", { class: "name" }, data.class_names[c]),
          el("span", { class: "track" }, bar), el("span", { class: "value" }, p.toFixed(2)));
          card.append(row);
        }
        card.addEventListener("click", () => chooseImage(k));
        return card;
      });
      grid.replaceChildren(...cards);
      const select = $("image-select");
      if (select.options.length !== cards.length) {
        select.replaceChildren(...data.probabilities.map((_, k) => el("option", { value: k },
          data.labels ? `#${k} (${data.class_names[data.labels[k]]})` : `#${k}`)));
        select.value = String(state.image);
      }
      const classes = $("class-select");
      if (classes.options.length !== data.class_names.length + 1) {
        classes.replaceChildren(el("option", { value: "" }, "predicted"),
          ...data.class_names.map((name, c) => el("option", { value: c }, name)));
      }
    }
    async function showConfusion() {
      const box = $("confusion-matrix");
      let data;
      try { data = await getJSON(`${api}/confusion`); } catch (e) { message(box, e.message); return; }
      setText("confusion-what", `(${data.images} ${data.what}, accuracy ${fmt(data.accuracy)})`);
      const head = el("tr", {}, el("th", { class: "corner" }, "true \\ predicted"),
        ...data.class_names.map((n) => el("th", {}, n)));
      const rows = data.counts.map((row, i) => {
        const total = row.reduce((a, b) => a + b, 0) || 1;
        return el("tr", {}, el("th", {}, data.class_names[i]), ...row.map((count, j) => {
          const cell = el("td", { class: i === j ? "diag" : "" }, count);
          const alpha = count / total;
          cell.style.backgroundColor = i === j ? `rgba(31,119,180,${alpha})`
            : `rgba(214,39,40,${Math.min(1, 2 * alpha)})`;
          if (alpha > 0.55) cell.style.color = "#fff";
          return cell;
        }));
      });
      box.replaceChildren(el("table", { class: "confusion" }, el("thead", {}, head),
        el("tbody", {}, ...rows)));
    }
    async function showInside() {
      const layer = $("layer-select").value, filters = $("filters"), maps = $("maps");
      if (!layer) { message(maps, "this model has no 2-D convolution layer"); return; }
      const q = `layer=${encodeURIComponent(layer)}`;
      try {
        const f = await getJSON(`${api}/filters?${q}`);
        setText("filters-shape", `kernel ${f.kernel_shape.join("×")} (kh, kw, in, out)`);
        filters.replaceChildren(...Array.from({ length: f.filters.shape[0] }, (_, k) =>
          el("figure", {}, canvasOf(f.filters, k, 36), el("figcaption", {}, k))));
      } catch (e) { message(filters, e.message); }
      try {
        const m = await getJSON(`${api}/maps?${q}&image=${state.image}`);
        setText("maps-shape", `output ${m.output_shape.join("×")} for image #${state.image}`);
        maps.replaceChildren(...Array.from({ length: m.maps.shape[0] }, (_, k) =>
          el("figure", {}, canvasOf(m.maps, k, 72), el("figcaption", {}, k))));
        maps.dataset.layer = layer;
      } catch (e) { message(maps, e.message); }
    }
    async function showCam() {
      const box = $("cam"), klass = $("class-select").value, layer = $("cam-layer-select").value;
      try {
        const c = await getJSON(`${api}/gradcam?image=${state.image}` +
          (klass === "" ? "" : `&class=${klass}`) +
          (layer === "" ? "" : `&layer=${encodeURIComponent(layer)}`));
        setText("cam-caption", `image #${state.image}, class ${c.class_name} ` +
          `(p = ${c.probability.toFixed(3)}), layer ${c.layer}` + (c.peak > 0 ? ""
          : " — the heatmap is 0 everywhere: no position speaks for this class here"));
        box.replaceChildren(
          el("figure", {}, canvasOf(c.image, 0, 168), el("figcaption", {}, "image")),
          el("figure", {}, canvasOf(c.heatmap, 0, 168, heat), el("figcaption", {}, "Grad-CAM")),
          el("figure", {}, overlay(c.image, c.heatmap, 168), el("figcaption", {}, "overlay")));
      } catch (e) { message(box, e.message); }
    }
    function chooseImage(k) {
      state.image = k;
      $("image-select").value = String(k);
      document.querySelectorAll(".sample").forEach((n, i) => n.classList.toggle("chosen", i === k));
      showInside();
      showCam();
    }
    async function refreshPictures() {
      await showSamples();
      await showConfusion();
      await showInside();
      await showCam();
    }
    function scheduleRefresh() {
      clearTimeout(state.refreshTimer);
      state.refreshTimer = setTimeout(refreshPictures, 300);
    }

    function connect() {
      const url = `${api}/events?epochs=${state.cursor[0]}&batches=${state.cursor[1]}`;
      const events = new EventSource(url);
      events.onopen = () => setConnection(live ? "live" : "watching the run store", "up");
      events.onerror = () => setConnection(live
        ? "disconnected: the training process has ended (showing its last data)"
        : "reconnecting to the server…", "down");
      events.addEventListener("problem", (ev) => setConnection(JSON.parse(ev.data).error, "down"));
      events.addEventListener("update", async (ev) => {
        const u = JSON.parse(ev.data);
        const statusChanged = state.status !== null && u.summary.status !== state.status;
        state.epochs.push(...u.epoch_rows);
        state.batches.push(...u.batches);
        if (state.batches.length > 40000) state.batches.splice(0, state.batches.length - 40000);
        state.cursor = u.cursor;
        showSummary(u.summary);
        scheduleDraw();
        if (u.epoch_rows.length || statusChanged) {
          if (!$("layer-select").options.length) {
            try {
              const run = await getJSON(api);
              fillLayers(run.conv_layers);
              setText("summary", run.summary);
            } catch (e) { /* keep the page as it is */ }
          }
          scheduleRefresh();
        }
      });
    }

    setInterval(() => { if (state.summary) showSummary(state.summary); }, 30000);
    $("layer-select").addEventListener("change", showInside);
    $("image-select").addEventListener("change", (e) => chooseImage(Number(e.target.value)));
    $("class-select").addEventListener("change", showCam);
    $("cam-layer-select").addEventListener("change", showCam);
    getJSON(api).then((run) => {
      state.epochs = run.epoch_rows;
      state.batches = run.batches;
      state.cursor = [run.epoch_rows.length, run.batch_count];
      showSummary(run);
      fillLayers(run.conv_layers);
      draw();
      refreshPictures();
      connect();
    }).catch((e) => setConnection(e.message, "down"));
  }

  // ----------------------------------------------------------------------------- run list
  function runRow(run) {
    const pick = el("input", { type: "checkbox", class: "pick", value: run.id,
      "aria-label": "compare " + run.name });
    const link = el("a", { href: "/runs/" + encodeURIComponent(run.id) }, run.name);
    const model = run.recipe ? "recipe " + run.recipe : (run.model || "-");
    return el("tr", { "data-run": run.id }, el("td", {}, pick),
      el("td", {}, link, el("div", { class: "sub" }, run.id)),
      el("td", {}, el("span", { class: "status " + run.status }, run.status)),
      el("td", {}, model), el("td", {}, run.dataset || "-"), el("td", {}, run.epochs),
      el("td", {}, fmt(run.best_val_accuracy)), el("td", {}, fmt(run.test_accuracy)),
      el("td", {}, duration(run.seconds)), el("td", {}, when(run.created)));
  }
  function indexPage() {
    const table = $("run-table"), button = $("compare-button");
    const picked = () => [...table.querySelectorAll("input.pick:checked")].map((n) => n.value);
    const update = () => { button.disabled = picked().length < 2; };
    table.addEventListener("change", update);
    button.addEventListener("click", () => {
      window.location.href = "/compare?runs=" + picked().map(encodeURIComponent).join(",");
    });
    const events = new EventSource("/api/events");
    events.onopen = () => setConnection("watching the run store", "up");
    events.onerror = () => setConnection("reconnecting to the server…", "down");
    events.addEventListener("runs", (ev) => {
      const keep = new Set(picked());
      const rows = JSON.parse(ev.data).runs.map(runRow);
      rows.forEach((row) => { const box = row.querySelector("input"); box.checked = keep.has(box.value); });
      table.tBodies[0].replaceChildren(...rows);
      update();
    });
    update();
  }

  // ------------------------------------------------------------------------------ compare
  function comparePage() {
    const ids = body.dataset.runs;
    async function load() {
      const data = await getJSON("/api/compare?runs=" + ids.split(",")
        .map(encodeURIComponent).join(","));
      const pick = (key) => data.runs.map((run, i) => ({ label: run.name,
        color: COLORS[i % COLORS.length], dots: true,
        points: run.epoch_rows.map((r) => [r.epoch, r[key]]) }));
      drawChart($("val-accuracy-chart"), pick("val_accuracy"));
      drawChart($("val-loss-chart"), pick("val_loss"));
      drawChart($("train-loss-chart"), pick("loss"));
    }
    load().catch((e) => setConnection(e.message, "down"));
    const events = new EventSource("/api/events");
    events.onopen = () => setConnection("watching the run store", "up");
    events.addEventListener("runs", () => load().catch(() => {}));
  }

  if (page === "run") runPage();
  else if (page === "index") indexPage();
  else if (page === "compare") comparePage();
})();
