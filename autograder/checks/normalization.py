"""Checks for the BatchNorm and LayerNorm forward passes: one check per graded property.

Each runs the student's functions and the hidden reference (itself checked against
``torch.nn.BatchNorm1d``, ``torch.nn.LayerNorm`` and autograd) on seeded cases: N ≠ D,
batches of 2 to 4 samples, inputs whose variance (1e-6) is below ε, several training
batches in a row then eval, one sample among different batch-mates. The backward passes have
their checks in :mod:`.normalization_backward`. On a failure the
student's numbers are described in words, and the typical mistakes of
:mod:`.normalization_mistakes` are run on the same case to name the likely bug.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..reference.batchnorm import batchnorm_forward as ref_bn_forward
from ..reference.layernorm import layernorm_forward as ref_ln_forward
from . import normalization_mistakes as mistakes
from .calls import StudentError, call_student, to_float64
from .result import CheckResult, failed, passed

__all__ = ["check_batchnorm_train_forward", "check_batchnorm_running_stats", "check_batchnorm_eval",
           "check_layernorm_forward", "Case", "forward_call", "TRAIN_CASES", "LAYERNORM_CASES",
           "ALL_CHECKS", "relative_error", "error_words", "checked_array", "checked_pair"]

TOL = 1e-6
LAST_AXIS = ("your output is right on 2-D inputs but not on a 3-D one: normalize over the last "
             "axis (axis=-1), whatever the number of leading axes.")


@dataclass(frozen=True)
class Case:
    """Inputs for one comparison; ``None`` hyperparameters are left out (defaults apply)."""

    shape: tuple
    seed: int
    num_steps: int = 1
    momentum: float | None = None
    eps: float | None = None
    start: str = "given"          # running statistics given in bn_param, or "default" (absent)
    unit_affine: bool = False     # γ = 1, β = 0: the output should be standardized
    tiny: bool = False            # input variance 1e-6, below ε

    def arrays(self):
        rng = np.random.default_rng(self.seed)
        num_features = self.shape[-1]
        gamma = np.ones(num_features) if self.unit_affine else rng.uniform(0.5, 2.0, num_features)
        beta = np.zeros(num_features) if self.unit_affine else rng.normal(size=num_features)
        xs = []
        for _ in range(self.num_steps):
            spread = 1e-3 if self.tiny else rng.uniform(0.5, 3.0, num_features)
            xs.append(rng.normal(size=self.shape) * spread + rng.uniform(-3, 3, num_features))
        running = (rng.normal(size=num_features) * 0.5, rng.uniform(0.5, 2.0, num_features))
        dout = rng.normal(size=self.shape)
        return xs, gamma, beta, running, dout

    def bn_param(self, running) -> dict:
        param = {"mode": "train"}
        if self.momentum is not None:
            param["momentum"] = self.momentum
        if self.eps is not None:
            param["eps"] = self.eps
        if self.start == "given":
            param["running_mean"], param["running_var"] = running[0].copy(), running[1].copy()
        return param

    def describe(self) -> str:
        *lead, d = self.shape
        text = (f"a batch of N={lead[0]} samples and D={d} features" if len(lead) == 1 else
                f"an input of shape {self.shape}")
        if self.tiny:
            text += " whose variance is 1e-6 (below ε)"
        extras = [f"{k}={v:g}" for k, v in (("momentum", self.momentum), ("eps", self.eps)) if v is not None]
        if self.unit_affine:
            extras.append("γ=1, β=0")
        if self.start == "default":
            extras.append("bn_param without running statistics (the defaults apply)")
        return text + (f" ({', '.join(extras)})" if extras else "")


def relative_error(student, reference, floor=1.0) -> float:
    """The largest deviation from ``reference``, relative to its largest value (at least ``floor``)."""
    with np.errstate(all="ignore"):
        deviation = float(np.max(np.abs(student - reference))) if reference.size else 0.0
    if not np.isfinite(deviation):
        return float("inf")
    return deviation / max(floor, float(np.max(np.abs(reference))) if reference.size else 0.0)


def error_words(exc: StudentError) -> str:
    """A student error as the end of a sentence: "your function raised ...", "... is None: ..."."""
    text = str(exc)
    verbs = ("raised", "not implemented", "infinite", "returned", "should return", "left", "expected a")
    return f"your function {text}" if text.startswith(verbs) else text


def checked_array(value, what, shape):
    """A student's result as a float64 array of ``shape``, or a StudentError that says why not."""
    array = to_float64(value, what)
    if array.shape != tuple(shape):
        raise StudentError(f"returned {what} of shape {array.shape}, expected {tuple(shape)}")
    return array


