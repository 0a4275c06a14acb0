"""The loss along the gradient, checked against the closed form of a quadratic loss."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course.landscape import gradient_step_profile
from course.models import CNN


def _least_squares(seed=0, n=40, d=3):
    """A linear model with the mean squared error: its loss is exactly quadratic in (w, b)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.array([1.0, 3.0, 0.3])
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    model = nn.Linear(d, 1).double()
    return model, torch.from_numpy(X), torch.from_numpy(y)[:, None]


def test_the_profile_of_a_quadratic_is_its_closed_form():
    """For L = mean (Xw + b - y)², are L(θ - ηg), ‖∇L(θ - ηg) - g‖ and the smoothness ‖Hg‖/‖g‖ exact?"""
    model, X, y = _least_squares()
    A = np.column_stack([X.numpy(), np.ones(len(X))])          # parameters θ = (w, b)
    theta = np.append(model.weight.detach().numpy().ravel(), model.bias.detach().numpy())
    residual = A @ theta - y.numpy().ravel()
    H = 2 * A.T @ A / len(A)
    g = 2 * A.T @ residual / len(A)
    loss0 = np.mean(residual ** 2)
    etas = np.array([1e-3, 1e-2, 0.1, 0.5])

    profile = gradient_step_profile(model, nn.MSELoss(), X, y, etas)
    np.testing.assert_allclose(profile.loss0, loss0)
    np.testing.assert_allclose(profile.grad_norm, np.linalg.norm(g))
    np.testing.assert_allclose(profile.loss, loss0 - etas * (g @ g) + etas ** 2 / 2 * (g @ H @ g), rtol=1e-10)
    np.testing.assert_allclose(profile.grad_change, etas * np.linalg.norm(H @ g), rtol=1e-10)
    np.testing.assert_allclose(profile.smoothness, np.linalg.norm(H @ g) / np.linalg.norm(g), rtol=1e-10)


def test_the_model_is_left_as_it_was():
    """After the probe, are a BatchNorm network's parameters, running statistics and mode unchanged?"""
    torch.manual_seed(0)
    model = CNN(10, width=4, stages=2)
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X, y = torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))
    gradient_step_profile(model, nn.CrossEntropyLoss(), X, y, [0.1, 1.0])
    assert not model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())


def test_the_variation_is_the_range_and_infinite_after_a_blow_up():
    """Is loss_variation max - min over θ and the steps, and infinite when a step overflows?"""
    model, X, y = _least_squares()
    profile = gradient_step_profile(model, nn.MSELoss(), X, y, [1e-3, 1e-2])
    assert profile.loss_variation == pytest.approx(max(profile.loss0, *profile.loss) - min(profile.loss0, *profile.loss))
    far = gradient_step_profile(model, nn.MSELoss(), X, y, [1e300])
    assert far.loss_variation == float("inf")


def test_step_sizes_must_be_positive():
    """Does a zero or missing step size raise ValueError?"""
    model, X, y = _least_squares()
    for bad in ([], [0.0, 0.1], [-1.0]):
        with pytest.raises(ValueError):
            gradient_step_profile(model, nn.MSELoss(), X, y, bad)
