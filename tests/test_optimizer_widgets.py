"""Tests for course.optimizer_widgets: the optimizer-path and schedule explorers."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from course.optimizer_widgets import (MAX_STEPS, OPTIMIZER_COLORS, OPTIMIZERS, optimizer_explorer,
                                      optimizer_paths, schedule_explorer)
from course.schedules import SCHEDULES, make_scheduler
from course.surfaces import BEALE, ILL_CONDITIONED, SURFACES, optimizer_path


def test_explorer_offers_the_lecture_optimizers():
    """Are momentum, Nesterov, the adaptive family, AdamW and L-BFGS all there, each its own colour?"""
    expected = {"SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "AdaDelta", "Adam", "AdaMax", "NAdam",
                "AMSGrad", "AdamW", "L-BFGS"}
    assert set(OPTIMIZERS) == expected
    assert len(set(OPTIMIZER_COLORS.values())) == len(OPTIMIZERS)


def test_sliders_reach_torch_as_hyperparameters():
    """Is the explorer's Adam path torch's Adam with lr = the adaptive lr and betas = (β, 0.999)?"""
    paths = optimizer_paths("Beale", ["Adam", "Nesterov"], 80, lr_sgd=2e-3, lr_adaptive=0.03, beta=0.8)
    np.testing.assert_array_equal(paths["Adam"], optimizer_path(BEALE, torch.optim.Adam, 80, lr=0.03,
                                                                betas=(0.8, 0.999)))
    np.testing.assert_array_equal(paths["Nesterov"], optimizer_path(BEALE, torch.optim.SGD, 80, lr=2e-3,
                                                                    momentum=0.8, nesterov=True))


def test_nesterov_at_zero_momentum_is_plain_sgd():
    """With the momentum slider at 0, is Nesterov's path torch's plain SGD (torch refuses
    nesterov=True without momentum, and the slider reaches 0)?"""
    paths = optimizer_paths("Beale", ["Nesterov"], 40, lr_sgd=2e-3, beta=0.0)
    np.testing.assert_array_equal(paths["Nesterov"], optimizer_path(BEALE, torch.optim.SGD, 40, lr=2e-3))


def test_schedule_is_applied_over_the_slider_horizon():
    """Does choosing 'cosine' give the path of torch's CosineAnnealingLR over MAX_STEPS steps?"""
    paths = optimizer_paths("Rosenbrock", ["RMSprop"], 50, lr_adaptive=0.05, schedule="cosine")
    expected = optimizer_path(SURFACES["Rosenbrock"], torch.optim.RMSprop, 50, lr=0.05,
                              scheduler=lambda opt: make_scheduler("cosine", opt, MAX_STEPS))
    np.testing.assert_array_equal(paths["RMSprop"], expected)
    constant = optimizer_paths("Rosenbrock", ["RMSprop"], 50, lr_adaptive=0.05)["RMSprop"]
    assert not np.array_equal(constant, expected)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_makes_progress_on_the_quadratic(name):
    """At the explorer's default settings, does every optimizer lower the ill-conditioned loss?"""
    path = optimizer_paths("Ill-conditioned quadratic", [name], 150)[name]
    finite = path[~np.isnan(path[:, 0])]
    assert float(ILL_CONDITIONED.f(finite[-1])) < 0.5 * float(ILL_CONDITIONED.f(finite[0]))


def test_lbfgs_reaches_the_beale_minimum_quickly():
    """Does L-BFGS (strong Wolfe line search) reach Beale's minimum (3, 0.5) within 30 iterations?"""
    path = optimizer_paths("Beale", ["L-BFGS"], 30)["L-BFGS"]
    np.testing.assert_allclose(path[-1], (3.0, 0.5), atol=1e-4)


def test_paths_are_cached_and_grow():
    """Is a setting computed once: a repeated call returns the same numbers without new steps?"""
    first = optimizer_paths("Saddle", ["Adam"], 40, lr_adaptive=0.02)["Adam"]
    again = optimizer_paths("Saddle", ["Adam"], 40, lr_adaptive=0.02)["Adam"]
    np.testing.assert_array_equal(first, again)
    longer = optimizer_paths("Saddle", ["Adam"], 90, lr_adaptive=0.02)["Adam"]
    np.testing.assert_array_equal(longer[:41], first)
    with pytest.raises(ValueError):
        optimizer_paths("Saddle", ["Adam"], MAX_STEPS + 1)


def test_static_explorer_shows_beale_and_rosenbrock():
    """Headless, are Beale and Rosenbrock shown one above the other (a PNG taller than half its width)?"""
    fig = optimizer_explorer(num_steps=30, static=True)
    assert [s["surface"] for s in fig.static_settings] == ["Beale", "Rosenbrock"]
    width, height = Image.open(io.BytesIO(fig.png())).size
    assert height > 0.6 * width
    custom = optimizer_explorer(static=True, static_settings=[{"surface": name} for name in SURFACES])
    assert Image.open(io.BytesIO(custom.png())).size[1] > 1.5 * height


def test_schedule_explorer_draws_the_chosen_curves():
    """Does the schedule explorer draw exactly the chosen schedules (as η_k/η), and redraw on a change?"""
    fig = schedule_explorer(schedules=("cosine", "step"), static=False)
    axes = fig.figure.axes[0]
    visible = {line.get_label() for line in axes.lines if line.get_visible()}
    assert visible == {"cosine", "step"}
    before = fig.image.value
    fig.set(schedules=("inverse-time",), epsilon=0.5)
    visible = {line.get_label(): line for line in axes.lines if line.get_visible()}
    assert set(visible) == {"inverse-time"}
    k = np.arange(100)
    np.testing.assert_allclose(visible["inverse-time"].get_ydata(), 1 / (1 + 0.5 * k))  # η_k / η
    assert fig.image.value != before
    static = schedule_explorer(static=True)
    assert set().union(*(s["schedules"] for s in static.static_settings)) == set(SCHEDULES)
