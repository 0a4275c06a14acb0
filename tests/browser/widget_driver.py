"""Driving an interactive figure (:mod:`course.widgets`) in JupyterLab, and loading its browser module.

The live figure is a canvas figure (:mod:`course.widgets.canvas_figure`: a background canvas
under a ``<canvas>`` the browser draws the layers on) or an ipywidgets ``Image`` (an ``<img>``,
:mod:`course.widgets.image_figure`) under its controls. A probe installed in the
page records, for every change a person makes (a key press on a slider, a new choice in a
drop-down), the time from that input event to the moment the new figure is on screen
(``performance.now()`` at the input event; a ``MutationObserver`` on the image's ``src``
then ``img.decode()``, or on the canvas figure's ``data-frame`` count, which it raises
after a complete redraw; then the next animation frame). Nothing is timed in Python or in
the kernel.
"""
from __future__ import annotations

import base64
import io
import re
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
from PIL import Image

if TYPE_CHECKING:  # playwright is imported by the fixtures, once Chromium is known to be there
    from playwright.sync_api import BrowserContext, Locator, Page


def load_module(context: "BrowserContext", scripts: Sequence[Path] = ()) -> "Page":
    """A blank page with the canvas figure's browser module (and ``scripts``) imported, its named
    exports on ``window.figure``: to call the browser's functions from a test."""
    from course.widgets.canvas_figure import module_source

    code = base64.b64encode(module_source(scripts).encode()).decode()
    page = context.new_page()
    page.set_content("<html><body></body></html>")
    page.evaluate(f"async () => {{ window.figure = await import('data:text/javascript;base64,{code}'); }}")
    return page

_PROBE_JS = """
(root) => {
  if (root.__latencyProbe) return;
  const probe = {pending: null, samples: [], updates: 0};
  root.__latencyProbe = probe;
  const start = () => { if (probe.pending === null) probe.pending = performance.now(); };
  root.addEventListener('keydown', start, true);
  root.addEventListener('change', start, true);
  root.addEventListener('pointerdown', start, true);
  const shown = (t0, ready) => ready.then(() => requestAnimationFrame(() => {
    if (t0 !== null) probe.samples.push(performance.now() - t0);
    probe.updates += 1;
  }));
  new MutationObserver(mutations => {
    for (const m of mutations) {
      if (m.type !== 'attributes') continue;
      const canvasFrame = m.attributeName === 'data-frame';
      const image = m.attributeName === 'src' && m.target.tagName === 'IMG';
      if (!canvasFrame && !image) continue;
      const t0 = probe.pending;
      probe.pending = null;
      shown(t0, image ? m.target.decode().catch(() => null) : Promise.resolve());
    }
  }).observe(root, {attributes: true, attributeFilter: ['src', 'data-frame'], subtree: true});
}
"""

#: the bytes of the PNG the figure shows now, base64: an image's blob URL fetched in the
#: page, or a canvas figure's background and layers drawn together
_PNG_JS = """
async (el) => {
  if (el.classList.contains('course-canvas-figure')) {
    const back = el.querySelector('canvas.course-canvas-background');
    const canvas = el.querySelector('canvas.course-canvas-overlay');
    const out = document.createElement('canvas');
    out.width = canvas.width;
    out.height = canvas.height;
    const ctx = out.getContext('2d');
    ctx.drawImage(back, 0, 0, canvas.width, canvas.height);
    ctx.drawImage(canvas, 0, 0);
    return out.toDataURL('image/png').split(',')[1];
  }
  const img = el;
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
"""


