"""Live figures whose moving lines are drawn by the browser, not re-rendered by the kernel.

An image of the whole figure per slider step (:mod:`course.widgets`) costs a kernel round
trip, a render and an image transfer: 100-300 ms in a browser on a small machine. Here
matplotlib renders the figure once per *background* (contours, axes, ticks, labels: what
the controls do not move) and the kernel sends it as a PNG with each axes' place on it and
its data limits; the lines that move (an optimizer's path, its loss curve) are sent as
float32 arrays, one message per *layer* and setting, and the browser draws them on a
``<canvas>`` over the PNG (``canvas_figure.js``, an `anywidget <https://anywidget.dev>`_
module). The controls are linked in the browser (``jslink``), so a slider step redraws
from arrays already there: a canvas redraw (about a millisecond) instead of a round trip.
The kernel computes what a new setting needs when it is asked, and may send settings
ahead of time (:meth:`CanvasFigure.send_data` from a background thread).

Terms:

- a *layer* is a named set of arrays drawn together (``parts``: which array is drawn on
  which axes, as ``"xy"`` points or as values over their index, with which style). Its
  arrays depend on the controls named in ``deps``; :func:`layer_key` names one setting.
- ``visible_control`` (a multiple selection) says which layers are drawn, ``steps_control``
  how many points of each, ``background_control`` which background.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import traitlets

__all__ = ["CanvasFigure", "value_key", "layer_key", "axes_box"]

try:  # anywidget is a dependency; without it only the static figures are available
    import anywidget

    _Base = anywidget.AnyWidget
except ImportError:  # pragma: no cover
    _Base = object


def value_key(value) -> str:
    """A control value as the browser writes it in a key (numbers to 1e-6, so that both sides
    agree without formatting floats: ``Math.round(v * 1e6)`` is ``floor(v * 1e6 + 0.5)``)."""
    if isinstance(value, bool):
        raise TypeError("boolean controls have no key")
    if isinstance(value, (int, float, np.floating, np.integer)):
        return str(math.floor(float(value) * 1e6 + 0.5))
    if isinstance(value, (tuple, list)):
        return "+".join(map(str, value))
    return str(value)


def layer_key(name: str, deps: Sequence[str], values: Mapping) -> str:
    """The key of layer ``name`` for control ``values`` (``deps``: control names)."""
    return "|".join([name, *(value_key(values[d]) for d in deps)])


def axes_box(ax, figure_height_px: float, scale: float = 1.0) -> dict:
    """Where ``ax`` lies on its rendered figure (CSS pixels from the top left, ``scale`` device
    pixels per CSS pixel) and what it shows: what the browser needs to draw in it."""
    box = ax.get_window_extent()
    return {"left": float(box.x0 / scale), "top": float((figure_height_px - box.y1) / scale),
            "width": float(box.width / scale), "height": float(box.height / scale),
            "xlim": [float(v) for v in ax.get_xlim()], "ylim": [float(v) for v in ax.get_ylim()],
            "xlog": ax.get_xscale() == "log", "ylog": ax.get_yscale() == "log"}


class CanvasFigure(_Base):
    """The widget: a background image and a canvas of layers, linked to ``controls``.

    ``layers``: ``[{"name", "deps": [control names], "color", "parts": [{"axes", "array",
    "kind": "xy" | "index", "lw", "marker", "end"}]}]``. The figure's owner answers
    :attr:`on_ready` (a browser view started: send the background and the data for the
    current values) and sends with :meth:`send_background` and :meth:`send_data`.
    """

    _esm = Path(__file__).with_name("canvas_figure.js")
    uid = traitlets.Unicode("").tag(sync=True)
    layers = traitlets.List().tag(sync=True)
    control_traits = traitlets.List().tag(sync=True)
    control_options = traitlets.Dict().tag(sync=True)
    visible_control = traitlets.Unicode("").tag(sync=True)
    steps_control = traitlets.Unicode("").tag(sync=True)
    background_control = traitlets.Unicode("").tag(sync=True)
    legend_axes = traitlets.Int(0).tag(sync=True)

    def __init__(self, controls: Mapping, layers: list[dict], visible: str, steps: str, background: str,
                 legend_axes: int = 0):
        import uuid

        import ipywidgets as widgets

        super().__init__(uid=uuid.uuid4().hex)
        self.add_traits(**{self.trait_for(name): traitlets.Any().tag(sync=True) for name in controls})
        options = {}
        for name, control in controls.items():
            # a selection syncs its index (indices), not its value: link that, with the labels
            synced = "value" if control.trait_metadata("value", "sync") else "index"
            if synced == "index":
                options[self.trait_for(name)] = [str(label) for label in control._options_labels]
            setattr(self, self.trait_for(name), getattr(control, synced))
            widgets.jslink((control, synced), (self, self.trait_for(name)))
        self.control_options = options
        self.layers = [{**layer, "deps": [self.trait_for(d) for d in layer["deps"]]} for layer in layers]
        self.control_traits = [self.trait_for(name) for name in controls]
        self.visible_control = self.trait_for(visible)
        self.steps_control = self.trait_for(steps)
        self.background_control = self.trait_for(background)
        self.legend_axes = legend_axes
        self.on_ready = None
        self.on_msg(self._message)

    @staticmethod
    def trait_for(control: str) -> str:
        return f"c_{control}"

    def _message(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "ready" and self.on_ready is not None:
            self.on_ready()

    def send_background(self, key, png: bytes, width: float, height: float, axes: list[dict]) -> None:
        """The figure without its layers for background value ``key``, and its axes' boxes."""
        self.send({"type": "background", "key": value_key(key), "width": width, "height": height,
                   "axes": axes}, buffers=[png])

    def send_data(self, key: str, arrays: Sequence[np.ndarray]) -> None:
        """The arrays of one layer for one setting (``key`` from :func:`layer_key`), as float32.
        Values beyond float32's range become infinite: the browser ends a line there."""
        with np.errstate(over="ignore"):
            buffers = [np.ascontiguousarray(a, dtype="<f4").tobytes() for a in arrays]
        self.send({"type": "data", "key": key}, buffers=buffers)
