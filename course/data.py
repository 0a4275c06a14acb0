"""Data sets the course trains on, as train/validation/test splits. Nothing is downloaded.

- :func:`image_split`: 32×32 colour images for the convolutional networks: the course's
  generated shapes (:mod:`course.shapes`, the default), or Fashion-MNIST or CIFAR-10 from
  files the user has (:mod:`course.images`). ``COURSE_DATA=cifar10`` (or ``fashion-mnist``)
  switches every lecture to real data.
- :func:`digits_split`: the handwritten digits bundled with scikit-learn (1,797 images, 8×8,
  ten classes), for the small examples that need no convolutional network.
- Splits are torch tensors, standardized with the training statistics only.

>>> split = image_split(n_train=2000, seed=0)
>>> split.X_train.shape, split.num_classes
(torch.Size([2000, 3, 32, 32]), 10)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

__all__ = ["load_digits_arrays", "digits_split", "image_split", "IMAGE_SOURCES", "Split", "standardize",
           "as_tensors"]

IMAGE_SOURCES = ("shapes", "fashion-mnist", "cifar10")


@lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = (bunch.data / 16.0).astype(np.float32)  # pixel intensities 0..16 -> 0..1
    y = bunch.target.astype(np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_digits_arrays(binary_below: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The digits as NumPy arrays: ``X`` ``(1797, 64)`` float32 in [0, 1], ``y`` int64.

    ``binary_below=3`` turns it into the binary task "is the digit smaller than 3" (y in {0, 1}).
    """
    X, y = _digits()
    X, y = X.copy(), y.copy()
    if binary_below is not None:
        y = (y < binary_below).astype(np.int64)
    return X, y


@dataclass(frozen=True)
class Split:
    """A train/validation/test split of tensors (``X_test`` may be empty)."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    class_names: tuple[str, ...] = ()

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X_train, self.y_train

    @property
    def val(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X_val, self.y_val

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.X_test, self.y_test

    @property
    def num_features(self) -> int:
        return int(np.prod(self.X_train.shape[1:]))

    def to(self, device) -> "Split":
        moved = {name: getattr(self, name).to(device) for name in
                 ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")}
        return Split(num_classes=self.num_classes, class_names=self.class_names, **moved)


def standardize(X_train: np.ndarray, *others: np.ndarray, eps: float = 1e-8):
    """Standardize every array with the *training* mean and standard deviation per feature.

    x' = (x - mean_train) / std_train. Statistics never come from validation or test data. A
    feature that is constant in the training data (std below ``eps``, such as the digits' always
    blank corner pixels) is only centred, as scikit-learn's ``StandardScaler`` does: dividing by a
    near-zero std would blow the rare non-zero validation value up to millions.
    """
    mean = X_train.mean(axis=0, keepdims=True)
    std = X_train.std(axis=0, keepdims=True)
    std = np.where(std > eps, std, 1.0)
    return tuple((X - mean) / std for X in (X_train, *others))


def as_tensors(X: np.ndarray, y: np.ndarray, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """NumPy features and labels as float32 and int64 tensors on ``device``."""
    return (torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32, device=device),
            torch.as_tensor(np.ascontiguousarray(y), dtype=torch.int64, device=device))


def digits_split(seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.2,
                 standardized: bool = True, binary_below: int | None = None,
                 images: bool = False, n_train: int | None = None, device=None) -> Split:
    """The digits split into train/validation/test tensors, stratified by class.

    ``standardized`` uses training statistics only; ``images=True`` gives ``(N, 1, 8, 8)``
    instead of ``(N, 64)``; ``n_train`` keeps only that many training examples (for
    overfitting and data-scarcity experiments).
    """
    from sklearn.model_selection import train_test_split

    X, y = load_digits_arrays(binary_below)
    num_classes = int(y.max()) + 1
    X_rest, X_test, y_rest, y_test = (X, X[:0], y, y[:0]) if test_fraction == 0 else \
        train_test_split(X, y, test_size=test_fraction, random_state=seed, stratify=y)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_fraction / (1 - test_fraction), random_state=seed, stratify=y_rest)
    if n_train is not None:
        X_train, y_train = X_train[:n_train], y_train[:n_train]
    if standardized:
        X_train, X_val, X_test = standardize(X_train, X_val, X_test)
    if images:
        X_train, X_val, X_test = (a.reshape(-1, 1, 8, 8) for a in (X_train, X_val, X_test))
    tensors = {}
    for name, (Xa, ya) in {"train": (X_train, y_train), "val": (X_val, y_val),
                           "test": (X_test, y_test)}.items():
        tensors[f"X_{name}"], tensors[f"y_{name}"] = as_tensors(Xa, ya, device)
    return Split(num_classes=num_classes, **tensors)


@lru_cache(maxsize=4)
def _held_out_shapes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The generated validation or test images, drawn once per process: every training seed of a
    lecture is measured on them, and drawing them again for each run costs time for nothing."""
    from .shapes import make_shapes

    return make_shapes(n, seed=seed)


