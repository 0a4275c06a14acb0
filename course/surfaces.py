"""Two-dimensional loss surfaces for watching optimizers move, and the paths they take.

Each surface is a function of a ``(..., 2)`` tensor (or NumPy array) returning ``(...)``,
with a start point, a known minimum and a plotting window.

>>> path = optimizer_path(BEALE, torch.optim.Adam, num_steps=200, lr=0.05)
>>> path.shape
(201, 2)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np
import torch

__all__ = ["Surface", "BEALE", "ROSENBROCK", "ILL_CONDITIONED", "SADDLE", "SURFACES",
           "optimizer_path", "step_path", "PathRecorder", "least_squares_surface"]


@dataclass(frozen=True)
class Surface:
    """A 2-D function ``f(xy)`` with ``start``, ``minimum`` and plotting window ``xlim``/``ylim``."""

    name: str
    f: Callable
    start: tuple[float, float]
    minimum: tuple[float, float] | None
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    log_levels: bool = True
    formula: str = field(default="", compare=False)
    closed_form: Callable | None = field(default=None, compare=False, repr=False)

    def __call__(self, xy):
        return self.f(xy)

    def grid(self, num: int = 200):
        """``(X, Y, Z)`` NumPy arrays for a contour plot over the window (cached, read-only)."""
        return _grid(self, num)

    def gradient(self, xy) -> np.ndarray:
        """The gradient at ``xy`` (by autograd)."""
        p = torch.tensor(np.asarray(xy, dtype=np.float64), requires_grad=True)
        self.f(p).backward()
        return p.grad.numpy()

    def value_and_grad(self, x: float, y: float) -> tuple[float, tuple[float, float]]:
        """``f`` and its gradient at one point, as Python floats.

        Uses ``closed_form(x, y) -> (f, (df/dx, df/dy))`` in plain Python when the surface has
        one (about 100x faster than NumPy or autograd on two numbers), autograd otherwise.
        """
        if self.closed_form is not None:
            return self.closed_form(x, y)
        gx, gy = self.gradient((x, y))
        return float(self.f(np.array([x, y]))), (float(gx), float(gy))


@lru_cache(maxsize=32)
def _grid(surface: Surface, num: int):
    xs = np.linspace(*surface.xlim, num)
    ys = np.linspace(*surface.ylim, num)
    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(surface.f(np.stack([X, Y], axis=-1)), dtype=np.float64)
    for array in (X, Y, Z):
        array.setflags(write=False)
    return X, Y, Z


def _beale(p):
    x, y = p[..., 0], p[..., 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def _beale_closed_form(x, y):
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y ** 2, 2.625 - x + x * y ** 3
    return a * a + b * b + c * c, (2 * a * (y - 1) + 2 * b * (y ** 2 - 1) + 2 * c * (y ** 3 - 1),
                                   2 * a * x + 4 * b * x * y + 6 * c * x * y ** 2)


def _rosenbrock(p):
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _rosenbrock_closed_form(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2, (-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2))


def _ill_conditioned(p):
    # Hessian diag(1, 50): condition number 50
    x, y = p[..., 0], p[..., 1]
    return 0.5 * (x ** 2 + 50 * y ** 2)


def _ill_conditioned_closed_form(x, y):
    return 0.5 * (x * x + 50 * y * y), (x, 50 * y)


def _saddle(p):
    x, y = p[..., 0], p[..., 1]
    return x ** 2 - y ** 2 + 0.25 * y ** 4  # saddle at the origin, minima at (0, ±sqrt(2))


def _saddle_closed_form(x, y):
    return x * x - y * y + 0.25 * y ** 4, (2 * x, -2 * y + y ** 3)


BEALE = Surface("Beale", _beale, start=(0.8, 1.6), minimum=(3.0, 0.5), xlim=(-0.5, 4.0),
                ylim=(-1.5, 2.0),
                formula=r"$(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2$", closed_form=_beale_closed_form)
ROSENBROCK = Surface("Rosenbrock", _rosenbrock, start=(-1.5, 2.0), minimum=(1.0, 1.0),
                     xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), formula=r"$(1-x)^2+100(y-x^2)^2$", closed_form=_rosenbrock_closed_form)
ILL_CONDITIONED = Surface("Ill-conditioned quadratic", _ill_conditioned, start=(-4.0, 1.0),
                          minimum=(0.0, 0.0), xlim=(-4.5, 4.5), ylim=(-1.5, 1.5), log_levels=False,
                          formula=r"$\frac{1}{2}(x^2 + 50y^2)$, condition number 50",
                          closed_form=_ill_conditioned_closed_form)
SADDLE = Surface("Saddle", _saddle, start=(-1.5, 1e-3), minimum=(0.0, 2 ** 0.5), xlim=(-2.0, 2.0),
                 ylim=(-2.0, 2.0), log_levels=False, formula=r"$x^2 - y^2 + y^4/4$", closed_form=_saddle_closed_form)

SURFACES = {s.name: s for s in (BEALE, ROSENBROCK, ILL_CONDITIONED, SADDLE)}


def least_squares_surface(X, y, name: str = "least squares", start=None, margin: float = 1.5) -> Surface:
    """The loss ``f(w) = ½ mean((X w - y)²)`` of a linear model with two weights, as a Surface.

    Its Hessian is ``XᵀX / n``: features on different scales stretch the contours (a large
    condition number), standardized features make them round. The minimum is the
    least-squares solution; the window frames the start and the minimum.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), not {X.shape}")
    n = len(X)
    H = X.T @ X / n
    b = X.T @ y / n
    c = float(y @ y / n)
    w_star = np.linalg.solve(H, b)
    start = tuple(float(v) for v in (start if start is not None else (0.0, 0.0)))

    def f(w):
        # ½ wᵀHw - bᵀw + ½ c, evaluated on (..., 2) tensors or arrays
        w0, w1 = w[..., 0], w[..., 1]
        return 0.5 * (H[0, 0] * w0 * w0 + 2 * H[0, 1] * w0 * w1 + H[1, 1] * w1 * w1) \
            - (b[0] * w0 + b[1] * w1) + 0.5 * c

    h00, h01, h11, b0, b1 = (float(v) for v in (H[0, 0], H[0, 1], H[1, 1], b[0], b[1]))

    def closed_form(w0, w1):
        value = 0.5 * (h00 * w0 * w0 + 2 * h01 * w0 * w1 + h11 * w1 * w1) - (b0 * w0 + b1 * w1) + 0.5 * c
        return value, (h00 * w0 + h01 * w1 - b0, h01 * w0 + h11 * w1 - b1)

    points = np.array([start, w_star])
    half = max(np.ptp(points, axis=0).max() * margin / 2, 1e-3)
    centre = points.mean(axis=0)
    lims = [(float(c_ - half), float(c_ + half)) for c_ in centre]
    return Surface(name, f, start=start, minimum=(float(w_star[0]), float(w_star[1])),
                   xlim=lims[0], ylim=lims[1], log_levels=False,
                   formula=r"$\frac{1}{2n}\|Xw - y\|^2$", closed_form=closed_form)


