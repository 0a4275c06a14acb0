"""Inverted dropout, as ``torch.nn.Dropout(p)``: ``p`` is the probability of dropping.

Training: each unit is kept with probability 1 - p, independently, and the kept units are
scaled up so that the expected output equals the input:

    mask ~ Bernoulli(1 - p)   (True = kept)        y = x·mask / (1 - p)       E[y] = x

Eval: y = x, no mask (the scaling already happened during training).
Backward: ∂L/∂x = ∂L/∂y·mask / (1 - p), with the mask of the forward pass.
(p = 1 drops everything: the output and the gradient are zero, as in torch.)
"""
import numpy as np


def _keep_scale(p):
    return 0.0 if p >= 1 else 1.0 / (1.0 - p)


def dropout_forward(x, p, train=True, rng=None):
    if not train:
        return x, None
    rng = np.random.default_rng() if rng is None else rng
    mask = rng.random(x.shape) >= p
    return x * mask * _keep_scale(p), mask


def dropout_backward(dout, mask, p):
    if mask is None:
        return dout
    return dout * mask * _keep_scale(p)
