"""Tests for course.schedules: torch's schedulers by name, and their learning-rate curves."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.schedules import SCHEDULES, lr_curve, make_scheduler, plateau_losses, scheduler_factory
from course.training import fit


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_schedule_is_positive_finite_and_bounded(name):
    """Does every schedule give a finite, non-negative lr that never exceeds the optimizer's?"""
    curve = lr_curve(name, lr=0.1, num_steps=120)
    assert curve.shape == (120,)
    assert np.all(np.isfinite(curve)) and np.all(curve >= 0)
    assert curve.max() <= 0.1 + 1e-12
    if name == "constant":
        assert np.all(curve == 0.1)
    else:
        assert curve.min() < 0.1 * 0.5  # every other schedule really lowers the rate somewhere


def test_inverse_time_cooling_is_eta_over_one_plus_epsilon_k():
    """Is inverse-time cooling exactly η/(1+εk)?"""
    k = np.arange(50)
    np.testing.assert_allclose(lr_curve("inverse-time", lr=0.3, num_steps=50, epsilon=0.2),
                               0.3 / (1 + 0.2 * k), rtol=1e-12)


def test_cosine_matches_the_closed_form():
    """Is the cosine schedule η(1+cos(πk/T))/2?"""
    T = 80
    k = np.arange(T)
    np.testing.assert_allclose(lr_curve("cosine", lr=0.5, num_steps=T),
                               0.5 * (1 + np.cos(np.pi * k / T)) / 2, atol=1e-12)


def test_step_and_exponential_defaults():
    """Does the step schedule halve every T/4 steps, and is exponential γ^k with γ^T = 1/100?"""
    step = lr_curve("step", lr=1.0, num_steps=100)
    assert step[24] == 1.0 and step[25] == 0.5 and step[99] == 0.125
    exponential = lr_curve("exponential", lr=1.0, num_steps=100)
    np.testing.assert_allclose(exponential, 0.01 ** (np.arange(100) / 100), rtol=1e-9)


def test_cyclical_and_warm_restarts_come_back_up():
    """Do the cyclical and warm-restart schedules raise the rate again after lowering it?"""
    for name in ("cyclical", "warm restarts"):
        curve = lr_curve(name, lr=0.1, num_steps=200)
        assert np.sum(np.diff(curve) > 1e-6) >= 1 and np.sum(np.diff(curve) < -1e-6) >= 1
        assert np.sum(np.diff(curve) > 0.03) >= 1 or name == "cyclical"  # a restart jumps up


def test_reduce_on_plateau_waits_for_the_plateau():
    """Does reduce-on-plateau keep the rate while the loss falls fast, and cut it afterwards?"""
    losses = plateau_losses(200)
    curve = lr_curve("reduce-on-plateau", lr=0.1, num_steps=200, losses=losses)
    first_cut = int(np.argmax(curve < 0.1))
    assert first_cut > 20  # the made-up loss falls steeply for the first ~T/8 steps
    assert curve[-1] < 0.1 / 4
    # a loss that keeps falling never triggers a cut
    falling = np.linspace(1.0, 0.1, 200)
    assert np.all(lr_curve("reduce-on-plateau", lr=0.1, num_steps=200, losses=falling) == 0.1)


def test_unknown_schedule_is_refused():
    """Is a misspelt schedule an error that lists the choices?"""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="cosine"):
        make_scheduler("cosin", optimizer, 10)
    assert scheduler_factory("constant", 10) is None


def test_fit_follows_the_schedule_epoch_by_epoch():
    """Does fit() with make_scheduler log, epoch by epoch, the lr that lr_curve predicts?"""
    torch.manual_seed(0)
    X, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    num_epochs = 12
    scheduler = make_scheduler("inverse-time", optimizer, num_steps=num_epochs)
    history = fit(model, (X, y), torch.nn.CrossEntropyLoss(), optimizer, num_epochs=num_epochs,
                  batch_size=32, scheduler=scheduler, progress=False, device="cpu")
    np.testing.assert_allclose(history["lr"], lr_curve("inverse-time", 0.2, num_epochs), rtol=1e-12)
    assert math.isclose(history["lr"][-1], 0.2 / (1 + (10 / num_epochs) * (num_epochs - 1)))
