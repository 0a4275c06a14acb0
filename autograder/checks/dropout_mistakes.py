"""Typical mistakes in hand-written dropout, as runnable variants with their diagnoses.

The dropout checks recognise these from statistics (drop rate, scale of the kept units,
eval output); the variants let the tests confirm that each is caught and named.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np


class Mistake(NamedTuple):
    forward: Callable
    backward: Callable
    diagnosis: str


NOT_INVERTED = ("your kept units are not scaled: with inverted dropout (torch's) the kept units are "
                "divided by (1 - p) during training, so the expected output equals the input and eval "
                "needs no change.")
KEEP_PROBABILITY = ("you use p as the probability of keeping a unit: in torch p is the probability of "
                    "dropping it, so keep with probability 1 - p and divide by (1 - p).")
SCALE_AT_TEST = ("your eval output is x·(1 - p): that is the other convention (scale at test time). "
                 "With inverted dropout the scaling already happened during training, so eval returns "
                 "x unchanged.")
DROP_IN_EVAL = ("you drop units in eval mode: with train=False return x unchanged and mask None.")
SCALE_IN_EVAL = ("your eval output is x / (1 - p): the scaling belongs to training only; eval returns "
                 "x unchanged.")
MASK_IGNORED = ("your dx ignores the mask: units dropped in the forward pass get no gradient, "
                "dx = dout·mask / (1 - p).")
BACKWARD_NOT_SCALED = ("your dx is dout·mask without the 1 / (1 - p): the backward pass scales by the "
                       "same factor as the forward.")
BACKWARD_KEEP_PROBABILITY = ("your dx is dout·mask / p: p is the probability of dropping, so divide by "
                             "(1 - p).")


def _dropout(keep_prob=False, inverted=True, eval_mode="identity"):
    def forward(x, p, train=True, rng=None):
        rng = np.random.default_rng(0) if rng is None else rng   # seeded: the release records it
        keep = p if keep_prob else 1 - p
        if not train:
            if eval_mode == "identity":
                return x, None
            if eval_mode == "scaled":
                return x * (1 - p), None
            if eval_mode == "inverse":
                return x / (1 - p), None
        mask = rng.random(x.shape) < keep
        return (x * mask / keep if inverted else x * mask), mask

    return forward


def _dropout_backward(divide_by="1-p", use_mask=True):
    def backward(dout, mask, p):
        scale = {"1-p": 1 / (1 - p), "p": 1 / p, "none": 1.0}[divide_by]
        return dout * (mask if use_mask else 1.0) * scale

    return backward


_RIGHT_BACKWARD = _dropout_backward()

DROPOUT = [
    Mistake(_dropout(inverted=False), _dropout_backward(divide_by="none"), NOT_INVERTED),
    Mistake(_dropout(keep_prob=True), _dropout_backward(divide_by="p"), KEEP_PROBABILITY),
    Mistake(_dropout(inverted=False, eval_mode="scaled"), _dropout_backward(divide_by="none"), SCALE_AT_TEST),
    Mistake(_dropout(eval_mode="dropout"), _RIGHT_BACKWARD, DROP_IN_EVAL),
    Mistake(_dropout(eval_mode="inverse"), _RIGHT_BACKWARD, SCALE_IN_EVAL),
    Mistake(_dropout(), _dropout_backward(use_mask=False), MASK_IGNORED),
    Mistake(_dropout(), _dropout_backward(divide_by="none"), BACKWARD_NOT_SCALED),
    Mistake(_dropout(), _dropout_backward(divide_by="p"), BACKWARD_KEEP_PROBABILITY),
]
