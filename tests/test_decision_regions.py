"""Decision regions of 2-D classifiers, checked against the rule the model implements."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course.decision_regions import decision_grid, plot_decision_regions  # noqa: E402


def half_plane_model():
    """Two logits (0, x0 - 2 x1): class 1 exactly where x0 > 2 x1."""
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, -2.0]]))
        model.bias.zero_()
    return model


def test_the_grid_covers_the_data_with_a_margin_and_follows_the_rule():
    """Does the grid span the data ± margin, and is each cell's class the half-plane rule (NumPy)?"""
    X = np.array([[-1.0, 0.0], [3.0, 2.0], [0.5, -1.0]])
    xx, yy, classes = decision_grid(half_plane_model(), X, resolution=41, margin=0.5)
    assert xx.shape == yy.shape == classes.shape == (41, 41)
    assert (xx.min(), xx.max(), yy.min(), yy.max()) == pytest.approx((-1.5, 3.5, -1.5, 2.5))
    rule = (xx > 2 * yy).astype(int)
    off_boundary = np.abs(xx - 2 * yy) > 1e-5
    assert np.array_equal(classes[off_boundary], rule[off_boundary])


def test_one_logit_means_logit_above_zero_and_the_mode_is_restored():
    """For a single-output model, is the class 'logit > 0', in eval mode, with the training mode restored?"""
    model = nn.Sequential(nn.Linear(2, 1), nn.Dropout(0.9))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.0, 1.0]]))
        model[0].bias.zero_()
    model.train()
    X = np.array([[0.0, -1.0], [1.0, 1.0]])
    xx, yy, classes = decision_grid(model, X, resolution=30, margin=0.25)
    assert np.array_equal(classes, (yy > 0).astype(int))       # no dropout noise: evaluated in eval mode
    assert model.training


def test_bad_inputs_and_the_plot():
    """Are 3-feature points refused, and does the plot draw the regions and one scatter per class?"""
    with pytest.raises(ValueError, match="two features"):
        decision_grid(nn.Linear(3, 2), np.zeros((4, 3)))
    X = np.array([[-1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [1.0, -1.0]])
    y = np.array([0, 1, 0, 1])
    fig, ax = plt.subplots()
    plot_decision_regions(half_plane_model(), X, y, ax=ax, resolution=20, title="half plane")
    assert len(ax.collections) >= 2 + 2                         # filled regions, boundary, two scatters
    assert ax.get_title() == "half plane"
    plt.close(fig)
