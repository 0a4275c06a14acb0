"""Lecture 6's explorers: activation functions, and signals through depth.

- :func:`activation_explorer`: an activation and its derivative (autograd), with leaky ReLU's
  slope on a slider.
- :func:`initialization_explorer`: depth, initialization and activation of a deep MLP, and
  how the size of the activations (forward) and gradients (backward) changes layer by layer.

Every setting is computed ahead and drawn by the browser (:mod:`course.widgets.live`).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import torch
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D

from ..activations import ACTIVATIONS, INITIALIZATIONS, activation_and_derivative, input_generator, make_deep_mlp
from ..device import configure_cpu_threads
from ..plots import PATH_COLORS
from . import layers as L
from .explorer import Explorer

__all__ = ["ActivationExplorer", "activation_explorer", "signal_statistics_by_depth", "InitializationExplorer",
           "initialization_explorer", "DEPTHS"]

C0, C1, C2 = (to_hex(c) for c in PATH_COLORS[:3])
DEPTHS = (2, 3, 5, 10, 15, 20, 30)  # the depth slider's values


class ActivationExplorer(Explorer):
    """``f(x)`` and ``f'(x)`` on [-5, 5] for the chosen activation, the others faint."""

    figsize = (7.0, 2.8)
    ncols = 2
    x = torch.linspace(-5, 5, 401)

    def layers(self) -> list[dict]:
        return [{"name": "activation", "deps": ["activation", "negative_slope"], "color": C0,
                 "parts": [L.line(0, axes=0, lw=2.5, color=C0), L.line(1, axes=1, lw=2.5, color=C1),
                           L.text(0, 0.03, 0.95, axes=0, size=9)]}]

    def draw_background(self, fig, values: Mapping) -> list:
        ax_f, ax_df = fig.subplots(1, 2)
        for name in ACTIVATIONS:
            y, dy = activation_and_derivative(name, self.x, 0.1)
            ax_f.plot(self.x, y, color="0.85", lw=1)
            ax_df.plot(self.x, dy, color="0.85", lw=1)
        for ax, title in ((ax_f, "f(x)"), (ax_df, "f'(x)  (autograd)")):
            ax.axhline(0, color="0.6", lw=0.5)
            ax.axvline(0, color="0.6", lw=0.5)
            ax.set_xlabel("x")
            ax.set_title(title)
            ax.set_xlim(-5, 5)
        ax_f.set_ylim(-1.5, 5)
        ax_df.set_ylim(-0.2, 1.3)
        return [ax_f, ax_df]

    def data(self, name: str, values: Mapping) -> L.LayerData:
        activation, slope = values["activation"], float(values["negative_slope"])
        y, dy = activation_and_derivative(activation, self.x, slope)
        x = self.x.numpy()
        label = f"{activation}: max f' = {float(dy.max()):.2f}"
        if activation == "leaky_relu":
            label += f" (slope {slope:g} below 0)"
        return L.LayerData([np.column_stack([x, y.numpy()]).ravel(), np.column_stack([x, dy.numpy()]).ravel()],
                           [label])


def activation_explorer(static_settings=None, static: bool | None = None, prefetch: bool = True):
    """``f(x)`` and ``f'(x)`` on [-5, 5] for the chosen activation (the others faint).

    What to look for: the sigmoid's derivative never exceeds 0.25 and tanh's 1, both
    vanish for large ``|x|`` (saturation); ReLU's is 0 or 1 (0 for every negative input:
    a unit that only sees negative inputs stops learning); leaky ReLU keeps the slope of the
    slider below 0; GELU dips slightly below 0 for negative inputs.
    """
    import ipywidgets as widgets

    controls = {
        "activation": widgets.Dropdown(options=list(ACTIVATIONS), value="sigmoid", description="activation"),
        "negative_slope": widgets.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.01, description="leaky slope"),
    }
    if static_settings is None:
        static_settings = [{"activation": name} for name in ("sigmoid", "tanh", "relu", "leaky_relu")]
    return ActivationExplorer(controls).show(static_settings=static_settings, static=static, prefetch=prefetch)


