"""Shared figures: image grids, layer statistics, the learning-rate range test, embeddings."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from course.diagnostics import LRRangeTest  # noqa: E402
from course.plots import (image_array, image_grid, plot_embedding, plot_layer_stats, plot_lr_range,  # noqa: E402
                          show_images)


def test_image_array_layouts():
    """Grey (1, H, W) becomes (H, W); colour (3, H, W) becomes (H, W, 3) clipped to [0, 1]?"""
    assert image_array(torch.zeros(1, 4, 5)).shape == (4, 5)
    colour = image_array(torch.full((3, 4, 5), 2.0))
    assert colour.shape == (4, 5, 3) and colour.max() == 1.0


def test_image_grid_places_every_image_in_its_tile():
    """Is image i at row i // ncols, column i % ncols, with transparent gaps in between?"""
    X = torch.rand(5, 3, 6, 4)
    grid = image_grid(X, ncols=3)                     # gaps: 1 pixel between columns, 1 above rows
    assert grid.shape == (2 * (6 + 1), 3 * 4 + 2, 4)
    for i in range(5):
        row, col = divmod(i, 3)
        top, left = row * 7 + 1, col * 5
        np.testing.assert_allclose(grid[top:top + 6, left:left + 4, :3], image_array(X[i]))
        assert np.all(grid[top:top + 6, left:left + 4, 3] == 1.0)
    assert np.all(grid[:, 4, 3] == 0.0)                       # the gap after the first column
    grey = image_grid(torch.rand(2, 1, 3, 3), ncols=2)
    assert grey.ndim == 2 and np.isnan(grey[:, 3]).all() and not np.isnan(grey[1:, :3]).any()


def test_show_images_is_one_picture_with_titles():
    """One imshow for the whole grid, one title text per image, in order?"""
    fig = plt.figure()
    artist = show_images(torch.rand(5, 3, 6, 6), titles=list("abcde"), ncols=3, fig=fig)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and list(ax.images) == [artist]
    assert [t.get_text() for t in ax.texts] == list("abcde")
    plt.close(fig)


def test_layer_stats_and_lr_range_and_embedding_plots():
    """Does each plot draw the data it is given (one line per layer, both loss curves, one scatter per class)?"""
    _, ax = plt.subplots()
    plot_layer_stats({"0.weight": {"grad_norm": [1.0, 0.5]}, "2.weight": {"grad_norm": [2.0, 1.0]}}, ax=ax)
    assert [list(line.get_ydata()) for line in ax.lines] == [[1.0, 0.5], [2.0, 1.0]]
    _, ax = plt.subplots()
    result = LRRangeTest(lrs=[1e-3, 1e-2, 1e-1], losses=[2.3, 2.0, 3.0], smoothed=[2.3, 2.1, 2.4])
    plot_lr_range(result, ax=ax)
    assert list(ax.lines[1].get_ydata()) == [2.3, 2.1, 2.4] and ax.get_xscale() == "log"
    _, ax = plt.subplots()
    plot_embedding(np.random.rand(30, 2), np.repeat([0, 1, 2], 10), ax=ax, class_names=["a", "b", "c"])
    assert len(ax.collections) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    plt.close("all")


def test_live_curves_draw_once_at_the_end_when_headless(monkeypatch):
    """Headless, does LiveCurves skip the per-epoch frames and draw the final curves once,
    with every epoch in them?"""
    import torch

    from course.plots import LiveCurves
    from course.training import fit

    monkeypatch.setenv("COURSE_STATIC", "1")
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda fig, display_id=None: shown.append(fig) or None)
    curves = LiveCurves()
    X, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    model = torch.nn.Linear(4, 2)
    fit(model, (X, y), torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
        num_epochs=5, device="cpu", progress=False, callbacks=[curves])
    assert len(shown) == 1
    (line,) = curves.ax.get_lines()
    assert len(line.get_xdata()) == 5


def test_plot_shared_statistics_shades_what_the_normalization_pools():
    """Does each panel shade exactly course.normalization.shared_statistics' mask (itself checked against torch)?"""
    from course.normalization import shared_statistics
    from course.plots import plot_shared_statistics

    kinds = ("batch", "ghost", "layer", "instance", "group")
    axes = plot_shared_statistics(kinds, num_examples=4, num_channels=6, groups=3, group_size=2)
    for ax, kind in zip(axes, kinds):
        shaded = np.asarray(ax.images[0].get_array()) > 0.5
        expected = shared_statistics(kind, 4, 6, groups=3, group_size=2).numpy()
        assert np.array_equal(shaded, expected), kind
    assert axes[4].get_title() == "GroupNorm, G = 3"


def test_layer_stats_per_step_are_drawn_over_optimizer_steps():
    """For a per-step key, is the x axis the optimizer step and is every step drawn?"""
    _, ax = plt.subplots()
    ratios = list(np.geomspace(1e-2, 1e-4, 120))
    plot_layer_stats({"0.weight": {"step_update_ratio": ratios}}, key="step_update_ratio", ax=ax)
    assert ax.get_xlabel() == "optimizer step" and len(ax.lines[0].get_ydata()) == 120
    plt.close("all")
