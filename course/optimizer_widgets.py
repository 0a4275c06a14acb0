"""Interactive figures for the optimizers lecture: optimizer paths and learning-rate schedules.

:func:`optimizer_explorer` draws the paths of several ``torch.optim`` optimizers on a 2-D
surface (Beale, Rosenbrock, an ill-conditioned quadratic, a saddle) next to their loss
curves, with controls for the surface, the optimizers, the number of iterations, two
learning rates (one for the SGD family, one for the adaptive methods: they live on
different scales), momentum/β₁ and a learning-rate schedule.

:func:`schedule_explorer` draws the learning-rate curves of the schedules in
:mod:`course.schedules`.

Paths are computed once per setting and cached. Live, the optimizer explorer's lines are
drawn by the browser from arrays the kernel sends (:mod:`course.path_explorer`); the
schedule explorer sends images (:mod:`course.widgets`). Both fall back to static panels
when headless.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import torch
from matplotlib.ticker import LogLocator, NullLocator

from .plots import PATH_COLORS, plot_surface
from .schedules import SCHEDULES, lr_curve, scheduler_factory
from .surfaces import SURFACES, PathRecorder, Surface
from .widgets import InteractiveFigure, interactive_figure

if TYPE_CHECKING:
    from .path_explorer import PathExplorer

__all__ = ["OptimizerSpec", "OPTIMIZERS", "OPTIMIZER_COLORS", "optimizer_paths", "optimizer_explorer",
           "schedule_explorer", "MAX_STEPS"]

MAX_STEPS = 300  # the iteration slider's maximum, and the horizon of every schedule


@dataclass(frozen=True)
class OptimizerSpec:
    """How a named optimizer is built from the explorer's controls.

    ``family`` says which learning rate it takes: ``"sgd"`` (the SGD learning rate),
    ``"adaptive"`` (the adaptive learning rate) or ``"own"`` (its own, fixed in ``hyper``).
    ``beta`` is the name of the keyword the momentum/β₁ slider sets, if any.
    """

    optimizer_cls: type
    family: str
    hyper: tuple = ()
    beta: str | None = None

    def build_kwargs(self, lr_sgd: float, lr_adaptive: float, beta: float) -> dict:
        kwargs = dict(self.hyper)
        if self.family == "sgd":
            kwargs["lr"] = lr_sgd
        elif self.family == "adaptive":
            kwargs["lr"] = lr_adaptive
        if self.beta == "momentum":
            kwargs["momentum"] = beta
            if not beta:  # Nesterov without momentum is plain SGD (torch refuses the combination)
                kwargs.pop("nesterov", None)
        elif self.beta == "betas":
            kwargs["betas"] = (beta, 0.999)
        return kwargs


OPTIMIZERS: dict[str, OptimizerSpec] = {
    "SGD": OptimizerSpec(torch.optim.SGD, "sgd"),
    "Momentum": OptimizerSpec(torch.optim.SGD, "sgd", beta="momentum"),
    "Nesterov": OptimizerSpec(torch.optim.SGD, "sgd", (("nesterov", True),), beta="momentum"),
    "AdaGrad": OptimizerSpec(torch.optim.Adagrad, "adaptive"),
    "RMSprop": OptimizerSpec(torch.optim.RMSprop, "adaptive"),
    "AdaDelta": OptimizerSpec(torch.optim.Adadelta, "own", (("lr", 1.0), ("rho", 0.9))),
    "Adam": OptimizerSpec(torch.optim.Adam, "adaptive", beta="betas"),
    "AdaMax": OptimizerSpec(torch.optim.Adamax, "adaptive", beta="betas"),
    "NAdam": OptimizerSpec(torch.optim.NAdam, "adaptive", beta="betas"),
    "AMSGrad": OptimizerSpec(torch.optim.Adam, "adaptive", (("amsgrad", True),), beta="betas"),
    "AdamW": OptimizerSpec(torch.optim.AdamW, "adaptive", (("weight_decay", 0.1),), beta="betas"),
    "L-BFGS": OptimizerSpec(torch.optim.LBFGS, "own", (("lr", 1.0), ("max_iter", 1), ("max_eval", 25),
                                                         ("history_size", 10),
                                                         ("line_search_fn", "strong_wolfe"))),
}


# one colour per optimizer, the same in every figure (tab10 and two more)
OPTIMIZER_COLORS = dict(zip(OPTIMIZERS, PATH_COLORS[:10] + ["black", "goldenrod"]))


@lru_cache(maxsize=1024)
def _recorder(surface_name: str, optimizer: str, lr_sgd: float, lr_adaptive: float, beta: float,
              schedule: str) -> PathRecorder:
    spec = OPTIMIZERS[optimizer]
    kwargs = spec.build_kwargs(lr_sgd, lr_adaptive, beta)
    factory = scheduler_factory(schedule, MAX_STEPS)  # optimizer_paths gives L-BFGS "constant"
    return PathRecorder(SURFACES[surface_name], spec.optimizer_cls, scheduler=factory, **kwargs)


def optimizer_paths(surface: str, optimizers, num_steps: int, lr_sgd: float = 1e-3,
                    lr_adaptive: float = 0.1, beta: float = 0.9,
                    schedule: str = "constant") -> dict[str, np.ndarray]:
    """``{optimizer name: (num_steps + 1, 2) path}`` on the named surface (cached)."""
    if num_steps > MAX_STEPS:
        raise ValueError(f"at most {MAX_STEPS} steps (the schedules' horizon), not {num_steps}")
    return {name: _path_recorder(surface, name, lr_sgd, lr_adaptive, beta, schedule).path(num_steps)
            for name in optimizers}


def _path_recorder(surface: str, name: str, lr_sgd: float, lr_adaptive: float, beta: float,
                   schedule: str) -> PathRecorder:
    """The cached recorder of optimizer ``name``: its key holds only what this optimizer uses
    (moving the adaptive learning rate does not recompute momentum's path, and nothing
    recomputes L-BFGS but the surface)."""
    spec = OPTIMIZERS[name]
    return _recorder(surface, name,
                     float(lr_sgd) if spec.family == "sgd" else None,
                     float(lr_adaptive) if spec.family == "adaptive" else None,
                     float(beta) if spec.beta else None,
                     # L-BFGS chooses its own step by line search: no schedule
                     "constant" if name == "L-BFGS" else schedule)


def _depends_on(name: str) -> list[str]:
    """The controls optimizer ``name``'s path depends on (the same rule as its cache key)."""
    spec = OPTIMIZERS[name]
    return (["surface"] + (["lr_sgd"] if spec.family == "sgd" else [])
            + (["lr_adaptive"] if spec.family == "adaptive" else []) + (["beta"] if spec.beta else [])
            + ([] if name == "L-BFGS" else ["schedule"]))


