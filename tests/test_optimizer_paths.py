"""Tests for course.optimizer_paths: torch.optim on the surfaces, full batch and mini-batch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course.optimizer_paths import (BATCH_SIZES, MAX_STEPS, NUM_EXAMPLES, OPTIMIZERS, MiniBatchNoise, depends_on,
                                    multipliers, optimizer_paths, path_prefix, path_setting, paths)
from course.schedules import SCHEDULES, make_scheduler
from course.surfaces import BEALE, ILL_CONDITIONED, SURFACES, optimizer_path


def torch_path(setting, num_steps: int) -> np.ndarray:
    """The oracle: a plain torch.optim loop on one (2,) parameter, the mini-batch loss
    mean_i f_i(x) = f(x) + mean_i a_iᵀx written out and differentiated by autograd."""
    spec = OPTIMIZERS[setting.optimizer]
    surface = SURFACES[setting.surface]
    noise = MiniBatchNoise(surface)
    x = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    optimizer = spec.optimizer_cls([x], **spec.build_kwargs(setting.lr, setting.beta))
    scheduler = make_scheduler(setting.schedule, optimizer, MAX_STEPS)
    tilts = torch.tensor(noise.tilts)
    out = np.full((num_steps + 1, 2), np.nan)
    out[0] = surface.start
    for step in range(num_steps):
        batch = noise.batch(step, setting.batch_size)

        def closure():
            optimizer.zero_grad()
            loss = surface.f(x) + (tilts[batch] @ x).mean()
            loss.backward()
            return loss

        loss = optimizer.step(closure)
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(float(loss.detach()))
        elif scheduler is not None:
            scheduler.step()
        point = x.detach().numpy()
        if not np.all(np.isfinite(point)) or np.abs(point).max() > 1e6:
            break
        out[step + 1] = point
    return out


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_path_is_what_torch_optim_computes(name):
    """For every optimizer, at a mini-batch of 16 and with the full batch, is the path the one
    torch.optim takes on the written-out mini-batch loss (autograd, one parameter)?"""
    for batch_size in (16, NUM_EXAMPLES):
        setting = path_setting(name, "Beale", 10 ** -2.5, 0.05, 0.8, "cosine", batch_size)
        got = paths([setting])[setting][:81]
        # the oracle differentiates by autograd, the explorer uses the closed form: rounding
        # differences grow along a path (L-BFGS's line searches on noisy batches most) but stay
        # far below float32's resolution, in which the browser receives the path
        np.testing.assert_allclose(got, torch_path(setting, 80), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["Momentum", "Adam", "NAdam", "AdaGrad", "L-BFGS"])
def test_settings_run_together_follow_their_paths_alone(name):
    """Are the paths of settings run in one optimizer (a parameter group per learning rate, β
    and schedule, a row per surface and batch size) those of each setting run alone with
    torch's own scheduler, for every schedule?"""
    settings = [path_setting(name, surface, lr, lr * 20, beta, schedule, batch)
                for surface in ("Ill-conditioned quadratic", "Saddle") for schedule in SCHEDULES
                for lr in (1e-3, 1e-2) for beta in (0.5, 0.9) for batch in (4, NUM_EXAMPLES)]
    together = paths(settings)
    for setting in dict.fromkeys(settings):
        alone = torch_path(setting, 60)
        np.testing.assert_allclose(together[setting][:61], alone, rtol=1e-6, atol=1e-6, err_msg=str(setting))


@pytest.mark.parametrize("schedule", ["cosine", "reduce-on-plateau"])
def test_a_prefix_is_the_start_of_torchs_path(schedule):
    """Is a setting's prefix (computed for a person waiting, before the whole path) the first
    steps of the path torch.optim takes, on a mini-batch and on the full batch, with a schedule
    over the whole horizon and with one that watches the loss?"""
    for batch_size in (4, NUM_EXAMPLES):
        setting = path_setting("Adam", "Rosenbrock", 1e-3, 10 ** -1.25, 0.85, schedule, batch_size)
        prefix = path_prefix(setting, 25)
        assert prefix.shape == (26, 2)
        np.testing.assert_allclose(prefix, torch_path(setting, 25), rtol=1e-6, atol=1e-6)


def test_a_schedule_is_torchs_learning_rates():
    """Are the multipliers a group's LambdaLR applies the learning rates torch's own scheduler
    sets, step by step, over the horizon?"""
    for schedule in SCHEDULES:
        if schedule == "reduce-on-plateau":
            continue
        x = torch.zeros(2, requires_grad=True)
        optimizer = torch.optim.SGD([x], lr=0.3)
        scheduler = make_scheduler(schedule, optimizer, MAX_STEPS)
        rates = []
        for _ in range(MAX_STEPS):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
        np.testing.assert_allclose(0.3 * multipliers(schedule), rates, rtol=1e-12, err_msg=schedule)


