"""Tests for course.widgets.optimizers: the optimizer-path and schedule explorers."""
from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image

from course.optimizer_paths import MAX_STEPS, NUM_EXAMPLES, OPTIMIZERS, optimizer_paths
from course.schedules import SCHEDULES, lr_curve
from course.surfaces import SURFACES
from course.widgets.controls import control_grid
from course.widgets.explorer import FLUSH
from course.widgets.optimizers import (BETAS, OPTIMIZER_COLORS, OptimizerExplorer, optimizer_controls,
                                       optimizer_explorer, schedule_explorer)


def test_explorer_offers_the_lecture_optimizers_and_a_batch_size():
    """Are momentum, Nesterov, the adaptive family, AdamW and L-BFGS all there, each its own colour,
    and can the batch go from 1 (SGD) to the full batch?"""
    expected = {"SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "AdaDelta", "Adam", "AdaMax", "NAdam",
                "AMSGrad", "AdamW", "L-BFGS"}
    assert set(OPTIMIZERS) == expected
    assert len(set(OPTIMIZER_COLORS.values())) == len(OPTIMIZERS)
    controls = optimizer_controls()
    assert control_grid(controls["batch_size"])[0] == 1 and control_grid(controls["batch_size"])[-1] == NUM_EXAMPLES
    assert controls["batch_size"].label == f"{NUM_EXAMPLES} (full)"
    assert control_grid(controls["beta"]) == list(BETAS)


def test_layer_data_is_the_path_and_its_loss_gap():
    """Is a layer's data the optimizer's path at the controls' values (lr, β, schedule, batch)
    and f(x_k) - f(x*) along it, on the full-batch surface?"""
    controls = optimizer_controls(surface="Rosenbrock", beta=0.8, schedule="step", batch_size=16)
    explorer = OptimizerExplorer(controls)
    data = explorer.data("Adam", explorer.values())
    path = optimizer_paths("Rosenbrock", ["Adam"], MAX_STEPS, lr_adaptive=0.1, beta=0.8, schedule="step",
                           batch_size=16)["Adam"]
    np.testing.assert_array_equal(data.arrays[0], path.ravel())
    surface = SURFACES["Rosenbrock"]
    np.testing.assert_allclose(data.arrays[1], np.maximum(surface.f(path) - surface.f(np.array([1.0, 1.0])), 1e-12))


def test_wrong_slider_values_are_refused():
    """Is a β or a batch size the sliders do not offer refused with the values they do?"""
    with pytest.raises(ValueError, match="beta"):
        optimizer_explorer(beta=0.42, static=True)
    with pytest.raises(ValueError, match="batch_size"):
        optimizer_explorer(batch_size=3, static=True)


def test_static_explorer_shows_full_and_mini_batches():
    """Headless, are Beale and Rosenbrock with the full batch and Beale with a batch of 4 shown
    one above the other?"""
    fig = optimizer_explorer(num_steps=30, static=True)
    assert [(s["surface"], s["batch_size"]) for s in fig.settings] == [("Beale", NUM_EXAMPLES),
                                                                      ("Rosenbrock", NUM_EXAMPLES), ("Beale", 4)]
    width, height = Image.open(io.BytesIO(fig.png())).size
    assert height > 0.9 * width


def test_schedule_explorer_sends_the_multipliers():
    """Is a schedule's layer η_k/η over the T steps of the slider (inverse-time with its ε),
    on one background whose x axis spans the longest T?"""
    fig = schedule_explorer(schedules=("cosine", "inverse-time"), num_steps=100, epsilon=0.5, static=False,
                            prefetch=False)
    explorer = fig.explorer
    values = explorer.values()
    np.testing.assert_allclose(explorer.data("inverse-time", values).arrays[0], 1 / (1 + 0.5 * np.arange(100)))
    np.testing.assert_allclose(explorer.data("cosine", {**values, "num_steps": 40}).arrays[0],
                               lr_curve("cosine", 1.0, 40))
    *_, axes, _ = explorer.background({**values, "num_steps": 40})
    assert axes[0]["xlim"] == [0.0, 500.0] and explorer.background_deps == ()
    assert [layer["name"] for layer in explorer.shown_layers(values)] == ["inverse-time", "cosine"]
    static = schedule_explorer(static=True)
    assert set().union(*(s["schedules"] for s in static.settings)) == set(SCHEDULES)


def test_the_first_window_ahead_costs_one_run_per_optimizer():
    """Is the first window ahead (every surface for the shown optimizers, every other optimizer on
    every surface, one step of every control) computed in one torch run per optimizer (L-BFGS: one
    per setting, its step looks at all parameters; so does reduce-on-plateau), not one per setting?"""
    controls = optimizer_controls(surface="Saddle", lr_sgd=10 ** -3.75, lr_adaptive=10 ** -2.75, beta=0.3,
                                  schedule="cosine", batch_size=64)
    explorer = OptimizerExplorer(controls)
    values = explorer.values()
    items = list(itertools.takewhile(lambda item: item != FLUSH, explorer.ahead(values)))
    layers = [(name, setting) for kind, name, setting in items if kind == "layer"]
    on_surfaces = {(name, setting["surface"]) for name, setting in layers
                   if setting == {**values, "surface": setting["surface"]}}
    shown_here = {(name, "Saddle") for name in values["optimizers"]}  # computed with the first render
    assert on_surfaces >= {(name, surface) for name in OPTIMIZERS for surface in SURFACES} - shown_here
    lbfgs = [setting for name, setting in layers if name == "L-BFGS"]
    assert len(lbfgs) == 3 + 2  # the other surfaces, the batch sizes either side
    results = list(explorer.compute_ahead(layers, lambda: None))
    assert sum(len(result) for result in results) == len(layers)
    assert len(results) <= (len(OPTIMIZERS) - 1) + len(lbfgs) + 1  # + 1: paths already computed, if any
