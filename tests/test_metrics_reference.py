"""The hidden metric references against sklearn.metrics and the Mann-Whitney rank formula."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata
from sklearn import metrics as skm

from autograder.reference.auc import roc_auc
from autograder.reference.confusion import confusion_counts, precision_recall_f1
from autograder.reference.roc import roc_curve
from autograder.reference.topk import top_k_accuracy


@st.composite
def labelled_scores(draw, min_size=2, max_size=60):
    """Labels with both classes and scores drawn from a few values (heavy ties) or many."""
    n = draw(st.integers(min_size, max_size))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    y[:2] = [0, 1]                          # both classes, at any position after the shuffle
    distinct = draw(st.sampled_from([1, 2, 3, 10, 1000]))
    scores = np.array(draw(st.lists(st.integers(0, distinct - 1), min_size=n, max_size=n)), float)
    order = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(n)
    return y[order], scores[order] / 7.0


def mann_whitney_auc(y, scores):
    """U / (P·N): the mean rank of the positives, ties sharing their average rank."""
    y = np.asarray(y, dtype=bool)
    ranks = rankdata(scores)
    p, n = y.sum(), (~y).sum()
    return (ranks[y].sum() - p * (p + 1) / 2) / (p * n)


@settings(max_examples=200, deadline=None)
@given(labelled_scores())
def test_roc_curve_matches_sklearn(case):
    """Is the reference ROC curve sklearn's roc_curve(drop_intermediate=False), ties included?"""
    y, scores = case
    for mine, theirs in zip(roc_curve(y, scores), skm.roc_curve(y, scores, drop_intermediate=False)):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(labelled_scores())
def test_auc_matches_sklearn_and_mann_whitney(case):
    """Is the reference AUC both roc_auc_score and the Mann-Whitney rank formula?"""
    y, scores = case
    assert roc_auc(y, scores) == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-12)
    assert roc_auc(y, scores) == pytest.approx(mann_whitney_auc(y, scores), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(labelled_scores(), st.sampled_from([lambda s: 3 * s - 1, np.exp, lambda s: s ** 3]))
def test_auc_properties(case, transform):
    """Is AUC unchanged by a monotone rescaling and does AUC(-s) equal 1 - AUC(s)?"""
    y, scores = case
    auc = roc_auc(y, scores)
    assert roc_auc(y, transform(scores)) == pytest.approx(auc, abs=1e-12)
    assert roc_auc(y, -scores) == pytest.approx(1 - auc, abs=1e-12)


def test_auc_of_equal_scores_is_one_half():
    """Do all-equal scores give AUC 0.5, whatever the labels?"""
    assert roc_auc([0, 1, 1, 0, 1], [0.3] * 5) == 0.5


@pytest.mark.parametrize("y", [[1, 1, 1], [0, 0], [True] * 4, np.zeros(9, int)])
def test_auc_with_one_class_raises(y):
    """Does the reference raise ValueError with a message for one class (sklearn 1.9 warns and
    returns NaN; the assignment asks for the error)?"""
    with pytest.raises(ValueError, match="one class"):
        roc_auc(y, np.linspace(0, 1, len(y)))


def test_auc_of_a_million_scores_matches_sklearn():
    """Does the reference agree with sklearn on a million tied scores?"""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1_000_000)
    scores = np.round(rng.normal(size=y.size) + y, 2)
    assert roc_auc(y, scores) == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-10)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=40))
def test_confusion_precision_recall_f1_match_sklearn(pairs):
    """Do the counts match confusion_matrix, and precision/recall/F1 sklearn's zero_division=0,
    for boolean inputs, lists and arrays, including classes that never occur?"""
    y, y_hat = (np.array(v) for v in zip(*pairs))
    (tn, fp), (fn, tp) = skm.confusion_matrix(y, y_hat, labels=[False, True])
    assert confusion_counts(y, y_hat) == dict(tp=tp, fp=fp, fn=fn, tn=tn)
    assert confusion_counts(list(y.astype(int)), list(y_hat.astype(int))) == dict(tp=tp, fp=fp, fn=fn, tn=tn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = skm.precision_recall_fscore_support(y, y_hat, average="binary", zero_division=0)[:3]
    assert precision_recall_f1(y, y_hat) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_top_k_matches_sklearn(seed):
    """Does the reference top-k accuracy match top_k_accuracy_score for every k?"""
    rng = np.random.default_rng(seed)
    n, num_classes = int(rng.integers(1, 80)), int(rng.integers(3, 12))
    scores, y = rng.normal(size=(n, num_classes)), rng.integers(0, num_classes, n)
    for k in range(1, num_classes):
        assert top_k_accuracy(y, scores, k) == pytest.approx(
            skm.top_k_accuracy_score(y, scores, k=k, labels=range(num_classes)), abs=1e-12)
    assert top_k_accuracy(y.tolist(), scores.tolist(), num_classes) == 1.0
