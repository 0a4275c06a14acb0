"""Numeric gradients by central differences, to check a hand-written backward pass.

A layer's backward pass receives ``dout = ∂L/∂out`` and returns ``∂L/∂x``. Whatever the
layer, that is the gradient of the scalar ``L(x) = Σ out(x)·dout``, which finite differences
estimate one coordinate at a time:

    ∂L/∂x_i ≈ (L(x + h·e_i) - L(x - h·e_i)) / (2h)

>>> dx_num = numeric_gradient(lambda x: my_forward(x)[0], x, dout)
>>> relative_error(dx, dx_num)      # ~1e-8 or less when dx is right, ~1e-2 or more when not
"""
from __future__ import annotations

import numpy as np

__all__ = ["numeric_gradient", "relative_error", "check_gradient"]


def numeric_gradient(f, x: np.ndarray, dout=None, h: float = 1e-5) -> np.ndarray:
    """``∂/∂x Σ f(x)·dout`` by central differences (``dout`` defaults to ones).

    ``f`` takes an array shaped like ``x`` and returns an array (or a number); it is called
    twice per coordinate, on copies, so ``x`` is never changed. Use float64 inputs.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        losses = []
        for step in (h, -h):
            shifted = x.copy()
            shifted[index] += step
            out = np.asarray(f(shifted), dtype=np.float64)
            losses.append(np.sum(out * (1.0 if dout is None else dout)))
        grad[index] = (losses[0] - losses[1]) / (2 * h)
    return grad


def relative_error(a, b) -> float:
    """The largest ``|a - b| / (|a| + |b|)`` over coordinates (0 where both are 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    scale = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def check_gradient(f, x, analytic, dout=None, h: float = 1e-5, tol: float = 1e-6,
                   name: str = "gradient") -> float:
    """Compare ``analytic`` with :func:`numeric_gradient` of ``f`` at ``x``; print and return
    the relative error. Raises ``AssertionError`` when it exceeds ``tol``, or when ``analytic``
    has another shape than ``x`` (a gradient has the shape of what it is the gradient of)."""
    shape, wanted = np.shape(analytic), np.shape(x)
    if shape != wanted:
        print(f"{name}: shape {shape}, expected {wanted} (WRONG SHAPE)")
        raise AssertionError(f"{name}: your gradient has shape {shape}, but the variable has shape "
                             f"{wanted}: a gradient has the shape of what it is the gradient of (a "
                             "statistic used by every sample sums over the batch)")
    error = relative_error(analytic, numeric_gradient(f, x, dout, h))
    print(f"{name}: relative error {error:.2e} ({'ok' if error <= tol else 'TOO LARGE'})")
    assert error <= tol, f"{name}: your gradient and the numeric one differ (relative error {error:.2e})"
    return error
