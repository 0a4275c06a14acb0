"""Label-preserving image transformations, batched: flips, crops, colour jitter, affine maps.

Every function takes a batch ``X`` of shape ``(N, C, H, W)`` on any device and returns a
new batch of the same shape, dtype and device; each image gets its own random parameters.
Randomness comes from an optional ``torch.Generator``: the same generator state gives the
same batch. Random parameters are drawn on the generator's device (the CPU for
``torch.Generator()``) and moved to the data's device, so a seeded run gives the same
images on a CPU and on a GPU.

>>> g = torch.Generator().manual_seed(0)
>>> X_aug = random_affine(hflip(X, generator=g), degrees=15, translate=0.1, generator=g)

Mixing two images and their labels (Mixup, CutMix, CowMask) is in :mod:`course.mixing`.
To augment the training batches of :func:`course.training.fit`, pass
``transform=train_transform(augment, seed=0)``.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

__all__ = ["hflip", "vflip", "crop", "random_crop", "color_jitter", "affine", "random_affine",
           "compose", "train_transform", "uniform"]

Transform = Callable[..., torch.Tensor]


def uniform(n: int, low: float, high: float, generator: torch.Generator | None = None,
            device=None) -> torch.Tensor:
    """``n`` draws from U(low, high) made on the generator's device, returned on ``device``."""
    where = generator.device if generator is not None else device
    return (low + (high - low) * torch.rand(n, generator=generator, device=where)).to(device)


def _check(X: torch.Tensor) -> None:
    if X.dim() != 4:
        raise ValueError(f"expected a batch of images (N, C, H, W), got shape {tuple(X.shape)}")


