"""A live explorer: controls over a canvas figure, its settings computed ahead in the kernel.

:meth:`course.widgets.explorer.Explorer.show` returns a :class:`LiveFigure` in a live
notebook. When a browser view starts it is sent the background and the data of the
current setting, then everything computed so far; a thread keeps computing the settings
the controls can reach (:meth:`~course.widgets.explorer.Explorer.ahead`, nearest first)
and sends each as it is done. So the browser redraws a slider step from data it already
has; only a setting not yet computed waits for the kernel, which then computes it at once
(the thread pauses meanwhile, then drops what it was computing and starts over from the new
setting: what is near it comes first). The thread also waits while a cell runs (a training cell
gets the CPU to itself; with Run All the figures compute ahead once the cells are done), and
while the figure a person moved last computes ahead (it has the person's attention).
"""
from __future__ import annotations

import atexit
import base64
import itertools
import os
import threading
import time
import weakref
from typing import Mapping

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .canvas_figure import CanvasFigure
from .controls import control_rows
from .static import figure_png

__all__ = ["LiveFigure"]

BATCH = 256  # items per data message when resending what was computed
_LIVE: "weakref.WeakSet[LiveFigure]" = weakref.WeakSet()
_NO_CELL_RUNNING = threading.Event()  # set while the kernel runs no cell (always, outside IPython)
_NO_CELL_RUNNING.set()
_watching_cells = False
_focus: "weakref.ref[LiveFigure] | None" = None  # the figure a person moved last


def _focused() -> "LiveFigure | None":
    return _focus() if _focus is not None else None


def _cell_started(*args) -> None:
    _NO_CELL_RUNNING.clear()


def _cell_finished(*args) -> None:
    _NO_CELL_RUNNING.set()


def _watch_cells() -> None:
    """Follow IPython's cells, once per process: :data:`_NO_CELL_RUNNING` is clear while one runs."""
    global _watching_cells
    if _watching_cells:
        return
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return
    shell = get_ipython()
    if shell is None:
        return
    _watching_cells = True
    shell.events.register("pre_run_cell", _cell_started)
    shell.events.register("post_run_cell", _cell_finished)
    _cell_started()  # this figure is being made by a cell that still runs


@atexit.register
def _stop_all() -> None:
    """Stop computing ahead before the interpreter exits (torch must not be mid-step)."""
    for figure in list(_LIVE):
        figure.stop()


YIELD_EVERY = 0.002  # seconds of work ahead between two sleeps that hand the interpreter over
_sched_yield = getattr(os, "sched_yield", lambda: None)
_last_sleep = 0.0


def _yield_interpreter() -> None:
    """Let the kernel's thread take the interpreter now, not at the next 5 ms switch: a
    ``sched_yield`` (about a microsecond: the interpreter is released, and taken by a thread
    that waits for it) at every call, and a ``sleep(0)`` (about 0.1 ms, a surer hand-over) every
    ``YIELD_EVERY`` s. Sleeping at every step of a path would cost a third of its time."""
    global _last_sleep
    _sched_yield()
    now = time.perf_counter()
    if now - _last_sleep >= YIELD_EVERY:
        time.sleep(0)
        _last_sleep = time.perf_counter()


class _Stopped(Exception):
    pass


class _Replanned(Exception):
    """A person's change made a newer plan: the computation in progress is dropped."""


