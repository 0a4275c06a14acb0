"""Calibration (course.calibration): the bins and the ECE, checked against scikit-learn's calibration curve."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from course.calibration import calibration_bins, expected_calibration_error, plot_reliability


def random_probs(n: int, num_classes: int, temperature: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, num_classes)) * temperature
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return probs / probs.sum(axis=1, keepdims=True), rng.integers(0, num_classes, size=n)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(5, 400), num_classes=st.integers(2, 10), temperature=st.floats(0.1, 5.0),
       n_bins=st.integers(1, 20), seed=st.integers(0, 10_000))
def test_ece_matches_sklearns_calibration_curve(n, num_classes, temperature, n_bins, seed):
    """Is the ECE the count-weighted mean of |accuracy − confidence| over sklearn's uniform bins?

    sklearn's ``calibration_curve`` bins the binary problem "was the prediction right?" by the
    confidence with the same edges and gives each non-empty bin's accuracy and mean confidence.
    """
    probs, y = random_probs(n, num_classes, temperature, seed)
    confidence, correct = probs.max(axis=1), (probs.argmax(axis=1) == y)
    bins = calibration_bins(probs, y, n_bins)
    full = bins.counts > 0
    if correct.all() or not correct.any():   # sklearn needs both outcomes present
        return
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=n_bins, strategy="uniform")
    np.testing.assert_allclose(bins.accuracy[full], accuracy, atol=1e-12)
    np.testing.assert_allclose(bins.confidence[full], mean_confidence, atol=1e-12)
    weights = bins.counts[full] / n
    assert expected_calibration_error(probs, y, n_bins) == pytest.approx(
        float((weights * np.abs(accuracy - mean_confidence)).sum()))
    assert bins.counts.sum() == n


def test_a_worked_example():
    """Four examples in two of four bins: is the ECE the hand-computed 0.5·|1 − 0.7| + 0.5·|0 − 0.95| = 0.625?"""
    probs = np.array([[0.7, 0.3], [0.3, 0.7], [0.95, 0.05], [0.05, 0.95]])
    y = np.array([0, 1, 1, 0])     # the two 0.7s are right, the two 0.95s wrong
    assert expected_calibration_error(probs, y, n_bins=4) == pytest.approx(0.625)
    # with two bins all four share the bin (0.5, 1]: accuracy 0.5, confidence 0.825
    assert expected_calibration_error(probs, y, n_bins=2) == pytest.approx(0.325)


def test_a_calibrated_model_has_a_small_ece_and_an_overconfident_one_a_large():
    """When the prediction is right with exactly its confidence, is the ECE near 0 (and far from it otherwise)?"""
    rng = np.random.default_rng(0)
    n = 100_000
    confidence = rng.uniform(0.5, 1.0, n)
    predicted = np.zeros(n, dtype=int)
    right = rng.uniform(size=n) < confidence
    y = np.where(right, 0, 1)
    probs = np.column_stack([confidence, 1 - confidence])
    assert expected_calibration_error(probs, y) < 0.01
    sharper = np.column_stack([np.sqrt(confidence), 1 - np.sqrt(confidence)])   # more sure, as often right
    assert expected_calibration_error(sharper, y) > 0.05
    assert predicted.sum() == 0


def test_torch_tensors_and_bad_input():
    """Are tensors accepted, and logits (rows not summing to 1) refused with a clear error?"""
    probs, y = random_probs(50, 3, 1.0, 0)
    assert expected_calibration_error(torch.tensor(probs), torch.tensor(y)) == pytest.approx(
        expected_calibration_error(probs, y))
    with pytest.raises(ValueError, match="softmax"):
        expected_calibration_error(torch.randn(5, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError):
        expected_calibration_error(np.ones((4, 1)), np.zeros(3))


def test_reliability_diagram_draws_one_line_per_model():
    """Does the diagram draw the diagonal and one line per model, with the ECE in its label?"""
    import matplotlib
    matplotlib.use("Agg")
    probs, y = random_probs(200, 4, 2.0, 1)
    ax = plot_reliability({"a": probs, "b": np.full_like(probs, 0.25)}, y)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0] == "calibrated" and len(labels) == 3 and "ECE" in labels[1]


def test_the_diagram_labels_each_model_with_the_ece_that_expected_calibration_error_gives():
    """Does the ECE in the diagram's legend equal expected_calibration_error's, bins left at their defaults?

    A lecture prints the ECE and draws the diagram of the same probabilities: with different
    default bins the two numbers disagree whenever some bins are over- and others under-confident.
    """
    import matplotlib
    matplotlib.use("Agg")
    rng = np.random.default_rng(3)
    probs, y = random_probs(500, 10, 1.5, 2)
    y = np.where(rng.random(500) < 0.4, probs.argmax(axis=1), y)      # right more often when sure: bins on both sides
    ax = plot_reliability({"model": probs}, y)
    label = [line.get_label() for line in ax.get_lines()][1]
    assert label == f"model (ECE {expected_calibration_error(probs, y):.3f})"
    assert expected_calibration_error(probs, y) != pytest.approx(expected_calibration_error(probs, y, n_bins=10),
                                                                  abs=5e-4)
