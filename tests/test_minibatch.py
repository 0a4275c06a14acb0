"""Tests for course.minibatch: the noise of mini-batch gradients and mini-batch SGD paths."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from course.minibatch import expected_noise, gradient_noise, minibatch_path


def _linear_problem(N=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=N)).astype(np.float32)
    return X, y


def _per_example_gradients(model: nn.Linear, X, y):
    """The oracle: d/dθ (w·x + b − y)² = 2 (w·x + b − y) [x, 1], in NumPy."""
    w = model.weight.detach().numpy().reshape(-1).astype(np.float64)
    b = float(model.bias.detach())
    residual = X.astype(np.float64) @ w + b - y
    return 2 * residual[:, None] * np.hstack([X, np.ones((len(X), 1))])


def test_expected_noise_matches_every_subset_of_a_small_population():
    """Is the formula the exact mean squared error of a batch mean over all subsets of size B?"""
    values = np.array([0.3, -1.2, 2.5, 0.0, 4.1, -0.7])
    N = len(values)
    sigma = np.sqrt(np.mean((values - values.mean()) ** 2))
    for B in range(1, N + 1):
        errors = [(np.mean(values[list(s)]) - values.mean()) ** 2 for s in itertools.combinations(range(N), B)]
        assert expected_noise(B, N, sigma) == pytest.approx(np.sqrt(np.mean(errors)), rel=1e-12)


def test_expected_noise_is_about_one_over_root_b_for_small_batches_and_zero_for_the_full_batch():
    """σ/√B while B ≪ N, and exactly 0 at B = N?"""
    noise = expected_noise([1, 4, 100, 10_000], 10_000, sigma=2.0)
    assert noise[0] == pytest.approx(2.0)
    assert noise[1] == pytest.approx(1.0, rel=1e-3)
    assert noise[2] == pytest.approx(0.2, rel=1e-2)
    assert noise[3] == 0.0
    with pytest.raises(ValueError):
        expected_noise([0], 10)


def test_measured_noise_agrees_with_per_example_gradients():
    """Does the measured noise of B = 1 and B = 8 match the formula with σ from per-example gradients?"""
    torch.manual_seed(0)
    X, y = _linear_problem()
    model = nn.Linear(3, 1)
    per_example = _per_example_gradients(model, X, y)
    full = per_example.mean(axis=0)
    sigma = np.sqrt(np.mean(np.sum((per_example - full) ** 2, axis=1)))

    def loss_fn(y_hat, target):
        return ((y_hat.squeeze(1) - target) ** 2).mean()

    noise = gradient_noise(model, loss_fn, (torch.tensor(X), torch.tensor(y)), batch_sizes=(1, 8, 40),
                           num_draws=1500, seed=1)
    assert noise.full_norm == pytest.approx(np.linalg.norm(full), rel=1e-5)
    for B in (1, 8):
        assert noise.rms[B] == pytest.approx(expected_noise(B, 40, sigma) / np.linalg.norm(full), rel=0.08)
    assert noise.rms[40] < 1e-6          # the full batch is the full gradient
    assert noise.num_examples == 40 and noise.batch_sizes == [1, 8, 40]


def test_gradient_noise_measures_in_evaluation_mode_and_restores_the_mode():
    """Is BatchNorm evaluated with fixed statistics (so batches are unbiased), and is training mode back afterwards?"""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    X, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    model.train()
    noise = gradient_noise(model, nn.CrossEntropyLoss(), (X, y), batch_sizes=(32,), num_draws=2)
    assert model.training
    assert noise.rms[32] < 1e-5          # in training mode a reordered full batch would still agree; eval mode is exact
    assert float(model[1].running_mean.abs().max()) == 0.0   # no statistics were updated


def test_gradient_noise_rejects_impossible_batch_sizes():
    """Does a batch larger than the data set or an empty one give a clear error?"""
    model = nn.Linear(2, 2)
    data = (torch.randn(5, 2), torch.randint(0, 2, (5,)))
    with pytest.raises(ValueError, match="between 1 and N = 5"):
        gradient_noise(model, nn.CrossEntropyLoss(), data, batch_sizes=(6,))
    with pytest.raises(ValueError, match="num_draws"):
        gradient_noise(model, nn.CrossEntropyLoss(), data, batch_sizes=(1,), num_draws=0)


def _gd_oracle(X, y, lr, num_steps, momentum=0.0):
    """Full-batch heavy ball on ½ mean((Xw − y)²) in NumPy: b = μ b + g, w = w − η b."""
    H, c = X.T @ X / len(X), X.T @ y / len(X)
    w, b = np.zeros(2), np.zeros(2)
    path = [w.copy()]
    for _ in range(num_steps):
        g = H @ w - c
        b = momentum * b + g
        w = w - lr * b
        path.append(w.copy())
    return np.array(path)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_full_batch_path_is_gradient_descent(momentum):
    """With B = N, is the path plain (or heavy-ball) gradient descent on the least-squares loss?"""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)) * [1.0, 3.0]
    y = X @ [2.0, -1.0] + 0.1 * rng.normal(size=50)
    path = minibatch_path(X, y, lr=0.02, batch_size=50, num_steps=40, momentum=momentum)
    np.testing.assert_allclose(path, _gd_oracle(X, y, 0.02, 40, momentum), rtol=1e-10, atol=1e-12)


def _torch_minibatch_oracle(X, y, lrs, batch_size, num_steps, seed, momentum):
    """torch.optim.SGD with autograd on batches cut from one NumPy permutation per epoch (seeded as documented)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    Xt, yt = torch.tensor(X), torch.tensor(y)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=float(lrs[0]), momentum=momentum)
    path, batches = [w.detach().numpy().copy()], []
    for k in range(num_steps):
        if not batches:
            order = rng.permutation(len(X))
            batches = [order[i:i + batch_size] for i in range(0, len(X), batch_size)]
        idx = torch.as_tensor(batches.pop(0))
        optimizer.param_groups[0]["lr"] = float(lrs[k])
        optimizer.zero_grad()
        (0.5 * ((Xt[idx] @ w - yt[idx]) ** 2).mean()).backward()
        optimizer.step()
        path.append(w.detach().numpy().copy())
    return np.array(path)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_minibatch_path_is_torch_sgd_on_the_same_batches(momentum):
    """Batches of 7 from 30 rows (a short last batch), a decaying learning rate: the same path as torch.optim.SGD?"""
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    lrs = 0.1 * 0.97 ** np.arange(25)
    path = minibatch_path(X, y, lrs, batch_size=7, num_steps=25, seed=11, momentum=momentum)
    np.testing.assert_allclose(path, _torch_minibatch_oracle(X, y, lrs, 7, 25, 11, momentum), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="learning rates"):
        minibatch_path(X, y, lrs[:3], batch_size=7, num_steps=25)


def test_smaller_batches_end_farther_from_the_minimum():
    """At the same learning rate, does B = 1 hover farther from the least-squares solution than B = 16?"""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    y = X @ [1.0, 1.0] + rng.normal(size=200)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    distance = {}
    for B in (1, 16):
        path = minibatch_path(X, y, lr=0.05, batch_size=B, num_steps=1200, seed=3)
        distance[B] = np.sqrt(np.mean(np.sum((path[600:] - w_star) ** 2, axis=1)))
    assert distance[1] > 2 * distance[16]


def test_minibatch_path_visits_every_example_once_per_epoch_and_is_repeatable():
    """Same seed, same path; a different seed, a different path; bad shapes rejected?"""
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(10, 2)), rng.normal(size=10)
    a = minibatch_path(X, y, lr=0.1, batch_size=3, num_steps=12, seed=5)
    b = minibatch_path(X, y, lr=0.1, batch_size=3, num_steps=12, seed=5)
    c = minibatch_path(X, y, lr=0.1, batch_size=3, num_steps=12, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    with pytest.raises(ValueError):
        minibatch_path(X[:, :1], y, lr=0.1, batch_size=3, num_steps=2)
    with pytest.raises(ValueError):
        minibatch_path(X, y, lr=0.1, batch_size=11, num_steps=2)


def test_a_diverging_path_is_cut():
    """Far too large a learning rate: NaN after the path leaves the finite numbers, no exception?"""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(20, 2)) * 10, rng.normal(size=20)
    path = minibatch_path(X, y, lr=10.0, batch_size=20, num_steps=200)
    assert np.isnan(path[-1]).all() and np.isfinite(path[0]).all()
