"""Lecture 3's explorer: how noisy are batch statistics? A batch-size slider.

In training mode BatchNorm normalizes each feature with the mean and variance of the
current mini-batch, not of the data set. :func:`batch_statistics` draws many batches of
one size and records, for one feature:

- the batch means and batch standard deviations (how far they wander from the data set's);
- what ``torch.nn.functional.batch_norm`` outputs for one fixed example in each batch
  (the same input gets a different normalized value depending on its batch-mates).

:func:`batch_noise_explorer` shows the three distributions with a batch-size slider; every
batch size is computed ahead and drawn by the browser (:mod:`course.widgets.live`).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from . import layers as L
from .explorer import Explorer

__all__ = ["batch_statistics", "BatchNoiseExplorer", "batch_noise_explorer", "BATCH_SIZES", "stairs"]

BATCH_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)


def _distinct(pool: torch.Tensor, size: int, num_batches: int, generator) -> torch.Tensor:
    """``num_batches`` rows of ``size`` distinct entries of ``pool`` (the largest of uniform keys)."""
    keys = torch.rand(num_batches, len(pool), generator=generator)
    return pool[keys.topk(size, dim=1).indices]


def batch_statistics(x, batch_size: int, num_batches: int = 400, example: int = 0,
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Statistics of ``num_batches`` random batches of one feature ``x`` (shape ``(N,)``).

    Returns, from batches of ``batch_size`` distinct random examples (``indices``), ``mean``
    and ``std`` (biased, as BatchNorm uses) per batch; and ``normalized``: BatchNorm's
    training-mode output for ``x[example]`` in batches made of it and ``batch_size - 1``
    random others (``example_indices``, the example first).
    """
    x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    n = len(x)
    if not 2 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 2 and {n}, not {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    idx = _distinct(torch.arange(n), batch_size, num_batches, generator)
    batches = x[idx].T  # (batch_size, num_batches): column j is batch j of the one feature
    others = torch.cat([torch.arange(example), torch.arange(example + 1, n)])
    with_example = torch.cat([torch.full((num_batches, 1), example),
                              _distinct(others, batch_size - 1, num_batches, generator)], dim=1)
    normalized = F.batch_norm(x[with_example].T, None, None, training=True)[0]
    return {"mean": batches.mean(dim=0).numpy(), "std": batches.std(dim=0, unbiased=False).numpy(),
            "normalized": normalized.numpy(), "indices": idx.numpy(),
            "example_indices": with_example.numpy()}


def stairs(counts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """A histogram's outline as interleaved ``x, y`` points, from ``(edges[0], 0)`` to ``(edges[-1], 0)``."""
    x = np.repeat(edges, 2)
    y = np.concatenate([[0.0], np.repeat(counts, 2), [0.0]])
    return np.column_stack([x, y]).ravel()


class BatchNoiseExplorer(Explorer):
    """Histograms of batch means, batch standard deviations and one example's BatchNorm output.

    Each histogram is scaled to its highest bar, so that its *width* is what changes with
    the batch size; the text gives the spread (and ``σ/√B`` for the batch means).
    """

    figsize = (12.0, 3.2)
    ncols = 1

    def __init__(self, controls: Mapping, x, example: int = 0, num_batches: int = 400,
                 feature_name: str = "feature"):
        super().__init__(controls)
        self.x = np.asarray(x, dtype=np.float32)
        self.example, self.num_batches, self.feature_name = example, num_batches, feature_name
        self.mu, self.sigma = float(self.x.mean()), float(self.x.std())
        reference = (self.x[example] - self.mu) / self.sigma  # normalized with the data set's statistics
        self.panels = (("mean", "batch mean", self.mu, (self.mu - 2.5 * self.sigma, self.mu + 2.5 * self.sigma)),
                       ("std", "batch standard deviation", self.sigma, (0.0, 2.5 * self.sigma)),
                       ("normalized", f"BatchNorm output for example {example}", reference,
                        (reference - 3.0, reference + 3.0)))
        self._stats = lru_cache(maxsize=None)(
            lambda b: batch_statistics(self.x, b, num_batches=num_batches, example=example))

    def layers(self) -> list[dict]:
        return [{"name": "batches", "deps": ["batch_size"], "color": "#1f77b4",
                 "parts": [*(L.line(i, axes=i, lw=0, fill=0.7) for i in range(3)),
                           *(L.text(i, 0.02, 0.97, axes=i, size=8) for i in range(3))]}]

    def draw_background(self, fig, values: Mapping) -> list:
        axes = fig.subplots(1, 3)
        for ax, (_, title, true_value, (lo, hi)) in zip(axes, self.panels):
            ax.axvline(true_value, color="black", ls="--", lw=1.2, label="whole data set")
            ax.set(xlim=(lo, hi), ylim=(0, 1.15), yticks=[], title=title, xlabel=self.feature_name)
        axes[0].legend(fontsize="small", loc="upper right")
        return list(axes)

    def data(self, name: str, values: Mapping) -> L.LayerData:
        batch_size = int(values["batch_size"])
        stats = self._stats(batch_size)
        arrays, texts = [], []
        for key, _, _, (lo, hi) in self.panels:
            edges = np.linspace(lo, hi, 41)
            counts, _ = np.histogram(np.clip(stats[key], lo, hi), bins=edges)
            arrays.append(stairs(counts / max(counts.max(), 1), edges))
            text = f"B = {batch_size}\nspread (std) = {float(np.std(stats[key])):.3f}"
            if key == "mean":
                text += f"\nσ/√B = {self.sigma / np.sqrt(batch_size):.3f}"
            texts.append(text)
        return L.LayerData(arrays, texts)


def batch_noise_explorer(x, batch_size: int = 8, example: int = 0, num_batches: int = 400,
                         feature_name: str = "feature", static: bool | None = None, prefetch: bool = True):
    """Histograms of batch means, batch standard deviations and one example's BatchNorm output.

    What to look for: all three histograms narrow as the batch grows, the batch means like
    ``σ/√B``; at B = 2 BatchNorm maps any two different values to -1 and +1, so one example's
    output says only whether its batch-mate was smaller or larger: it depends on the batch as
    much as on the input; at large B it settles near its whole-data-set value (the dashed line).
    """
    import ipywidgets as widgets

    x = np.asarray(x, dtype=np.float32)
    control = widgets.SelectionSlider(options=[b for b in BATCH_SIZES if b <= len(x)], value=batch_size,
                                      description="batch size", layout=widgets.Layout(width="50%"))
    explorer = BatchNoiseExplorer({"batch_size": control}, x, example, num_batches, feature_name)
    return explorer.show(static_settings=[{"batch_size": b} for b in (4, 32, 256) if b <= len(x)], static=static,
                         prefetch=prefetch)
