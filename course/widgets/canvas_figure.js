// The browser half of course.widgets.canvas_figure.CanvasFigure (an anywidget ES module).
//
// The kernel sends, as custom messages:
//   {type: "background", key, width, height, px_per_pt, axes: [{left, top, width, height, xlim,
//    ylim, xlog, ylog}]} + [PNG bytes]: a matplotlib figure without its moving parts, and where
//    each axes lies on it (CSS pixels from the top left) with its data limits;
//   {type: "data", items: [{key, dtypes, texts, prefix}]} + the items' arrays, in order: the data
//    of layers at settings (course.widgets.layers describes the parts drawn from them); a
//    prefix serves the first prefix + 1 steps until the whole arrives.
// The controls are linked to this model in the browser (jslink), so a slider step redraws here
// at once from the data already sent; only a setting never sent waits for the kernel. A layer
// with `compute` is computed here, by a function a lecture script registers (registerLayer),
// from `inputs` sent once. After each complete redraw the element's data-frame attribute
// counts up (tests time it), and after a move whose data the browser lacked, data-misses
// (benchmarks count the moves that waited for the kernel). Backgrounds are decoded when they
// arrive, so switching to one draws a bitmap.
//
// Lecture scripts are appended to this module (canvas_figure.module_source): they may use
// registerLayer and the helpers exported below.

const STORES = new Map(); // one per figure (uid): shared by every view of it
const COMPUTED = new Map(); // compute name -> (values, inputs, layer) => {arrays, texts}

function registerLayer(name, compute) {
  COMPUTED.set(name, compute);
}

function storeOf(model) {
  const uid = model.get("uid");
  if (!STORES.has(uid)) {
    // waiting: the keys the last redraws lacked; a message redraws the views only if it brings one
    STORES.set(uid, { backgrounds: new Map(), data: new Map(), last: new Map(), views: new Set(), waiting: new Set() });
  }
  return STORES.get(uid);
}

// the key of a control value; the kernel builds the same (canvas_figure.value_key)
function valueKey(value) {
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return String(Math.round(value * 1e6));
  if (Array.isArray(value)) return value.join("+");
  return String(value);
}

// a control's value; a selection is linked by its index (indices): its option labels
function controlValue(model, trait) {
  const value = model.get(trait);
  const labels = (model.get("control_options") || {})[trait];
  if (!labels || value === null || value === undefined) return value;
  return Array.isArray(value) ? value.map((i) => labels[i]) : labels[value];
}

// {control name: value}, as the kernel names the controls (traits are "c_" + name)
function controlValues(model) {
  const values = {};
  for (const trait of model.get("control_traits")) values[trait.slice(2)] = controlValue(model, trait);
  return values;
}

function layerKey(model, layer) {
  return [layer.name, ...layer.deps.map((d) => valueKey(controlValue(model, d)))].join("|");
}

function backgroundKey(model) {
  return (model.get("background_deps") || []).map((d) => valueKey(controlValue(model, d))).join("|");
}

function floats(buffer, dtype) {
  const view = buffer instanceof DataView ? buffer : new DataView(buffer.buffer || buffer);
  // a copy: the message's bytes need not be aligned for a typed-array view
  const bytes = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength);
  return dtype === "f8" ? new Float64Array(bytes) : new Float32Array(bytes);
}

function onMessage(model, msg, buffers) {
  const store = storeOf(model);
  if (msg.type === "background") {
    const blob = new Blob([buffers[0]], { type: "image/png" });
    const entry = { ...msg, bitmap: null };
    store.backgrounds.set(msg.key, entry);
    // decoded once, when it arrives: switching to it later draws a bitmap, no PNG decoding
    createImageBitmap(blob).then((bitmap) => {
      entry.bitmap = bitmap;
      if (store.waiting.has(`background:${msg.key}`)) for (const redraw of store.views) redraw();
    });
    return;
  }
  if (msg.type !== "data") return;
  let wanted = false;
  let next = 0;
  for (const item of msg.items) {
    const arrays = item.dtypes.map((dtype, i) => floats(buffers[next + i], dtype));
    next += item.dtypes.length;
    store.data.set(item.key, { arrays, texts: item.texts || [], prefix: item.prefix });
    wanted = wanted || store.waiting.has(item.key);
  }
  // data sent ahead is only stored: redrawing for it would hold up the answer to a move
  if (wanted) for (const redraw of store.views) redraw();
}