def checked_pair(value, what):
    """A forward pass's ``(out, cache)`` pair, or a StudentError that says what came back."""
    if not (isinstance(value, tuple) and len(value) == 2):
        raise StudentError(f"should return a pair (out, cache), not {type(value).__name__}")
    return value


# ---------------------------------------------------------------- BatchNorm: running the cases

def _bn_run(forward, case: Case, modes, student=False, bn_param=None):
    """Call ``forward`` once per mode on the case's batches, keeping one bn_param throughout.
    Returns (outputs, running means, running vars, bn_param) after each call."""
    xs, gamma, beta, running, _ = case.arrays()
    bn_param = case.bn_param(running) if bn_param is None else bn_param
    outs, means, variances = [], [], []
    for k, (mode, x) in enumerate(zip(modes, xs * len(modes)), start=1):
        bn_param["mode"] = mode
        if student:
            out, _ = checked_pair(call_student(forward, x.copy(), gamma.copy(), beta.copy(), bn_param),
                           "batchnorm_forward")
            outs.append(checked_array(out, f"the output of call {k} ({mode} mode)", x.shape))
            for key, store in (("running_mean", means), ("running_var", variances)):
                if key not in bn_param:
                    raise StudentError(f"left bn_param without {key!r} after call {k} ({mode} mode): store "
                                       f"the running statistics in bn_param (its default is "
                                       f"{'zeros' if key == 'running_mean' else 'ones'})")
                store.append(checked_array(bn_param[key], f"bn_param[{key!r}] after call {k}", x.shape[-1:]))
        else:
            out, _ = forward(x.copy(), gamma, beta, bn_param)
            outs.append(np.asarray(out, dtype=float))
            means.append(np.array(bn_param["running_mean"], dtype=float))
            variances.append(np.array(bn_param["running_var"], dtype=float))
    return outs, means, variances, bn_param


def _bn_diagnose(case, modes, student, pick) -> str | None:
    """The first typical mistake whose ``pick``ed numbers the student's match on this case."""
    for mistake in mistakes.BATCHNORM:
        try:
            variant = _bn_run(mistake.forward, case, modes)
        except Exception:  # noqa: BLE001 - a variant that cannot run here says nothing
            continue
        if all(relative_error(s, v) <= TOL for s, v in zip(pick(student), pick(variant))):
            return mistake.diagnosis
    return None


def _std_words(out, reference, case) -> str:
    if not case.unit_affine:
        return ""
    return (f" Your per-feature output std is {np.mean(np.std(out, axis=0)):.3f} and mean "
            f"{np.mean(np.mean(out, axis=0)):+.3f}; torch's are {np.mean(np.std(reference, axis=0)):.3f} "
            f"and {np.mean(np.mean(reference, axis=0)):+.3f}.")


TRAIN_CASES = [Case((4, 7), 101, unit_affine=True), Case((2, 3), 102, unit_affine=True),
               Case((3, 5), 103), Case((16, 6), 104, eps=1e-3), Case((7, 4), 105, tiny=True, unit_affine=True),
               Case((4, 9), 106, tiny=True), Case((64, 10), 107), Case((5, 5), 108)]


def check_batchnorm_train_forward(batchnorm_forward) -> CheckResult:
    """Training mode: batch mean, biased batch variance, ε inside the square root, γ and β."""
    name = "BatchNorm forward, training mode"
    for count, case in enumerate(TRAIN_CASES, start=1):
        reference = _bn_run(ref_bn_forward, case, ["train"])
        try:
            student = _bn_run(batchnorm_forward, case, ["train"], student=True)
        except StudentError as exc:
            return failed(name, f"on {case.describe()}: {error_words(exc)}.", count)
        out, expected = student[0][0], reference[0][0]
        error = relative_error(out, expected)
        if error > TOL:
            text = (f"on {case.describe()} your output differs from torch.nn.BatchNorm1d's by up to "
                    f"{error:.3g}." + _std_words(out, expected, case))
            return failed(name, text, count, _bn_diagnose(case, ["train"], student, lambda r: r[0]))
    return passed(name, len(TRAIN_CASES), "torch.nn.BatchNorm1d in training mode")


