"""The generated image set (course.shapes): deterministic, balanced, and the label is the shape alone."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import chisquare
from sklearn.linear_model import LogisticRegression

from course.shapes import DEFAULT_STYLE, SHAPE_NAMES, TEST_SEED, VAL_SEED, make_shapes, shape_masks


def test_images_are_colour_32x32_in_the_unit_range_with_ten_labels():
    """Are the images (n, 3, 32, 32) float32 in [0, 1], with int64 labels naming the ten shapes?"""
    X, y = make_shapes(500, seed=0)
    assert X.shape == (500, 3, 32, 32) and X.dtype == torch.float32
    assert float(X.min()) >= 0.0 and float(X.max()) <= 1.0
    assert y.dtype == torch.int64 and set(y.tolist()) == set(range(len(SHAPE_NAMES))) == set(range(10))


def test_the_same_seed_gives_the_same_images_and_another_seed_others():
    """Is a seed a data set: the same images twice, different images for another seed?"""
    X1, y1 = make_shapes(300, seed=3)
    X2, y2 = make_shapes(300, seed=3)
    X3, _ = make_shapes(300, seed=4)
    assert torch.equal(X1, X2) and torch.equal(y1, y2)
    assert not torch.allclose(X1, X3)


@pytest.mark.parametrize("small, large", [(1, 7), (255, 256), (256, 257), (300, 1000)])
def test_a_smaller_set_is_the_start_of_a_larger_one(small, large):
    """Are the first k images of a set of n the set of k, so nested training sets are subsets?"""
    X_small, y_small = make_shapes(small, seed=5)
    X_large, y_large = make_shapes(large, seed=5)
    assert torch.equal(X_large[:small], X_small) and torch.equal(y_large[:small], y_small)


def test_held_out_seeds_differ_from_training_seeds():
    """Do validation and test images come from seeds no small training seed reaches?"""
    assert VAL_SEED != TEST_SEED and min(VAL_SEED, TEST_SEED) > 10_000


def test_classes_are_balanced():
    """Are the ten labels drawn uniformly (a chi-square test on 5,000 labels does not reject it)?"""
    _, y = make_shapes(5000, seed=1)
    counts = np.bincount(y.numpy(), minlength=10)
    assert chisquare(counts).pvalue > 1e-3


def test_the_label_does_not_hide_in_the_colour():
    """Is a classifier on each image's mean colour and brightness spread close to chance (10%)?"""
    X, y = make_shapes(3000, seed=2)
    features = torch.cat([X.mean(dim=(2, 3)), X.std(dim=(2, 3))], dim=1).numpy()
    clf = LogisticRegression(max_iter=2000).fit(features[:2000], y[:2000].numpy())
    assert clf.score(features[2000:], y[2000:].numpy()) < 0.2


# analytic areas in units of the radius squared, for the silhouettes as course.shapes defines them
_AREAS = {
    "circle": math.pi,
    "ring": math.pi * (1.0 ** 2 - 0.44 ** 2),
    "square": 1.6 ** 2,
    "frame": (2 * 0.82) ** 2 - (2 * 0.38) ** 2,  # a band of half-width 0.22 around half-side 0.6
    "triangle": 3 * math.sqrt(3) / 4 * 1.0 ** 2,  # circumradius 1 (inradius 0.5)
    "cross": 4 * 0.33 * 2 * 1.0 - (2 * 0.33) ** 2,
    "ellipse": math.pi * 1.0 * 0.5,
}


@pytest.mark.parametrize("name", sorted(_AREAS))
def test_each_silhouette_has_the_area_geometry_gives_it(name):
    """Does each drawn silhouette cover the area of its geometric definition (within 2%)?"""
    size, radius = 256, 0.8
    mask = shape_masks(size=size, radius=radius)[SHAPE_NAMES.index(name)]
    pixel_area = (2 / size / radius) ** 2  # one pixel, in units of the radius squared
    assert float(mask.sum()) * pixel_area == pytest.approx(_AREAS[name], rel=0.02)


