"""The reference dropout against torch.nn.functional.dropout (statistically) and autograd."""
import numpy as np
import pytest
import torch

from autograder.reference.dropout import dropout_backward, dropout_forward


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_statistics_match_torch(p):
    """Over a million units, do the drop rate and the scale of kept units agree with torch's
    dropout, and is the mean of the output the input's?"""
    x = np.full((1000, 1000), 2.0)
    out, mask = dropout_forward(x, p, rng=np.random.default_rng(0))
    theirs = torch.nn.functional.dropout(torch.as_tensor(x), p, training=True).numpy()
    sigma = np.sqrt(p * (1 - p) / x.size)
    assert abs((out == 0).mean() - p) < 5 * sigma
    assert abs((theirs == 0).mean() - p) < 5 * sigma
    np.testing.assert_allclose(np.unique(out[out != 0]), np.unique(theirs[theirs != 0]))
    assert abs(out.mean() - 2.0) < 10 * 2.0 * sigma / (1 - p)
    assert mask.dtype == bool and np.array_equal(mask, out != 0)


def test_eval_is_the_identity_and_p_zero_keeps_everything():
    """Does eval mode return the input unchanged with no mask, as torch does, and p = 0 keep all?"""
    x = np.random.default_rng(1).normal(size=(7, 3))
    out, mask = dropout_forward(x, 0.5, train=False)
    assert mask is None and np.array_equal(out, x)
    assert np.array_equal(torch.nn.functional.dropout(torch.as_tensor(x), 0.5, training=False).numpy(), x)
    out, mask = dropout_forward(x, 0.0, rng=np.random.default_rng(0))
    assert mask.all() and np.array_equal(out, x)
    out, _ = dropout_forward(x, 1.0, rng=np.random.default_rng(0))
    assert np.array_equal(out, torch.nn.functional.dropout(torch.as_tensor(x), 1.0).numpy())


def test_same_generator_seed_gives_the_same_mask():
    """Does the mask come from the generator it is given?"""
    x = np.ones((20, 20))
    a = dropout_forward(x, 0.3, rng=np.random.default_rng(5))[1]
    b = dropout_forward(x, 0.3, rng=np.random.default_rng(5))[1]
    c = dropout_forward(x, 0.3, rng=np.random.default_rng(6))[1]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("p", [0.2, 0.6])
def test_backward_matches_autograd_through_the_same_mask(p):
    """Is dx what autograd gives for y = x·mask/(1 - p) with the forward pass's mask?"""
    rng = np.random.default_rng(2)
    x, dout = rng.normal(size=(6, 9)), rng.normal(size=(6, 9))
    _, mask = dropout_forward(x, p, rng=rng)
    tx = torch.tensor(x, requires_grad=True)
    (tx * torch.as_tensor(mask) / (1 - p)).backward(torch.as_tensor(dout))
    np.testing.assert_allclose(dropout_backward(dout, mask, p), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(dropout_backward(dout, None, p), dout)
