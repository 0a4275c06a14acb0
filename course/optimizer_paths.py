"""The optimizer explorer's model: ``torch.optim`` optimizers walking on 2-D surfaces, full batch or mini-batch.

A *setting* (:class:`PathSetting`) is an optimizer, a surface, the learning rate and
momentum/β₁ it takes from the explorer's sliders, a learning-rate schedule and a batch
size; its *path* is the ``(MAX_STEPS + 1, 2)`` array of points the optimizer visits from
the surface's start (NaN from the first point that is not finite or beyond 1e6: diverged).

**Mini-batches.** Each surface ``f`` is read as the mean of ``N = NUM_EXAMPLES``
per-example losses ``f_i(x) = f(x) + a_iᵀx`` whose tilts ``a_i`` average to zero
(:class:`MiniBatchNoise`): the full batch (``batch_size = N``) gives exactly ``f`` and its
gradient; a mini-batch of ``B`` examples, drawn without replacement at every step, gives
``∇f(x) + ā_B`` where ``ā_B`` is the mean tilt of the batch, of standard deviation
``σ·√((N − B)/(B (N − 1)))`` per coordinate. So ``B = 1`` is SGD in the textbook sense, and
the noise shrinks like ``1/√B``. The draws are fixed (one seed per surface): a batch of 16
at step ``t`` holds the first 16 examples of step ``t``'s permutation, a batch of 4 the first 4.
The noise does not depend on ``x`` (real per-example gradients do); the tilts are scaled to
the surface's gradient at its start (``NOISE_SCALE``).

**Computed together.** :func:`paths` runs every setting of one optimizer in one
``torch.optim`` optimizer: one parameter group per (learning rate, β, schedule), one row of
the group's ``(rows, 2)`` parameter per (surface, batch size). Every optimizer here except
L-BFGS updates each coordinate on its own, so each row follows exactly the path it would
follow alone (a test checks it against single runs). A group's schedule is a ``LambdaLR`` of
the multipliers torch's own scheduler produces over the horizon (:func:`multipliers`): the
same learning rates, to rounding, whatever the other groups use. L-BFGS (its step looks at
all parameters together) and ``reduce-on-plateau`` (it watches one loss) run one setting at
a time, with torch's scheduler itself.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from .schedules import lr_curve, make_scheduler
from .surfaces import SURFACES, Surface

__all__ = ["MAX_STEPS", "NUM_EXAMPLES", "BATCH_SIZES", "NOISE_SCALE", "OptimizerSpec", "OPTIMIZERS",
           "PathSetting", "path_setting", "depends_on", "MiniBatchNoise", "multipliers", "paths", "path_prefix",
           "iter_paths",
           "optimizer_paths", "loss_gap"]

MAX_STEPS = 300  # the iteration slider's maximum, and the horizon of every schedule
NUM_EXAMPLES = 256  # examples in the finite sum; a batch of this size is the full batch
BATCH_SIZES = (1, 4, 16, 64, NUM_EXAMPLES)
#: σ of the per-example tilts, as a fraction of the gradient's length at the surface's start
NOISE_SCALE = 0.2
DIVERGED = 1e6  # a coordinate beyond this ends the path


@dataclass(frozen=True)
class OptimizerSpec:
    """How a named optimizer is built from the explorer's controls.

    ``family`` says which learning rate it takes: ``"sgd"`` (the SGD learning rate),
    ``"adaptive"`` (the adaptive learning rate) or ``"own"`` (its own, fixed in ``hyper``).
    ``beta`` is the name of the keyword the momentum/β₁ slider sets, if any.
    """

    optimizer_cls: type
    family: str
    hyper: tuple = ()
    beta: str | None = None

    def build_kwargs(self, lr: float | None, beta: float | None) -> dict:
        """The optimizer's keyword arguments for a learning rate and a momentum/β₁."""
        kwargs = dict(self.hyper)
        if self.family != "own":
            kwargs["lr"] = lr
        if self.beta == "momentum":
            kwargs["momentum"] = beta
            if not beta and "nesterov" in kwargs:  # Nesterov without momentum is plain SGD
                kwargs["nesterov"] = False  # (torch refuses the combination)
        elif self.beta == "betas":
            kwargs["betas"] = (beta, 0.999)
        return kwargs