def test_every_shape_is_mirror_symmetric_so_flips_keep_the_label():
    """Is each silhouette its own mirror image about an axis, so a flipped image is a rotated copy of its shape?"""
    for name, mask in zip(SHAPE_NAMES, shape_masks(size=128)):
        # upright, each shape's axis of symmetry is the vertical or the horizontal line through the centre
        assert (torch.allclose(mask, mask.flip(-1), atol=1e-4) or torch.allclose(mask, mask.flip(-2), atol=1e-4)), name


def test_the_shapes_are_distinct():
    """Does every pair of silhouettes differ in at least 5% of the image?"""
    masks = shape_masks(size=64).flatten(1)
    diff = (masks[:, None] - masks[None]).abs().mean(dim=2)
    off_diagonal = diff[~torch.eye(10, dtype=torch.bool)]
    assert float(off_diagonal.min()) > 0.05


def test_plain_style_draws_flat_shapes_on_flat_backgrounds():
    """Without texture, clutter, shading or noise, does an image hold at most the edge blends of two colours?"""
    X, _ = make_shapes(20, seed=0, style=DEFAULT_STYLE.plain())
    for image in X:
        colours = image.flatten(1).T
        # corner pixel is background; pixels far from both colours lie on the one-pixel edge only
        assert len(torch.unique(colours.round(decimals=3), dim=0)) < 0.25 * colours.shape[0]


def test_generating_ten_thousand_images_is_quick_enough_to_do_on_demand():
    """Do 2,000 images come out in well under a second of CPU per thousand (a smoke check, not a benchmark)?"""
    import time

    start = time.process_time()
    make_shapes(2000, seed=0)
    assert time.process_time() - start < 10  # generous: about 0.3 s on a laptop core


def test_bad_arguments_are_refused_with_the_reason():
    """Are a negative count, too few classes and a tiny image refused with a message?"""
    with pytest.raises(ValueError, match="n must not be negative"):
        make_shapes(-1)
    with pytest.raises(ValueError, match="classes"):
        make_shapes(5, classes=0)
    with pytest.raises(ValueError, match="size"):
        make_shapes(5, size=4)


def test_labels_and_scenes_do_not_depend_on_the_image_size():
    """Does the same seed give the same labels at 16 and 64 pixels (the same scenes, finer)?"""
    _, y16 = make_shapes(50, size=16, seed=1)
    X64, y64 = make_shapes(50, size=64, seed=1)
    assert torch.equal(y16, y64) and X64.shape[-1] == 64


def test_fewer_classes_draw_only_the_first_shapes():
    """With classes=2, are only circles and rings drawn?"""
    _, y = make_shapes(100, classes=2)
    assert set(y.tolist()) == {0, 1}
    with pytest.raises(ValueError):
        make_shapes(10, classes=len(SHAPE_NAMES) + 1)


def test_a_second_task_draws_the_chosen_shapes_labelled_from_zero():
    """With classes=(5, 9), are crosses labelled 0 and ellipses 1, told apart by the area geometry gives them?"""
    from dataclasses import replace

    style = replace(DEFAULT_STYLE.plain(), size=(0.4, 0.4), rotation=0.0)
    X, y = make_shapes(400, seed=7, classes=(5, 9), style=style)
    assert set(y.tolist()) == {0, 1}
    background = X.flatten(2).median(dim=2).values[:, :, None, None]   # most pixels are background
    covered = ((X - background).abs().amax(dim=1) > 0.02).float().mean(dim=(1, 2))
    cross, ellipse = float(covered[y == 0].mean()), float(covered[y == 1].mean())
    # areas in units of r²: cross 4·0.33·2 − 0.66² ≈ 2.20, ellipse π·0.5 ≈ 1.57 (ratio 1.40)
    assert cross / ellipse == pytest.approx(2.2044 / (math.pi * 0.5), rel=0.1)
    with pytest.raises(ValueError, match="distinct shape indices"):
        make_shapes(5, classes=(3, 3))
    with pytest.raises(ValueError, match="distinct shape indices"):
        make_shapes(5, classes=(11,))


def test_images_are_delivered_on_the_requested_device():
    """Are the tensors on the device asked for?"""
    X, y = make_shapes(4, size=8, device="meta")
    assert X.device.type == "meta" and y.device.type == "meta"
