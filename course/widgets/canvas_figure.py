"""The canvas figure: a matplotlib background with the moving parts drawn by the browser.

An image of the whole figure per slider step costs a kernel round trip, a render and an
image transfer: 100-300 ms in a browser on a small machine. Here matplotlib renders what
the controls do not move (contours, axes, ticks, labels: the *background*) once, as a PNG
with each axes' place on it and its data limits; what moves (paths, curves, dots, counts,
images: the *layers*) is sent as arrays and strings, one message per layer and setting,
and the browser draws it on a ``<canvas>`` over the PNG (``canvas_figure.js``, an
`anywidget <https://anywidget.dev>`_ module). The controls are linked to the figure in
the browser (``jslink``), so a slider step redraws from data already there: a canvas
redraw (about a millisecond) instead of a round trip.

Terms (the browser module describes the same):

- a *layer* is a named set of arrays and texts drawn together; its ``parts`` say what is
  drawn from which array (:mod:`course.widgets.layers`). Its data depends on the controls
  named in its ``deps``; :meth:`CanvasFigure.layer_key` names one setting. A layer with
  ``compute`` is computed by the browser itself from ``inputs`` sent once, with a function
  that a lecture's script registers (``registerLayer(name, fn)``, see ``metrics.js``).
- the *background* depends on the controls in ``background_deps``.
- ``visible_control`` (a multiple selection) says which layers are drawn, ``steps_control``
  how many points of the parts marked ``steps``; ``legend`` where the legend of the shown
  layers goes.

Nothing here computes a setting: :class:`course.widgets.live.LiveFigure` decides what to
send and when.
"""
from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import traitlets

from .controls import browser_value, syncs_index

if TYPE_CHECKING:
    from .layers import LayerData

__all__ = ["CanvasFigure", "value_key", "axes_box", "module_source"]

try:  # anywidget is a dependency; without it only the static figures are available
    import anywidget

    _Base = anywidget.AnyWidget
except ImportError:  # pragma: no cover
    _Base = object

CORE_SCRIPT = Path(__file__).with_name("canvas_figure.js")


