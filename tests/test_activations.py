"""Activation derivatives against their closed forms; initializations against their variances."""
from __future__ import annotations

import math

import pytest
import torch

from course.activations import (ACTIVATIONS, INITIALIZATIONS, activation_and_derivative, make_deep_mlp,
                                signal_statistics)

x = torch.linspace(-6, 6, 1201)


@pytest.mark.parametrize("name,closed_form", [
    ("sigmoid", lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))),
    ("tanh", lambda x: 1 - torch.tanh(x) ** 2),
    ("relu", lambda x: (x > 0).float()),
    ("leaky_relu", lambda x: torch.where(x > 0, 1.0, 0.2)),
])
def test_derivative_matches_the_closed_form(name, closed_form):
    """Is the autograd derivative σ(1-σ), 1-tanh², 1[x>0], or the leaky slope?"""
    y, dy = activation_and_derivative(name, x, negative_slope=0.2)
    assert torch.allclose(dy, closed_form(x), atol=1e-6)
    assert y.shape == x.shape and not y.requires_grad


def test_gelu_derivative_matches_finite_differences():
    """Does the GELU derivative agree with a central difference?"""
    h = 1e-3
    _, dy = activation_and_derivative("gelu", x.double())
    fd = (ACTIVATIONS["gelu"](x.double() + h) - ACTIVATIONS["gelu"](x.double() - h)) / (2 * h)
    assert torch.allclose(dy.double(), fd, atol=1e-4)


def test_sigmoid_derivative_peaks_at_a_quarter():
    """Is max σ' = 0.25 at 0, the reason deep sigmoid stacks vanish?"""
    _, dy = activation_and_derivative("sigmoid", x)
    assert float(dy.max()) == pytest.approx(0.25, abs=1e-6) and float(x[dy.argmax()]) == pytest.approx(0, abs=0.01)


def test_unknown_activation():
    """Does an unknown name list the known ones?"""
    with pytest.raises(ValueError, match="sigmoid"):
        activation_and_derivative("swish", x)


@pytest.mark.parametrize("init,variance", [
    ("glorot", lambda n: 2 / (n + n)),
    ("he", lambda n: 2 / n),
    ("normal0.01", lambda n: 1e-4),
    ("normal1", lambda n: 1.0),
])
def test_initial_weight_variance(init, variance):
    """Do the weights have the variance of their rule (Glorot 2/(in+out), He 2/in, fixed std²)?"""
    width = 512
    model = make_deep_mlp(depth=2, width=width, activation="relu", init=init)
    w = model[0].weight.detach()
    assert float(w.var()) == pytest.approx(variance(width), rel=0.02)
    assert float(model[0].bias.detach().abs().max()) == 0.0


def test_unknown_initialization():
    """Is a misspelled initialization rejected?"""
    with pytest.raises(ValueError, match="glorot"):
        make_deep_mlp(2, 8, init="xavier")


def test_he_keeps_relu_signals_steady_and_small_weights_vanish():
    """Through 20 ReLU layers: steady with He, vanishing with std 0.01, exploding with std 1?"""
    he = signal_statistics(depth=20, width=256, activation="relu", init="he")
    assert 0.3 < he["activation_std"][-1] / he["activation_std"][0] < 3
    assert 0.3 < he["gradient_std"][0] / he["gradient_std"][-1] < 3
    small = signal_statistics(depth=20, width=256, activation="relu", init="normal0.01")
    assert small["activation_std"][-1] < 1e-10 and small["gradient_std"][0] < 1e-10
    large = signal_statistics(depth=20, width=256, activation="relu", init="normal1")
    assert large["activation_std"][-1] > 1e10


def test_signal_statistics_gradients_are_the_backward_pass():
    """Is the last layer's gradient spread that of the random projection r (about 1)?"""
    stats = signal_statistics(depth=3, width=64, activation="tanh", init="glorot", n=256)
    assert stats["gradient_std"][-1] == pytest.approx(1.0, rel=0.05)
    assert len(stats["activations"]) == 3 and all(len(a) == 4000 for a in stats["activations"])
    assert set(INITIALIZATIONS) >= {"glorot", "he"}
    assert not math.isnan(stats["gradient_std"][0])


def test_glorot_keeps_a_linear_stack_steady_and_tanh_decays_like_one_over_sqrt_2l():
    """Without activation, does Glorot keep the spread at 1 through 30 layers; with tanh, is it 1/√(2l) deep down?

    The second is the small-signal expansion E[tanh(s z)²] ≈ s² - 2s⁴, i.e. 1/s²_{l+1} ≈ 1/s²_l + 2.
    """
    linear = signal_statistics(depth=30, width=256, activation="linear", init="glorot")
    assert all(0.9 < s < 1.1 for s in linear["activation_std"])
    assert all(0.9 < s < 1.1 for s in linear["gradient_std"])
    tanh = signal_statistics(depth=30, width=256, activation="tanh", init="glorot")
    for layer in (10, 20, 30):
        assert tanh["activation_std"][layer - 1] * math.sqrt(2 * layer) == pytest.approx(1.0, abs=0.06)


def test_gain_scales_the_weights_and_tanhs_gain_holds_the_signal():
    """Does gain multiply the initial weights exactly, and does torch's tanh gain (5/3) keep the spread from decaying?"""
    plain = make_deep_mlp(2, 64, "tanh", "glorot", seed=3)
    scaled = make_deep_mlp(2, 64, "tanh", "glorot", seed=3, gain=2.5)
    assert torch.allclose(scaled[0].weight, 2.5 * plain[0].weight)
    gain = torch.nn.init.calculate_gain("tanh")
    steady = signal_statistics(depth=30, width=256, activation="tanh", init="glorot", gain=gain)
    assert steady["activation_std"][-1] > 0.5 and steady["activation_std"][-1] / steady["activation_std"][5] > 0.9
    with pytest.raises(ValueError, match="linear"):
        make_deep_mlp(2, 8, activation="swish")


def test_the_inputs_do_not_repeat_the_first_layers_weights():
    """Is one linear layer's output spread √(n·Var(W))·1 = 1, as for inputs independent of the weights?

    (Drawn from the weights' own random stream, the inputs correlated with the first layer and gave 1.23.)
    """
    stats = signal_statistics(depth=1, width=256, activation="linear", init="glorot")
    assert stats["activation_std"][0] == pytest.approx(1.0, abs=0.05)
