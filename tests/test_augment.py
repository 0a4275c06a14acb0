"""Label-preserving augmentations, checked against torch's own ops, slicing, SciPy and properties."""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from course.augment import (affine, color_jitter, compose, crop, hflip, random_affine, random_crop,
                            train_transform, uniform, vflip)

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def images(n=6, c=3, h=10, w=12, seed=0, dtype=torch.float32):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def g(seed=0):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- flips
def test_hflip_with_p_one_is_torch_flip():
    """Does a certain flip mirror the width axis exactly like torch.flip?"""
    X = images()
    assert torch.equal(hflip(X, p=1.0), torch.flip(X, dims=[3]))
    assert torch.equal(vflip(X, p=1.0), torch.flip(X, dims=[2]))


def test_flip_with_p_zero_is_identity():
    """Does p=0 leave every image untouched?"""
    X = images()
    assert torch.equal(hflip(X, p=0.0, generator=g()), X)
    assert torch.equal(vflip(X, p=0.0, generator=g()), X)


def test_each_image_flips_on_its_own():
    """With p=0.5, is every image either itself or its mirror, and both occur in a batch?"""
    X = images(n=64)
    out = hflip(X, p=0.5, generator=g(1))
    same = (out == X).flatten(1).all(dim=1)
    mirrored = (out == X.flip(-1)).flatten(1).all(dim=1)
    assert bool((same | mirrored).all())
    assert 10 < int(mirrored.sum()) < 54


# ---------------------------------------------------------------- crops
def test_crop_matches_slicing():
    """Is each image's crop the slice X[i, :, t:t+h, l:l+w] at its own offset?"""
    X = images(n=5, h=9, w=11)
    top, left = torch.tensor([0, 1, 2, 3, 4]), torch.tensor([5, 0, 3, 1, 2])
    out = crop(X, top, left, 5, 6)
    expected = torch.stack([X[i, :, t:t + 5, l:l + 6] for i, (t, l) in enumerate(zip(top, left))])
    assert torch.equal(out, expected)


def test_crop_outside_the_image_is_an_error():
    """Does a window that leaves the image raise instead of wrapping around?"""
    with pytest.raises(ValueError, match="outside"):
        crop(images(n=2, h=8, w=8), torch.tensor([0, 4]), torch.tensor([0, 0]), 5, 5)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5), h=st.integers(4, 12), w=st.integers(4, 12), seed=st.integers(0, 10_000))
def test_random_crop_is_a_window_of_the_padded_image(n, h, w, seed):
    """Is every random crop equal to some h x w window of the zero-padded image?"""
    X = images(n=n, c=2, h=h, w=w, seed=seed)
    padding = 3
    out = random_crop(X, padding=padding, mode="constant", generator=g(seed))
    assert out.shape == X.shape
    padded = F.pad(X, (padding,) * 4)
    for i in range(n):
        windows = [padded[i, :, t:t + h, l:l + w] for t in range(2 * padding + 1) for l in range(2 * padding + 1)]
        assert any(torch.equal(out[i], window) for window in windows)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "constant"])
def test_random_crop_is_a_window_of_the_image_padded_by_mode(mode):
    """Is every crop a window of torch's F.pad(mode) image, reflect being the default?"""
    X = images(n=8, c=3, h=7, w=9, seed=5)
    padding = 2
    out = random_crop(X, padding=padding, mode=mode, generator=g(3))
    if mode == "reflect":
        assert torch.equal(out, random_crop(X, padding=padding, generator=g(3)))
    padded = F.pad(X, (padding,) * 4, mode=mode)
    for i in range(len(X)):
        windows = [padded[i, :, t:t + 7, l:l + 9] for t in range(2 * padding + 1) for l in range(2 * padding + 1)]
        assert any(torch.equal(out[i], window) for window in windows)


def test_random_crop_without_padding_is_identity():
    """With no padding and the full size, is the only possible window the image itself?"""
    X = images()
    assert torch.equal(random_crop(X, padding=0, generator=g()), X)


# ---------------------------------------------------------------- colour
def test_color_jitter_with_zero_strength_is_identity():
    """Do zero strengths change nothing (values already in range)?"""
    X = images()
    assert torch.equal(color_jitter(X, generator=g()), X)


@settings(max_examples=25, deadline=None)
@given(b=st.floats(0, 1), c=st.floats(0, 1), s=st.floats(0, 1), h=st.floats(0, 0.5),
       seed=st.integers(0, 10_000))
def test_color_jitter_keeps_the_value_range_and_shape(b, c, s, h, seed):
    """Does any mix of jitter strengths keep shape, dtype and the [0, 1] range?"""
    X = images(seed=seed)
    out = color_jitter(X, b, c, s, h, generator=g(seed))
    assert out.shape == X.shape and out.dtype == X.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_brightness_scales_each_image_by_one_factor_in_range():
    """Is brightness jitter x * f with one f in [1-b, 1+b] per image?"""
    X = 0.1 + 0.3 * images(n=20)           # no clipping at 1 for factors up to 1.5
    out = color_jitter(X, brightness=0.5, generator=g(3))
    ratio = (out / X).flatten(1)
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-5)
    assert float(ratio.min()) >= 0.5 - 1e-6 and float(ratio.max()) <= 1.5 + 1e-6


