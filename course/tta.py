"""Test-time augmentation (TTA): average a model's predictions over transformed copies of each input.

A view is a deterministic, label-preserving map of a batch (a flip, a shift by a few
pixels). The TTA prediction of an input ``x`` over views ``T_1 ... T_K`` is the mean of the
predicted probabilities::

    p_TTA(x) = (1/K) Σ_k softmax(f(T_k(x)))

(``average="logits"``: the softmax of the mean logits instead). It is an ensemble whose
members share their weights and differ in what they look at; it costs ``K`` forward passes
per input and no training.

>>> views = flip_views() | shift_views(pixels=2)
>>> probs = tta_predict(model, X_test, views)
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch
import torch.nn.functional as F

from .training import predict

__all__ = ["flip_views", "shift_views", "shift", "tta_predict"]

View = Callable[[torch.Tensor], torch.Tensor]


def flip_views(vertical: bool = True) -> dict[str, View]:
    """The image, mirrored left-right, and (``vertical=True``) upside down and both (a 180° turn)."""
    views = {"identity": lambda X: X, "hflip": lambda X: X.flip(-1)}
    if vertical:
        views |= {"vflip": lambda X: X.flip(-2), "hflip + vflip": lambda X: X.flip(-2).flip(-1)}
    return views


def shift(X: torch.Tensor, dy: int, dx: int, mode: str = "reflect") -> torch.Tensor:
    """Move every image ``dy`` pixels down and ``dx`` right, filling the gap by ``mode`` padding.

    The same window :func:`course.augment.random_crop` cuts out of the padded image at offset
    ``(pad - dy, pad - dx)``: one of its training views, chosen instead of drawn.
    """
    pad = max(abs(dy), abs(dx))
    if pad == 0:
        return X
    height, width = X.shape[-2:]
    padded = F.pad(X, (pad,) * 4, mode=mode)
    top, left = pad - dy, pad - dx
    return padded[..., top:top + height, left:left + width]


def shift_views(pixels: int = 2, mode: str = "reflect") -> dict[str, View]:
    """Four views: the image moved ``pixels`` up, down, left and right (``mode`` fills the gap)."""
    moves = {"up": (-pixels, 0), "down": (pixels, 0), "left": (0, -pixels), "right": (0, pixels)}
    return {f"shift {name} {pixels}px": (lambda X, dy=dy, dx=dx: shift(X, dy, dx, mode))
            for name, (dy, dx) in moves.items()}


@torch.no_grad()
def tta_predict(model: torch.nn.Module, X: torch.Tensor, views: Mapping[str, View] | None = None,
                average: str = "probs") -> torch.Tensor:
    """Probabilities ``(N, C)`` averaged over ``views`` (default: :func:`flip_views`).

    ``average="probs"`` (the usual choice) averages the softmax outputs; ``"logits"``
    averages the logits and applies softmax once. In evaluation mode, without gradients.
    """
    if average not in ("probs", "logits"):
        raise ValueError(f"average must be 'probs' or 'logits', not {average!r}")
    views = dict(views) if views is not None else flip_views()
    if not views:
        raise ValueError("give at least one view (the identity view is the plain prediction)")
    outputs = torch.stack([predict(model, view(X)) for view in views.values()])   # (K, N, C)
    if average == "logits":
        return outputs.mean(dim=0).softmax(dim=1)
    return outputs.softmax(dim=2).mean(dim=0)
