"""The augmentation explorer: strengths reach the transforms, static and live figures appear."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from course.augment import color_jitter, hflip, random_affine, random_crop
from course.augment_widgets import STRENGTHS, augment_with, augmentation_explorer
from course.shapes import make_shapes


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


@pytest.fixture(scope="module")
def shapes():
    return make_shapes(6, size=16, seed=0)[0]


def test_zero_strengths_leave_the_images_alone(shapes):
    """With every slider at 0, are the images unchanged (up to float rounding)?"""
    assert torch.allclose(augment_with(shapes), shapes, atol=1e-6)


def test_strengths_are_the_transform_arguments(shapes):
    """Is augment_with the flip, crop, affine and jitter pipeline with those arguments and one seed?"""
    generator = torch.Generator().manual_seed(4)
    X = hflip(shapes, p=0.5, generator=generator)
    X = random_crop(X, padding=2, generator=generator)
    X = random_affine(X, degrees=20, translate=0.1, scale=(0.8, 1.2), shear=5, generator=generator)
    expected = color_jitter(X, 0.2, 0.3, 0.4, 0.1, generator=generator)
    out = augment_with(shapes, seed=4, flip=0.5, padding=2, degrees=20, translate=0.1, zoom=0.2, shear=5,
                       brightness=0.2, contrast=0.3, saturation=0.4, hue=0.1)
    assert torch.equal(out, expected)


def test_every_strength_has_a_slider_range():
    """Does every strength start at 0 (no augmentation) with a positive maximum?"""
    for name, (low, high, step, what) in STRENGTHS.items():
        assert low == 0 and high > 0 and step > 0 and what


def test_static_figure(shapes, monkeypatch):
    """Headless, is there one PNG with a panel per static setting?"""
    monkeypatch.setenv("COURSE_STATIC", "1")
    explorer = augmentation_explorer(shapes, titles=list("abcdef"))
    assert explorer.static and pixels(explorer.png()).shape[0] > 100
    assert "image/png" in explorer._repr_mimebundle_()


def test_live_slider_changes_the_picture(shapes, monkeypatch):
    """Live, does moving the rotation slider redraw different images?"""
    monkeypatch.setenv("COURSE_STATIC", "0")
    explorer = augmentation_explorer(shapes)
    before = pixels(explorer.png())
    explorer.set(degrees=40.0)
    after = pixels(explorer.png())
    assert before.shape == after.shape and np.abs(before - after).mean() > 1
    assert len(explorer.latencies) == 1
