"""Mixup, CutMix and CowMask: do the labels mix in the same proportion as the pixels?

The checks recover each mixed image's sources independently: with distinct labels per image
(``y = arange(N)``), the mixed label says which two images were used and in what proportion,
and the pixels must agree.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.mixing import (beta, box_masks, cow_masks, cowmix, cutmix, mix, mixed_label_text, mixup,
                           train_mixing)

MIXERS = {"mixup": mixup, "cutmix": cutmix, "cowmix": cowmix}


def g(seed=0):
    return torch.Generator().manual_seed(seed)


def batch(n=8, h=16, w=16, seed=0):
    X = torch.rand(n, 3, h, w, generator=g(seed))
    return X, torch.arange(n)


def sources(y_mixed):
    """For each row: (own weight, partner index, partner weight) from distinct one-hot labels."""
    out = []
    for i, row in enumerate(y_mixed):
        others = [(float(w), j) for j, w in enumerate(row.tolist()) if j != i and w > 0]
        partner_weight, partner = max(others) if others else (0.0, i)
        out.append((float(row[i]), partner, partner_weight))
    return out


@pytest.mark.parametrize("name", MIXERS)
def test_labels_are_probability_vectors(name):
    """Is every mixed label non-negative and summing to 1, over the right number of classes?"""
    X, y = batch()
    _, y_mixed = MIXERS[name](X, y % 5, num_classes=5, generator=g(1))
    assert y_mixed.shape == (8, 5)
    assert torch.allclose(y_mixed.sum(dim=1), torch.ones(8), atol=1e-6)
    assert float(y_mixed.min()) >= 0.0


def test_mixup_pixels_are_the_label_blend():
    """Is each Mixup image λ·x_i + (1-λ)·x_j with the λ its label says?"""
    X, y = batch()
    X_mixed, y_mixed = mixup(X, y, num_classes=8, alpha=1.0, generator=g(2))
    for i, (own, j, partner) in enumerate(sources(y_mixed)):
        assert own + partner == pytest.approx(1.0, abs=1e-6)
        assert torch.allclose(X_mixed[i], own * X[i] + partner * X[j], atol=1e-5)


@pytest.mark.parametrize("name", ["cutmix", "cowmix"])
def test_mask_mixing_label_weight_is_the_pixel_fraction(name):
    """Is the label weight of image i exactly the fraction of its pixels that come from x_i?"""
    X, y = batch(h=20, w=24)
    X_mixed, y_mixed = MIXERS[name](X, y, num_classes=8, generator=g(3))
    for i, (own, j, partner) in enumerate(sources(y_mixed)):
        from_self = (X_mixed[i] == X[i]).all(dim=0)
        from_partner = (X_mixed[i] == X[j]).all(dim=0)
        assert bool((from_self | from_partner).all()), "every pixel comes from one of the two"
        if j != i:
            assert float(from_self.float().mean()) == pytest.approx(own, abs=1e-6)


def test_box_masks_cut_one_rectangle():
    """Are the zeros of a CutMix mask one axis-aligned rectangle, of area about (1-λ)·H·W?"""
    masks = box_masks(50, 20, 20, lam=torch.full((50,), 0.75), generator=g(4))
    for mask in masks[:, 0]:
        zeros = (mask == 0).nonzero()
        if len(zeros) == 0:
            continue
        (r0, c0), (r1, c1) = zeros.min(dim=0).values, zeros.max(dim=0).values
        assert bool((mask[r0:r1 + 1, c0:c1 + 1] == 0).all())
        assert len(zeros) <= 0.25 * 400 + 2 * 20      # clipped boxes are smaller, never bigger
    unclipped = box_masks(1, 20, 20, lam=torch.tensor(0.75), generator=g(0)).mean()
    assert 0.6 < float(unclipped) <= 1.0


@pytest.mark.parametrize("proportion", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_cow_masks_have_the_asked_proportion_of_ones(proportion):
    """Does thresholding at the quantile give exactly round(p·H·W) ones?"""
    masks = cow_masks(6, 24, 20, proportion=proportion, sigma=(2.0, 6.0), generator=g(5))
    counts = masks.flatten(1).sum(dim=1)
    assert torch.all(counts == round(proportion * 24 * 20))
    assert set(masks.unique().tolist()) <= {0.0, 1.0}


def test_cow_masks_are_blotchy_not_salt_and_pepper():
    """Are neighbouring pixels of a CowMask mostly equal (smoothed noise), unlike thresholded raw noise?"""
    masks = cow_masks(8, 32, 32, proportion=0.5, sigma=4.0, generator=g(6))
    same_as_right = (masks[..., 1:] == masks[..., :-1]).float().mean()
    assert float(same_as_right) > 0.85      # white noise would give about 0.5


def test_beta_draws_are_repeatable_and_distributed_like_beta():
    """Same generator state, same draws; and is the mean and variance that of Beta(α, α)?"""
    a, b = beta(20_000, 2.0, g(7)), beta(20_000, 2.0, g(7))
    assert torch.equal(a, b)
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    assert float(a.mean()) == pytest.approx(0.5, abs=0.01)
    assert float(a.var()) == pytest.approx(1 / (4 * 5), abs=0.005)     # αβ/((α+β)²(α+β+1))


@pytest.mark.parametrize("name", MIXERS)
def test_same_seed_same_mix(name):
    """Does a seeded generator make the mixing repeatable?"""
    X, y = batch()
    first = MIXERS[name](X, y, num_classes=8, generator=g(9))
    second = MIXERS[name](X, y, num_classes=8, generator=g(9))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])


@pytest.mark.parametrize("name", MIXERS)
def test_meta_device_shapes(name):
    """On 'meta' tensors, are the mixed batch and labels shaped right?"""
    X = torch.empty(4, 3, 16, 16, device="meta")
    y = torch.empty(4, dtype=torch.long, device="meta")
    X_mixed, y_mixed = MIXERS[name](X, y, num_classes=5, generator=g())
    assert X_mixed.shape == X.shape and y_mixed.shape == (4, 5) and X_mixed.device.type == "meta"


def test_mixing_twice_keeps_probabilities():
    """Can already-mixed labels be mixed again, still summing to 1?"""
    X, y = batch()
    X1, y1 = mixup(X, y, num_classes=8, generator=g(1))
    X2, y2 = cutmix(X1, y1, num_classes=8, generator=g(2))
    assert torch.allclose(y2.sum(dim=1), torch.ones(8), atol=1e-6)


def test_soft_labels_go_into_cross_entropy():
    """Does nn.CrossEntropyLoss on mixed labels equal -Σ ỹ log softmax, and mix the two hard losses?"""
    X, y = batch()
    masks = torch.full((8, 1, 1, 1), 0.3)
    perm = torch.roll(torch.arange(8), 1)
    _, y_mixed = mix(X, y, masks, perm, num_classes=8)
    logits = torch.randn(8, 8, generator=g(3))
    loss = torch.nn.CrossEntropyLoss()(logits, y_mixed)
    hard = 0.3 * F.cross_entropy(logits, y) + 0.7 * F.cross_entropy(logits, y[perm])
    assert float(loss) == pytest.approx(float(hard), rel=1e-5)


def test_train_mixing_as_a_fit_transform():
    """Does the fit transform return mixed images and probability labels, repeatably?"""
    X, y = batch()
    first = train_mixing(mixup, num_classes=8, seed=0, alpha=0.4)(X, y)
    second = train_mixing(mixup, num_classes=8, seed=0, alpha=0.4)(X, y)
    assert torch.equal(first[0], second[0]) and first[1].shape == (8, 8)


def test_mixed_label_text():
    """Are the two largest weights named, largest first, and zero weights left out?"""
    y_soft = torch.tensor([[0.0, 0.7, 0.3], [1.0, 0.0, 0.0]])
    assert mixed_label_text(y_soft, ["a", "b", "c"]) == ["0.70 b + 0.30 c", "1.00 a"]
    assert mixed_label_text(y_soft)[0] == "0.70 1 + 0.30 2"


def test_numpy_free_of_global_state():
    """Does drawing Beta values leave NumPy's global random state alone?"""
    np.random.seed(0)
    expected = np.random.rand()
    np.random.seed(0)
    beta(10, 0.4, g(0))
    assert np.random.rand() == expected
