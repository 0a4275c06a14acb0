"""Generated shapes and the IDX reader (tested on small IDX files written here, by the spec)."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from course.images import (FASHION_MNIST_CLASSES, SHAPE_NAMES, IDXFormatError, idx_file_names,
                           load_idx, load_idx_dataset, make_shapes)


# ---------------------------------------------------------------- shapes
def test_shapes_have_the_documented_shape_type_and_range():
    """Are the images (n, 3, size, size) float32 in [0, 1] with int64 labels of every class?"""
    X, y = make_shapes(300, size=24, seed=0)
    assert X.shape == (300, 3, 24, 24) and X.dtype == torch.float32
    assert y.dtype == torch.int64 and set(y.tolist()) == set(range(len(SHAPE_NAMES)))
    assert float(X.min()) >= 0.0 and float(X.max()) <= 1.0


def test_same_seed_same_images_other_seed_other_images():
    """Is the set deterministic under its seed?"""
    X1, y1 = make_shapes(20, size=16, seed=3)
    X2, y2 = make_shapes(20, size=16, seed=3)
    X3, _ = make_shapes(20, size=16, seed=4)
    assert torch.equal(X1, X2) and torch.equal(y1, y2) and not torch.equal(X1, X3)


def test_labels_do_not_depend_on_the_size():
    """Does the same seed give the same labels at 16 and 64 pixels (the same scene, finer)?"""
    _, y16 = make_shapes(50, size=16, seed=1)
    X64, y64 = make_shapes(50, size=64, seed=1)
    assert torch.equal(y16, y64) and X64.shape[-1] == 64


def test_the_label_is_the_shape():
    """Noise-free, does a shape cover the area its geometry says (circle > square > triangle)?

    For the same radius r: circle πr² ≈ 3.1 r², square (1.6 r)² = 2.56 r², triangle with
    inradius r/2: 3√3 (r/2)² ≈ 1.3 r². Radii are drawn independently of the class.
    """
    X, y = make_shapes(600, size=32, seed=2, noise=0.0)
    background = X[:, :, :1, :1]                         # the corner pixel is always background
    covered = ((X - background).abs().amax(dim=1) > 0.05).float().mean(dim=(1, 2))
    area = {name: float(covered[y == k].mean()) for k, name in enumerate(SHAPE_NAMES)}
    assert area["circle"] > area["square"] > area["triangle"]
    assert area["triangle"] / area["circle"] == pytest.approx(1.3 / np.pi, rel=0.2)


def test_fewer_classes():
    """With classes=2, are only circles and squares drawn?"""
    _, y = make_shapes(100, size=8, classes=2)
    assert set(y.tolist()) == {0, 1}
    with pytest.raises(ValueError):
        make_shapes(10, classes=len(SHAPE_NAMES) + 1)


def test_device_argument():
    """Are the tensors delivered on the requested device?"""
    X, y = make_shapes(4, size=8, device="meta")
    assert X.device.type == "meta" and y.device.type == "meta"


# ---------------------------------------------------------------- IDX files
def write_idx(path, array, type_code=0x08, compress=False, raw=None):
    """An IDX file by the spec: 0x00 0x00, type code, rank, big-endian sizes, big-endian values."""
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    data = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    data += np.asarray(array, dtype=dtype).tobytes()
    if raw is not None:
        data = raw(data)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(data)
    return path


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_reads_images_and_labels(tmp_path, compress):
    """Does the reader give back exactly the written uint8 images and labels, raw or gzipped?"""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    np.testing.assert_array_equal(load_idx(write_idx(tmp_path / f"i{suffix}", images, compress=compress)), images)
    np.testing.assert_array_equal(load_idx(write_idx(tmp_path / f"l{suffix}", labels, compress=compress)), labels)


@pytest.mark.parametrize("code,dtype", [(0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                                        (0x0D, np.float32), (0x0E, np.float64)])
def test_reads_every_type_code_big_endian(tmp_path, code, dtype):
    """Are signed, wide and floating types read big-endian into native arrays of that type?"""
    array = (np.arange(24).reshape(2, 3, 4) - 10).astype(dtype)
    out = load_idx(write_idx(tmp_path / "x", array, type_code=code))
    assert out.dtype == dtype and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_bad_magic_number(tmp_path):
    """Is a file that does not start with 0x0000 + a type code rejected, naming the magic number?"""
    path = write_idx(tmp_path / "x", np.zeros((2, 2), np.uint8), raw=lambda d: b"\x12\x34" + d[2:])
    with pytest.raises(IDXFormatError, match="magic"):
        load_idx(path)
    path = write_idx(tmp_path / "y", np.zeros((2, 2), np.uint8), raw=lambda d: d[:2] + b"\x07" + d[3:])
    with pytest.raises(IDXFormatError, match="magic"):
        load_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_truncated_file(tmp_path, compress):
    """Is a file missing its last bytes rejected as truncated, with the sizes?"""
    path = write_idx(tmp_path / "x", np.ones((3, 4, 4), np.uint8), compress=compress, raw=lambda d: d[:-5])
    with pytest.raises(IDXFormatError, match="truncated"):
        load_idx(path)


def test_truncated_header(tmp_path):
    """Is a file cut inside its header rejected?"""
    path = write_idx(tmp_path / "x", np.ones((3, 4, 4), np.uint8), raw=lambda d: d[:9])
    with pytest.raises(IDXFormatError, match="header"):
        load_idx(path)


def test_trailing_bytes(tmp_path):
    """Is a file with extra bytes after the data rejected?"""
    path = write_idx(tmp_path / "x", np.ones((2, 2), np.uint8), raw=lambda d: d + b"\x00")
    with pytest.raises(IDXFormatError, match="trailing"):
        load_idx(path)


def test_damaged_gzip(tmp_path):
    """Is a gzip stream cut short reported as an IDX format error, not a bare EOFError?"""
    path = tmp_path / "x.gz"
    write_idx(path, np.ones((50, 28, 28), np.uint8), compress=True)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(IDXFormatError, match="gzip"):
        load_idx(path)


def test_missing_file(tmp_path):
    """Does a missing file raise FileNotFoundError with its path?"""
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        load_idx(tmp_path / "nothing-here")


def write_dataset(folder, n=5, split="train", compress=True, n_labels=None):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n if n_labels is None else n_labels, dtype=np.uint8)
    images_name, labels_name = idx_file_names(split)
    suffix = ".gz" if compress else ""
    write_idx(folder / f"{images_name}{suffix}", images, compress=compress)
    write_idx(folder / f"{labels_name}{suffix}", labels, compress=compress)
    return images, labels


@pytest.mark.parametrize("split", ["train", "test"])
def test_dataset_as_tensors(tmp_path, split):
    """Is the data set (N, 1, 28, 28) float in [0, 1] = bytes / 255, with int64 labels?"""
    images, labels = write_dataset(tmp_path, split=split)
    X, y = load_idx_dataset(tmp_path, split=split)
    assert X.shape == (5, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    np.testing.assert_allclose(X[:, 0].numpy(), images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), labels)


def test_dataset_uncompressed_and_limit(tmp_path):
    """Are raw files found too, and does limit keep the first examples?"""
    images, _ = write_dataset(tmp_path, n=9, compress=False)
    X, y = load_idx_dataset(tmp_path, limit=4)
    assert len(X) == len(y) == 4
    np.testing.assert_allclose(X[:, 0].numpy() * 255, images[:4], atol=1e-4)


def test_dataset_from_environment_variable(tmp_path, monkeypatch):
    """Without a folder, is FASHION_MNIST_DIR used?"""
    write_dataset(tmp_path)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    X, _ = load_idx_dataset()
    assert len(X) == 5


def test_dataset_errors(tmp_path, monkeypatch):
    """Missing folder, variable, file, mismatched counts, bad split: is each error clear?"""
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="FASHION_MNIST_DIR"):
        load_idx_dataset()
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_idx_dataset(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_idx_dataset(tmp_path)
    write_dataset(tmp_path, n=5, n_labels=4)
    with pytest.raises(IDXFormatError, match="5 images but 4 labels"):
        load_idx_dataset(tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_idx_dataset(tmp_path, split="validation")


def test_class_names():
    """Ten Fashion-MNIST classes in the standard order?"""
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[9] == "Ankle boot"