def test_hue_rotation_keeps_the_luma():
    """Does turning the hue leave every pixel's grey level (0.299R + 0.587G + 0.114B) unchanged?"""
    X = 0.4 + 0.2 * images(n=8)            # mid-range colours: the rotation never clips
    out = color_jitter(X, hue=0.5, value_range=None, generator=g(4))
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    assert torch.allclose((out * weights).sum(1), (X * weights).sum(1), atol=1e-5)
    assert not torch.allclose(out, X, atol=1e-3)


def test_saturation_and_hue_leave_grey_images_alone():
    """On one-channel images, are saturation and hue no-ops?"""
    X = images(c=1)
    assert torch.equal(color_jitter(X, saturation=0.9, hue=0.4, generator=g()), X)


def test_zero_saturation_factor_gives_grey():
    """With a saturation factor of exactly 0 (strength 1 at its lower end) is every channel equal?"""
    X = images(n=200)
    out = color_jitter(X, saturation=1.0, value_range=None, generator=g(5))
    spread = (out.amax(dim=1) - out.amin(dim=1)).flatten(1).amax(dim=1)
    original = (X.amax(dim=1) - X.amin(dim=1)).flatten(1).amax(dim=1)
    # factors near 0 almost remove the colour; near 2 they double it
    assert float((spread / original).min()) < 0.05 and float((spread / original).max()) > 1.8


# ---------------------------------------------------------------- affine
def test_identity_affine_is_identity():
    """Does the identity map give back the image (bilinear at pixel centres)?"""
    X = images()
    assert torch.allclose(affine(X), X, atol=1e-6)


def test_rotation_by_90_degrees_is_rot90():
    """Is a 90° rotation torch.rot90 (counter-clockwise), on a square image?"""
    X = images(h=9, w=9)
    assert torch.allclose(affine(X, angle=90.0), torch.rot90(X, 1, dims=(2, 3)), atol=1e-5)
    assert torch.allclose(affine(X, angle=-90.0), torch.rot90(X, -1, dims=(2, 3)), atol=1e-5)


def test_integer_translation_is_a_shift_with_zero_fill():
    """Does shifting by 2 pixels right and 1 down move the pixels and fill the rest with 0?"""
    X = images(h=8, w=10)
    out = affine(X, translate=(2 / 10, 1 / 8))
    assert torch.allclose(out[:, :, 1:, 2:], X[:, :, :-1, :-2], atol=1e-6)
    assert float(out[:, :, :1, :].abs().max()) == 0 and float(out[:, :, :, :2].abs().max()) == 0


def test_fill_value_for_pixels_from_outside():
    """Do pixels mapped from outside the image get the fill value?"""
    X = images(h=8, w=8)
    out = affine(X, translate=(0.5, 0.0), fill=0.25)
    assert torch.allclose(out[:, :, :, :4], torch.full_like(out[:, :, :, :4], 0.25), atol=1e-6)


def test_rotation_agrees_with_scipy():
    """Does a 30° bilinear rotation match scipy.ndimage.rotate away from the border?"""
    X = images(n=2, c=1, h=21, w=21)
    out = affine(X, angle=30.0)
    for i in range(2):
        expected = ndimage.rotate(X[i, 0].numpy().astype(np.float64), 30.0, reshape=False, order=1,
                                  mode="constant", cval=0.0)
        inner = (slice(5, -5), slice(5, -5))
        np.testing.assert_allclose(out[i, 0].numpy()[inner], expected[inner], atol=1e-5)


def test_scale_and_shear_agree_with_scipy_affine_transform():
    """Does zoom x1.25 with a 20° shear match scipy's inverse-mapped affine transform?"""
    X = images(n=1, c=1, h=16, w=16)
    out = affine(X, scale=1.25, shear=20.0)[0, 0].numpy()
    # forward map in (x, y) = (col, row) pixel units about the centre: M = Shear · scale
    forward = 1.25 * np.array([[1.0, np.tan(np.deg2rad(20.0))], [0.0, 1.0]])
    inverse_xy = np.linalg.inv(forward)
    inverse_rc = inverse_xy[::-1, ::-1]                  # to (row, col) order for scipy
    centre = np.array([7.5, 7.5])
    expected = ndimage.affine_transform(X[0, 0].numpy().astype(np.float64), inverse_rc,
                                        offset=centre - inverse_rc @ centre, order=1, mode="constant")
    inner = (slice(3, -3), slice(3, -3))
    np.testing.assert_allclose(out[inner], expected[inner], atol=1e-5)


