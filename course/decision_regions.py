"""What a classifier of two input features decides everywhere in the plane.

A network on 2-D inputs can be drawn: evaluate it on a fine grid of points and colour each
point by the class it predicts. The shape of the boundary shows what the network can
express: a ReLU network is piecewise linear (its boundary is made of straight segments and
goes on straight forever outside the data), a tanh network is smooth.

>>> plot_decision_regions(model, X, y)                      # the data's range, a margin around it
>>> plot_decision_regions(model, X, y, margin=3.0)          # zoom out: how it extrapolates
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["decision_grid", "plot_decision_regions"]


@torch.no_grad()
def decision_grid(model: torch.nn.Module, X, resolution: int = 200, margin: float = 0.5):
    """The class ``model`` predicts on a ``resolution × resolution`` grid around the 2-D points ``X``.

    The grid spans each feature's range in ``X`` widened by ``margin`` (in the units of ``X``)
    on both sides. Returns ``(xx, yy, classes)``, three ``(resolution, resolution)`` NumPy arrays:
    ``classes`` is the argmax of the logits, or ``logit > 0`` for a model with one output.
    The model is evaluated in evaluation mode and put back in the mode it was in.
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision regions need points with two features, got shape {X.shape}")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    points = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], axis=1), dtype=torch.float32)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        logits = model(points.to(device)).float().cpu()
    finally:
        model.train(was_training)
    if logits.dim() == 1 or logits.shape[1] == 1:
        classes = (logits.reshape(-1) > 0).long()
    else:
        classes = logits.argmax(dim=1)
    return xx, yy, classes.reshape(resolution, resolution).numpy()


def plot_decision_regions(model: torch.nn.Module, X, y, ax=None, resolution: int = 200, margin: float = 0.5,
                          title: str | None = None, s: float = 10):
    """The regions ``model`` assigns to each class (filled), and the points ``X`` coloured by ``y``."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    xx, yy, classes = decision_grid(model, X, resolution, margin)
    X, y = np.asarray(X), np.asarray(y)
    num_classes = int(max(classes.max(), y.max())) + 1
    colors = plt.get_cmap("tab10").colors[:num_classes]
    ax.contourf(xx, yy, classes, levels=np.arange(num_classes + 1) - 0.5, cmap=ListedColormap(colors), alpha=0.25)
    ax.contour(xx, yy, classes, levels=np.arange(num_classes) + 0.5, colors="k", linewidths=0.8)
    for c in range(num_classes):
        ax.scatter(X[y == c, 0], X[y == c, 1], s=s, color=colors[c], edgecolors="none")
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax
