"""The hidden optimizer references against torch.optim, the outside oracle."""
import numpy as np
import pytest
import torch

from autograder.reference.adam import adam_step
from autograder.reference.rmsprop import rmsprop_step
from autograder.reference.sgd import sgd_momentum_step


def _torch_path(optimizer_cls, param0, grads, **hyper):
    p = torch.tensor(param0, dtype=torch.float64, requires_grad=True)
    optimizer = optimizer_cls([p], **hyper)
    path = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def _reference_path(step, param0, grads, **hyper):
    param, state, path = np.array(param0, dtype=np.float64), {}, []
    for g in grads:
        param = step(param, np.array(g), state, **hyper)
        path.append(param.copy())
    return np.array(path)


def _problem(seed, shape=(3, 2), num_steps=60):
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-6, 3)
    grads = [rng.normal(size=shape) * scale * (rng.random(shape) > 0.1) for _ in range(num_steps)]
    return rng, rng.normal(size=shape), grads


@pytest.mark.parametrize("seed", range(40))
def test_adam_matches_torch(seed):
    """Does the reference Adam follow torch.optim.Adam for random lr, betas, eps, weight decay,
    amsgrad and gradient scales from 1e-6 to 1e3?"""
    rng, param0, grads = _problem(seed)
    hyper = dict(lr=10 ** rng.uniform(-4, -1), betas=(rng.uniform(0.5, 0.95), rng.uniform(0.9, 0.9999)),
                 eps=10 ** rng.uniform(-10, -6), weight_decay=float(rng.choice([0.0, 1e-3, 0.1])),
                 amsgrad=bool(seed % 2))
    np.testing.assert_allclose(_reference_path(adam_step, param0, grads, **hyper),
                               _torch_path(torch.optim.Adam, param0, grads, **hyper), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_sgd_momentum_matches_torch(seed):
    """Does the reference follow torch.optim.SGD (dampening 0) with and without Nesterov?"""
    rng, param0, grads = _problem(seed)
    hyper = dict(lr=10 ** rng.uniform(-4, -1), momentum=rng.uniform(0.1, 0.99), nesterov=bool(seed % 2))
    np.testing.assert_allclose(_reference_path(sgd_momentum_step, param0, grads, **hyper),
                               _torch_path(torch.optim.SGD, param0, grads, **hyper), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_rmsprop_matches_torch(seed):
    """Does the reference follow torch.optim.RMSprop (not centered, no momentum)?"""
    rng, param0, grads = _problem(seed)
    hyper = dict(lr=10 ** rng.uniform(-4, -1), alpha=rng.uniform(0.5, 0.999), eps=10 ** rng.uniform(-10, -6))
    np.testing.assert_allclose(_reference_path(rmsprop_step, param0, grads, **hyper),
                               _torch_path(torch.optim.RMSprop, param0, grads, **hyper), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1.0, 1e3])
def test_adam_first_step_has_size_lr(scale):
    """Is Adam's first step ≈ lr in every coordinate, whatever the gradient's scale?"""
    grad = np.array([1.0, -2.0, 0.5]) * scale
    new = adam_step(np.zeros(3), grad, {}, lr=0.01, eps=1e-12)
    np.testing.assert_allclose(np.abs(new), 0.01, rtol=1e-5)


def test_adam_works_on_tensors_of_any_dtype():
    """Does the same reference run on float32 tensors and keep their dtype, matching torch?"""
    param0 = np.array([1.0, -1.0, 0.5])
    grads = [np.array([0.1, 0.2, -0.3]) * (k + 1) for k in range(10)]
    param, state = torch.tensor(param0, dtype=torch.float32), {}
    for g in grads:
        param = adam_step(param, torch.tensor(g, dtype=torch.float32), state, lr=0.01, amsgrad=True)
    assert param.dtype == torch.float32
    expected = _torch_path(torch.optim.Adam, param0, grads, lr=0.01, amsgrad=True)[-1]
    np.testing.assert_allclose(param.numpy(), expected, atol=1e-6)


def test_adam_state_uses_torchs_names():
    """Does the state dict hold torch's keys, with step counted from 1?"""
    state = {}
    adam_step(np.ones(2), np.ones(2), state, amsgrad=True)
    assert state["step"] == 1
    assert set(state) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
