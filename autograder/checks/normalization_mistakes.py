"""Typical mistakes in hand-written BatchNorm and LayerNorm, as runnable variants.

When a student's numbers disagree with the reference, a check runs these variants on the
same case; the first whose numbers the student's match names the likely bug. Each variant
is a ``(forward, backward)`` pair with the student's signatures; the caches stay private to
the pair, as a student's do.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..reference.batchnorm import batchnorm_backward as _bn_backward
from ..reference.layernorm import layernorm_backward as _ln_backward


class Mistake(NamedTuple):
    forward: Callable
    backward: Callable
    diagnosis: str


UNBIASED_NORM = ("you normalize with the unbiased variance (dividing by N - 1): BatchNorm "
                 "normalizes with the biased batch variance, dividing by N (np.var's default, "
                 "ddof=0).")
BIASED_RUNNING = ("your running_var averages the biased batch variance: torch stores the unbiased "
                  "one, σ²_B·N/(N-1), in running_var (while it normalizes with the biased one).")
FLIPPED_MOMENTUM = ("your momentum convention is flipped: torch uses running = (1 - momentum)·running "
                    "+ momentum·batch_statistic, so momentum = 0.1 moves the running statistics 10% "
                    "of the way to the batch's.")
NO_UPDATE = ("your running statistics never change: in training mode compute the new running_mean "
             "and running_var and store them in bn_param (bn_param['running_mean'] = ...).")
DOUBLE_CORRECTION = ("your running_var is N/(N-1) times too large: it applies the N/(N-1) correction to "
                     "a variance that is already unbiased (the variance of the normalization must be "
                     "the biased one, dividing by N).")
UPDATE_IN_EVAL = ("your running statistics change in eval mode: eval only reads them; update them "
                  "in training mode only.")
BATCH_STATS_IN_EVAL = ("in eval mode you normalize with the batch's own mean and variance: use "
                       "bn_param['running_mean'] and bn_param['running_var'] instead.")
EPS_OUTSIDE = ("ε is outside the square root: divide by √(σ² + ε), not by √σ² + ε (the difference "
               "shows when the variance is tiny).")
BN_WRONG_AXIS = ("you normalize each sample over its features (axis 1): BatchNorm normalizes each "
                 "feature over the batch (axis 0).")
LN_WRONG_AXIS = ("you normalize each feature over the batch (axis 0): LayerNorm normalizes each "
                 "sample over its features, the last axis (axis=-1, keepdims=True).")
LN_UNBIASED = ("you normalize with the unbiased variance (dividing by D - 1): LayerNorm uses the "
               "biased variance, dividing by the number of features D.")
DGAMMA_AXIS = ("dgamma (or dbeta) is summed over the wrong axis: sum over the batch axis (axis 0, "
               "or every axis but the last), to get one value per feature, shape (D,).")
CONSTANT_STATS = ("your dx treats the mean and the variance as constants (dx = γ·dout/√(σ² + ε)): "
                  "both depend on every input, which adds the terms - mean(dout·γ) and "
                  "- x̂·mean(dout·γ·x̂) inside the bracket.")


def _batchnorm(norm_ddof=0, running_ddof=1, flipped_momentum=False, update="train",
               eval_stats="running", eps_outside=False, axis=0, double_correction=False):
    """A BatchNorm forward with one thing changed (see the flags)."""

    def forward(x, gamma, beta, bn_param):
        mode = bn_param.get("mode", "train")
        eps = bn_param.setdefault("eps", 1e-5)
        momentum = bn_param.setdefault("momentum", 0.1)
        keep = 1 - momentum if not flipped_momentum else momentum
        running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
        running_var = bn_param.get("running_var", np.ones(x.shape[1]))
        batch_mean = np.mean(x, axis=axis, keepdims=True)
        if mode == "train" or eval_stats == "batch":
            mean, var = batch_mean, np.var(x, axis=axis, ddof=norm_ddof, keepdims=True)
        else:
            mean, var = running_mean, running_var
        if update == "always" or (update == "train" and mode == "train"):
            stat_mean = np.mean(x, axis=0)
            stat_var = np.var(x, axis=0, ddof=running_ddof)
            if double_correction:
                stat_var = stat_var * len(x) / (len(x) - 1)
            bn_param["running_mean"] = keep * running_mean + (1 - keep) * stat_mean
            bn_param["running_var"] = keep * running_var + (1 - keep) * stat_var
        std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
        x_hat = (x - mean) / std
        return gamma * x_hat + beta, (x_hat, gamma, std, mode)

    return forward


def _bn_backward_variant(dgamma_axis=0, constant_stats=False):
    def backward(dout, cache):
        x_hat, gamma, std, mode = cache
        dx, dgamma, dbeta = _bn_backward(dout, cache)
        if constant_stats:
            dx = gamma * dout / std
        if dgamma_axis != 0:
            dgamma, dbeta = np.sum(dout * x_hat, axis=dgamma_axis), np.sum(dout, axis=dgamma_axis)
        return dx, dgamma, dbeta

    return backward


_REF_BN_FORWARD = _batchnorm()

BATCHNORM = [
    Mistake(_batchnorm(norm_ddof=1), _bn_backward, UNBIASED_NORM),
    Mistake(_batchnorm(running_ddof=0), _bn_backward, BIASED_RUNNING),
    Mistake(_batchnorm(flipped_momentum=True), _bn_backward, FLIPPED_MOMENTUM),
    Mistake(_batchnorm(double_correction=True), _bn_backward, DOUBLE_CORRECTION),
    Mistake(_batchnorm(update="never"), _bn_backward, NO_UPDATE),
    Mistake(_batchnorm(update="always"), _bn_backward, UPDATE_IN_EVAL),
    Mistake(_batchnorm(eval_stats="batch"), _bn_backward, BATCH_STATS_IN_EVAL),
    Mistake(_batchnorm(eps_outside=True), _bn_backward, EPS_OUTSIDE),
    Mistake(_batchnorm(axis=1), _bn_backward, BN_WRONG_AXIS),
    Mistake(_REF_BN_FORWARD, _bn_backward_variant(dgamma_axis=1), DGAMMA_AXIS),
    Mistake(_REF_BN_FORWARD, _bn_backward_variant(constant_stats=True), CONSTANT_STATS),
]


def _layernorm(ddof=0, eps_outside=False, axis=-1):
    def forward(x, gamma, beta, eps=1e-5):
        mean = np.mean(x, axis=axis, keepdims=True)
        var = np.var(x, axis=axis, ddof=ddof, keepdims=True)
        std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
        x_hat = (x - mean) / std
        return gamma * x_hat + beta, (x_hat, gamma, std)

    return forward


def _ln_backward_variant(dgamma_axis=None, constant_stats=False):
    def backward(dout, cache):
        x_hat, gamma, std = cache
        dx, dgamma, dbeta = _ln_backward(dout, cache)
        if constant_stats:
            dx = gamma * dout / std
        if dgamma_axis is not None:
            dgamma, dbeta = np.sum(dout * x_hat, axis=dgamma_axis), np.sum(dout, axis=dgamma_axis)
        return dx, dgamma, dbeta

    return backward


LAYERNORM = [
    Mistake(_layernorm(axis=0), _ln_backward, LN_WRONG_AXIS),
    Mistake(_layernorm(ddof=1), _ln_backward, LN_UNBIASED),
    Mistake(_layernorm(eps_outside=True), _ln_backward, EPS_OUTSIDE),
    Mistake(_layernorm(), _ln_backward_variant(dgamma_axis=-1), DGAMMA_AXIS),
    Mistake(_layernorm(), _ln_backward_variant(constant_stats=True), CONSTANT_STATS),
]


# --- the backward pass node by node (autograder.reference.batchnorm_steps) ------------------------

class StepMistake(NamedTuple):
    node: str          # the student's function: normalize_backward, inv_std_backward, ...
    fn: Callable
    diagnosis: str


def _normalize_backward(sum_dr=True, scale_dxc=True):
    def normalize_backward(dx_hat, xc, r):
        dr = np.sum(dx_hat * xc, axis=0, keepdims=True) if sum_dr else dx_hat * xc
        return (dx_hat * r if scale_dxc else dx_hat), dr
    return normalize_backward


def _inv_std_backward(exponent=-1.5, sign=-1.0):
    def inv_std_backward(dr, var, eps):
        return sign * 0.5 * (var + eps) ** exponent * dr
    return inv_std_backward


def _variance_backward(factor=2.0, divide=True):
    def variance_backward(dvar, xc):
        return factor / (xc.shape[0] if divide else 1) * xc * dvar
    return variance_backward


def _center_backward(sign=-1.0, summed=True):
    def center_backward(dxc):
        dmu = np.sum(dxc, axis=0, keepdims=True) if summed else dxc
        return dxc, sign * dmu
    return center_backward


def _mean_backward(divide=True):
    def mean_backward(dmu, num_samples):
        return np.repeat(dmu / (num_samples if divide else 1), num_samples, axis=0)
    return mean_backward


STEPS = [
    StepMistake("normalize_backward", _normalize_backward(sum_dr=False),
                "your ∂L/∂r has one value per sample: r is one number per feature, used by every "
                "sample, so its gradient sums over the batch (axis 0)."),
    StepMistake("normalize_backward", _normalize_backward(scale_dxc=False),
                "your ∂L/∂xc is ∂L/∂x̂ unscaled: x̂ = xc·r, so ∂L/∂xc = ∂L/∂x̂·r."),
    StepMistake("inv_std_backward", _inv_std_backward(exponent=-0.5),
                "your ∂L/∂σ² uses (σ² + ε)^(-1/2): the derivative of (σ² + ε)^(-1/2) is "
                "-½·(σ² + ε)^(-3/2)."),
    StepMistake("inv_std_backward", _inv_std_backward(sign=1.0),
                "your ∂L/∂σ² has the wrong sign: r = (σ² + ε)^(-1/2) falls when σ² grows, "
                "dr/dσ² = -½·(σ² + ε)^(-3/2)."),
    StepMistake("variance_backward", _variance_backward(factor=1.0),
                "your ∂L/∂xc through the variance lacks the factor 2: d(xc²)/dxc = 2·xc."),
    StepMistake("variance_backward", _variance_backward(divide=False),
                "your ∂L/∂xc through the variance is N times too large: σ² is a mean, "
                "(1/N)·Σ xc², so each xc_n gets (2/N)·xc_n·∂L/∂σ²."),
    StepMistake("center_backward", _center_backward(sign=1.0),
                "your ∂L/∂μ has the wrong sign: xc = x - μ, so ∂L/∂μ = -Σ_n ∂L/∂xc_n."),
    StepMistake("center_backward", _center_backward(summed=False),
                "your ∂L/∂μ has one value per sample: μ is one number per feature that every "
                "sample's xc uses, so its gradient sums over the batch."),
    StepMistake("mean_backward", _mean_backward(divide=False),
                "your ∂L/∂x through the mean is N times too large: μ = (1/N)·Σ x_n, so each "
                "sample gets ∂L/∂μ / N."),
]
