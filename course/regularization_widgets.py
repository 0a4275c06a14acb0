"""The regularization lecture's grid of training runs, and the explorer over them.

- :func:`sweep`: train one :class:`course.models.MLP` per (dropout rate, weight decay) pair with
  :func:`course.training.fit` and ``torch.optim.AdamW``; returns the histories.
- :func:`regularization_explorer`: sliders for the dropout rate and the weight decay over
  those precomputed runs (static panels when headless, see :mod:`course.widgets`).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .device import is_autograding
from .models import MLP
from .plots import PATH_COLORS
from .training import History, fit
from .widgets import InteractiveFigure, interactive_figure

__all__ = ["sweep", "regularization_explorer"]


def sweep(train_data, val_data, num_classes: int, dropouts: Sequence[float],
          weight_decays: Sequence[float], num_epochs: int, width: int = 256, lr: float = 1e-3,
          batch_size: int = 32, seed: int = 0, device=None, progress: bool | None = None
          ) -> dict[tuple[float, float], History]:
    """Train :class:`course.models.MLP` for every ``(dropout, weight_decay)`` pair; ``{(p, wd): History}``.

    Every run starts from the same seed and sees the same batches, so the runs differ only
    in the two regularization settings (AdamW: decoupled weight decay).
    """
    runs = {}
    grid = [(p, wd) for p in dropouts for wd in weight_decays]
    bar = None
    if progress if progress is not None else not is_autograding():
        from tqdm.auto import tqdm

        bar = tqdm(total=len(grid), desc="grid of runs", leave=False)
    for p, wd in grid:
        torch.manual_seed(seed)
        model = MLP(train_data[0].shape[1], num_classes, width=width, dropout=p)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
        runs[(p, wd)] = fit(model, train_data, nn.CrossEntropyLoss(), optimizer, num_epochs,
                            batch_size=batch_size, val_data=val_data, device=device, seed=seed,
                            progress=False)
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return runs


def regularization_explorer(runs: Mapping[tuple[float, float], Mapping], metric: str = "val_acc",
                            static_settings=None) -> InteractiveFigure:
    """Sliders for dropout and weight decay over :func:`sweep`'s runs.

    Left: the chosen run's training and validation loss (the other runs' validation loss
    in grey). Right: every run's final ``metric`` as a grid, the chosen one framed.
    """
    import ipywidgets as widgets

    dropouts = sorted({p for p, _ in runs})
    weight_decays = sorted({wd for _, wd in runs})
    final = np.array([[runs[(p, wd)][metric][-1] for wd in weight_decays] for p in dropouts])
    top = max(max(max(h["train_loss"]), max(h["val_loss"])) for h in runs.values())

    def build(fig, dropout, weight_decay):
        ax_curve, ax_grid = fig.subplots(1, 2, width_ratios=[1.6, 1])
        for (p, wd), history in runs.items():
            epochs = np.arange(1, len(history["val_loss"]) + 1)
            ax_curve.plot(epochs, history["val_loss"], color="0.85", lw=0.8, zorder=1)
        chosen = runs[(dropout, weight_decay)]
        epochs = np.arange(1, len(chosen["train_loss"]) + 1)
        train_line, = ax_curve.plot(epochs, chosen["train_loss"], color=PATH_COLORS[0], lw=2,
                                    label="training loss", animated=True)
        val_line, = ax_curve.plot(epochs, chosen["val_loss"], color=PATH_COLORS[1], lw=2,
                                  label="validation loss", animated=True)
        ax_curve.set_ylim(0, min(top, 3.0) * 1.05)
        ax_curve.set_xlabel("epoch")
        ax_curve.set_ylabel("cross-entropy")
        ax_curve.legend(fontsize="small", loc="upper right")
        image = ax_grid.imshow(final, cmap="viridis", origin="lower", aspect="auto")
        for i in range(len(dropouts)):
            for j in range(len(weight_decays)):
                ax_grid.text(j, i, f"{final[i, j]:.2f}", ha="center", va="center", fontsize="small",
                             color="white" if final[i, j] < final.mean() else "black")
        ax_grid.set_xticks(range(len(weight_decays)), [f"{wd:g}" for wd in weight_decays])
        ax_grid.set_yticks(range(len(dropouts)), [f"{p:g}" for p in dropouts])
        ax_grid.set_xlabel("weight decay")
        ax_grid.set_ylabel("dropout rate")
        ax_grid.set_title(f"final {metric.replace('_', ' ')}", fontsize="medium")
        fig.colorbar(image, ax=ax_grid, shrink=0.8)
        frame, = ax_grid.plot([], [], "s", ms=28, mfc="none", mec="red", mew=2, animated=True)
        text = ax_curve.text(0.02, 0.03, "", transform=ax_curve.transAxes, fontsize="small",
                             animated=True)

        def update(dropout, weight_decay):
            history = runs[(dropout, weight_decay)]
            epochs = np.arange(1, len(history["train_loss"]) + 1)
            train_line.set_data(epochs, history["train_loss"])
            val_line.set_data(epochs[:len(history["val_loss"])], history["val_loss"])
            frame.set_data([weight_decays.index(weight_decay)], [dropouts.index(dropout)])
            gap = history["val_loss"][-1] - history["train_loss"][-1]
            text.set_text(f"dropout {dropout:g}, weight decay {weight_decay:g}: "
                          f"final gap (val - train loss) {gap:.2f}")

        update(dropout, weight_decay)
        return update

    controls = {
        "dropout": widgets.SelectionSlider(options=dropouts, value=dropouts[0], description="dropout"),
        "weight_decay": widgets.SelectionSlider(options=weight_decays, value=weight_decays[0],
                                                description="weight decay"),
    }
    if static_settings is None:
        static_settings = [{"dropout": dropouts[0], "weight_decay": weight_decays[0]},
                           {"dropout": dropouts[-1], "weight_decay": weight_decays[0]},
                           {"dropout": dropouts[0], "weight_decay": weight_decays[-1]},
                           {"dropout": dropouts[-1], "weight_decay": weight_decays[-1]}]
    return interactive_figure(build, controls, static_settings=static_settings,
                              figsize=(8.5, 3.4), ncols=2)
