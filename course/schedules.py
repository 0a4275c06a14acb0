"""Learning-rate schedules, built on ``torch.optim.lr_scheduler``, and their curves.

Every schedule is defined over a horizon of ``num_steps`` scheduler steps (iterations for
an optimizer path, epochs for :func:`course.training.fit`), so that the same name means
the same shape whatever the length of the run:

==================  =========================================  ===============================
name                ``η_k`` (``η`` = the optimizer's lr)        torch
==================  =========================================  ===============================
constant            ``η``                                       (no scheduler)
step                ``η · γ^⌊k/s⌋``, s = T/4, γ = 0.5             ``StepLR``
exponential         ``η · γ^k``, γ^T = 0.01                     ``ExponentialLR``
inverse-time        ``η / (1 + ε k)``, ε = 10/T                 ``LambdaLR`` (torch has none)
cosine              ``η_min + (η-η_min)(1+cos(πk/T))/2``         ``CosineAnnealingLR``
cyclical            triangle between ``η/10`` and ``η``, T/8 up  ``CyclicLR``
warm restarts       cosine restarted after T/8, 2·T/8, 4·T/8    ``CosineAnnealingWarmRestarts``
one-cycle           warm up to ``η`` then anneal                ``OneCycleLR``
reduce-on-plateau   ``η · 0.5`` after T/20 steps w/o progress    ``ReduceLROnPlateau``
==================  =========================================  ===============================

>>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
>>> scheduler = make_scheduler("cosine", optimizer, num_steps=num_epochs)
>>> lr_curve("inverse-time", lr=0.1, num_steps=100, epsilon=0.5)[:3]
array([0.1       , 0.06666667, 0.05      ])
"""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import torch
from torch.optim import lr_scheduler

__all__ = ["SCHEDULES", "make_scheduler", "scheduler_factory", "lr_curve", "plateau_losses",
           "step_scheduler"]

SCHEDULES = ("constant", "step", "exponential", "inverse-time", "cosine", "cyclical",
             "warm restarts", "one-cycle", "reduce-on-plateau")


def make_scheduler(name: str, optimizer: torch.optim.Optimizer, num_steps: int, **options):
    """The ``torch.optim.lr_scheduler`` called ``name`` for a run of ``num_steps`` steps.

    Returns ``None`` for ``"constant"``. ``options`` override the defaults in the module
    table, e.g. ``gamma`` (step, exponential), ``epsilon`` (inverse-time), ``eta_min``
    (cosine), ``patience``/``factor`` (reduce-on-plateau).
    """
    T = max(int(num_steps), 1)
    lr = optimizer.param_groups[0]["lr"]
    if name == "constant":
        return None
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=options.get("step_size", max(T // 4, 1)),
                                   gamma=options.get("gamma", 0.5))
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=options.get("gamma", 0.01 ** (1 / T)))
    if name == "inverse-time":
        epsilon = options.get("epsilon", 10 / T)
        return lr_scheduler.LambdaLR(optimizer, lambda k: 1 / (1 + epsilon * k))
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=T, eta_min=options.get("eta_min", 0.0))
    if name == "cyclical":
        return lr_scheduler.CyclicLR(optimizer, base_lr=options.get("base_lr", lr / 10), max_lr=lr,
                                     step_size_up=options.get("step_size_up", max(T // 8, 1)),
                                     mode=options.get("mode", "triangular"), cycle_momentum=False)
    if name == "warm restarts":
        return lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=options.get("T_0", max(T // 8, 1)),
                                                        T_mult=options.get("T_mult", 2),
                                                        eta_min=options.get("eta_min", 0.0))
    if name == "one-cycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=T + 1,
                                       pct_start=options.get("pct_start", 0.3), cycle_momentum=False)
    if name == "reduce-on-plateau":
        return lr_scheduler.ReduceLROnPlateau(optimizer, factor=options.get("factor", 0.5),
                                              patience=options.get("patience", max(T // 20, 1)),
                                              threshold=options.get("threshold", 1e-3))
    raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")


def scheduler_factory(name: str, num_steps: int, **options) -> Callable | None:
    """``optimizer -> scheduler`` for :func:`course.surfaces.optimizer_path`; ``None`` if constant."""
    if name == "constant":
        return None
    return lambda optimizer: make_scheduler(name, optimizer, num_steps, **options)


def step_scheduler(scheduler, loss: float | None = None) -> None:
    """Step any scheduler; ``ReduceLROnPlateau`` is given the loss it watches."""
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        scheduler.step(loss)
    else:
        scheduler.step()


def plateau_losses(num_steps: int, seed: int = 0) -> np.ndarray:
    """A made-up loss curve that falls, then flattens with noise (what plateau schedules watch)."""
    k = np.arange(num_steps)
    rng = np.random.default_rng(seed)
    return 0.3 + 0.7 * np.exp(-k / max(num_steps / 8, 1)) + 0.01 * rng.standard_normal(num_steps)


def lr_curve(name: str, lr: float, num_steps: int, losses=None, **options) -> np.ndarray:
    """The learning rate used at each of ``num_steps`` steps (what the optimizer sees).

    ``losses`` feeds ``reduce-on-plateau`` (default :func:`plateau_losses`).
    """
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(name, optimizer, num_steps, **options)
    if losses is None and name == "reduce-on-plateau":
        losses = plateau_losses(num_steps)
    curve = np.empty(num_steps)
    with warnings.catch_warnings():
        # no training here, so no optimizer.step(): torch would warn about the call order
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)`")
        for k in range(num_steps):
            curve[k] = optimizer.param_groups[0]["lr"]
            if scheduler is not None:
                step_scheduler(scheduler, None if losses is None else float(losses[k]))
    return curve

