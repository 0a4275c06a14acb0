"""The optimizer explorer, live: paths computed by ``torch.optim`` in the kernel, drawn by the browser.

:func:`course.optimizer_widgets.optimizer_explorer` returns a :class:`PathExplorer` in a
live notebook. Its figure is a :class:`course.canvas_figure.CanvasFigure`: the contours
and axes of a surface are rendered once, each optimizer's path (to the iteration slider's
maximum) and its loss curve are sent once per setting as arrays, and the browser draws
them. So the iteration slider and the optimizer choice redraw in the browser alone, and a
learning rate or momentum seen before costs no kernel work.

Settings not yet seen are computed ahead of time: after each change a background thread
runs the paths the next moves are likely to need (every optimizer at the current
setting, then the learning-rate sliders' neighbouring values, nearest first, then β's)
and sends them. It runs in chunks of steps and gives way to a person's change at once.
"""
from __future__ import annotations

import atexit
import base64
import threading
import time
import weakref

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from .canvas_figure import CanvasFigure, axes_box, layer_key
from .optimizer_widgets import (MAX_STEPS, OPTIMIZER_COLORS, OPTIMIZERS, _build_paths, _depends_on, _draw_axes,
                                _gap, _path_recorder)
from .surfaces import SURFACES
from .widgets import control_rows, figure_png

__all__ = ["PathExplorer"]

CHUNK = 50  # steps a background computation runs before it checks for a person's change
MAX_AHEAD = 160  # paths computed ahead per setting, at most

_LIVE: "weakref.WeakSet[PathExplorer]" = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """Stop the computations ahead before the interpreter exits (torch must not be mid-step)."""
    for explorer in list(_LIVE):
        explorer.stop()


