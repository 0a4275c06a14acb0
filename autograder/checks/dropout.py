"""Checks for inverted dropout: one per graded property.

Dropout is random, so the forward check measures statistics over large inputs (the drop
rate within five standard errors of p, the exact scale of every kept unit, zeros where the
mask drops) and that one generator seed gives one mask. Typical mistakes are recognised from
those numbers (see :mod:`.dropout_mistakes`).
"""
from __future__ import annotations

import numpy as np

from . import dropout_mistakes as mistakes
from .calls import StudentError, call_student, to_float64
from .result import CheckResult, failed, passed

__all__ = ["check_dropout_train", "check_dropout_eval", "check_dropout_backward", "ALL_CHECKS"]

SHAPE = (500, 400)   # 200,000 units: the drop rate is known to ±0.005 at five standard errors


def _input(seed, shape=SHAPE):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, shape)   # never zero, so a zero output means a dropped unit


def _call(dropout_forward, x, p, **kwargs):
    result = call_student(dropout_forward, x.copy(), p, **kwargs)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise StudentError(f"returned {type(result).__name__}, expected a pair (out, mask)")
    out = to_float64(result[0], "the output")
    if out.shape != x.shape:
        raise StudentError(f"returned an output of shape {out.shape}, expected {x.shape}")
    return out, result[1]


def _keep_mask(mask, shape):
    """The student's mask as booleans, or the reason it is not a keep-mask."""
    if mask is None:
        raise StudentError("returned mask None in training mode: return the boolean keep-mask "
                           "(True where a unit is kept)")
    mask = to_float64(mask, "the mask")
    if mask.shape != shape:
        raise StudentError(f"returned a mask of shape {mask.shape}, expected {shape}")
    if not np.all((mask == 0) | (mask == 1)):
        raise StudentError("returned a mask with values other than True/False (or 0/1): return the "
                           "keep-mask itself, not the scaled one")
    return mask.astype(bool)


def _words(exc) -> str:
    return f"your function {exc}"


def _train_problem(x, p, out, keep):
    """(message, diagnosis) for one training-mode call, or None when it is right."""
    rate = 1.0 - keep.mean()
    sigma = 5 * np.sqrt(p * (1 - p) / keep.size)
    where = f"with p={p:g} on {keep.size:,} units"
    if abs(rate - p) > sigma:
        diagnosis = mistakes.KEEP_PROBABILITY if abs(rate - (1 - p)) <= sigma else None
        return (f"{where} your mask drops {rate:.1%} of the units, expected {p:.1%} ± {sigma:.1%}."), diagnosis
    if np.any(out[~keep] != 0):
        if np.all(out[keep] == 0):
            return (f"{where} your output is zero where your mask is True: the mask must be True "
                    "where a unit is kept."), None
        return f"{where} your output is not zero where your mask drops a unit.", None
    ratios = out[keep] / x[keep]
    scale = 1 / (1 - p)
    if not np.allclose(ratios, scale, rtol=1e-9, atol=0):
        typical = float(np.median(ratios))
        text = (f"{where} your kept units are multiplied by {typical:.4g}, expected 1/(1 - p) = "
                f"{scale:.4g}; your mean output is {out.mean() / x.mean():.3f}× the input's mean "
                "instead of 1×.")
        if np.isclose(typical, 1.0):
            return text, mistakes.NOT_INVERTED
        if np.isclose(typical, 1 / p):
            return text, mistakes.KEEP_PROBABILITY
        return text, None
    return None


