"""Tests for course.threshold_widget: the operating point of a threshold, and its slider."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sklearn import metrics

from course.threshold_widget import operating_point, threshold_explorer


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


def test_slider_moves_the_operating_point(scored):
    """Does moving the threshold move the ROC dot and change the confusion matrix on screen?"""
    y, scores = scored
    fig = threshold_explorer(y, scores, threshold=0.0, static=False)
    roc_dot = fig.figure.axes[1].lines[-1]
    before_dot = roc_dot.get_xydata().copy()
    before = fig.image.value
    fig.set(threshold=1.0)
    point = operating_point(y, scores, 1.0)
    assert tuple(roc_dot.get_xydata()[0]) == pytest.approx((point["fpr"], point["tpr"]))
    assert not np.allclose(before_dot, roc_dot.get_xydata())
    a = np.asarray(Image.open(io.BytesIO(before)).convert("RGB"), dtype=float)
    b = np.asarray(Image.open(io.BytesIO(fig.image.value)).convert("RGB"), dtype=float)
    assert np.abs(a - b).max() > 100


def test_static_figure_shows_three_thresholds(scored):
    """Headless, are three thresholds shown, one row each?"""
    y, scores = scored
    fig = threshold_explorer(y, scores, static=True)
    assert len(fig.static_settings) == 3
    width, height = Image.open(io.BytesIO(fig.png())).size
    assert height > 0.6 * width
