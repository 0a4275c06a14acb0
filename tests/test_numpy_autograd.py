"""A NumPy BatchNorm inside a torch network: checked against torch.nn.BatchNorm2d.

The NumPy functions plugged in are the autograder's reference (itself checked against
torch.nn.BatchNorm1d); the oracle is torch's own BatchNorm2d.
"""
import numpy as np
import pytest
import torch

from autograder.reference.batchnorm import batchnorm_backward, batchnorm_forward
from course.models import CNN
from course.numpy_autograd import NumpyBatchNorm2d, replace_batchnorm


def _twins(channels=3, momentum=0.1):
    torch.manual_seed(0)
    theirs = torch.nn.BatchNorm2d(channels, momentum=momentum).double()
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 2.0)
        theirs.bias.normal_()
    mine = NumpyBatchNorm2d.from_module(theirs, batchnorm_forward, batchnorm_backward)
    return mine, theirs


def test_training_mode_matches_batchnorm2d_outputs_gradients_and_running_statistics():
    """Over three training batches, are the outputs, the input/weight/bias gradients and the
    running statistics (unbiased variance) those of torch.nn.BatchNorm2d?"""
    mine, theirs = _twins(momentum=0.3)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = torch.tensor(rng.normal(size=(4, 3, 5, 6)) * 2 + 1, requires_grad=True)
        x2 = x.detach().clone().requires_grad_(True)
        dout = torch.tensor(rng.normal(size=(4, 3, 5, 6)))
        out, expected = mine(x), theirs(x2)
        torch.testing.assert_close(out, expected)
        out.backward(dout)
        expected.backward(dout)
        torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(mine.weight.grad, theirs.weight.grad)
    torch.testing.assert_close(mine.bias.grad, theirs.bias.grad)
    torch.testing.assert_close(mine.running_mean, theirs.running_mean)
    torch.testing.assert_close(mine.running_var, theirs.running_var)


def test_eval_mode_uses_the_running_statistics_and_keeps_them():
    """In eval mode, does the layer normalize with the running statistics, as BatchNorm2d does,
    and leave them unchanged?"""
    mine, theirs = _twins()
    x = torch.randn(8, 3, 4, 4, dtype=torch.float64) * 3
    mine(x), theirs(x)                      # one training batch moves the statistics
    mine.eval(), theirs.eval()
    before = mine.running_mean.clone()
    test = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(mine(test), theirs(test))
    assert torch.equal(mine.running_mean, before)


def test_autograd_gradcheck_through_the_function():
    """Does torch.autograd.gradcheck (finite differences in float64) accept the backward pass
    for the input, the weight and the bias?"""
    layer = NumpyBatchNorm2d(2, batchnorm_forward, batchnorm_backward).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.5, 0.7]))
    x = torch.randn(3, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    # the weight and bias are the layer's own tensors: gradcheck perturbs them in place
    assert torch.autograd.gradcheck(lambda x_, weight, bias: layer(x_), (x, layer.weight, layer.bias))


def test_replacing_every_batchnorm_of_a_cnn_keeps_what_it_computes():
    """Does replace_batchnorm swap every BatchNorm2d of a CNN (channels_last input too), and does
    the network then compute, train a step and evaluate as before?"""
    torch.manual_seed(0)
    original = CNN(4, width=4).double()
    copy = CNN(4, width=4).double()
    copy.load_state_dict(original.state_dict())
    expected = sum(isinstance(m, torch.nn.BatchNorm2d) for m in original.modules())
    assert replace_batchnorm(copy, batchnorm_forward, batchnorm_backward) == expected == 3
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in copy.modules())
    X = torch.randn(6, 3, 16, 16, dtype=torch.float64).to(memory_format=torch.channels_last)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    for model in (original, copy):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        torch.nn.functional.cross_entropy(model(X), y).backward()
        optimizer.step()
    for p, q in zip(original.parameters(), copy.parameters()):
        torch.testing.assert_close(p, q)
    original.eval(), copy.eval()
    torch.testing.assert_close(original(X), copy(X))


def test_bad_input_is_refused_with_a_reason():
    """Does a layer given the wrong shape, or a BatchNorm2d without running statistics, say why?"""
    layer = NumpyBatchNorm2d(3, batchnorm_forward, batchnorm_backward)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        layer(torch.randn(4, 3))
    with pytest.raises(ValueError, match="running statistics"):
        NumpyBatchNorm2d.from_module(torch.nn.BatchNorm2d(3, track_running_stats=False),
                                     batchnorm_forward, batchnorm_backward)
