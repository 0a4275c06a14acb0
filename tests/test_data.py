"""The bundled digits as tensors: sizes, disjoint stratified splits, and standardization
checked against scikit-learn's own StandardScaler."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from course.data import Split, as_tensors, digits_split, image_split, load_digits_arrays, standardize


def test_the_digits_arrays_are_sklearns_scaled_to_the_unit_interval():
    """Are X the 1,797 scikit-learn digits divided by 16 (float32) and y their labels (int64)?"""
    X, y = load_digits_arrays()
    bunch = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X, bunch.data / 16.0, rtol=1e-6)
    np.testing.assert_array_equal(y, bunch.target)
    assert 0.0 <= X.min() and X.max() <= 1.0


def test_binary_below_labels_the_small_digits_one():
    """With binary_below=3, is y 1 exactly for the digits 0, 1 and 2?"""
    _, y = load_digits_arrays(binary_below=3)
    np.testing.assert_array_equal(y, (load_digits().target < 3).astype(np.int64))


def test_the_cached_arrays_cannot_be_changed_through_a_copy():
    """Does changing a returned array leave the next call's data untouched?"""
    X, _ = load_digits_arrays()
    X[:] = 0
    assert load_digits_arrays()[0].max() == 1.0


def rows(X: torch.Tensor) -> Counter:
    return Counter(map(tuple, X.reshape(len(X), -1).tolist()))


def test_the_splits_are_disjoint_cover_the_data_and_have_60_20_20_sizes():
    """Unstandardized, do train, validation and test hold together exactly the 1,797 digits, 60/20/20?"""
    split = digits_split(seed=0, standardized=False)
    sizes = len(split.X_train), len(split.X_val), len(split.X_test)
    assert sum(sizes) == 1797 and sizes == pytest.approx((1078, 359, 359), abs=2)
    X, y = load_digits_arrays()
    together = rows(split.X_train) + rows(split.X_val) + rows(split.X_test)
    assert together == rows(torch.from_numpy(X))
    labelled = Counter(zip(map(tuple, torch.cat([split.X_train, split.X_val, split.X_test]).tolist()),
                           torch.cat([split.y_train, split.y_val, split.y_test]).tolist()))
    assert labelled == Counter(zip(map(tuple, X.tolist()), y.tolist()))


def test_every_split_keeps_the_class_proportions():
    """Stratified: does each split hold each digit within one example of its share?"""
    split = digits_split(seed=1, standardized=False)
    _, y = load_digits_arrays()
    share = np.bincount(y) / len(y)
    for labels in (split.y_train, split.y_val, split.y_test):
        counts = np.bincount(labels.numpy(), minlength=10)
        assert np.all(np.abs(counts - share * len(labels)) <= 1.5)


def test_standardization_matches_sklearns_scaler_fitted_on_the_training_set():
    """Are all three splits transformed with the training statistics, as StandardScaler does, and finite
    where a pixel never lights up in the training set?"""
    raw = digits_split(seed=0, standardized=False)
    scaled = digits_split(seed=0)
    scaler = StandardScaler().fit(raw.X_train.numpy())
    for name in ("train", "val", "test"):
        expected = scaler.transform(getattr(raw, f"X_{name}").numpy())
        np.testing.assert_allclose(getattr(scaled, f"X_{name}").numpy(), expected, rtol=1e-4, atol=1e-4)
    assert torch.isfinite(scaled.X_val).all() and torch.isfinite(scaled.X_test).all()


def test_standardize_uses_only_the_first_arrays_statistics():
    """Does the second array get the first one's mean and standard deviation, not its own?"""
    rng = np.random.default_rng(0)
    A, B = rng.normal(3.0, 2.0, size=(500, 4)), rng.normal(10.0, 5.0, size=(100, 4))
    A_std, B_std = standardize(A, B)
    np.testing.assert_allclose(A_std.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(A_std.std(axis=0), 1.0, atol=1e-6)
    np.testing.assert_allclose(B_std, (B - A.mean(axis=0)) / A.std(axis=0), rtol=1e-6)


def test_the_same_seed_gives_the_same_split_and_another_seed_another():
    """Is a split a function of its seed?"""
    a, b, c = digits_split(seed=0), digits_split(seed=0), digits_split(seed=1)
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_train, c.y_train)


def test_images_n_train_and_no_test_set():
    """Do images=True give (N, 1, 8, 8) views of the same pixels, n_train cut the training set, and
    test_fraction=0 leave an empty test set?"""
    flat, images = digits_split(seed=0), digits_split(seed=0, images=True)
    assert images.X_train.shape[1:] == (1, 8, 8) and images.num_features == 64
    assert torch.equal(images.X_train.reshape(len(images.X_train), -1), flat.X_train)
    small = digits_split(seed=0, n_train=50)
    assert len(small.X_train) == len(small.y_train) == 50
    no_test = digits_split(seed=0, test_fraction=0.0)
    assert len(no_test.X_test) == 0 and len(no_test.X_train) + len(no_test.X_val) == 1797