def signal_statistics_by_depth(depths: Sequence[int], width: int = 256, activation: str = "tanh",
                               init: str = "glorot", n: int = 512, seed: int = 0) -> dict[int, dict]:
    """:func:`course.activations.signal_statistics` for several depths at once: ``{depth: stats}``.

    The networks of every depth share their first layers (the same seed draws the same
    weights in the same order), the inputs and the random output weights ``r``; so one
    forward pass through the deepest serves all, and each depth backpropagates its own loss
    ``sum(output_d · r)`` from its last block.
    """
    deepest = max(depths)
    model = make_deep_mlp(deepest, width, activation, init, seed)
    generator = input_generator(seed)  # the inputs, r and the sample signal_statistics draws
    X = torch.randn(n, width, generator=generator)
    outputs, h = [], X
    with torch.enable_grad():
        for block in model:
            h = block(h)
            if not isinstance(block, torch.nn.Linear):
                outputs.append(h)
        r = torch.randn(h.shape, generator=generator)
        sample = torch.randperm(n * width, generator=generator)[:4000]
        activation_std = [o.detach().std().item() for o in outputs]
        activations = [o.detach().flatten()[sample].numpy() for o in outputs]
        stats = {}
        for depth in sorted(set(depths)):
            grads = torch.autograd.grad((outputs[depth - 1] * r).sum(), outputs[:depth], retain_graph=True)
            stats[depth] = {"activation_std": activation_std[:depth],
                            "gradient_std": [g.std().item() for g in grads],
                            "activations": activations[:depth]}
    return stats


def _log_magnitudes(values: np.ndarray) -> tuple[np.ndarray, float]:
    """``log10 |v|`` of the values that are not zero, and the fraction that are exactly zero."""
    values = np.asarray(values, dtype=np.float64)
    nonzero = values[values != 0]
    return np.log10(np.abs(nonzero)), 1 - len(nonzero) / max(len(values), 1)


