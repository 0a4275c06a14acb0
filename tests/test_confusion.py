"""The confusion matrix accumulated over batches (course.confusion), checked against scikit-learn."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from course.confusion import ConfusionMatrix


def labels(n: int, num_classes: int, seed: int, skill: float = 0.5):
    """Labels and predictions that are right about ``skill`` of the time, wrong at random otherwise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, num_classes, size=n)
    y_hat = np.where(rng.uniform(size=n) < skill, y, rng.integers(0, num_classes, size=n))
    return y, y_hat


problems = st.tuples(st.integers(1, 300), st.integers(2, 8), st.integers(0, 10_000), st.floats(0.0, 1.0))


@settings(max_examples=60, deadline=None)
@given(problem=problems, batch_size=st.integers(1, 64))
def test_counts_summed_over_batches_are_sklearns_confusion_matrix(problem, batch_size):
    """Whatever the batches, are the accumulated counts sklearn's matrix (truth in rows) of all the data?"""
    n, num_classes, seed, skill = problem
    y, y_hat = labels(n, num_classes, seed, skill)
    confusion = ConfusionMatrix(num_classes)
    for start in range(0, n, batch_size):
        confusion.update(torch.tensor(y_hat[start:start + batch_size]), torch.tensor(y[start:start + batch_size]))
    expected = metrics.confusion_matrix(y, y_hat, labels=range(num_classes))
    np.testing.assert_array_equal(confusion.counts.numpy(), expected)
    assert confusion.total == n


@settings(max_examples=60, deadline=None)
@given(problem=problems)
def test_precision_recall_f1_match_sklearn_for_every_average(problem):
    """Per class and macro, micro, weighted: are precision, recall and F1 sklearn's (zero_division=0)?"""
    n, num_classes, seed, skill = problem
    y, y_hat = labels(n, num_classes, seed, skill)
    confusion = ConfusionMatrix(num_classes).update(torch.tensor(y_hat), torch.tensor(y))
    for average in (None, "macro", "micro", "weighted"):
        p, r, f, _ = metrics.precision_recall_fscore_support(y, y_hat, labels=range(num_classes),
                                                             average=average, zero_division=0)
        ours = (confusion.precision(average), confusion.recall(average), confusion.f1(average))
        for got, want in zip(ours, (p, r, f)):
            np.testing.assert_allclose(np.asarray(got, dtype=float), want, atol=1e-12, err_msg=str(average))


@settings(max_examples=60, deadline=None)
@given(problem=problems)
def test_accuracy_balanced_and_weighted_accuracy_match_sklearn(problem):
    """Are accuracy, balanced accuracy and class-weighted accuracy sklearn's (sample_weight = w[y])?"""
    n, num_classes, seed, skill = problem
    y, y_hat = labels(n, num_classes, seed, skill)
    confusion = ConfusionMatrix(num_classes).update(torch.tensor(y_hat), torch.tensor(y))
    assert confusion.accuracy() == pytest.approx(metrics.accuracy_score(y, y_hat))
    # balanced accuracy over the classes that occur in y (sklearn warns when a predicted class never occurs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = metrics.balanced_accuracy_score(y, y_hat)
    assert confusion.balanced_accuracy() == pytest.approx(expected)
    w = np.random.default_rng(seed).uniform(0.1, 3.0, size=num_classes)
    assert confusion.accuracy(class_weights=w) == pytest.approx(metrics.accuracy_score(y, y_hat, sample_weight=w[y]))


def test_balanced_accuracy_is_accuracy_weighted_by_inverse_class_frequency():
    """Is balanced accuracy the accuracy with every example weighted by 1 / (examples of its class)?"""
    y, y_hat = labels(500, 4, seed=3, skill=0.6)
    y[:300] = 0                                          # an imbalanced problem
    confusion = ConfusionMatrix(4).update(torch.tensor(y_hat), torch.tensor(y))
    inverse = 1.0 / np.bincount(y, minlength=4)
    assert confusion.accuracy(class_weights=inverse) == pytest.approx(confusion.balanced_accuracy())
    assert confusion.balanced_accuracy() == pytest.approx(confusion.recall("macro"))


def test_micro_averages_equal_accuracy_for_single_label_classification():
    """With one label per example, are micro precision, recall and F1 all the accuracy?"""
    y, y_hat = labels(400, 5, seed=1, skill=0.4)
    confusion = ConfusionMatrix(5).update(torch.tensor(y_hat), torch.tensor(y))
    for metric in (confusion.precision, confusion.recall, confusion.f1):
        assert metric("micro") == pytest.approx(confusion.accuracy())


def test_macro_f1_is_not_the_harmonic_mean_of_macro_precision_and_recall():
    """Does macro F1 average the per-class F1 scores (sklearn), which differs from F1 of the macro averages?"""
    y = np.array([0] * 8 + [1] * 2 + [2] * 2)
    y_hat = np.array([0] * 8 + [0, 1] + [0, 0])
    confusion = ConfusionMatrix(3).update(torch.tensor(y_hat), torch.tensor(y))
    p, r = confusion.precision("macro"), confusion.recall("macro")
    assert confusion.f1("macro") == pytest.approx(metrics.f1_score(y, y_hat, average="macro", zero_division=0))
    assert confusion.f1("macro") != pytest.approx(2 * p * r / (p + r))


def test_logits_are_reduced_by_argmax_and_batches_merge():
    """Do class scores (N, C) count as their argmax, and does merging two matrices add their counts?"""
    torch.manual_seed(0)
    logits, y = torch.randn(100, 3), torch.randint(0, 3, (100,))
    a = ConfusionMatrix(3).update(logits[:40], y[:40])
    b = ConfusionMatrix(3).update(logits[40:], y[40:])
    whole = ConfusionMatrix(3).update(logits.argmax(dim=1), y)
    assert torch.equal(a.merge(b).counts, whole.counts)
    assert torch.equal(whole.reset().counts, torch.zeros(3, 3, dtype=torch.int64))


def test_the_mean_of_per_batch_f1_is_not_the_f1_of_the_data():
    """Does averaging each batch's F1 give a different number than the F1 of all counts (which sklearn gives)?"""
    y = np.where(np.random.default_rng(1).uniform(size=1000) < 0.1, 1, 0)    # rare positives
    y_hat = np.where(np.random.default_rng(2).uniform(size=1000) < 0.7, y, 1 - y)
    per_batch = [metrics.f1_score(y[i:i + 32], y_hat[i:i + 32], zero_division=0) for i in range(0, 1000, 32)]
    confusion = ConfusionMatrix(2)
    for i in range(0, 1000, 32):
        confusion.update(torch.tensor(y_hat[i:i + 32]), torch.tensor(y[i:i + 32]))
    whole = metrics.f1_score(y, y_hat)
    assert float(confusion.f1()[1]) == pytest.approx(whole)
    assert abs(np.mean(per_batch) - whole) > 0.01


def test_bad_input_gets_a_clear_error():
    """Are labels out of range, mismatched lengths and wrong score widths refused with a reason?"""
    confusion = ConfusionMatrix(3)
    with pytest.raises(ValueError, match="outside"):
        confusion.update(torch.tensor([0, 3]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="predictions"):
        confusion.update(torch.tensor([0, 1, 2]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="scores for 4"):
        confusion.update(torch.randn(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="average"):
        confusion.precision("mean")
    with pytest.raises(ValueError):
        ConfusionMatrix(1)
    assert confusion.total == 0 and confusion.accuracy() == 0.0
