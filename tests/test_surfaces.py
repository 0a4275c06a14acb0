"""Tests for course.surfaces: closed-form gradients, recorded optimizer paths, least squares."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course.surfaces import (BEALE, ILL_CONDITIONED, ROSENBROCK, SURFACES, PathRecorder,
                             least_squares_surface, optimizer_path, step_path)

coordinate = st.floats(min_value=-2.5, max_value=2.5, allow_nan=False)


def _autograd_path(surface, optimizer_cls, num_steps, **hyper):
    """The plain torch loop: autograd closure, one step at a time."""
    p = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    optimizer = optimizer_cls([p], **hyper)

    def closure():
        optimizer.zero_grad()
        loss = surface.f(p)
        loss.backward()
        return loss

    points = [p.detach().numpy().copy()]
    for _ in range(num_steps):
        optimizer.step(closure)
        points.append(p.detach().numpy().copy())
    return np.array(points)


@pytest.mark.parametrize("surface", list(SURFACES.values()), ids=list(SURFACES))
@settings(max_examples=25, deadline=None)
@given(x=coordinate, y=coordinate)
def test_closed_form_gradient_matches_autograd(surface, x, y):
    """Does each surface's closed-form gradient agree with torch autograd?"""
    value, grad = surface.value_and_grad(x, y)
    expected = surface.gradient((x, y))
    np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-9)
    assert value == pytest.approx(float(surface.f(np.array([x, y]))))


@pytest.mark.parametrize("surface", list(SURFACES.values()), ids=list(SURFACES))
def test_minimum_is_stationary(surface):
    """Is the advertised minimum a point where the gradient vanishes?"""
    np.testing.assert_allclose(surface.gradient(surface.minimum), 0.0, atol=1e-9)


def test_beale_is_the_lecture_surface():
    """Does Beale start at (0.8, 1.6) with its minimum value 0 at (3, 0.5)?"""
    assert BEALE.start == (0.8, 1.6)
    assert BEALE.minimum == (3.0, 0.5)
    assert float(BEALE.f(np.array(BEALE.minimum))) == 0.0


@pytest.mark.parametrize("optimizer_cls, hyper", [
    (torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    (torch.optim.Adam, {"lr": 0.05}),
    (torch.optim.RMSprop, {"lr": 0.01}),
    (torch.optim.LBFGS, {"lr": 1, "max_iter": 1, "max_eval": 25, "line_search_fn": "strong_wolfe"}),
])
def test_recorded_path_matches_a_plain_torch_loop(optimizer_cls, hyper):
    """Is the fast path (closed-form gradient) the path of the usual autograd training loop?"""
    fast = optimizer_path(BEALE, optimizer_cls, 60, **hyper)
    np.testing.assert_allclose(fast, _autograd_path(BEALE, optimizer_cls, 60, **hyper), rtol=1e-7, atol=1e-9)


def test_path_grows_without_recomputing():
    """Do two calls (40 steps, then 100) give the path of one 100-step run?"""
    recorder = PathRecorder(ROSENBROCK, torch.optim.Adam, lr=0.05)
    short = recorder.path(40)
    long = recorder.path(100)
    np.testing.assert_array_equal(long[:41], short)
    np.testing.assert_array_equal(long, optimizer_path(ROSENBROCK, torch.optim.Adam, 100, lr=0.05))
    assert len(recorder.points) == 101


def test_diverging_path_is_cut_and_padded():
    """Does a learning rate far too large give a finite prefix followed by NaN?"""
    path = optimizer_path(ROSENBROCK, torch.optim.SGD, 50, lr=0.1)
    finite = ~np.isnan(path[:, 0])
    assert finite[0] and not finite[-1]
    first_nan = int(np.argmin(finite))
    assert finite[:first_nan].all() and not finite[first_nan:].any()


def test_plateau_scheduler_watches_the_surface():
    """Is ReduceLROnPlateau fed the surface's value: the same drops as a scheduler given f(x_k)?"""
    # lr = 2/50 makes y bounce between ±1 forever: the loss stalls at 25 until the lr drops
    plateau = lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=5)
    recorder = PathRecorder(ILL_CONDITIONED, torch.optim.SGD, lr=0.04, scheduler=plateau)
    path = recorder.path(200)
    dummy = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.04)
    oracle = plateau(dummy)
    expected = []
    for point in path[:-1]:
        expected.append(dummy.param_groups[0]["lr"])
        oracle.step(float(ILL_CONDITIONED.f(point)))
    assert recorder.lrs == pytest.approx(expected)
    assert recorder.lrs[-1] < 0.04  # it did drop
    assert float(ILL_CONDITIONED.f(path[-1])) < 1e-2  # and then converged