def test_per_image_parameters():
    """Does each image get its own angle when angles come as a tensor?"""
    X = images(n=2, h=9, w=9)
    out = affine(X, angle=torch.tensor([0.0, 90.0]))
    assert torch.allclose(out[0], X[0], atol=1e-6)
    assert torch.allclose(out[1], torch.rot90(X[1], 1, dims=(1, 2)), atol=1e-5)


def test_affine_keeps_a_convex_value_range():
    """Bilinear sampling with zero fill: do values stay within [min(0, X), max(X)]?"""
    X = images(n=16)
    out = random_affine(X, degrees=40, translate=0.2, scale=(0.7, 1.3), shear=20, generator=g(2))
    assert float(out.min()) >= 0.0 and float(out.max()) <= float(X.max()) + 1e-6


# ---------------------------------------------------------------- determinism, devices, dtypes
ALL = {
    "hflip": partial(hflip, p=0.5),
    "vflip": partial(vflip, p=0.5),
    "random_crop": partial(random_crop, padding=2),
    "color_jitter": partial(color_jitter, brightness=0.3, contrast=0.3, saturation=0.3, hue=0.1),
    "random_affine": partial(random_affine, degrees=20, translate=0.1, scale=(0.9, 1.1), shear=5),
}


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_batch_other_seed_other_batch(name):
    """Does a seeded generator make the transform repeatable, and another seed change it?"""
    X = images(n=32)
    first = ALL[name](X, generator=g(7))
    assert torch.equal(first, ALL[name](X, generator=g(7)))
    assert not torch.equal(first, ALL[name](X, generator=g(8)))


@pytest.mark.parametrize("name", ALL)
def test_meta_tensors_keep_shape_dtype_and_device(name):
    """On the 'meta' device, does every transform give the right shape without reading a value back?

    A meta tensor has no data: any host read of the batch or of parameters moved to its device
    (``.item()``, ``bool()``, a data-dependent check) raises, so this also proves that a GPU batch
    is transformed without a device synchronisation.
    """
    X = torch.empty(4, 3, 16, 12, device="meta")
    out = ALL[name](X, generator=g())
    assert out.shape == X.shape and out.device.type == "meta" and out.dtype == X.dtype


@pytest.mark.parametrize("name", ALL)
def test_float64_stays_float64(name):
    """Does a float64 batch come back float64 with the same values as float32, nearly?"""
    X = images(n=8, dtype=torch.float64)
    out = ALL[name](X, generator=g(1))
    assert out.dtype == torch.float64
    assert torch.allclose(out.float(), ALL[name](X.float(), generator=g(1)), atol=1e-5)


def test_wrong_rank_is_an_error():
    """Is a single image (C, H, W) rejected with a message asking for a batch?"""
    with pytest.raises(ValueError, match="batch"):
        hflip(torch.rand(3, 8, 8))


def test_uniform_draws_on_the_generator_device():
    """Are draws in [low, high), made by the generator, delivered on the requested device?"""
    values = uniform(1000, -2.0, 3.0, g(0), device="meta")
    assert values.device.type == "meta"
    values = uniform(1000, -2.0, 3.0, g(0))
    assert float(values.min()) >= -2.0 and float(values.max()) < 3.0


@cuda
@pytest.mark.gpu
@pytest.mark.parametrize("name", ALL)
def test_gpu_gives_the_cpu_result(name):
    """With a CPU generator, is the GPU result the CPU result (same draws, same maths)?"""
    X = images(n=16)
    on_cpu = ALL[name](X, generator=g(3))
    on_gpu = ALL[name](X.cuda(), generator=g(3))
    assert on_gpu.device.type == "cuda"
    assert torch.allclose(on_gpu.cpu(), on_cpu, atol=1e-4)


# ---------------------------------------------------------------- composition and fit
def test_compose_applies_in_order_with_one_generator():
    """Is compose(a, b) the same as b(a(X)) drawing from the same generator?"""
    X = images(n=8)
    pipeline = compose(ALL["hflip"], ALL["random_affine"], ALL["color_jitter"])
    generator = g(5)
    expected = ALL["color_jitter"](ALL["random_affine"](ALL["hflip"](X, generator=generator),
                                                        generator=generator), generator=generator)
    assert torch.equal(pipeline(X, generator=g(5)), expected)


def test_train_transform_keeps_labels_and_is_repeatable():
    """Does the fit transform augment X, pass y through, and repeat under its seed?"""
    X, y = images(n=8), torch.arange(8)
    first = train_transform(ALL["random_affine"], seed=0)
    second = train_transform(ALL["random_affine"], seed=0)
    X1, y1 = first(X, y)
    X2, _ = second(X, y)
    assert y1 is y and torch.equal(X1, X2) and not torch.equal(X1, X)
    X3, _ = first(X, y)          # the generator moves on: the next batch differs
    assert not torch.equal(X3, X1)
