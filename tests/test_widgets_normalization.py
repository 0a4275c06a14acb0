"""Tests for course.widgets.normalization: how noisy batch statistics are."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from course.data import load_digits_arrays
from course.widgets.normalization import BATCH_SIZES, batch_noise_explorer, batch_statistics, stairs


@pytest.fixture(scope="module")
def pixel():
    X, _ = load_digits_arrays()
    return X[:, 36]


def test_normalized_value_is_batchnorm1d_output(pixel):
    """Is 'normalized' what nn.BatchNorm1d (training mode, no affine) outputs for the example?"""
    stats = batch_statistics(pixel, batch_size=16, num_batches=5, example=3, seed=1)
    bn = torch.nn.BatchNorm1d(1, affine=False).train()
    for j, idx in enumerate(stats["example_indices"]):
        assert idx[0] == 3 and len(set(idx.tolist())) == 16  # the example, and 15 distinct others
        batch = torch.as_tensor(pixel[idx]).reshape(-1, 1)
        assert float(bn(batch)[0, 0]) == pytest.approx(float(stats["normalized"][j]), abs=1e-5)
    for j, idx in enumerate(stats["indices"]):
        assert len(set(idx.tolist())) == 16
        assert float(pixel[idx].mean()) == pytest.approx(float(stats["mean"][j]), abs=1e-6)
        assert float(pixel[idx].std()) == pytest.approx(float(stats["std"][j]), abs=1e-6)


def test_batches_are_uniform_samples(pixel):
    """Is every other example equally likely to join a batch (no example favoured)?"""
    stats = batch_statistics(pixel, batch_size=64, num_batches=2000, example=0)
    counts = np.bincount(stats["indices"].ravel(), minlength=len(pixel))
    expected = 2000 * 64 / len(pixel)  # about 71 per example
    assert counts.min() > 0.4 * expected and counts.max() < 1.8 * expected
    assert abs(counts.mean() - expected) < 1e-9


def test_batch_means_spread_like_sigma_over_root_b(pixel):
    """Does the spread of batch means follow σ/√B (with the finite-population correction)?"""
    n, sigma = len(pixel), pixel.std()
    for batch_size in (4, 32, 256):
        means = batch_statistics(pixel, batch_size, num_batches=600)["mean"]
        expected = sigma / np.sqrt(batch_size) * np.sqrt((n - batch_size) / (n - 1))
        assert np.std(means) == pytest.approx(expected, rel=0.15)


def test_whole_data_set_batch_has_the_population_statistics(pixel):
    """With one batch holding every example, are the batch statistics the data set's?"""
    stats = batch_statistics(pixel, len(pixel), num_batches=3)
    np.testing.assert_allclose(stats["mean"], pixel.mean(), rtol=1e-5)
    np.testing.assert_allclose(stats["std"], pixel.std(), rtol=1e-4)
    with pytest.raises(ValueError):
        batch_statistics(pixel, 1)


def test_every_batch_size_is_sent_with_its_histograms(pixel):
    """Does every batch size of the slider have its layer computed ahead, each histogram the
    outline of numpy's histogram of the statistics (scaled to its highest bar), narrower for
    larger batches?"""
    fig = batch_noise_explorer(pixel, batch_size=4, static=False, prefetch=False)
    fig.compute_ahead()
    explorer = fig.explorer
    widths = []
    for size in BATCH_SIZES:
        data = explorer.cached(explorer.layer_key("batches", {"batch_size": size}))
        assert data is not None, size
        stats = batch_statistics(pixel, size)
        counts, edges = np.histogram(np.clip(stats["mean"], pixel.mean() - 2.5 * pixel.std(),
                                             pixel.mean() + 2.5 * pixel.std()),
                                     bins=np.linspace(pixel.mean() - 2.5 * pixel.std(),
                                                      pixel.mean() + 2.5 * pixel.std(), 41))
        np.testing.assert_allclose(data.arrays[0], stairs(counts / counts.max(), edges), rtol=1e-6)
        assert f"B = {size}" in data.texts[0]
        widths.append(np.count_nonzero(counts))
    assert widths[0] > widths[-1]


def test_static_figure_shows_three_batch_sizes(pixel):
    """Headless, are batch sizes 4, 32 and 256 shown?"""
    fig = batch_noise_explorer(pixel, static=True)
    assert [s["batch_size"] for s in fig.settings] == [4, 32, 256]
    assert Image.open(io.BytesIO(fig.png())).size[1] > 400