class LiveFigure:
    """Controls above a :class:`~course.widgets.canvas_figure.CanvasFigure` of an explorer.

    ``set(**values)`` moves the controls as a person would. ``latencies`` holds, per change,
    the seconds the kernel took until everything the new setting needs was sent (nothing to
    do when it was sent ahead: the browser redraws alone). ``prefetch=False`` computes nothing
    ahead (tests call :meth:`compute_ahead` themselves).
    """

    static = False

    def __init__(self, explorer, prefetch: bool = True, scale: float = 2.0):
        import ipywidgets as widgets

        self.explorer, self.controls, self.scale = explorer, explorer.controls, scale
        self.prefetch = prefetch
        self.latencies: list[float] = []
        self._lock = threading.RLock()  # the browser's copy (_sent) and sending
        self._sent: set = set()
        self._prefixes: dict = {}  # key: the steps of which the browser has only a prefix
        self._ready = False  # a browser view has asked for data
        self._plan: tuple[dict, str | None, dict | None] = (explorer.values(), None, None)
        self._generation = 0
        self._free = threading.Event()  # cleared while a person's change is served
        self._free.set()
        self._stopped = False
        self._working = threading.Event()  # set while this figure's thread computes ahead
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.canvas = CanvasFigure(self.controls, explorer.layers(), visible=explorer.visible,
                                   steps=explorer.steps, background_deps=explorer.background_deps,
                                   legend=explorer.legend, scripts=explorer.scripts)
        self.canvas.on_ready = self._on_ready
        self.widget = widgets.VBox(control_rows(self.controls) + [self.canvas])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self._provide(explorer.values(), waiting=False)  # the first view gets it at once
        if prefetch:
            _watch_cells()
            self._thread = threading.Thread(target=self._work, daemon=True, name="explorer-ahead")
            self._thread.start()
            _LIVE.add(self)

    def values(self) -> dict:
        return self.explorer.values()

    def set(self, **values) -> None:
        """Change control values as a user would (each change is one update)."""
        for name, value in values.items():
            self.controls[name].value = value

    # ----- sending ----------------------------------------------------------------------------
    def _send_background(self, background: tuple) -> None:
        key, *rest = background
        if ("background", key) not in self._sent and self._ready:
            self.canvas.send_background(key, *rest)
            self._sent.add(("background", key))

    def _send_data(self, items: list) -> None:
        """``[(key, LayerData)]`` not yet in the browser, in messages of at most ``BATCH``."""
        if not self._ready:
            return
        todo = [(key, data) for key, data in items if key not in self._sent]
        for start in range(0, len(todo), BATCH):
            self.canvas.send_data(todo[start:start + BATCH])
        for key, data in todo:  # a prefix stays to be completed: the whole is sent when computed
            if data.prefix is None:
                self._sent.add(key)
                self._prefixes.pop(key, None)
            else:
                self._prefixes[key] = data.prefix

    def _provide(self, values: Mapping, waiting: bool = True) -> None:
        """The background and the shown layers' data at ``values``: computed if needed, sent if not
        yet; to a person ``waiting``, what the explorer can send at once (:meth:`Explorer.data_now`)."""
        explorer = self.explorer
        background = explorer.background(values, self.scale)
        items = []
        for layer in explorer.shown_layers(values):
            if layer.get("compute"):
                continue
            key = explorer.layer_key(layer["name"], values)
            if key in self._sent:
                continue
            if key not in self._prefixes:
                items.append((key, (explorer.data_now if waiting else explorer.layer_data)(layer["name"], values)))
            elif explorer.steps and int(values[explorer.steps]) > self._prefixes[key]:
                items.append((key, explorer.layer_data(layer["name"], values)))  # more than the prefix
        with self._lock:
            self._send_background(background)
            self._send_data(items)

    # ----- changes -------------------------------------------------------------------------------
    def _on_change(self, change=None) -> None:
        start = time.perf_counter()
        values = self.values()
        moved = next((name for name, control in self.controls.items()
                      if change is not None and control is change.get("owner")), None)
        previous = {**values, moved: change["old"]} if moved is not None and "old" in change else None
        self._free.clear()  # the thread ahead waits at its next step
        try:
            self._provide(values)
        finally:
            self._free.set()
        if change is not None:
            self.latencies.append(time.perf_counter() - start)
            global _focus
            _focus = weakref.ref(self)
        self._replan(values, moved, previous)

    def _replan(self, values: dict, moved: str | None, previous: dict | None = None) -> None:
        with self._wake:
            self._plan = (values, moved, previous)
            self._generation += 1
            self._wake.notify_all()

    def _on_ready(self) -> None:
        """A browser view started (a new page, a reload): it has nothing yet. Send the current
        setting first, then the inputs of browser-computed layers and everything computed so far."""
        explorer = self.explorer
        values = self.values()
        with self._lock:
            self._ready = True
            self._sent.clear()
            self._prefixes.clear()
        self._provide(values)
        with self._lock:
            self._send_data(list(explorer.inputs().items()))
            backgrounds, computed = explorer.computed()
            for background in backgrounds:
                self._send_background(background)
            self._send_data(computed)
        self._replan(values, None)

    # ----- ahead of time ---------------------------------------------------------------------------
    def _pause(self) -> None:
        """Where the thread ahead gives way: it waits while a person's change is served, while
        a cell runs, and while the figure moved last (another one) computes ahead."""
        if self._stopped:
            raise _Stopped
        _yield_interpreter()
        self._free.wait()
        while not _NO_CELL_RUNNING.wait(0.5):
            if self._stopped:
                raise _Stopped
        focused = _focused()
        while focused is not None and focused is not self and focused._working.is_set():
            if self._stopped:
                raise _Stopped
            time.sleep(0.05)
        if self._stopped:
            raise _Stopped

    def stop(self, timeout: float = 5.0) -> None:
        """Stop computing ahead (at the next step) and wait for it."""
        self._stopped = True
        self._free.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _work(self) -> None:
        done_with = -1
        while not self._stopped:
            with self._wake:
                while self._generation == done_with and not self._stopped:
                    self._wake.wait()
                generation, (values, moved, previous) = self._generation, self._plan
            self._working.set()
            try:
                self.compute_ahead(values, moved, generation, previous)
            except _Stopped:
                return
            except Exception:  # noqa: BLE001 - a setting that fails is computed (and reported) if asked for
                pass
            finally:
                self._working.clear()
            if generation == self._generation:
                done_with = generation

    def compute_ahead(self, values: Mapping | None = None, moved: str | None = None,
                      generation: int | None = None, previous: Mapping | None = None,
                      windows: int | None = None) -> None:
        """Compute (and send) every setting the explorer lists ahead of ``values`` (``moved`` from
        ``previous``); stops early when a change makes a newer plan (``generation``), or after
        the first ``windows`` windows (the explorer ends a window with a ``"flush"`` item: what
        it listed so far is computed before it goes on; the layers shown now are in the first)."""
        explorer = self.explorer
        values = self.values() if values is None else values
        current = (lambda: True) if generation is None else (lambda: generation == self._generation)
        run: list = []
        flushed = 0

        def pause() -> None:
            self._pause()
            if not current():  # the settings near the new one come first: drop this computation
                raise _Replanned

        def flush() -> bool:
            try:
                for results in explorer.compute_ahead(run, pause):
                    with self._lock:
                        items = []
                        for name, setting, data in results:
                            key = explorer.layer_key(name, setting)
                            explorer.store(key, data)
                            items.append((key, data))
                        self._send_data(items)
                    if not current():
                        return False
            except _Replanned:
                return False
            run.clear()
            return True

        shown = [("layer", layer["name"], values) for layer in explorer.shown_layers(values)
                 if not layer.get("compute")]  # first what the browser has a prefix of, if anything
        for kind, name, setting in itertools.chain(shown, explorer.ahead(values, moved, previous)):
            if not current() or (windows is not None and flushed >= windows):
                return
            if kind == "flush":
                if not flush():
                    return
                flushed += 1
            elif kind == "background":
                if not flush():
                    return
                self._pause()
                background = explorer.background(setting, self.scale)
                with self._lock:
                    self._send_background(background)
            elif explorer.cached(explorer.layer_key(name, setting)) is None:
                run.append((name, setting))
        if windows is None or flushed < windows:
            flush()

    # ----- display ---------------------------------------------------------------------------------
    def png(self) -> bytes:
        """The figure at the current values, rendered by matplotlib (exports, saved notebooks)."""
        fig = Figure(figsize=self.explorer.figsize, dpi=self.explorer.dpi, layout="constrained")
        FigureCanvasAgg(fig)
        self.explorer.draw(fig, self.values())
        return figure_png(fig)

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {"text/plain": f"<{type(self.explorer).__name__}: {', '.join(self.controls)}>",
                  "image/png": base64.b64encode(self.png()).decode("ascii")}
        bundle.update(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        return bundle
