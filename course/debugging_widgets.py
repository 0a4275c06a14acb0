"""The debugging lecture's explorers: activation functions, and signals through depth.

- :func:`activation_explorer`: an activation and its derivative (autograd), with leaky ReLU's
  slope on a slider.
- :func:`initialization_explorer`: depth, initialization and activation of a deep MLP, and
  how the spread of activations (forward) and gradients (backward) changes layer by layer.

Static panels when headless (see :mod:`course.widgets`).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .activations import ACTIVATIONS, INITIALIZATIONS, activation_and_derivative, signal_statistics
from .plots import PATH_COLORS
from .widgets import InteractiveFigure, interactive_figure

__all__ = ["activation_explorer", "initialization_explorer"]


def activation_explorer(static_settings=None) -> InteractiveFigure:
    """``f(x)`` and ``f'(x)`` on [-5, 5] for the chosen activation (the others faint)."""
    import ipywidgets as widgets

    x = torch.linspace(-5, 5, 401)
    names = list(ACTIVATIONS)

    def build(fig, activation, negative_slope):
        ax_f, ax_df = fig.subplots(1, 2)
        for name in names:
            y, dy = activation_and_derivative(name, x, 0.1)
            ax_f.plot(x, y, color="0.85", lw=1)
            ax_df.plot(x, dy, color="0.85", lw=1)
        line_f, = ax_f.plot([], [], color=PATH_COLORS[0], lw=2.5, animated=True)
        line_df, = ax_df.plot([], [], color=PATH_COLORS[1], lw=2.5, animated=True)
        label = ax_f.text(0.03, 0.92, "", transform=ax_f.transAxes, animated=True)
        for ax, title in ((ax_f, "f(x)"), (ax_df, "f'(x)  (autograd)")):
            ax.axhline(0, color="0.6", lw=0.5)
            ax.axvline(0, color="0.6", lw=0.5)
            ax.set_xlabel("x")
            ax.set_title(title)
        ax_f.set_ylim(-1.5, 5)
        ax_df.set_ylim(-0.2, 1.3)

        def update(activation, negative_slope):
            y, dy = activation_and_derivative(activation, x, negative_slope)
            line_f.set_data(x, y)
            line_df.set_data(x, dy)
            peak = float(dy.max())
            label.set_text(f"{activation}: max f' = {peak:.2f}")

        update(activation, negative_slope)
        return update

    controls = {
        "activation": widgets.Dropdown(options=names, value="sigmoid", description="activation"),
        "negative_slope": widgets.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.01,
                                              description="leaky slope"),
    }
    if static_settings is None:
        static_settings = [{"activation": name} for name in ("sigmoid", "tanh", "relu", "leaky_relu")]
    return interactive_figure(build, controls, static_settings=static_settings, figsize=(7, 2.8),
                              ncols=2)


@lru_cache(maxsize=64)
def _statistics(depth, width, activation, init):
    return signal_statistics(depth=depth, width=width, activation=activation, init=init)


def initialization_explorer(width: int = 256, static_settings=None) -> InteractiveFigure:
    """Depth, initialization and activation of a deep MLP against the spread of its signals.

    Left: histograms of a few layers' activations. Right: the standard deviation of the
    activations and of the gradients at every layer (log scale): flat lines mean the signal
    survives; falling lines vanish, rising ones explode.
    """
    import ipywidgets as widgets

    def build(fig, depth, init, activation):
        ax_hist, ax_std = fig.subplots(1, 2)

        def draw(depth, init, activation):
            stats = _statistics(depth, width, activation, init)
            ax_hist.clear()
            ax_std.clear()
            shown = sorted({0, depth // 2, depth - 1})
            for k in shown:
                values = stats["activations"][k]
                spread = max(float(np.abs(values).max()), 1e-12)
                ax_hist.hist(values, bins=np.linspace(-spread, spread, 41), histtype="step", lw=1.5,
                             label=f"layer {k + 1} (std {stats['activation_std'][k]:.2g})")
            ax_hist.set_yscale("log")
            ax_hist.set_title("activations", fontsize="medium")
            ax_hist.legend(fontsize="x-small")
            layers = np.arange(1, depth + 1)
            ax_std.plot(layers, stats["activation_std"], "o-", ms=3, label="activations (forward)")
            ax_std.plot(layers, stats["gradient_std"], "s--", ms=3, label="gradients (backward)")
            ax_std.set_yscale("log")
            ax_std.set_xlabel("layer")
            ax_std.set_title(f"std per layer: {activation}, {init}", fontsize="medium")
            ax_std.legend(fontsize="x-small")

        draw(depth, init, activation)

        def update(depth, init, activation):
            draw(depth, init, activation)
            return True  # axes and scales change: redraw everything

        return update

    controls = {
        "depth": widgets.IntSlider(value=10, min=2, max=30, description="depth"),
        "init": widgets.Dropdown(options=list(INITIALIZATIONS), value="glorot", description="init"),
        "activation": widgets.Dropdown(options=["tanh", "relu", "sigmoid"], value="tanh",
                                       description="activation"),
    }
    if static_settings is None:
        static_settings = [{"activation": "tanh", "init": "normal0.01"},
                           {"activation": "tanh", "init": "glorot"},
                           {"activation": "relu", "init": "glorot"},
                           {"activation": "relu", "init": "he"}]
    return interactive_figure(build, controls, static_settings=static_settings, figsize=(8, 3),
                              ncols=2)