def _gap(surface: Surface, path: np.ndarray) -> np.ndarray:
    """``f(x_k) - f(x*)``, floored for a log axis."""
    best = float(surface.f(np.asarray(surface.minimum))) if surface.minimum is not None else 0.0
    return np.maximum(np.asarray(surface.f(path)) - best, 1e-12)


def _draw_axes(ax_path, ax_loss, surf: Surface, horizon: int) -> None:
    """What does not move: the surface's contours, and the loss axes up to ``horizon``."""
    plot_surface(surf, ax=ax_path)
    ax_loss.set_yscale("log")
    # a decade per tick at most, no minor ticks: tick labels are most of the drawing time
    ax_loss.yaxis.set_major_locator(LogLocator(numticks=7))
    ax_loss.yaxis.set_minor_locator(NullLocator())
    ax_loss.set_xlim(0, horizon)
    ax_loss.set_ylim(1e-10, float(_gap(surf, np.asarray([surf.start]))[0]) * 30)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel(r"$f(x_k) - f(x^*)$")
    ax_loss.grid(alpha=0.3)


def _build_paths(fig, surface, optimizers, num_steps, lr_sgd, lr_adaptive, beta, schedule):
    ax_path, ax_loss = fig.subplots(1, 2, width_ratios=(1.3, 1))
    lines, ends, curves = {}, {}, {}
    shown = {"surface": None, "optimizers": None, "horizon": num_steps, "legend": None}

    def draw_background(surface_name):
        """Contours and empty (animated) artists for every optimizer: only when the surface changes."""
        ax_path.clear()
        ax_loss.clear()
        _draw_axes(ax_path, ax_loss, SURFACES[surface_name], shown["horizon"])
        for name in OPTIMIZERS:
            kw = {"color": OPTIMIZER_COLORS[name], "animated": True, "visible": False}
            lines[name], = ax_path.plot([], [], lw=1.6, marker=".", ms=3, label=name, **kw)
            ends[name], = ax_path.plot([], [], "o", ms=5, mec="white", **kw)
            curves[name], = ax_loss.plot([], [], lw=1.4, **kw)
        shown.update(surface=surface_name, optimizers=None, legend=None)

    def choose(selected):
        """Show the chosen optimizers, with their legend (drawn once, in the background)."""
        for name in OPTIMIZERS:
            for artist in (lines[name], ends[name], curves[name]):
                artist.set_visible(name in selected)
        if shown["legend"] is not None:
            shown["legend"].remove()
            shown["legend"] = None
        if selected:
            shown["legend"] = ax_path.legend(handles=[lines[name] for name in selected],
                                             fontsize="small", loc="upper left")
        shown["optimizers"] = tuple(selected)

    def update(surface, optimizers, num_steps, lr_sgd, lr_adaptive, beta, schedule):
        full = shown["surface"] != surface
        if num_steps > shown["horizon"]:  # widen the loss axis once, to the slider's maximum
            shown["horizon"], full = MAX_STEPS, True
        if full:
            draw_background(surface)
        if shown["optimizers"] != tuple(optimizers):
            choose(optimizers)
            full = True  # the legend changed
        paths = optimizer_paths(surface, optimizers, num_steps, lr_sgd, lr_adaptive, beta, schedule)
        surf = SURFACES[surface]
        for name, path in paths.items():
            lines[name].set_data(path[:, 0], path[:, 1])
            last = path[~np.isnan(path[:, 0])][-1]
            ends[name].set_data([last[0]], [last[1]])
            ok = ~np.isnan(path[:, 0])
            curves[name].set_data(np.arange(len(path))[ok], _gap(surf, path[ok]))
        return full

    update(surface, optimizers, num_steps, lr_sgd, lr_adaptive, beta, schedule)
    return update


