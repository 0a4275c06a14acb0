"""Calibration: does a classifier's confidence match how often it is right?

A classifier is *calibrated* when, among the examples it predicts with confidence 0.8, about
80 % are right. The confidence of one example is its largest predicted probability,
``max_k p_k``. Guo et al. (2017) measure the mismatch by sorting the examples into ``n_bins``
equal-width bins of confidence, ``B_m = ((m-1)/M, m/M]``, and averaging the gap between
accuracy and mean confidence per bin, weighted by the bin's share of the examples:

    ECE = Σ_m |B_m| / N · |acc(B_m) − conf(B_m)|

- :func:`calibration_bins`: the bins (edges, counts, accuracy, mean confidence).
- :func:`expected_calibration_error`: the ECE above, a number in [0, 1].
- :func:`plot_reliability`: the reliability diagram, accuracy against confidence per bin.

>>> probs = predict(model, X_test).softmax(dim=1)
>>> expected_calibration_error(probs, y_test)
0.21
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch

__all__ = ["CalibrationBins", "calibration_bins", "expected_calibration_error", "plot_reliability"]


@dataclass(frozen=True)
class CalibrationBins:
    """Per bin of confidence: ``edges`` (``n_bins + 1``), ``counts``, ``accuracy`` and mean
    ``confidence`` (NaN in an empty bin)."""

    edges: np.ndarray
    counts: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray

    @property
    def ece(self) -> float:
        """Σ_m |B_m| / N · |acc(B_m) − conf(B_m)| over the non-empty bins."""
        full = self.counts > 0
        weights = self.counts[full] / self.counts.sum()
        return float((weights * np.abs(self.accuracy[full] - self.confidence[full])).sum())


def _as_numpy(probs, y) -> tuple[np.ndarray, np.ndarray]:
    probs = probs.detach().float().cpu().numpy() if torch.is_tensor(probs) else np.asarray(probs, dtype=float)
    y = y.detach().cpu().numpy() if torch.is_tensor(y) else np.asarray(y)
    if probs.ndim != 2 or len(probs) != len(y) or len(y) == 0:
        raise ValueError(f"want probabilities (N, C) and N labels, not {probs.shape} and {y.shape}")
    if probs.min() < 0 or probs.max() > 1 or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("the rows of probs must be probabilities that sum to 1: apply softmax to logits first")
    return probs, y


def calibration_bins(probs, y, n_bins: int = 15) -> CalibrationBins:
    """Sort the examples by confidence ``max_k p_k`` into ``n_bins`` equal-width bins ``((m-1)/M, m/M]``."""
    probs, y = _as_numpy(probs, y)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # a confidence equal to an inner edge belongs to the bin below it, as in Guo et al.
    index = np.searchsorted(edges[1:-1], confidence, side="left")
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(index, weights=correct, minlength=n_bins) / counts
        mean_confidence = np.bincount(index, weights=confidence, minlength=n_bins) / counts
    return CalibrationBins(edges, counts, accuracy, mean_confidence)


def expected_calibration_error(probs, y, n_bins: int = 15) -> float:
    """The expected calibration error (ECE, Guo et al., 2017) of probabilities ``(N, C)`` for labels ``y``."""
    return calibration_bins(probs, y, n_bins).ece


def plot_reliability(probs: Mapping[str, object], y, n_bins: int = 15, ax=None):
    """Reliability diagram: accuracy against mean confidence per bin, one line per model.

    ``probs`` maps a name to its probabilities ``(N, C)``. A calibrated model lies on the
    diagonal; below it a model is over-confident (more sure than it is right). The bins are
    those of :func:`expected_calibration_error` (15 by default), so the ECE in each label is
    the number it prints; empty bins are left out.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="calibrated")
    for name, p in probs.items():
        bins = calibration_bins(p, y, n_bins)
        full = bins.counts > 0
        ax.plot(bins.confidence[full], bins.accuracy[full], "o-", ms=4, label=f"{name} (ECE {bins.ece:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (largest probability)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize="small", loc="upper left")
    return ax
