"""Calibration: when a classifier says "90 % sure", is it right 90 % of the time?

A classifier's **confidence** on an example is its largest predicted probability,
``max_c p_c``; it is right when that class is the label. Sort the examples into
``num_bins`` equal-width bins of confidence, ``(0, 1/B], (1/B, 2/B], ..., ((B-1)/B, 1]``;
in bin ``b`` compare the mean confidence ``conf_b`` with the accuracy ``acc_b``. The
**expected calibration error** (Guo et al., 2017) is their gap, weighted by the share of
examples in the bin::

    ECE = Σ_b (n_b / N) · |acc_b − conf_b|

0 is perfect calibration; a network that is always 100 % sure and right 30 % of the time
has ECE 0.7. The reliability diagram plots ``acc_b`` against ``conf_b``: on the diagonal is
calibrated, below it overconfident. ECE depends on the number of bins (15 is the usual
choice, as in Guo et al.) and is noisy with few examples per bin.

>>> probs = predict(model, X_test).softmax(dim=1)
>>> expected_calibration_error(probs, y_test)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["ReliabilityBins", "reliability_bins", "expected_calibration_error", "plot_reliability"]

NUM_BINS = 15


@dataclass(frozen=True)
class ReliabilityBins:
    """Per confidence bin: its edges, how many examples fell in it, their mean confidence and accuracy.

    Empty bins have count 0 and NaN confidence and accuracy.
    """

    edges: torch.Tensor        # (B + 1,)
    counts: torch.Tensor       # (B,)
    confidence: torch.Tensor   # (B,) mean max-probability in the bin
    accuracy: torch.Tensor     # (B,) fraction right in the bin

    @property
    def ece(self) -> float:
        """Σ_b (n_b / N) |acc_b − conf_b| over the non-empty bins."""
        filled = self.counts > 0
        weights = self.counts[filled] / self.counts.sum()
        return float((weights * (self.accuracy[filled] - self.confidence[filled]).abs()).sum())


def _check(probs: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    probs, y = torch.as_tensor(probs).detach().float().cpu(), torch.as_tensor(y).detach().cpu()
    if probs.dim() != 2 or y.dim() != 1 or len(probs) != len(y):
        raise ValueError(f"expected probabilities (N, C) and labels (N,), got {tuple(probs.shape)} "
                         f"and {tuple(y.shape)}")
    if len(y) == 0:
        raise ValueError("no examples: calibration needs at least one")
    if probs.min() < 0 or (probs.sum(dim=1) - 1).abs().max() > 1e-3:
        raise ValueError("probs must be probabilities (non-negative rows summing to 1): "
                         "apply softmax to the logits first")
    return probs, y.long()


def reliability_bins(probs: torch.Tensor, y: torch.Tensor, num_bins: int = NUM_BINS) -> ReliabilityBins:
    """Bin the examples by confidence ``max_c p_c`` into ``num_bins`` equal-width bins ``(lo, hi]``."""
    probs, y = _check(probs, y)
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == y).float()
    edges = torch.linspace(0, 1, num_bins + 1)
    # bin b holds edges[b] < confidence <= edges[b + 1]; a confidence of exactly 0 goes in the first
    index = (torch.searchsorted(edges[1:-1], confidence, right=False)).clamp(0, num_bins - 1)
    counts = torch.bincount(index, minlength=num_bins).float()
    conf_sum = torch.zeros(num_bins).index_add_(0, index, confidence)
    acc_sum = torch.zeros(num_bins).index_add_(0, index, correct)
    nan = torch.full((num_bins,), float("nan"))
    filled = counts > 0
    return ReliabilityBins(edges, counts, torch.where(filled, conf_sum / counts.clamp_min(1), nan),
                           torch.where(filled, acc_sum / counts.clamp_min(1), nan))


def expected_calibration_error(probs: torch.Tensor, y: torch.Tensor, num_bins: int = NUM_BINS) -> float:
    """ECE = Σ_b (n_b / N) |acc_b − conf_b| over ``num_bins`` equal-width confidence bins (Guo et al., 2017)."""
    return reliability_bins(probs, y, num_bins).ece


def plot_reliability(curves: dict, ax=None, num_bins: int = NUM_BINS, min_count: int = 5):
    """Reliability diagram: accuracy against confidence per bin, for ``{label: (probs, y)}``.

    Bins with fewer than ``min_count`` examples are left out (their accuracy is noise).
    The legend gives each curve's ECE.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.subplots(figsize=(4.2, 4.2), layout="constrained")[1]
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="calibrated")
    for label, (probs, y) in curves.items():
        bins = reliability_bins(probs, y, num_bins)
        keep = bins.counts >= min_count
        ax.plot(bins.confidence[keep], bins.accuracy[keep], marker="o", ms=4,
                label=f"{label} (ECE {bins.ece:.3f})")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (mean max probability in the bin)",
           ylabel="accuracy in the bin", aspect="equal")
    ax.legend(fontsize=8, loc="upper left")
    return ax
