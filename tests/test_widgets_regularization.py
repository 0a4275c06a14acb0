"""Tests for course.widgets.regularization: the grid explorer chooses on validation, reports on test."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from course.regularization_grid import choose_on_validation
from course.widgets.regularization import regularization_explorer


def history(train, val, val_acc, test_acc):
    return {"train_loss": train, "val_loss": val, "val_acc": val_acc, "test_acc": test_acc}


@pytest.fixture
def runs():
    """Four runs whose best validation accuracy (p 0.5, wd 0) is not their best test accuracy."""
    return {(0.0, 0.0): history([1.0, 0.2], [1.1, 0.9], [0.7, 0.80], [0.70, 0.95]),
            (0.0, 1.0): history([1.0, 0.5], [1.1, 0.6], [0.7, 0.85], [0.70, 0.80]),
            (0.5, 0.0): history([1.0, 0.4], [1.0, 0.5], [0.7, 0.90], [0.70, 0.82]),
            (0.5, 1.0): history([1.0, 0.8], [1.0, 0.8], [0.6, 0.60], [0.60, 0.61])}


def test_the_star_is_the_validation_winner_with_its_test_figure(runs):
    """Does the explorer star the run with the best validation accuracy and print that run's test
    accuracy (not the best test accuracy of the grid)?"""
    figure = regularization_explorer(runs, static=False, prefetch=False)
    explorer = figure.explorer
    assert explorer.chosen == choose_on_validation(runs) == (0.5, 0.0)
    fig_axes = explorer.draw_background(_figure(), explorer.values())
    title = fig_axes[1].get_title()
    assert "chosen on validation" in title and "test accuracy 0.820" in title
    stars = [t.get_text() for t in fig_axes[1].texts if t.get_text().startswith("★")]
    assert stars == ["★0.90"]


def test_runs_without_test_metrics_are_refused(runs):
    """Are runs trained without test data refused, with the fix in the message?"""
    bare = {key: {k: v for k, v in h.items() if k != "test_acc"} for key, h in runs.items()}
    with pytest.raises(ValueError, match="test_data=split.test"):
        regularization_explorer(bare, static=True)


def test_each_run_is_sent_with_its_curves_and_frame(runs):
    """Is every (dropout, weight decay) run's data its training and validation curves and the
    position of its cell on the grid, all computed ahead?"""
    figure = regularization_explorer(runs, static=False, prefetch=False)
    figure.compute_ahead()
    explorer = figure.explorer
    for (p, wd), h in runs.items():
        data = explorer.cached(explorer.layer_key("run", {"dropout": p, "weight_decay": wd}))
        np.testing.assert_array_equal(data.arrays[0].reshape(-1, 2), [[1, h["train_loss"][0]], [2, h["train_loss"][1]]])
        np.testing.assert_array_equal(data.arrays[1].reshape(-1, 2)[:, 1], h["val_loss"])
        np.testing.assert_array_equal(data.arrays[2], [[0.0, 1.0].index(wd), [0.0, 0.5].index(p)])


def test_static_figure_shows_the_corners_and_the_winner(runs):
    """Headless, are the four corners shown (the winner among them), as one PNG?"""
    figure = regularization_explorer(runs, static=True)
    assert [(s["dropout"], s["weight_decay"]) for s in figure.settings] == [(0.0, 0.0), (0.5, 0.0), (0.0, 1.0),
                                                                           (0.5, 1.0)]
    assert Image.open(io.BytesIO(figure.png())).size[1] > 200


def _figure():
    from matplotlib.figure import Figure

    return Figure(figsize=(8.5, 3.4))
