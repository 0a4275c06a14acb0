"""Mixing two images and their labels: Mixup, CutMix and CowMask-style masks.

Each image ``i`` of a batch is mixed with a partner ``j = perm[i]`` from the same batch
(a random permutation). The label becomes a probability vector with the same proportions
as the pixels::

    x~ = m ⊙ x_i + (1 - m) ⊙ x_j        y~ = λ·onehot(y_i) + (1 - λ)·onehot(y_j),  λ = mean(m)

- **Mixup**: ``m = λ`` everywhere, ``λ ~ Beta(α, α)``: a see-through blend.
- **CutMix**: ``m`` is 1 outside one rectangle that covers a fraction ``1 - λ`` of the image.
- **CowMask**: ``m`` is a blurred noise image thresholded so that a chosen fraction is 1:
  irregular blobs ("cow spots") instead of one rectangle.

``torch.nn.CrossEntropyLoss`` accepts such probability labels as its target directly; to
mix every training batch in :func:`course.training.fit`, pass ``transform=train_mixing(...)``.

>>> X_mix, y_mix = mixup(X, y, num_classes=10, alpha=0.2, generator=g)
>>> y_mix.sum(dim=1)        # every row sums to 1
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .augment import uniform

__all__ = ["beta", "mix", "mixup", "box_masks", "cutmix", "cow_masks", "cowmix", "train_mixing", "mixed_label_text"]


def beta(n: int, alpha: float, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """``n`` draws from Beta(α, α), seeded by ``generator`` (float32, on ``device``).

    torch's Beta distribution takes no generator, so the draws come from NumPy, seeded from
    the generator: the same generator state gives the same values. Reading the seed from a
    CUDA generator waits for the GPU; :func:`train_mixing` uses a CPU generator.
    """
    seed = int(torch.randint(2 ** 62, (1,), generator=generator,
                             device=generator.device if generator is not None else "cpu").item())
    draws = np.random.default_rng(seed).beta(alpha, alpha, size=n).astype(np.float32)
    return torch.from_numpy(draws).to(device)


def _partners(n: int, generator: torch.Generator | None, device) -> torch.Tensor:
    where = generator.device if generator is not None else device
    return torch.randperm(n, generator=generator, device=where).to(device)


def _one_hot(y: torch.Tensor, num_classes: int, dtype) -> torch.Tensor:
    if y.dim() == 2:  # already probabilities (mixing twice)
        return y.to(dtype)
    return F.one_hot(y.long(), num_classes).to(dtype)


def mix(X: torch.Tensor, y: torch.Tensor, masks: torch.Tensor, perm: torch.Tensor,
        num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix each image with ``X[perm[i]]`` through ``masks`` (``(N, 1, H, W)`` or ``(N, 1, 1, 1)``).

    Returns the mixed images and the labels mixed in the proportion of the mask's mean:
    ``λ_i = mean(masks[i])`` of image ``i``, ``1 - λ_i`` of its partner.
    """
    masks = masks.to(X.dtype)
    X_mixed = masks * X + (1 - masks) * X[perm]
    lam = masks.mean(dim=(1, 2, 3)).unsqueeze(1).to(torch.float32)
    labels = _one_hot(y, num_classes, torch.float32)
    return X_mixed, lam * labels + (1 - lam) * labels[perm]