def test_tensors_have_the_dtypes_training_expects():
    """Are features float32 and labels int64 on the requested device, with ten classes (or two)?"""
    split = digits_split(seed=0, device="cpu")
    assert isinstance(split, Split) and split.num_classes == 10
    assert split.X_train.dtype == torch.float32 and split.y_train.dtype == torch.int64
    assert split.train[0] is split.X_train and split.val[1] is split.y_val
    assert digits_split(seed=0, binary_below=5).num_classes == 2
    moved = split.to("cpu")
    assert torch.equal(moved.X_test, split.X_test) and moved.num_classes == 10
    X, y = as_tensors(np.zeros((3, 2), dtype=np.float64), np.array([1, 0, 1]))
    assert X.dtype == torch.float32 and y.dtype == torch.int64


# ---------------------------------------------------------------- image_split
def test_generated_images_split_sizes_names_and_per_channel_standardization():
    """Are the shapes split into the asked sizes, named, and standardized per channel with training statistics only?"""
    from course.shapes import SHAPE_NAMES, TEST_SEED, make_shapes

    split = image_split("shapes", n_train=300, n_val=100, n_test=200, seed=3)
    assert split.X_train.shape == (300, 3, 32, 32) and len(split.X_val) == 100 and len(split.X_test) == 200
    assert split.num_classes == 10 and split.class_names == SHAPE_NAMES
    # training statistics: each channel of the training set has mean 0 and std 1
    torch.testing.assert_close(split.X_train.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(split.X_train.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-5, rtol=0)
    # the test images are the fixed held-out seed's, mapped with the training mean and std
    raw_train, _ = make_shapes(300, seed=3)
    raw_test, y_test = make_shapes(200, seed=TEST_SEED)
    mean, std = raw_train.mean(dim=(0, 2, 3), keepdim=True), raw_train.std(dim=(0, 2, 3), keepdim=True)
    torch.testing.assert_close(split.X_test, (raw_test - mean) / std)
    assert torch.equal(split.y_test, y_test)


def test_every_training_seed_is_measured_on_the_same_held_out_images():
    """Do two training seeds give different training images but the same validation and test labels?"""
    a = image_split(n_train=50, n_val=40, n_test=60, seed=0, standardized=False)
    b = image_split(n_train=50, n_val=40, n_test=60, seed=1, standardized=False)
    assert not torch.equal(a.X_train, b.X_train)
    assert torch.equal(a.X_test, b.X_test) and torch.equal(a.X_val, b.X_val)


def test_course_data_switches_to_cifar10_from_the_users_files(tmp_path, monkeypatch):
    """With COURSE_DATA=cifar10 and CIFAR10_DIR, do disjoint training/validation subsets and the test batch come back?"""
    from test_images import write_cifar

    (train_rows, _), _ = write_cifar(tmp_path / "cifar-10-batches-py", sizes=(8, 8, 8, 8, 8), test_size=6)
    monkeypatch.setenv("COURSE_DATA", "cifar10")
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path))
    split = image_split(n_train=20, n_val=10, n_test=5, seed=0, standardized=False)
    assert split.class_names[0] == "airplane" and split.X_train.shape == (20, 3, 32, 32)
    rows = {tuple((x * 255).round().to(torch.uint8).flatten().tolist()) for x in torch.cat([split.X_train, split.X_val])}
    assert len(rows) == 30  # disjoint: thirty different images
    assert rows <= {tuple(r) for r in train_rows}
    with pytest.raises(ValueError, match="too many"):
        image_split(n_train=35, n_val=10)


def test_an_unknown_image_source_lists_the_choices(monkeypatch):
    """Is COURSE_DATA=imagenet refused with the sources it could be?"""
    monkeypatch.setenv("COURSE_DATA", "imagenet")
    with pytest.raises(ValueError, match="shapes, fashion-mnist, cifar10"):
        image_split(n_train=10)


def test_the_held_out_images_are_drawn_once_and_cannot_be_changed_through_a_split():
    """Does changing one split's test images in place leave the next split's held-out images intact?"""
    first = image_split(n_train=10, n_val=20, n_test=30, seed=0, standardized=False)
    expected = first.X_test.clone()
    first.X_test.zero_()
    first.X_val.zero_()
    second = image_split(n_train=10, n_val=20, n_test=30, seed=1, standardized=False)
    assert torch.equal(second.X_test, expected) and float(second.X_val.abs().sum()) > 0