def _per_sample(mask: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    return mask.view(-1, *([1] * (X.dim() - 1)))


# ---------------------------------------------------------------- flips
def hflip(X: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image left-right with probability ``p`` (``p=1``: all of them)."""
    _check(X)
    flip = uniform(len(X), 0, 1, generator, X.device) < p
    return torch.where(_per_sample(flip, X), X.flip(-1), X)


def vflip(X: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image upside down with probability ``p`` (rarely label-preserving: think '6')."""
    _check(X)
    flip = uniform(len(X), 0, 1, generator, X.device) < p
    return torch.where(_per_sample(flip, X), X.flip(-2), X)


# ---------------------------------------------------------------- crops
def crop(X: torch.Tensor, top: torch.Tensor, left: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Cut a ``height x width`` window out of each image, at its own ``top``/``left`` offset.

    ``top`` and ``left`` are integer tensors of shape ``(N,)``: ``crop(X, t, l, h, w)[i]`` is
    ``X[i, :, t[i]:t[i]+h, l[i]:l[i]+w]``, for the whole batch in one indexing operation.
    """
    _check(X)
    top, left = torch.as_tensor(top), torch.as_tensor(left)
    if top.device.type == "cpu" and len(top) and (  # checked where it costs no device sync
            top.min() < 0 or left.min() < 0 or top.max() + height > X.shape[-2]
            or left.max() + width > X.shape[-1]):
        raise ValueError(f"a {height}x{width} crop window falls outside the "
                         f"{X.shape[-2]}x{X.shape[-1]} image")
    top, left = top.to(X.device).long(), left.to(X.device).long()
    rows = top[:, None] + torch.arange(height, device=X.device)             # (N, h)
    cols = left[:, None] + torch.arange(width, device=X.device)             # (N, w)
    n = torch.arange(len(X), device=X.device)[:, None, None]
    return X.permute(0, 2, 3, 1)[n, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def random_crop(X: torch.Tensor, padding: int = 4, size: Sequence[int] | None = None,
                mode: str = "reflect", generator: torch.Generator | None = None) -> torch.Tensor:
    """Pad each image by ``padding`` pixels, then cut out a window at a random position.

    The window is the original ``H x W`` by default, or ``size = (h, w)``; the content moves
    by up to ``padding`` pixels each way. ``mode`` is the padding of
    :func:`torch.nn.functional.pad`: ``"reflect"`` (the default: the border is mirrored),
    ``"replicate"`` (the edge pixels repeated) or ``"constant"`` (zeros).

    The classic CIFAR recipe, "pad 4, crop 32" (He et al., 2016; torchvision's
    ``RandomCrop(32, padding=4)``), pads with zeros: ``padding=4, mode="constant"``. The
    default reflects instead (as the fast CIFAR trainers do) so that a shifted image continues
    its own background rather than gaining a flat frame no test image has. On standardized
    inputs a zero is the training set's mean colour, not black.
    """
    _check(X)
    height, width = size if size is not None else X.shape[-2:]
    padded = F.pad(X, (padding,) * 4, mode=mode) if padding else X
    max_top, max_left = padded.shape[-2] - height, padded.shape[-1] - width
    if max_top < 0 or max_left < 0:
        raise ValueError(f"crop {height}x{width} larger than the padded image {tuple(padded.shape[-2:])}")
    where = generator.device if generator is not None else X.device
    top = torch.randint(max_top + 1, (len(X),), generator=generator, device=where)
    left = torch.randint(max_left + 1, (len(X),), generator=generator, device=where)
    return crop(padded, top, left, height, width)


# ---------------------------------------------------------------- colour
_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                     [0.596, -0.274, -0.322],
                     [0.211, -0.523, 0.312]])
_YIQ_INVERSE = torch.linalg.inv(_YIQ.double()).float()  # once, here: no inversion on the device


def _grey(X: torch.Tensor) -> torch.Tensor:
    """Luma ``0.299 R + 0.587 G + 0.114 B`` (the image itself when it has one channel)."""
    if X.shape[1] == 1:
        return X
    weights = _YIQ[0].to(device=X.device, dtype=X.dtype).view(1, 3, 1, 1)
    return (X * weights).sum(dim=1, keepdim=True)


def color_jitter(X: torch.Tensor, brightness: float = 0.0, contrast: float = 0.0,
                 saturation: float = 0.0, hue: float = 0.0, value_range=(0.0, 1.0),
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Random brightness, contrast, saturation and hue, each image its own, in that order.

    - brightness ``b``: ``x * f`` with ``f ~ U(1-b, 1+b)``
    - contrast ``c``: ``m + f (x - m)``, ``m`` the image's mean grey, ``f ~ U(1-c, 1+c)``
    - saturation ``s``: ``g + f (x - g)``, ``g`` the pixel's grey, ``f ~ U(1-s, 1+s)``
    - hue ``h``: the colour turns by an angle ``U(-h, h) * 360°`` around the grey axis (YIQ)

    Saturation and hue need three channels (RGB) and leave grey images alone. The result
    is clipped to ``value_range`` (``None``: no clipping, e.g. for standardized inputs).
    """
    _check(X)
    n, device = len(X), X.device
    out = X
    if brightness:
        out = out * _per_sample(uniform(n, 1 - brightness, 1 + brightness, generator, device), X)
    if contrast:
        mean = _grey(out).mean(dim=(1, 2, 3), keepdim=True)
        factor = _per_sample(uniform(n, 1 - contrast, 1 + contrast, generator, device), X)
        out = mean + factor * (out - mean)
    if saturation and X.shape[1] == 3:
        grey = _grey(out)
        factor = _per_sample(uniform(n, 1 - saturation, 1 + saturation, generator, device), X)
        out = grey + factor * (out - grey)
    if hue and X.shape[1] == 3:
        theta = uniform(n, -hue, hue, generator, device) * 2 * math.pi
        yiq = _YIQ.to(device=device, dtype=X.dtype)
        cos, sin = torch.cos(theta).to(X.dtype), torch.sin(theta).to(X.dtype)
        rotate = torch.zeros(n, 3, 3, device=device, dtype=X.dtype)
        rotate[:, 0, 0] = 1
        rotate[:, 1, 1], rotate[:, 1, 2], rotate[:, 2, 1], rotate[:, 2, 2] = cos, -sin, sin, cos
        matrix = _YIQ_INVERSE.to(device=device, dtype=X.dtype) @ rotate @ yiq   # (N, 3, 3)
        out = torch.einsum("nij,njhw->nihw", matrix, out)
    if value_range is not None:
        out = out.clamp(*value_range)
    return out


# ---------------------------------------------------------------- affine maps
def affine(X: torch.Tensor, angle=0.0, translate=(0.0, 0.0), scale=1.0, shear=0.0,
           fill: float = 0.0, mode: str = "bilinear") -> torch.Tensor:
    """Rotate, shear, scale and translate each image about its centre.

    - ``angle``: degrees, counter-clockwise as seen on screen (``90`` matches ``torch.rot90``)
    - ``translate``: ``(dx, dy)`` as fractions of the width and height (``dy > 0``: down)
    - ``scale``: ``> 1`` zooms in; ``shear``: degrees, horizontal shear
    Each argument is a number or a tensor with one value per image (``translate``: ``(N, 2)``).
    A pixel of the output takes the input at the inverse-mapped position (bilinear, or
    ``mode="nearest"``); pixels mapped from outside the image get ``fill``.
    """
    _check(X)
    n, device = len(X), X.device
    height, width = X.shape[-2:]

    def per_image(value):
        value = torch.as_tensor(value, dtype=torch.float32).to(device)
        return value.expand(n) if value.numel() == 1 else value.reshape(n)

    angle, scale, shear = (per_image(v) for v in (angle, scale, shear))
    translate = torch.as_tensor(translate, dtype=torch.float32).to(device)
    translate = translate.expand(n, 2) if translate.shape == (2,) else translate.reshape(n, 2)
    a, s = torch.deg2rad(angle), torch.tan(torch.deg2rad(shear))
    cos, sin = torch.cos(a), torch.sin(a)
    # forward map in pixel units (x right, y down): p' = R(angle) · Shear · scale · p + t
    rot = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)
    shr = torch.stack([torch.stack([torch.ones_like(s), s], -1),
                       torch.stack([torch.zeros_like(s), torch.ones_like(s)], -1)], -2)
    forward = rot @ shr * scale.view(n, 1, 1)
    # 2x2 inverse in closed form (torch.linalg.inv would wait for the GPU to check for errors)
    a11, a12, a21, a22 = forward[:, 0, 0], forward[:, 0, 1], forward[:, 1, 0], forward[:, 1, 1]
    inverse = torch.stack([torch.stack([a22, -a12], -1), torch.stack([-a21, a11], -1)], -2) \
        / (a11 * a22 - a12 * a21).view(n, 1, 1)
    # affine_grid works in [-1, 1] coordinates: convert with D = diag(W/2, H/2)
    d = torch.tensor([width / 2, height / 2], device=device)
    theta_linear = inverse * (d.view(1, 1, 2) / d.view(1, 2, 1))            # D^-1 M^-1 D
    theta_shift = -(theta_linear @ (2 * translate).unsqueeze(-1))            # t in [-1, 1] units
    theta = torch.cat([theta_linear, theta_shift], dim=2).to(X.dtype if X.is_floating_point()
                                                             else torch.float32)
    grid = F.affine_grid(theta, list(X.shape), align_corners=False)
    if fill == 0:
        return F.grid_sample(X, grid, mode=mode, padding_mode="zeros", align_corners=False)
    # sample a channel of ones alongside to know how much of each pixel came from outside
    ones = torch.ones_like(X[:, :1])
    sampled = F.grid_sample(torch.cat([X, ones], 1), grid, mode=mode, padding_mode="zeros",
                            align_corners=False)
    inside = sampled[:, -1:]
    return sampled[:, :-1] + (1 - inside) * fill


def random_affine(X: torch.Tensor, degrees: float = 0.0, translate: float = 0.0,
                  scale: tuple[float, float] = (1.0, 1.0), shear: float = 0.0, fill: float = 0.0,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """:func:`affine` with each image's parameters drawn at random.

    angle ``~ U(-degrees, degrees)``, each shift ``~ U(-translate, translate)`` (a fraction of
    the size), scale ``~ U(*scale)``, shear ``~ U(-shear, shear)`` degrees.
    """
    _check(X)
    n, device = len(X), X.device
    angle = uniform(n, -degrees, degrees, generator, device)
    shift = torch.stack([uniform(n, -translate, translate, generator, device) for _ in range(2)], 1)
    zoom = uniform(n, *scale, generator, device)
    slant = uniform(n, -shear, shear, generator, device)
    return affine(X, angle, shift, zoom, slant, fill=fill)


# ---------------------------------------------------------------- combinations
def compose(*transforms: Transform) -> Transform:
    """One transform that applies ``transforms`` in order, passing the generator to each.

    >>> augment = compose(hflip, partial(random_crop, padding=2), partial(color_jitter, brightness=0.3))
    >>> X_aug = augment(X, generator=g)
    """
    def composed(X: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for transform in transforms:
            X = transform(X, generator=generator)
        return X

    composed.transforms = transforms
    return composed


def train_transform(transform: Transform, seed: int | None = None):
    """``transform`` as :func:`course.training.fit`'s ``transform``: ``(X, y) -> (transform(X), y)``.

    >>> fit(model, split.train, loss_fn, optimizer, num_epochs, transform=train_transform(augment, seed=0))

    ``fit`` applies it to every training batch, on the device, and never to validation
    data. ``seed`` makes the sequence of augmented batches repeatable (a CPU generator:
    the same batches on every device).
    """
    generator = torch.Generator().manual_seed(seed) if seed is not None else None

    def apply(X: torch.Tensor, y: torch.Tensor):
        return transform(X, generator=generator), y

    apply.transform = transform
    return apply
