"""Test-time augmentation: are the views the right pixel maps, and is the average the right average?"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course.augment import crop
from course.tta import flip_views, shift, shift_views, tta_predict


def images(n=5, h=8, w=8, seed=0):
    return torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(seed))


def linear_model(h=8, w=8, num_classes=4, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * h * w, num_classes))


def test_flip_views_are_torch_flips():
    """Are the four flip views the identity, torch.flip on width, on height, and a 180° rot90?"""
    X = images()
    views = flip_views()
    assert torch.equal(views["identity"](X), X)
    assert torch.equal(views["hflip"](X), torch.flip(X, dims=[3]))
    assert torch.equal(views["vflip"](X), torch.flip(X, dims=[2]))
    assert torch.equal(views["hflip + vflip"](X), torch.rot90(X, 2, dims=(2, 3)))
    assert list(flip_views(vertical=False)) == ["identity", "hflip"]


@pytest.mark.parametrize("dy,dx", [(2, 0), (-2, 1), (0, -3), (1, 1)])
def test_shift_is_a_window_of_the_padded_image(dy, dx):
    """Is a shift the crop at offset (pad - dy, pad - dx) of the reflect-padded image, content moved by (dy, dx)?"""
    X = images()
    pad = max(abs(dy), abs(dx))
    padded = F.pad(X, (pad,) * 4, mode="reflect")
    n = len(X)
    expected = crop(padded, torch.full((n,), pad - dy), torch.full((n,), pad - dx), 8, 8)
    moved = shift(X, dy, dx)
    assert torch.equal(moved, expected)
    # the content moved: pixel (r, c) of the result is pixel (r - dy, c - dx) of the original
    r, c = 4, 4
    assert torch.equal(moved[..., r, c], X[..., r - dy, c - dx])


def test_shift_views_move_four_ways():
    """Are there four shift views, each a different image, and zero padding available?"""
    X = images()
    views = shift_views(pixels=2, mode="constant")
    outs = [v(X) for v in views.values()]
    assert len(outs) == 4
    assert all(not torch.equal(a, b) for i, a in enumerate(outs) for b in outs[i + 1:])
    assert torch.equal(views["shift down 2px"](X)[..., :2, :], torch.zeros(5, 3, 2, 8))


def test_identity_view_alone_is_the_plain_prediction():
    """With only the identity view, is TTA the softmax of the model's output?"""
    model, X = linear_model(), images()
    expected = model.eval()(X).softmax(1)
    assert torch.allclose(tta_predict(model, X, {"identity": lambda X: X}), expected, atol=1e-6)


def test_logit_average_of_flips_is_the_symmetrized_linear_model():
    """For a linear model, is the logit average over flips the model with flip-averaged weights?"""
    model, X = linear_model(), images()
    linear = model[1]
    W = linear.weight.detach().view(-1, 3, 8, 8)
    views = flip_views()
    W_sym = torch.stack([view(W) for view in views.values()]).mean(0)   # a flip is its own inverse
    expected = (X.flatten(1) @ W_sym.flatten(1).T + linear.bias.detach()).softmax(1)
    assert torch.allclose(tta_predict(model, X, views, average="logits"), expected, atol=1e-5)


def test_probability_average_is_a_probability_and_differs_from_logit_average():
    """Do averaged probabilities sum to 1, and differ from the softmax of averaged logits?"""
    model, X = linear_model(), images()
    by_probs = tta_predict(model, X, flip_views())
    by_logits = tta_predict(model, X, flip_views(), average="logits")
    assert torch.allclose(by_probs.sum(1), torch.ones(len(X)))
    assert not torch.allclose(by_probs, by_logits)


def test_tta_leaves_the_model_in_training_mode_and_refuses_nonsense():
    """Does TTA restore training mode, and refuse no views or an unknown average?"""
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 4), nn.Dropout(0.5))
    model.train()
    first = tta_predict(model, images())
    assert model.training
    assert torch.equal(first, tta_predict(model, images()))   # dropout off while predicting
    with pytest.raises(ValueError):
        tta_predict(model, images(), {})
    with pytest.raises(ValueError):
        tta_predict(model, images(), average="median")
