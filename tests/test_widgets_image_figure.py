"""Tests for course.widgets.image_figure: a figure the kernel redraws per change, and its static panels."""
from __future__ import annotations

import base64
import io

import ipywidgets as widgets
import numpy as np
import pytest
from PIL import Image

from course.widgets.image_figure import interactive_figure


def _build_line(calls):
    """A figure with one animated line whose slope is the control ``k``."""

    def build(fig, k, label="a"):
        calls.append(("build", k, label))
        ax = fig.add_subplot()
        x = np.linspace(0, 1, 50)
        ax.set(xlim=(0, 1), ylim=(-3, 3))
        line, = ax.plot(x, k * x, color="red", lw=4, animated=True)

        def update(k, label="a"):
            calls.append(("update", k, label))
            line.set_ydata(k * x)

        return update

    return build


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=float)


def test_live_slider_moves_the_artist():
    """Does moving the slider call update (not build) and change the pixels of the frame?"""
    calls = []
    k = widgets.FloatSlider(value=0.0, min=-2, max=2)
    fig = interactive_figure(_build_line(calls), {"k": k}, static=False)
    first = fig.image.value
    fig.set(k=2.0)
    assert [c[0] for c in calls] == ["build", "update"]
    assert calls[-1] == ("update", 2.0, "a")
    assert fig.image.value != first
    difference = np.abs(_pixels(fig.image.value) - _pixels(first)).max(axis=-1)
    assert (difference > 100).mean() > 0.005  # the red line really moved
    assert len(fig.latencies) == 1 and 0 < fig.latencies[0] < 5


def test_blitting_matches_a_full_redraw():
    """Is a blitted frame (background reused) the same picture as drawing everything again?"""
    calls = []
    live = interactive_figure(_build_line(calls), {"k": widgets.FloatSlider(value=0.0, min=-2, max=2)},
                              static=False)
    live.set(k=1.5)
    fresh = interactive_figure(_build_line(calls), {"k": widgets.FloatSlider(value=1.5, min=-2, max=2)},
                               static=False)
    assert np.abs(_pixels(live.image.value) - _pixels(fresh.image.value)).mean() < 1.0


def test_update_asking_for_a_full_redraw_redraws_the_background():
    """When update returns True, does a change to a non-animated artist (a text) show?"""

    def build(fig, title):
        ax = fig.add_subplot()
        text = ax.text(0.5, 0.5, title, fontsize=30, ha="center")

        def update(title):
            text.set_text(title)
            return True

        return update

    control = widgets.Dropdown(options=["", "MMMMMM"], value="")
    fig = interactive_figure(build, {"title": control}, static=False)
    before = fig.image.value
    fig.set(title="MMMMMM")
    assert np.abs(_pixels(fig.image.value) - _pixels(before)).max() > 100


def test_static_figure_has_one_panel_per_setting():
    """Does the static figure draw every representative setting, with build and no update?"""
    calls = []
    fig = interactive_figure(_build_line(calls), {"k": widgets.FloatSlider(value=0.0, min=-2, max=2)},
                             static_settings=[{"k": -1.0}, {"k": 1.0, "label": "b"}], static=True)
    assert fig.image is None  # nothing live was created
    png = fig.png()
    assert png.startswith(b"\x89PNG")
    assert calls == [("build", -1.0, "a"), ("build", 1.0, "b")]
    width, height = Image.open(io.BytesIO(png)).size
    assert width > 1.8 * height  # two panels side by side


def test_default_static_settings_span_the_first_slider():
    """Without static_settings, are the first slider's minimum, middle and maximum shown?"""
    calls = []
    fig = interactive_figure(_build_line(calls), {"k": widgets.FloatSlider(value=0.3, min=-2, max=2)},
                             static=True)
    fig.png()
    assert [c[1] for c in calls] == [-2.0, 0.0, 2.0]
    log = interactive_figure(_build_line(calls), {"k": widgets.FloatLogSlider(value=0.1, base=10, min=-3,
                                                                               max=-1)}, static=True)
    assert [s["k"] for s in log.static_settings] == pytest.approx([1e-3, 1e-2, 1e-1])


def test_mimebundles_always_carry_a_png():
    """Do both modes put an image/png in the output, and only the live one a widget view?"""
    calls = []
    for static in (True, False):
        fig = interactive_figure(_build_line(calls), {"k": widgets.FloatSlider(value=1.0, min=-2, max=2)},
                                 static=static)
        bundle = fig._repr_mimebundle_()
        assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
        assert ("application/vnd.jupyter.widget-view+json" in bundle) is (not static)


def test_live_png_shows_the_animated_artists():
    """Does the PNG saved with a live figure contain the moving line too (not only the background)?"""
    calls = []
    fig = interactive_figure(_build_line(calls), {"k": widgets.FloatSlider(value=2.0, min=-2, max=2)},
                             static=False)
    red = _pixels(fig.png())
    assert ((red[..., 0] > 200) & (red[..., 1] < 80)).sum() > 50
    before = fig.image.value
    fig.set(k=-2.0)  # blitting still works after savefig drew over the canvas
    assert np.abs(_pixels(fig.image.value) - _pixels(before)).max() > 100
