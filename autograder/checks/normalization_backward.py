"""Checks for the BatchNorm and LayerNorm backward passes: dx, dγ and dβ against autograd.

A backward pass consumes the cache of the student's own forward pass, so each check runs the
pair: the forward named beside the backward in the student's notebook (see
:meth:`.calls.StudentCode.sibling`), then the backward on a random ``dout``. A wrong dx is also compared
with a numeric gradient (central differences) of the student's own forward, which tells a
wrong backward from a right backward of a wrong forward.
"""
from __future__ import annotations

import numpy as np

from ..reference.batchnorm import batchnorm_backward as ref_bn_backward
from ..reference.batchnorm import batchnorm_forward as ref_bn_forward
from ..reference.layernorm import layernorm_backward as ref_ln_backward
from ..reference.layernorm import layernorm_forward as ref_ln_forward
from . import normalization_mistakes as mistakes
from .calls import StudentError, call_student, sibling, to_float64
from .normalization import (LAYERNORM_CASES, TOL, Case, checked_array, checked_pair, error_words, forward_call,
                            relative_error)
from .result import CheckResult, failed, passed

__all__ = ["check_batchnorm_backward_dx", "check_batchnorm_backward_params", "check_layernorm_backward",
           "BACKWARD_CASES", "ALL_CHECKS"]


def _numeric_dx(forward, x, dout, h=1e-6):
    """Central differences of L(x) = Σ forward(x)·dout, one coordinate at a time."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        values = []
        for sign in (1, -1):
            shifted = x.copy()
            shifted[index] += sign * h
            values.append(np.sum(to_float64(forward(shifted)) * dout))
        grad[index] = (values[0] - values[1]) / (2 * h)
    return grad


class _Backward:
    """Runs a (forward, backward) pair on a case: out, dx, dgamma, dbeta."""

    def __init__(self, kind):
        self.kind = kind

    def forward_call(self, forward, case, x, gamma, beta, running):
        return forward_call(self.kind, forward, case, x, gamma, beta, running)

    def run(self, forward, backward, case, student=False):
        xs, gamma, beta, running, dout = case.arrays()
        x, num_features = xs[0], case.shape[-1]
        if not student:
            out, cache = self.forward_call(forward, case, x.copy(), gamma, beta, running)
            return [np.asarray(a, dtype=float) for a in (out, *backward(dout.copy(), cache))]
        fname = f"{self.kind}_forward"
        out, cache = checked_pair(call_student(self.forward_call, forward, case, x.copy(), gamma.copy(),
                                        beta.copy(), running), fname)
        out = checked_array(out, f"the output of {fname}", x.shape)
        grads = call_student(backward, dout.copy(), cache)
        if not (isinstance(grads, tuple) and len(grads) == 3):
            raise StudentError(f"{self.kind}_backward should return (dx, dgamma, dbeta), not "
                               f"{type(grads).__name__}")
        shapes = (x.shape, (num_features,), (num_features,))
        return [out] + [checked_array(g, what, shape) for g, what, shape in zip(grads, ("dx", "dgamma", "dbeta"), shapes)]

    def student_forward_only(self, forward, case):
        _, gamma, beta, running, _ = case.arrays()

        def fn(x):
            out, _ = call_student(self.forward_call, forward, case, x.copy(), gamma.copy(), beta.copy(), running)
            return out
        return fn


def _backward_check(name, kind, forward, backward, cases, parts, mistake_list) -> CheckResult:
    runner = _Backward(kind)
    if forward is None:
        try:
            forward = sibling(backward, f"{kind}_forward")
        except StudentError as exc:
            return failed(name, f"this check {exc}.")
    labels = {1: "dx", 2: "dgamma", 3: "dbeta"}
    for count, case in enumerate(cases, start=1):
        reference = runner.run(ref_bn_forward if kind == "batchnorm" else ref_ln_forward,
                               ref_bn_backward if kind == "batchnorm" else ref_ln_backward, case)
        try:
            student = runner.run(forward, backward, case, student=True)
        except StudentError as exc:
            text = str(exc)
            diagnosis = mistakes.DGAMMA_AXIS if text.startswith(("returned dgamma", "returned dbeta")) else None
            return failed(name, f"on {case.describe()}: {error_words(exc)}.", count, diagnosis)
        _, gamma, _, _, dout = case.arrays()
        natural = float(np.max(np.abs(dout))) * float(np.max(np.abs(gamma)))
        for part in parts:
            error = relative_error(student[part], reference[part], floor=1e-6 * natural)
            if error <= TOL:
                continue
            text = f"on {case.describe()} your {labels[part]} differs from torch's (autograd) by a relative {error:.3g}."
            diagnosis = None
            for mistake in mistake_list:
                try:
                    variant = runner.run(mistake.forward, mistake.backward, case)
                except Exception:  # noqa: BLE001
                    continue
                if relative_error(student[part], variant[part], floor=1e-6 * natural) <= TOL:
                    diagnosis = mistake.diagnosis
                    break
            if part == 1 and diagnosis is None:
                text += _numeric_words(runner, forward, case, student, reference)
            return failed(name, text, count, diagnosis)
    return passed(name, len(cases), "autograd through torch's " +
                  ("batch_norm (training mode)" if kind == "batchnorm" else "layer_norm"))


def _numeric_words(runner, forward, case, student, reference) -> str:
    """Compare the student's dx with the numeric gradient of their own forward."""
    xs, _, _, _, dout = case.arrays()
    try:
        numeric = _numeric_dx(runner.student_forward_only(forward, case), xs[0], dout)
    except StudentError:
        return ""
    consistent = relative_error(student[1], numeric, floor=1e-8) < 1e-4
    forward_right = relative_error(student[0], reference[0]) <= TOL
    if consistent and not forward_right:
        return (" It is the exact gradient of your own forward, whose output is wrong: fix the "
                "forward first, and this cell should pass too.")
    return (f" A numeric gradient (central differences) of your forward differs from your dx by a "
            f"relative {relative_error(student[1], numeric, floor=1e-8):.3g}: check the formula term by term "
            "with a gradient check on a small input.")


