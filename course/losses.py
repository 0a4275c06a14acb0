"""Losses for the regularization and debugging lectures: weight penalties, and a naive loss.

- :func:`weight_penalty` / :func:`penalized`: L1, L2 and elastic-net penalties on a model's
  weight matrices, added to a loss.
- :func:`naive_cross_entropy`: softmax, then the log of the true class's probability, the
  way it is often written by hand. It underflows to ``log(0)`` for large logits; the
  debugging lecture uses it to produce, and locate, a NaN. Use ``nn.CrossEntropyLoss``.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

__all__ = ["weight_penalty", "penalized", "naive_cross_entropy"]


def weight_penalty(model: torch.nn.Module, l1: float = 0.0, l2: float = 0.0) -> torch.Tensor:
    """``λ1·Σ|w| + λ2/2·Σw²`` over the parameters whose name ends in ``weight`` (not biases)."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    penalty = torch.zeros((), device=weights[0].device if weights else None)
    for w in weights:
        if l1:
            penalty = penalty + l1 * w.abs().sum()
        if l2:
            penalty = penalty + l2 / 2 * (w ** 2).sum()
    return penalty


def penalized(model: torch.nn.Module, l1: float = 0.0, l2: float = 0.0,
              loss_fn: Callable = F.cross_entropy) -> Callable:
    """A loss for :func:`course.training.fit`: ``loss_fn(y_hat, y) + weight_penalty(model, l1, l2)``.

    ``l1`` alone is the lasso, ``l2`` alone ridge (Tikhonov), both the elastic net.
    """
    def loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return loss_fn(y_hat, y) + weight_penalty(model, l1, l2)

    return loss


def naive_cross_entropy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``-mean(log(softmax(y_hat)[y]))`` computed literally: unstable, for demonstration only."""
    probs = torch.softmax(y_hat, dim=1)
    return -torch.log(probs[torch.arange(len(y), device=y.device), y]).mean()
