"""The real-data loaders: IDX (Fashion-MNIST) and CIFAR-10 pickles, tested on small files written here by each format's spec."""
from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest
import torch

from course.images import (CIFAR10_CLASSES, FASHION_MNIST_CLASSES, CIFARFormatError, IDXFormatError,
                           idx_file_names, load_cifar10, load_idx, load_idx_dataset)


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


# ---------------------------------------------------------------- CIFAR-10 pickles
def cifar_batch(n, seed, python2=False):
    """One batch as CIFAR-10's python version stores it: a pickled dict with bytes keys, the
    images as uint8 rows of 3072 values (1024 red, 1024 green, 1024 blue, each row-major)."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).tolist()
    batch = {b"batch_label": b"training batch 1 of 5", b"labels": labels, b"data": data,
             b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    raw = pickle.dumps(batch, protocol=2)
    if python2:  # the files were written by Python 2 and NumPy 1: that module path
        raw = raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    return raw, data, labels


def write_cifar(folder, sizes=(3, 3, 3, 3, 3), test_size=4, python2=True):
    """The cifar-10-batches-py folder; returns the expected train and test arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    train_images, train_labels = [], []
    for i, n in enumerate(sizes, start=1):
        raw, data, labels = cifar_batch(n, seed=i, python2=python2)
        (folder / f"data_batch_{i}").write_bytes(raw)
        train_images.append(data)
        train_labels += labels
    raw, test_data, test_labels = cifar_batch(test_size, seed=99, python2=python2)
    (folder / "test_batch").write_bytes(raw)
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [c.encode() for c in CIFAR10_CLASSES]},
                                                       protocol=2))
    return (np.concatenate(train_images), np.array(train_labels)), (test_data, np.array(test_labels))


def expected_images(rows):
    """The spec's layout, decoded by hand: channel c of pixel (i, j) is row[c * 1024 + i * 32 + j] / 255."""
    n = len(rows)
    out = np.empty((n, 3, 32, 32), dtype=np.float64)
    for c in range(3):
        for i in range(32):
            out[:, c, i, :] = rows[:, c * 1024 + i * 32: c * 1024 + i * 32 + 32]
    return out / 255.0


@pytest.mark.parametrize("python2", [True, False])
def test_cifar_reads_every_training_batch_in_order_and_decodes_the_channel_layout(tmp_path, python2):
    """Are the five batches read in order as (N, 3, 32, 32) in [0, 1], red, green and blue planes where the spec puts them?"""
    (train_rows, train_labels), _ = write_cifar(tmp_path / "cifar-10-batches-py", python2=python2)
    X, y = load_cifar10(tmp_path / "cifar-10-batches-py")
    assert X.shape == (15, 3, 32, 32) and X.dtype == torch.float32 and y.dtype == torch.int64
    np.testing.assert_allclose(X.numpy(), expected_images(train_rows), rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), train_labels)


def test_cifar_test_split_limit_and_the_parent_folder(tmp_path):
    """Is the folder holding cifar-10-batches-py accepted, split='test' read, and limit respected?"""
    _, (test_rows, test_labels) = write_cifar(tmp_path / "cifar-10-batches-py")
    X, y = load_cifar10(tmp_path, split="test", limit=3)
    np.testing.assert_allclose(X.numpy(), expected_images(test_rows[:3]), rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), test_labels[:3])


def test_cifar_from_the_downloaded_archive_and_the_environment_variable(tmp_path, monkeypatch):
    """Is cifar-10-python.tar.gz read as downloaded, without unpacking, through CIFAR10_DIR?"""
    (train_rows, train_labels), _ = write_cifar(tmp_path / "unpacked" / "cifar-10-batches-py")
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "unpacked" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setenv("CIFAR10_DIR", str(archive))
    X, y = load_cifar10(limit=7)
    np.testing.assert_allclose(X.numpy(), expected_images(train_rows[:7]), rtol=1e-6)
    np.testing.assert_array_equal(y.numpy(), train_labels[:7])


def test_a_pickle_that_would_run_code_is_refused_without_running_it(tmp_path):
    """Does a batch file that names os.system raise CIFARFormatError, and the command never run?"""
    write_cifar(tmp_path)
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"data": Exploit()}, protocol=2))
    with pytest.raises(CIFARFormatError, match="refusing to load"):
        load_cifar10(tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[: len(raw) // 2], "not a readable CIFAR-10 batch"),
    (lambda raw: pickle.dumps([1, 2, 3], protocol=2), "expected a dict"),
    (lambda raw: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}, protocol=2), "no labels"),
    (lambda raw: pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, protocol=2), "3072"),
    (lambda raw: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, protocol=2),
     "2 images but 1 labels"),
    (lambda raw: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]}, protocol=2),
     "labels outside"),
])
def test_a_damaged_batch_says_which_file_and_what_is_wrong(tmp_path, damage, message):
    """Does a truncated or malformed batch raise CIFARFormatError naming the file and the problem?"""
    write_cifar(tmp_path)
    path = tmp_path / "data_batch_2"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CIFARFormatError, match=message) as error:
        load_cifar10(tmp_path)
    assert "data_batch_2" in str(error.value)


def test_cifar_missing_files_and_settings_are_explained(tmp_path, monkeypatch):
    """No variable, no folder, a missing batch, a bad split: does each error say what to do?"""
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="CIFAR10_DIR"):
        load_cifar10()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_cifar10(tmp_path / "absent")
    write_cifar(tmp_path)
    (tmp_path / "data_batch_4").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_4"):
        load_cifar10(tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_cifar10(tmp_path, split="val")
    (tmp_path / "not-a-tar.tar.gz").write_bytes(b"hello")
    with pytest.raises(CIFARFormatError, match="tar"):
        load_cifar10(tmp_path / "not-a-tar.tar.gz")


def test_cifar_class_names():
    """Ten CIFAR-10 classes in the data set's order (airplane first, truck last)?"""
    assert len(CIFAR10_CLASSES) == 10 and CIFAR10_CLASSES[0] == "airplane" and CIFAR10_CLASSES[9] == "truck"
