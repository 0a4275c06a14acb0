"""The students' numeric gradient checker."""
import numpy as np
import pytest
import torch

from course.gradcheck import check_gradient, numeric_gradient, relative_error


def test_numeric_gradient_matches_autograd():
    """Does the central-difference gradient of Σ f(x)·dout agree with autograd's for a smooth f?"""
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    tx = torch.tensor(x, requires_grad=True)
    (torch.tanh(tx) * tx.sum(dim=0)).backward(torch.as_tensor(dout))
    numeric = numeric_gradient(lambda z: np.tanh(z) * z.sum(axis=0), x, dout)
    assert relative_error(numeric, tx.grad.numpy()) < 1e-7


def test_input_is_left_unchanged_and_dout_defaults_to_ones():
    """Is x untouched, and does dout default to ones (the gradient of Σ f(x))?"""
    x = np.array([1.0, 2.0, 3.0])
    grad = numeric_gradient(lambda z: z ** 2, x)
    assert np.array_equal(x, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8)


def test_check_gradient_fails_a_wrong_gradient(capsys):
    """Does check_gradient pass the right gradient and raise on a wrong one, printing the error?"""
    x = np.array([0.5, -1.0])
    check_gradient(lambda z: z ** 3, x, 3 * x ** 2, name="cube")
    assert "cube: relative error" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="differ"):
        check_gradient(lambda z: z ** 3, x, 2 * x ** 2)


def test_check_gradient_names_a_gradient_of_the_wrong_shape():
    """Does a gradient whose shape is not the variable's fail as an assertion that gives both
    shapes (not a ValueError from deep inside)?"""
    x = np.ones((1, 3))
    with pytest.raises(AssertionError, match=r"shape \(4, 3\).*shape \(1, 3\)"):
        check_gradient(lambda z: np.repeat(z, 4, axis=0), x, np.full((4, 3), 1.0))