BACKWARD_CASES = [Case((4, 7), 401), Case((2, 3), 402), Case((3, 5), 403, eps=1e-3), Case((16, 6), 404),
                  Case((7, 4), 405, tiny=True), Case((5, 5), 406)]


def check_batchnorm_backward_dx(batchnorm_backward, batchnorm_forward=None) -> CheckResult:
    """dx in training mode, through the batch mean and variance, against autograd. The caches
    come from the student's own ``batchnorm_forward`` (by default the one beside the backward)."""
    return _backward_check("BatchNorm backward, dx", "batchnorm", batchnorm_forward, batchnorm_backward,
                           BACKWARD_CASES, (1,), mistakes.BATCHNORM)


def check_batchnorm_backward_params(batchnorm_backward, batchnorm_forward=None) -> CheckResult:
    """dgamma and dbeta: one value per feature, summed over the batch."""
    return _backward_check("BatchNorm backward, dgamma and dbeta", "batchnorm", batchnorm_forward,
                           batchnorm_backward, BACKWARD_CASES, (2, 3), mistakes.BATCHNORM)


def check_layernorm_backward(layernorm_backward, layernorm_forward=None) -> CheckResult:
    """dx, dgamma and dbeta of LayerNorm against autograd, 2-D and 3-D inputs."""
    return _backward_check("LayerNorm backward", "layernorm", layernorm_forward, layernorm_backward,
                           LAYERNORM_CASES, (1, 2, 3), mistakes.LAYERNORM)


ALL_CHECKS = {
    "batchnorm_backward": [check_batchnorm_backward_dx, check_batchnorm_backward_params],
    "layernorm_backward": [check_layernorm_backward],
}
