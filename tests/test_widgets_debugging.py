"""Tests for course.widgets.debugging: the activation and initialization explorers."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from course.activations import signal_statistics
from course.widgets.debugging import (activation_explorer, initialization_explorer,
                                      signal_statistics_by_depth)


def test_activation_layer_is_f_and_its_derivative():
    """Is the layer f(x) and f'(x) on [-5, 5]: the sigmoid's s(1 - s), leaky ReLU's slope below 0?"""
    figure = activation_explorer(static=False, prefetch=False)
    explorer = figure.explorer
    sigmoid = explorer.data("activation", {"activation": "sigmoid", "negative_slope": 0.1})
    x, s = sigmoid.arrays[0].reshape(-1, 2).T
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x)), atol=1e-6)
    np.testing.assert_allclose(sigmoid.arrays[1].reshape(-1, 2)[:, 1], s * (1 - s), atol=1e-6)
    assert sigmoid.texts == ["sigmoid: max f' = 0.25"]
    leaky = explorer.data("activation", {"activation": "leaky_relu", "negative_slope": 0.3})
    x, dy = leaky.arrays[1].reshape(-1, 2).T
    np.testing.assert_allclose(dy, np.where(x > 0, 1.0, 0.3))


def test_every_activation_and_slope_is_computed_ahead():
    """Are all settings of the two controls computed ahead (the browser never waits)?"""
    figure = activation_explorer(static=False, prefetch=False)
    figure.compute_ahead()
    explorer = figure.explorer
    for activation in explorer.controls["activation"].options:
        for slope in (0.0, 0.07, 0.5):
            assert explorer.cached(explorer.layer_key("activation", {"activation": activation,
                                                                      "negative_slope": slope})) is not None


@pytest.mark.parametrize("activation, init", [("tanh", "glorot"), ("relu", "he"), ("sigmoid", "normal1")])
def test_all_depths_at_once_are_each_depth_alone(activation, init):
    """Does one pass through the deepest network give, for every depth, what
    course.activations.signal_statistics computes for a network of that depth alone?"""
    depths = (2, 5, 9)
    together = signal_statistics_by_depth(depths, width=32, activation=activation, init=init, n=64)
    for depth in depths:
        alone = signal_statistics(depth=depth, width=32, activation=activation, init=init, n=64)
        np.testing.assert_allclose(together[depth]["activation_std"], alone["activation_std"], rtol=1e-5)
        np.testing.assert_allclose(together[depth]["gradient_std"], alone["gradient_std"], rtol=1e-5)
        for a, b in zip(together[depth]["activations"], alone["activations"]):
            np.testing.assert_array_equal(a, b)


def test_initialization_layer_and_axes():
    """Is the layer the std of activations and gradients per layer and the histograms of log10 |a|
    of the first, middle and last layer, inside the axes of its network's background?"""
    figure = initialization_explorer(width=32, static=False, prefetch=False)
    explorer = figure.explorer
    values = {"depth": 10, "init": "normal0.01", "activation": "tanh"}
    data = explorer.data("signals", values)
    stats = signal_statistics(depth=10, width=32, activation="tanh", init="normal0.01")
    layers_std = data.arrays[3].reshape(-1, 2)
    np.testing.assert_array_equal(layers_std[:, 0], np.arange(1, 11))
    np.testing.assert_allclose(layers_std[:, 1], stats["activation_std"], rtol=1e-5)
    np.testing.assert_allclose(data.arrays[4].reshape(-1, 2)[:, 1], stats["gradient_std"], rtol=1e-5)
    assert data.texts[2].startswith("layer 10: std ")
    (lo, hi), (bottom, top) = explorer.ranges("tanh", "normal0.01", explorer.axes_depth(values))
    assert explorer.axes_depth(values) == 30
    last = data.arrays[2].reshape(-1, 2)
    peak = last[np.argmax(last[:, 1]), 0]
    assert lo <= peak <= hi and peak == pytest.approx(np.log10(stats["activation_std"][-1]), abs=1.0)
    assert bottom <= min(stats["activation_std"] + stats["gradient_std"]) and max(stats["gradient_std"]) <= top


def test_static_figures():
    """Headless, do both explorers draw one PNG of their static settings?"""
    for figure in (activation_explorer(static=True), initialization_explorer(width=32, static=True)):
        assert len(figure.settings) == 4
        assert Image.open(io.BytesIO(figure.png())).size[1] > 200
