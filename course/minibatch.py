"""Mini-batch gradients: how far one batch's gradient is from the full gradient, and the paths SGD takes.

The loss of a data set of ``N`` examples is the mean of per-example losses, so its gradient is
the mean of per-example gradients ``∇L = (1/N) Σ_i g_i``. A batch of ``B`` examples drawn
without replacement (as :func:`course.training.fit` draws them: a permutation per epoch, cut
into batches) gives the unbiased estimate ``g_B = (1/B) Σ_{i∈batch} g_i`` with

    E‖g_B − ∇L‖² = (σ² / B) · (N − B) / (N − 1),     σ² = (1/N) Σ_i ‖g_i − ∇L‖²

(the finite-population correction makes the full batch exact). :func:`gradient_noise`
measures ``‖g_B − ∇L‖ / ‖∇L‖`` on a real model; :func:`expected_noise` is the formula.
:func:`minibatch_path` records mini-batch SGD on the least-squares surface of a linear model
with two weights (:func:`course.surfaces.least_squares_surface`), for drawing stochastic paths.

>>> noise = gradient_noise(model, loss_fn, split.train, batch_sizes=(1, 16, 256), num_draws=10)
>>> noise.rms[16] / noise.rms[1]        # about 1/4: sixteen times the batch, a quarter of the noise
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

__all__ = ["GradientNoise", "gradient_noise", "expected_noise", "minibatch_path"]


@dataclass(frozen=True)
class GradientNoise:
    """Measured noise of mini-batch gradients.

    ``relative_errors[B]`` holds ``‖g_B − ∇L‖ / ‖∇L‖`` for each draw of a batch of ``B``;
    ``rms[B]`` is their root mean square; ``full_norm`` is ``‖∇L‖`` and ``num_examples`` is ``N``.
    """

    relative_errors: dict[int, np.ndarray]
    full_norm: float
    num_examples: int

    @property
    def rms(self) -> dict[int, float]:
        return {B: float(np.sqrt(np.mean(e ** 2))) for B, e in self.relative_errors.items()}

    @property
    def batch_sizes(self) -> list[int]:
        return list(self.relative_errors)


def _flat_gradient(model: torch.nn.Module, loss_fn, X: torch.Tensor, y: torch.Tensor,
                   chunk: int = 512) -> torch.Tensor:
    """The gradient of the mean loss over ``(X, y)`` as one vector, computed in chunks."""
    params = [p for p in model.parameters() if p.requires_grad]
    total = [torch.zeros_like(p) for p in params]
    for start in range(0, len(X), chunk):
        X_chunk, y_chunk = X[start:start + chunk], y[start:start + chunk]
        loss = loss_fn(model(X_chunk), y_chunk) * (len(X_chunk) / len(X))
        for t, g in zip(total, torch.autograd.grad(loss, params)):
            t += g
    return torch.cat([t.reshape(-1) for t in total])


def gradient_noise(model: torch.nn.Module, loss_fn, data: Sequence[torch.Tensor],
                   batch_sizes: Sequence[int] = (1, 4, 16, 64, 256), num_draws: int = 20,
                   seed: int = 0) -> GradientNoise:
    """Draw ``num_draws`` batches of each size without replacement; measure each one's gradient error.

    The model is put in **evaluation mode** for the measurement (and back afterwards): then
    every example's loss depends on that example alone and the mean of the batch gradients is
    the full gradient. In training mode BatchNorm normalizes with the batch's own statistics,
    which couples the examples of a batch, and dropout adds noise of its own.
    """
    X, y = data
    N = len(X)
    if any(not 1 <= B <= N for B in batch_sizes):
        raise ValueError(f"batch sizes must lie between 1 and N = {N}, not {list(batch_sizes)}")
    if num_draws < 1:
        raise ValueError("num_draws must be at least 1")
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        full = _flat_gradient(model, loss_fn, X, y)
        full_norm = float(full.norm())
        if full_norm == 0.0:
            raise ValueError("the full gradient is zero: relative errors are undefined")
        errors = {}
        for B in batch_sizes:
            draws = []
            for _ in range(num_draws):
                idx = torch.randperm(N, generator=generator)[:B].to(X.device)
                g = _flat_gradient(model, loss_fn, X[idx], y[idx])
                draws.append(float((g - full).norm()) / full_norm)
            errors[int(B)] = np.array(draws)
    finally:
        model.train(was_training)
    return GradientNoise(errors, full_norm, N)


def expected_noise(batch_sizes, num_examples: int, sigma: float = 1.0) -> np.ndarray:
    """``sqrt(E‖g_B − ∇L‖²) = σ · sqrt((N − B) / (B (N − 1)))`` for batches drawn without replacement.

    With ``σ`` the root-mean-square distance of a single example's gradient from the mean
    (the noise of ``B = 1``), this is the noise of a batch of ``B``: about ``σ / sqrt(B)`` while
    ``B ≪ N``, exactly zero at ``B = N``.
    """
    B = np.asarray(batch_sizes, dtype=np.float64)
    N = float(num_examples)
    if np.any(B < 1) or np.any(B > N):
        raise ValueError(f"batch sizes must lie between 1 and N = {num_examples}")
    if N == 1:
        return np.zeros_like(B)
    return sigma * np.sqrt((N - B) / (B * (N - 1)))


def minibatch_path(X, y, lr, batch_size: int, num_steps: int, seed: int = 0, momentum: float = 0.0,
                   start=(0.0, 0.0)) -> np.ndarray:
    """Mini-batch SGD on ``½ mean((X w − y)²)`` with two weights ``w``, as ``torch.optim.SGD`` steps.

    ``lr`` is a number, or one learning rate per step (a schedule: ``len(lr) >= num_steps``).
    With ``momentum`` μ the update is torch's: ``b = μ b + g`` (``b = g`` on the first step),
    ``w = w − η b``. Batches are drawn as :func:`course.training.fit` draws them: a fresh
    permutation of the ``N`` rows each epoch, cut into batches of ``batch_size`` (the last one
    may be smaller); ``batch_size = N`` is full-batch gradient descent. Written in NumPy with the
    closed-form gradient ``Xᵀ(X w − y) / B`` (thousands of steps in milliseconds). Returns the
    ``(num_steps + 1, 2)`` path, the start included; a path that diverges is cut at its first
    non-finite point (NaN after).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or y.shape != (len(X),):
        raise ValueError(f"X must have shape (N, 2) and y shape (N,), not {X.shape} and {y.shape}")
    N = len(X)
    if not 1 <= batch_size <= N:
        raise ValueError(f"batch_size must lie between 1 and N = {N}, not {batch_size}")
    lrs = np.broadcast_to(np.asarray(lr, dtype=np.float64), (num_steps,)) if np.ndim(lr) == 0 \
        else np.asarray(lr, dtype=np.float64)
    if len(lrs) < num_steps:
        raise ValueError(f"lr gives {len(lrs)} learning rates for {num_steps} steps")
    rng = np.random.Generator(np.random.PCG64(seed))
    w = np.array(start, dtype=np.float64)
    buffer = None
    path = np.full((num_steps + 1, 2), np.nan)
    path[0] = w
    batches: list[np.ndarray] = []
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(num_steps):
            if not batches:
                order = rng.permutation(N)
                batches = [order[i:i + batch_size] for i in range(0, N, batch_size)]
            idx = batches.pop(0)
            grad = X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
            buffer = grad if buffer is None or momentum == 0 else momentum * buffer + grad
            w = w - lrs[k] * buffer
            if not np.all(np.isfinite(w)) or np.abs(w).max() > 1e6:
                break
            path[k + 1] = w
    return path
