"""Tests for course.metric_tables: classifiers given by counts, measured with sklearn."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn import metrics

from course.metric_tables import labels_from_counts, metrics_table, plot_roc_space

FOUR = {"A": (63, 28, 37, 72), "B": (77, 77, 23, 23), "C": (24, 88, 76, 12), "C'": (76, 12, 24, 88)}
count = st.integers(min_value=0, max_value=60)


@given(tp=count, fp=count, fn=count, tn=count)
def test_labels_have_exactly_the_counts(tp, fp, fn, tn):
    """Does sklearn's confusion matrix of the generated labels give back TP, FP, FN, TN?"""
    assume(tp + fp + fn + tn > 0)
    y, y_hat = labels_from_counts(tp, fp, fn, tn)
    assert metrics.confusion_matrix(y, y_hat, labels=[0, 1]).tolist() == [[tn, fp], [fn, tp]]


def test_the_four_classifier_table():
    """Are the lecture's numbers right: A 0.675 accuracy, B 0.5, C 0.18, C' 0.82, and so on?"""
    rows = metrics_table(FOUR).rows
    assert rows["A"]["accuracy"] == pytest.approx(0.675)
    assert rows["A"]["precision"] == pytest.approx(63 / 91)
    assert rows["A"]["F1"] == pytest.approx(126 / 191)
    assert rows["B"]["accuracy"] == pytest.approx(0.5) and rows["B"]["recall (TPR)"] == pytest.approx(0.77)
    assert rows["C"]["accuracy"] == pytest.approx(0.18) and rows["C"]["FPR"] == pytest.approx(0.88)
    assert rows["C'"]["accuracy"] == pytest.approx(0.82) and rows["C'"]["precision"] == pytest.approx(76 / 88)
    assert max(rows, key=lambda name: rows[name]["F1"]) == "C'"


def test_inverting_c_mirrors_it_through_the_centre_of_roc_space():
    """Is C' (C's predictions flipped) the point (1-FPR, 1-TPR) of C?"""
    rows = metrics_table(FOUR).rows
    assert rows["C'"]["FPR"] == pytest.approx(1 - rows["C"]["FPR"])
    assert rows["C'"]["recall (TPR)"] == pytest.approx(1 - rows["C"]["recall (TPR)"])


def test_table_renders_as_html_and_text():
    """Does the table show every classifier and metric in HTML and as text?"""
    table = metrics_table(FOUR)
    html = table._repr_html_()
    assert html.count("<tr>") == 5 and "0.675" in html and "F1" in html
    assert "C'" in repr(table) and "0.820" in repr(table)


def test_roc_space_plots_each_point(tmp_path):
    """Does plot_roc_space put each classifier at (FPR, TPR)?"""
    ax = plot_roc_space(FOUR)
    points = [tuple(np.round(line.get_xydata()[0], 3)) for line in ax.lines[1:]]
    assert points == [(0.28, 0.63), (0.77, 0.77), (0.88, 0.24), (0.12, 0.76)]
