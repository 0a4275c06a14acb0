// Lecture 5's augmentation explorer, computed in the browser (appended to canvas_figure.js).
//
// The kernel sends once: the original images (N, C, H, W), the uniform draws of every
// transform (course.widgets.augmentation.draws) and where each image sits in the grid. For
// the sliders' strengths the browser applies what course.widgets.augmentation.augment_with
// applies in torch: hflip, reflect padding and crop, the affine map (grid_sample, bilinear,
// zeros outside, align_corners=False), brightness, contrast, saturation, hue (YIQ), clipping.

const YIQ = [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]];

function invert3(m) {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [[(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
          [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
          [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det]];
}

const YIQ_INVERSE = invert3(YIQ);

function matmul3(a, b) {
  return a.map((row) => [0, 1, 2].map((j) => row[0] * b[0][j] + row[1] * b[1][j] + row[2] * b[2][j]));
}

// torch's reflect padding: the edge is not repeated
function reflect(k, size) {
  if (k < 0) return -k;
  if (k >= size) return 2 * (size - 1) - k;
  return k;
}

// the affine map's sampling grid, as course.augment.affine builds theta for affine_grid
function affineTheta(angle, tx, ty, scale, shear, width, height) {
  const a = (angle * Math.PI) / 180;
  const s = Math.tan((shear * Math.PI) / 180);
  const [cos, sin] = [Math.cos(a), Math.sin(a)];
  // forward = R(angle) · Shear · scale, R = [[cos, sin], [-sin, cos]], Shear = [[1, s], [0, 1]]
  const f = [[cos * scale, (cos * s + sin) * scale], [-sin * scale, (-sin * s + cos) * scale]];
  const det = f[0][0] * f[1][1] - f[0][1] * f[1][0];
  const inv = [[f[1][1] / det, -f[0][1] / det], [-f[1][0] / det, f[0][0] / det]];
  const d = [width / 2, height / 2];
  const lin = [[inv[0][0], inv[0][1] * (d[1] / d[0])], [inv[1][0] * (d[0] / d[1]), inv[1][1]]];
  const shift = [-(lin[0][0] * 2 * tx + lin[0][1] * 2 * ty), -(lin[1][0] * 2 * tx + lin[1][1] * 2 * ty)];
  return [[lin[0][0], lin[0][1], shift[0]], [lin[1][0], lin[1][1], shift[1]]];
}

// one image (C x H x W, Float64Array) through every transform; i: its index in the draws
function augmentImage(image, i, geometry, draws, s) {
  const { n, channels: C, height: H, width: W } = geometry;
  const u = (array, row) => array[row * n + i];
  // flip, then reflect-pad and crop: out(y, x) = in(reflect(y + top - p), reflect(x + left - p))
  const flip = draws.flip[i] < s.flip;
  const p = Math.round(s.padding);
  const top = u(draws.crop, 2 * p) - p;
  const left = u(draws.crop, 2 * p + 1) - p;
  const cropped = new Float64Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      const sy = reflect(y + top, H);
      for (let x = 0; x < W; x++) {
        let sx = reflect(x + left, W);
        if (flip) sx = W - 1 - sx;
        cropped[(c * H + y) * W + x] = image[(c * H + sy) * W + sx];
      }
    }
  }
  // affine: uniform(-d, d) = -d + 2d·u, as course.augment.uniform draws it
  const spread = (value, row) => -value + 2 * value * u(draws.affine, row);
  const theta = affineTheta(spread(s.degrees, 0), spread(s.translate, 1), spread(s.translate, 2),
                            1 - s.zoom + 2 * s.zoom * u(draws.affine, 3), spread(s.shear, 4), W, H);
  const out = new Float64Array(C * H * W);
  const plane = H * W;
  for (let y = 0; y < H; y++) {
    const yn = (2 * y + 1) / H - 1;
    for (let x = 0; x < W; x++) {
      const xn = (2 * x + 1) / W - 1;
      const ix = ((theta[0][0] * xn + theta[0][1] * yn + theta[0][2] + 1) * W - 1) / 2;
      const iy = ((theta[1][0] * xn + theta[1][1] * yn + theta[1][2] + 1) * H - 1) / 2;
      const x0 = Math.floor(ix);
      const y0 = Math.floor(iy);
      const wx = ix - x0;
      const wy = iy - y0;
      // the four neighbours' weights, zero for those outside the image (zeros padding)
      const inX0 = x0 >= 0 && x0 < W;
      const inX1 = x0 + 1 >= 0 && x0 + 1 < W;
      const inY0 = y0 >= 0 && y0 < H;
      const inY1 = y0 + 1 >= 0 && y0 + 1 < H;
      const w00 = inY0 && inX0 ? (1 - wy) * (1 - wx) : 0;
      const w01 = inY0 && inX1 ? (1 - wy) * wx : 0;
      const w10 = inY1 && inX0 ? wy * (1 - wx) : 0;
      const w11 = inY1 && inX1 ? wy * wx : 0;
      const k00 = y0 * W + x0;
      const at = y * W + x;
      for (let c = 0; c < C; c++) {
        const base = c * plane + k00;
        let value = 0;
        if (w00) value += w00 * cropped[base];
        if (w01) value += w01 * cropped[base + 1];
        if (w10) value += w10 * cropped[base + W];
        if (w11) value += w11 * cropped[base + W + 1];
        out[c * plane + at] = value;
      }
    }
  }
  // colour jitter, factor by factor: U(1 - v, 1 + v) = 1 - v + 2v·u
  const factor = (value, row) => 1 - value + 2 * value * u(draws.colour, row);
  const grey = (k) => (C === 1 ? out[k] : YIQ[0][0] * out[k] + YIQ[0][1] * out[H * W + k] + YIQ[0][2] * out[2 * H * W + k]);
  if (s.brightness) {
    const f = factor(s.brightness, 0);
    for (let k = 0; k < out.length; k++) out[k] *= f;
  }
  if (s.contrast) {
    let mean = 0;
    for (let k = 0; k < H * W; k++) mean += grey(k);
    mean /= H * W;
    const f = factor(s.contrast, 1);
    for (let k = 0; k < out.length; k++) out[k] = mean + f * (out[k] - mean);
  }
  if (s.saturation && C === 3) {
    const f = factor(s.saturation, 2);
    for (let k = 0; k < H * W; k++) {
      const g = grey(k);
      for (let c = 0; c < 3; c++) out[c * H * W + k] = g + f * (out[c * H * W + k] - g);
    }
  }
  if (s.hue && C === 3) {
    const angle = (-s.hue + 2 * s.hue * u(draws.colour, 3)) * 2 * Math.PI;
    const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
    const m = matmul3(matmul3(YIQ_INVERSE, [[1, 0, 0], [0, cos, -sin], [0, sin, cos]]), YIQ);
    for (let k = 0; k < H * W; k++) {
      const rgb = [out[k], out[H * W + k], out[2 * H * W + k]];
      for (let c = 0; c < 3; c++) out[c * H * W + k] = m[c][0] * rgb[0] + m[c][1] * rgb[1] + m[c][2] * rgb[2];
    }
  }
  for (let k = 0; k < out.length; k++) out[k] = out[k] < 0 ? 0 : out[k] > 1 ? 1 : out[k];
  return out;
}

// the images at strengths s, tiled as an RGBA grid (rows x cols x 4; gaps transparent)
function augmentGrid(inputs, geometry, s) {
  const [images, flip, crop, affine, colour, corners] = inputs.arrays;
  const { n, channels: C, height: H, width: W, rows, cols } = geometry;
  const draws = { flip, crop, affine, colour };
  const grid = new Float32Array(rows * cols * 4);
  for (let i = 0; i < n; i++) {
    const out = augmentImage(images.subarray(i * C * H * W, (i + 1) * C * H * W), i, geometry, draws, s);
    const [top, left] = [corners[2 * i], corners[2 * i + 1]];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const at = ((top + y) * cols + left + x) * 4;
        for (let c = 0; c < 3; c++) grid[at + c] = out[((C === 3 ? c : 0) * H + y) * W + x];
        grid[at + 3] = 1;
      }
    }
  }
  return grid;
}

registerLayer("augment", (values, inputs, layer) => {
  const s = {};
  for (const name of ["flip", "padding", "degrees", "translate", "zoom", "shear", "brightness", "contrast",
                      "saturation", "hue"]) s[name] = Number(values[name]);
  return { arrays: [augmentGrid(inputs, layer.geometry, s)], texts: [] };
});

export { augmentGrid };
