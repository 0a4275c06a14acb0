"""Figures the lectures and assignments share: loss curves, optimizer paths, live curves."""
from __future__ import annotations

import time
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from .surfaces import Surface

__all__ = ["plot_history", "plot_surface", "plot_paths", "LiveCurves", "PATH_COLORS"]

PATH_COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def plot_history(histories: Mapping[str, Mapping], keys=("train_loss", "val_loss"), ax=None,
                 logy: bool = False, title: str | None = None):
    """Overlay per-epoch curves of several runs: ``{"label": history, ...}``.

    Each key gets its own line style (solid for the first, dashed for the second, ...),
    each run its own colour.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    styles = ["-", "--", ":", "-."]
    for i, (label, history) in enumerate(histories.items()):
        color = PATH_COLORS[i % len(PATH_COLORS)]
        for j, key in enumerate(keys):
            if key in history:
                values = np.asarray(history[key], dtype=float)
                ax.plot(np.arange(1, len(values) + 1), values, styles[j % len(styles)], color=color,
                        label=f"{label} ({key})" if len(keys) > 1 else label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(", ".join(keys))
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_surface(surface: Surface, ax=None, num: int = 200, levels: int = 30):
    """Contours of a 2-D surface, its start (circle) and its minimum (star)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    X, Y, Z = surface.grid(num)
    if surface.log_levels:
        Zp = Z - Z.min() + 1e-3
        ax.contour(X, Y, Zp, levels=np.logspace(np.log10(Zp.min()), np.log10(Zp.max()), levels),
                   norm=LogNorm(), cmap="viridis", linewidths=0.6)
    else:
        ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.6)
    ax.plot(*surface.start, "o", color="black", ms=6, label="start")
    if surface.minimum is not None:
        ax.plot(*surface.minimum, "*", color="red", ms=12, label="minimum")
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_title(surface.name)
    return ax


def plot_paths(surface: Surface, paths: Mapping[str, np.ndarray], ax=None, styles=None):
    """Draw optimizer paths ``{"label": (T, 2) array}`` over the surface's contours."""
    ax = plot_surface(surface, ax=ax)
    styles = styles or {}
    for i, (label, path) in enumerate(paths.items()):
        kwargs = {"color": PATH_COLORS[i % len(PATH_COLORS)], "lw": 1.6, "marker": ".", "ms": 3}
        kwargs.update(styles.get(label, {}))
        ax.plot(path[:, 0], path[:, 1], label=label, **kwargs)
    ax.legend(fontsize="small", loc="best")
    return ax


class LiveCurves:
    """A :func:`course.training.fit` callback that redraws loss/accuracy curves every epoch.

    In a live notebook the figure updates in place every ``every`` epochs; headless
    (:func:`course.widgets.is_static`: nbconvert, CI, grading) it is drawn once, when training
    ends, so exported notebooks still show it and no time goes into frames nobody sees.
    """

    def __init__(self, keys=("train_loss", "val_loss"), every: int = 1, title: str | None = None):
        from .widgets import is_static

        self.keys, self.every, self.title = keys, every, title
        self.live = not is_static()
        self.handle = None
        self.fig = None

    def __call__(self, epoch, history, model):
        if self.live and epoch % self.every == 0:
            self.draw(history)
        return False

    def on_train_end(self, history, model):
        self.draw(history)  # the final curves, live or headless

    def draw(self, history):
        from IPython.display import display

        if self.fig is None:
            self.fig, self.ax = plt.subplots(figsize=(6, 3.2))
            plt.close(self.fig)  # shown through the display handle only
        self.ax.clear()
        plot_history({"": history}, keys=self.keys, ax=self.ax, title=self.title)
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)


# ---------------------------------------------------------------- images, diagnostics, embeddings
__all__ += ["show_images", "image_grid", "grid_layout", "image_array", "plot_layer_stats", "plot_lr_range",
            "plot_embedding"]


def image_array(x) -> np.ndarray:
    """One image ``(C, H, W)`` (tensor or array, C = 1 or 3) as an ``imshow``-ready array."""
    x = np.asarray(x.detach().cpu().float() if hasattr(x, "detach") else x, dtype=float)
    return x[0] if x.shape[0] == 1 else np.clip(np.moveaxis(x, 0, -1), 0, 1)