class InteractiveFigure:
    """One live interactive figure in the page: its output area, controls and image."""

    def __init__(self, page: Page, output: Locator):
        self.page, self.output = page, output
        canvas = output.locator(".course-canvas-figure")
        self.image = canvas.last if canvas.count() else output.locator(".widget-image, img").last
        self._toggles = 0
        output.evaluate(_PROBE_JS)

    # ----- finding it -------------------------------------------------------------------
    @classmethod
    def find(cls, page: Page, *labels: str) -> "InteractiveFigure":
        """The first cell output with, for each of ``labels`` (regular expressions), a control whose
        label matches it."""
        outputs = page.locator(".jp-OutputArea-output",
                               has=page.locator(".widget-image, .jupyter-widgets img, .course-canvas-figure"))
        for i in range(outputs.count()):
            output = outputs.nth(i)
            names = [name.strip() for name in output.locator(".widget-label").all_inner_texts()]
            if all(any(re.search(label, name, re.IGNORECASE) for name in names) for label in labels):
                return cls(page, output)
        raise LookupError(f"no interactive figure with controls {labels}")

    def control(self, label: str) -> Locator:
        """The widget box (``.widget-inline-hbox`` and friends) whose label matches ``label``."""
        boxes = self.output.locator(".widget-inline-hbox, .widget-hbox")
        for i in range(boxes.count()):
            box = boxes.nth(i)
            label_el = box.locator(":scope > .widget-label")
            if label_el.count() and re.search(label, label_el.first.inner_text().strip(), re.IGNORECASE):
                return box
        raise LookupError(f"no control labelled {label!r}")

    # ----- what it shows ----------------------------------------------------------------
    def png(self) -> bytes:
        """The PNG the figure shows now, as the browser shows it."""
        return base64.b64decode(self.image.evaluate(_PNG_JS))

    @property
    def updates(self) -> int:
        return self.output.evaluate("root => root.__latencyProbe.updates")

    @property
    def misses(self) -> int:
        """How many moves found data missing in the browser (they waited for the kernel)."""
        return int(self.image.evaluate("el => Number(el.dataset.misses || 0)"))

    def latencies_ms(self) -> list[float]:
        return self.output.evaluate("root => root.__latencyProbe.samples.slice()")

    def _wait_for_update(self, before: int, timeout: float) -> None:
        self.page.wait_for_function(
            "([root, before]) => root.__latencyProbe.updates > before",
            arg=[self.output.element_handle(), before], timeout=timeout * 1000, polling="raf")

    # ----- changing it, as a person would ---------------------------------------------
    def press_slider(self, label: str, key: str = "ArrowRight", timeout: float = 30.0) -> None:
        """Focus the slider's handle and press ``key`` once; wait for the new figure."""
        handle = self.control(label).locator(".noUi-handle, .ui-slider-handle").first
        handle.focus()
        before = self.updates
        self.page.keyboard.press(key)
        self._wait_for_update(before, timeout)

    def choose(self, label: str, timeout: float = 30.0) -> list[str]:
        """Change a drop-down or a multiple selection as a person would; returns the new choice.

        A drop-down moves to its next option. A multiple selection toggles its options in
        turn, one per call (first call: the first option), never leaving it empty.
        """
        select = self.control(label).locator("select").first
        options = [text.strip() for text in select.locator("option").all_inner_texts()]
        current = select.evaluate("s => Array.from(s.selectedOptions).map(o => o.text.trim())")
        if select.evaluate("s => s.multiple"):
            while True:
                option = options[self._toggles % len(options)]
                self._toggles += 1
                if option not in current or len(current) > 1:
                    break
            choice = [o for o in options if (o in current) != (o == option)]
        else:
            position = options.index(current[0]) if current else -1
            choice = [options[(position + 1) % len(options)]]
        before = self.updates
        select.select_option(label=choice)
        self._wait_for_update(before, timeout)
        return choice


def pixels(png: bytes) -> np.ndarray:
    """The PNG decoded to an RGBA array (height, width, 4)."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def differing_pixels(png_a: bytes, png_b: bytes) -> float:
    """Fraction of pixels that differ between two PNGs (1.0 when their sizes differ)."""
    a, b = pixels(png_a), pixels(png_b)
    if a.shape != b.shape:
        return 1.0
    return float(np.any(a != b, axis=-1).mean())


def summary(samples_ms: list[float]) -> tuple[float, float]:
    """Median and 90th percentile of the samples, in ms."""
    ordered = sorted(samples_ms)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return statistics.median(ordered), p90