RUNNING_CASES = [Case((4, 3), 201, num_steps=5), Case((2, 5), 202, num_steps=5, momentum=0.3),
                 Case((8, 4), 203, num_steps=6, momentum=0.01, eps=1e-3),
                 Case((3, 6), 204, num_steps=4, tiny=True),
                 Case((32, 5), 205, num_steps=5, start="default"),
                 Case((4, 2), 206, num_steps=3, momentum=0.5, start="default")]


def check_batchnorm_running_stats(batchnorm_forward) -> CheckResult:
    """Several training batches in a row: running_mean and running_var (momentum, unbiased
    variance, defaults) after every batch, written back into bn_param."""
    name = "BatchNorm running statistics"
    for count, case in enumerate(RUNNING_CASES, start=1):
        modes = ["train"] * case.num_steps
        reference = _bn_run(ref_bn_forward, case, modes)
        try:
            student = _bn_run(batchnorm_forward, case, modes, student=True)
        except StudentError as exc:
            return failed(name, f"on {case.describe()}: {error_words(exc)}.", count)
        for step in range(case.num_steps):
            for key, index in (("running_mean", 1), ("running_var", 2)):
                mine, theirs = student[index][step], reference[index][step]
                if relative_error(mine, theirs) > TOL:
                    text = (f"on {case.describe()}, after training batch {step + 1} of {case.num_steps}: "
                            f"your bn_param[{key!r}] is {np.round(mine[:3], 4).tolist()}..., torch's is "
                            f"{np.round(theirs[:3], 4).tolist()}...")
                    return failed(name, text, count,
                                  _bn_diagnose(case, modes, student, lambda r: r[1] + r[2]))
    return passed(name, len(RUNNING_CASES), "torch.nn.BatchNorm1d's running statistics")


EVAL_CASES = [Case((5, 3), 301), Case((1, 4), 302), Case((2, 6), 303, eps=1e-3), Case((32, 8), 304)]


def _batch_mates_problem(batchnorm_forward) -> str | None:
    rng = np.random.default_rng(310)
    gamma, beta = rng.uniform(0.5, 2, 4), rng.normal(size=4)
    sample = rng.normal(size=(1, 4))
    rows = []
    for mates in (rng.normal(size=(3, 4)), 10 + 5 * rng.normal(size=(7, 4)), np.empty((0, 4))):
        bn_param = {"mode": "eval", "running_mean": np.full(4, 0.5), "running_var": np.full(4, 2.0)}
        out, _ = checked_pair(call_student(batchnorm_forward, np.vstack([sample, mates]), gamma.copy(),
                                    beta.copy(), bn_param), "batchnorm_forward")
        rows.append(checked_array(out, "the eval output", (1 + len(mates), 4))[0])
    change = max(relative_error(row, rows[0]) for row in rows[1:])
    if change > 1e-9:
        return (f"in eval mode the output of one sample changed by up to {change:.3g} when its "
                "batch-mates changed: one sample's prediction must not depend on the others in "
                "its batch, so eval normalizes with the running statistics only.")
    return None


