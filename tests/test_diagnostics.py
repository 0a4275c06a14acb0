"""Training diagnostics, each checked against an independent computation."""
from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course.data import digits_split
from course.diagnostics import (GradientStats, dead_channels, expected_initial_loss, initial_loss_check,
                                layer_outputs, lr_range_test, overfit_small_subset)
from course.models import CNN, MLP
from course.training import fit


@pytest.fixture(scope="module")
def digits():
    split = digits_split(seed=0, standardized=False)
    return split.X_train[:256], split.y_train[:256]


def small_mlp(seed=0, width=32):
    torch.manual_seed(seed)
    return MLP(64, 10, width=width)


def test_expected_initial_loss_is_the_uniform_cross_entropy():
    """Is log C what cross-entropy gives for equal logits, for several C?"""
    for C in (2, 3, 10, 1000):
        uniform = F.cross_entropy(torch.zeros(5, C), torch.zeros(5, dtype=torch.long))
        assert expected_initial_loss(C) == pytest.approx(float(uniform), rel=1e-6)
    with pytest.raises(ValueError):
        expected_initial_loss(1)


def test_a_model_with_equal_logits_passes_exactly(digits):
    """With zero output weights (all logits equal), is the initial loss exactly log 10?"""
    model = small_mlp()
    nn.init.zeros_(model.output.weight)
    nn.init.zeros_(model.output.bias)
    check = initial_loss_check(model, digits)
    assert check.loss == pytest.approx(math.log(10), rel=1e-5)
    assert check.passed and "fine" in check.message


def test_large_initial_weights_fail_with_advice(digits):
    """Do N(0, 1) weights give a loss far above log C and a message about the initialization?"""
    model = small_mlp()
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=1.0)
    check = initial_loss_check(model, digits)
    assert not check.passed and check.ratio > 2
    assert "too high" in check.message and "initial weights" in check.message


def test_loss_below_chance_before_training_is_suspicious():
    """Does a model that already favours the (only) true class get the 'leak' message?"""
    model = nn.Linear(4, 3)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.copy_(torch.tensor([5.0, 0.0, 0.0]))
    check = initial_loss_check(model, (torch.randn(20, 4), torch.zeros(20, dtype=torch.long)))
    assert not check.passed and "lower than chance" in check.message


def test_overfit_small_subset_reaches_the_target(digits):
    """Does a correct setup memorize 32 examples below the target loss, early?"""
    model = small_mlp(width=64)
    history = overfit_small_subset(model, digits, nn.CrossEntropyLoss(),
                                   torch.optim.Adam(model.parameters(), lr=1e-2), device="cpu")
    assert history["train_loss"][-1] < 1e-2 and history.num_epochs < 200
    assert history["train_acc"][-1] == 1.0


def test_overfit_small_subset_exposes_a_disconnected_optimizer(digits):
    """If the optimizer holds another model's parameters, does the loss stay at chance?"""
    model = small_mlp(width=64)
    optimizer = torch.optim.Adam(small_mlp(seed=1, width=64).parameters(), lr=1e-2)
    history = overfit_small_subset(model, digits, nn.CrossEntropyLoss(), optimizer, num_steps=30, device="cpu")
    assert history.num_epochs == 30
    assert history["train_loss"][-1] == pytest.approx(history["train_loss"][0], abs=1e-6)


def test_gradient_stats_match_gradients_computed_by_hand(digits):
    """For one full-batch step per epoch, are the norms those of torch.autograd.grad and the update?"""
    X, y = digits
    model = small_mlp()
    start = copy.deepcopy(model)
    loss = F.cross_entropy(start(X), y)
    expected = torch.autograd.grad(loss, [start.hidden[0].weight, start.hidden[2].weight, start.output.weight])
    with GradientStats(model) as stats:
        fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=1,
            batch_size=len(X), callbacks=[stats], progress=False, device="cpu")
    assert stats.names == ["hidden.0.weight", "hidden.2.weight", "output.weight"]         # weights only, in order
    for name, grad in zip(stats.names, expected):
        assert stats.stats[name]["grad_norm"][0] == pytest.approx(float(grad.norm()), rel=1e-4)
    w0, w1 = start.hidden[0].weight.detach(), model.hidden[0].weight.detach()
    assert stats.stats["hidden.0.weight"]["update_ratio"][0] == pytest.approx(float((w1 - w0).norm() / w0.norm()), rel=1e-4)
    assert stats.stats["hidden.0.weight"]["weight_norm"][0] == pytest.approx(float(w1.norm()), rel=1e-5)