@pytest.mark.parametrize("surface", list(SURFACES.values()), ids=list(SURFACES))
def test_hand_written_step_path_follows_torchs_sgd(surface):
    """Does a hand-written momentum step, run by step_path, trace the path of torch.optim.SGD
    in the plain autograd loop (the assignment's figure puts the two side by side)?"""
    def momentum_step(param, grad, state, lr, momentum):
        state["buf"] = grad if "buf" not in state else momentum * state["buf"] + grad
        return param - lr * state["buf"]

    mine = step_path(surface, momentum_step, 60, lr=1e-3, momentum=0.9)
    theirs = _autograd_path(surface, torch.optim.SGD, 60, lr=1e-3, momentum=0.9)
    np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-9)


def test_hand_written_step_path_is_cut_where_it_diverges():
    """Is a path that leaves every bound cut at its last finite point and padded with NaN?"""
    path = step_path(ROSENBROCK, lambda p, g, state, lr: p - lr * g, 50, lr=1.0)
    finite = np.isfinite(path).all(axis=1)
    assert finite[0] and not finite[-1]
    assert not finite[np.argmin(finite):].any()
    assert np.abs(path[finite]).max() <= 1e6


def test_ill_conditioned_quadratic_has_condition_number_50():
    """Is the Hessian's condition number of the ill-conditioned quadratic 50 (torch's Hessian)?"""
    hessian = torch.autograd.functional.hessian(ILL_CONDITIONED.f, torch.zeros(2, dtype=torch.float64))
    eigenvalues = torch.linalg.eigvalsh(hessian)
    assert float(eigenvalues.max() / eigenvalues.min()) == pytest.approx(50.0)


def test_least_squares_surface_against_numpy():
    """Is the least-squares surface ½·mean((Xw−y)²), with numpy's lstsq solution as its minimum?"""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)) * np.array([1.0, 20.0])
    y = X @ np.array([2.0, -0.1]) + rng.normal(scale=0.1, size=100)
    surface = least_squares_surface(X, y)
    w_lstsq = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(surface.minimum, w_lstsq, rtol=1e-8)
    for w in ([0.0, 0.0], [1.0, 0.5], w_lstsq):
        w = np.asarray(w)
        assert float(surface.f(w)) == pytest.approx(0.5 * np.mean((X @ w - y) ** 2))
        np.testing.assert_allclose(surface.value_and_grad(*w)[1], surface.gradient(w), atol=1e-9)
    lo, hi = surface.xlim
    assert lo < surface.start[0] < hi and lo < surface.minimum[0] < hi


def test_least_squares_condition_number_falls_with_standardizing():
    """Do standardized features give round contours (Hessian condition number near 1)?"""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2)) * np.array([1.0, 30.0]) + np.array([0.0, 50.0])
    y = X @ np.array([1.0, 0.05])
    Xs = (X - X.mean(0)) / X.std(0)
    for data, bound in ((X, 1e3), (Xs, 1.5)):
        hessian = torch.autograd.functional.hessian(
            least_squares_surface(data, y).f, torch.zeros(2, dtype=torch.float64))
        condition = float(torch.linalg.cond(hessian))
        assert (condition > bound) if bound > 10 else (condition < bound)