def optimizer_explorer(surface: str = "Beale", optimizers=("Momentum", "RMSprop", "Adam", "L-BFGS"),
                       num_steps: int = 150, lr_sgd: float = 1e-3, lr_adaptive: float = 0.1,
                       beta: float = 0.9, schedule: str = "constant",
                       static_settings=None, static: bool | None = None,
                       prefetch: bool = True) -> "InteractiveFigure | PathExplorer":
    """Paths of several ``torch.optim`` optimizers on a surface, with sliders.

    Live, a :class:`course.path_explorer.PathExplorer`: the paths are computed here and drawn
    by the browser, so sliders answer without a round trip (``prefetch``: compute the
    neighbouring settings ahead of time). Headless, the static figure shows
    ``static_settings`` (default: the initial optimizers on Beale and on Rosenbrock, the two
    classic test functions).
    """
    from .widgets import is_static

    import ipywidgets as widgets

    wide = {"style": {"description_width": "initial"}, "layout": widgets.Layout(width="32%")}
    controls = {
        "surface": widgets.Dropdown(options=list(SURFACES), value=surface, description="surface", **wide),
        "optimizers": widgets.SelectMultiple(options=list(OPTIMIZERS), value=tuple(optimizers),
                                             rows=6, description="optimizers", **wide),
        "schedule": widgets.Dropdown(options=list(SCHEDULES), value=schedule, description="schedule", **wide),
        "num_steps": widgets.IntSlider(value=num_steps, min=1, max=MAX_STEPS, description="iterations", **wide),
        "lr_sgd": widgets.FloatLogSlider(value=lr_sgd, base=10, min=-4, max=-1, step=0.25,
                                         description="lr (SGD family)", readout_format=".1e", **wide),
        "lr_adaptive": widgets.FloatLogSlider(value=lr_adaptive, base=10, min=-3, max=0.5, step=0.25,
                                              description="lr (adaptive)", readout_format=".1e", **wide),
        "beta": widgets.FloatSlider(value=beta, min=0.0, max=0.99, step=0.01,
                                    description="momentum / β₁", **wide),
    }
    if not (is_static() if static is None else static):
        from .path_explorer import PathExplorer

        return PathExplorer(controls, figsize=(9.5, 4.0), prefetch=prefetch)
    if static_settings is None:
        static_settings = [{"surface": "Beale"}, {"surface": "Rosenbrock"}]
    return interactive_figure(_build_paths, controls, static_settings=static_settings,
                              figsize=(9.5, 4.0), ncols=1, static=True)


