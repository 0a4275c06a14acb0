"""Tests for course.widgets.augmentation: strengths reach the transforms, with the draws the browser gets.

The browser's own pipeline (``augmentation.js``) is compared with :func:`augment_with` in
``tests/browser/test_widget_scripts_in_browser.py``.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from course.augment import affine, crop
from course.shapes import make_shapes
from course.plots import image_grid
from course.widgets.augmentation import STRENGTHS, augment_with, augmentation_explorer, draws, rgba_grid


@pytest.fixture(scope="module")
def shapes():
    return make_shapes(6, size=16, seed=0)[0]


def test_zero_strengths_leave_the_images_alone(shapes):
    """With every slider at 0, are the images unchanged (up to float rounding)?"""
    assert torch.allclose(augment_with(shapes), shapes, atol=1e-6)


def test_each_transform_uses_the_draws_the_browser_gets(shapes):
    """Alone, is each strength the course.augment transform with the random numbers that
    draws() sends the browser (flips below p, the crop offsets of its padding, the affine
    parameters spread over ±strength, the colour factors over 1 ± strength)?"""
    n = len(shapes)
    random = draws(n, seed=3)
    flipped = augment_with(shapes, seed=3, flip=0.5)
    expected = torch.where(torch.as_tensor(random["flip"] < 0.5).view(-1, 1, 1, 1), shapes.flip(-1), shapes)
    assert torch.allclose(flipped, expected, atol=1e-6)  # the identity affine map rounds a little
    padded = torch.nn.functional.pad(shapes, (3,) * 4, mode="reflect")
    top, left = (torch.as_tensor(random["crop"][3, k]).long() for k in (0, 1))
    assert torch.allclose(augment_with(shapes, seed=3, padding=3), crop(padded, top, left, 16, 16), atol=1e-6)
    u = torch.as_tensor(random["affine"], dtype=torch.float32)
    spread = lambda value, row: -value + 2 * value * u[row]  # noqa: E731 - U(-v, v) from a uniform draw
    expected = affine(shapes, angle=spread(20.0, 0), translate=torch.stack([spread(0.1, 1), spread(0.1, 2)], 1),
                      scale=1 + spread(0.2, 3), shear=spread(10.0, 4)).clamp(0, 1)
    got = augment_with(shapes, seed=3, degrees=20.0, translate=0.1, zoom=0.2, shear=10.0)
    assert torch.allclose(got, expected, atol=1e-5)  # float32 rounding of the sampling grid (1e-6 on [0, 1])
    factor = torch.as_tensor(1 - 0.4 + 0.8 * random["colour"][0], dtype=torch.float32)
    assert torch.allclose(augment_with(shapes, seed=3, brightness=0.4), (shapes * factor.view(-1, 1, 1, 1)).clamp(0, 1),
                          atol=1e-6)


def test_moving_one_slider_keeps_the_others_draws(shapes):
    """Does turning up brightness leave the rotation of each image as it was (its own generator),
    so that the browser can scale each transform's draws on its own?"""
    rotated = augment_with(shapes, seed=1, degrees=30.0)
    brighter = augment_with(shapes, seed=1, degrees=30.0, brightness=0.5)
    factor = torch.as_tensor(1 - 0.5 + draws(len(shapes), seed=1)["colour"][0], dtype=torch.float32)
    assert torch.allclose(brighter, (rotated * factor.view(-1, 1, 1, 1)).clamp(0, 1), atol=1e-6)


def test_every_strength_has_a_slider_range():
    """Does every strength start at 0 (no augmentation) with a positive maximum?"""
    for name, (low, high, step, what) in STRENGTHS.items():
        assert low == 0 and high > 0 and step > 0 and what


def test_the_drawn_grid_is_image_grids(shapes):
    """Is the RGBA grid the browser draws course.plots.image_grid's tiling (colour as is, gaps clear)?"""
    grid = rgba_grid(shapes, 4, titles=True)
    np.testing.assert_allclose(grid, image_grid(shapes, 4, titles=True), atol=1e-7)
    grey = rgba_grid(shapes[:, :1], 4, titles=False)
    reference = image_grid(shapes[:, :1], 4, titles=False)
    tiles = ~np.isnan(reference)
    np.testing.assert_allclose(grey[..., 0][tiles], reference[tiles], atol=1e-7)
    assert (grey[..., 3] == tiles).all()


def test_static_and_live(shapes):
    """Headless, one PNG with a panel per static setting; live, the browser gets the originals
    and the draws, and the layer's Python twin follows the sliders?"""
    static = augmentation_explorer(shapes, titles=list("abcdef"), static=True)
    assert len(static.settings) == 4 and Image.open(io.BytesIO(static.png())).size[1] > 100
    panels = [static.explorer.layer_data("images", {**static.explorer.values(), **s}).arrays[0]
              for s in static.settings]
    for setting, panel in zip(static.settings, panels):
        twin = rgba_grid(augment_with(shapes, 0, **{**static.explorer.values(), **setting}), 6, True)
        np.testing.assert_allclose(panel, twin.ravel())
    assert np.abs(panels[0] - panels[1]).max() > 0.1
    live = augmentation_explorer(shapes, titles=list("abcdef"), static=False)
    (data,) = live.explorer.inputs().values()
    np.testing.assert_allclose(data.arrays[0], shapes.numpy().ravel())
    before = live.explorer.compute("images", live.values()).arrays[0]
    live.set(degrees=40.0)
    after = live.explorer.compute("images", live.values()).arrays[0]
    assert np.abs(before - after).mean() > 0.01
    assert len(live.latencies) == 1
