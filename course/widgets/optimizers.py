"""Lecture 2's explorers: optimizer paths on 2-D surfaces, and learning-rate schedules.

:func:`optimizer_explorer` draws the paths of several ``torch.optim`` optimizers on a surface
(Beale, Rosenbrock, an ill-conditioned quadratic, a saddle) next to their loss curves, with
controls for the surface, the optimizers, the iterations, two learning rates (the SGD family
and the adaptive methods live on different scales), momentum/β₁, a schedule and the batch
size (:mod:`course.optimizer_paths` computes the paths). :func:`schedule_explorer` draws the
learning-rate multipliers of the schedules in :mod:`course.schedules`.

Both are drawn by the browser (:mod:`course.widgets.live`): the surfaces' contours are
rendered once each, the paths and curves sent as arrays. Every value of every control
one move away from the current setting is computed ahead, so a move shows what is already
in the browser. The optimizer explorer starts with the next value of the control just
moved, then computes every surface and every optimizer (one torch run per optimizer: the
cheapest moves to keep ready), then the sliders' farther values.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np
from matplotlib.colors import to_hex
from matplotlib.ticker import LogLocator, NullLocator

from ..optimizer_paths import (BATCH_SIZES, MAX_STEPS, NUM_EXAMPLES, OPTIMIZERS, depends_on, iter_paths,
                               loss_gap, path_prefix, path_setting, paths)
from ..plots import PATH_COLORS, plot_surface
from ..schedules import SCHEDULES, lr_curve
from ..surfaces import SURFACES, Surface
from . import layers as L
from .controls import control_grid, grid_index, wide
from .explorer import FLUSH, Explorer

__all__ = ["OPTIMIZER_COLORS", "BETAS", "OptimizerExplorer", "ScheduleExplorer", "optimizer_explorer",
           "schedule_explorer", "draw_surface_axes"]

# one colour per optimizer, the same in every figure (tab10 and two more)
OPTIMIZER_COLORS = dict(zip(OPTIMIZERS, PATH_COLORS[:10] + ["black", "goldenrod"]))
#: the controls whose neighbouring values are computed ahead, the surface first (every surface is)
AHEAD_CONTROLS = ("surface", "lr_sgd", "lr_adaptive", "beta", "schedule", "batch_size")
#: the momentum/β₁ slider's values: the effective step 1/(1-β) from 1 to 100
BETAS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99)


def draw_surface_axes(ax_path, ax_loss, surf: Surface, horizon: int = MAX_STEPS) -> None:
    """What does not move: the surface's contours, and the loss axes up to ``horizon``."""
    plot_surface(surf, ax=ax_path)
    ax_loss.set_yscale("log")
    # a decade per tick at most, no minor ticks: tick labels are most of the drawing time
    ax_loss.yaxis.set_major_locator(LogLocator(numticks=7))
    ax_loss.yaxis.set_minor_locator(NullLocator())
    ax_loss.set_xlim(0, horizon)
    ax_loss.set_ylim(1e-10, float(loss_gap(surf, np.asarray([surf.start]))[0]) * 30)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel(r"$f(x_k) - f(x^*)$ (full batch)")
    ax_loss.grid(alpha=0.3)


