"""An explorer: an interactive figure described once, shown live (browser-drawn) or static.

A lecture's explorer subclasses :class:`Explorer` and says

- ``draw_background(fig, values)``: everything the controls do not move (or move only through
  ``background_deps``), drawn by matplotlib; returns the axes the layers are drawn in;
- ``layers()``: what moves (:mod:`course.widgets.layers`), each with the controls its data
  depends on (``deps``);
- ``data(name, values)``: a layer's :class:`~course.widgets.layers.LayerData` at a setting,
  computed in the kernel; or, for a layer the browser computes (``"compute"``), ``inputs()``
  sent once and ``compute(name, values)``, the Python twin of the browser's function (the
  static figure uses it, and a test holds the two together); its ``deps`` are the controls
  the computation reads.

:meth:`Explorer.show` returns a :class:`~course.widgets.live.LiveFigure` in a live notebook
and a :class:`~course.widgets.static.StaticFigure` headless. Live, every setting a control
can reach is computed ahead (:meth:`Explorer.ahead`, nearest first; an explorer whose
settings are too many to compute all overrides it and :meth:`Explorer.compute_ahead`, and
may cut the list into windows computed one after the other with :data:`FLUSH`).
"""
from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .canvas_figure import axes_box, value_key
from .controls import browser_value, control_grid, control_values, default_settings, grid_index
from .layers import LayerData, draw_layer, legend_handles
from .static import StaticFigure, figure_png, is_static

__all__ = ["Explorer", "settings_key", "FLUSH"]

#: a setting to compute ahead: ("background", None, values) or ("layer", name, values); or
#: ("flush", None, None): compute the layers listed so far (together) before going on
Item = tuple
FLUSH: Item = ("flush", None, None)


def settings_key(controls: Mapping, head: Sequence[str], deps: Sequence[str], values: Mapping) -> str:
    """``"name|value|value"``: how the browser names a layer's (or a background's) setting."""
    return "|".join([*head, *(value_key(browser_value(controls[d], values[d])) for d in deps)])


