"""Activation functions, their derivatives, and what depth and initialization do to signals.

- :func:`activation_and_derivative`: ``f(x)`` and ``f'(x)`` for sigmoid, tanh, ReLU, leaky ReLU
  (and GELU), the derivative computed by autograd.
- :func:`signal_statistics`: push random inputs through a deep stack of linear layers with
  a chosen initialization (``torch.nn.init``) and activation, and report, layer by layer,
  the spread of the activations (forward) and of the gradients (backward): vanishing,
  exploding, or steady.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

__all__ = ["ACTIVATIONS", "INITIALIZATIONS", "activation_and_derivative", "make_deep_mlp", "input_generator",
           "signal_statistics"]

ACTIVATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
}

_MODULES = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
            "leaky_relu": torch.nn.LeakyReLU, "gelu": torch.nn.GELU,
            "linear": torch.nn.Identity}   # no activation: the setting initialization rules are derived in


def activation_and_derivative(name: str, x: torch.Tensor, negative_slope: float = 0.01):
    """``(f(x), f'(x))`` for the activation ``name``; ``negative_slope`` is leaky ReLU's.

    The derivative comes from autograd (``torch.autograd.grad`` of ``f(x).sum()``), so it is
    exactly what backpropagation uses (ReLU's derivative at 0 is 0, as in torch).
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    x = torch.as_tensor(x, dtype=torch.float32).detach().requires_grad_(True)
    f = ACTIVATIONS[name]
    out = f(x, negative_slope) if name == "leaky_relu" else f(x)
    (grad,) = torch.autograd.grad(out.sum(), x)
    return out.detach(), grad


def _init_weight(weight: torch.Tensor, init: str, activation: str, gain: float = 1.0) -> None:
    """Initialize in place with ``torch.nn.init``: Glorot/Xavier, He/Kaiming, or a fixed std.

    ``gain`` multiplies the standard deviation the rule gives (torch's ``gain`` argument of
    ``xavier_normal_``; ``torch.nn.init.calculate_gain("tanh")`` is 5/3).
    """
    if init == "glorot":        # Var(W) = 2 / (fan_in + fan_out)
        torch.nn.init.xavier_normal_(weight)
    elif init == "he":          # Var(W) = 2 / fan_in
        nonlinearity = activation if activation in ("relu", "leaky_relu") else "relu"
        torch.nn.init.kaiming_normal_(weight, nonlinearity=nonlinearity)
    elif init.startswith("normal"):  # "normal0.01": a fixed standard deviation, whatever the width
        torch.nn.init.normal_(weight, std=float(init[len("normal"):] or 1.0))
    else:
        raise ValueError(f"unknown initialization {init!r}: 'glorot', 'he' or 'normal<std>'")
    if gain != 1.0:
        with torch.no_grad():
            weight.mul_(gain)


INITIALIZATIONS = ("normal0.01", "normal1", "glorot", "he")


def make_deep_mlp(depth: int, width: int, activation: str = "tanh", init: str = "glorot",
                  seed: int = 0, gain: float = 1.0) -> torch.nn.Sequential:
    """``depth`` blocks of ``Linear(width, width)`` + activation, biases zero, weights by ``init``.

    ``activation`` is a name of :data:`ACTIVATIONS` or ``"linear"`` (no activation); ``gain``
    multiplies the initial weights' standard deviation.
    """
    if activation not in _MODULES:
        raise ValueError(f"unknown activation {activation!r}; choose from {sorted(_MODULES)}")
    torch.manual_seed(seed)
    layers = []
    for _ in range(depth):
        linear = torch.nn.Linear(width, width)
        _init_weight(linear.weight, init, activation, gain)
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, _MODULES[activation]()]
    return torch.nn.Sequential(*layers)


def input_generator(seed: int) -> torch.Generator:
    """The random stream of :func:`signal_statistics`'s inputs, output weights and sample.

    Its own stream: drawn from the weights' stream (``torch.manual_seed(seed)``) the inputs
    would repeat the first layer's weights and correlate with them.
    """
    return torch.Generator().manual_seed(seed + 1_000_003)


def signal_statistics(depth: int = 10, width: int = 256, activation: str = "tanh",
                      init: str = "glorot", n: int = 512, seed: int = 0, gain: float = 1.0) -> dict:
    """Layer-by-layer spread of activations and gradients in a deep MLP on random inputs.

    Returns ``{"activation_std": [...], "gradient_std": [...], "activations": [...]}``, one
    entry per block: the standard deviation of each block's output, of the loss gradient
    with respect to that output (the loss is ``sum(output · r)`` for a fixed random ``r``,
    so the backward signal starts with unit spread), and a sample of the outputs for
    histograms. Standard-normal inputs. ``activation="linear"`` stacks linear layers only;
    ``gain`` scales the initial weights (see :func:`make_deep_mlp`).
    """
    model = make_deep_mlp(depth, width, activation, init, seed, gain)
    generator = input_generator(seed)
    X = torch.randn(n, width, generator=generator)
    outputs = []

    def keep(module, args, output):
        output.retain_grad()
        outputs.append(output)

    hooks = [block.register_forward_hook(keep) for block in model
             if not isinstance(block, torch.nn.Linear)]
    try:
        out = model(X)
        r = torch.randn(out.shape, generator=generator)
        (out * r).sum().backward()
    finally:
        for hook in hooks:
            hook.remove()
    sample = torch.randperm(n * width, generator=generator)[:4000]
    return {
        "activation_std": [o.detach().std().item() for o in outputs],
        "gradient_std": [o.grad.std().item() if o.grad is not None else math.nan for o in outputs],
        "activations": [o.detach().flatten()[sample].numpy() for o in outputs],
    }