class PathExplorer:
    """Controls above a canvas figure of optimizer paths; ``set(**values)`` moves the controls.

    ``latencies`` holds, per change, the seconds the kernel took to have everything the new
    setting needs sent (a setting already sent takes no work: the browser redraws alone).
    """

    static = False

    def __init__(self, controls: dict, figsize=(9.5, 4.0), dpi: float = 80, scale: float = 2.0,
                 prefetch: bool = True):
        import ipywidgets as widgets

        self.controls, self.figsize, self.dpi, self.scale = controls, figsize, dpi, scale
        self.prefetch = prefetch
        self.latencies: list[float] = []
        self._lock = threading.RLock()
        self._sent: set = set()  # layer keys, and ("background", surface)
        self._backgrounds: dict[str, tuple] = {}
        self._plan: tuple | None = None
        self._generation = 0
        self._thread: threading.Thread | None = None
        layers = [{"name": name, "deps": _depends_on(name), "color": to_hex(OPTIMIZER_COLORS[name]),
                   "parts": [{"axes": 0, "array": 0, "kind": "xy", "lw": 1.6, "marker": 1.5, "end": 4},
                             {"axes": 1, "array": 1, "kind": "index", "lw": 1.4}]}
                  for name in OPTIMIZERS]
        self.canvas = CanvasFigure(controls, layers, visible="optimizers", steps="num_steps",
                                   background="surface")
        self.canvas.on_ready = self._on_ready
        self.widget = widgets.VBox(control_rows(controls) + [self.canvas])
        for control in controls.values():
            control.observe(self._on_change, names="value")
        self._on_change()

    # ----- what the browser needs ------------------------------------------------------
    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def background(self, surface: str) -> tuple:
        """``(png, width, height, axes boxes)`` of a surface's figure without paths (cached)."""
        if surface not in self._backgrounds:
            fig = Figure(figsize=self.figsize, dpi=self.dpi * self.scale, layout="constrained")
            FigureCanvasAgg(fig)
            ax_path, ax_loss = fig.subplots(1, 2, width_ratios=(1.3, 1))
            _draw_axes(ax_path, ax_loss, SURFACES[surface], MAX_STEPS)
            png = figure_png(fig)  # lays the figure out: the boxes below are where it drew
            height = fig.bbox.height
            boxes = [axes_box(ax, height, self.scale) for ax in (ax_path, ax_loss)]
            self._backgrounds[surface] = (png, float(fig.bbox.width / self.scale), float(height / self.scale), boxes)
        return self._backgrounds[surface]

    @staticmethod
    def _recorder(name: str, values: dict):
        return _path_recorder(values["surface"], name, values["lr_sgd"], values["lr_adaptive"],
                              values["beta"], values["schedule"])

    def arrays(self, name: str, values: dict, num_steps: int = MAX_STEPS) -> list[np.ndarray]:
        """Optimizer ``name``'s path ``(num_steps + 1, 2)``, flattened, and ``f(x_k) - f(x*)``."""
        surf = SURFACES[values["surface"]]
        path = self._recorder(name, values).path(num_steps)
        gap = np.full(len(path), np.nan)
        ok = ~np.isnan(path[:, 0])
        gap[ok] = _gap(surf, path[ok])
        return [path.ravel(), gap]

    def _send(self, name: str, values: dict) -> None:
        key = layer_key(name, _depends_on(name), values)
        if key not in self._sent:
            self.canvas.send_data(key, self.arrays(name, values))
            self._sent.add(key)

    def _send_current(self, values: dict) -> None:
        surface = values["surface"]
        if ("background", surface) not in self._sent:
            self.canvas.send_background(surface, *self.background(surface))
            self._sent.add(("background", surface))
        for name in values["optimizers"]:
            self._send(name, values)

    # ----- changes -----------------------------------------------------------------------
    def _on_change(self, change=None) -> None:
        start = time.perf_counter()
        values = self.values()
        plan = tuple((k, v) for k, v in values.items() if k != "num_steps")
        if plan != self._plan:
            self._generation += 1  # a computation ahead stops at its next chunk
        with self._lock:
            self._send_current(values)
        if change is not None:
            self.latencies.append(time.perf_counter() - start)
        if plan != self._plan:
            self._plan = plan
            if self.prefetch:
                self._thread = threading.Thread(target=self._compute_ahead, args=(values, self._generation),
                                                daemon=True, name="paths-ahead")
                self._thread.start()
                _LIVE.add(self)

    def _on_ready(self) -> None:
        """A browser view started (a new page, a reload): it has nothing yet."""
        with self._lock:
            self._sent.clear()
        self._plan = None  # sends the current setting, and computes ahead again
        self._on_change()

    def set(self, **values) -> None:
        """Change control values as a user would (each change is one update)."""
        for name, value in values.items():
            self.controls[name].value = value

    # ----- ahead of time -----------------------------------------------------------------
    def stop(self, timeout: float = 5.0) -> None:
        """Stop computing ahead (at the next chunk) and wait for it."""
        self._generation += 1
        if self._thread is not None:
            self._thread.join(timeout)

    def likely_next(self, values: dict) -> list[tuple[str, dict]]:
        """``(optimizer, values)`` the next moves are likely to need, most likely first."""
        shown = list(values["optimizers"])
        todo = [(name, values) for name in OPTIMIZERS if name not in shown]
        grids = {name: self._grid(name, values[name]) for name in ("lr_sgd", "lr_adaptive", "beta")}
        for distance in range(1, max(len(grid) for grid, _ in grids.values()) + 1):
            for control, (grid, here) in grids.items():
                for index in (here + distance, here - distance):
                    if 0 <= index < len(grid) and (control != "beta" or distance <= 5):
                        moved = {**values, control: grid[index]}
                        todo += [(name, moved) for name in shown if control in _depends_on(name)]
        return todo[:MAX_AHEAD]

    def _grid(self, name: str, value: float) -> tuple[list[float], int]:
        """A slider's values (as the browser computes them) and the index nearest ``value``."""
        control = self.controls[name]
        count = int(round((control.max - control.min) / control.step)) + 1
        positions = control.min + control.step * np.arange(count)
        if type(control).__name__ == "FloatLogSlider":
            grid = [float(control.base ** p) for p in positions]
            here = int(np.argmin(np.abs(positions - np.log(value) / np.log(control.base))))
        else:
            grid = [float(round(p, 10)) for p in positions]
            here = int(np.argmin(np.abs(positions - value)))
        return grid, here

    def _compute_ahead(self, values: dict, generation: int) -> None:
        for name, moved in self.likely_next(values):
            try:
                recorder = self._recorder(name, moved)
                for steps in range(CHUNK, MAX_STEPS + CHUNK, CHUNK):
                    if generation != self._generation:
                        return
                    with self._lock:
                        recorder.path(min(steps, MAX_STEPS))
                with self._lock:
                    if generation != self._generation:
                        return
                    self._send(name, moved)
            except Exception:  # noqa: BLE001 - a setting torch refuses is computed (and reported) if asked for
                continue

    # ----- display -----------------------------------------------------------------------
    def png(self) -> bytes:
        """The figure at the current values, rendered by matplotlib (exports, saved notebooks)."""
        fig = Figure(figsize=self.figsize, dpi=self.dpi, layout="constrained")
        FigureCanvasAgg(fig)
        with self._lock:
            _build_paths(fig, **self.values())
        return figure_png(fig)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": f"<optimizer explorer: {', '.join(self.controls)}>",
                  "image/png": base64.b64encode(self.png()).decode("ascii")}
        bundle.update(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        return bundle
