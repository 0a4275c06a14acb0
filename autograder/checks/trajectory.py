"""Run an update rule over a fixed sequence of gradients and compare trajectories.

The error of a trajectory is scale-free: the largest deviation from the reference, in any
coordinate at any step, divided by the reference's largest single step. So a bug of 1% of
an update shows whether the gradients are 1e-6 or 1e3.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .calls import StudentError, as_student

__all__ = ["Case", "random_cases", "run_numpy", "compare", "Mismatch"]


@dataclass(frozen=True)
class Case:
    """One comparison: a start point, a gradient sequence, hyperparameters."""

    shape: tuple
    grad_scale: float
    hyper: dict
    num_steps: int
    seed: int
    zeros: bool = True
    param_scale: float = 1.0
    label: str = field(default="", compare=False)

    def arrays(self) -> tuple[np.ndarray, list[np.ndarray]]:
        rng = np.random.default_rng(self.seed)
        param = rng.normal(size=self.shape) * self.param_scale
        grads = []
        for k in range(self.num_steps):
            g = rng.normal(size=self.shape) * self.grad_scale
            if self.zeros:
                g[rng.random(self.shape) < 0.15] = 0.0   # some exact zeros
                if k % 17 == 16:
                    g[...] = 0.0                          # and a whole zero gradient now and then
            grads.append(g)
        return param, grads

    def describe(self) -> str:
        hyper = ", ".join(f"{k}={_short(v)}" for k, v in self.hyper.items())
        return (f"shape {self.shape}, gradients of scale {self.grad_scale:g}, {hyper}, "
                f"{self.num_steps} step{'s' if self.num_steps > 1 else ''}")


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return repr(value)


def random_cases(seed: int, count: int, num_steps: int, hyper_fn, scales=(1e-6, 1e-3, 1.0, 1e3),
                 shapes=((3,), (2, 3), (4, 1, 5), (1,))) -> list[Case]:
    """``count`` cases cycling through gradient scales and shapes; ``hyper_fn(rng)`` draws
    the hyperparameters of each."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        cases.append(Case(shape=tuple(shapes[i % len(shapes)]), grad_scale=scales[i % len(scales)],
                          hyper=hyper_fn(rng), num_steps=num_steps, seed=seed * 1000 + i))
    return cases


def run_numpy(step_fn, case: Case, student: bool = False):
    """The trajectory ``(num_steps + 1, *shape)`` and final state of ``step_fn`` on ``case``.

    Every call gets fresh copies of the parameter and gradient, so a function that updates
    them in place cannot disturb the comparison. ``student``: ``step_fn`` is the student's
    (:meth:`~.calls.StudentCode.trajectory`: its failures become :class:`StudentError`).
    """
    param, grads = case.arrays()
    if student:
        return as_student(step_fn).trajectory(param, grads, case.hyper)
    state: dict = {}
    path = [param.copy()]
    current = param.copy()
    for grad in grads:
        current = np.asarray(step_fn(current.copy(), grad.copy(), state, **case.hyper))
        path.append(current.copy())
    return np.stack(path), state


@dataclass(frozen=True)
class Mismatch:
    step: int
    error: float
    ratio: float | None
    cosine: float | None
    has_nan: bool

    def describe(self) -> str:
        if self.has_nan:
            return (f"your parameters become NaN or infinite at step {self.step} (the reference's "
                    "stay finite): look for a division by zero where the gradient is 0, e.g. ε "
                    "added outside the denominator")
        text = f"your parameters first differ at step {self.step}"
        if self.ratio is not None and self.cosine is not None:
            if self.cosine < -0.99:
                text += ": your update points the opposite way"
            elif self.cosine > 0.99 and (self.ratio > 1.01 or self.ratio < 0.99):
                text += (f": your update there is {self.ratio:.3g}× the expected size "
                         f"({'too large' if self.ratio > 1 else 'too small'})")
            else:
                text += f" (by {self.error:.3g}× the expected step size)"
        return text


def trajectory_error(student: np.ndarray, reference: np.ndarray) -> float:
    steps = np.abs(np.diff(reference, axis=0)).max() if len(reference) > 1 else 0.0
    with np.errstate(invalid="ignore"):
        deviation = np.abs(student - reference).max()
    if not np.isfinite(deviation):
        return float("inf")
    return float(deviation / max(steps, 1e-300))


def first_mismatch(student: np.ndarray, reference: np.ndarray, tol: float) -> Mismatch | None:
    """Where the trajectories part, with the ratio and direction of the student's update there."""
    scale = max(np.abs(np.diff(reference, axis=0)).max(), 1e-300)
    for k in range(1, len(reference)):
        s, r = student[k], reference[k]
        if not np.all(np.isfinite(s)) and np.all(np.isfinite(r)):
            return Mismatch(k, float("inf"), None, None, True)
        error = float(np.abs(s - r).max() / scale)
        if error > tol:
            ds = (student[k] - student[k - 1]).ravel()
            dr = (reference[k] - reference[k - 1]).ravel()
            ns, nr = np.linalg.norm(ds), np.linalg.norm(dr)
            ratio = float(ns / nr) if nr > 0 else None
            cosine = float(ds @ dr / (ns * nr)) if ns > 0 and nr > 0 else None
            return Mismatch(k, error, ratio, cosine, False)
    return None


def compare(student_fn, reference_fn, cases, mistakes=(), tol: float = 1e-6):
    """Compare on every case. Returns ``None`` when all agree, else ``(case, text, diagnosis)``.

    ``mistakes`` are :class:`~autograder.checks.optimizer_mistakes.Mistake` variants tried on
    the first failing case; the first the student matches gives the diagnosis.
    """
    for case in cases:
        reference, _ = run_numpy(reference_fn, case)
        try:
            student, _ = run_numpy(student_fn, case, student=True)
        except StudentError as exc:
            return case, f"on {case.describe()}: your function {exc}", None
        if trajectory_error(student, reference) <= tol:
            continue
        mismatch = first_mismatch(student, reference, tol)
        text = f"on {case.describe()}: " + (mismatch.describe() if mismatch else
                                            "your trajectory differs from the reference")
        return case, text, diagnose(student, case, mistakes, tol)
    return None


def diagnose(student: np.ndarray, case: Case, mistakes, tol: float) -> str | None:
    """The diagnosis of the first typical mistake whose trajectory the student's matches."""
    for mistake in mistakes:
        try:
            variant, _ = run_numpy(mistake.step, case)
        except Exception:  # noqa: BLE001 - a variant that cannot run on this case says nothing
            continue
        with np.errstate(all="ignore"):
            if trajectory_error(student, variant) <= max(tol, 1e-6):
                return mistake.diagnosis
    return None