OPTIMIZERS: dict[str, OptimizerSpec] = {
    "SGD": OptimizerSpec(torch.optim.SGD, "sgd"),
    "Momentum": OptimizerSpec(torch.optim.SGD, "sgd", beta="momentum"),
    "Nesterov": OptimizerSpec(torch.optim.SGD, "sgd", (("nesterov", True),), beta="momentum"),
    "AdaGrad": OptimizerSpec(torch.optim.Adagrad, "adaptive"),
    "RMSprop": OptimizerSpec(torch.optim.RMSprop, "adaptive"),
    "AdaDelta": OptimizerSpec(torch.optim.Adadelta, "own", (("lr", 1.0), ("rho", 0.9))),
    "Adam": OptimizerSpec(torch.optim.Adam, "adaptive", beta="betas"),
    "AdaMax": OptimizerSpec(torch.optim.Adamax, "adaptive", beta="betas"),
    "NAdam": OptimizerSpec(torch.optim.NAdam, "adaptive", beta="betas"),
    "AMSGrad": OptimizerSpec(torch.optim.Adam, "adaptive", (("amsgrad", True),), beta="betas"),
    "AdamW": OptimizerSpec(torch.optim.AdamW, "adaptive", (("weight_decay", 0.1),), beta="betas"),
    "L-BFGS": OptimizerSpec(torch.optim.LBFGS, "own", (("lr", 1.0), ("max_iter", 1), ("max_eval", 25),
                                                         ("history_size", 10),
                                                         ("line_search_fn", "strong_wolfe"))),
}


@dataclass(frozen=True)
class PathSetting:
    """One path: only what the optimizer uses (``lr``/``beta`` None when it takes none)."""

    optimizer: str
    surface: str
    lr: float | None
    beta: float | None
    schedule: str
    batch_size: int


def path_setting(optimizer: str, surface: str, lr_sgd: float, lr_adaptive: float, beta: float,
                 schedule: str, batch_size: int = NUM_EXAMPLES) -> PathSetting:
    """The setting of optimizer ``optimizer`` at the explorer's control values (moving the adaptive
    learning rate does not change momentum's setting; nothing but the surface and the batch
    changes L-BFGS's: it finds its own step by line search, with no schedule)."""
    spec = OPTIMIZERS[optimizer]
    if not 1 <= int(batch_size) <= NUM_EXAMPLES:
        raise ValueError(f"batch_size must be between 1 and {NUM_EXAMPLES}, not {batch_size}")
    lr = {"sgd": lr_sgd, "adaptive": lr_adaptive}.get(spec.family)
    return PathSetting(optimizer, surface, None if lr is None else float(lr),
                       float(beta) if spec.beta else None,
                       "constant" if optimizer == "L-BFGS" else schedule, int(batch_size))


def depends_on(optimizer: str) -> list[str]:
    """The explorer's controls optimizer ``optimizer``'s path depends on (as in :func:`path_setting`)."""
    spec = OPTIMIZERS[optimizer]
    return (["surface"] + (["lr_sgd"] if spec.family == "sgd" else [])
            + (["lr_adaptive"] if spec.family == "adaptive" else []) + (["beta"] if spec.beta else [])
            + ([] if optimizer == "L-BFGS" else ["schedule"]) + ["batch_size"])


# ----- the finite sum --------------------------------------------------------------------------
class MiniBatchNoise:
    """The tilts ``a_i`` of a surface's ``N`` per-example losses and the batches of every step.

    ``noise(t, B)`` is the mean tilt of step ``t``'s batch of ``B`` examples (the first ``B``
    of that step's random permutation): what a mini-batch adds to the gradient; zero for the
    full batch. ``sigma`` is the tilts' standard deviation per coordinate.
    """

    def __init__(self, surface: Surface, num_examples: int = NUM_EXAMPLES, steps: int = MAX_STEPS,
                 scale: float | None = None, seed: int = 0):
        rng = np.random.default_rng(seed)
        value, grad = _value_and_grad(surface, np.asarray([surface.start], dtype=np.float64))
        self.sigma = (NOISE_SCALE if scale is None else scale) * float(np.linalg.norm(grad[0]))
        tilts = rng.standard_normal((num_examples, 2)) * self.sigma
        self.tilts = tilts - tilts.mean(axis=0)  # the full batch is exactly f
        self.num_examples = num_examples
        self.order = rng.permuted(np.tile(np.arange(num_examples), (steps, 1)), axis=1)  # (steps, N)
        self._sums = np.cumsum(self.tilts[self.order], axis=1)  # (steps, N, 2)

    def noise(self, step: int, batch_size) -> np.ndarray:
        """``(2,)`` or, for an array of batch sizes, ``(len, 2)``: the mean tilt of step ``step``'s batches."""
        sizes = np.asarray(batch_size)
        out = self._sums[step, sizes - 1] / sizes[..., None]
        return np.where((sizes == self.num_examples)[..., None], 0.0, out)

    def batch(self, step: int, batch_size: int) -> np.ndarray:
        """The indices of the examples in step ``step``'s batch of ``batch_size``."""
        return self.order[step, :batch_size]


