"""How noisy are batch statistics? A batch-size slider for the normalization lecture.

In training mode BatchNorm normalizes each feature with the mean and variance of the
current mini-batch, not of the data set. :func:`batch_statistics` draws many batches of
one size and records, for one feature:

- the batch means and batch standard deviations (how far they wander from the data set's);
- what ``torch.nn.functional.batch_norm`` outputs for one fixed example in each batch
  (the same input gets a different normalized value depending on its batch-mates).

:func:`batch_noise_explorer` shows the three distributions with a batch-size slider.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .widgets import InteractiveFigure, interactive_figure

__all__ = ["batch_statistics", "batch_noise_explorer", "BATCH_SIZES"]

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


def batch_noise_explorer(x, batch_size: int = 8, example: int = 0, num_batches: int = 400,
                         feature_name: str = "feature", static: bool | None = None) -> InteractiveFigure:
    """Histograms of batch means, batch standard deviations and one example's BatchNorm output.

    Each histogram is scaled to its highest bar, so that its *width* is what changes with
    the batch size; the text gives the spread (and ``σ/√B`` for the batch means).
    """
    import ipywidgets as widgets

    x = np.asarray(x, dtype=np.float32)
    mu, sigma = float(x.mean()), float(x.std())
    reference = (x[example] - mu) / sigma  # the example normalized with the data set's statistics

    @lru_cache(maxsize=None)
    def stats(batch_size):
        return batch_statistics(x, batch_size, num_batches=num_batches, example=example)

    panels = (("mean", "batch mean", mu, (mu - 2.5 * sigma, mu + 2.5 * sigma)),
              ("std", "batch standard deviation", sigma, (0.0, 2.5 * sigma)),
              ("normalized", f"BatchNorm output for example {example}", reference,
               (reference - 3.0, reference + 3.0)))

    def build(fig, batch_size):
        axes = fig.subplots(1, 3)
        steps, notes = {}, {}
        for ax, (key, title, true_value, (lo, hi)) in zip(axes, panels):
            edges = np.linspace(lo, hi, 41)
            steps[key] = (ax.stairs(np.zeros(40), edges, fill=True, alpha=0.7, animated=True), edges)
            ax.axvline(true_value, color="black", ls="--", lw=1.2, label="whole data set")
            ax.set(xlim=(lo, hi), ylim=(0, 1.15), yticks=[], title=title, xlabel=feature_name)
            notes[key] = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", fontsize="small",
                                 animated=True)
        axes[0].legend(fontsize="small", loc="upper right")

        def update(batch_size):
            values = stats(int(batch_size))
            for key, (artist, edges) in steps.items():
                counts, _ = np.histogram(np.clip(values[key], edges[0], edges[-1]), bins=edges)
                artist.set_data(counts / max(counts.max(), 1))
                spread = float(np.std(values[key]))
                text = f"B = {batch_size}\nspread (std) = {spread:.3f}"
                if key == "mean":
                    text += f"\nσ/√B = {sigma / np.sqrt(batch_size):.3f}"
                notes[key].set_text(text)

        update(batch_size)
        return update

    control = widgets.SelectionSlider(options=[b for b in BATCH_SIZES if b <= len(x)], value=batch_size,
                                      description="batch size", layout=widgets.Layout(width="50%"))
    return interactive_figure(build, {"batch_size": control}, figsize=(12.0, 3.2), ncols=1,
                              static_settings=[{"batch_size": b} for b in (4, 32, 256) if b <= len(x)],
                              static=static)
