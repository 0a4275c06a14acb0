"""Tests for course.widgets.explorer: what an explorer computes ahead, and in which order."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course.widgets.explorer import Explorer
from course.widgets.layers import LayerData, line


class Grid(Explorer):
    """A layer over two sliders, one browser-computed layer, a background over one drop-down."""

    background_deps = ("panel",)
    cache_size = 5

    def layers(self):
        return [{"name": "kernel", "deps": ["a", "b"], "color": "#000000", "parts": [line(0)]},
                {"name": "browser", "deps": [], "compute": "x", "inputs": "x", "color": "#000000", "parts": []}]

    def draw_background(self, fig, values):
        return [fig.add_subplot()]

    def data(self, name, values):
        self.calls = getattr(self, "calls", 0) + 1
        return LayerData([np.array([values["a"], values["b"]], dtype=float)])


def grid():
    return Grid({"a": widgets.IntSlider(value=2, min=0, max=4), "b": widgets.IntSlider(value=0, min=0, max=2),
                 "panel": widgets.Dropdown(options=["x", "y"], value="x")})


def test_every_reachable_setting_once_nearest_first():
    """Are all 15 settings of the kernel's layer and both backgrounds listed once, fewest steps
    away first, never the browser's layer?"""
    explorer = grid()
    items = list(explorer.ahead(explorer.values()))
    layers = [(s["a"], s["b"]) for kind, name, s in items if kind == "layer"]
    assert sorted(layers) == sorted((a, b) for a in range(5) for b in range(3))
    distances = [abs(a - 2) + abs(b - 0) for a, b in layers]
    assert distances == sorted(distances)
    assert [s["panel"] for kind, _, s in items if kind == "background"] == ["x", "y"]
    assert all(name != "browser" for _, name, _ in items)


def test_the_moved_control_goes_first_among_equals():
    """At the same distance, do the settings along the control just moved come first?"""
    explorer = grid()
    items = [s for kind, _, s in explorer.ahead(explorer.values(), moved="b") if kind == "layer"]
    one_away = [(s["a"], s["b"]) for s in items if abs(s["a"] - 2) + s["b"] == 1]
    assert one_away[0] == (2, 1)


def test_layer_data_is_cached_within_its_size():
    """Is a setting computed once, and are the oldest settings dropped beyond cache_size?"""
    explorer = grid()
    for a in range(5):
        explorer.layer_data("kernel", {**explorer.values(), "a": a})
    explorer.layer_data("kernel", {**explorer.values(), "a": 4})
    assert explorer.calls == 5
    assert explorer.cached(explorer.layer_key("kernel", {**explorer.values(), "a": 0})) is not None
    explorer.layer_data("kernel", {**explorer.values(), "b": 2})
    assert explorer.cached(explorer.layer_key("kernel", {**explorer.values(), "a": 0})) is None
