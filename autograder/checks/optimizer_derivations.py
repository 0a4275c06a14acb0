"""Checks for the optimizers assignment's derivations: Nesterov's look-ahead definition and
the size of Adam's steps without bias correction.

``lookahead_point`` and ``nesterov_lookahead_update`` (one graded cell, found side by side in
the student's notebook) are compared with the reference on random parameters, buffers and
gradients; ``adam_bias_factor`` with the closed form on steps 1 to 10,000, every pair of
flags and several betas. A failure names the case and, where one fits, the typical mistake
of :mod:`.optimizer_mistakes` the numbers match.
"""
from __future__ import annotations

import numpy as np

from ..reference.adam_bias import adam_bias_factor as ref_bias_factor
from ..reference.nesterov import lookahead_point as ref_lookahead
from ..reference.nesterov import nesterov_lookahead_update as ref_update
from . import optimizer_mistakes as mistakes
from .calls import StudentError, call_student, sibling, to_float64
from .metric_cases import close, short
from .result import CheckResult, failed, passed

__all__ = ["check_nesterov_lookahead", "check_adam_bias_factor", "ALL_CHECKS"]


def _diagnosis(got, mistake_list, *args, tol=1e-9, **kwargs):
    for mistake in mistake_list:
        try:
            with np.errstate(all="ignore"):
                variant = mistake.step(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a variant that cannot run here says nothing
            continue
        if isinstance(variant, tuple) and isinstance(got, tuple):
            if len(got) == len(variant) and all(close(a, b, tol) for a, b in zip(got, variant)):
                return mistake.diagnosis
        elif not isinstance(variant, tuple) and not isinstance(got, tuple) and close(got, variant, tol):
            return mistake.diagnosis
    return None


def _lookahead_cases():
    rng = np.random.default_rng(91)
    for shape in ((3,), (2, 3), (1,), (4, 1, 2)):
        theta, b, grad = (rng.normal(size=shape) * s for s in (1.0, 2.0, 0.5))
        yield theta, b, grad, float(10 ** rng.uniform(-3, 0)), float(rng.choice([0.5, 0.9, 0.99]))


def _within(got, expected):
    return close(got, expected, tol=1e-9 * max(1.0, float(np.max(np.abs(expected)))))


def check_nesterov_lookahead(lookahead_point) -> CheckResult:
    """The look-ahead point θ - η·μ·b, and the update of the look-ahead definition
    (b ← μ·b + g, θ ← θ - η·b) from ``nesterov_lookahead_update`` beside it."""
    name = "Nesterov's look-ahead definition"
    try:
        update = sibling(lookahead_point, "nesterov_lookahead_update")
    except StudentError as exc:
        return failed(name, f"this check {exc}.")
    count = 0
    for theta, b, grad, lr, momentum in _lookahead_cases():
        count += 1
        where = f"θ of shape {theta.shape}, lr={lr:.3g}, momentum={momentum:g}"
        expected = ref_lookahead(theta, b, lr, momentum)
        try:
            got = to_float64(call_student(lookahead_point, theta.copy(), b.copy(), lr, momentum=momentum),
                             "the look-ahead point")
        except StudentError as exc:
            return failed(name, f"lookahead_point on {where}: your function {exc}.", count)
        if not _within(got, expected):
            return failed(name, f"lookahead_point on {where}: expected {short(expected)}, yours is "
                                f"{short(got)}.", count,
                          _diagnosis(got, mistakes.LOOKAHEAD_POINT, theta, b, lr, momentum))
        count += 1
        expected = ref_update(theta, b, grad, lr, momentum)
        try:
            result = call_student(update, theta.copy(), b.copy(), grad.copy(), lr, momentum=momentum)
            if not (isinstance(result, tuple) and len(result) == 2):
                raise StudentError(f"returned {type(result).__name__}, expected a tuple (theta, b)")
            got = tuple(to_float64(v, what) for v, what in zip(result, ("the new theta", "the new b")))
        except StudentError as exc:
            return failed(name, f"nesterov_lookahead_update on {where}: your function {exc}.", count)
        if not all(_within(g, e) for g, e in zip(got, expected)):
            return failed(name, f"nesterov_lookahead_update on {where}: expected θ {short(expected[0])} "
                                f"and b {short(expected[1])}, yours are {short(got[0])} and "
                                f"{short(got[1])}.", count,
                          _diagnosis(got, mistakes.LOOKAHEAD_UPDATE, theta, b, grad, lr, momentum))
    return passed(name, count, "the look-ahead definition (whose look-ahead points are "
                               "torch.optim.SGD(nesterov=True)'s parameters)")


def check_adam_bias_factor(adam_bias_factor) -> CheckResult:
    """|θ_t - θ_{t-1}| / η under a constant gradient, for every pair of corrections, steps 1
    to 10,000 (as one number and as an array), several betas."""
    name = "Adam's step size without bias correction"
    count = 0
    steps = [np.int64(1), 2, 10, np.arange(1, 41), np.array([1, 12, 100, 1000, 10_000])]
    for betas in ((0.9, 0.999), (0.8, 0.99), (0.5, 0.9)):
        for correct_m in (True, False):
            for correct_v in (True, False):
                for t in steps:
                    count += 1
                    flags = dict(correct_m=correct_m, correct_v=correct_v)
                    where = (f"t = {short(t)}, betas={betas}, correct_m={correct_m}, "
                             f"correct_v={correct_v}")
                    expected = ref_bias_factor(t, betas, **flags)
                    try:
                        got = to_float64(call_student(adam_bias_factor, t, betas=betas, **flags),
                                         "the returned factor")
                    except StudentError as exc:
                        return failed(name, f"on {where}: your function {exc}.", count)
                    if got.shape != np.shape(expected):
                        return failed(name, f"on {where}: expected shape {np.shape(expected)} (one "
                                            f"factor per t), yours has {got.shape}.", count)
                    if not np.allclose(got, expected, rtol=1e-9, atol=0):
                        return failed(name, f"on {where}: expected {short(expected)}, yours is "
                                            f"{short(got)}.", count,
                                      _diagnosis(got, mistakes.BIAS_FACTOR, t, betas, **flags))
    return passed(name, count, "the geometric sums m_t = (1 - β1^t)·g, v_t = (1 - β2^t)·g²")


ALL_CHECKS = {
    "lookahead_point": [check_nesterov_lookahead],
    "adam_bias_factor": [check_adam_bias_factor],
}