def test_gradient_stats_average_over_steps_and_unhook(digits):
    """Is grad_norm the mean over the epoch's steps, and are the hooks gone after remove()?"""
    X, y = digits
    model = small_mlp()
    norms = []
    probe = model.hidden[2].weight.register_hook(lambda grad: norms.append(float(grad.norm())))
    stats = GradientStats(model)
    fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), num_epochs=2,
        batch_size=64, callbacks=[stats], progress=False, device="cpu")
    probe.remove()
    assert len(norms) == 8
    assert stats.stats["hidden.2.weight"]["grad_norm"] == pytest.approx([sum(norms[:4]) / 4, sum(norms[4:]) / 4], rel=1e-4)
    stats.remove()
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    assert stats.stats["hidden.2.weight"]["grad_norm"] == pytest.approx([sum(norms[:4]) / 4, sum(norms[4:]) / 4], rel=1e-4)
    assert stats._steps["hidden.2.weight"] == 0                                # the hook no longer counts


def test_step_update_ratio_is_lr_times_gradient_over_weight_for_plain_sgd(digits):
    """With plain SGD the step is lr·g: is each recorded ratio lr·‖g_t‖/‖W_{t-1}‖, from autograd by hand?"""
    X, y = digits
    model, lr = small_mlp(), 0.5
    shadow = copy.deepcopy(model)
    weights = [shadow.hidden[0].weight, shadow.hidden[2].weight, shadow.output.weight]
    expected = []
    for _ in range(3):                                   # three full-batch steps, by hand
        grads = torch.autograd.grad(F.cross_entropy(shadow(X), y), list(shadow.parameters()))
        by_param = dict(zip([id(p) for p in shadow.parameters()], grads))
        expected.append([lr * float(by_param[id(w)].norm()) / float(w.norm()) for w in weights])
        with torch.no_grad():
            for p, g in zip(shadow.parameters(), grads):
                p -= lr * g
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    with GradientStats(model, optimizer) as stats:
        fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, num_epochs=3, batch_size=len(X),
            callbacks=[stats], progress=False, device="cpu")
    for k, name in enumerate(stats.names):
        recorded = stats.stats[name]["step_update_ratio"]
        assert recorded == pytest.approx([row[k] for row in expected], rel=1e-4)
    # the per-epoch ratio of a one-step epoch is that step's ratio
    assert stats.stats["output.weight"]["update_ratio"] == pytest.approx(stats.stats["output.weight"]["step_update_ratio"], rel=1e-5)


def test_step_update_ratio_has_one_value_per_step_and_matches_snapshots(digits):
    """With momentum and minibatches, one value per optimizer step, equal to weight snapshots taken by hand?"""
    X, y = digits
    model = small_mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    snapshots = [model.output.weight.detach().clone()]
    optimizer.register_step_post_hook(lambda *args: snapshots.append(model.output.weight.detach().clone()))
    with GradientStats(model, optimizer) as stats:
        fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, num_epochs=2, batch_size=64,
            callbacks=[stats], progress=False, device="cpu")
    by_hand = [float((b - a).norm() / a.norm()) for a, b in zip(snapshots, snapshots[1:])]
    assert len(by_hand) == 8                                              # 256 / 64 = 4 steps, 2 epochs
    assert stats.stats["output.weight"]["step_update_ratio"] == pytest.approx(by_hand, rel=1e-4)
    assert len(stats.stats["output.weight"]["update_ratio"]) == 2          # still one per epoch


