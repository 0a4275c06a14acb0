"""Momentum as geometry: the classical and Nesterov steps as vectors, and momentum's speed-up on a quadratic.

Sutskever et al. (2013) write both methods with a velocity ``u`` (a step, in parameter units):

    classical:  u_{t+1} = μ u_t − η ∇L(θ_t)            θ_{t+1} = θ_t + u_{t+1}
    Nesterov:   u_{t+1} = μ u_t − η ∇L(θ_t + μ u_t)    θ_{t+1} = θ_t + u_{t+1}

Nesterov takes the gradient at the **look-ahead point** ``θ_t + μ u_t``, where momentum alone
would carry it. ``torch.optim.SGD`` keeps the buffer ``b = −u / η`` instead and, with
``nesterov=True``, stores the look-ahead point itself as the parameter.
:func:`lookahead` computes the vectors of one step; :func:`plot_lookahead` draws them.

On a quadratic with curvatures between ``λ_min`` and ``λ_max`` (condition number
``κ = λ_max / λ_min``), gradient descent at its best learning rate shrinks the distance to
the minimum by ``(κ − 1) / (κ + 1)`` per step and heavy-ball momentum (Polyak, 1964) at its
best settings by ``(√κ − 1) / (√κ + 1)``: :func:`tuned_rates`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from .surfaces import Surface

__all__ = ["LookAhead", "lookahead", "plot_lookahead", "TunedRates", "tuned_rates"]


@dataclass(frozen=True)
class LookAhead:
    """The vectors of one classical and one Nesterov step from ``theta`` with velocity ``velocity``.

    ``momentum_step`` is ``μ u``; ``lookahead_point`` is ``θ + μ u``; ``classical_gradient`` and
    ``nesterov_gradient`` are the gradient steps ``−η ∇L`` taken at ``θ`` and at the look-ahead
    point; ``classical_end`` and ``nesterov_end`` are where each method lands.
    """

    theta: np.ndarray
    momentum_step: np.ndarray
    lookahead_point: np.ndarray
    classical_gradient: np.ndarray
    nesterov_gradient: np.ndarray
    classical_end: np.ndarray
    nesterov_end: np.ndarray


def lookahead(surface: Surface, theta, velocity, lr: float, momentum: float) -> LookAhead:
    """One step of each method from ``theta`` with velocity ``u = velocity`` (Sutskever et al.'s form)."""
    theta = np.asarray(theta, dtype=np.float64)
    momentum_step = momentum * np.asarray(velocity, dtype=np.float64)
    point = theta + momentum_step
    classical_gradient = -lr * surface.gradient(theta)
    nesterov_gradient = -lr * surface.gradient(point)
    return LookAhead(theta, momentum_step, point, classical_gradient, nesterov_gradient,
                     point + classical_gradient, point + nesterov_gradient)


def _arrow(ax, start, vector, color, label, style="-|>", lw=2.0, linestyle="-"):
    ax.annotate("", xy=tuple(start + vector), xytext=tuple(start),
                arrowprops=dict(arrowstyle=style, color=color, lw=lw, linestyle=linestyle, shrinkA=0, shrinkB=0))
    ax.plot([], [], color=color, lw=lw, linestyle=linestyle, label=label)   # a legend entry for the arrow


def plot_lookahead(surface: Surface, theta, velocity, lr: float, momentum: float, ax=None, margin: float = 0.35):
    """Draw one classical and one Nesterov step as vectors over the surface's contours.

    Both start with the same momentum step ``μu`` (grey); classical momentum adds the gradient
    step taken at ``θ`` (blue, drawn from the tip of ``μu``), Nesterov the gradient step taken at
    the look-ahead point (orange). Returns the axes and the :class:`LookAhead` it drew.
    """
    step = lookahead(surface, theta, velocity, lr, momentum)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    points = np.array([step.theta, step.lookahead_point, step.classical_end, step.nesterov_end,
                       step.theta + step.classical_gradient])
    low, high = points.min(axis=0), points.max(axis=0)
    pad = margin * (high - low).max()
    xs = np.linspace(low[0] - pad, high[0] + pad, 200)
    ys = np.linspace(low[1] - pad, high[1] + pad, 200)
    X, Y = np.meshgrid(xs, ys)
    ax.contour(X, Y, np.asarray(surface.f(np.stack([X, Y], axis=-1))), levels=25, cmap="viridis", linewidths=0.6)
    _arrow(ax, step.theta, step.momentum_step, "0.45", r"momentum step $\mu u_t$")
    _arrow(ax, step.theta, step.classical_gradient, "tab:blue", r"$-\eta\nabla L(\theta_t)$ (at $\theta_t$)",
           lw=1.2, linestyle="--")
    _arrow(ax, step.lookahead_point, step.classical_gradient, "tab:blue", r"classical: $-\eta\nabla L(\theta_t)$")
    _arrow(ax, step.lookahead_point, step.nesterov_gradient, "tab:orange",
           r"Nesterov: $-\eta\nabla L(\theta_t + \mu u_t)$")
    ax.plot(*step.theta, "o", color="black", ms=6, label=r"$\theta_t$")
    ax.plot(*step.lookahead_point, "o", color="0.45", ms=5, label=r"look-ahead $\theta_t + \mu u_t$")
    ax.plot(*step.classical_end, "s", color="tab:blue", ms=6)
    ax.plot(*step.nesterov_end, "D", color="tab:orange", ms=6)
    if surface.minimum is not None:
        ax.plot(*surface.minimum, "*", color="red", ms=12)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_aspect("equal", adjustable="box")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    ax.set_title(f"one step: η = {lr:g}, μ = {momentum:g}")
    return ax, step


@dataclass(frozen=True)
class TunedRates:
    """Best settings on a quadratic with curvatures in ``[lambda_min, lambda_max]``, and their rates.

    ``gd_lr = 2 / (λ_min + λ_max)`` gives the per-step contraction ``gd_rate = (κ − 1) / (κ + 1)``;
    heavy ball with ``hb_lr = 4 / (√λ_max + √λ_min)²`` and ``hb_momentum = ((√κ − 1) / (√κ + 1))²``
    gives ``hb_rate = (√κ − 1) / (√κ + 1)`` (asymptotically, per step).
    """

    kappa: float
    gd_lr: float
    gd_rate: float
    hb_lr: float
    hb_momentum: float
    hb_rate: float

    def steps_to_shrink(self, factor: float = 1e-6) -> tuple[int, int]:
        """Steps each method needs to shrink the distance to the minimum by ``factor`` (from its rate)."""
        return (math.ceil(math.log(factor) / math.log(self.gd_rate)),
                math.ceil(math.log(factor) / math.log(self.hb_rate)))


def tuned_rates(lambda_min: float, lambda_max: float) -> TunedRates:
    """The best learning rate (and momentum) of gradient descent and heavy ball on a quadratic."""
    if not 0 < lambda_min <= lambda_max:
        raise ValueError(f"need 0 < lambda_min <= lambda_max, not {lambda_min}, {lambda_max}")
    kappa = lambda_max / lambda_min
    root = math.sqrt(kappa)
    hb_rate = (root - 1) / (root + 1)
    return TunedRates(kappa, 2 / (lambda_min + lambda_max), (kappa - 1) / (kappa + 1),
                      4 / (math.sqrt(lambda_max) + math.sqrt(lambda_min)) ** 2, hb_rate ** 2, hb_rate)