def mixup(X: torch.Tensor, y: torch.Tensor, num_classes: int, alpha: float = 0.2,
          generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup (Zhang et al., 2018): ``λ x_i + (1-λ) x_j`` with ``λ ~ Beta(α, α)`` per image.

    Small ``α`` (0.1-0.4) keeps most images close to one of the two; ``α = 1`` is uniform.
    """
    n = len(X)
    lam = beta(n, alpha, generator, X.device).view(n, 1, 1, 1)
    return mix(X, y, lam, _partners(n, generator, X.device), num_classes)


def box_masks(n: int, height: int, width: int, lam: torch.Tensor,
              generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """``(n, 1, H, W)`` masks of ones with a zero rectangle of area ``≈ (1 - λ)·H·W`` each.

    The rectangle has the image's aspect ratio and a uniformly random centre; where it is
    clipped by the border its area (and so the label weight) shrinks accordingly.
    """
    lam = torch.as_tensor(lam, dtype=torch.float32, device=device).expand(n)
    cut = torch.sqrt(1 - lam)
    h, w = cut * height, cut * width
    cy, cx = uniform(n, 0, height, generator, device), uniform(n, 0, width, generator, device)
    top, bottom = (cy - h / 2).round().clamp(0, height), (cy + h / 2).round().clamp(0, height)
    left, right = (cx - w / 2).round().clamp(0, width), (cx + w / 2).round().clamp(0, width)
    rows = torch.arange(height, device=device).view(1, -1, 1)
    cols = torch.arange(width, device=device).view(1, 1, -1)
    inside = ((rows >= top.view(-1, 1, 1)) & (rows < bottom.view(-1, 1, 1))
              & (cols >= left.view(-1, 1, 1)) & (cols < right.view(-1, 1, 1)))
    return (~inside).float().unsqueeze(1)


def cutmix(X: torch.Tensor, y: torch.Tensor, num_classes: int, alpha: float = 1.0,
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """CutMix (Yun et al., 2019): paste a rectangle of the partner image, ``λ ~ Beta(α, α)``.

    The label weights are the exact pixel proportions after clipping at the border.
    """
    n, (height, width) = len(X), X.shape[-2:]
    lam = beta(n, alpha, generator, X.device)
    masks = box_masks(n, height, width, lam, generator, X.device)
    return mix(X, y, masks, _partners(n, generator, X.device), num_classes)


def _gaussian_blur(noise: torch.Tensor, sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """Blur ``(N, 1, H, W)`` noise with a per-image Gaussian of std ``sigma`` (pixels), separably.

    ``radius``: half the kernel's width, about three times the largest ``sigma``.
    """
    n = len(noise)
    offsets = torch.arange(-radius, radius + 1, device=noise.device, dtype=noise.dtype)
    kernel = torch.exp(-0.5 * (offsets.view(1, -1) / sigma.view(-1, 1)) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)                       # (N, K)
    # grouped convolution: one kernel per image
    x = noise.view(1, n, *noise.shape[-2:])
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect" if radius < noise.shape[-1] else
                       "replicate"), kernel.view(n, 1, 1, -1), groups=n)
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect" if radius < noise.shape[-2] else
                       "replicate"), kernel.view(n, 1, -1, 1), groups=n)
    return x.view_as(noise)


def cow_masks(n: int, height: int, width: int, proportion, sigma=(4.0, 16.0),
              generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """CowMask (French et al., 2020): ``(n, 1, H, W)`` masks of blotches, a ``proportion`` of ones.

    Gaussian noise is blurred with a standard deviation drawn log-uniformly from ``sigma``
    (pixels: larger means bigger blotches; a number fixes it) and thresholded at the
    per-image quantile that leaves ``proportion`` (a number or one per image) of the pixels
    at 1.
    """
    where = generator.device if generator is not None else device
    noise = torch.randn(n, 1, height, width, generator=generator, device=where).to(device)
    lo, hi = (sigma, sigma) if isinstance(sigma, (int, float)) else sigma
    sig = torch.exp(uniform(n, math.log(lo), math.log(hi), generator, device))
    smooth = _gaussian_blur(noise, sig, radius=int(math.ceil(3 * hi))).view(n, -1)
    proportion = torch.as_tensor(proportion, dtype=torch.float32, device=device).expand(n)
    # threshold at the k-th smallest value: the (1 - p) quantile, exactly p·H·W ones
    k = ((1 - proportion) * height * width).round().long().clamp(0, height * width)
    ordered = smooth.sort(dim=1).values
    padded = torch.cat([ordered, torch.full_like(ordered[:, :1], math.inf)], dim=1)
    threshold = padded.gather(1, k.view(-1, 1))
    return (smooth >= threshold).float().view(n, 1, height, width)


def cowmix(X: torch.Tensor, y: torch.Tensor, num_classes: int, proportion=(0.2, 0.8),
           sigma=(4.0, 16.0), generator: torch.Generator | None = None):
    """Mix each image with a partner through a CowMask; ``proportion`` ``~ U(lo, hi)`` per image."""
    n, (height, width) = len(X), X.shape[-2:]
    lo, hi = (proportion, proportion) if isinstance(proportion, (int, float)) else proportion
    p = uniform(n, lo, hi, generator, X.device)
    masks = cow_masks(n, height, width, p, sigma, generator, X.device)
    return mix(X, y, masks, _partners(n, generator, X.device), num_classes)


def mixed_label_text(y_soft: torch.Tensor, names=None, top: int = 2) -> list[str]:
    """Each row of probability labels as words: ``"0.62 circle + 0.38 ring"`` (largest first)."""
    texts = []
    for row in y_soft.detach().float().cpu():
        weights, classes = row.topk(min(top, len(row)))
        parts = [f"{w:.2f} {names[c] if names is not None else c}"
                 for w, c in zip(weights.tolist(), classes.tolist()) if w > 0.005]
        texts.append(" + ".join(parts))
    return texts


def train_mixing(mixer, num_classes: int, seed: int | None = None, **kwargs):
    """A mixer (:func:`mixup`, :func:`cutmix`, :func:`cowmix`) as :func:`course.training.fit`'s ``transform``.

    >>> fit(model, data, nn.CrossEntropyLoss(), optimizer, num_epochs,
    ...     transform=train_mixing(mixup, num_classes=10, seed=0, alpha=0.2))

    Every training batch is mixed with a permutation of itself; its labels become
    probability vectors, which ``nn.CrossEntropyLoss`` accepts. ``kwargs`` go to the mixer.
    """
    generator = torch.Generator().manual_seed(seed) if seed is not None else None

    def apply(X: torch.Tensor, y: torch.Tensor):
        return mixer(X, y, num_classes, generator=generator, **kwargs)

    return apply