def test_gradient_stats_unhooks_from_the_optimizer_and_checks_it(digits):
    """After remove(), do optimizer steps go unrecorded; and is another model's optimizer refused?"""
    X, y = digits
    model = small_mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    stats = GradientStats(model, optimizer)
    stats.remove()
    F.cross_entropy(model(X), y).backward()
    optimizer.step()
    stats(0, {}, model)
    assert stats.stats["output.weight"]["step_update_ratio"] == []
    assert "step_update_ratio" not in GradientStats(model).stats["output.weight"]   # no optimizer, no per-step key
    with pytest.raises(ValueError, match="another model"):
        GradientStats(model, torch.optim.SGD(small_mlp(seed=1).parameters(), lr=0.1))


def test_lr_range_test_grows_geometrically_and_stops_on_divergence(digits):
    """Are the rates lr_min·r^k, and does the test stop once the loss explodes?"""
    model = small_mlp()
    result = lr_range_test(model, digits, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=1.0),
                           lr_min=1e-4, lr_max=1e3, num_steps=50, batch_size=32, device="cpu")
    ratios = torch.tensor(result.lrs[1:]) / torch.tensor(result.lrs[:-1])
    assert result.lrs[0] == pytest.approx(1e-4)
    assert torch.allclose(ratios, torch.full_like(ratios, (1e3 / 1e-4) ** (1 / 49)), rtol=1e-5)
    assert len(result.lrs) < 50                                          # stopped early
    assert len(result.losses) == len(result.smoothed) == len(result.lrs)
    assert result.suggestion == pytest.approx(result.best_lr / 10)
    assert 1e-3 < result.best_lr < 1e2


def test_lr_range_test_is_repeatable(digits):
    """Same seed and initial model: the same losses?"""
    runs = []
    for _ in range(2):
        model = small_mlp()
        runs.append(lr_range_test(model, digits, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=1.0),
                                  num_steps=20, device="cpu").losses)
    assert runs[0] == runs[1]


def test_layer_outputs_match_the_truncated_network(digits):
    """Is the hooked output of layer k what model.hidden[:k+1] computes, in evaluation mode?"""
    X, _ = digits
    torch.manual_seed(0)
    model = MLP(64, 10, width=16, dropout=0.5)
    model.train()
    features = layer_outputs(model, X, model.hidden[4], batch_size=100)
    model.eval()
    with torch.no_grad():
        expected = model.hidden[:5](X)
    assert torch.allclose(features, expected)
    assert features.shape == (len(X), 16)


def test_dead_channels_finds_the_channels_a_large_negative_bias_kills():
    """With a bias of -1000 on 3 of the 8 first-block channels, does it report 3/8 there, as the block computed directly says?"""
    torch.manual_seed(0)
    model = CNN(10, width=8, batchnorm=False)
    with torch.no_grad():
        model.features[0].conv.bias[[1, 4, 6]] = -1000.0
    X = torch.randn(16, 3, 16, 16)
    dead = dead_channels(model, X)
    assert list(dead) == ["features.0", "features.2", "features.4"]
    assert dead["features.0"] == pytest.approx(3 / 8)
    # the oracle: the block's ReLU output computed directly, channel by channel
    with torch.no_grad():
        out = torch.relu(model.features[0].conv(X))
    assert dead["features.0"] == pytest.approx(float((out.amax(dim=(0, 2, 3)) == 0).float().mean()))


def test_dead_channels_counts_a_channel_alive_if_any_image_uses_it():
    """Is a channel that fires for one image of a later batch alive (statistics over all batches)?"""
    conv = nn.Conv2d(1, 2, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
        conv.bias.zero_()
    model = nn.Sequential(conv, nn.ReLU())
    X = -torch.ones(5, 1, 2, 2)
    X[4] = 1.0                        # only the last image activates channel 0; channel 1 fires for the others
    assert dead_channels(model, X, layers={"relu": model[1]}, batch_size=2) == {"relu": 0.0}
    assert dead_channels(model, X[:4], layers={"relu": model[1]}) == {"relu": 0.5}
    with pytest.raises(ValueError):
        dead_channels(model, X)
