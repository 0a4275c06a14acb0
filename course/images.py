"""Image data for the augmentation lecture: generated shapes, and IDX files from disk.

- :func:`make_shapes` draws a labelled set of coloured shapes at any size, the same set
  for the same seed (labels are the shape; colours, position, size and angle vary).
- :func:`load_idx` reads one IDX file (the format of MNIST and Fashion-MNIST), gzip or raw;
  :func:`load_idx_dataset` reads an image/label pair from a folder the user has on disk.
  Nothing is downloaded.

>>> X, y = make_shapes(256, size=32, seed=0)
>>> X.shape, X.dtype, y[:5]
(torch.Size([256, 3, 32, 32]), torch.float32, tensor([...]))
"""
from __future__ import annotations

import gzip
import math
import os
import struct
from pathlib import Path

import numpy as np
import torch

__all__ = ["SHAPE_NAMES", "FASHION_MNIST_CLASSES", "make_shapes", "load_idx", "load_idx_dataset",
           "idx_file_names", "IDXFormatError"]

SHAPE_NAMES = ("circle", "square", "triangle", "cross", "ring")

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


# ---------------------------------------------------------------- generated shapes
def _signed_distance(shape: torch.Tensor, u: torch.Tensor, v: torch.Tensor, r: torch.Tensor):
    """Signed distance (negative inside) of every pixel to each sample's shape.

    ``u, v`` are ``(N, H, W)`` coordinates relative to the centre, already rotated;
    ``r`` is ``(N, 1, 1)``, the shape's radius; ``shape`` is ``(N, 1, 1)`` class indices.
    """
    dist = torch.sqrt(u ** 2 + v ** 2)
    circle = dist - r
    square = torch.maximum(u.abs(), v.abs()) - 0.8 * r
    # equilateral triangle: the largest projection on its three edge normals
    normals = [(math.cos(a), math.sin(a)) for a in (math.pi / 2, math.pi / 2 + 2 * math.pi / 3,
                                                   math.pi / 2 + 4 * math.pi / 3)]
    triangle = torch.stack([u * nx + v * ny for nx, ny in normals]).amax(dim=0) - 0.5 * r
    w = r / 3
    cross = torch.minimum(torch.maximum(u.abs() - w, v.abs() - r),
                          torch.maximum(v.abs() - w, u.abs() - r))
    ring = (dist - 0.75 * r).abs() - 0.25 * r
    choices = torch.stack([circle, square, triangle, cross, ring])  # (5, N, H, W)
    return torch.gather(choices, 0, shape.expand_as(circle).unsqueeze(0)).squeeze(0)


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``(N,)`` hue in [0, 1), saturation, value -> ``(N, 3)`` RGB (the standard formula)."""
    k = torch.stack([(5 + h * 6) % 6, (3 + h * 6) % 6, (1 + h * 6) % 6], dim=1)
    return v[:, None] - v[:, None] * s[:, None] * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def make_shapes(n: int, size: int = 32, seed: int = 0, classes: int = len(SHAPE_NAMES),
                noise: float = 0.02, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images of coloured shapes: ``X`` ``(n, 3, size, size)`` in [0, 1], ``y`` the shape.

    Each image shows one shape (:data:`SHAPE_NAMES`, the first ``classes`` of them) of a
    random colour on a darker random background, at a random position, size and angle,
    with anti-aliased edges and a little pixel noise. The same ``seed`` gives the same images
    at every ``size`` and on every device (the random draws happen on the CPU).
    """
    if not 1 <= classes <= len(SHAPE_NAMES):
        raise ValueError(f"classes must be between 1 and {len(SHAPE_NAMES)}, got {classes}")
    if size < 4:
        raise ValueError(f"size must be at least 4 pixels, got {size}")
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(classes, (n,), generator=g)
    radius = 0.35 + 0.3 * torch.rand(n, generator=g)                 # in [-1, 1] coordinates
    centre = (torch.rand(n, 2, generator=g) * 2 - 1) * (0.95 - radius)[:, None]
    angle = torch.rand(n, generator=g) * 2 * math.pi
    fg = _hsv_to_rgb(torch.rand(n, generator=g), 0.5 + 0.5 * torch.rand(n, generator=g),
                     0.7 + 0.3 * torch.rand(n, generator=g))
    bg = _hsv_to_rgb(torch.rand(n, generator=g), 0.2 + 0.5 * torch.rand(n, generator=g),
                     0.1 + 0.3 * torch.rand(n, generator=g))
    pixel_noise = noise * torch.randn(n, 3, size, size, generator=g)

    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1  # pixel centres
    images = []
    for start in range(0, n, 1024):  # bounded memory for large sets
        sl = slice(start, start + 1024)
        m = len(y[sl])
        dy = coords.view(1, -1, 1) - centre[sl, 1].view(-1, 1, 1)
        dx = coords.view(1, 1, -1) - centre[sl, 0].view(-1, 1, 1)
        cos, sin = torch.cos(angle[sl]).view(-1, 1, 1), torch.sin(angle[sl]).view(-1, 1, 1)
        u, v = cos * dx + sin * dy, -sin * dx + cos * dy
        sd = _signed_distance(y[sl].view(-1, 1, 1), u, -v, radius[sl].view(-1, 1, 1))
        alpha = torch.clamp(0.5 - sd * size / 2, 0, 1).unsqueeze(1)  # one pixel of soft edge
        image = bg[sl].view(m, 3, 1, 1) * (1 - alpha) + fg[sl].view(m, 3, 1, 1) * alpha
        images.append(torch.clamp(image + pixel_noise[sl], 0, 1))
    X = torch.cat(images) if images else torch.empty(0, 3, size, size)
    return X.to(device), y.to(device)


