"""Calibration error and reliability bins, checked against scikit-learn's calibration_curve and by construction."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.calibration import calibration_curve

from course.calibration import expected_calibration_error, plot_reliability, reliability_bins


def random_predictions(n=2000, num_classes=10, seed=0, temperature=1.0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, num_classes, generator=g) * 3 / temperature
    y = torch.randint(num_classes, (n,), generator=g)
    # make the label follow the logits often, so that accuracy varies with confidence
    follow = torch.rand(n, generator=g) < 0.6
    y = torch.where(follow, logits.argmax(1), y)
    return logits.softmax(dim=1), y


@pytest.mark.parametrize("num_bins", [5, 10, 15])
def test_bins_agree_with_sklearn_calibration_curve(num_bins):
    """Are the per-bin accuracy and mean confidence scikit-learn's, for top-label confidence?"""
    probs, y = random_predictions()
    confidence, predicted = probs.max(1)
    correct = (predicted == y).numpy().astype(float)
    prob_true, prob_pred = calibration_curve(correct, confidence.double().numpy(), n_bins=num_bins,
                                             strategy="uniform")
    bins = reliability_bins(probs, y, num_bins)
    filled = bins.counts > 0
    np.testing.assert_allclose(bins.accuracy[filled].numpy(), prob_true, atol=1e-6)
    np.testing.assert_allclose(bins.confidence[filled].numpy(), prob_pred, atol=1e-6)
    counts, _ = np.histogram(confidence.numpy(), bins=np.linspace(0, 1, num_bins + 1))
    np.testing.assert_array_equal(bins.counts.numpy(), counts)
    ece = np.sum(counts[counts > 0] / len(y) * np.abs(prob_true - prob_pred))
    assert expected_calibration_error(probs, y, num_bins) == pytest.approx(ece, abs=1e-6)


def test_certain_predictions_have_ece_one_minus_accuracy():
    """Is a network that is always 100 % sure off by exactly its error rate?"""
    y = torch.arange(10).repeat(10)                      # 100 labels
    predicted = y.clone()
    predicted[:37] = (predicted[:37] + 1) % 10           # 37 wrong
    probs = torch.nn.functional.one_hot(predicted, 10).float()
    assert expected_calibration_error(probs, y) == pytest.approx(0.37, abs=1e-6)


def test_calibrated_by_construction_has_small_ece():
    """When each prediction is right with exactly its confidence, does ECE go to zero?"""
    g = torch.Generator().manual_seed(1)
    n = 200_000
    confidence = 0.5 + 0.5 * torch.rand(n, generator=g)            # two classes: max prob in [0.5, 1]
    probs = torch.stack([confidence, 1 - confidence], dim=1)
    right = torch.rand(n, generator=g) < confidence
    y = torch.where(right, 0, 1)
    assert expected_calibration_error(probs, y) < 0.01
    # the same predictions, made twice as sure: overconfident, and ECE sees it
    sharper = torch.stack([confidence ** 0.3, 1 - confidence ** 0.3], dim=1)
    assert expected_calibration_error(sharper, y) > 0.05


def test_ece_lies_between_zero_and_one_and_ignores_empty_bins():
    """Is ECE in [0, 1], with empty bins reported as NaN and counted for nothing?"""
    probs, y = random_predictions(n=50, seed=3)
    bins = reliability_bins(probs, y, 15)
    assert 0.0 <= bins.ece <= 1.0
    assert bins.counts.sum() == 50
    assert torch.isnan(bins.accuracy[bins.counts == 0]).all()


def test_logits_are_refused_with_a_hint():
    """Does passing logits instead of probabilities give a clear error?"""
    probs, y = random_predictions(n=20)
    with pytest.raises(ValueError, match="softmax"):
        expected_calibration_error(probs.log(), y)
    with pytest.raises(ValueError, match="labels"):
        expected_calibration_error(probs, y[:-1])


def test_reliability_plot_names_each_curve_with_its_ece():
    """Does the diagram draw the diagonal and one curve per model, its ECE in the legend?"""
    import matplotlib

    matplotlib.use("Agg")
    probs, y = random_predictions()
    ax = plot_reliability({"model": (probs, y)})
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "calibrated"
    assert labels[1] == f"model (ECE {expected_calibration_error(probs, y):.3f})"
