"""The reference LayerNorm against torch.nn.LayerNorm and autograd."""
import numpy as np
import pytest
import torch

from autograder.reference.layernorm import layernorm_backward, layernorm_forward

SHAPES = [(2, 3), (4, 7), (7, 4), (3, 2, 5), (1, 6)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("eps", [1e-5, 1e-3])
def test_forward_and_backward_match_torch(shape, eps):
    """Do the output and dx, dγ, dβ agree with torch.nn.LayerNorm over the last axis and autograd,
    including inputs with a variance (1e-6) below eps?"""
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    num_features = shape[-1]
    for x in (rng.normal(size=shape) * 3 + 1, 1e-3 * rng.normal(size=shape) - 2):
        gamma, beta, dout = rng.normal(size=num_features), rng.normal(size=num_features), rng.normal(size=shape)
        out, cache = layernorm_forward(x, gamma, beta, eps=eps)
        dx, dgamma, dbeta = layernorm_backward(dout, cache)
        ln = torch.nn.LayerNorm(num_features, eps=eps).double()
        with torch.no_grad():
            ln.weight.copy_(torch.as_tensor(gamma))
            ln.bias.copy_(torch.as_tensor(beta))
        tx = torch.tensor(x, requires_grad=True)
        y = ln(tx)
        y.backward(torch.as_tensor(dout))
        np.testing.assert_allclose(out, y.detach().numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(dgamma, ln.weight.grad.numpy(), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(dbeta, ln.bias.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_each_sample_is_standardized_on_its_own():
    """With γ = 1 and β = 0, does every row have mean 0 and variance ≈ 1, whatever its batch-mates?"""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 40)) * 4 + 9
    out, _ = layernorm_forward(x, np.ones(40), np.zeros(40))
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=1), 1, atol=1e-4)
    alone, _ = layernorm_forward(x[:1], np.ones(40), np.zeros(40))
    np.testing.assert_allclose(alone[0], out[0], rtol=1e-14)