def check_batchnorm_eval(batchnorm_forward) -> CheckResult:
    """Eval mode: normalize with the running statistics, leave them unchanged; a sample's
    output does not depend on its batch-mates; after several training batches, eval uses the
    running statistics that training left in bn_param."""
    name = "BatchNorm eval mode"
    count = 0
    for case in EVAL_CASES:
        count += 1
        modes = ["eval"]
        reference = _bn_run(ref_bn_forward, case, modes)
        try:
            student = _bn_run(batchnorm_forward, case, modes, student=True)
        except StudentError as exc:
            return failed(name, f"in eval mode, on {case.describe()}: {error_words(exc)}.", count)
        out_error = relative_error(student[0][0], reference[0][0])
        stats_error = max(relative_error(student[1][0], reference[1][0]), relative_error(student[2][0], reference[2][0]))
        if out_error > TOL or stats_error > TOL:
            text = (f"in eval mode, on {case.describe()}: " +
                    (f"your output differs from torch's by up to {out_error:.3g}" if out_error > TOL else
                     "your output is right, but bn_param's running statistics changed (by up to "
                     f"{stats_error:.3g})") + ".")
            return failed(name, text, count, _bn_diagnose(
                case, modes, student, lambda r: r[0] + r[1] + r[2]))
    count += 1
    try:
        problem = _batch_mates_problem(batchnorm_forward)
    except StudentError as exc:
        return failed(name, f"in eval mode: {error_words(exc)}.", count)
    if problem:
        return failed(name, problem, count, mistakes.BATCH_STATS_IN_EVAL)
    for case in (Case((4, 5), 320, num_steps=4), Case((3, 2), 321, num_steps=3, momentum=0.3)):
        count += 1
        modes = ["train"] * case.num_steps
        try:
            _, means, variances, bn_param = _bn_run(batchnorm_forward, case, modes, student=True)
            trained = {k: v for k, v in bn_param.items() if k != "mode"}
            eval_case = Case(case.shape, case.seed + 50, momentum=case.momentum, eps=case.eps)
            mine = _bn_run(batchnorm_forward, eval_case, ["eval"], student=True, bn_param=dict(trained))
        except StudentError as exc:
            return failed(name, f"after {case.num_steps} training batches, on {case.describe()}: "
                                f"{error_words(exc)}.", count)
        expected = _bn_run(ref_bn_forward, eval_case, ["eval"], bn_param={
            **trained, "running_mean": means[-1].copy(), "running_var": variances[-1].copy()})
        if relative_error(mine[0][0], expected[0][0]) > TOL:
            return failed(name, f"after {case.num_steps} training batches ({case.describe()}), your eval "
                                "output is not the normalization with the running statistics your "
                                "training left in bn_param: eval reads bn_param['running_mean'] and "
                                "bn_param['running_var'] as training wrote them.", count)
        if relative_error(mine[1][0], means[-1]) > TOL or relative_error(mine[2][0], variances[-1]) > TOL:
            return failed(name, f"after {case.num_steps} training batches ({case.describe()}), an eval "
                                "call changed the running statistics.", count, mistakes.UPDATE_IN_EVAL)
    return passed(name, count, "torch.nn.BatchNorm1d in eval mode (one sample, any batch-mates)")


# ---------------------------------------------------------------- LayerNorm

def forward_call(kind, forward, case, x, gamma, beta, running):
    """Call a BatchNorm or LayerNorm forward on a case with the student's signature."""
    if kind == "batchnorm":
        return forward(x, gamma, beta, case.bn_param(running))
    return forward(x, gamma, beta) if case.eps is None else forward(x, gamma, beta, eps=case.eps)


LAYERNORM_CASES = [Case((4, 7), 501, unit_affine=True), Case((7, 4), 502), Case((1, 6), 503),
                   Case((3, 5), 504, tiny=True), Case((5, 5), 505, eps=1e-3), Case((16, 32), 506),
                   Case((2, 3, 5), 507)]


def check_layernorm_forward(layernorm_forward) -> CheckResult:
    """torch.nn.LayerNorm over the last axis: per sample, biased variance, ε inside the root;
    a sample's output does not depend on its batch-mates."""
    name = "LayerNorm forward"
    for count, case in enumerate(LAYERNORM_CASES, start=1):
        xs, gamma, beta, running, _ = case.arrays()
        expected = np.asarray(forward_call("layernorm", ref_ln_forward, case, xs[0].copy(), gamma, beta, running)[0])
        try:
            out, _ = checked_pair(call_student(forward_call, "layernorm", layernorm_forward, case, xs[0].copy(),
                                        gamma.copy(), beta.copy(), running), "layernorm_forward")
            out = checked_array(out, "the output", xs[0].shape)
        except StudentError as exc:
            return failed(name, f"on {case.describe()}: {error_words(exc)}.", count)
        error = relative_error(out, expected)
        if error > TOL:
            text = f"on {case.describe()} your output differs from torch.nn.LayerNorm's by up to {error:.3g}."
            if case.unit_affine:
                text += (f" Your per-sample output std is {np.mean(np.std(out, axis=-1)):.3g}; torch's is "
                         f"{np.mean(np.std(expected, axis=-1)):.3g}.")
            diagnosis = LAST_AXIS if len(case.shape) > 2 else None
            for mistake in mistakes.LAYERNORM:
                variant = forward_call("layernorm", mistake.forward, case, xs[0].copy(), gamma, beta, running)[0]
                if relative_error(out, variant) <= TOL:
                    diagnosis = mistake.diagnosis
                    break
            return failed(name, text, count, diagnosis)
    return passed(name, len(LAYERNORM_CASES), "torch.nn.LayerNorm over the last axis")


ALL_CHECKS = {
    "batchnorm_forward": [check_batchnorm_train_forward, check_batchnorm_running_stats, check_batchnorm_eval],
    "layernorm_forward": [check_layernorm_forward],
}
