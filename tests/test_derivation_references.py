"""The references of the assignments' derivations, against outside oracles: torch's Nesterov SGD,
torch's Adam, scikit-learn's AUC and torch's autograd."""
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from autograder.reference import batchnorm_steps as steps
from autograder.reference.adam_bias import adam_bias_factor
from autograder.reference.mann_whitney import pairwise_auc
from autograder.reference.nesterov import lookahead_point, nesterov_lookahead_update


@pytest.mark.parametrize("momentum", [0.5, 0.9, 0.99])
def test_lookahead_points_are_torchs_nesterov_parameters(momentum):
    """On a quadratic, are the look-ahead points of Nesterov's definition the parameters of
    torch.optim.SGD(nesterov=True), at every one of 50 steps?"""
    rng = np.random.default_rng(0)
    M = rng.normal(size=(4, 4))
    A = M @ M.T + np.eye(4)
    theta, b = rng.normal(size=4), np.zeros(4)
    p = torch.tensor(theta, requires_grad=True)
    sgd = torch.optim.SGD([p], lr=0.02, momentum=momentum, nesterov=True)
    for _ in range(50):
        theta, b = nesterov_lookahead_update(theta, b, A @ lookahead_point(theta, b, 0.02, momentum), 0.02, momentum)
        p.grad = torch.tensor(A) @ p.detach()
        sgd.step()
        np.testing.assert_allclose(lookahead_point(theta, b, 0.02, momentum), p.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.8, 0.99)])
def test_bias_factor_is_torch_adams_step_under_a_constant_gradient(betas):
    """Is the predicted step size with both corrections torch.optim.Adam's measured step, and
    without corrections Adam's step divided by its correction factors?"""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([p], lr=1e-3, betas=betas, eps=0.0)
    t = np.arange(1, 301)
    measured = []
    for _ in t:
        before = p.detach().clone()
        p.grad = torch.ones(1, dtype=torch.float64)
        adam.step()
        measured.append(float((p.detach() - before).abs()) / 1e-3)
    np.testing.assert_allclose(measured, adam_bias_factor(t, betas), rtol=1e-9)
    beta1, beta2 = betas
    uncorrected = np.array(measured) * (1 - beta1 ** t) / np.sqrt(1 - beta2 ** t)
    np.testing.assert_allclose(adam_bias_factor(t, betas, correct_m=False, correct_v=False), uncorrected, rtol=1e-9)
    np.testing.assert_allclose(adam_bias_factor(1, correct_v=False), 1 / np.sqrt(0.001))


@pytest.mark.parametrize("seed", range(5))
def test_pairwise_auc_is_sklearns_auc(seed):
    """Does counting pairs (a tie one half) give sklearn's roc_auc_score, with heavy ties?"""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 200)
    y[:2] = [0, 1]
    s = rng.normal(size=200).round(seed % 3)
    assert pairwise_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    with pytest.raises(ValueError):
        pairwise_auc([1, 1], [0.2, 0.3])


def test_batchnorm_steps_are_autograds_local_gradients():
    """Is each node's backward what torch's autograd gives for that node alone?"""
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    mu = x.mean(dim=0, keepdim=True)
    mu.retain_grad()
    xc = x - mu
    xc.retain_grad()
    var = (xc ** 2).mean(dim=0, keepdim=True)
    var.retain_grad()
    r = (var + 1e-5) ** -0.5
    r.retain_grad()
    x_hat = xc * r
    dout = torch.tensor(rng.normal(size=(5, 3)))
    x_hat.backward(dout)
    # the local gradients: each node's input gradient from its output gradient
    dxc_local, dr = steps.normalize_backward(dout.numpy(), xc.detach().numpy(), r.detach().numpy())
    np.testing.assert_allclose(dr, r.grad.numpy())
    dvar = steps.inv_std_backward(r.grad.numpy(), var.detach().numpy(), 1e-5)
    np.testing.assert_allclose(dvar, var.grad.numpy())
    dxc_total = dxc_local + steps.variance_backward(var.grad.numpy(), xc.detach().numpy())
    np.testing.assert_allclose(dxc_total, xc.grad.numpy())
    dx, dmu = steps.center_backward(xc.grad.numpy())
    np.testing.assert_allclose(dmu, mu.grad.numpy())
    np.testing.assert_allclose(dx + steps.mean_backward(mu.grad.numpy(), 5), x.grad.numpy())