def check_dropout_train(dropout_forward) -> CheckResult:
    """Training mode over large inputs: the drop rate is p, kept units are scaled by 1/(1 - p),
    dropped units are 0, the mask is the boolean keep-mask, the mask comes from ``rng``."""
    name = "dropout forward, training mode"
    count = 0
    for i, p in enumerate((0.5, 0.2, 0.8, 0.35)):
        count += 1
        x = _input(600 + i)
        try:
            out, mask = _call(dropout_forward, x, p)
            keep = _keep_mask(mask, x.shape)
        except StudentError as exc:
            return failed(name, f"with p={p:g}: {_words(exc)}.", count)
        problem = _train_problem(x, p, out, keep)
        if problem:
            return failed(name, problem[0], count, problem[1])
    count += 1
    x = _input(620, (40, 50))
    try:
        still, kept = _call(dropout_forward, x, 0.0)
    except StudentError as exc:
        return failed(name, f"with p=0: {_words(exc)}.", count)
    if not np.array_equal(still, x) or (kept is not None and not np.all(to_float64(kept))):
        return failed(name, "with p=0 nothing may be dropped: the output must equal the input.", count)
    count += 1
    try:
        masks = [_keep_mask(_call(dropout_forward, x, 0.5, rng=np.random.default_rng(seed))[1], x.shape)
                 for seed in (7, 7, 8)]
    except StudentError as exc:
        return failed(name, f"with rng=np.random.default_rng(7): {_words(exc)}.", count)
    if not np.array_equal(masks[0], masks[1]) or np.array_equal(masks[0], masks[2]):
        return failed(name, "your mask does not come from the generator `rng` you are given: draw it "
                            "with rng.random(x.shape), so that one seed always gives one mask (and "
                            "use np.random.default_rng() only when rng is None).", count)
    return passed(name, count, "torch.nn.Dropout's statistics (drop rate, scale 1/(1 - p), one mask per seed)")


def check_dropout_eval(dropout_forward) -> CheckResult:
    """train=False returns the input unchanged and mask None, whatever p."""
    name = "dropout forward, eval mode"
    for count, p in enumerate((0.5, 0.2, 0.9), start=1):
        x = _input(700 + count, (200, 100))
        try:
            out, mask = _call(dropout_forward, x, p, train=False)
        except StudentError as exc:
            return failed(name, f"with train=False and p={p:g}: {_words(exc)}.", count)
        if np.allclose(out, x, rtol=1e-12, atol=0) and mask is None:
            continue
        where = f"with train=False and p={p:g}"
        if np.allclose(out, x, rtol=1e-12, atol=0):
            return failed(name, f"{where} your output is right but the mask is {type(mask).__name__}: "
                                "return None, there is no mask in eval mode.", count)
        if np.allclose(out, x * (1 - p)):
            return failed(name, f"{where} your output is x·(1 - p).", count, mistakes.SCALE_AT_TEST)
        if np.allclose(out, x / (1 - p)):
            return failed(name, f"{where} your output is x / (1 - p).", count, mistakes.SCALE_IN_EVAL)
        if np.mean(out == 0) > 0.5 * p:
            return failed(name, f"{where} {np.mean(out == 0):.0%} of your outputs are zero.", count,
                          mistakes.DROP_IN_EVAL)
        return failed(name, f"{where} your output differs from the input by up to "
                            f"{np.max(np.abs(out - x)):.3g}: eval mode returns x unchanged.", count)
    return passed(name, 3, "torch.nn.Dropout in eval mode (the identity)")


def check_dropout_backward(dropout_backward) -> CheckResult:
    """dx = dout·mask / (1 - p) for a given keep-mask, over several p."""
    name = "dropout backward"
    for count, p in enumerate((0.5, 0.2, 0.75), start=1):
        rng = np.random.default_rng(800 + count)
        dout = rng.normal(size=(30, 20))
        mask = rng.random(dout.shape) >= p
        expected = dout * mask / (1 - p)
        try:
            dx = to_float64(call_student(dropout_backward, dout.copy(), mask.copy(), p), "dx")
        except StudentError as exc:
            return failed(name, f"with p={p:g}: {_words(exc)}.", count)
        if dx.shape != dout.shape:
            return failed(name, f"with p={p:g} your dx has shape {dx.shape}, expected {dout.shape}.", count)
        if np.allclose(dx, expected, rtol=1e-12, atol=1e-15):
            continue
        diagnosis = None
        for candidate, words in ((dout * mask, mistakes.BACKWARD_NOT_SCALED),
                                 (dout * mask / p, mistakes.BACKWARD_KEEP_PROBABILITY),
                                 (dout / (1 - p), mistakes.MASK_IGNORED), (dout, mistakes.MASK_IGNORED)):
            if np.allclose(dx, candidate, rtol=1e-12, atol=1e-15):
                diagnosis = words
                break
        return failed(name, f"with p={p:g} your dx differs from dout·mask / (1 - p) by up to "
                            f"{np.max(np.abs(dx - expected)):.3g}.", count, diagnosis)
    return passed(name, 3, "autograd through y = x·mask / (1 - p)")


ALL_CHECKS = {
    "dropout_forward": [check_dropout_train, check_dropout_eval],
    "dropout_backward": [check_dropout_backward],
}