def _build_schedules(fig, schedules, num_steps, epsilon):
    ax = fig.add_subplot()
    lines = {name: ax.plot([], [], lw=1.6, label=name, color=PATH_COLORS[i % len(PATH_COLORS)],
                           animated=True)[0]
             for i, name in enumerate(SCHEDULES)}
    ax.set_xlabel("step k (iteration or epoch)")
    ax.set_ylabel(r"$\eta_k / \eta$ (multiplier of the optimizer's lr)")
    ax.set_ylim(0, 1.08)
    ax.grid(alpha=0.3)
    # the x axis changes with the steps slider: animated, it is redrawn with the curves
    # instead of the whole figure (its grid lines go with it)
    ax.xaxis.set_animated(True)
    shown = {"schedules": None}

    def update(schedules, num_steps, epsilon):
        for name, line in lines.items():
            line.set_visible(name in schedules)
            if name in schedules:
                options = {"epsilon": epsilon} if name == "inverse-time" else {}
                # every schedule is proportional to the base lr: its curve at lr = 1 is the multiplier
                line.set_data(np.arange(num_steps), _cached_curve(name, 1.0, num_steps, **options))
        full = False
        ax.set_xlim(0, num_steps)
        if shown["schedules"] != tuple(schedules):
            ax.legend(handles=[lines[n] for n in schedules], fontsize="small", loc="upper right")
            shown["schedules"], full = tuple(schedules), True
        return full  # only a new legend needs the background redrawn

    update(schedules, num_steps, epsilon)
    return update


@lru_cache(maxsize=512)
def _cached_curve(name: str, lr: float, num_steps: int, **options) -> np.ndarray:
    return lr_curve(name, lr, num_steps, **options)


def schedule_explorer(schedules=("step", "exponential", "inverse-time", "cosine"), num_steps: int = 100,
                      epsilon: float = 0.1, static_settings=None, static: bool | None = None) -> InteractiveFigure:
    """Learning-rate curves of the schedules in :mod:`course.schedules`, with sliders.

    Every schedule multiplies the optimizer's learning rate ``η`` by a factor; the figure
    shows that factor ``η_k / η`` over ``num_steps`` steps.
    """
    import ipywidgets as widgets

    wide = {"style": {"description_width": "initial"}, "layout": widgets.Layout(width="32%")}
    controls = {
        "schedules": widgets.SelectMultiple(options=list(SCHEDULES), value=tuple(schedules), rows=5,
                                            description="schedules", **wide),
        "num_steps": widgets.IntSlider(value=num_steps, min=10, max=500, step=10, description="steps T",
                                       **wide),
        "epsilon": widgets.FloatLogSlider(value=epsilon, base=10, min=-3, max=0, step=0.25,
                                          description="ε (inverse-time)", **wide),
    }
    if static_settings is None:
        rest = tuple(s for s in SCHEDULES if s not in ("step", "exponential", "inverse-time", "cosine"))
        static_settings = [{"schedules": ("constant", "step", "exponential", "inverse-time", "cosine")},
                           {"schedules": rest}]
    return interactive_figure(_build_schedules, controls, static_settings=static_settings,
                              figsize=(6.0, 3.6), static=static)