class OptimizerExplorer(Explorer):
    """Paths and loss curves of the chosen optimizers; the iterations slider shows a prefix."""

    figsize = (9.5, 4.0)
    background_deps = ("surface",)
    visible = "optimizers"
    steps = "num_steps"
    legend = {"axes": 0, "loc": "upper left"}
    ncols = 1
    cache_size = 20000

    def layers(self) -> list[dict]:
        return [{"name": name, "deps": depends_on(name), "color": to_hex(OPTIMIZER_COLORS[name]),
                 "parts": [L.line(0, axes=0, lw=1.6, markers=L.marker("o", 3), end=L.marker("o", 6, edge="white"),
                                  steps=True),
                           L.line(1, axes=1, xy=False, lw=1.4, steps=True)]}
                for name in OPTIMIZERS]

    def draw_background(self, fig, values: Mapping) -> list:
        ax_path, ax_loss = fig.subplots(1, 2, width_ratios=(1.3, 1))
        draw_surface_axes(ax_path, ax_loss, SURFACES[values["surface"]])
        return [ax_path, ax_loss]

    @staticmethod
    def setting(name: str, values: Mapping):
        return path_setting(name, values["surface"], values["lr_sgd"], values["lr_adaptive"], values["beta"],
                            values["schedule"], values["batch_size"])

    @staticmethod
    def _layer_data(setting, path) -> L.LayerData:
        return L.LayerData([path.ravel(), loss_gap(SURFACES[setting.surface], path)])

    def data(self, name: str, values: Mapping) -> L.LayerData:
        setting = self.setting(name, values)
        return self._layer_data(setting, paths([setting])[setting])

    def data_now(self, name: str, values: Mapping) -> L.LayerData:
        """A setting not computed yet: its path to the iterations shown only (the whole follows)."""
        steps = int(values["num_steps"])
        if self.cached(self.layer_key(name, values)) is not None or steps >= MAX_STEPS:
            return self.layer_data(name, values)
        setting = self.setting(name, values)
        data = self._layer_data(setting, path_prefix(setting, steps))
        data.prefix = steps
        return data

    def ahead(self, values: Mapping, moved: str | None = None, previous: Mapping | None = None):
        """The settings a person is likely to reach next, in windows computed one after the other
        (:data:`~course.widgets.explorer.FLUSH` ends one; a window's paths run together, one torch
        run per optimizer, so a window costs about a run per optimizer in it):

        1. every surface's contours (rendered once; a render holds the interpreter, which would
           hold up a person's move later);
        2. the next value of the control just moved on the side it moved to (a person pressing a
           key presses it again) and the value it came from, then the value after the next;
        3. one move of any control away: the shown optimizers on every other surface and at the
           neighbouring values of every control they depend on, then every optimizer not shown, at
           this setting on every surface (so that the list of optimizers answers at once after a
           move of the surface too);
        4. the shown optimizers at every control's values two steps away, then three, ...: a window
           per distance.
        """
        shown = [name for name in OPTIMIZERS if name in values["optimizers"]]
        shown.sort(key=lambda name: name == "L-BFGS")  # its runs are one per setting: the others first
        grids = {control: control_grid(self.controls[control]) for control in AHEAD_CONTROLS}
        here = {control: grid_index(self.controls[control], values[control]) for control in AHEAD_CONTROLS}
        seen = {self.layer_key(name, values) for name in shown}  # computed first (LiveFigure.compute_ahead)

        def layers(names, control: str, index: int):
            if not 0 <= index < len(grids[control]):
                return
            setting = {**values, control: grids[control][index]}
            for name in names:
                key = self.layer_key(name, setting)
                if control in depends_on(name) and key not in seen:
                    seen.add(key)
                    yield "layer", name, setting

        surfaces = sorted(range(len(grids["surface"])), key=lambda index: abs(index - here["surface"]))
        for index in surfaces[1:]:
            yield "background", None, {**values, "surface": grids["surface"][index]}
        if moved in grids and previous is not None:
            side = int(np.sign(here[moved] - grid_index(self.controls[moved], previous[moved])))
            for window in (((side, -side), (2 * side,)) if side else ((1, -1), (2, -2))):
                for step in window:
                    yield from layers(shown, moved, here[moved] + step)
                yield FLUSH
        for name in shown:
            for index in surfaces[1:]:
                yield from layers([name], "surface", index)
            for control in AHEAD_CONTROLS[1:]:
                for step in (1, -1):
                    yield from layers([name], control, here[control] + step)
        for name in OPTIMIZERS:
            if name not in shown:
                for index in surfaces:
                    yield from layers([name], "surface", index)
        yield FLUSH
        for distance in range(2, max(len(grid) for grid in grids.values())):
            for control in AHEAD_CONTROLS[1:]:
                for step in (distance, -distance):
                    yield from layers(shown, control, here[control] + step)
            yield FLUSH

    def compute_ahead(self, items: Sequence, pause):
        """A window's paths run together where torch allows (:func:`course.optimizer_paths.iter_paths`:
        one run per optimizer, L-BFGS one per setting), in the order of each optimizer's first setting."""
        wanted: dict = {}
        for name, values in items:
            wanted.setdefault(self.setting(name, values), []).append((name, values))
        for result in iter_paths(wanted, pause):
            yield [(name, values, self._layer_data(setting, path))
                   for setting, path in result.items() for name, values in wanted[setting]]