def image_split(source: str | None = None, n_train: int = 4000, n_val: int = 1000, n_test: int = 2000,
                seed: int = 0, standardized: bool = True, directory=None, device=None) -> Split:
    """Images ``(N, C, H, W)`` split into train/validation/test, standardized per channel.

    ``source``: ``"shapes"`` (the generated set, 3×32×32), ``"fashion-mnist"`` (1×28×28, from
    ``FASHION_MNIST_DIR`` or ``directory``) or ``"cifar10"`` (3×32×32, from ``CIFAR10_DIR`` or
    ``directory``); by default the ``COURSE_DATA`` environment variable, else ``"shapes"``.

    The generated training images come from ``seed``, its validation and test images from
    fixed seeds (every training seed is measured on the same held-out images). For real data
    the training and validation images are disjoint random subsets of the data set's training
    split (drawn with ``seed``) and the test images the first ``n_test`` of its test split.
    The mean and standard deviation per channel come from the training images only.
    """
    from .images import CIFAR10_CLASSES, FASHION_MNIST_CLASSES, load_cifar10, load_idx_dataset
    from .shapes import SHAPE_NAMES, TEST_SEED, VAL_SEED, make_shapes

    source = (source or os.environ.get("COURSE_DATA", "").strip() or "shapes").lower()
    if source not in IMAGE_SOURCES:
        raise ValueError(f"unknown image source {source!r}: choose one of {', '.join(IMAGE_SOURCES)}")
    if source == "shapes":
        names = SHAPE_NAMES
        X_train, y_train = make_shapes(n_train, seed=seed)
        X_val, y_val = (t.clone() for t in _held_out_shapes(n_val, VAL_SEED))
        X_test, y_test = (t.clone() for t in _held_out_shapes(n_test, TEST_SEED))
    else:
        load, names = ((load_idx_dataset, FASHION_MNIST_CLASSES) if source == "fashion-mnist"
                       else (load_cifar10, CIFAR10_CLASSES))
        X_all, y_all = load(directory, split="train")
        if n_train + n_val > len(X_all):
            raise ValueError(f"{source} has {len(X_all)} training images: n_train + n_val = {n_train + n_val} "
                             f"is too many")
        order = torch.randperm(len(X_all), generator=torch.Generator().manual_seed(seed))
        X_train, y_train = X_all[order[:n_train]], y_all[order[:n_train]]
        X_val, y_val = X_all[order[n_train:n_train + n_val]], y_all[order[n_train:n_train + n_val]]
        X_test, y_test = load(directory, split="test", limit=n_test)
    if standardized:
        mean = X_train.mean(dim=(0, 2, 3), keepdim=True)
        std = X_train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-8)
        X_train, X_val, X_test = ((X - mean) / std for X in (X_train, X_val, X_test))
    return Split(X_train.to(device), y_train.to(device), X_val.to(device), y_val.to(device),
                 X_test.to(device), y_test.to(device), num_classes=len(names), class_names=tuple(names))
