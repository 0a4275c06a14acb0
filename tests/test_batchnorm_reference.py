"""The reference BatchNorm against torch.nn.BatchNorm1d and autograd."""
import numpy as np
import pytest
import torch

from autograder.reference.batchnorm import batchnorm_backward, batchnorm_forward

SHAPES = [(2, 3), (3, 7), (4, 5), (16, 6), (64, 10)]


def _torch_bn(num_features, momentum, eps, running_mean=None, running_var=None):
    bn = torch.nn.BatchNorm1d(num_features, eps=eps, momentum=momentum).double()
    if running_mean is not None:
        bn.running_mean.copy_(torch.as_tensor(running_mean))
        bn.running_var.copy_(torch.as_tensor(running_var))
    return bn


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("momentum,eps", [(0.1, 1e-5), (0.3, 1e-3), (0.01, 1e-5)])
def test_train_steps_then_eval_match_torch(shape, momentum, eps):
    """Do five training batches (outputs and running statistics) and an eval batch agree with
    torch.nn.BatchNorm1d?"""
    rng = np.random.default_rng(hash((shape, momentum)) % 2 ** 32)
    num_samples, num_features = shape
    gamma, beta = rng.normal(size=num_features), rng.normal(size=num_features)
    bn = _torch_bn(num_features, momentum, eps)
    with torch.no_grad():
        bn.weight.copy_(torch.as_tensor(gamma))
        bn.bias.copy_(torch.as_tensor(beta))
    bn_param = {"mode": "train", "momentum": momentum, "eps": eps}
    for step in range(5):
        x = rng.normal(size=shape) * rng.uniform(0.1, 3) + rng.normal()
        if step == 2:
            x = 1e-3 * rng.normal(size=shape) + 2.0  # variance 1e-6, well below eps
        out, _ = batchnorm_forward(x, gamma, beta, bn_param)
        expected = bn.train()(torch.as_tensor(x)).detach().numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(bn_param["running_mean"], bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"], bn.running_var.numpy(), rtol=1e-12)
    x = rng.normal(size=(5, num_features))
    before = bn_param["running_var"].copy()
    out, _ = batchnorm_forward(x, gamma, beta, {**bn_param, "mode": "eval"})
    np.testing.assert_allclose(out, bn.eval()(torch.as_tensor(x)).detach().numpy(), rtol=1e-9)
    np.testing.assert_array_equal(bn_param["running_var"], before)


def test_defaults_are_torchs():
    """Does a bn_param with only the mode get eps 1e-5, momentum 0.1 and torch's initial
    running statistics?"""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3)) * 2 + 1
    bn_param = {"mode": "train"}
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    bn = torch.nn.BatchNorm1d(3).double()
    np.testing.assert_allclose(out, bn(torch.as_tensor(x)).detach().numpy(), rtol=1e-10)
    assert bn_param["eps"] == 1e-5 and bn_param["momentum"] == 0.1
    np.testing.assert_allclose(bn_param["running_mean"], bn.running_mean.numpy())
    np.testing.assert_allclose(bn_param["running_var"], bn.running_var.numpy())


def test_training_output_is_standardized():
    """In training mode, with γ = 1 and β = 0, does every feature have mean 0 and variance ≈ 1?"""
    x = np.random.default_rng(1).normal(size=(50, 4)) * [1, 10, 0.5, 5] + [0, 3, -7, 100]
    out, _ = batchnorm_forward(x, np.ones(4), np.zeros(4), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1, atol=1e-3)


def test_eval_output_of_a_sample_ignores_its_batch_mates():
    """Does eval mode give one sample the same output whatever the rest of its batch?"""
    rng = np.random.default_rng(2)
    bn_param = {"mode": "eval", "running_mean": rng.normal(size=3), "running_var": rng.uniform(0.5, 2, 3)}
    sample = rng.normal(size=(1, 3))
    a, _ = batchnorm_forward(np.vstack([sample, rng.normal(size=(3, 3))]), np.ones(3), np.zeros(3), bn_param)
    b, _ = batchnorm_forward(np.vstack([sample, 5 + rng.normal(size=(6, 3))]), np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_backward_matches_autograd(shape, mode):
    """Are dx, dγ and dβ what autograd gives through torch's batch_norm, in both modes?"""
    rng = np.random.default_rng(sum(shape))
    num_features = shape[1]
    x = rng.normal(size=shape) * 2 + 1
    gamma, beta, dout = rng.normal(size=num_features), rng.normal(size=num_features), rng.normal(size=shape)
    running_mean, running_var = rng.normal(size=num_features), rng.uniform(0.5, 2, num_features)
    bn_param = {"mode": mode, "running_mean": running_mean.copy(), "running_var": running_var.copy()}
    _, cache = batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    y = torch.nn.functional.batch_norm(tx, torch.as_tensor(running_mean), torch.as_tensor(running_var),
                                       tg, tb, training=mode == "train", eps=1e-5)
    y.backward(torch.as_tensor(dout))
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dgamma, tg.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dbeta, tb.grad.numpy(), rtol=1e-8, atol=1e-10)