def _grid_geometry(n: int, height: int, width: int, ncols: int, titles: bool):
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    gap_x = max(1, width // 8)
    gap_y = max(2, int(round(0.4 * height))) if titles else gap_x
    return ncols, nrows, gap_x, gap_y


def grid_layout(n: int, height: int, width: int, ncols: int = 8, titles: bool = False):
    """Where :func:`image_grid` puts ``n`` images of ``height x width``: the grid's
    ``(rows, cols)`` and each image's ``(top, left)`` in it."""
    ncols, nrows, gap_x, gap_y = _grid_geometry(n, height, width, ncols, titles)
    shape = (nrows * (height + gap_y), ncols * width + (ncols - 1) * gap_x)
    corners = [(row * (height + gap_y) + gap_y, col * (width + gap_x))
               for row, col in (divmod(i, ncols) for i in range(n))]
    return shape, corners


def image_grid(X, ncols: int = 8, titles: bool = False) -> np.ndarray:
    """The images ``(N, C, H, W)`` tiled into one array, ``ncols`` per row, gaps NaN (transparent).

    Grey images give ``(rows, cols)``, colour images ``(rows, cols, 4)`` RGBA. With
    ``titles=True`` the gap above each row leaves room for a line of text.
    """
    n, (height, width) = len(X), tuple(X.shape[-2:])
    shape, corners = grid_layout(n, height, width, ncols, titles)
    colour = X.shape[1] == 3
    grid = np.zeros(shape + (4,)) if colour else np.full(shape, np.nan)
    for i, (top, left) in enumerate(corners):
        tile = image_array(X[i])
        if colour:
            grid[top:top + height, left:left + width, :3] = tile
            grid[top:top + height, left:left + width, 3] = 1.0
        else:
            grid[top:top + height, left:left + width] = tile
    return grid


def show_images(X, titles=None, ncols: int = 8, fig=None, value_range=(0.0, 1.0),
                cmap: str = "gray", size: float = 1.2):
    """A grid of images ``(N, C, H, W)`` with optional titles, drawn as one picture; returns it.

    Draws on ``fig`` (a ``Figure`` or ``SubFigure``; a new figure by default). Grey images use
    ``cmap`` over ``value_range``; colour images are clipped to [0, 1]. The images are tiled
    into a single ``imshow`` (fast to draw, whatever their number); a widget updates them with
    ``artist.set_data(image_grid(X_new, ncols, titles=...))``.
    """
    n, (height, width) = len(X), tuple(X.shape[-2:])
    ncols, nrows, gap_x, gap_y = _grid_geometry(n, height, width, ncols, titles is not None)
    if fig is None:
        fig = plt.figure(figsize=(size * ncols, size * nrows * (height + gap_y) / height),
                         layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    vmin, vmax = value_range if value_range is not None else (None, None)
    artist = ax.imshow(image_grid(X, ncols, titles is not None), cmap=cmap, vmin=vmin, vmax=vmax,
                       interpolation="nearest")
    if titles is not None:
        for i, title in enumerate(titles[:n]):
            row, col = divmod(i, ncols)
            ax.text(col * (width + gap_x) + (width - 1) / 2, row * (height + gap_y) + gap_y - 0.8,
                    str(title), ha="center", va="bottom", fontsize="small")
    return artist


def plot_layer_stats(stats: Mapping[str, Mapping[str, list]], key: str = "grad_norm", ax=None,
                     logy: bool = True):
    """One line per layer, from :class:`course.diagnostics.GradientStats`.

    Over epochs, or over optimizer steps for a per-step key (``"step_update_ratio"``).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for i, (name, values) in enumerate(stats.items()):
        series = np.asarray(values[key], dtype=float)
        ax.plot(np.arange(1, len(series) + 1), series, marker="." if len(series) <= 50 else None,
                lw=1.5 if len(series) <= 50 else 0.8,
                color=plt.cm.viridis(i / max(len(stats) - 1, 1)), label=name)
    ax.set_xlabel("optimizer step" if key.startswith("step_") else "epoch")
    ax.set_ylabel(key.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    return ax


def plot_lr_range(result, ax=None):
    """Loss against learning rate (log scale) from :func:`course.diagnostics.lr_range_test`."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(result.lrs, result.losses, ".", color="lightgray", label="loss per step")
    ax.plot(result.lrs, result.smoothed, "-", color=PATH_COLORS[0], label="smoothed")
    ax.axvline(result.best_lr, color=PATH_COLORS[3], ls=":", label=f"lowest: {result.best_lr:.2g}")
    ax.axvline(result.suggestion, color=PATH_COLORS[2], ls="--",
               label=f"suggested: {result.suggestion:.2g}")
    finite = np.asarray(result.smoothed, dtype=float)
    finite = finite[np.isfinite(finite)]
    if len(finite):
        ax.set_ylim(0, min(float(finite.max()), 3 * float(finite[0])) * 1.05)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.legend(fontsize="small")
    return ax


def plot_embedding(Z, y, ax=None, class_names=None, title: str | None = None, s: float = 8):
    """A 2-D projection ``Z`` ``(N, 2)`` of features, one colour per class ``y``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    Z, y = np.asarray(Z), np.asarray(y)
    cmap = plt.get_cmap("tab10")
    for c in np.unique(y):
        label = class_names[c] if class_names is not None else str(c)
        ax.scatter(Z[y == c, 0], Z[y == c, 1], s=s, color=cmap(int(c) % 10), label=label, alpha=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    ax.legend(fontsize="x-small", markerscale=2, ncol=2, loc="best")
    return ax


# ---------------------------------------------------------------- several runs, one live figure
__all__ += ["LiveComparison"]


class LiveComparison:
    """One live figure comparing several :func:`course.training.fit` runs, one panel per key.

    >>> live = LiveComparison(keys=("val_loss", "val_acc"))
    >>> for name, optimizer in optimizers.items():
    ...     fit(model, ..., callbacks=[live.run(name)])
    >>> live.finish()  # the final figure; ``live.histories`` holds every run

    ``logy`` puts the loss panels on a log scale; ``ylim={"train_loss": (1e-2, 10)}`` fixes
    a panel's range (a diverging run would otherwise squash the others).
    Live, the figure redraws at most every ``min_interval`` seconds while training runs.
    Headless (see :func:`course.widgets.is_static`) it is drawn once, by :meth:`finish`,
    so executing the notebook stays fast and the export still shows the figure.
    """

    def __init__(self, keys=("train_loss", "val_loss"), title: str | None = None,
                 min_interval: float = 0.5, logy: bool = False, ylim: Mapping | None = None):
        from .widgets import is_static

        self.keys, self.title, self.min_interval, self.logy = tuple(keys), title, min_interval, logy
        self.ylim = dict(ylim or {})  # {key: (bottom, top)}, e.g. to keep a diverged run in view
        self.histories: dict = {}
        self.static = is_static()
        self.handle = None
        self.fig = None
        self._last_draw = -float("inf")

    def run(self, label: str):
        """The callback for one run; its history is stored under ``label``."""

        def callback(epoch, history, model):
            self.histories[label] = history
            if not self.static and time.perf_counter() - self._last_draw >= self.min_interval:
                self.draw()
            return False

        return callback

    def draw(self):
        from IPython.display import display

        if self.fig is None:
            self.fig, axes = plt.subplots(1, len(self.keys), figsize=(4.6 * len(self.keys), 3.3),
                                          squeeze=False, layout="constrained")
            self.axes = axes[0]
            plt.close(self.fig)  # shown through the display handle only
        for ax, key in zip(self.axes, self.keys):
            ax.clear()
            plot_history(self.histories, keys=(key,), ax=ax,
                         logy=self.logy and "acc" not in key)
            ax.set_ylabel(key)
            if key in self.ylim:
                ax.set_ylim(*self.ylim[key])
        if self.title:
            self.fig.suptitle(self.title)
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)
        self._last_draw = time.perf_counter()

    def finish(self):
        """Draw the final state of every run (call it after the last fit)."""
        self.draw()
        return None


# ---------------------------------------------------------------- normalization
__all__ += ["plot_shared_statistics"]

_NORMALIZATION_TITLES = {"batch": "BatchNorm", "ghost": "BatchNorm over groups of {group_size}",
                         "layer": "LayerNorm", "instance": "InstanceNorm", "group": "GroupNorm, G = {groups}"}


def plot_shared_statistics(kinds=("batch", "layer", "instance", "group"), num_examples: int = 6,
                           num_channels: int = 8, groups: int = 4, group_size: int = 2, axes=None):
    """One panel per normalization: the examples × channels grid, shading the slices that share μ and σ².

    Each cell stands for one channel of one example, all its ``H·W`` positions included (every
    normalization here pools over them). The shaded cells are those normalized together with
    the outlined one (:func:`course.normalization.shared_statistics`): a column for BatchNorm,
    a row for LayerNorm, one cell for InstanceNorm, a run of channels for GroupNorm. Returns the axes.
    """
    from .normalization import shared_statistics

    if axes is None:
        _, axes = plt.subplots(1, len(kinds), figsize=(2.6 * len(kinds), 2.6), layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, kind in zip(axes, kinds):
        mask = shared_statistics(kind, num_examples, num_channels, groups=groups, group_size=group_size)
        ax.imshow(mask.numpy().astype(float), cmap="Blues", vmin=-0.25, vmax=1.25, aspect="equal")
        ax.set_xticks(np.arange(-0.5, num_channels), minor=True)
        ax.set_yticks(np.arange(-0.5, num_examples), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="both", length=0)
        ax.set(xticks=[], yticks=[], xlabel="channels $C$", ylabel="examples $B$",
               title=_NORMALIZATION_TITLES.get(kind, kind).format(groups=groups, group_size=group_size))
        ax.add_patch(plt.Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="crimson", linewidth=2.5, zorder=3))
    return axes
