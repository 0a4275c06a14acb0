"""Normalization layers for the CNN, checked against torch's own BatchNorm2d, GroupNorm, LayerNorm, InstanceNorm."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course.models import CNN
from course.normalization import (NORMALIZATIONS, GhostBatchNorm2d, evaluate_with_batch_statistics,
                                  normalization_layer, shared_statistics, use_normalization)


def _pair(channels, group_size, seed=0):
    """A GhostBatchNorm2d and an nn.BatchNorm2d with the same random γ and β."""
    torch.manual_seed(seed)
    ghost, reference = GhostBatchNorm2d(channels, group_size), nn.BatchNorm2d(channels)
    with torch.no_grad():
        ghost.weight.uniform_(0.5, 2.0)
        ghost.bias.normal_()
        reference.weight.copy_(ghost.weight)
        reference.bias.copy_(ghost.bias)
    return ghost, reference


def _batch(n=12, c=5, h=4, w=3, seed=1):
    torch.manual_seed(seed)
    return torch.randn(n, c, h, w) * torch.linspace(0.5, 4.0, c).view(1, c, 1, 1) + 3.0


def test_one_group_is_plain_batchnorm():
    """With group_size = N, do output, running statistics and evaluation mode equal nn.BatchNorm2d's?"""
    ghost, reference = _pair(5, group_size=12)
    for seed in range(3):
        x = _batch(seed=seed)
        torch.testing.assert_close(ghost(x), reference(x))
    torch.testing.assert_close(ghost.running_mean, reference.running_mean)
    torch.testing.assert_close(ghost.running_var, reference.running_var)
    assert int(ghost.num_batches_tracked) == int(reference.num_batches_tracked) == 3
    ghost.eval(), reference.eval()
    x = _batch(n=3, seed=9)
    torch.testing.assert_close(ghost(x), reference(x))


def test_each_group_is_normalized_as_batchnorm_would_normalize_it_alone():
    """With groups of 2, is each pair of examples normalized by its own statistics, with the same gradients?"""
    ghost, _ = _pair(5, group_size=2)
    x = _batch().requires_grad_()
    y = ghost(x)
    upstream = torch.randn_like(y)
    grad_ghost = torch.autograd.grad((y * upstream).sum(), [x, ghost.weight])

    x_ref = x.detach().clone().requires_grad_()
    weight = ghost.weight.detach().clone().requires_grad_()
    parts = [F.batch_norm(chunk, None, None, weight, ghost.bias.detach(), training=True)
             for chunk in x_ref.split(2)]
    y_ref = torch.cat(parts)
    grad_ref = torch.autograd.grad((y_ref * upstream).sum(), [x_ref, weight])
    torch.testing.assert_close(y, y_ref)
    for a, b in zip(grad_ghost, grad_ref):
        torch.testing.assert_close(a, b)


def test_running_statistics_average_those_of_one_batchnorm_per_group():
    """Are the running mean and the (unbiased) running variance the mean over groups of separate BatchNorms'?"""
    ghost, _ = _pair(5, group_size=3)
    per_group = [nn.BatchNorm2d(5) for _ in range(4)]
    for seed in range(4):
        x = _batch(seed=seed)
        ghost(x)
        for module, chunk in zip(per_group, x.split(3)):
            module(chunk)
    torch.testing.assert_close(ghost.running_mean, torch.stack([m.running_mean for m in per_group]).mean(0))
    torch.testing.assert_close(ghost.running_var, torch.stack([m.running_var for m in per_group]).mean(0))


def test_momentum_none_is_a_cumulative_average_as_in_torch():
    """With momentum=None and one group, do the running statistics follow nn.BatchNorm2d(momentum=None)?"""
    ghost, reference = GhostBatchNorm2d(5, group_size=12, momentum=None), nn.BatchNorm2d(5, momentum=None)
    for seed in range(4):
        x = _batch(seed=seed)
        ghost(x), reference(x)
    torch.testing.assert_close(ghost.running_mean, reference.running_mean)
    torch.testing.assert_close(ghost.running_var, reference.running_var)


def test_a_batch_that_does_not_split_into_groups_is_refused():
    """Does a batch of 5 with groups of 2 raise a clear error, and does group_size 0 too?"""
    with pytest.raises(ValueError, match="multiple of group_size"):
        GhostBatchNorm2d(3, group_size=2)(torch.randn(5, 3, 2, 2))
    with pytest.raises(ValueError):
        GhostBatchNorm2d(3, group_size=0)


@pytest.mark.parametrize("kind, reference", [
    ("layer", lambda c, shape: nn.LayerNorm(shape[1:])),
    ("instance", lambda c, shape: nn.InstanceNorm2d(c, affine=True)),
    ("group", lambda c, shape: nn.GroupNorm(4, c)),
    ("batch", lambda c, shape: nn.BatchNorm2d(c)),
])
def test_each_kind_computes_what_torchs_layer_computes(kind, reference):
    """At initialization (γ = 1, β = 0), does each kind give torch's LayerNorm, InstanceNorm2d, GroupNorm, BatchNorm2d?"""
    x = _batch(n=6, c=8)
    layer = normalization_layer(kind, 8, groups=4)
    torch.testing.assert_close(layer(x), reference(8, x.shape)(x), atol=1e-5, rtol=1e-4)


def test_unknown_kinds_and_bad_groups_are_refused():
    """Do an unknown kind and groups that do not divide the channels raise ValueError?"""
    with pytest.raises(ValueError, match="unknown normalization"):
        normalization_layer("weight", 8)
    with pytest.raises(ValueError, match="divide"):
        normalization_layer("group", 6, groups=4)
    assert isinstance(normalization_layer("none", 8), nn.Identity)