// ----- from data to pixels ------------------------------------------------------------------
function fraction(v, lim, log) {
  return log ? (Math.log10(v) - Math.log10(lim[0])) / (Math.log10(lim[1]) - Math.log10(lim[0]))
             : (v - lim[0]) / (lim[1] - lim[0]);
}

// a point in CSS pixels; xcoords/ycoords "axes" take that coordinate as a fraction of the axes
function toPixel(ax, x, y, xcoords = "data", ycoords = "data") {
  const fx = xcoords === "axes" ? x : fraction(x, ax.xlim, ax.xlog);
  const fy = ycoords === "axes" ? y : fraction(y, ax.ylim, ax.ylog);
  return [ax.left + fx * ax.width, ax.top + (1 - fy) * ax.height];
}

function colourOf(value, layerColour) {
  return value === "layer" ? layerColour : value;
}

// markers of one style at every point: one path, filled and stroked once
function drawMarkers(ctx, points, spec, colour, ppt) {
  const face = colourOf(spec.face, colour);
  const edge = colourOf(spec.edge, colour);
  const half = (spec.size * ppt) / 2;
  ctx.beginPath();
  for (const [px, py] of points) {
    if (spec.shape === "s") {
      ctx.rect(px - half, py - half, 2 * half, 2 * half);
    } else {
      ctx.moveTo(px + half, py);
      ctx.arc(px, py, half, 0, 2 * Math.PI);
    }
  }
  if (face) { ctx.fillStyle = face; ctx.fill(); }
  if (edge) { ctx.strokeStyle = edge; ctx.lineWidth = spec.width * ppt; ctx.setLineDash([]); ctx.stroke(); }
}

function drawLine(ctx, ax, values, part, colour, count, ppt) {
  const points = [];
  const available = part.xy ? values.length / 2 : values.length;
  const limit = part.steps ? Math.min(count, available) : available;
  for (let i = 0; i < limit; i++) {
    const x = part.xy ? values[2 * i] : part.x0 + part.dx * i;
    const y = part.xy ? values[2 * i + 1] : values[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) break; // diverged: the line ends here
    points.push(toPixel(ax, x, y, part.xcoords, part.ycoords));
  }
  if (!points.length) return;
  colour = part.color || colour;
  ctx.save();
  ctx.beginPath();
  ctx.rect(ax.left, ax.top, ax.width, ax.height);
  ctx.clip();
  ctx.globalAlpha = part.alpha === undefined ? 1 : part.alpha;
  ctx.lineJoin = "round";
  if (part.fill !== null && part.fill !== undefined) {
    const base = toPixel(ax, 0, part.base, part.xcoords, part.ycoords)[1];
    ctx.beginPath();
    ctx.moveTo(points[0][0], base);
    for (const [px, py] of points) ctx.lineTo(px, py);
    ctx.lineTo(points[points.length - 1][0], base);
    ctx.closePath();
    ctx.globalAlpha = part.fill;
    ctx.fillStyle = colour;
    ctx.fill();
    ctx.globalAlpha = part.alpha === undefined ? 1 : part.alpha;
  }
  if (part.lw) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = part.lw * ppt;
    ctx.setLineDash(part.dash ? part.dash.map((d) => d * ppt) : []);
    ctx.beginPath();
    points.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
    ctx.stroke();
  }
  if (part.marker) drawMarkers(ctx, points, part.marker, colour, ppt);
  if (part.end) drawMarkers(ctx, points.slice(-1), part.end, colour, ppt);
  ctx.restore();
}

