"""Typical mistakes in hand-written classification metrics, each a runnable variant with its
diagnosis (as ``optimizer_mistakes``): when a student's answer disagrees with the reference, a
check runs these on the same input; the first whose output the student's matches names the bug.

Some mistakes are recognised by the *shape* of the answer rather than by a variant (an ROC
curve with ascending thresholds, one point per sample, AUC that changes when ties are
reordered): those diagnoses live in the checks, :mod:`autograder.checks.metrics` (the ROC curve)
and :mod:`autograder.checks.auc` (ties).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ..reference.auc import roc_auc
from ..reference.confusion import confusion_counts, precision_recall_f1
from ..reference.roc import roc_curve


class Mistake(NamedTuple):
    fn: Callable
    diagnosis: str


def _bool(a):
    return np.asarray(a).astype(bool)


# --- confusion counts ---------------------------------------------------------------------------

def _arguments_swapped(y_true, y_pred):
    return confusion_counts(y_pred, y_true)


def _tp_tn_swapped(y_true, y_pred):
    c = confusion_counts(y_true, y_pred)
    return dict(tp=c["tn"], fp=c["fp"], fn=c["fn"], tn=c["tp"])


CONFUSION = [
    Mistake(_arguments_swapped,
            "your fp and fn are swapped (the axes of the confusion matrix are exchanged): a false "
            "positive is predicted 1 while the truth is 0, a false negative is predicted 0 while "
            "the truth is 1."),
    Mistake(_tp_tn_swapped,
            "your tp and tn are swapped: tp counts the examples where both the truth and the "
            "prediction are 1."),
]


# --- precision, recall, F1 ------------------------------------------------------------------------

def _precision_recall_swapped(y_true, y_pred):
    p, r, f = precision_recall_f1(y_true, y_pred)
    return r, p, f


def _f1_arithmetic_mean(y_true, y_pred):
    p, r, _ = precision_recall_f1(y_true, y_pred)
    return p, r, (p + r) / 2


def _accuracy_as_precision(y_true, y_pred):
    _, r, _ = precision_recall_f1(y_true, y_pred)
    p = float(np.mean(_bool(y_true) == _bool(y_pred)))
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


PRECISION_RECALL = [
    Mistake(_precision_recall_swapped,
            "your precision and recall are swapped: precision = TP / (TP + FP) (of the predicted "
            "positives, how many are right), recall = TP / (TP + FN) (of the true positives, how "
            "many are found)."),
    Mistake(_f1_arithmetic_mean,
            "your F1 is the arithmetic mean (P + R) / 2: F1 is the harmonic mean, "
            "2·P·R / (P + R)."),
    Mistake(_accuracy_as_precision,
            "your precision is the accuracy: precision = TP / (TP + FP)."),
]


# --- ROC curve ------------------------------------------------------------------------------------

def _roc_strict(y_true, y_score):
    """Predict 1 when score > threshold instead of >=."""
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    y, s = _bool(y_true), np.asarray(y_score, dtype=float)
    fpr = np.array([np.sum((s > t) & ~y) for t in thresholds]) / np.sum(~y)
    tpr = np.array([np.sum((s > t) & y) for t in thresholds]) / np.sum(y)
    return fpr, tpr, thresholds


def _roc_counts(y_true, y_score):
    y = _bool(y_true)
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    return fpr * np.sum(~y), tpr * np.sum(y), thresholds


def _roc_ascending(y_true, y_score):
    """The thresholds visited in increasing order (the curve drawn from the top right down)."""
    y, s = _bool(y_true), np.asarray(y_score, dtype=float)
    order = np.argsort(s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[s[1:] != s[:-1], True]
    tp, fp = np.cumsum(y)[last], np.cumsum(~y)[last]
    return np.r_[0, fp] / fp[-1], np.r_[0, tp] / tp[-1], np.r_[np.inf, s[last]]


def _roc_one_point_per_example(y_true, y_score):
    """One ROC point per example: tied scores do not cross the threshold together."""
    y, s = _bool(y_true), np.asarray(y_score, dtype=float)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    return (np.r_[0, np.cumsum(~y)] / np.sum(~y), np.r_[0, np.cumsum(y)] / np.sum(y), np.r_[np.inf, s])


def _roc_swapped(y_true, y_score):
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    return tpr, fpr, thresholds


ASCENDING = ("your thresholds are in ascending order: scikit-learn lowers the threshold from +inf "
             "through every distinct score in decreasing order, so fpr and tpr rise from 0 to 1.")
ONE_POINT_PER_EXAMPLE = ("you make one point per example: tied scores must share one point (all "
                         "examples with the same score cross the threshold together).")
SWAPPED = ("you return tpr and fpr swapped: scikit-learn returns (fpr, tpr, thresholds), "
           "fpr = FP / N first.")

ROC = [
    Mistake(_roc_ascending, ASCENDING),
    Mistake(_roc_one_point_per_example, ONE_POINT_PER_EXAMPLE),
    Mistake(_roc_swapped, SWAPPED),
    Mistake(_roc_strict,
            "you predict 1 when score > threshold: scikit-learn predicts 1 when score >= "
            "threshold, so the examples scoring exactly the threshold are counted positive."),
    Mistake(_roc_counts,
            "your fpr and tpr are counts (FP, TP): divide by the number of negatives N and of "
            "positives P to get rates between 0 and 1."),
]


# --- AUC ------------------------------------------------------------------------------------------

def _accuracy_at(threshold, strict):
    def accuracy(y_true, y_score):
        s = np.asarray(y_score, dtype=float)
        y_hat = s > threshold if strict else s >= threshold
        return float(np.mean(y_hat == _bool(y_true)))
    return accuracy


def _reversed(y_true, y_score):
    return 1.0 - roc_auc(y_true, y_score)


def _pairs(tie_value):
    """Mann-Whitney with a tied pair counted ``tie_value`` instead of 1/2."""
    def auc(y_true, y_score):
        y, s = _bool(y_true), np.asarray(y_score, dtype=float)
        pos, neg = np.sort(s[y]), np.sort(s[~y])
        below = np.searchsorted(neg, pos, side="left")
        ties = np.searchsorted(neg, pos, side="right") - below
        return float((below.sum() + tie_value * ties.sum()) / (len(pos) * len(neg)))
    return auc


def _ties_ignored(y_true, y_score):
    """One ROC step per example, in a stable sort of the scores: tied examples get an order."""
    y, s = _bool(y_true), np.asarray(y_score, dtype=float)
    order = np.argsort(-s, kind="stable")
    tpr = np.r_[0, np.cumsum(y[order])] / y.sum()
    fpr = np.r_[0, np.cumsum(~y[order])] / (~y).sum()
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


TIES = ("your AUC depends on how tied scores are ordered: tied scores must share one ROC point "
        "(the curve moves diagonally there, a trapezoid) and, counted in pairs, a tied "
        "positive-negative pair counts one half.")

AUC = [
    Mistake(_accuracy_at(0.5, strict=False),
            "you return the accuracy at threshold 0.5: AUC is the area under the whole ROC "
            "curve (every threshold), the probability that a random positive scores above a "
            "random negative."),
    Mistake(_accuracy_at(0.5, strict=True),
            "you return the accuracy at threshold 0.5: AUC is the area under the whole ROC "
            "curve (every threshold), the probability that a random positive scores above a "
            "random negative."),
    Mistake(_reversed,
            "your AUC is 1 - the right one: either your scores run the wrong way (a high score "
            "must mean class 1: sort in decreasing order) or your axes are swapped (the area is "
            "∫ TPR d(FPR): FPR on the x axis)."),
    Mistake(_pairs(0.0),
            "you count a tied positive-negative pair as 0: it counts one half."),
    Mistake(_pairs(1.0),
            "you count a tied positive-negative pair as 1: it counts one half."),
    Mistake(_ties_ignored, TIES),
]


def _one_class(value):
    """AUC right on two classes, ``value`` instead of a ValueError on one."""
    def auc(y_true, y_score):
        y = _bool(y_true)
        return value if y.all() or not y.any() else roc_auc(y_true, y_score)
    return auc


ONE_CLASS = [
    Mistake(_one_class(0.5),
            "returning 0.5 for one class hides the problem: AUC is undefined when y_true holds "
            "one class, and scikit-learn-style code raises ValueError."),
    Mistake(_one_class(float("nan")),
            "a NaN travels silently into averages and plots: raise ValueError instead."),
]


# --- AUC counted pair by pair (Mann-Whitney) -------------------------------------------------------

def _pairs_strict_reversed(y_true, y_score):
    """Counts the pairs where the negative scores above the positive."""
    y, s = _bool(y_true), np.asarray(y_score, dtype=float)
    pos, neg = s[y], s[~y]
    return float(((neg[None, :] > pos[:, None]).sum() + 0.5 * (neg[None, :] == pos[:, None]).sum())
                 / (len(pos) * len(neg)))


def _pairs_count(y_true, y_score):
    y, s = _bool(y_true), np.asarray(y_score, dtype=float)
    pos, neg = s[y], s[~y]
    return float((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum())


def _pairs_all(y_true, y_score):
    """Divides by every pair of examples, n(n-1)/2, instead of the P·N positive-negative pairs."""
    n = len(np.asarray(y_true))
    return _pairs_count(y_true, y_score) / (n * (n - 1) / 2)


PAIRWISE = [
    Mistake(_pairs(0.0),
            "you count a tied positive-negative pair as 0: it counts one half."),
    Mistake(_pairs(1.0),
            "you count a tied positive-negative pair as 1: it counts one half."),
    Mistake(_pairs_strict_reversed,
            "you count the pairs where the negative scores higher: AUC is the probability that "
            "the positive of a pair scores higher than the negative."),
    Mistake(_pairs_count,
            "you return the number of pairs: divide by the number of positive-negative pairs, "
            "P·N, to get a probability."),
    Mistake(_pairs_all,
            "you divide by the number of all pairs of examples: only positive-negative pairs "
            "count, P·N of them."),
]


# --- top-k accuracy -------------------------------------------------------------------------------

def _top_k_variant(pick):
    def top_k(y_true, scores, k):
        y, s = np.asarray(y_true), np.asarray(scores, dtype=float)
        chosen = pick(s, k)
        return float(np.mean(np.any(chosen == y[:, None], axis=1)))
    return top_k


def _top_k_count(y_true, scores, k):
    return _top_k_variant(lambda s, k: np.argsort(-s, axis=1)[:, :k])(y_true, scores, k) * len(y_true)


TOP_K = [
    Mistake(_top_k_variant(lambda s, k: np.argsort(s, axis=1)[:, :k]),
            "you take the k classes with the *lowest* scores: np.argsort sorts in increasing "
            "order, so take the last k columns (or sort -scores)."),
    Mistake(_top_k_variant(lambda s, k: np.argsort(s, axis=1)[:, ::-1][:, :1]),
            "you ignore k: only the single best class counts (that is top-1 accuracy)."),
    Mistake(_top_k_variant(lambda s, k: np.argsort(-s, axis=1)[:, :k + 1]),
            "you take the top k + 1 classes: off by one."),
    Mistake(_top_k_variant(lambda s, k: np.argsort(-s, axis=1)[:, :max(k - 1, 0)]),
            "you take the top k - 1 classes: off by one."),
    Mistake(_top_k_count,
            "you return the number of hits: top-k accuracy is a fraction, divide by the number "
            "of examples."),
]
