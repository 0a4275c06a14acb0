"""Lecture 4's explorer: sliders for dropout and weight decay over a grid of training runs.

The runs come from :func:`course.regularization_grid.sweep` (each with validation and test
metrics per epoch). :func:`regularization_explorer` chooses the best run on validation,
marks it on the grid and reports its test figure: the split that chose it is not the one
that reports it. The sliders only choose which run's curves are shown; every run is sent
to the browser ahead.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D

from ..plots import PATH_COLORS
from ..regularization_grid import choose_on_validation
from . import layers as L
from .explorer import Explorer

__all__ = ["RegularizationExplorer", "regularization_explorer"]


def _label(metric: str) -> str:
    words = {"val": "validation", "test": "test", "acc": "accuracy", "loss": "loss"}
    return " ".join(words.get(part, part) for part in metric.split("_"))


class RegularizationExplorer(Explorer):
    """Left: the chosen run's training and validation loss (every run's validation loss in
    grey). Right: every run's final validation ``metric``; the run chosen on validation starred,
    with its ``report`` metric on the test split; the run the sliders show framed."""

    figsize = (8.5, 3.4)
    ncols = 2

    def __init__(self, controls: Mapping, runs: Mapping[tuple[float, float], Mapping], metric: str = "val_acc",
                 report: str = "test_acc"):
        super().__init__(controls)
        missing = [key for key, history in runs.items() if report not in history or metric not in history]
        if missing:
            raise ValueError(f"runs {missing[:3]} have no {report!r} or {metric!r}: train them with "
                             "sweep(..., test_data=split.test) so that the winner chosen on validation "
                             "can be reported on the test split")
        self.runs, self.metric, self.report = dict(runs), metric, report
        self.dropouts = sorted({p for p, _ in runs})
        self.weight_decays = sorted({wd for _, wd in runs})
        self.final = np.array([[runs[(p, wd)][metric][-1] for wd in self.weight_decays] for p in self.dropouts])
        self.chosen = choose_on_validation(self.runs, metric)
        self.top = max(max(max(h["train_loss"]), max(h["val_loss"])) for h in runs.values())

    def layers(self) -> list[dict]:
        return [{"name": "run", "deps": ["dropout", "weight_decay"], "color": to_hex(PATH_COLORS[0]),
                 "parts": [L.line(0, axes=0, lw=2, color=to_hex(PATH_COLORS[0])),
                           L.line(1, axes=0, lw=2, color=to_hex(PATH_COLORS[1])),
                           L.line(2, axes=1, lw=0, markers=L.marker("s", 28, face=None, edge="#ff0000", width=2)),
                           L.text(0, 0.02, 0.03, axes=0, size=8, va="bottom")]}]

    def draw_background(self, fig, values: Mapping) -> list:
        ax_curve, ax_grid = fig.subplots(1, 2, width_ratios=[1.6, 1])
        for history in self.runs.values():
            ax_curve.plot(np.arange(1, len(history["val_loss"]) + 1), history["val_loss"], color="0.85", lw=0.8)
        ax_curve.set_ylim(0, min(self.top, 3.0) * 1.05)
        ax_curve.set_xlim(0.5, max(len(h["train_loss"]) for h in self.runs.values()) + 0.5)
        ax_curve.set_xlabel("epoch")
        ax_curve.set_ylabel("cross-entropy")
        ax_curve.legend(handles=[Line2D([], [], color=PATH_COLORS[0], lw=2, label="training loss"),
                                 Line2D([], [], color=PATH_COLORS[1], lw=2, label="validation loss"),
                                 Line2D([], [], color="0.85", lw=0.8, label="other runs (validation)")],
                        fontsize="small", loc="upper right")
        final = self.final
        image = ax_grid.imshow(final, cmap="viridis", origin="lower", aspect="auto")
        chosen = (self.dropouts.index(self.chosen[0]), self.weight_decays.index(self.chosen[1]))
        for i in range(len(self.dropouts)):
            for j in range(len(self.weight_decays)):
                star = (i, j) == chosen
                ax_grid.text(j, i, f"★{final[i, j]:.2f}" if star else f"{final[i, j]:.2f}", ha="center",
                             va="center", fontsize="small", fontweight="bold" if star else "normal",
                             color="white" if final[i, j] < final.mean() else "black")
        ax_grid.set_xticks(range(len(self.weight_decays)), [f"{v:g}" for v in self.weight_decays])
        ax_grid.set_yticks(range(len(self.dropouts)), [f"{v:g}" for v in self.dropouts])
        ax_grid.set_xlabel("weight decay (AdamW's decoupled λ)")
        ax_grid.set_ylabel("dropout rate p")
        ax_grid.set_title(f"final {_label(self.metric)}\n★ chosen on validation: {_label(self.report)} "
                          f"{self.runs[self.chosen][self.report][-1]:.3f}", fontsize="small")
        fig.colorbar(image, ax=ax_grid, shrink=0.8)
        return [ax_curve, ax_grid]

    def data(self, name: str, values: Mapping) -> L.LayerData:
        p, wd = values["dropout"], values["weight_decay"]
        history = self.runs[(p, wd)]
        train, val = np.asarray(history["train_loss"], float), np.asarray(history["val_loss"], float)
        gap = val[-1] - train[-1]
        text = (f"dropout {p:g}, weight decay {wd:g}\nfinal gap (val - train loss) {gap:.2f}, "
                f"{_label(self.metric)} {history[self.metric][-1]:.3f}")
        return L.LayerData([np.column_stack([np.arange(1, len(train) + 1), train]).ravel(),
                            np.column_stack([np.arange(1, len(val) + 1), val]).ravel(),
                            np.array([self.weight_decays.index(wd), self.dropouts.index(p)], dtype=float)],
                           [text])


def regularization_explorer(runs: Mapping[tuple[float, float], Mapping], metric: str = "val_acc",
                            report: str = "test_acc", static_settings=None, static: bool | None = None,
                            prefetch: bool = True):
    """Sliders for dropout and weight decay over :func:`course.regularization_grid.sweep`'s runs.

    What to look for: with neither regularizer the validation loss turns up while the
    training loss keeps falling (the gap opens); more dropout or weight decay keeps the two
    closer, and too much of either lifts both (underfitting). The star marks the run chosen
    on validation; its test figure, in the grid's title, is the number to report.
    """
    import ipywidgets as widgets

    dropouts = sorted({p for p, _ in runs})
    weight_decays = sorted({wd for _, wd in runs})
    controls = {
        "dropout": widgets.SelectionSlider(options=dropouts, value=dropouts[0], description="dropout"),
        "weight_decay": widgets.SelectionSlider(options=weight_decays, value=weight_decays[0],
                                                description="weight decay"),
    }
    explorer = RegularizationExplorer(controls, runs, metric, report)
    if static_settings is None:
        corners = [(dropouts[0], weight_decays[0]), (dropouts[-1], weight_decays[0]),
                   (dropouts[0], weight_decays[-1]), (dropouts[-1], weight_decays[-1]), explorer.chosen]
        static_settings = [{"dropout": p, "weight_decay": wd} for p, wd in dict.fromkeys(corners)]
    return explorer.show(static_settings=static_settings, static=static, prefetch=prefetch)