def optimizer_controls(surface: str = "Beale", optimizers=("Momentum", "RMSprop", "Adam", "L-BFGS"),
                       num_steps: int = 150, lr_sgd: float = 1e-3, lr_adaptive: float = 0.1, beta: float = 0.9,
                       schedule: str = "constant", batch_size: int = NUM_EXAMPLES) -> dict:
    import ipywidgets as widgets

    if beta not in BETAS:
        raise ValueError(f"beta must be one of the slider's values {BETAS}, not {beta}")
    if batch_size not in BATCH_SIZES:
        raise ValueError(f"batch_size must be one of {BATCH_SIZES}, not {batch_size}")
    sizes = [(f"{b} (SGD)" if b == 1 else f"{b} (full)" if b == NUM_EXAMPLES else str(b), b) for b in BATCH_SIZES]
    return {
        "surface": widgets.Dropdown(options=list(SURFACES), value=surface, description="surface", **wide()),
        "optimizers": widgets.SelectMultiple(options=list(OPTIMIZERS), value=tuple(optimizers), rows=6,
                                             description="optimizers", **wide()),
        "schedule": widgets.Dropdown(options=list(SCHEDULES), value=schedule, description="schedule", **wide()),
        "num_steps": widgets.IntSlider(value=num_steps, min=1, max=MAX_STEPS, description="iterations", **wide()),
        "lr_sgd": widgets.FloatLogSlider(value=lr_sgd, base=10, min=-4, max=-1, step=0.25,
                                         description="lr (SGD family)", readout_format=".1e", **wide()),
        "lr_adaptive": widgets.FloatLogSlider(value=lr_adaptive, base=10, min=-3, max=0.5, step=0.25,
                                              description="lr (adaptive)", readout_format=".1e", **wide()),
        "beta": widgets.SelectionSlider(options=[(f"{b:g}", b) for b in BETAS], value=beta,
                                        description="momentum / β₁", **wide()),
        "batch_size": widgets.SelectionSlider(options=sizes, value=batch_size,
                                              description=f"batch size (of {NUM_EXAMPLES})", **wide()),
    }


def optimizer_explorer(surface: str = "Beale", optimizers=("Momentum", "RMSprop", "Adam", "L-BFGS"),
                       num_steps: int = 150, lr_sgd: float = 1e-3, lr_adaptive: float = 0.1,
                       beta: float = 0.9, schedule: str = "constant", batch_size: int = NUM_EXAMPLES,
                       static_settings=None, static: bool | None = None, prefetch: bool = True):
    """Paths of several ``torch.optim`` optimizers on a surface, with sliders.

    What to look for: momentum overshoots and oscillates across a narrow valley where plain
    SGD crawls; the adaptive methods take steps of about the learning rate whatever the
    gradient's size; L-BFGS reaches Beale's minimum in a few dozen iterations; with a batch
    size below the full batch every path jitters, more the smaller the batch, and a decaying
    schedule (step, cosine) calms the jitter near the minimum where a constant rate keeps it.

    Headless, the static figure shows ``static_settings`` (default: the initial optimizers on
    Beale and on Rosenbrock with the full batch, then Beale with a batch of 4).
    """
    controls = optimizer_controls(surface, optimizers, num_steps, lr_sgd, lr_adaptive, beta, schedule, batch_size)
    if static_settings is None:
        static_settings = [{"surface": "Beale", "batch_size": NUM_EXAMPLES},
                           {"surface": "Rosenbrock", "batch_size": NUM_EXAMPLES},
                           {"surface": "Beale", "batch_size": 4}]
    return OptimizerExplorer(controls).show(static_settings=static_settings, static=static, prefetch=prefetch)


