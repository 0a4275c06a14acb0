// The browser half of course.canvas_figure.CanvasFigure (an anywidget ES module).
//
// The kernel sends, as custom messages:
//   {type: "background", key, width, height, axes: [{left, top, width, height, xlim, ylim,
//    xlog, ylog}]} + [PNG bytes]: a matplotlib figure without its moving lines, and where
//    each axes lies on it (CSS pixels from the top left) with its data limits;
//   {type: "data", key} + [float32 arrays]: the arrays of one layer for one setting.
// The controls are linked to this model in the browser (jslink), so a slider step redraws
// here at once from the cached arrays; only a setting never seen before waits for the kernel.
// After each complete redraw the element's data-frame attribute counts up (tests time it).

const STORES = new Map(); // one per figure (uid): shared by every view of it

function storeOf(model) {
  const uid = model.get("uid");
  if (!STORES.has(uid)) {
    STORES.set(uid, { backgrounds: new Map(), data: new Map(), last: new Map(), views: new Set() });
  }
  return STORES.get(uid);
}

// the key of a control value; the kernel builds the same (canvas_figure.value_key)
function valueKey(value) {
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

function layerKey(model, layer) {
  return [layer.name, ...layer.deps.map((d) => valueKey(controlValue(model, d)))].join("|");
}

function floats(buffer) {
  const view = buffer instanceof DataView ? buffer : new DataView(buffer.buffer || buffer);
  // a copy: the message's bytes need not be aligned for a Float32Array view
  return new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

function onMessage(model, msg, buffers) {
  const store = storeOf(model);
  if (msg.type === "background") {
    const blob = new Blob([buffers[0]], { type: "image/png" });
    const old = store.backgrounds.get(msg.key);
    if (old) URL.revokeObjectURL(old.url);
    store.backgrounds.set(msg.key, { ...msg, url: URL.createObjectURL(blob) });
  } else if (msg.type === "data") {
    store.data.set(msg.key, buffers.map(floats));
  } else {
    return;
  }
  for (const redraw of store.views) redraw();
}

function toPixel(ax, x, y) {
  const frac = (v, lim, log) => (log ? (Math.log10(v) - Math.log10(lim[0])) / (Math.log10(lim[1]) - Math.log10(lim[0]))
                                     : (v - lim[0]) / (lim[1] - lim[0]));
  return [ax.left + frac(x, ax.xlim, ax.xlog) * ax.width, ax.top + (1 - frac(y, ax.ylim, ax.ylog)) * ax.height];
}

function drawPart(ctx, ax, values, part, color, count) {
  const points = [];
  const available = part.kind === "xy" ? values.length / 2 : values.length;
  for (let i = 0; i < Math.min(count, available); i++) {
    const x = part.kind === "xy" ? values[2 * i] : i;
    const y = part.kind === "xy" ? values[2 * i + 1] : values[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) break; // diverged: the path ends here
    points.push(toPixel(ax, x, y));
  }
  if (!points.length) return;
  ctx.save();
  ctx.beginPath();
  ctx.rect(ax.left, ax.top, ax.width, ax.height);
  ctx.clip();
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = part.lw || 1.5;
  ctx.lineJoin = "round";
  ctx.beginPath();
  points.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
  ctx.stroke();
  if (part.marker) {
    for (const [px, py] of points) {
      ctx.beginPath();
      ctx.arc(px, py, part.marker, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  if (part.end) {
    const [px, py] = points[points.length - 1];
    ctx.beginPath();
    ctx.arc(px, py, part.end, 0, 2 * Math.PI);
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = "white";
    ctx.stroke();
  }
  ctx.restore();
}

function drawLegend(ctx, ax, layers) {
  if (!ax || !layers.length) return;
  ctx.save();
  ctx.font = "11px sans-serif";
  const width = 34 + Math.max(...layers.map((l) => ctx.measureText(l.name).width));
  const row = 15;
  const [x, y] = [ax.left + 6, ax.top + 6];
  ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
  ctx.strokeStyle = "#cccccc";
  ctx.lineWidth = 1;
  ctx.fillRect(x, y, width, row * layers.length + 6);
  ctx.strokeRect(x + 0.5, y + 0.5, width, row * layers.length + 6);
  layers.forEach((layer, i) => {
    const cy = y + 3 + row * i + row / 2;
    ctx.strokeStyle = layer.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x + 6, cy);
    ctx.lineTo(x + 26, cy);
    ctx.stroke();
    ctx.fillStyle = "#222222";
    ctx.textBaseline = "middle";
    ctx.fillText(layer.name, x + 30, cy);
  });
  ctx.restore();
}

function initialize({ model }) {
  const handler = (msg, buffers) => onMessage(model, msg, buffers);
  model.on("msg:custom", handler);
  model.send({ type: "ready" }); // the kernel answers with the background and the data
  return () => model.off("msg:custom", handler);
}

function render({ model, el }) {
  const store = storeOf(model);
  el.classList.add("course-canvas-figure");
  const box = document.createElement("div");
  box.style.position = "relative";
  const img = document.createElement("img");
  img.className = "course-canvas-background";
  img.style.display = "block";
  const canvas = document.createElement("canvas");
  canvas.className = "course-canvas-overlay";
  Object.assign(canvas.style, { position: "absolute", left: "0", top: "0" });
  box.append(img, canvas);
  el.append(box);
  const ctx = canvas.getContext("2d");
  let frames = 0;

  const redraw = () => {
    const bgKey = valueKey(controlValue(model, model.get("background_control")));
    const background = store.backgrounds.get(bgKey);
    if (!background) return; // asked for: it comes with the kernel's answer
    const { width, height } = background;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      Object.assign(canvas.style, { width: `${width}px`, height: `${height}px` });
      Object.assign(img.style, { width: `${width}px`, height: `${height}px` });
    }
    let loading = null;
    if (img.dataset.key !== bgKey) {
      img.src = background.url;
      img.dataset.key = bgKey;
      loading = img.decode().catch(() => null);
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const visible = controlValue(model, model.get("visible_control")) || [];
    const count = Number(controlValue(model, model.get("steps_control"))) + 1;
    const shown = [];
    let complete = true;
    for (const layer of model.get("layers")) {
      if (!visible.includes(layer.name)) continue;
      let arrays = store.data.get(layerKey(model, layer));
      const lastKey = `${layer.name}@${bgKey}`;
      if (arrays) {
        store.last.set(lastKey, arrays);
      } else {
        complete = false; // until the kernel's answer: what this layer showed last
        arrays = store.last.get(lastKey);
      }
      shown.push(layer);
      if (!arrays) continue;
      for (const part of layer.parts) {
        drawPart(ctx, background.axes[part.axes], arrays[part.array], part, layer.color, count);
      }
    }
    drawLegend(ctx, background.axes[model.get("legend_axes")], shown);
    if (complete) {
      const mark = () => { frames += 1; el.dataset.frame = String(frames); };
      if (loading) loading.then(mark); else mark();
    }
  };

  store.views.add(redraw);
  const names = ["layers", "background_control", "visible_control", "steps_control"];
  for (const name of model.get("control_traits")) names.push(name);
  for (const name of names) model.on(`change:${name}`, redraw);
  redraw();
  return () => {
    store.views.delete(redraw);
    for (const name of names) model.off(`change:${name}`, redraw);
  };
}

export default { initialize, render };
export { valueKey, layerKey, toPixel }; // for the tests