def test_use_normalization_replaces_every_batchnorm_of_the_cnn():
    """Does every BatchNorm2d of a CNN become a GroupNorm, and does the network still run and train?"""
    model = CNN(10, width=8, depth=2, residual=True)
    count = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    use_normalization(model, "group", groups=4)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 0
    assert sum(isinstance(m, nn.GroupNorm) for m in model.modules()) == count
    y_hat = model(torch.randn(2, 3, 16, 16))
    y_hat.sum().backward()
    assert y_hat.shape == (2, 10)
    with pytest.raises(ValueError, match="no nn.BatchNorm2d"):
        use_normalization(CNN(10, width=8, batchnorm=False), "group")


def test_ghost_batchnorm_in_the_cnn_keeps_eval_mode_independent_of_the_batch():
    """In a CNN with ghost batches, does evaluation mode give each image the same output alone or in a batch?"""
    torch.manual_seed(0)
    model = use_normalization(CNN(10, width=8), "ghost", group_size=2)
    model(torch.randn(8, 3, 16, 16))  # one training step's statistics
    model.eval()
    X = torch.randn(4, 3, 16, 16)
    torch.testing.assert_close(model(X)[:1], model(X[:1]))


def _coupled(layer: nn.Module, x: torch.Tensor, example: int, channel: int) -> torch.Tensor:
    """Which (example, channel) slices of x move the output at (example, channel): the oracle, by autograd."""
    x = x.clone().requires_grad_()
    y = layer(x)
    weights = torch.randn_like(y[example, channel])
    (grad,) = torch.autograd.grad((y[example, channel] * weights).sum(), x)
    return grad.abs().flatten(2).sum(dim=2) > 1e-7


@pytest.mark.parametrize("kind", NORMALIZATIONS)
@pytest.mark.parametrize("example, channel", [(0, 0), (3, 5)])
def test_shared_statistics_is_what_torchs_layers_couple(kind, example, channel):
    """Does the mask name exactly the slices whose values change one slice's output, in torch's layers?"""
    torch.manual_seed(2)
    x = torch.randn(6, 8, 3, 3)
    layer = {"batch": lambda: nn.BatchNorm2d(8), "ghost": lambda: GhostBatchNorm2d(8, group_size=2),
             "layer": lambda: nn.LayerNorm([8, 3, 3]), "group": lambda: nn.GroupNorm(4, 8),
             "instance": lambda: nn.InstanceNorm2d(8)}[kind]()
    expected = _coupled(layer, x, example, channel)
    mask = shared_statistics(kind, 6, 8, groups=4, group_size=2, example=example, channel=channel)
    assert torch.equal(mask, expected)


def _trained_cnn(seed=0):
    torch.manual_seed(seed)
    model = CNN(10, width=4, stages=2)
    for _ in range(5):                        # move the running statistics away from (0, 1)
        model(torch.randn(16, 3, 8, 8) * 2 + 1)
    return model.eval()


def test_with_one_batch_it_is_the_training_mode_forward_pass():
    """With batch_size = len(X), are loss and accuracy those of one training-mode forward pass (torch's own)?"""
    import copy

    model = _trained_cnn()
    X, y = torch.randn(10, 3, 8, 8), torch.randint(0, 10, (10,))
    reference = copy.deepcopy(model).train()
    with torch.no_grad():
        y_hat = reference(X)
    result = evaluate_with_batch_statistics(model, (X, y), nn.CrossEntropyLoss(), batch_size=10)
    assert result["loss"] == pytest.approx(float(F.cross_entropy(y_hat, y)), rel=1e-5)
    assert result["acc"] == pytest.approx(float((y_hat.argmax(1) == y).float().mean()))


def test_small_batches_average_the_per_batch_results():
    """With batches of 2, is the loss the mean over examples of each pair's own training-mode loss?"""
    import copy

    model = _trained_cnn()
    X, y = torch.randn(6, 3, 8, 8), torch.randint(0, 10, (6,))
    reference = copy.deepcopy(model).train()
    with torch.no_grad():
        losses = [F.cross_entropy(reference(X[i:i + 2]), y[i:i + 2], reduction="sum") for i in (0, 2, 4)]
    result = evaluate_with_batch_statistics(model, (X, y), nn.CrossEntropyLoss(), batch_size=2)
    assert result["loss"] == pytest.approx(float(sum(losses)) / 6, rel=1e-5)


def test_nothing_is_kept_and_the_mode_is_restored():
    """Are the running statistics, num_batches_tracked and every module's mode as before?"""
    model = _trained_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    evaluate_with_batch_statistics(model, (torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))),
                                   nn.CrossEntropyLoss(), batch_size=4)
    assert not any(m.training for m in model.modules())
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_it_differs_from_evaluation_mode_only_through_batchnorm():
    """Without BatchNorm (and with dropout switched off), is it exactly course.training.evaluate?"""
    from course.training import evaluate

    torch.manual_seed(0)
    model = CNN(10, width=4, stages=2, batchnorm=False, dropout=0.5).eval()
    data = (torch.randn(12, 3, 8, 8), torch.randint(0, 10, (12,)))
    ours = evaluate_with_batch_statistics(model, data, nn.CrossEntropyLoss(), batch_size=3)
    theirs = evaluate(model, data, nn.CrossEntropyLoss())
    assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-5)
    assert ours["acc"] == pytest.approx(theirs["acc"])