@lru_cache(maxsize=None)
def _noise(surface: str) -> MiniBatchNoise:
    return MiniBatchNoise(SURFACES[surface])


def _value_and_grad(surface: Surface, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``f`` and its gradient at ``(R, 2)`` points: the surface's closed form on arrays (the
    formulas :class:`course.surfaces.PathRecorder` evaluates point by point), else autograd."""
    if surface.closed_form is not None:
        with np.errstate(all="ignore"):
            value, (gx, gy) = surface.closed_form(points[:, 0], points[:, 1])
            return np.asarray(value, dtype=np.float64), np.column_stack([gx, gy]).astype(np.float64)
    p = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        surface.f(p).sum().backward()
    return surface.f(points), p.grad.numpy()


# ----- running settings together ------------------------------------------------------------------
_CACHE: OrderedDict[PathSetting, np.ndarray] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 8192  # paths kept (5 kB each)
MAX_GROUPS = 32  # parameter groups in one run at most (a run is one unit of work ahead)


def _run_key(setting: PathSetting) -> tuple:
    """Settings with the same key run in one optimizer (see the module docstring)."""
    if setting.optimizer == "L-BFGS" or setting.schedule == "reduce-on-plateau":
        return (setting,)  # alone: L-BFGS's step looks at all parameters, the plateau at one loss
    return (setting.optimizer,)


def _group(setting: PathSetting) -> tuple:
    """A parameter group: the hyperparameters and the schedule; its rows are surface x batch size."""
    return setting.lr, setting.beta, setting.schedule


def _runs(settings: Sequence[PathSetting]) -> list[list[PathSetting]]:
    """The settings split into runs, in the order of each run's first setting."""
    runs: dict[tuple, list[list[PathSetting]]] = {}
    order: list[list[PathSetting]] = []
    for setting in settings:
        chunks = runs.setdefault(_run_key(setting), [])
        groups = {_group(s) for s in chunks[-1]} if chunks else set()
        if not chunks or (_group(setting) not in groups and len(groups) >= MAX_GROUPS):
            chunks.append([])
            order.append(chunks[-1])
        chunks[-1].append(setting)
    return order


@lru_cache(maxsize=None)
def multipliers(schedule: str) -> np.ndarray:
    """``η_k / η`` of ``schedule`` over the explorer's horizon, as torch's scheduler makes it
    (:func:`course.schedules.lr_curve` steps it on a learning rate of 1)."""
    curve = lr_curve(schedule, 1.0, MAX_STEPS)
    curve.setflags(write=False)
    return curve


def _scheduler(optimizer, schedules: Sequence[str]):
    """One schedule per parameter group: torch's own scheduler when a run has one group (L-BFGS,
    reduce-on-plateau), else a ``LambdaLR`` of each group's multipliers (the same rates)."""
    if len(schedules) == 1 and (schedules[0] == "reduce-on-plateau" or isinstance(optimizer, torch.optim.LBFGS)):
        return make_scheduler(schedules[0], optimizer, MAX_STEPS)
    tables = [multipliers(name) for name in schedules]
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, [lambda k, table=table: float(table[min(k, MAX_STEPS - 1)]) for table in tables])


