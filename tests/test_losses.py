"""Weight penalties and the naive cross-entropy, against torch's own losses and hand sums."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course.losses import naive_cross_entropy, penalized, weight_penalty


def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_penalty_sums_weights_not_biases():
    """Is the penalty λ1·Σ|w| + λ2/2·Σw² over weight matrices only?"""
    m = model()
    weights = [m[0].weight, m[2].weight]
    expected = sum(0.1 * w.abs().sum() + 0.3 / 2 * (w ** 2).sum() for w in weights)
    assert weight_penalty(m, l1=0.1, l2=0.3).item() == pytest.approx(expected.item(), rel=1e-6)
    assert float(weight_penalty(m)) == 0.0


def test_l2_penalty_gradient_is_weight_decay():
    """Is the gradient of the L2 term λ·w (and zero for the biases)?"""
    m = model()
    weight_penalty(m, l2=0.5).backward()
    assert torch.allclose(m[0].weight.grad, 0.5 * m[0].weight)
    assert m[0].bias.grad is None


def test_penalized_loss_adds_the_penalty_to_cross_entropy():
    """Is penalized(...)(y_hat, y) = cross_entropy + penalty?"""
    m = model()
    X, y = torch.randn(5, 4), torch.tensor([0, 1, 1, 0, 1])
    loss = penalized(m, l1=0.01)(m(X), y)
    expected = F.cross_entropy(m(X), y) + weight_penalty(m, l1=0.01)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_naive_cross_entropy_agrees_while_it_is_stable():
    """For moderate logits, is the naive loss torch's cross-entropy?"""
    logits, y = torch.randn(8, 5), torch.randint(5, (8,))
    assert float(naive_cross_entropy(logits, y)) == pytest.approx(float(F.cross_entropy(logits, y)), rel=1e-5)


def test_naive_cross_entropy_breaks_for_large_logits():
    """For a logit gap of 200, is the naive loss inf (and its gradient NaN) where torch's is 200?"""
    logits = torch.tensor([[100.0, -100.0]], requires_grad=True)
    y = torch.tensor([1])
    naive = naive_cross_entropy(logits, y)
    assert naive.isinf()
    naive.backward()
    assert torch.isnan(logits.grad).any()
    assert F.cross_entropy(logits, y).item() == pytest.approx(200.0)
