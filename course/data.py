"""Data sets the course trains on. Nothing is downloaded.

- The handwritten digits bundled with scikit-learn (1,797 images, 8x8, ten classes).
- Train/validation/test splits as torch tensors, standardized with the training statistics.

>>> split = digits_split(seed=0)
>>> split.X_train.shape, split.num_classes
(torch.Size([1078, 64]), 10)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

__all__ = ["load_digits_arrays", "digits_split", "Split", "standardize", "as_tensors"]


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
        return Split(num_classes=self.num_classes, **moved)


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