class Explorer:
    """An interactive figure: controls, a background, layers. Subclasses fill in the hooks."""

    figsize: tuple[float, float] = (6.0, 4.0)
    dpi: float = 80
    background_deps: tuple[str, ...] = ()
    visible: str | None = None  # a multiple selection: the layers shown
    steps: str | None = None  # a slider: how many points the parts marked ``steps`` show
    legend: dict | None = None  # {"axes": index, "loc": "upper left"}: a legend of the shown layers
    scripts: tuple[Path, ...] = ()  # browser scripts that compute layers (registerLayer)
    ncols: int | None = None  # static panels per row
    cache_size: int | None = None  # layer settings kept in the kernel at most (None: all)
    live: bool = False  # shown live (set by show): backgrounds then serve every setting of their layers

    def __init__(self, controls: Mapping):
        self.controls = dict(controls)
        self._cache: OrderedDict[str, LayerData] = OrderedDict()
        self._backgrounds: dict[str, tuple] = {}
        self._lock = threading.RLock()
        self._layers: dict[str, dict] | None = None

    # ----- to fill in ------------------------------------------------------------------------
    def layers(self) -> list[dict]:
        raise NotImplementedError

    def draw_background(self, fig, values: Mapping) -> list:
        raise NotImplementedError

    def data(self, name: str, values: Mapping) -> LayerData:
        raise NotImplementedError(f"layer {name!r} has no data in the kernel")

    def inputs(self) -> dict[str, LayerData]:
        """Data the browser computes layers from, sent once: ``{key: LayerData}``."""
        return {}

    def compute(self, name: str, values: Mapping) -> LayerData:
        raise NotImplementedError(f"layer {name!r} has no Python twin of its browser computation")

    # ----- what the figure is made of -----------------------------------------------------------
    def values(self) -> dict:
        return control_values(self.controls)

    def layer_specs(self) -> dict[str, dict]:
        if self._layers is None:
            self._layers = {layer["name"]: layer for layer in self.layers()}
        return self._layers

    def layer_key(self, name: str, values: Mapping) -> str:
        return settings_key(self.controls, [name], self.layer_specs()[name].get("deps", ()), values)

    def background_key(self, values: Mapping) -> str:
        return settings_key(self.controls, [], self.background_deps, values)

    def shown_layers(self, values: Mapping) -> list[dict]:
        specs = list(self.layer_specs().values())
        if self.visible is None:
            return specs
        chosen = set(values[self.visible])
        return [layer for layer in specs if layer["name"] in chosen]

    def layer_data(self, name: str, values: Mapping) -> LayerData:
        """A layer's data at ``values`` (cached by setting): the kernel's, or the twin of the browser's."""
        key = self.layer_key(name, values)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        spec = self.layer_specs()[name]
        data = self.compute(name, values) if spec.get("compute") else self.data(name, values)
        self.store(key, data)
        return data

    def data_now(self, name: str, values: Mapping) -> LayerData:
        """What a person waiting for this setting gets at once: :meth:`layer_data` (an explorer
        whose data has a steps control may send a prefix first, :class:`LayerData`'s ``prefix``)."""
        return self.layer_data(name, values)

    def cached(self, key: str) -> LayerData | None:
        with self._lock:
            return self._cache.get(key)

    def store(self, key: str, data: LayerData) -> None:
        with self._lock:
            self._cache[key] = data
            self._cache.move_to_end(key)
            while self.cache_size is not None and len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def computed(self) -> tuple[list, list]:
        """What was computed so far: the backgrounds, and ``[(layer key, LayerData)]``."""
        with self._lock:
            return list(self._backgrounds.values()), list(self._cache.items())

    def background(self, values: Mapping, scale: float = 2.0) -> tuple:
        """``(key, png, width, height, axes boxes, px_per_pt)`` of the background at ``values``,
        rendered at ``scale`` times the figure's resolution (sharp on high-density screens); cached."""
        key = self.background_key(values)
        with self._lock:
            if key in self._backgrounds:
                return self._backgrounds[key]
        fig = Figure(figsize=self.figsize, dpi=self.dpi * scale, layout="constrained")
        FigureCanvasAgg(fig)
        axes = self.draw_background(fig, values)
        png = figure_png(fig)  # lays the figure out: the boxes below are where it drew
        height = fig.bbox.height
        result = (key, png, float(fig.bbox.width / scale), float(height / scale),
                  [axes_box(ax, height, scale) for ax in axes], self.dpi / 72)
        with self._lock:
            self._backgrounds[key] = result
        return result

    def draw(self, fig, values: Mapping) -> list:
        """The whole figure at ``values`` with matplotlib: background, then the shown layers."""
        axes = self.draw_background(fig, values)
        steps = int(values[self.steps]) if self.steps else None
        shown = self.shown_layers(values)
        for layer in shown:
            draw_layer(axes, layer, self.layer_data(layer["name"], values), steps)
        if self.legend is not None and shown:
            axes[self.legend["axes"]].legend(handles=legend_handles(shown), loc=self.legend.get("loc", "upper left"),
                                             fontsize="small")
        return axes

    # ----- ahead of time --------------------------------------------------------------------------
    def ahead(self, values: Mapping, moved: str | None = None, previous: Mapping | None = None) -> Iterator[Item]:
        """Every setting a control can reach (backgrounds and kernel-computed layers), nearest
        first: fewest slider steps away from ``values``, the control just ``moved`` (from the
        ``previous`` values) first."""
        grids, here = {}, {}

        def settings(deps: Sequence[str]):
            for d in deps:
                if d not in grids:
                    grids[d] = list(enumerate(control_grid(self.controls[d])))
                    here[d] = grid_index(self.controls[d], values[d])
            for combo in itertools.product(*(grids[d] for d in deps)):
                away = [abs(i - here[d]) for d, (i, _) in zip(deps, combo)]
                others = sum(1 for d, a in zip(deps, away) if a and d != moved)
                yield (sum(away), others), {**values, **{d: v for d, (_, v) in zip(deps, combo)}}

        items = [(rank, 0, ("background", None, setting)) for rank, setting in settings(self.background_deps)]
        for name, spec in self.layer_specs().items():
            if not spec.get("compute"):
                items += [(rank, 1, ("layer", name, setting)) for rank, setting in settings(spec.get("deps", ()))]
        items.sort(key=lambda item: item[:2])
        return iter([item for *_, item in items])

    def compute_ahead(self, items: Sequence[tuple[str, Mapping]], pause: Callable[[], None]
                      ) -> Iterator[list[tuple[str, Mapping, LayerData]]]:
        """Compute layer settings ``[(name, values)]``, yielding results as they come;
        ``pause()`` between computations (it waits while the kernel serves a person's change).
        Override to compute several settings together."""
        for name, values in items:
            pause()
            yield [(name, values, self.data(name, values))]

    # ----- showing it --------------------------------------------------------------------------------
    def show(self, static_settings: Iterable[Mapping] | None = None, static: bool | None = None,
             ncols: int | None = None, title: str | None = None, prefetch: bool = True):
        """Live controls over a browser-drawn figure, or (headless, see :func:`is_static`) one
        panel per setting of ``static_settings``."""
        if is_static() if static is None else static:
            settings = list(static_settings) if static_settings is not None else default_settings(self.controls)
            return StaticFigure(self, settings, ncols=ncols or self.ncols, title=title)
        from .live import LiveFigure

        self.live = True
        return LiveFigure(self, prefetch=prefetch)