class PathRecorder:
    """A ``torch.optim`` optimizer walking on a surface, one recorded point per step.

    The path grows on demand: ``recorder.path(100)`` runs 100 steps, a later
    ``recorder.path(150)`` only the 50 more (the optimizer and scheduler keep their state).
    A path that diverges stops at its first non-finite point and is padded with NaN.

    ``scheduler(optimizer)`` may build a learning-rate scheduler stepped once per step
    (``ReduceLROnPlateau`` watches the surface's value).
    """

    def __init__(self, surface: Surface, optimizer_cls, start=None, scheduler: Callable | None = None,
                 **hyperparameters):
        self.surface = surface
        self.param = torch.tensor(start if start is not None else surface.start,
                                  dtype=torch.float64, requires_grad=True)
        self.param.grad = torch.zeros_like(self.param)
        self.optimizer = optimizer_cls([self.param], **hyperparameters)
        self.scheduler = scheduler(self.optimizer) if scheduler is not None else None
        self.points = [tuple(self.param.tolist())]
        self.lrs: list[float] = []
        self.diverged = False

    def _closure(self) -> float:
        value, (gx, gy) = self.surface.value_and_grad(*self.param.tolist())
        # a new tensor each time: L-BFGS keeps views of earlier gradients
        self.param.grad = torch.tensor((gx, gy), dtype=torch.float64)
        return value  # a float is enough: L-BFGS takes float(closure()), the others pass it on

    def path(self, num_steps: int) -> np.ndarray:
        """The first ``num_steps + 1`` points (the start included), shape ``(num_steps + 1, 2)``."""
        with torch.no_grad():
            while len(self.points) <= num_steps and not self.diverged:
                self.lrs.append(self.optimizer.param_groups[0]["lr"])
                loss = self.optimizer.step(self._closure)
                if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    self.scheduler.step(float(loss))
                elif self.scheduler is not None:
                    self.scheduler.step()
                x, y = self.param.tolist()
                if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > 1e6:
                    self.diverged = True
                    break
                self.points.append((x, y))
        out = np.full((num_steps + 1, 2), np.nan)
        known = min(len(self.points), num_steps + 1)
        out[:known] = self.points[:known]
        return out


def optimizer_path(surface: Surface, optimizer_cls, num_steps: int, start=None,
                   scheduler: Callable | None = None, **hyperparameters) -> np.ndarray:
    """Run a ``torch.optim`` optimizer on ``surface``; return the ``(num_steps + 1, 2)`` path.

    ``scheduler(optimizer)`` may build a learning-rate scheduler stepped once per step.
    A path that diverges is cut at its first non-finite point (and padded with NaN).
    """
    recorder = PathRecorder(surface, optimizer_cls, start=start, scheduler=scheduler, **hyperparameters)
    return recorder.path(num_steps)


def step_path(surface: Surface, step_fn, num_steps: int, start=None, **hyperparameters) -> np.ndarray:
    """The path of a hand-written update ``step_fn(param, grad, state, **hyperparameters)``.

    Works with the functions students write in the optimizers assignment: ``param`` and
    ``grad`` are float64 NumPy arrays of shape ``(2,)``, ``state`` a dict kept between steps.
    The gradient is :meth:`Surface.value_and_grad`'s (its closed form when it has one).
    """
    param = np.array(start if start is not None else surface.start, dtype=np.float64)
    state: dict = {}
    path = np.full((num_steps + 1, 2), np.nan)
    path[0] = param
    for k in range(1, num_steps + 1):
        grad = np.array(surface.value_and_grad(*param)[1])
        param = np.asarray(step_fn(param, grad, state, **hyperparameters), dtype=np.float64)
        if not np.all(np.isfinite(param)) or np.abs(param).max() > 1e6:
            break
        path[k] = param
    return path