def _shown_layers(depth: int) -> list[int]:
    """The first, a middle and the last layer (0-based)."""
    return [0, depth // 2, depth - 1]


class InitializationExplorer(Explorer):
    """Left: how large the activations of the first, a middle and the last layer are (a
    histogram of ``log10 |activation|``; each decade is a factor 10). Right: the standard
    deviation of the activations and of the gradients at every layer (log scale)."""

    figsize = (9.0, 3.2)
    ncols = 2
    background_deps = ("init", "activation")  # the axes' ranges cover every depth of a network

    def __init__(self, controls: Mapping, width: int = 256, n: int = 512):
        super().__init__(controls)
        self.width, self.n = width, n
        self._stats: dict[tuple, dict] = {}
        self._ranges: dict[tuple, tuple] = {}
        configure_cpu_threads()  # small tensors: torch's threads wait for each other on a busy machine

    def statistics(self, activation: str, init: str, depths: Sequence[int]) -> dict[int, dict]:
        """``{depth: stats}`` (cached); the depths not known yet are computed in one pass (live,
        with the deepest network's)."""
        missing = {d for d in depths if (activation, init, d) not in self._stats}
        if missing:
            if self.live and (activation, init, max(DEPTHS)) not in self._stats:
                missing.add(max(DEPTHS))  # the axes' ranges come from it
            computed = signal_statistics_by_depth(sorted(missing), self.width, activation, init, self.n)
            self._stats.update({(activation, init, d): stats for d, stats in computed.items()})
        return {d: self._stats[(activation, init, d)] for d in depths}

    def layers(self) -> list[dict]:
        colours = (C0, C1, C2)
        return [{"name": "signals", "deps": ["depth", "init", "activation"], "color": C0,
                 "parts": [*(L.line(i, axes=0, lw=1.5, color=c) for i, c in enumerate(colours)),
                           *(L.text(i, 0.03, 0.96 - 0.09 * i, axes=0, size=7.5, color=c) for i, c in enumerate(colours)),
                           L.line(3, axes=1, lw=1.5, color=C0, markers=L.marker("o", 3)),
                           L.line(4, axes=1, lw=1.5, color=C1, dash=(5.5, 2.4), markers=L.marker("s", 3)),
                           L.text(3, 0.5, 1.02, axes=1, size=9, ha="center", va="bottom")]}]

    def ranges(self, activation: str, init: str, depth: int) -> tuple[tuple[float, float], tuple[float, float]]:
        """The histogram's ``log10 |a|`` range and the std axis' range of the network of ``depth``."""
        if (activation, init, depth) not in self._ranges:
            stats = self.statistics(activation, init, [depth])[depth]
            logs = np.concatenate([_log_magnitudes(a)[0] for a in stats["activations"]] + [[0.0]])
            stds = np.array([v for v in stats["activation_std"] + stats["gradient_std"] if math.isfinite(v) and v > 0])
            self._ranges[(activation, init, depth)] = (
                (math.floor(logs.min()) - 0.5, math.ceil(logs.max()) + 0.5),
                (10 ** (math.floor(np.log10(stds.min())) - 0.3), 10 ** (math.ceil(np.log10(stds.max())) + 0.3)))
        return self._ranges[(activation, init, depth)]

    def axes_depth(self, values: Mapping) -> int:
        """The depth whose ranges the axes take: live, the deepest network (whose first layers every
        shallower one shares; its gradients shrink or grow over the most layers, so a shallower
        network's lines stay inside, or leave the axes), so that the axes stay put as the depth
        moves; static, the panel's own."""
        return max(DEPTHS) if self.live else int(values["depth"])

    def draw_background(self, fig, values: Mapping) -> list:
        (lo, hi), std_range = self.ranges(values["activation"], values["init"], self.axes_depth(values))
        ax_hist, ax_std = fig.subplots(1, 2)
        ax_hist.set(xlim=(lo, hi), ylim=(0, 1.15), yticks=[], xlabel=r"$\log_{10}$ |activation|")
        ax_hist.set_title("how large the activations are", fontsize="medium")
        ax_std.set(xlim=(0.5, max(DEPTHS) + 0.5), ylim=std_range, yscale="log", xlabel="layer")
        ax_std.legend(handles=[Line2D([], [], color=C0, marker="o", ms=3, label="activations (forward)"),
                               Line2D([], [], color=C1, marker="s", ms=3, ls="--", label="gradients (backward)")],
                      fontsize="x-small", loc="lower left")
        ax_std.grid(alpha=0.3)
        return [ax_hist, ax_std]

    def data(self, name: str, values: Mapping) -> L.LayerData:
        depth, init, activation = int(values["depth"]), values["init"], values["activation"]
        stats = self.statistics(activation, init, [depth])[depth]
        (lo, hi), _ = self.ranges(activation, init, self.axes_depth(values))
        edges = np.arange(lo, hi + 1e-9, 0.25)
        arrays, texts = [], []
        for k in _shown_layers(depth):
            logs, zeros = _log_magnitudes(stats["activations"][k])
            counts, _ = np.histogram(logs, bins=edges)
            x = np.repeat(edges, 2)
            y = np.concatenate([[0.0], np.repeat(counts / max(counts.max(), 1), 2), [0.0]])
            arrays.append(np.column_stack([x, y]).ravel())
            text = f"layer {k + 1}: std {stats['activation_std'][k]:.2g}"
            texts.append(text + (f", {zeros:.0%} exactly 0" if zeros > 0.005 else ""))
        layers = np.arange(1, depth + 1, dtype=float)
        for key in ("activation_std", "gradient_std"):
            arrays.append(np.column_stack([layers, stats[key]]).ravel())
        texts.append(f"std per layer: {activation}, {init}, depth {depth}")
        return L.LayerData(arrays, texts)

    def compute_ahead(self, items: Sequence, pause):
        """The depths of one network computed together (one forward pass)."""
        combos: dict[tuple, list] = {}
        for name, values in items:
            combos.setdefault((values["activation"], values["init"]), []).append((name, values))
        for (activation, init), wanted in combos.items():
            pause()
            self.statistics(activation, init, [int(values["depth"]) for _, values in wanted])
            yield [(name, values, self.data(name, values)) for name, values in wanted]


def initialization_explorer(width: int = 256, static_settings=None, static: bool | None = None,
                            prefetch: bool = True):
    """Depth, initialization and activation of a deep MLP against the size of its signals.

    What to look for: with a fixed small standard deviation (``normal0.01``) the activations
    shrink by about the same factor at every layer (the histograms march left, the lines fall
    straight on the log axis) and so do the gradients on their way back; with ``normal1``
    tanh saturates (magnitudes pile up at 1) and ReLU explodes; Glorot suits tanh and He
    suits ReLU: the lines stay within a factor of a few over 30 layers. Change the depth to
    see that the rate per layer stays the same: depth multiplies it.
    """
    import ipywidgets as widgets

    controls = {
        "depth": widgets.SelectionSlider(options=DEPTHS, value=10, description="depth"),
        "init": widgets.Dropdown(options=list(INITIALIZATIONS), value="glorot", description="init"),
        "activation": widgets.Dropdown(options=["tanh", "relu", "sigmoid"], value="tanh", description="activation"),
    }
    if static_settings is None:
        static_settings = [{"activation": "tanh", "init": "normal0.01"},
                           {"activation": "tanh", "init": "glorot"},
                           {"activation": "relu", "init": "glorot"},
                           {"activation": "relu", "init": "he"}]
    return InitializationExplorer(controls, width).show(static_settings=static_settings, static=static,
                                                        prefetch=prefetch)