def _run(settings: list[PathSetting], pause: Callable[[], None] | None = None,
         steps: int = MAX_STEPS) -> dict[PathSetting, np.ndarray]:
    """The paths of settings that share a run key, stepped together (the first ``steps`` steps;
    NaN after them)."""
    spec = OPTIMIZERS[settings[0].optimizer]
    groups: dict[tuple, list[PathSetting]] = {}
    for setting in settings:
        groups.setdefault(_group(setting), []).append(setting)
    params, param_groups, rows = [], [], []
    for (lr, beta, _), members in groups.items():
        p = torch.tensor([SURFACES[s.surface].start for s in members], dtype=torch.float64, requires_grad=True)
        params.append(p)
        param_groups.append({"params": [p], **spec.build_kwargs(lr, beta)})
        rows += members
    optimizer = spec.optimizer_cls(param_groups, **{k: v for k, v in param_groups[0].items() if k != "params"})
    scheduler = _scheduler(optimizer, [schedule for _, _, schedule in groups])
    sizes = np.array([s.batch_size for s in rows])
    surfaces = {name: np.array([s.surface == name for s in rows]) for name in dict.fromkeys(s.surface for s in rows)}
    out = np.full((MAX_STEPS + 1, len(rows), 2), np.nan)
    out[0] = [SURFACES[s.surface].start for s in rows]
    alive = np.ones(len(rows), dtype=bool)
    bounds = np.cumsum([0] + [len(members) for members in groups.values()])

    def evaluate(step: int) -> float:
        """Loss and gradients of every row at its current point, for step ``step``'s batch."""
        points = torch.cat([p.detach() for p in params]).numpy()
        value, grad = np.empty(len(rows)), np.empty_like(points)
        for name, mask in surfaces.items():
            value[mask], grad[mask] = _value_and_grad(SURFACES[name], points[mask])
            tilt = _noise(name).noise(step, sizes[mask])
            with np.errstate(all="ignore"):  # a diverged row is inf; it is cut from its path
                value[mask] += (tilt * points[mask]).sum(axis=1)
                grad[mask] += tilt
        for p, lo, hi in zip(params, bounds[:-1], bounds[1:]):
            # a new tensor each time: L-BFGS keeps views of earlier gradients
            p.grad = torch.from_numpy(np.ascontiguousarray(grad[lo:hi]))
        return float(value.sum())  # one row when it matters (L-BFGS, reduce-on-plateau)

    with torch.no_grad():
        for step in range(steps):
            if pause is not None:
                pause()
            loss = optimizer.step(lambda: evaluate(step))
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(float(loss))
            elif scheduler is not None:
                scheduler.step()
            points = torch.cat([p.detach() for p in params]).numpy()
            with np.errstate(invalid="ignore"):
                alive &= np.all(np.isfinite(points), axis=1) & (np.abs(points).max(axis=1) <= DIVERGED)
            if not alive.any():
                break
            out[step + 1, alive] = points[alive]
    return {setting: out[:, i].copy() for i, setting in enumerate(rows)}


def iter_paths(settings: Iterable[PathSetting], pause: Callable[[], None] | None = None
               ) -> Iterator[dict[PathSetting, np.ndarray]]:
    """The paths of ``settings``, run by run (settings computed before come first, from the
    cache); ``pause()`` is called before every step (a thread computing ahead gives way there)."""
    settings = list(dict.fromkeys(settings))
    with _CACHE_LOCK:
        known = {s: _CACHE[s] for s in settings if s in _CACHE}
    if known:
        yield known
    for run in _runs([s for s in settings if s not in known]):
        result = _run(run, pause)
        with _CACHE_LOCK:
            _CACHE.update(result)
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
        yield result


def path_prefix(setting: PathSetting, steps: int) -> np.ndarray:
    """The first ``steps + 1`` points of ``setting``'s path: from the cache, or computed (and not
    kept): a person waiting for a setting needs only the iterations shown."""
    with _CACHE_LOCK:
        known = _CACHE.get(setting)
    if known is not None:
        return known[:steps + 1]
    return _run([setting], steps=steps)[setting][:steps + 1]


def paths(settings: Iterable[PathSetting]) -> dict[PathSetting, np.ndarray]:
    """``{setting: (MAX_STEPS + 1, 2) path}``, computed together where torch allows, cached."""
    out: dict[PathSetting, np.ndarray] = {}
    for result in iter_paths(settings):
        out.update(result)
    return out


def optimizer_paths(surface: str, optimizers, num_steps: int, lr_sgd: float = 1e-3,
                    lr_adaptive: float = 0.1, beta: float = 0.9, schedule: str = "constant",
                    batch_size: int = NUM_EXAMPLES) -> dict[str, np.ndarray]:
    """``{optimizer name: (num_steps + 1, 2) path}`` on the named surface, at the explorer's control values."""
    if num_steps > MAX_STEPS:
        raise ValueError(f"at most {MAX_STEPS} steps (the schedules' horizon), not {num_steps}")
    settings = {name: path_setting(name, surface, lr_sgd, lr_adaptive, beta, schedule, batch_size)
                for name in optimizers}
    computed = paths(settings.values())
    return {name: computed[setting][:num_steps + 1] for name, setting in settings.items()}


def loss_gap(surface: Surface, path: np.ndarray) -> np.ndarray:
    """``f(x_k) - f(x*)`` along a path (the full-batch loss), floored at 1e-12 for a log axis;
    NaN where the path is."""
    best = float(surface.f(np.asarray(surface.minimum))) if surface.minimum is not None else 0.0
    gap = np.full(len(path), np.nan)
    ok = ~np.isnan(path[:, 0])
    gap[ok] = np.maximum(np.asarray(surface.f(path[ok])) - best, 1e-12)
    return gap
