"""Tests for course.widgets.controls: every value a control can take, as the browser names it."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest

from course.widgets.controls import browser_value, control_grid, control_rows, default_settings, grid_index


def test_grids_step_as_the_sliders_do():
    """Does each kind of control list the values its slider steps through, ends included?"""
    assert control_grid(widgets.IntSlider(value=10, min=10, max=500, step=10)) == list(range(10, 501, 10))
    assert control_grid(widgets.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.01))[35] == 0.35
    log = control_grid(widgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0.5, step=0.25))
    np.testing.assert_allclose(log, 10 ** np.arange(-3, 0.51, 0.25))
    assert control_grid(widgets.SelectionSlider(options=[("a", 1), ("b", 4)], value=4)) == [1, 4]
    assert control_grid(widgets.Checkbox(value=False)) == [False, True]
    with pytest.raises(TypeError):
        control_grid(widgets.SelectMultiple(options=["x", "y"]))


def test_the_browser_sees_labels_of_selections():
    """Is a selection's value named by its label (what the browser has), a slider's by itself?"""
    sizes = widgets.SelectionSlider(options=[("1 (SGD)", 1), ("256 (full)", 256)], value=256)
    assert browser_value(sizes, 256) == "256 (full)"
    assert browser_value(widgets.SelectionSlider(options=[0.0, 0.5], value=0.5), 0.5) == "0.5"
    chosen = widgets.SelectMultiple(options=["SGD", "Adam", "NAdam"], value=("SGD", "NAdam"))
    assert browser_value(chosen, chosen.value) == ("SGD", "NAdam")
    assert browser_value(widgets.FloatSlider(value=0.25), 0.25) == 0.25


def test_nearest_grid_position_and_default_panels():
    """Is an off-grid value placed at its nearest step (on a log scale for a log slider), and do the
    default static panels take the first control's ends and middle?"""
    log = widgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0, step=1)
    assert grid_index(log, 0.02) == 1 and grid_index(log, 0.04) == 2
    assert default_settings({"k": widgets.IntSlider(value=3, min=0, max=10)}) == [{"k": 0}, {"k": 5}, {"k": 10}]
    assert default_settings({"c": widgets.Dropdown(options=["a", "b"])}) == [{"c": "a"}, {"c": "b"}]
    assert len(control_rows({str(i): widgets.IntSlider() for i in range(7)}, per_row=3)) == 3