def test_the_full_batch_is_the_surface_and_mini_batches_shrink_like_one_over_root_b():
    """Is the full batch's gradient exactly ∇f (the tilts sum to zero), and does a batch of B
    add noise of standard deviation σ·√((N−B)/(B(N−1))) per coordinate?"""
    noise = MiniBatchNoise(BEALE)
    assert np.abs(noise.tilts.sum(axis=0)).max() < 1e-12
    assert np.array_equal(noise.noise(7, NUM_EXAMPLES), np.zeros(2))
    for batch_size in (1, 4, 16, 64):
        draws = np.array([noise.noise(t, batch_size) for t in range(MAX_STEPS)])
        np.testing.assert_allclose(draws, [noise.tilts[noise.batch(t, batch_size)].mean(axis=0)
                                           for t in range(MAX_STEPS)], atol=1e-12)
        expected = noise.tilts.std(axis=0, ddof=1).mean() * np.sqrt(
            (NUM_EXAMPLES - batch_size) / (batch_size * (NUM_EXAMPLES - 1)))
        assert draws.std(axis=0).mean() == pytest.approx(expected, rel=0.15)


def test_smaller_batches_end_further_from_the_minimum():
    """With the default learning rates, does plain SGD end further from the quadratic's minimum
    the smaller its batch (the noise keeps it bouncing)?"""
    ends = [ILL_CONDITIONED.f(optimizer_paths("Ill-conditioned quadratic", ["Adam"], MAX_STEPS,
                                              batch_size=b)["Adam"][-1]) for b in (1, 16, NUM_EXAMPLES)]
    assert ends[0] > ends[1] > ends[2]


def test_a_setting_holds_only_what_its_optimizer_uses():
    """Does moving a control an optimizer does not depend on leave its setting (its cache key)
    unchanged, and moving one it depends on change it?"""
    base = {"surface": "Beale", "lr_sgd": 1e-3, "lr_adaptive": 0.1, "beta": 0.9, "schedule": "constant",
            "batch_size": NUM_EXAMPLES}
    moved = {"surface": "Saddle", "lr_sgd": 1e-2, "lr_adaptive": 0.01, "beta": 0.5, "schedule": "cosine",
             "batch_size": 4}
    for name in OPTIMIZERS:
        for control, value in moved.items():
            same = path_setting(name, **base) == path_setting(name, **{**base, control: value})
            assert same == (control not in depends_on(name)), (name, control)


def test_nesterov_at_zero_momentum_is_plain_sgd():
    """With the momentum slider at 0, is Nesterov's path torch's plain SGD (torch refuses
    nesterov=True without momentum, and the slider reaches 0)?"""
    got = optimizer_paths("Beale", ["Nesterov"], 40, lr_sgd=2e-3, beta=0.0)["Nesterov"]
    np.testing.assert_allclose(got, optimizer_path(BEALE, torch.optim.SGD, 40, lr=2e-3), rtol=1e-12)


def test_schedule_is_applied_over_the_slider_horizon():
    """Does choosing 'cosine' give the path of torch's CosineAnnealingLR over MAX_STEPS steps?"""
    got = optimizer_paths("Rosenbrock", ["RMSprop"], 50, lr_adaptive=0.05, schedule="cosine")["RMSprop"]
    expected = optimizer_path(SURFACES["Rosenbrock"], torch.optim.RMSprop, 50, lr=0.05,
                              scheduler=lambda opt: make_scheduler("cosine", opt, MAX_STEPS))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    constant = optimizer_paths("Rosenbrock", ["RMSprop"], 50, lr_adaptive=0.05)["RMSprop"]
    assert not np.allclose(constant, expected)
    assert set(SCHEDULES) >= {"constant", "cosine"}


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


def test_a_diverging_path_ends_in_nan_and_bad_input_is_refused():
    """Does a path that leaves every bound end in NaN (not inf), and are a batch size outside
    1..N and more steps than the horizon refused?"""
    path = optimizer_paths("Rosenbrock", ["SGD"], MAX_STEPS, lr_sgd=0.1)["SGD"]
    assert np.isnan(path[-1]).all() and np.isfinite(path[0]).all()
    with pytest.raises(ValueError, match="batch_size"):
        path_setting("SGD", "Beale", 1e-3, 0.1, 0.9, "constant", batch_size=0)
    with pytest.raises(ValueError, match="at most"):
        optimizer_paths("Saddle", ["Adam"], MAX_STEPS + 1)
    assert BATCH_SIZES[0] == 1 and BATCH_SIZES[-1] == NUM_EXAMPLES