def value_key(value) -> str:
    """A control value as the browser writes it in a key (numbers to 1e-6, so that both sides
    agree without formatting floats: ``Math.round(v * 1e6)`` is ``floor(v * 1e6 + 0.5)``)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.floating, np.integer)):
        return str(math.floor(float(value) * 1e6 + 0.5))
    if isinstance(value, (tuple, list)):
        return "+".join(map(str, value))
    return str(value)


def axes_box(ax, figure_height_px: float, scale: float = 1.0) -> dict:
    """Where ``ax`` lies on its rendered figure (CSS pixels from the top left, ``scale`` device
    pixels per CSS pixel) and what it shows: what the browser needs to draw in it."""
    box = ax.get_window_extent()
    return {"left": float(box.x0 / scale), "top": float((figure_height_px - box.y1) / scale),
            "width": float(box.width / scale), "height": float(box.height / scale),
            "xlim": [float(v) for v in ax.get_xlim()], "ylim": [float(v) for v in ax.get_ylim()],
            "xlog": ax.get_xscale() == "log", "ylog": ax.get_yscale() == "log"}


def module_source(scripts: Sequence[Path] = ()) -> str:
    """The browser module: the canvas figure's core, then each lecture script (they register
    the layers the browser computes)."""
    return "\n".join(Path(p).read_text(encoding="utf-8") for p in (CORE_SCRIPT, *scripts))


class CanvasFigure(_Base):
    """The widget: background images and a canvas of layers, linked to ``controls``.

    ``layers``: ``[{"name", "deps": [control names], "color", "parts": [...], "compute"?,
    "inputs"?}]``. The owner answers :attr:`on_ready` (a browser view started: it has
    nothing yet) and sends with :meth:`send_background` and :meth:`send_data`.
    """

    uid = traitlets.Unicode("").tag(sync=True)
    layers = traitlets.List().tag(sync=True)
    control_traits = traitlets.List().tag(sync=True)
    control_options = traitlets.Dict().tag(sync=True)
    visible_control = traitlets.Unicode("").tag(sync=True)
    steps_control = traitlets.Unicode("").tag(sync=True)
    background_deps = traitlets.List().tag(sync=True)
    legend = traitlets.Dict().tag(sync=True)

    def __init__(self, controls: Mapping, layers: list[dict], visible: str | None = None,
                 steps: str | None = None, background_deps: Sequence[str] = (), legend: dict | None = None,
                 scripts: Sequence[Path] = ()):
        import ipywidgets as widgets

        self._esm = module_source(scripts)  # before AnyWidget turns it into the synced trait
        super().__init__(uid=uuid.uuid4().hex)
        self.controls = dict(controls)
        self.add_traits(**{self.trait_for(name): traitlets.Any().tag(sync=True) for name in controls})
        options = {}
        for name, control in controls.items():
            # a selection syncs its index (indices), not its value: link that, with the labels
            synced = "index" if syncs_index(control) else "value"
            if synced == "index":
                options[self.trait_for(name)] = [str(label) for label in control._options_labels]
            setattr(self, self.trait_for(name), getattr(control, synced))
            widgets.jslink((control, synced), (self, self.trait_for(name)))
        self.control_options = options
        self.layers = [{**layer, "deps": [self.trait_for(d) for d in layer.get("deps", ())]} for layer in layers]
        self.control_traits = [self.trait_for(name) for name in controls]
        self.visible_control = self.trait_for(visible) if visible else ""
        self.steps_control = self.trait_for(steps) if steps else ""
        self.background_deps = [self.trait_for(d) for d in background_deps]
        self.legend = legend or {}
        self._deps = {layer["name"]: list(layer.get("deps", ())) for layer in layers}
        self._background_deps = list(background_deps)
        self.on_ready = None
        self.on_msg(self._message)

    @staticmethod
    def trait_for(control: str) -> str:
        return f"c_{control}"

    # ----- names the browser uses ------------------------------------------------------------
    def _key(self, head: Sequence[str], deps: Sequence[str], values: Mapping) -> str:
        return "|".join([*head, *(value_key(browser_value(self.controls[d], values[d])) for d in deps)])

    def layer_key(self, name: str, values: Mapping) -> str:
        """The key of layer ``name`` at control ``values`` (as the browser builds it)."""
        return self._key([name], self._deps[name], values)

    def background_key(self, values: Mapping) -> str:
        return self._key([], self._background_deps, values)

    # ----- messages -----------------------------------------------------------------------------
    def _message(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "ready" and self.on_ready is not None:
            self.on_ready()

    def send_background(self, key: str, png: bytes, width: float, height: float, axes: list[dict],
                        px_per_pt: float) -> None:
        """The figure without its layers for background ``key``, its axes' boxes, and how many
        CSS pixels a typographic point is (for the texts the browser writes)."""
        self.send({"type": "background", "key": key, "width": width, "height": height, "axes": axes,
                   "px_per_pt": px_per_pt}, buffers=[png])

    def send_data(self, items: Sequence[tuple[str, "LayerData"]]) -> None:
        """Several layers' data in one message: ``[(key, LayerData)]``. Arrays travel as float32
        (values beyond its range become infinite: the browser ends a line there) unless an
        array is float64, which stays float64."""
        head, buffers = [], []
        for key, data in items:
            dtypes = []
            with np.errstate(over="ignore"):
                for array in data.arrays:
                    array = np.asarray(array)
                    dtype = "<f8" if array.dtype == np.float64 and data.exact else "<f4"
                    buffers.append(np.ascontiguousarray(array, dtype=dtype).tobytes())
                    dtypes.append(dtype[1:])
            head.append({"key": key, "dtypes": dtypes, "texts": list(data.texts), "prefix": data.prefix})
        if head:
            self.send({"type": "data", "items": head}, buffers=buffers)

