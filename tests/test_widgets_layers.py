"""Tests for course.widgets.layers: the parts of a layer, drawn by matplotlib as the browser draws them."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course.widgets.layers import LayerData, cells, colormap, draw_layer, finite_prefix, image, line, marker, text


def axes():
    ax = Figure().add_subplot()
    ax.set(xlim=(0, 10), ylim=(0, 10))
    return ax


def test_a_line_stops_where_the_path_diverged_and_at_the_steps():
    """Does a line end before its first non-finite point (as the browser's), and show only
    ``steps + 1`` points when it follows the steps control?"""
    path = np.array([0, 0, 1, 1, 2, 4, np.inf, 5, 6, 6], dtype=float)
    np.testing.assert_array_equal(finite_prefix(path.reshape(-1, 2)), [[0, 0], [1, 1], [2, 4]])
    ax = axes()
    layer = {"name": "a", "color": "#ff0000", "parts": [line(0, steps=True, markers=marker("o", 3))]}
    first = draw_layer([ax], layer, LayerData([path]), steps=1)
    np.testing.assert_array_equal(first.get_xydata(), [[0, 0], [1, 1]])
    assert first.get_color() == "#ff0000" and ax.lines[1].get_marker() == "o"


def test_values_over_their_index_and_a_vertical_line_in_axes_coordinates():
    """Are index values drawn at x0 + dx·i, and does ycoords='axes' span the axes' height?"""
    ax = axes()
    layer = {"name": "a", "color": "#000000",
             "parts": [line(0, xy=False, x0=1, dx=2), line(1, ycoords="axes", dash=(4, 2))]}
    draw_layer([ax], layer, LayerData([np.array([5.0, 6.0, 7.0]), np.array([3.0, 0.0, 3.0, 1.0])]))
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), [[1, 5], [3, 6], [5, 7]])
    assert ax.lines[1].get_transform() != ax.transData and ax.lines[1].get_linestyle() == "--"


def test_texts_cells_and_images_keep_the_axes_limits():
    """Do a text (its own colour when the data gives one), a grid of cells and an image appear
    without moving the limits the background set?"""
    ax = axes()
    layer = {"name": "a", "color": "#000000",
             "parts": [text(0, 0.5, 0.5), cells(0, 2, 2, extent=(0, 2, 2, 0), cmap="Blues", vmin=0, vmax=4),
                       image(1, 2, 1, extent=(5, 7, 6, 5))]}
    draw_layer([ax], layer, LayerData([np.array([1.0, 2, 3, 4]), np.ones(8)], [{"text": "TP\n4", "color": "white"}]))
    assert ax.texts[0].get_text() == "TP\n4" and ax.texts[0].get_color() == "white"
    assert ax.get_xlim() == (0, 10) and ax.get_ylim() == (0, 10)
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 2], [3, 4]])
    assert ax.images[1].get_array().shape == (1, 2, 4)
    assert len(colormap("Blues")) == 256 and colormap("Blues")[0].startswith("#")