function drawText(ctx, ax, texts, part, ppt) {
  const entry = texts[part.text];
  if (entry === undefined || entry === null) return;
  const string = typeof entry === "object" ? entry.text : String(entry);
  const colour = (typeof entry === "object" && entry.color) || part.color;
  const size = part.size * ppt;
  const lines = string.split("\n");
  const height = size * 1.2;
  ctx.save();
  ctx.font = `${part.weight === "bold" ? "bold " : ""}${size}px "DejaVu Sans", "Bitstream Vera Sans", sans-serif`;
  const [px, py] = part.coords === "axes" ? toPixel(ax, part.x, part.y, "axes", "axes") : toPixel(ax, part.x, part.y);
  const block = height * lines.length;
  const top = part.va === "top" ? py : part.va === "bottom" ? py - block : py - block / 2;
  ctx.textAlign = part.ha === "center" ? "center" : part.ha === "right" ? "right" : "left";
  ctx.textBaseline = "middle";
  if (part.box) {
    const width = Math.max(...lines.map((l) => ctx.measureText(l).width));
    const left = part.ha === "center" ? px - width / 2 : part.ha === "right" ? px - width : px;
    const pad = 0.3 * size;
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.strokeStyle = "#cccccc";
    ctx.lineWidth = 1;
    ctx.fillRect(left - pad, top - pad, width + 2 * pad, block + 2 * pad);
    ctx.strokeRect(left - pad, top - pad, width + 2 * pad, block + 2 * pad);
  }
  ctx.fillStyle = colour;
  lines.forEach((line, i) => ctx.fillText(line, px, top + height * (i + 0.5)));
  ctx.restore();
}

function hexColour(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

// an RGBA picture (height x width, values in [0, 1]) drawn over its extent, pixel for pixel
function drawPicture(ctx, ax, rgba, width, height, extent) {
  const picture = new ImageData(width, height);
  for (let i = 0; i < width * height * 4; i++) picture.data[i] = Math.round(Math.min(Math.max(rgba[i], 0), 1) * 255);
  const off = document.createElement("canvas");
  off.width = width;
  off.height = height;
  off.getContext("2d").putImageData(picture, 0, 0);
  const [x0, y0] = toPixel(ax, extent[0], extent[3]);
  const [x1, y1] = toPixel(ax, extent[1], extent[2]);
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0));
  ctx.restore();
}

function drawCells(ctx, ax, values, part) {
  const rgba = new Float32Array(part.rows * part.cols * 4);
  const n = part.cmap.length;
  for (let i = 0; i < part.rows * part.cols; i++) {
    const t = (values[i] - part.vmin) / (part.vmax - part.vmin);
    const [r, g, b] = hexColour(part.cmap[Math.min(n - 1, Math.max(0, Math.floor(t * n)))]);
    rgba.set([r / 255, g / 255, b / 255, 1], 4 * i);
  }
  drawPicture(ctx, ax, rgba, part.cols, part.rows, part.extent);
}

function drawLegend(ctx, ax, entries, legend, ppt) {
  if (!ax || !entries.length) return;
  ctx.save();
  const size = (legend.size || 8) * ppt;
  ctx.font = `${size}px "DejaVu Sans", sans-serif`;
  const width = 34 + Math.max(...entries.map((e) => ctx.measureText(e.label).width));
  const row = size * 1.4;
  const right = (legend.loc || "").includes("right");
  const x = right ? ax.left + ax.width - 6 - width : ax.left + 6;
  const y = ax.top + 6;
  ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
  ctx.strokeStyle = "#cccccc";
  ctx.lineWidth = 1;
  ctx.fillRect(x, y, width, row * entries.length + 6);
  ctx.strokeRect(x + 0.5, y + 0.5, width, row * entries.length + 6);
  entries.forEach((entry, i) => {
    const cy = y + 3 + row * i + row / 2;
    ctx.strokeStyle = entry.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x + 6, cy);
    ctx.lineTo(x + 26, cy);
    ctx.stroke();
    ctx.fillStyle = "#222222";
    ctx.textBaseline = "middle";
    ctx.fillText(entry.label, x + 30, cy);
  });
  ctx.restore();
}

function drawPart(ctx, background, part, data, layer, count) {
  const ax = background.axes[part.axes];
  const ppt = background.px_per_pt || 1;
  if (part.kind === "line") drawLine(ctx, ax, data.arrays[part.array], part, layer.color, count, ppt);
  else if (part.kind === "text") drawText(ctx, ax, data.texts, part, ppt);
  else if (part.kind === "cells") drawCells(ctx, ax, data.arrays[part.array], part);
  else if (part.kind === "image") drawPicture(ctx, ax, data.arrays[part.array], part.width, part.height, part.extent);
}

