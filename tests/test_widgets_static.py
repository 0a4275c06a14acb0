"""Tests for course.widgets.static: when figures are static, and the panels they show."""
from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import pytest
from PIL import Image

from course.device import is_quick
from course.widgets import static as static_module
from course.widgets.explorer import Explorer
from course.widgets.layers import LayerData, line
from course.widgets.static import StaticFigure, is_static


@pytest.fixture
def no_env(monkeypatch):
    for name in ("COURSE_STATIC", "NBGRADER_EXECUTION", "COURSE_QUICK"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_course_static_forces_either_mode(no_env):
    """Does COURSE_STATIC=1 force the static figure and COURSE_STATIC=0 the live one, even in a quick run?"""
    no_env.setenv("COURSE_STATIC", "1")
    assert is_static()
    no_env.setenv("COURSE_STATIC", "0")
    no_env.setenv("COURSE_QUICK", "1")
    assert not is_static()
    no_env.setenv("COURSE_STATIC", "false")
    assert not is_static()


def test_quick_runs_are_static_and_the_rule_is_device_is_quick(no_env):
    """In a kernel, are autograding (NBGRADER_EXECUTION) and test/CI runs (COURSE_QUICK) headless,
    exactly when course.device.is_quick says the run is quick?"""
    no_env.setattr(static_module, "in_kernel", lambda: True)
    for variable, value in [(None, None), ("NBGRADER_EXECUTION", "autograde"), ("COURSE_QUICK", "1"),
                            ("COURSE_QUICK", "0"), ("COURSE_QUICK", "no")]:
        for name in ("NBGRADER_EXECUTION", "COURSE_QUICK"):
            no_env.delenv(name, raising=False)
        if variable:
            no_env.setenv(variable, value)
        assert is_static() == is_quick() == (value in ("autograde", "1")), (variable, value)


def test_a_flag_that_is_neither_is_an_error(no_env):
    """Is COURSE_STATIC=maybe refused with a message that names the accepted values?"""
    no_env.setenv("COURSE_STATIC", "maybe")
    with pytest.raises(ValueError, match="1/true/yes/on"):
        is_static()


def test_outside_a_kernel_is_static(no_env):
    """Is a plain Python process (no IPython kernel, like this test) treated as headless?"""
    assert is_static()


class Slope(Explorer):
    """A line of slope k through the origin."""

    figsize = (3.0, 2.0)

    def layers(self):
        return [{"name": "line", "deps": ["k"], "color": "#ff0000", "parts": [line(0, lw=4)]}]

    def draw_background(self, fig, values):
        ax = fig.add_subplot()
        ax.set(xlim=(0, 1), ylim=(-3, 3))
        return [ax]

    def data(self, name, values):
        self.calls = getattr(self, "calls", []) + [values["k"]]
        return LayerData([np.array([0.0, 0.0, 1.0, values["k"]])])


def red(png: bytes) -> np.ndarray:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    return (rgb[..., 0] > 200) & (rgb[..., 1] < 80)


def test_one_panel_per_setting_drawn_from_the_layer_data():
    """Does the static figure draw each setting's layer data in a panel of its own, side by side?"""
    explorer = Slope({"k": widgets.FloatSlider(value=0.0, min=-2, max=2)})
    figure = StaticFigure(explorer, [{"k": -2.0}, {"k": 2.0}])
    png = figure.png()
    assert explorer.calls == [-2.0, 2.0]
    mask = red(png)
    height, width = mask.shape
    assert width > 1.8 * height
    left, right = mask[:, : width // 2], mask[:, width // 2:]
    # slope -2 falls to the right: its red pixels are low on the right; slope 2 the other way
    rows_left = np.nonzero(left[:, left.shape[1] * 3 // 4])[0].mean()
    rows_right = np.nonzero(right[:, right.shape[1] * 3 // 4])[0].mean()
    assert rows_left > height / 2 > rows_right


def test_default_settings_span_the_first_slider():
    """Without static settings, are the first slider's minimum, middle and maximum shown?"""
    explorer = Slope({"k": widgets.FloatSlider(value=0.3, min=-2, max=2)})
    figure = explorer.show(static=True)
    assert figure.settings == [{"k": -2.0}, {"k": 0.0}, {"k": 2.0}]
    assert "image/png" in figure._repr_mimebundle_()
