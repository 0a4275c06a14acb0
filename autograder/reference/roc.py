"""The ROC curve, as ``sklearn.metrics.roc_curve(y_true, y_score, drop_intermediate=False)``.

Predict 1 when ``score >= threshold``. Lower the threshold from +inf through every distinct
score, in decreasing order; at each threshold

    TPR = TP / P        (P = number of positives)
    FPR = FP / N        (N = number of negatives)

The first point, threshold +inf, is (0, 0): nobody is predicted positive. Tied scores cross
the threshold together, so they share one point (the curve moves diagonally there).
Sorting once makes it O(n log n): the counts at each threshold are cumulative sums.
"""
import numpy as np


def roc_curve(y_true, y_score):
    y_true = np.asarray(y_true).astype(bool)
    y_score = np.asarray(y_score, dtype=np.float64)
    order = np.argsort(-y_score, kind="stable")            # decreasing scores
    score, positive = y_score[order], y_true[order]
    last_of_tie = np.r_[score[1:] != score[:-1], True]     # one point per distinct score
    tp = np.cumsum(positive)[last_of_tie]
    fp = np.cumsum(~positive)[last_of_tie]
    tpr = np.r_[0, tp] / tp[-1]                            # TP / P: tp[-1] counts every positive
    fpr = np.r_[0, fp] / fp[-1]                            # FP / N
    thresholds = np.r_[np.inf, score[last_of_tie]]
    return fpr, tpr, thresholds