class ScheduleExplorer(Explorer):
    """The multiplier ``η_k / η`` of every chosen schedule over ``T`` steps, on an axis of the
    slider's longest run (a shorter run's curve ends at its ``T``)."""

    figsize = (6.0, 3.6)
    visible = "schedules"
    legend = {"axes": 0, "loc": "upper right"}

    def layers(self) -> list[dict]:
        return [{"name": name, "deps": ["num_steps"] + (["epsilon"] if name == "inverse-time" else []),
                 "color": to_hex(PATH_COLORS[i % len(PATH_COLORS)]), "parts": [L.line(0, xy=False, lw=1.6)]}
                for i, name in enumerate(SCHEDULES)]

    def draw_background(self, fig, values: Mapping) -> list:
        ax = fig.add_subplot()
        ax.set_xlabel("step k (iteration or epoch)")
        ax.set_ylabel(r"$\eta_k / \eta$ (multiplier of the optimizer's lr)")
        ax.set_xlim(0, self.controls["num_steps"].max)
        ax.set_ylim(0, 1.08)
        ax.grid(alpha=0.3)
        return [ax]

    def data(self, name: str, values: Mapping) -> L.LayerData:
        options = {"epsilon": float(values["epsilon"])} if name == "inverse-time" else {}
        return L.LayerData([_multiplier(name, int(values["num_steps"]), **options)])


@lru_cache(maxsize=2048)
def _multiplier(name: str, num_steps: int, **options) -> np.ndarray:
    # every schedule is proportional to the base lr: its curve at lr = 1 is the multiplier
    return lr_curve(name, 1.0, num_steps, **options)


def schedule_explorer(schedules=("step", "exponential", "inverse-time", "cosine"), num_steps: int = 100,
                      epsilon: float = 0.1, static_settings=None, static: bool | None = None,
                      prefetch: bool = True):
    """Learning-rate curves of the schedules in :mod:`course.schedules`, with sliders.

    Every schedule multiplies the optimizer's learning rate ``η`` by a factor; the figure
    shows that factor ``η_k / η`` over ``T`` steps (the axis spans the slider's longest run).
    What to look for: every schedule is defined over the horizon ``T``, so moving ``T``
    stretches its curve without changing its shape (inverse-time takes ε = 10/T by default; this
    slider sets ε itself, so its curve keeps falling at the same rate whatever T); cyclical,
    warm restarts and one-cycle raise the rate again.
    """
    import ipywidgets as widgets

    controls = {
        "schedules": widgets.SelectMultiple(options=list(SCHEDULES), value=tuple(schedules), rows=5,
                                            description="schedules", **wide()),
        "num_steps": widgets.IntSlider(value=num_steps, min=10, max=500, step=10, description="steps T",
                                       **wide()),
        "epsilon": widgets.FloatLogSlider(value=epsilon, base=10, min=-3, max=0, step=0.25,
                                          description="ε (inverse-time)", **wide()),
    }
    if static_settings is None:
        rest = tuple(s for s in SCHEDULES if s not in ("step", "exponential", "inverse-time", "cosine"))
        static_settings = [{"schedules": ("constant", "step", "exponential", "inverse-time", "cosine")},
                           {"schedules": rest}]
    return ScheduleExplorer(controls).show(static_settings=static_settings, static=static, prefetch=prefetch)
