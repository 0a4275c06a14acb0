"""The activation and initialization explorers: static figures, live updates."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from course.debugging_widgets import activation_explorer, initialization_explorer


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def test_static_figures(monkeypatch):
    """Headless, does each explorer draw its representative settings as one PNG?"""
    monkeypatch.setenv("COURSE_STATIC", "1")
    for explorer in (activation_explorer(), initialization_explorer(width=32)):
        assert explorer.static and len(explorer.static_settings) == 4
        assert pixels(explorer.png()).shape[0] > 100


def test_activation_choice_redraws(monkeypatch):
    """Live, does switching sigmoid to ReLU change the picture, and the slope slider for leaky ReLU?"""
    monkeypatch.setenv("COURSE_STATIC", "0")
    explorer = activation_explorer()
    first = pixels(explorer.png())
    explorer.set(activation="relu")
    second = pixels(explorer.png())
    explorer.set(activation="leaky_relu")
    third = pixels(explorer.png())
    explorer.set(negative_slope=0.4)
    fourth = pixels(explorer.png())
    assert np.abs(first - second).mean() > 0.1
    assert np.abs(third - fourth).mean() > 0.05


def test_initialization_depth_redraws(monkeypatch):
    """Live, does a deeper network redraw the statistics?"""
    monkeypatch.setenv("COURSE_STATIC", "0")
    explorer = initialization_explorer(width=32)
    before = pixels(explorer.png())
    explorer.set(depth=20, init="he", activation="relu")
    assert np.abs(before - pixels(explorer.png())).mean() > 0.1
