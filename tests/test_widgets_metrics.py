"""Tests for course.widgets.metrics: the operating point of a threshold, and its explorer.

The browser's own count (``metrics.js``) is compared with scikit-learn in
``tests/browser/test_widget_scripts_in_browser.py``.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sklearn import metrics

from course.widgets.metrics import operating_point, threshold_explorer


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    scores = rng.normal(size=300) + 1.2 * y
    return y, scores


def test_operating_points_lie_on_sklearns_roc_curve(scored):
    """At each of roc_curve's thresholds, is (FPR, TPR) the point roc_curve reports?"""
    y, scores = scored
    fpr, tpr, thresholds = metrics.roc_curve(y, scores, drop_intermediate=False)
    for i in range(1, len(thresholds), 7):
        point = operating_point(y, scores, thresholds[i])
        assert (point["fpr"], point["tpr"]) == pytest.approx((fpr[i], tpr[i]))


def test_operating_points_lie_on_the_precision_recall_curve(scored):
    """At precision_recall_curve's thresholds, is (recall, precision) on that curve?"""
    y, scores = scored
    precision, recall, thresholds = metrics.precision_recall_curve(y, scores)
    for i in range(0, len(thresholds), 11):
        point = operating_point(y, scores, thresholds[i])
        assert (point["tpr"], point["precision"]) == pytest.approx((recall[i], precision[i]))


def test_confusion_matrix_and_extremes(scored):
    """Does the confusion matrix count every example, and do the extreme thresholds give (0,0) and (1,1)?"""
    y, scores = scored
    point = operating_point(y, scores, 0.3)
    assert point["confusion"].sum() == len(y)
    assert point["accuracy"] == pytest.approx(np.trace(point["confusion"]) / len(y))
    low = operating_point(y, scores, scores.min())
    high = operating_point(y, scores, scores.max() + 1)
    assert (low["fpr"], low["tpr"]) == (1.0, 1.0)
    assert (high["fpr"], high["tpr"]) == (0.0, 0.0)


def test_the_browser_gets_each_class_sorted_in_float64(scored):
    """Are the browser's inputs each class's scores, sorted and exact (float64: a threshold equal
    to a score must count it, as sklearn does)?"""
    y, scores = scored
    fig = threshold_explorer(y, scores, static=False, prefetch=False)
    (data,) = fig.explorer.inputs().values()
    negatives, positives = data.arrays
    assert data.exact and negatives.dtype == positives.dtype == np.float64
    np.testing.assert_array_equal(negatives, np.sort(scores[y == 0]))
    np.testing.assert_array_equal(positives, np.sort(scores[y == 1]))


def test_layer_twin_is_sklearns_operating_point(scored):
    """Is the static figure's layer (the Python twin of the browser's count) sklearn's confusion
    matrix, ROC point and precision-recall point at the threshold?"""
    y, scores = scored
    fig = threshold_explorer(y, scores, threshold=0.0, static=False, prefetch=False)
    for threshold in (scores[17], 0.0, 1.0):
        data = fig.explorer.compute("threshold", {"threshold": threshold})
        vline, roc, pr, cells = data.arrays
        confusion = metrics.confusion_matrix(y, (scores >= threshold).astype(int))
        np.testing.assert_array_equal(cells, confusion.ravel())
        point = operating_point(y, scores, threshold)
        assert tuple(roc) == pytest.approx((point["fpr"], point["tpr"]))
        assert tuple(pr) == pytest.approx((point["tpr"], point["precision"]))
        assert list(vline) == [threshold, 0.0, threshold, 1.0]
        assert data.texts[3]["text"] == f"TP\n{confusion[1, 1]}"


def test_static_figure_shows_three_thresholds(scored):
    """Headless, are three thresholds shown, one row each, each panel with its own counts?"""
    y, scores = scored
    fig = threshold_explorer(y, scores, static=True)
    assert len(fig.settings) == 3
    counts = [tuple(fig.explorer.layer_data("threshold", {"threshold": s["threshold"]}).arrays[3])
              for s in fig.settings]
    assert counts == [tuple(metrics.confusion_matrix(y, scores >= s["threshold"]).ravel()) for s in fig.settings]
    assert len(set(counts)) == 3
    width, height = Image.open(io.BytesIO(fig.png())).size
    assert height > 0.6 * width