# ---------------------------------------------------------------- IDX files
class IDXFormatError(ValueError):
    """The file is not a well-formed IDX file (wrong magic number, truncated, extra bytes)."""


# IDX type codes -> big-endian NumPy dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError) as error:
            raise IDXFormatError(f"{path}: the gzip stream is damaged or truncated ({error})") from error
    return path.read_bytes()


def load_idx(path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw) into a NumPy array of its shape and type.

    The format: two zero bytes, a type code (0x08 unsigned byte ... 0x0E double), the number
    of dimensions ``d``, then ``d`` big-endian int32 sizes, then the values, big-endian.
    Raises ``FileNotFoundError`` for a missing file and :class:`IDXFormatError` for a
    malformed one, saying what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no IDX file at {path}")
    data = _read_bytes(path)
    if len(data) < 4:
        raise IDXFormatError(f"{path}: {len(data)} bytes is too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _IDX_TYPES:
        raise IDXFormatError(f"{path}: bad magic number 0x{data[:4].hex()} (expected 0x0000 followed "
                             f"by a type code in {sorted(hex(c) for c in _IDX_TYPES)} and the rank)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(f"{path}: truncated header ({len(data)} bytes, {header} expected)")
    shape = struct.unpack(f">{ndim}i", data[4:header])
    if any(s < 0 for s in shape):
        raise IDXFormatError(f"{path}: negative dimension in shape {shape}")
    dtype = np.dtype(_IDX_TYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise IDXFormatError(f"{path}: file {what}: shape {shape} of {dtype.name} needs "
                             f"{expected} bytes, found {len(data)}")
    array = np.frombuffer(data, dtype=dtype, count=int(np.prod(shape)), offset=header)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def idx_file_names(split: str = "train") -> tuple[str, str]:
    """The standard (Fashion-)MNIST file names for ``split``: images, labels (without ``.gz``)."""
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{name}[.gz] not found in {directory}: download Fashion-MNIST (or MNIST) "
                            f"and put its four IDX files there, or point to the folder that has them")


def load_idx_dataset(directory=None, split: str = "train", limit: int | None = None,
                     device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST or MNIST from the user's disk: ``X`` ``(N, 1, 28, 28)`` in [0, 1], ``y``.

    ``directory`` holds the standard files (``train-images-idx3-ubyte[.gz]``,
    ``train-labels-idx1-ubyte[.gz]``, ``t10k-...`` for ``split="test"``); by default the
    ``FASHION_MNIST_DIR`` environment variable. ``limit`` keeps the first examples only.
    """
    if directory is None:
        directory = os.environ.get("FASHION_MNIST_DIR")
        if not directory:
            raise FileNotFoundError("no folder given and FASHION_MNIST_DIR is not set")
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a folder")
    images_name, labels_name = idx_file_names(split)
    images = load_idx(_find(directory, images_name))
    labels = load_idx(_find(directory, labels_name))
    if images.ndim != 3 or labels.ndim != 1:
        raise IDXFormatError(f"expected images of rank 3 and labels of rank 1, got shapes "
                             f"{images.shape} and {labels.shape}")
    if images.dtype != np.uint8:
        raise IDXFormatError(f"expected unsigned-byte images, got {images.dtype}")
    if len(images) != len(labels):
        raise IDXFormatError(f"{len(images)} images but {len(labels)} labels in {directory}")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    X = torch.as_tensor(images, dtype=torch.float32).unsqueeze(1) / 255.0
    y = torch.as_tensor(labels.astype(np.int64))
    return X.to(device), y.to(device)
