"""Area under the ROC curve, as ``sklearn.metrics.roc_auc_score`` for binary labels.

    AUC = ∫ TPR d(FPR)    (trapezoids between consecutive ROC points)

which equals the probability that a random positive scores above a random negative, a tie
counting one half (the Mann-Whitney U statistic divided by P·N). It is undefined, and raises
``ValueError``, when ``y_true`` holds one class only. O(n log n): one sort, in ``roc_curve``.
"""
import numpy as np

from .roc import roc_curve


def roc_auc(y_true, y_score):
    y_true = np.asarray(y_true).astype(bool)
    if y_true.all() or not y_true.any():
        raise ValueError("Only one class present in y_true: ROC AUC is not defined "
                         "(it needs at least one positive and one negative).")
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
