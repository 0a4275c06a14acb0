"""Real image data sets from files the user already has: Fashion-MNIST (IDX) and CIFAR-10 (pickles).

Nothing is downloaded. Each loader reads a folder the user names, by argument or by an
environment variable, and says exactly which file is missing or malformed.

- :func:`load_idx` reads one IDX file (the format of MNIST and Fashion-MNIST), gzip or raw;
  :func:`load_idx_dataset` reads an image/label pair from ``FASHION_MNIST_DIR``.
- :func:`load_cifar10` reads CIFAR-10's "python version" (``data_batch_1`` ... ``data_batch_5``,
  ``test_batch``) from ``CIFAR10_DIR``: the ``cifar-10-batches-py`` folder, the folder holding it,
  or the ``cifar-10-python.tar.gz`` archive as downloaded. The pickles are read by an unpickler
  that accepts NumPy arrays and nothing else, so a tampered file cannot run code.

The course's own generated images are in :mod:`course.shapes`; :func:`course.data.image_split`
gives any of the three as standardized train/validation/test tensors.
"""
from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import torch

__all__ = ["FASHION_MNIST_CLASSES", "CIFAR10_CLASSES", "load_idx", "load_idx_dataset", "idx_file_names",
           "IDXFormatError", "load_cifar10", "CIFARFormatError"]

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


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


# ---------------------------------------------------------------- CIFAR-10 pickles
class CIFARFormatError(ValueError):
    """A CIFAR-10 batch file is not what the data set's python version contains."""


CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_ARCHIVE = "cifar-10-python.tar.gz"
_CIFAR_FILES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
# what a CIFAR batch pickle may name: NumPy's array reconstruction (under NumPy 1's and 2's
# module names) and the codec Python 3 pickles use for bytes. Anything else is refused.
_ALLOWED_GLOBALS = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise CIFARFormatError(f"refusing to load {module}.{name}: a CIFAR-10 batch holds only arrays, "
                                   f"lists and strings")
        return super().find_class(module, name)


def _unpickle_batch(data: bytes, where: str) -> dict:
    try:
        batch = _ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()
    except CIFARFormatError as error:
        raise CIFARFormatError(f"{where}: {error}") from None
    except Exception as error:  # noqa: BLE001 - any unpickling failure means a damaged file
        raise CIFARFormatError(f"{where}: not a readable CIFAR-10 batch ({type(error).__name__}: {error})") from None
    if not isinstance(batch, dict):
        raise CIFARFormatError(f"{where}: expected a dict, found {type(batch).__name__}")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    missing = {"data", "labels"} - set(batch)
    if missing:
        raise CIFARFormatError(f"{where}: no {' and no '.join(sorted(missing))} entry (found {sorted(batch)})")
    images = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3 * 32 * 32:
        raise CIFARFormatError(f"{where}: expected unsigned-byte rows of 3072 values (32x32 pixels, red then "
                               f"green then blue), found {images.dtype} of shape {images.shape}")
    if labels.shape != (len(images),):
        raise CIFARFormatError(f"{where}: {len(images)} images but {labels.size} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CIFAR10_CLASSES)):
        raise CIFARFormatError(f"{where}: labels outside 0..9 (from {labels.min()} to {labels.max()})")
    return {"data": images, "labels": labels}


def _cifar_batches(source: Path, names: tuple[str, ...]):
    """Yield ``(name, bytes)`` for each batch file, from a folder or from the .tar.gz archive."""
    if source.is_file():
        try:
            with tarfile.open(source, "r:*") as archive:
                members = {Path(m.name).name: m for m in archive.getmembers()
                           if m.isfile() and Path(m.name).parent.name == CIFAR_FOLDER}
                for name in names:
                    if name not in members:
                        raise FileNotFoundError(f"{source} has no {CIFAR_FOLDER}/{name}")
                    yield f"{source}:{name}", archive.extractfile(members[name]).read()
        except tarfile.TarError as error:
            raise CIFARFormatError(f"{source}: not a readable tar archive ({error})") from None
        return
    folder = source / CIFAR_FOLDER if (source / CIFAR_FOLDER).is_dir() else source
    for name in names:
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{name} not found in {folder}: download CIFAR-10's python version and "
                                    f"point CIFAR10_DIR at {CIFAR_ARCHIVE} or at the folder it unpacks to")
        yield str(path), path.read_bytes()


def load_cifar10(directory=None, split: str = "train", limit: int | None = None,
                 device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 from the user's disk: ``X`` ``(N, 3, 32, 32)`` float32 in [0, 1], ``y`` int64.

    ``directory``: by default the ``CIFAR10_DIR`` environment variable; the folder
    ``cifar-10-batches-py``, the folder that holds it, or the ``cifar-10-python.tar.gz``
    archive. ``split``: ``"train"`` (the five data batches, 50,000 images) or ``"test"``
    (10,000). ``limit`` keeps the first examples only (and reads no more batches than needed).
    """
    if split not in _CIFAR_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if directory is None:
        directory = os.environ.get("CIFAR10_DIR")
        if not directory:
            raise FileNotFoundError("no folder given and CIFAR10_DIR is not set")
    source = Path(directory).expanduser()
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist")
    images, labels, count = [], [], 0
    for where, data in _cifar_batches(source, _CIFAR_FILES[split]):
        batch = _unpickle_batch(data, where)
        images.append(batch["data"])
        labels.append(batch["labels"])
        count += len(batch["labels"])
        if limit is not None and count >= limit:
            break
    X = np.concatenate(images)[:limit].reshape(-1, 3, 32, 32)
    y = np.concatenate(labels)[:limit]
    return (torch.as_tensor(X, dtype=torch.float32).div_(255.0).to(device),
            torch.as_tensor(y).to(device))
