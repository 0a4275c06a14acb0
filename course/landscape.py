"""The loss landscape along the gradient: how far can a step go before the loss stops being predictable?

Santurkar et al. (2018) compare networks with and without BatchNorm by stepping from the
current parameters θ along the negative gradient ``g = ∇L(θ)`` with several step sizes η and
recording, on the same batch:

- the loss ``L(θ - η·g)``: how much it varies along the step ("loss landscape");
- the gradient there, and how far it moved: ``‖∇L(θ - η·g) - g‖`` ("gradient predictiveness":
  a small change means the gradient at θ still describes the loss at θ - η·g);
- the effective smoothness ``‖∇L(θ - η·g) - g‖ / ‖η·g‖``: for a quadratic loss with Hessian
  ``H`` it is ``‖H·g‖ / ‖g‖``, the curvature along g; a network with BatchNorm has a smaller one.

:func:`gradient_step_profile` measures all three and puts the model back as it was (its
parameters, and the BatchNorm running statistics that a training-mode forward pass moves).

>>> profile = gradient_step_profile(model, loss_fn, X, y, step_sizes=[0.01, 0.1, 1.0])
>>> profile.loss, profile.grad_change, profile.smoothness
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

__all__ = ["GradientStepProfile", "gradient_step_profile"]


@dataclass(frozen=True)
class GradientStepProfile:
    """Loss and gradient after steps of sizes ``step_sizes`` along ``-g`` from θ (one batch)."""

    step_sizes: np.ndarray     # η, increasing
    loss0: float               # L(θ)
    grad_norm: float           # ‖g‖
    loss: np.ndarray           # L(θ - η·g) for each η
    grad_change: np.ndarray    # ‖∇L(θ - η·g) - g‖ for each η

    @property
    def smoothness(self) -> np.ndarray:
        """``‖∇L(θ - η·g) - g‖ / ‖η·g‖``: the gradient's change per unit of distance moved."""
        return self.grad_change / (self.step_sizes * self.grad_norm)

    @property
    def loss_variation(self) -> float:
        """The range of the loss over θ and the steps: ``max L - min L`` (infinite after a blow-up)."""
        values = np.append(self.loss, self.loss0)
        return float(values.max() - values.min()) if np.all(np.isfinite(values)) else float("inf")


def _loss_and_gradient(model, params, loss_fn, X, y) -> tuple[float, torch.Tensor]:
    for p in params:
        p.grad = None
    loss = loss_fn(model(X), y)
    grads = torch.autograd.grad(loss, params)
    return float(loss.detach()), torch.cat([g.reshape(-1) for g in grads])


def gradient_step_profile(model: torch.nn.Module, loss_fn, X: torch.Tensor, y: torch.Tensor,
                          step_sizes: Sequence[float], train_mode: bool = True) -> GradientStepProfile:
    """Step from the model's parameters along ``-∇L`` by each of ``step_sizes`` and measure there.

    The loss and gradients are those of one batch ``(X, y)``, in training mode by default (the
    loss the optimizer sees: BatchNorm uses the batch's statistics). Plain gradient steps
    ``θ - η·g`` are taken whatever optimizer trains the model. The model ends with its
    parameters, buffers and mode as they were.
    """
    step_sizes = np.asarray(sorted(float(s) for s in step_sizes))
    if len(step_sizes) == 0 or step_sizes[0] <= 0:
        raise ValueError("give one or more positive step sizes")
    params = [p for p in model.parameters() if p.requires_grad]
    saved_params = [p.detach().clone() for p in params]
    saved_buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    was_training = model.training
    model.train(train_mode)
    losses, changes = [], []
    try:
        loss0, g = _loss_and_gradient(model, params, loss_fn, X, y)
        for eta in step_sizes:
            with torch.no_grad():
                offset = 0
                for p, p0 in zip(params, saved_params):
                    n = p.numel()
                    p.copy_(p0 - eta * g[offset:offset + n].view_as(p))
                    offset += n
            loss, g_eta = _loss_and_gradient(model, params, loss_fn, X, y)
            losses.append(loss)
            changes.append(float((g_eta - g).norm()))
    finally:
        with torch.no_grad():
            for p, p0 in zip(params, saved_params):
                p.copy_(p0)
            buffers = dict(model.named_buffers())
            for name, value in saved_buffers.items():
                buffers[name].copy_(value)
        for p in params:
            p.grad = None
        model.train(was_training)
    return GradientStepProfile(step_sizes, loss0, float(g.norm()), np.array(losses), np.array(changes))
