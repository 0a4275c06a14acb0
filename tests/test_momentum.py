"""Tests for course.momentum: the look-ahead vectors against torch.optim.SGD, and the tuned rates."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course.momentum import lookahead, plot_lookahead, tuned_rates  # noqa: E402
from course.surfaces import BEALE, ILL_CONDITIONED  # noqa: E402

THETA, VELOCITY, LR, MU = np.array([1.2, 0.9]), np.array([0.3, -0.5]), 0.01, 0.9


def _torch_step(surface, start, buffer, lr, momentum, nesterov):
    """The oracle: one torch.optim.SGD step from ``start`` with a momentum buffer already there."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov)
    optimizer.state[p]["momentum_buffer"] = torch.tensor(buffer, dtype=torch.float64)
    p.grad = torch.tensor(surface.gradient(start), dtype=torch.float64)
    optimizer.step()
    return p.detach().numpy(), optimizer.state[p]["momentum_buffer"].numpy()


@pytest.mark.parametrize("surface", [BEALE, ILL_CONDITIONED], ids=lambda s: s.name)
def test_classical_step_is_torchs_momentum_step(surface):
    """Is θ + μu − η∇L(θ) what torch.optim.SGD(momentum=μ) does with the buffer b = −u/η?"""
    step = lookahead(surface, THETA, VELOCITY, LR, MU)
    end, _ = _torch_step(surface, THETA, -VELOCITY / LR, LR, MU, nesterov=False)
    np.testing.assert_allclose(step.classical_end, end, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(step.lookahead_point, THETA + MU * VELOCITY)


@pytest.mark.parametrize("surface", [BEALE, ILL_CONDITIONED], ids=lambda s: s.name)
def test_nesterov_step_is_torchs_nesterov_step_on_the_lookahead_point(surface):
    """torch stores φ = θ + μu: from φ, does SGD(nesterov=True) land on the next look-ahead point θ' + μu'?"""
    step = lookahead(surface, THETA, VELOCITY, LR, MU)
    phi = THETA + MU * VELOCITY
    end, buffer = _torch_step(surface, phi, -VELOCITY / LR, LR, MU, nesterov=True)
    new_velocity = step.nesterov_end - THETA
    np.testing.assert_allclose(buffer, -new_velocity / LR, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(end, step.nesterov_end + MU * new_velocity, rtol=1e-10, atol=1e-12)


def test_plot_lookahead_draws_the_step_it_computes():
    """Does the figure show both end points of the step it returns?"""
    ax, step = plot_lookahead(ILL_CONDITIONED, THETA, VELOCITY, 0.03, MU)
    drawn = {tuple(np.round(line.get_xydata()[0], 9)) for line in ax.lines if len(line.get_xydata())}
    assert tuple(np.round(step.classical_end, 9)) in drawn
    assert tuple(np.round(step.nesterov_end, 9)) in drawn
    assert len(ax.texts) + len(ax.patches) + len([c for c in ax.get_children() if hasattr(c, "arrow_patch")]) >= 4
    plt.close(ax.figure)


def _measured_rate(lr, momentum, curvatures=(1.0, 50.0), window=(300, 600)):
    """Per-step contraction of the distance to the minimum, measured by running torch.optim.SGD."""
    p = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=lr, momentum=momentum)
    h = torch.tensor(curvatures, dtype=torch.float64)
    distances = []
    for _ in range(window[1] + 1):
        distances.append(float(p.detach().norm()))
        p.grad = h * p.detach()
        optimizer.step()
    a, b = window
    return (distances[b] / distances[a]) ** (1 / (b - a))


def test_tuned_rates_are_the_rates_torch_sgd_achieves():
    """Do the formulas give the contraction that torch.optim.SGD measures on a κ = 50 quadratic?"""
    rates = tuned_rates(1.0, 50.0)
    assert rates.kappa == 50.0
    assert _measured_rate(rates.gd_lr, 0.0) == pytest.approx(rates.gd_rate, rel=1e-3)
    # at the tuned setting heavy ball's iteration matrix has a double eigenvalue: the distance
    # shrinks like t·r^t, so the measured rate over [300, 600] is r·2^(1/300)
    assert _measured_rate(rates.hb_lr, rates.hb_momentum) == pytest.approx(rates.hb_rate * 2 ** (1 / 300), rel=2e-3)
    gd_steps, hb_steps = rates.steps_to_shrink(1e-6)
    assert hb_steps < gd_steps / 5


def test_tuned_rates_reject_nonsense():
    """Negative or swapped curvatures: a clear error?"""
    with pytest.raises(ValueError):
        tuned_rates(0.0, 1.0)
    with pytest.raises(ValueError):
        tuned_rates(2.0, 1.0)