// a layer's data now: computed here, sent by the kernel, or (waiting for the kernel) what it showed last
function layerData(model, store, layer, bgKey, count) {
  if (layer.compute) {
    const inputs = store.data.get(layer.inputs);
    const compute = COMPUTED.get(layer.compute);
    if (!inputs || !compute) {
      store.waiting.add(layer.inputs);
      return { data: null, complete: false };
    }
    return { data: compute(controlValues(model), inputs, layer), complete: true };
  }
  const lastKey = `${layer.name}@${bgKey}`;
  const key = layerKey(model, layer);
  const data = store.data.get(key);
  if (data) {
    store.last.set(lastKey, data);
    // a prefix (sent at once to a person waiting) serves as many steps as it has
    const enough = data.prefix === null || data.prefix === undefined || count <= data.prefix + 1;
    if (!enough) store.waiting.add(key);
    return { data, complete: enough };
  }
  store.waiting.add(key);
  return { data: store.last.get(lastKey) || null, complete: false };
}

function initialize({ model }) {
  const handler = (msg, buffers) => onMessage(model, msg, buffers);
  model.on("msg:custom", handler);
  model.send({ type: "ready" }); // the kernel answers with the backgrounds and the data
  return () => model.off("msg:custom", handler);
}

function render({ model, el }) {
  const store = storeOf(model);
  el.classList.add("course-canvas-figure");
  const box = document.createElement("div");
  box.style.position = "relative";
  const back = document.createElement("canvas"); // the background, drawn from a decoded bitmap
  back.className = "course-canvas-background";
  back.style.display = "block";
  const canvas = document.createElement("canvas");
  canvas.className = "course-canvas-overlay";
  Object.assign(canvas.style, { position: "absolute", left: "0", top: "0" });
  box.append(back, canvas);
  el.append(box);
  const ctx = canvas.getContext("2d");
  let frames = 0;
  let misses = 0;
  let shownBackground = null;

  // draws what the browser has; returns whether that was everything the controls ask for
  const redraw = () => {
    store.waiting.clear();
    const bgKey = backgroundKey(model);
    const background = store.backgrounds.get(bgKey);
    if (!background || !background.bitmap) {
      store.waiting.add(`background:${bgKey}`); // asked for: it comes with the kernel's answer
      return false;
    }
    const { width, height } = background;
    const ratio = window.devicePixelRatio || 1;
    for (const c of [back, canvas]) {
      if (c.width !== Math.round(width * ratio) || c.height !== Math.round(height * ratio)) {
        c.width = Math.round(width * ratio);
        c.height = Math.round(height * ratio);
        Object.assign(c.style, { width: `${width}px`, height: `${height}px` });
        if (c === back) shownBackground = null;
      }
    }
    if (shownBackground !== background) {
      const bctx = back.getContext("2d");
      bctx.clearRect(0, 0, back.width, back.height);
      bctx.drawImage(background.bitmap, 0, 0, back.width, back.height);
      shownBackground = background;
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const visibleTrait = model.get("visible_control");
    const visible = visibleTrait ? controlValue(model, visibleTrait) || [] : null;
    const stepsTrait = model.get("steps_control");
    const count = stepsTrait ? Number(controlValue(model, stepsTrait)) + 1 : Infinity;
    const legend = model.get("legend") || {};
    const entries = [];
    let complete = true;
    for (const layer of model.get("layers")) {
      if (visible && !visible.includes(layer.name)) continue;
      const { data, complete: done } = layerData(model, store, layer, bgKey, count);
      complete = complete && done;
      if (legend.axes !== undefined && layer.legend !== false) entries.push({ label: layer.name, color: layer.color });
      if (!data) continue;
      for (const part of layer.parts) drawPart(ctx, background, part, data, layer, count);
    }
    if (legend.axes !== undefined) drawLegend(ctx, background.axes[legend.axes], entries, legend, background.px_per_pt || 1);
    if (complete) {
      frames += 1;
      el.dataset.frame = String(frames);
    }
    return complete;
  };
  const moved = () => {
    if (!redraw()) {
      misses += 1;
      el.dataset.misses = String(misses);
    }
  };

  store.views.add(redraw);
  const names = ["layers", "background_deps", "visible_control", "steps_control"];
  for (const name of model.get("control_traits")) names.push(name);
  for (const name of names) model.on(`change:${name}`, moved);
  redraw();
  return () => {
    store.views.delete(redraw);
    for (const name of names) model.off(`change:${name}`, moved);
  };
}

export default { initialize, render };
// for the tests, and for lecture scripts appended to this module
export { valueKey, layerKey, toPixel, controlValues, registerLayer, COMPUTED };
